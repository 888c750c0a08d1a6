package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/internal/testlayer"
	"github.com/imgsize/imgsize/internal/testrpm"
)

// TestPackagesRpm: on an image of a root rpm installed packages into, each
// package owns exactly the bytes of the regular files rpm -ql lists for
// it, as the host's filesystem shows them (each inode once, the first
// package by name owning a file two list); its declared size is rpm's
// %{SIZE}; every byte is attributed once; and the gate forbids the
// compiler package by name (its epoch, 2, is the spec's, which
// subpackages inherit).
func TestPackagesRpm(t *testing.T) {
	t.Parallel()
	root := testrpm.Root(t)
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if out, err := exec.Command("tar", "-C", root, "--numeric-owner", "-cf", layer, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	img := testlayer.Image(t, testlayer.StoredFile(t, layer))
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"rpm": img})
	ref := "oci:" + dir + ":rpm"
	p := packagesJSON(t, ref)
	everyByteOnce(t, img, p)
	if len(p.Databases) != 1 || !p.Databases[0].Read || p.Databases[0].Path != "var/lib/rpm/rpmdb.sqlite" {
		t.Errorf("databases = %+v, want var/lib/rpm/rpmdb.sqlite read", p.Databases)
	}

	want := testrpm.Query(t, root)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range want {
			if !yield(n) {
				return
			}
		}
	})
	seen := map[uint64]bool{}
	got := byName(p)
	for _, name := range names {
		w := want[name]
		var bytes int64
		for _, f := range w.Files {
			fi, err := os.Lstat(filepath.Join(root, f))
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if ino := fi.Sys().(*syscall.Stat_t).Ino; !seen[ino] {
				seen[ino] = true
				bytes += fi.Size()
			}
		}
		r, ok := got["rpm:"+name]
		if !ok {
			t.Errorf("%s: not reported", w.Describe())
			continue
		}
		if r.Bytes != bytes || r.Version != w.Version || r.DeclaredBytes == nil || *r.DeclaredBytes != w.Size {
			t.Errorf("%s: %d bytes, version %q, declared %v; want %d bytes (rpm -ql's files on disk), %q, declared %d",
				name, r.Bytes, r.Version, r.DeclaredBytes, bytes, w.Version, w.Size)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d packages reported, rpm -qa lists %d", len(got), len(want))
	}
	// The spec's own figures: hello's data is 12,345 bytes, hard-linked
	// (once), and gcc-fake's cc1 70,000.
	if got["rpm:gcc-fake"].Bytes != 70_000 || got["rpm:hello"].Bytes < 12_345 || got["rpm:hello"].Bytes > 12_345+100 {
		t.Errorf("gcc-fake %d bytes, hello %d; want 70000 and 12345 plus a script", got["rpm:gcc-fake"].Bytes, got["rpm:hello"].Bytes)
	}
	if len(p.Hints) == 0 || p.Hints[0].ID != "toolchain-package" || p.Hints[0].Bytes != 70_000 {
		t.Errorf("hints = %+v, want toolchain-package of 70000 bytes", p.Hints)
	}
	r := imgsize(t, nil, "check", ref, "--forbid-package", "gcc*")
	if r.code != 1 || !strings.Contains(r.stdout, "gcc-fake 2:13.2-1 (rpm)") {
		t.Errorf("check --forbid-package gcc*: exit %d, want 1 naming gcc-fake\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := imgsize(t, nil, "check", ref, "--forbid-package", "make"); r.code != 0 {
		t.Errorf("check --forbid-package make: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}
