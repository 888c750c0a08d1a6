// Command imgsize reports how big container images are and why, and
// compares builds side by side.
//
// This package only wires flags to the library: parsing arguments into
// options, calling source → layers → analysis → report, and mapping errors
// to the documented exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitBudget      = 1 // reserved for `imgsize check`
	exitUsage       = 2
	exitImage       = 3
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one invocation; it is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(ctx, err)
	fmt.Fprintln(stderr, "imgsize: "+oneLine(err.Error()))
	return code
}

func exitCode(ctx context.Context, err error) int {
	switch {
	case errors.Is(err, errBudgetExceeded):
		return exitBudget
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, errdefs.ErrUsage):
		return exitUsage
	default:
		return exitImage
	}
}

// errBudgetExceeded is returned by commands that gate on size.
var errBudgetExceeded = errors.New("size budget exceeded")

var userinfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]+@`)

// oneLine keeps an error on one line and strips any user:password@ from
// URLs, so credentials never reach a terminal or a CI log.
func oneLine(s string) string {
	s = userinfo.ReplaceAllString(s, "${1}REDACTED@")
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
	return s
}
