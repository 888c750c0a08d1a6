package cache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
)

// populated is a cache with entries of known paths, sizes and ages.
type populated struct {
	dir   string
	c     *cache.Cache
	paths map[string]string // name -> file
	sizes map[string]int64
}

type item struct {
	name string
	kind string // "layers" for an entry, else a blob kind
	size int    // blob bytes (entries are what Put writes)
	age  time.Duration
}

func populate(t *testing.T, items ...item) *populated {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	p := &populated{dir: dir, c: cache.New(dir), paths: map[string]string{}, sizes: map[string]int64{}}
	now := time.Now()
	for _, it := range items {
		h := digestOf(it.name)
		before := files(t, dir)
		var err error
		if it.kind == "layers" {
			err = p.c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: "exact"})
		} else {
			err = p.c.PutBlob(it.kind, h, []byte(strings.Repeat("b", it.size)))
		}
		if err != nil {
			t.Fatal(err)
		}
		var added string
		for _, f := range files(t, dir) {
			if !slices.Contains(before, f) {
				added = filepath.Join(dir, f)
			}
		}
		setAge(t, added, now, it.age)
		fi, err := os.Stat(added)
		if err != nil {
			t.Fatal(err)
		}
		p.paths[it.name], p.sizes[it.name] = added, fi.Size()
	}
	return p
}

func setAge(t *testing.T, p string, now time.Time, age time.Duration) {
	t.Helper()
	at := now.Add(-age)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

func (p *populated) exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := os.Lstat(p.paths[name])
	return err == nil
}

func (p *populated) bytes(names ...string) int64 {
	var n int64
	for _, name := range names {
		n += p.sizes[name]
	}
	return n
}

func usage(s cache.Summary) map[string]cache.Usage {
	m := map[string]cache.Usage{}
	for _, u := range s.Kinds {
		m[u.Kind] = u
	}
	return m
}

const day = 24 * time.Hour

func TestInfo(t *testing.T) {
	t.Parallel()
	p := populate(t,
		item{"l1", "layers", 0, time.Hour},
		item{"l2", "layers", 0, 2 * day},
		item{"f1", "files", 1000, day},
		item{"f2", "files", 3000, day},
		item{"c1", "files-content", 500, 0},
	)
	// What the cache did not write is not counted: a file in the root, a
	// misnamed file, a file in a directory of the wrong shape, a symlink
	// named like an entry, a writer's fresh temporary file.
	prefix := filepath.Dir(p.paths["l1"])
	outside := filepath.Join(t.TempDir(), "big")
	writeFile(t, outside, 1<<20)
	writeFile(t, filepath.Join(p.dir, "notes.txt"), 100)
	writeFile(t, filepath.Join(prefix, "entry.json"), 100)
	writeFile(t, filepath.Join(p.dir, "layers", "sha256", "zz", strings.Repeat("a", 64)+".json"), 100)
	h := digestOf("link")
	if err := os.MkdirAll(filepath.Join(p.dir, "layers", "sha256", h.Hex[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(p.dir, "layers", "sha256", h.Hex[:2], h.Hex+".json")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(prefix, ".tmp-young"), 100)
	// A temporary file of a writer that died counts: it takes room until
	// Prune removes it.
	stale := filepath.Join(prefix, ".tmp-stale")
	writeFile(t, stale, 77)
	setAge(t, stale, time.Now(), 10*time.Minute)

	got, err := p.c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cache.Usage{
		"layers":        {Kind: "layers", Entries: 3, Bytes: p.bytes("l1", "l2") + 77},
		"files":         {Kind: "files", Entries: 2, Bytes: 4000},
		"files-content": {Kind: "files-content", Entries: 1, Bytes: 500},
	}
	if g := usage(got); !mapsEqual(g, want) {
		t.Errorf("Info kinds = %+v, want %+v", g, want)
	}
	if got.Total.Entries != 6 || got.Total.Bytes != p.bytes("l1", "l2")+77+4500 {
		t.Errorf("Info total = %+v", got.Total)
	}
	if got.Dir != p.dir {
		t.Errorf("Info dir = %s, want %s", got.Dir, p.dir)
	}
	var kinds []string
	for _, u := range got.Kinds {
		kinds = append(kinds, u.Kind)
	}
	if !slices.IsSorted(kinds) {
		t.Errorf("kinds %v not sorted", kinds)
	}
}

func mapsEqual(a, b map[string]cache.Usage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func writeFile(t *testing.T, p string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInfoAndPruneOfNoCache(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "never-made")
	c := cache.New(dir)
	s, err := c.Info(context.Background())
	if err != nil || s.Total != (cache.Usage{}) || len(s.Kinds) != 0 {
		t.Errorf("Info of a missing dir = %+v, %v; want empty", s, err)
	}
	r, err := c.Prune(context.Background(), time.Hour, 0)
	if err != nil || r.Removed.Total != (cache.Usage{}) {
		t.Errorf("Prune of a missing dir = %+v, %v; want nothing removed", r, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Prune made the cache directory: %v", err)
	}
	var nilCache *cache.Cache
	if _, err := nilCache.Info(context.Background()); err != nil {
		t.Errorf("nil Info: %v", err)
	}
	if _, err := nilCache.Prune(context.Background(), 0, 0); err != nil {
		t.Errorf("nil Prune: %v", err)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	all := []item{
		{"oldest", "layers", 0, 40 * day},
		{"old blob", "files", 2000, 30 * day},
		{"week", "layers", 0, 7 * day},
		{"day blob", "files-content", 1000, day},
		{"hour", "layers", 0, time.Hour},
		{"now blob", "files", 3000, 0},
	}
	names := func(its []item) []string {
		var out []string
		for _, it := range its {
			out = append(out, it.name)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		olderThan time.Duration
		maxSize   func(p *populated) int64
		removed   []string
	}{
		{"no limits", 0, nil, nil},
		{"older than 10 days", 10 * day, nil, []string{"oldest", "old blob"}},
		{"older than 2 hours", 2 * time.Hour, nil, []string{"oldest", "old blob", "week", "day blob"}},
		{"older than a year", 365 * day, nil, nil},
		{"max size: all fits", 0, func(p *populated) int64 { return p.bytes(names(all)...) }, nil},
		{"max size: one byte less", 0, func(p *populated) int64 { return p.bytes(names(all)...) - 1 }, []string{"oldest"}},
		{"max size: the newest blob only", 0, func(*populated) int64 { return 3000 }, names(all[:5])},
		{"max size 0 empties", 0, func(*populated) int64 { return 0 }, names(all)},
		{"age then size", 10 * day, func(p *populated) int64 { return p.bytes("day blob", "hour", "now blob") }, []string{"oldest", "old blob", "week"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := populate(t, all...)
			maxSize := int64(-1)
			if tc.maxSize != nil {
				maxSize = tc.maxSize(p)
			}
			res, err := p.c.Prune(context.Background(), tc.olderThan, maxSize)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, it := range all {
				want := !slices.Contains(tc.removed, it.name)
				if got := p.exists(t, it.name); got != want {
					t.Errorf("%s exists %v, want %v", it.name, got, want)
				}
				if want {
					kept = append(kept, it.name)
				}
			}
			if res.Removed.Total.Entries != len(tc.removed) || res.Removed.Total.Bytes != p.bytes(tc.removed...) {
				t.Errorf("Removed total = %+v, want %d entries, %d bytes", res.Removed.Total, len(tc.removed), p.bytes(tc.removed...))
			}
			if res.Kept.Total.Entries != len(kept) || res.Kept.Total.Bytes != p.bytes(kept...) {
				t.Errorf("Kept total = %+v, want %d entries, %d bytes", res.Kept.Total, len(kept), p.bytes(kept...))
			}
			if maxSize >= 0 && res.Kept.Total.Bytes > maxSize {
				t.Errorf("kept %d bytes, over the limit %d", res.Kept.Total.Bytes, maxSize)
			}
			info, err := p.c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.Total != res.Kept.Total {
				t.Errorf("Info after Prune = %+v, Prune said it kept %+v", info.Total, res.Kept.Total)
			}
		})
	}
}

// TestPruneRemovedByKind: what Prune reports removed is split by kind.
func TestPruneRemovedByKind(t *testing.T) {
	t.Parallel()
	p := populate(t,
		item{"l", "layers", 0, 3 * day},
		item{"f1", "files", 10, 3 * day},
		item{"f2", "files", 20, 3 * day},
		item{"new", "files", 30, 0},
	)
	res, err := p.c.Prune(context.Background(), day, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cache.Usage{
		"layers": {Kind: "layers", Entries: 1, Bytes: p.bytes("l")},
		"files":  {Kind: "files", Entries: 2, Bytes: 30},
	}
	if got := usage(res.Removed); !mapsEqual(got, want) {
		t.Errorf("Removed = %+v, want %+v", got, want)
	}
}

// TestPruneTemporaryFiles: a writer's fresh temporary file is left alone
// whatever the limits; one left by a writer that died goes in any prune.
func TestPruneTemporaryFiles(t *testing.T) {
	t.Parallel()
	p := populate(t, item{"l", "layers", 0, 0})
	prefix := filepath.Dir(p.paths["l"])
	young, stale := filepath.Join(prefix, ".tmp-young"), filepath.Join(prefix, ".tmp-stale")
	writeFile(t, young, 10)
	writeFile(t, stale, 10)
	setAge(t, young, time.Now(), 10*time.Second)
	setAge(t, stale, time.Now(), 2*time.Minute)
	res, err := p.c.Prune(context.Background(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if res.Removed.Total.Entries != 1 {
		t.Errorf("Removed = %+v, want the stale temporary file", res.Removed.Total)
	}
	if _, err := p.c.Prune(context.Background(), time.Nanosecond, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a writer's fresh temporary file was removed: %v", err)
	}
	if p.exists(t, "l") {
		t.Error("max size 0 kept an entry")
	}
}

// TestPruneStaysInTree: Prune removes only files of the cache's own shape
// and follows no symlink, even with a cache directory pointed at a tree
// holding other things.
func TestPruneStaysInTree(t *testing.T) {
	t.Parallel()
	p := populate(t, item{"l", "layers", 0, 30 * day}, item{"f", "files", 10, 30 * day})
	outside := t.TempDir()
	// A digest whose prefix directory the cache does not have, so a
	// symlink can stand in for it.
	lPrefix, fPrefix := filepath.Base(filepath.Dir(p.paths["l"])), filepath.Base(filepath.Dir(p.paths["f"]))
	var h v1.Hash
	for i := 0; h.Hex == "" || h.Hex[:2] == lPrefix || h.Hex[:2] == fPrefix; i++ {
		h = digestOf(fmt.Sprint("outside", i))
	}
	// Outside, old files of exactly the cache's shape.
	victims := []string{
		filepath.Join(outside, "sha256", h.Hex[:2], h.Hex),
		filepath.Join(outside, h.Hex[:2], h.Hex),
		filepath.Join(outside, h.Hex[:2], h.Hex+".json"),
		filepath.Join(outside, "entry.json"),
	}
	for _, v := range victims {
		writeFile(t, v, 10)
		setAge(t, v, time.Now(), 100*day)
	}
	links := map[string]string{
		filepath.Join(p.dir, "linked-kind"):                                                        outside,
		filepath.Join(p.dir, "layers", "linked"):                                                   outside,
		filepath.Join(p.dir, "files", "sha256", h.Hex[:2]):                                         filepath.Join(outside, h.Hex[:2]),
		filepath.Join(p.dir, "layers", "sha256", h.Hex[:2]):                                        filepath.Join(outside, h.Hex[:2]),
		filepath.Join(p.dir, "layers", "sha256", lPrefix, lPrefix+strings.Repeat("e", 62)+".json"): filepath.Join(outside, "entry.json"),
		filepath.Join(p.dir, "files", "sha256", fPrefix, fPrefix+strings.Repeat("e", 62)):          filepath.Join(outside, "entry.json"),
	}
	for link, target := range links {
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	// Inside, things the cache did not write.
	foreign := []string{
		filepath.Join(p.dir, "notes.txt"),
		filepath.Join(p.dir, "Projects", "sha256", "ab", strings.Repeat("a", 64)),
		filepath.Join(p.dir, "files", "sha256", "ab", strings.Repeat("b", 64)+".bak"),
		filepath.Join(p.dir, "files", "sha256", "ab", strings.Repeat("c", 64)), // wrong prefix
		filepath.Join(p.dir, "layers", "sha512", "ab", "ab"+strings.Repeat("d", 62)+".json"),
	}
	for _, f := range foreign {
		writeFile(t, f, 10)
		setAge(t, f, time.Now(), 100*day)
	}
	res, err := p.c.Prune(context.Background(), time.Nanosecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.exists(t, "l") || p.exists(t, "f") {
		t.Error("the cache's own entries were kept")
	}
	if res.Removed.Total.Entries != 2 {
		t.Errorf("Removed = %+v, want the 2 entries", res.Removed.Total)
	}
	for _, f := range append(victims, foreign...) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for link := range links {
		if _, err := os.Lstat(link); err != nil {
			t.Errorf("symlink %s removed: %v", link, err)
		}
	}
}

// TestHitsRefreshRecency: Get and GetBlob mark what they find as used, so
// Prune removes what was least recently used, not least recently written.
func TestHitsRefreshRecency(t *testing.T) {
	t.Parallel()
	p := populate(t,
		item{"used entry", "layers", 0, 50 * day},
		item{"unused entry", "layers", 0, 10 * day},
		item{"used blob", "files", 10, 50 * day},
		item{"unused blob", "files", 10, 10 * day},
	)
	if _, ok := p.c.Get(digestOf("used entry")); !ok {
		t.Fatal("Get missed")
	}
	if _, ok := p.c.GetBlob("files", digestOf("used blob")); !ok {
		t.Fatal("GetBlob missed")
	}
	for _, name := range []string{"used entry", "used blob"} {
		fi, err := os.Stat(p.paths[name])
		if err != nil {
			t.Fatal(err)
		}
		if age := time.Since(fi.ModTime()); age > time.Hour {
			t.Errorf("%s: mtime %s old after a hit, want refreshed", name, age.Round(time.Second))
		}
	}
	if _, err := p.c.Prune(context.Background(), 5*day, -1); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"used entry": true, "used blob": true, "unused entry": false, "unused blob": false} {
		if got := p.exists(t, name); got != want {
			t.Errorf("%s exists %v after prune, want %v", name, got, want)
		}
	}
}

// TestMissDoesNotRefresh: a bad entry is not marked used, so Prune can
// clear it.
func TestMissDoesNotRefresh(t *testing.T) {
	t.Parallel()
	p := populate(t, item{"e", "layers", 0, 0})
	if err := os.WriteFile(p.paths["e"], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	setAge(t, p.paths["e"], time.Now(), 50*day)
	if _, ok := p.c.Get(digestOf("e")); ok {
		t.Fatal("Get of garbage hit")
	}
	fi, err := os.Stat(p.paths["e"])
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(fi.ModTime()) < 49*day {
		t.Error("a miss refreshed the mtime")
	}
}

func TestPruneCanceled(t *testing.T) {
	t.Parallel()
	p := populate(t, item{"e", "layers", 0, 50 * day})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.c.Prune(ctx, day, -1); !errors.Is(err, context.Canceled) {
		t.Errorf("Prune with a canceled context = %v, want context.Canceled", err)
	}
	if !p.exists(t, "e") {
		t.Error("a canceled Prune removed an entry")
	}
}
