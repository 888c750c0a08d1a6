// Package testutil holds helpers shared by imgsize's tests.
package testutil

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ShellCount runs a bash pipeline and returns the integer it prints: the
// independent count (gzip -dc | wc -c, tar, sha256sum…) that imgsize's
// figures are checked against.
func ShellCount(t testing.TB, script string) int64 {
	t.Helper()
	out, err := exec.Command("bash", "-o", "pipefail", "-c", script).Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("%s printed %q", script, out)
	}
	return n
}
