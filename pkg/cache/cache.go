// Package cache remembers what was learned about a layer, by digest.
//
// Content-addressed data never changes, so a layer's uncompressed size,
// once known, holds forever. The cache sits beneath the size model (layers
// reads and writes it); it is an optimisation only: deleting it changes no
// figure, and a damaged entry is ignored and rewritten, never fatal.
package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// version is bumped when Entry's meaning changes; older entries are ignored.
const version = 1

// Entry is what is known about one layer.
type Entry struct {
	Version      int    `json:"version"`
	Uncompressed int64  `json:"uncompressed"`
	Provenance   string `json:"provenance"`
	// Reason says why a cheap path was refused, when one was.
	Reason string `json:"reason,omitempty"`
}

// Cache is a directory of entries. A nil *Cache caches nothing.
type Cache struct{ dir string }

// DefaultDir is $XDG_CACHE_HOME/imgsize, or the platform's user cache
// directory (~/.cache/imgsize on Linux).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the user cache directory: %w", err)
	}
	return filepath.Join(base, "imgsize"), nil
}

// New returns a cache rooted at dir; the directory is made on first write.
func New(dir string) *Cache { return &Cache{dir: dir} }

func (c *Cache) path(h v1.Hash) (string, bool) {
	// Only well-formed digests become paths: a digest is outside input.
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return "", false
	}
	for _, r := range h.Hex {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return "", false
		}
	}
	return filepath.Join(c.dir, "layers", h.Algorithm, h.Hex[:2], h.Hex+".json"), true
}

// Get returns the entry for h, if a valid one exists.
func (c *Cache) Get(h v1.Hash) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	p, ok := c.path(h)
	if !ok {
		return Entry{}, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if json.Unmarshal(b, &e) != nil || e.Version != version || e.Uncompressed <= 0 || e.Provenance == "" {
		return Entry{}, false
	}
	return e, true
}

// Put stores e for h atomically: readers see the old entry or the new one,
// never a partial file.
func (c *Cache) Put(h v1.Hash, e Entry) error {
	if c == nil {
		return nil
	}
	p, ok := c.path(h)
	if !ok {
		return fmt.Errorf("not caching malformed digest %q", h)
	}
	e.Version = version
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("creating cache directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing cache entry: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing cache entry: %w", err)
	}
	return nil
}
