package cache_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
)

func digestOf(s string) v1.Hash {
	sum := sha256.Sum256([]byte(s))
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// files lists every file under dir (relative paths), so tests need not
// know the cache's layout.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// entryFile puts an entry for h and returns the one file it made.
func entryFile(t *testing.T, c *cache.Cache, dir string, h v1.Hash) string {
	t.Helper()
	if err := c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: "exact"}); err != nil {
		t.Fatal(err)
	}
	fs := files(t, dir)
	if len(fs) != 1 {
		t.Fatalf("cache holds %v, want one entry file", fs)
	}
	if !strings.Contains(fs[0], h.Hex) {
		t.Errorf("entry file %s is not named after the digest", fs[0])
	}
	return filepath.Join(dir, fs[0])
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := cache.New(dir)
	a, b := digestOf("a"), digestOf("b")
	if _, ok := c.Get(a); ok {
		t.Fatal("Get on an empty cache found an entry")
	}
	if err := c.Put(a, cache.Entry{Uncompressed: 1 << 20, Provenance: "gzip-trailer"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(b, cache.Entry{Uncompressed: 512, Provenance: "exact"}); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[v1.Hash]cache.Entry{
		a: {Version: cache.Version, Uncompressed: 1 << 20, Provenance: "gzip-trailer"},
		b: {Version: cache.Version, Uncompressed: 512, Provenance: "exact"},
	} {
		got, ok := c.Get(h)
		if !ok || got != want {
			t.Errorf("Get(%s) = %+v, %v; want %+v", h, got, ok, want)
		}
	}
	// A second cache on the same directory (a later run) sees them.
	if got, ok := cache.New(dir).Get(a); !ok || got.Uncompressed != 1<<20 {
		t.Errorf("a new Cache on the same dir: Get = %+v, %v", got, ok)
	}
	// Overwriting replaces.
	if err := c.Put(a, cache.Entry{Uncompressed: 2048, Provenance: "exact"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(a); got.Uncompressed != 2048 || got.Provenance != "exact" {
		t.Errorf("after overwrite Get = %+v", got)
	}
	// The stored form is plain JSON with stable names.
	p := ""
	for _, f := range files(t, dir) {
		if strings.Contains(f, b.Hex) {
			p = filepath.Join(dir, f)
		}
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("entry %s is not JSON: %v", raw, err)
	}
	if m["version"] != float64(cache.Version) || m["uncompressed"] != 512.0 || m["provenance"] != "exact" ||
		m["digest"] != b.String() || m["checksum"] != cache.Checksum(b, cache.Version, cache.Entry{Uncompressed: 512, Provenance: "exact"}) {
		t.Errorf("entry JSON %s", raw)
	}
}

func TestNilCache(t *testing.T) {
	t.Parallel()
	var c *cache.Cache
	if _, ok := c.Get(digestOf("a")); ok {
		t.Error("nil cache found an entry")
	}
	if err := c.Put(digestOf("a"), cache.Entry{Uncompressed: 512, Provenance: "exact"}); err != nil {
		t.Errorf("nil cache Put = %v, want nil", err)
	}
}

// TestMalformedDigests: a digest is outside input (a manifest says it);
// one that is not a well-formed sha256 never becomes a path, for writing
// or for reading.
func TestMalformedDigests(t *testing.T) {
	t.Parallel()
	good := digestOf("x")
	for _, h := range []v1.Hash{
		{Algorithm: "sha256", Hex: "../../etc"},
		{Algorithm: "sha256", Hex: "../../../../../../tmp/evil"},
		{Algorithm: "sha256", Hex: "ab/../../../" + good.Hex[:54]},
		{Algorithm: "sha256", Hex: good.Hex[:63]},
		{Algorithm: "sha256", Hex: good.Hex + "0"},
		{Algorithm: "sha256", Hex: strings.ToUpper(good.Hex)},
		{Algorithm: "sha256", Hex: strings.Repeat("g", 64)},
		{Algorithm: "sha256", Hex: good.Hex[:62] + "/x"},
		{Algorithm: "sha256", Hex: ""},
		{Algorithm: "../sha256", Hex: good.Hex},
		{Algorithm: "sha512", Hex: good.Hex + good.Hex},
		{},
	} {
		t.Run(fmt.Sprintf("%q:%q", h.Algorithm, h.Hex), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, "a", "b", "cache")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			c := cache.New(dir)
			if err := c.Put(h, cache.Entry{Uncompressed: 512, Provenance: "exact"}); err == nil {
				t.Error("Put accepted a malformed digest")
			}
			if fs := files(t, root); len(fs) != 0 {
				t.Errorf("Put of a malformed digest wrote %v", fs)
			}
			// Plant a valid entry wherever a naive layout would look.
			valid := []byte(`{"version":1,"uncompressed":512,"provenance":"exact"}`)
			for _, p := range []string{
				filepath.Join(dir, "layers", h.Algorithm, safePrefix(h.Hex), h.Hex+".json"),
				filepath.Join(dir, "layers", h.Algorithm, h.Hex+".json"),
				filepath.Join(dir, h.Algorithm, h.Hex+".json"),
			} {
				if !strings.HasPrefix(filepath.Clean(p), root) {
					continue // never write outside the test's directory
				}
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, valid, 0o644)
			}
			if e, ok := c.Get(h); ok {
				t.Errorf("Get of a malformed digest found %+v", e)
			}
		})
	}
}

func safePrefix(s string) string {
	if len(s) < 2 {
		return s
	}
	return s[:2]
}

// TestDamagedEntries: an entry that is not a valid current one is
// ignored, and the next Put replaces it.
func TestDamagedEntries(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"garbage":             "not json at all \x00\xff",
		"truncated":           `{"version":1,"uncompressed":40`,
		"empty":               "",
		"version 0 (missing)": `{"uncompressed":4096,"provenance":"exact"}`,
		"version 9 (newer)":   `{"version":9,"uncompressed":4096,"provenance":"exact"}`,
		"zero size":           `{"version":1,"uncompressed":0,"provenance":"exact"}`,
		"negative size":       `{"version":1,"uncompressed":-512,"provenance":"exact"}`,
		"no provenance":       `{"version":1,"uncompressed":4096}`,
		"wrong types":         `{"version":"1","uncompressed":"4096","provenance":"exact"}`,
		"array":               `[1,4096,"exact"]`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := cache.New(dir)
			h := digestOf(name)
			p := entryFile(t, c, dir, h)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if e, ok := c.Get(h); ok {
				t.Errorf("Get of a damaged entry = %+v", e)
			}
			if err := c.Put(h, cache.Entry{Uncompressed: 8192, Provenance: "exact"}); err != nil {
				t.Fatalf("Put over a damaged entry: %v", err)
			}
			if e, ok := c.Get(h); !ok || e.Uncompressed != 8192 {
				t.Errorf("after rewrite Get = %+v, %v", e, ok)
			}
		})
	}
}

// TestConcurrentPut: many writers of one digest (several images sharing
// a layer, several imgsize processes) leave one valid entry and no
// temporary files. Readers meanwhile always find an entry: one existed
// before the writes began, and an atomic replacement never leaves the
// file missing, empty or partial.
func TestConcurrentPut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := digestOf("shared")
	want := cache.Entry{Version: cache.Version, Uncompressed: 1 << 20, Provenance: "exact"}
	if err := cache.New(dir).Put(h, want); err != nil {
		t.Fatal(err)
	}
	const writers, readers, puts = 32, 8, 20
	var writing, reading sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers+readers)
	for range writers {
		writing.Go(func() {
			// Each writer its own Cache value, as separate processes have;
			// content-addressed, they all learned the same figure.
			c := cache.New(dir)
			for range puts {
				if err := c.Put(h, cache.Entry{Uncompressed: 1 << 20, Provenance: "exact"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var reads, misses int
	var mu sync.Mutex
	for range readers {
		reading.Go(func() {
			c := cache.New(dir)
			for {
				select {
				case <-done:
					return
				default:
				}
				e, ok := c.Get(h)
				mu.Lock()
				reads++
				if !ok || e != want {
					misses++
				}
				mu.Unlock()
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d reads during %d writes", reads, writers*puts)
	if misses != 0 {
		t.Errorf("%d of %d reads during the writes found no valid entry", misses, reads)
	}
	if e, ok := cache.New(dir).Get(h); !ok || e != want {
		t.Errorf("after concurrent Puts Get = %+v, %v; want %+v", e, ok, want)
	}
	fs := files(t, dir)
	if len(fs) != 1 {
		t.Errorf("cache holds %v, want exactly one entry file", fs)
	}
	for _, f := range fs {
		if strings.Contains(filepath.Base(f), ".tmp-") {
			t.Errorf("temporary file %s left behind", f)
		}
	}
}

// TestConcurrentPutNew: many first writers of a digest whose directory
// does not exist yet all succeed.
func TestConcurrentPutNew(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not", "yet")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			e := cache.Entry{Uncompressed: int64(512 * (i + 1)), Provenance: "exact"}
			if err := cache.New(dir).Put(digestOf("new"), e); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	e, ok := cache.New(dir).Get(digestOf("new"))
	if !ok || e.Uncompressed%512 != 0 || e.Uncompressed < 512 || e.Uncompressed > 512*64 {
		t.Errorf("Get = %+v, %v; want one of the written entries", e, ok)
	}
	for _, f := range files(t, dir) {
		if strings.Contains(filepath.Base(f), ".tmp-") {
			t.Errorf("temporary file %s left behind", f)
		}
	}
}

// TestPutUnwritable: a cache that cannot be written returns an error, for
// the caller to ignore.
func TestPutUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := cache.New(file) // a file where the directory should be
	if err := c.Put(digestOf("a"), cache.Entry{Uncompressed: 512, Provenance: "exact"}); err == nil {
		t.Error("Put under a regular file succeeded")
	}
	if _, ok := c.Get(digestOf("a")); ok {
		t.Error("Get found an entry in an unwritable cache")
	}
}

func TestDefaultDir(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	got, err := cache.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(xdg, "imgsize"); got != want {
		t.Errorf("DefaultDir = %s, want %s", got, want)
	}
}
