// Package testutil holds helpers shared by imgsize's tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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

// RequireTool skips a test whose independent cross-check needs an outside
// tool that is not installed, as on a user's machine; under CI=true, where
// .ci/run installs every such tool, a missing one fails the test instead,
// so CI cannot pass by skipping.
func RequireTool(t testing.TB, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (.ci/run installs it): %v", tool, err)
		}
		t.Skipf("%s not installed: %v", tool, err)
	}
}

// Fixtures returns the directory of images made by real tools
// (../shared/fixtures/dive beside the repository, or $IMGSIZE_FIXTURES),
// skipping the test where it is absent, as in a user's clone. When
// IMGSIZE_REQUIRE_FIXTURES=1 (.ci/run sets it when it sees the folder) an
// absent folder fails instead.
func Fixtures(t testing.TB) string {
	t.Helper()
	dir, ok := FixturesIfPresent(t)
	if !ok {
		t.Skipf("fixtures not present at %s (as in a user's clone)", dir)
	}
	return dir
}

// FixturesIfPresent is Fixtures for a caller that goes on without them (a
// fuzz target seeds from them where they are, from generated inputs
// alone elsewhere): ok is false where the folder is absent, and
// IMGSIZE_REQUIRE_FIXTURES=1 still makes absence fail.
func FixturesIfPresent(t testing.TB) (dir string, ok bool) {
	t.Helper()
	dir = os.Getenv("IMGSIZE_FIXTURES")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared", "fixtures", "dive")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("IMGSIZE_REQUIRE_FIXTURES") == "1" {
			t.Fatalf("fixtures required but not found at %s: %v", dir, err)
		}
		return dir, false
	}
	return dir, true
}

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (its package directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Dive finds dive, the peer whose figures imgsize reproduces: on PATH, at
// $IMGSIZE_DIVE (.ci/run installs it there), or at /tmp/divebin/dive. It
// returns "" when dive is absent, after logging so, and fails the test
// instead under CI=true. Callers skip or go on without the cross-check.
func Dive(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("dive"); err == nil {
		return p
	}
	for _, p := range []string{os.Getenv("IMGSIZE_DIVE"), "/tmp/divebin/dive"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dive is required in CI (.ci/run installs it with go install)")
	}
	t.Log("dive is not installed: no cross-check against it")
	return ""
}

// WriteDirImage writes img as containers/image's "dir" transport does:
// manifest.json, version, and each blob in a file named by its hex digest
// (with suffix appended: ".tar" is how version 1.0 named blobs).
func WriteDirImage(t testing.TB, dir string, img v1.Image, suffix string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	write("manifest.json", raw)
	write("version", []byte("Directory Transport Version: 1.1\n"))
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	write(cfgName.Hex+suffix, cfg)
	layerBlobs(t, img, func(d v1.Hash, b []byte) { write(d.Hex+suffix, b) })
}
