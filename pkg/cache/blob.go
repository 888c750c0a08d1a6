package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Blobs beside Entry: what a package learned about a digest in a format of
// its own (pkg/files keeps a layer's file list this way). The cache stores
// the bytes and knows nothing of their meaning; the caller checks them on
// GetBlob and treats anything it cannot decode as a miss, so a damaged file
// is ignored and then rewritten, as Entry's are.

// maxBlobFile bounds what reading one blob may allocate.
const maxBlobFile = 1 << 30

// validKind keeps a kind a single, plain directory name, of at most 64
// bytes (checked apart: a counted repetition compiles into as many
// copies). It is compiled on first use, not before main by every run of
// imgsize.
var validKind = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`) })

func isValidKind(kind string) bool { return len(kind) <= 64 && validKind().MatchString(kind) }

// blobPath is where the blob of kind for h lives: <dir>/<kind>/sha256/ab/<hex>,
// a tree apart from the size entries (<dir>/layers/…).
func (c *Cache) blobPath(kind string, h v1.Hash) (string, error) {
	if !isValidKind(kind) || kind == layersKind {
		return "", fmt.Errorf("invalid cache kind %q", kind)
	}
	// path validates the digest (outside input) the same way for both trees.
	if _, ok := c.path(h); !ok {
		return "", fmt.Errorf("not caching malformed digest %q", h)
	}
	return filepath.Join(c.dir, kind, h.Algorithm, h.Hex[:2], h.Hex), nil
}

// GetBlob returns the bytes stored for h under kind, if any. A nil *Cache
// has none.
func (c *Cache) GetBlob(kind string, h v1.Hash) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	p, err := c.blobPath(kind, h)
	if err != nil {
		return nil, false
	}
	b, fi, ok := readRegular(p, maxBlobFile)
	if !ok {
		return nil, false
	}
	// A hit marks the blob recently used, for Prune; the caller may still
	// find it undecodable, and then rewrites it, which does the same.
	touch(p, fi)
	return b, true
}

// PutBlob stores b for h under kind atomically: readers see the old bytes
// or the new ones, never a partial file. kind is a short lowercase name
// ("files"); "layers" belongs to Entry.
func (c *Cache) PutBlob(kind string, h v1.Hash, b []byte) error {
	if c == nil {
		return nil
	}
	p, err := c.blobPath(kind, h)
	if err != nil {
		return err
	}
	return writeAtomic(p, b)
}

// writeAtomic writes b to a temporary file beside p and renames it over p.
func writeAtomic(p string, b []byte) error {
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
