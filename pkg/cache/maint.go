package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Maintenance: what the cache holds, and removing the least recently used
// part of it. Both walk only the layout the cache writes,
// <kind>/sha256/<2 hex>/<64 hex>[.json], through an os.Root, so a cache
// directory pointed at the wrong place (a home directory) loses nothing
// but files of that exact shape, and no symlink leads them out of the tree.

// tempGrace is how long a temporary file is presumed to belong to a
// writer still at work; older ones are debris of a writer that died.
const tempGrace = time.Minute

// Usage is a number of cache files and their bytes.
type Usage struct {
	// Kind is "layers" (size entries) or a blob kind ("files", …); empty
	// in a total.
	Kind    string
	Entries int
	Bytes   int64
}

// Summary is what a cache holds, or what Prune removed, by kind.
type Summary struct {
	// Dir is the cache directory.
	Dir string
	// Kinds lists each kind present, by name.
	Kinds []Usage
	Total Usage
}

// PruneResult is what Prune removed and what it kept.
type PruneResult struct {
	Removed, Kept Summary
}

// file is one file of the cache tree, relative to its root.
type file struct {
	kind, rel string
	size      int64
	mtime     time.Time
	temp      bool
}

// Info returns the entries and bytes the cache holds, by kind. Temporary
// files of writers that died count with their kind; those of writers at
// work do not. A cache directory that does not exist holds nothing.
func (c *Cache) Info(ctx context.Context) (Summary, error) {
	if c == nil {
		return Summary{}, nil
	}
	files, err := c.scan(ctx, time.Now())
	if err != nil {
		return Summary{}, err
	}
	return c.summarize(files), nil
}

// Prune removes entries (of every kind) last used more than olderThan ago,
// then the least recently used ones until the cache holds at most maxSize
// bytes, and temporary files left by writers that died. olderThan <= 0
// sets no age limit; maxSize < 0 no size limit. Writers may run meanwhile:
// an entry they write is kept or removed whole, and their temporary files
// are left alone. Files that cannot be removed are reported after the rest
// is done.
func (c *Cache) Prune(ctx context.Context, olderThan time.Duration, maxSize int64) (PruneResult, error) {
	if c == nil {
		return PruneResult{}, nil
	}
	now := time.Now()
	files, err := c.scan(ctx, now)
	if err != nil {
		return PruneResult{}, err
	}
	if len(files) == 0 {
		return PruneResult{Removed: c.summarize(nil), Kept: c.summarize(nil)}, nil
	}
	root, err := os.OpenRoot(c.dir)
	if err != nil {
		return PruneResult{}, fmt.Errorf("opening cache %s: %w", c.dir, err)
	}
	defer root.Close()

	// Least recently used first; the path breaks ties so the order is
	// the same every run.
	slices.SortFunc(files, func(a, b file) int {
		return cmp.Or(a.mtime.Compare(b.mtime), strings.Compare(a.rel, b.rel))
	})
	var total int64
	for _, f := range files {
		total += f.size
	}
	var removed, kept []file
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return PruneResult{}, err
		}
		old := f.temp || olderThan > 0 && now.Sub(f.mtime) > olderThan
		big := maxSize >= 0 && total > maxSize
		if !old && !big {
			kept = append(kept, f)
			continue
		}
		switch err := root.Remove(f.rel); {
		case err == nil:
			removed = append(removed, f)
			total -= f.size
		case errors.Is(err, fs.ErrNotExist):
			// Another prune was first.
			total -= f.size
		default:
			kept = append(kept, f)
			errs = append(errs, err)
		}
	}
	res := PruneResult{Removed: c.summarize(removed), Kept: c.summarize(kept)}
	if len(errs) > 0 {
		return res, fmt.Errorf("pruning cache %s: %d files could not be removed: %w", c.dir, len(errs), errs[0])
	}
	return res, nil
}

func (c *Cache) summarize(files []file) Summary {
	s := Summary{Dir: c.dir}
	by := map[string]*Usage{}
	for _, f := range files {
		u := by[f.kind]
		if u == nil {
			u = &Usage{Kind: f.kind}
			by[f.kind] = u
		}
		u.Entries++
		u.Bytes += f.size
		s.Total.Entries++
		s.Total.Bytes += f.size
	}
	for _, u := range by {
		s.Kinds = append(s.Kinds, *u)
	}
	slices.SortFunc(s.Kinds, func(a, b Usage) int { return strings.Compare(a.Kind, b.Kind) })
	return s
}

// scan lists the cache's files: regular files of the cache's own layout,
// and temporary files older than tempGrace beside them. Directories and
// files that vanish meanwhile (a concurrent prune) are skipped.
func (c *Cache) scan(ctx context.Context, now time.Time) ([]file, error) {
	root, err := os.OpenRoot(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening cache %s: %w", c.dir, err)
	}
	defer root.Close()
	var out []file
	kinds, err := readDir(root, ".")
	if err != nil {
		return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
	}
	for _, k := range kinds {
		kind := k.Name()
		if !k.IsDir() || (kind != layersKind && !isValidKind(kind)) {
			continue
		}
		algos, err := readDir(root, kind)
		if err != nil {
			return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
		}
		for _, a := range algos {
			if !a.IsDir() || a.Name() != "sha256" {
				continue
			}
			prefixes, err := readDir(root, path.Join(kind, a.Name()))
			if err != nil {
				return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
			}
			for _, p := range prefixes {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if !p.IsDir() || !isHex(p.Name(), 2) {
					continue
				}
				dir := path.Join(kind, a.Name(), p.Name())
				ents, err := readDir(root, dir)
				if err != nil {
					return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
				}
				for _, e := range ents {
					f, ok := entryFile(kind, p.Name(), e, now)
					if ok {
						f.rel = path.Join(dir, e.Name())
						out = append(out, f)
					}
				}
			}
		}
	}
	return out, nil
}

// entryFile says whether e, in the directory of prefix under kind, is a
// file the cache wrote: an entry named after its digest or a stale
// temporary file.
func entryFile(kind, prefix string, e fs.DirEntry, now time.Time) (file, bool) {
	if !e.Type().IsRegular() {
		return file{}, false // symlinks, directories, devices: not ours
	}
	name := e.Name()
	temp := strings.HasPrefix(name, ".tmp-")
	if !temp {
		hexName := name
		if kind == layersKind {
			var ok bool
			if hexName, ok = strings.CutSuffix(name, ".json"); !ok {
				return file{}, false
			}
		}
		if !isHex(hexName, 64) || hexName[:2] != prefix {
			return file{}, false
		}
	}
	fi, err := e.Info()
	if err != nil {
		return file{}, false
	}
	if temp && now.Sub(fi.ModTime()) < tempGrace {
		return file{}, false // a writer at work
	}
	return file{kind: kind, size: fi.Size(), mtime: fi.ModTime(), temp: temp}, true
}

// readDir lists dir in root; a directory that has vanished is empty.
func readDir(root *os.Root, dir string) ([]fs.DirEntry, error) {
	f, err := root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ents, err
}
