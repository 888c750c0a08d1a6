package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgsize/imgsize/internal/testindex"
	"github.com/imgsize/imgsize/internal/testutil"
)

// complete runs cobra's completion request and returns the candidates
// (descriptions dropped) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := runInProcess(t, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var out []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		out = append(out, v)
	}
	return out, lines[len(lines)-1]
}

func has(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, v := range list {
			found = found || v == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	multi := testindex.Build(t, testindex.Spec{Platforms: []string{"linux/amd64", "linux/riscv64", "linux/arm64"}})
	multiDir := filepath.Join(t.TempDir(), "multi")
	testindex.WriteLayout(t, multiDir, multi.Index, "v1")
	archive := filepath.Join(t.TempDir(), "multi.tar")
	testindex.WriteArchive(t, archive, multi.Index, "v1")
	img := testutil.RandomImage(t, 100, 1)
	docker := filepath.Join(t.TempDir(), "app.tar")
	tag, _ := name.NewTag("example.com/app:v2")
	if err := tarball.WriteToFile(docker, tag, img); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"formats", []string{"inspect", "--format", ""}, []string{"table", "json", "markdown", "csv", "html"}},
		{"growth basis", []string{"check", "--growth-basis", ""}, []string{"compressed", "uncompressed"}},
		{"behaviours", []string{"comment", "--behavior", ""}, []string{"update", "new", "delete-and-new"}},
		{"trend orders", []string{"trend", "--sort", ""}, []string{"created", "semver", "recorded", "args"}},
		{"transports", []string{"inspect", ""}, []string{"docker://", "oci:", "oci-archive:", "docker-archive:", "docker-daemon:", "dir:", "report:"}},
		{"layout tags", []string{"compare", "oci:" + dir + ":"}, []string{"oci:" + dir + ":big", "oci:" + dir + ":small"}},
		{"archive tags", []string{"inspect", "oci-archive:" + archive + ":"}, []string{"oci-archive:" + archive + ":v1"}},
		{"docker-archive tags", []string{"inspect", "docker-archive:" + docker + ":"}, []string{"docker-archive:" + docker + ":example.com/app:v2"}},
		{"local platforms first", []string{"inspect", "oci:" + multiDir + ":v1", "--platform", ""}, []string{"all", "linux/amd64", "linux/riscv64", "linux/arm64"}},
		// A bare layout directory is read as an OCI layout too.
		{"bare layout platforms", []string{"inspect", multiDir, "--platform", ""}, []string{"all", "linux/amd64", "linux/riscv64", "linux/arm64"}},
	} {
		got, directive := complete(t, tc.args...)
		if !has(got, tc.want...) {
			t.Errorf("%s: %v, want %v (%s)", tc.name, got, tc.want, directive)
		}
		if (tc.name == "local platforms first" || tc.name == "bare layout platforms") && (len(got) < 4 || got[2] != "linux/riscv64") {
			t.Errorf("the index's platforms come first: %v", got)
		}
	}
	// A registry reference is never read (localImage refuses it): the
	// static list only.
	got, _ := complete(t, "inspect", "registry.invalid/app:v1", "--platform", "")
	if !has(got, "all", "linux/amd64") || localImage("registry.invalid/app:v1") || localImage("docker-daemon:app") {
		t.Errorf("registry reference: %v", got)
	}
	if clean([]string{"ok\tfine", "bad\x1btag", "two words"})[0] != "ok\tfine" || len(clean([]string{"bad\x1btag", "two words"})) != 0 {
		t.Errorf("clean keeps control characters or spaces")
	}
}
