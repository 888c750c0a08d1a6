package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/internal/testlayer"
)

// debootstrapRoot returns a Debian root filesystem made by debootstrap:
// IMGSIZE_DEBOOTSTRAP_ROOT names one already made; IMGSIZE_DEBOOTSTRAP=1
// makes one (as root, with debootstrap installed and deb.debian.org
// reachable: about 90 s). Otherwise the test is skipped.
func debootstrapRoot(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("IMGSIZE_DEBOOTSTRAP_ROOT"); dir != "" {
		return dir
	}
	if os.Getenv("IMGSIZE_DEBOOTSTRAP") != "1" {
		t.Skip("set IMGSIZE_DEBOOTSTRAP=1 (needs root, debootstrap and deb.debian.org) or IMGSIZE_DEBOOTSTRAP_ROOT=DIR to test on a real Debian image")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Fatal("IMGSIZE_DEBOOTSTRAP=1 but debootstrap is not installed (apt-get install -y debootstrap)")
	}
	dir := filepath.Join(t.TempDir(), "root")
	start := time.Now()
	out, err := exec.Command("debootstrap", "--variant=minbase", "stable", dir, "http://deb.debian.org/debian").CombinedOutput()
	if err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, out)
	}
	t.Logf("debootstrap took %s", time.Since(start).Round(time.Second))
	return dir
}

// TestPackagesDebootstrap: on a real Debian image, each dpkg package's
// bytes are exactly those of the regular files its info/*.list names, as
// the host's filesystem shows them (each inode once, the first package
// by name owning a file two list), and its Installed-Size is what
// dpkg-gencontrol counts: each listed entry rounded up to a KiB, plus the
// package's control files.
func TestPackagesDebootstrap(t *testing.T) {
	t.Parallel()
	root := debootstrapRoot(t)
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if out, err := exec.Command("tar", "-C", root, "--numeric-owner", "-cf", layer, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	// Stored as it is: gzipping 250 MB in this race-instrumented process
	// took minutes of CPU, and compression is not what is tested.
	img := testlayer.Image(t, testlayer.StoredFile(t, layer))
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"debian": img})
	p := packagesJSON(t, "oci:"+dir+":debian")
	everyByteOnce(t, img, p)

	// The independent reading: status and lists, through the host.
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	// kib is what dpkg-gencontrol counts for a listed entry: a regular
	// file's size rounded up to a KiB (a hard-linked one once), 1 for
	// anything else; ctl the package's control files (maintainer scripts,
	// templates…), which Installed-Size counts and info/ keeps.
	type want struct {
		bytes, declared int64
		kib, ctl        int64
	}
	wants := map[string]*want{}
	var names []string
	for _, para := range strings.Split(string(status), "\n\n") {
		f := map[string]string{}
		for _, line := range strings.Split(para, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, " ") {
				f[k] = v
			}
		}
		if f["Package"] == "" || !strings.HasSuffix(f["Status"], " installed") {
			continue
		}
		kib, _ := strconv.ParseInt(f["Installed-Size"], 10, 64)
		wants[f["Package"]] = &want{declared: kib * 1024}
		names = append(names, f["Package"]+"\x00"+f["Architecture"])
	}
	slices.Sort(names)
	seen := map[uint64]bool{}
	for _, na := range names {
		name, arch, _ := strings.Cut(na, "\x00")
		lb, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/info", name+".list"))
		if err != nil {
			lb, err = os.ReadFile(filepath.Join(root, "var/lib/dpkg/info", name+":"+arch+".list"))
		}
		if err != nil {
			t.Fatalf("%s: no list: %v", name, err)
		}
		w := wants[name]
		sc := bufio.NewScanner(bytes.NewReader(lb))
		mine := map[uint64]bool{}
		for sc.Scan() {
			fi, err := os.Lstat(filepath.Join(root, sc.Text()))
			if err != nil {
				continue
			}
			if !fi.Mode().IsRegular() {
				w.kib++
				continue
			}
			ino := fi.Sys().(*syscall.Stat_t).Ino
			if !mine[ino] {
				mine[ino] = true
				w.kib += (fi.Size() + 1023) / 1024
			}
			if seen[ino] {
				continue
			}
			seen[ino] = true
			w.bytes += fi.Size()
		}
		for _, pat := range []string{name + ".*", name + ":" + arch + ".*"} {
			ms, _ := filepath.Glob(filepath.Join(root, "var/lib/dpkg/info", pat))
			for _, m := range ms {
				if fi, err := os.Stat(m); err == nil && !strings.HasSuffix(m, ".list") {
					w.ctl += (fi.Size() + 1023) / 1024
				}
			}
		}
	}
	got := byName(p)
	for name, w := range wants {
		r, ok := got["dpkg:"+name]
		if !ok {
			t.Errorf("%s: not reported", name)
			continue
		}
		if r.Bytes != w.bytes {
			t.Errorf("%s: %d bytes, want %d (its list's files on disk)", name, r.Bytes, w.bytes)
		}
		if r.DeclaredBytes == nil || *r.DeclaredBytes != w.declared {
			t.Errorf("%s: declared %v, want %d", name, r.DeclaredBytes, w.declared)
			continue
		}
		// Within 2 KiB of the listed entries rounded up, plus at most the
		// control files (some are generated at install, some not kept).
		if k := w.declared / 1024; k < w.kib-2 || k > w.kib+w.ctl+2 {
			t.Errorf("%s: Installed-Size %d KiB, want %d KiB of listed entries rounded up, plus up to %d KiB of control files", name, k, w.kib, w.ctl)
		}
	}
	if len(got) != len(wants) {
		t.Errorf("%d packages reported, status lists %d installed", len(got), len(wants))
	}
	t.Logf("%d packages, %d of %d bytes owned", len(wants), p.Total.Bytes-p.Unowned.Bytes, p.Total.Bytes)
}
