package files_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/files"
)

func TestCapture(t *testing.T) {
	status0 := []byte("Package: a\n")
	status1 := []byte("Package: b\n")
	img := imageOf(t,
		layerOf(t, []member{
			reg("var/lib/dpkg/status", 0o644, status0),
			reg("etc/big", 0o644, bytes.Repeat([]byte{1}, 100)),
			reg("etc/other", 0o644, []byte("not captured")),
		}, gz),
		layerOf(t, []member{
			reg("var/lib/dpkg/status", 0o644, status1),
			reg("etc/keep", 0o755, []byte("abcdef")),
		}, none),
	)
	match := func(e files.Entry) bool { return strings.HasPrefix(e.Path, "var/") || e.Path == "etc/keep" }
	keep := func(e files.Entry, r io.Reader) ([]byte, error) {
		if e.Path != "etc/keep" {
			return io.ReadAll(r)
		}
		// Keep reads what it wants: the first three bytes.
		b := make([]byte, 3)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	for _, arg := range []string{func() string { a, _ := writeLayout(t, img); return a }(), writeDockerArchive(t, img)} {
		for _, content := range []bool{false, true} {
			ls, err := read(t, arg, files.Options{Content: content, Capture: &files.Capture{Match: match, Keep: keep, MaxFile: 1000, MaxTotal: 1000}})
			if err != nil {
				t.Fatalf("%s: %v", arg, err)
			}
			// Each layer keeps its own copy; which one the filesystem shows
			// is for the caller.
			if got := string(ls[0].Captured["var/lib/dpkg/status"]); got != string(status0) {
				t.Errorf("%s: layer 0 status = %q", arg, got)
			}
			if got := string(ls[1].Captured["var/lib/dpkg/status"]); got != string(status1) {
				t.Errorf("%s: layer 1 status = %q", arg, got)
			}
			if got := string(ls[1].Captured["etc/keep"]); got != "abc" {
				t.Errorf("%s: etc/keep = %q, want what Keep kept", arg, got)
			}
			if _, ok := ls[0].Captured["etc/other"]; ok {
				t.Errorf("%s: an unmatched file was captured", arg)
			}
			if content {
				// A captured file is hashed whole all the same.
				for _, e := range ls[1].Entries {
					if e.Path == "etc/keep" && e.Digest != "sha256:bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721" {
						t.Errorf("%s: etc/keep digest = %s", arg, e.Digest)
					}
				}
			}
		}
	}
	// Limits fail the read and say so.
	arg, _ := writeLayout(t, img)
	all := func(e files.Entry) bool { return strings.HasPrefix(e.Path, "etc/") }
	for name, c := range map[string]*files.Capture{
		"file":  {Match: all, MaxFile: 50, MaxTotal: 1000},
		"total": {Match: all, MaxFile: 1000, MaxTotal: 100},
	} {
		_, err := read(t, arg, files.Options{Capture: c})
		if !errors.Is(err, files.ErrCaptureLimit) {
			t.Errorf("%s limit: error = %v, want ErrCaptureLimit", name, err)
		}
	}
}

// A capturing read reads the layers even when the cache knows their
// entries: the cache holds no contents.
func TestCaptureBypassesCache(t *testing.T) {
	r := newRegistry(t)
	img := imageOf(t, layerOf(t, []member{reg("var/lib/dpkg/status", 0o644, []byte("Package: a\n"))}, gz))
	arg := r.push(t, img, "cap")
	c := cache.New(t.TempDir())
	if _, err := files.Read(t.Context(), open(t, arg), files.Options{Cache: c}); err != nil {
		t.Fatal(err)
	}
	src := open(t, arg)
	r.resetCount()
	if _, err := files.Read(t.Context(), src, files.Options{Cache: c}); err != nil || r.layerGets() != 0 {
		t.Fatalf("cached read: %d layer GETs, error %v; want 0 GETs", r.layerGets(), err)
	}
	src = open(t, arg)
	r.resetCount()
	ls, err := files.Read(t.Context(), src, files.Options{Cache: c, Capture: &files.Capture{Match: func(files.Entry) bool { return true }}})
	if err != nil {
		t.Fatal(err)
	}
	if r.layerGets() != 1 || string(ls[0].Captured["var/lib/dpkg/status"]) != "Package: a\n" {
		t.Errorf("capturing read: %d layer GETs, captured %q; want 1 GET and the content", r.layerGets(), ls[0].Captured)
	}
}
