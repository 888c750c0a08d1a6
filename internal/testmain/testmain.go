// Package testmain ends a package's test binary without the race
// detector's pause at exit.
//
// A binary built with -race that exits with status 0 first sleeps for the
// race detector's atexit_sleep_ms, a second unless GORACE says otherwise,
// in case a goroutine still running has a race left to report. go test
// -race ./... runs some twenty test binaries, two at a time: twenty
// seconds of the suite's wall time spent asleep, and one of the seconds
// `go test -race ./cmd/imgsize` takes. Each package's TestMain calls Run
// (or Exit, after its own cleanup).
package testmain

import (
	"os"
	"syscall"
	"testing"
)

// Run runs m's tests and exits with their status, as Exit does.
func Run(m *testing.M) { Exit(m.Run()) }

// Exit ends the test binary with code, which m.Run returned. A race the
// detector saw fails the binary already: testing checks after each test,
// and m.Run reports one seen outside any test. What the pause waits for
// is a report from a goroutine that outlives the last test, as
// GORACE=atexit_sleep_ms=0 forgoes it.
//
// Only a race-built binary exiting 0 pauses, and coverage data is
// written by exit hooks that syscall.Exit would skip: every other exit is
// os.Exit's.
func Exit(code int) {
	if raceEnabled && code == 0 && testing.CoverMode() == "" {
		syscall.Exit(0)
	}
	os.Exit(code)
}
