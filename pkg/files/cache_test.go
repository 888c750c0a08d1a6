package files_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
)

// cacheFiles lists the files under dir.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestCacheRegistry: a registry image read once is answered from the
// cache the next time, with no layer request and the same entries; a
// read with content digests is not answered by entries without them, but
// answers reads without; a damaged cache file is ignored and rewritten.
func TestCacheRegistry(t *testing.T) {
	img, entries := knownImage(t)
	reg := newRegistry(t)
	arg := reg.push(t, img, "cached")
	dir := t.TempDir()
	nLayers := len(entries)

	// readCounting reads arg with a fresh source (a later run) and returns
	// the entries and the layer requests made.
	readCounting := func(content bool) ([]files.Layer, int) {
		t.Helper()
		src := open(t, arg)
		reg.resetCount()
		got, err := files.Read(t.Context(), src, files.Options{Content: content, Cache: cache.New(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return got, reg.layerGets()
	}
	want := wantLayers(t, img, entries)
	wantContent := wantLayers(t, img, withDigests(entries))
	check := func(step string, got, want []files.Layer, gets, wantGets int) {
		t.Helper()
		if diff := cmp.Diff(want, got, ignoreCount); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step, diff)
		}
		if gets != wantGets {
			t.Errorf("%s: %d layer requests, want %d", step, gets, wantGets)
		}
	}

	got, gets := readCounting(false)
	check("1st read", got, want, gets, nLayers)
	if n := len(cacheFiles(t, dir)); n != nLayers {
		t.Errorf("cache holds %d files after the 1st read, want %d", n, nLayers)
	}
	got, gets = readCounting(false)
	check("2nd read", got, want, gets, 0)

	got, gets = readCounting(true)
	check("1st read with content", got, wantContent, gets, nLayers)
	got, gets = readCounting(true)
	check("2nd read with content", got, wantContent, gets, 0)

	// Damage every cached file: each is a miss, read again and rewritten.
	for i, p := range cacheFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			b = []byte("garbage")
		case 1:
			b = b[:len(b)/2]
		default:
			b[len(b)/2] ^= 0xff
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, gets = readCounting(true)
	check("read with content over a damaged cache", got, wantContent, gets, nLayers)
	got, gets = readCounting(false)
	// Entries with content digests answer a read without them.
	check("read without content after it", got, want, gets, 0)
}

// TestCacheNotForLocalImages: a local image is read even when the cache
// knows its layers, so a damaged copy on disk is found; and a
// header-only read, which checks no digest, puts nothing in the cache.
func TestCacheNotForLocalImages(t *testing.T) {
	img, entries := knownImage(t)
	arg, layoutDir := writeLayout(t, img)
	dir := t.TempDir()
	c := cache.New(dir)
	got, err := read(t, arg, files.Options{Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLayers(t, img, entries), got, ignoreCount); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Layers 1 and 2 are compressed and were read whole: cached. Layer 3
	// is uncompressed and was read header by header: not cached.
	if n := len(cacheFiles(t, dir)); n != 2 {
		t.Errorf("cache holds %d files, want 2 (the verified reads)", n)
	}
	// Damage layer 1 on disk: the cache must not hide it.
	m, _ := img.Manifest()
	blob := filepath.Join(layoutDir, "blobs", "sha256", m.Layers[0].Digest.Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 0xff // gzip header time: still sound gzip, another digest
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = read(t, arg, files.Options{Cache: c})
	if !errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("Read of a damaged local layer with a warm cache = %v, want ErrCorrupt", err)
	}
}
