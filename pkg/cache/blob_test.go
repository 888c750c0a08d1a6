package cache_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
)

func TestBlobRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := cache.New(dir)
	h := digestOf("layer")
	if _, ok := c.GetBlob("files", h); ok {
		t.Fatal("GetBlob on an empty cache found a blob")
	}
	if err := c.PutBlob("files", h, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := c.PutBlob("files-content", h, []byte("two")); err != nil {
		t.Fatal(err)
	}
	// The size entry of the same digest lives apart and is untouched.
	if err := c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: "exact"}); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]string{"files": "one", "files-content": "two"} {
		if got, ok := cache.New(dir).GetBlob(kind, h); !ok || string(got) != want {
			t.Errorf("GetBlob(%q) = %q, %v; want %q", kind, got, ok, want)
		}
	}
	if e, ok := c.Get(h); !ok || e.Uncompressed != 4096 {
		t.Errorf("size entry beside blobs: Get = %+v, %v", e, ok)
	}
	if _, ok := c.GetBlob("other", h); ok {
		t.Error("GetBlob found a blob under a kind never written")
	}
	// Overwriting replaces.
	if err := c.PutBlob("files", h, []byte("three")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetBlob("files", h); string(got) != "three" {
		t.Errorf("after overwrite GetBlob = %q", got)
	}
	fs := files(t, dir)
	if len(fs) != 3 {
		t.Errorf("cache holds %v, want 3 files (2 blobs, 1 entry)", fs)
	}
	for _, f := range fs {
		if !strings.Contains(f, h.Hex) {
			t.Errorf("file %s is not named after the digest", f)
		}
	}
}

func TestBlobNilCache(t *testing.T) {
	t.Parallel()
	var c *cache.Cache
	if _, ok := c.GetBlob("files", digestOf("a")); ok {
		t.Error("nil cache found a blob")
	}
	if err := c.PutBlob("files", digestOf("a"), []byte("x")); err != nil {
		t.Errorf("nil cache PutBlob = %v, want nil", err)
	}
}

// TestBlobBadKeys: kinds and digests become paths; neither may leave the
// cache directory nor collide with the size entries.
func TestBlobBadKeys(t *testing.T) {
	t.Parallel()
	good := digestOf("x")
	type key struct {
		kind string
		h    v1.Hash
	}
	for _, k := range []key{
		{"", good},
		{"..", good},
		{"../files", good},
		{"files/x", good},
		{"Files", good},
		{".files", good},
		{"layers", good},
		{strings.Repeat("a", 65), good},
		{"files", v1.Hash{Algorithm: "sha256", Hex: "../../etc"}},
		{"files", v1.Hash{Algorithm: "sha256", Hex: good.Hex[:63]}},
		{"files", v1.Hash{Algorithm: "../sha256", Hex: good.Hex}},
		{"files", v1.Hash{Algorithm: "sha512", Hex: good.Hex + good.Hex}},
		{"files", v1.Hash{}},
	} {
		root := t.TempDir()
		dir := filepath.Join(root, "a", "cache")
		c := cache.New(dir)
		if err := c.PutBlob(k.kind, k.h, []byte("x")); err == nil {
			t.Errorf("PutBlob(%q, %q) accepted a bad key", k.kind, k.h)
		}
		if fs := files(t, root); len(fs) != 0 {
			t.Errorf("PutBlob(%q, %q) wrote %v", k.kind, k.h, fs)
		}
		if _, ok := c.GetBlob(k.kind, k.h); ok {
			t.Errorf("GetBlob(%q, %q) found a blob", k.kind, k.h)
		}
	}
}

// TestBlobConcurrentPut: concurrent writers of one blob leave one whole
// blob and no temporary files; readers meanwhile see a whole blob.
func TestBlobConcurrentPut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := digestOf("shared")
	want := bytes.Repeat([]byte("entries "), 64<<10)
	if err := cache.New(dir).PutBlob("files", h, want); err != nil {
		t.Fatal(err)
	}
	var writing, reading sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	var bad int
	for range 16 {
		writing.Go(func() {
			c := cache.New(dir)
			for range 10 {
				if err := c.PutBlob("files", h, want); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		reading.Go(func() {
			c := cache.New(dir)
			for {
				select {
				case <-done:
					return
				default:
				}
				if got, ok := c.GetBlob("files", h); !ok || !bytes.Equal(got, want) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()
	if bad != 0 {
		t.Errorf("%d reads during the writes found no whole blob", bad)
	}
	fs := files(t, dir)
	if len(fs) != 1 || strings.Contains(fs[0], ".tmp-") {
		t.Errorf("cache holds %v, want exactly one blob file", fs)
	}
}

func TestBlobPutUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cache.New(file).PutBlob("files", digestOf("a"), []byte("x")); err == nil {
		t.Error("PutBlob under a regular file succeeded")
	}
}
