package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/source"
)

// newProgress returns a byte counter on stderr when stderr is a terminal,
// and nil otherwise: CI logs and redirected output get no bar.
func newProgress(stderr io.Writer, disabled bool) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if disabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("reading layers (bytes as stored)"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100_000_000), // 100 ms
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)
}

// printStats reports registry traffic: what --stats exists to show is how
// little a cheap run fetches beyond manifests and configs.
func printStats(w io.Writer, s *source.Stats) {
	fmt.Fprintln(w, "registry traffic (requests, response body bytes):")
	for _, k := range source.Kinds() {
		n, b := s.Counts(k)
		fmt.Fprintf(w, "  %-8s %4d %-8s  %10s  (%d B)\n", k, n, plural(n, "request"), report.FormatBytes(b, false), b)
	}
}

// requests is how many registry requests s counted, of every kind.
func requests(s *source.Stats) int64 {
	var total int64
	for _, k := range source.Kinds() {
		n, _ := s.Counts(k)
		total += n
	}
	return total
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
