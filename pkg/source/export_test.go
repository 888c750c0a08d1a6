package source

import "testing"

// SetMaxReport lowers the size bound of saved reports for the rest of t,
// which must not be parallel: decoding 64 MiB of JSON under the race
// detector costs seconds of CPU, and the bound works the same at 1 MiB.
func SetMaxReport(t testing.TB, n int64) {
	// t.Setenv panics in a parallel test: the bound is process-wide. The
	// variable is a marker that nothing reads (README, "What a plain go
	// test skips").
	t.Setenv("IMGSIZE_TEST_MAX_REPORT", "lowered")
	old := maxReport
	maxReport = n
	t.Cleanup(func() { maxReport = old })
}
