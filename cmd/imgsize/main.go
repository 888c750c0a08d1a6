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
	"strings"
	"syscall"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/report"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitBudget      = 1 // imgsize check: a budget is exceeded or unknown
	exitUsage       = 2
	exitImage       = 3
	exitOutput      = 4
	exitInterrupted = 130
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which asks
// the run to stop cleanly. Then the default handling comes back, so that a
// second Ctrl-C kills a run that does not stop.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// run executes one invocation; it is main without the process, for tests.
// stdin is read only by an argument "-"; nil makes that argument fail.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	cmd := newRootCmd(g)
	// cobra reads os.Args for nil arguments; run's are always explicit.
	if args == nil {
		args = []string{}
	}
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	// --stats also explains a failure: what was fetched before it.
	if g.traffic != nil && (code == exitOK || requests(g.traffic) > 0) {
		printStats(stderr, g.traffic)
	}
	switch code {
	case exitOK:
	case exitInterrupted:
		fmt.Fprintln(stderr, "imgsize: interrupted")
	default:
		fmt.Fprintln(stderr, "imgsize: "+report.Terminal(oneLine(err.Error())))
	}
	return code
}

// exitCode maps a run's outcome to the documented exit codes. An
// interrupted run is one, whatever the command returned.
func exitCode(ctx context.Context, err error) int {
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, errOutput):
		return exitOutput
	case errors.Is(err, errBudget):
		return exitBudget
	case errors.Is(err, errdefs.ErrUsage):
		return exitUsage
	default:
		return exitImage
	}
}

// errOutput marks a report that could not be written (-o or stdout).
var errOutput = errors.New("report could not be written")

// oneLine keeps an error on one line and strips any user:password@ from
// URLs, so credentials never reach a terminal or a CI log. Arguments are
// redacted where they are echoed (source.Redact); this catches URLs that
// lower layers print.
func oneLine(s string) string {
	// redact also masks user:password@ in URLs, but not a reference's
	// name@sha256:…, which names the image.
	s = redact.String(s)
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
	return s
}
