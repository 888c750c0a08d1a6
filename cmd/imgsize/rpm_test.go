package main

import (
	"maps"
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
//
// The same packages in the Berkeley DB format of RHEL 7 and 8 (the root
// without its SQLite database, and a layer adding var/lib/rpm/Packages)
// give the same figures.
func TestPackagesRpm(t *testing.T) {
	t.Parallel()
	testrpm.Tools(t, "sqlite3", "db5.3_load")
	root := testrpm.Root(t)
	tarOf := func(excludes ...string) v1.Layer {
		layer := filepath.Join(t.TempDir(), "layer.tar")
		args := []string{"-C", root, "--numeric-owner", "-cf", layer}
		for _, e := range excludes {
			args = append(args, "--exclude", e)
		}
		if out, err := exec.Command("tar", append(args, ".")...).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		return testlayer.StoredFile(t, layer)
	}
	bdb, err := testrpm.BerkeleyDB(root)
	if err != nil {
		t.Fatal(err)
	}
	want := testrpm.Query(t, root)
	for _, c := range []struct {
		name, db string
		img      v1.Image
	}{
		{"sqlite", "var/lib/rpm/rpmdb.sqlite", testlayer.Image(t, tarOf())},
		{"berkeley-db", "var/lib/rpm/Packages", testlayer.Image(t, tarOf("./var/lib/rpm/rpmdb.sqlite*"), testlayer.Layer(t, testlayer.File("var/lib/rpm/Packages", bdb)))},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rpmImageAgrees(t, root, c.img, c.db, want)
		})
	}
}

// rpmImageAgrees checks imgsize packages and check on img, whose rpm
// database at db lists the packages of root that want describes.
func rpmImageAgrees(t *testing.T, root string, img v1.Image, db string, want map[string]testrpm.Package) {
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"rpm": img})
	ref := "oci:" + dir + ":rpm"
	p := packagesJSON(t, ref)
	everyByteOnce(t, img, p)
	if len(p.Databases) != 1 || !p.Databases[0].Read || p.Databases[0].Path != db {
		t.Errorf("databases = %+v, want %s read", p.Databases, db)
	}

	names := slices.Sorted(maps.Keys(want))
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
