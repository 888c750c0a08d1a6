// Package cache remembers what was learned about a layer, by digest.
//
// Content-addressed data never changes, so a layer's uncompressed size,
// once known, holds forever. The cache sits beneath the size model (layers
// reads and writes it); it is an optimisation only: deleting it changes no
// figure, and a damaged entry is ignored and rewritten, never fatal.
//
// The cache is outside input as much as a registry is: anyone may edit,
// copy or truncate its files. An entry is therefore used only when its
// checksum matches, binds it to the digest it is stored under, and every
// field is one an honest writer could have written.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// version is bumped when Entry's meaning or encoding changes; older
// entries are ignored (and rewritten by the next Put). Version 2 added the
// checksum and the stored digest.
const version = 2

const (
	// MaxUncompressed is the largest figure an entry may hold (1 PiB): far
	// above any real layer, and small enough that no sum over the layers of
	// any image can overflow an int64.
	MaxUncompressed = 1 << 50
	// maxTrailer bounds a gzip-trailer figure: ISIZE is a 32-bit field.
	maxTrailer = 1 << 32
	// MaxReason bounds an entry's reason, in bytes.
	MaxReason = 512
	// maxEntryFile bounds what reading one entry file may allocate; a real
	// entry is a few hundred bytes.
	maxEntryFile = 4 << 10
	// refreshAfter is how stale an entry's mtime must be before a hit
	// refreshes it: recency for Prune needs no finer grain, and skipping
	// the write spares a metadata update on every hit.
	refreshAfter = time.Hour
)

// provenances are the provenance strings an entry may carry: those of
// layers.Provenance that describe a fact of a blob. pkg/layers tests that
// the lists agree (this package sits beneath it and cannot import it).
var provenances = []string{"exact", "annotation", "gzip-trailer", "zstd-header"}

// Provenances returns the provenance strings a cache entry may carry.
func Provenances() []string { return slices.Clone(provenances) }

// Entry is what is known about one layer.
type Entry struct {
	// Version is the entry format; Get sets it, Put ignores it.
	Version      int
	Uncompressed int64
	Provenance   string
	// Reason says why a cheap path was refused, when one was. Put replaces
	// unprintable characters and shortens it to MaxReason bytes.
	Reason string
}

// record is an entry as stored: plain JSON with stable names, the digest
// it describes and a checksum over both.
type record struct {
	Version      int    `json:"version"`
	Digest       string `json:"digest"`
	Uncompressed int64  `json:"uncompressed"`
	Provenance   string `json:"provenance"`
	Reason       string `json:"reason,omitempty"`
	Checksum     string `json:"checksum"`
}

// checksum is sha256 over a length-prefixed encoding of the digest and
// every field, so that no two different entries share an encoding and an
// entry copied under another digest no longer matches.
func checksum(h v1.Hash, ver int, e Entry) string {
	var b strings.Builder
	for _, f := range []string{"imgsize-cache-entry", strconv.Itoa(ver), h.String(),
		strconv.FormatInt(e.Uncompressed, 10), e.Provenance, e.Reason} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// check says why e is not an entry an honest writer could have made, or
// "" when it is.
func check(e Entry) string {
	if !slices.Contains(provenances, e.Provenance) {
		return fmt.Sprintf("unknown provenance %q", e.Provenance)
	}
	if e.Uncompressed <= 0 || e.Uncompressed > MaxUncompressed {
		return fmt.Sprintf("size %d out of range (1 to %d)", e.Uncompressed, int64(MaxUncompressed))
	}
	if e.Provenance == "gzip-trailer" && e.Uncompressed >= maxTrailer {
		return fmt.Sprintf("gzip trailer size %d does not fit 32 bits", e.Uncompressed)
	}
	if len(e.Reason) > MaxReason || !printable(e.Reason) {
		return "reason is not short printable text"
	}
	return ""
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// cleanReason makes a reason storable: printable, one line, bounded.
func cleanReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	if len(s) <= MaxReason {
		return s
	}
	const ellipsis = "…"
	cut := MaxReason - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
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

// Dir is the directory the cache lives in ("" for a nil *Cache).
func (c *Cache) Dir() string {
	if c == nil {
		return ""
	}
	return c.dir
}

// layersKind is the directory of the size entries.
const layersKind = "layers"

func (c *Cache) path(h v1.Hash) (string, bool) {
	if !wellFormed(h) {
		return "", false
	}
	return filepath.Join(c.dir, layersKind, h.Algorithm, h.Hex[:2], h.Hex+".json"), true
}

// wellFormed reports whether h may become a path: a digest is outside
// input, so only a lowercase sha256 does.
func wellFormed(h v1.Hash) bool {
	return h.Algorithm == "sha256" && isHex(h.Hex, 64)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// Get returns the entry for h, if a valid one exists. Anything else (no
// file, a damaged, edited, foreign or outdated one) is a miss, which the
// caller answers by measuring again and calling Put. A hit marks the entry
// recently used, for Prune.
func (c *Cache) Get(h v1.Hash) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	p, ok := c.path(h)
	if !ok {
		return Entry{}, false
	}
	b, fi, ok := readRegular(p, maxEntryFile)
	if !ok {
		return Entry{}, false
	}
	e, ok := decode(h, b)
	if !ok {
		return Entry{}, false
	}
	touch(p, fi)
	return e, true
}

// decode returns the entry b holds for h, if it is a valid current one.
func decode(h v1.Hash, b []byte) (Entry, bool) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&r) != nil || dec.More() {
		return Entry{}, false
	}
	e := Entry{Version: r.Version, Uncompressed: r.Uncompressed, Provenance: r.Provenance, Reason: r.Reason}
	if r.Version != version || r.Digest != h.String() || check(e) != "" || r.Checksum != checksum(h, version, e) {
		return Entry{}, false
	}
	return e, true
}

// readRegular reads p if it is a regular file (not a symlink: nothing in
// the cache is one, and following it could read outside the tree) of at
// most limit bytes.
func readRegular(p string, limit int64) ([]byte, os.FileInfo, bool) {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil, nil, false
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || int64(len(b)) > limit {
		return nil, nil, false
	}
	return b, fi, true
}

// touch refreshes p's mtime after a hit, so that Prune removes the least
// recently used entries first. Failing (a read-only cache) costs nothing
// but that ordering.
func touch(p string, fi os.FileInfo) {
	now := time.Now()
	if now.Sub(fi.ModTime()) < refreshAfter {
		return
	}
	_ = os.Chtimes(p, now, now)
}

// Put stores e for h atomically: readers see the old entry or the new one,
// never a partial file. An entry Get would refuse is not stored: the error
// says why.
func (c *Cache) Put(h v1.Hash, e Entry) error {
	if c == nil {
		return nil
	}
	p, ok := c.path(h)
	if !ok {
		return fmt.Errorf("not caching malformed digest %q", h)
	}
	e.Version = version
	e.Reason = cleanReason(e.Reason)
	if why := check(e); why != "" {
		return fmt.Errorf("not caching entry for %s: %s", h, why)
	}
	b, err := json.Marshal(record{
		Version: version, Digest: h.String(), Uncompressed: e.Uncompressed,
		Provenance: e.Provenance, Reason: e.Reason, Checksum: checksum(h, version, e),
	})
	if err != nil {
		return fmt.Errorf("encoding cache entry for %s: %w", h, err)
	}
	return writeAtomic(p, b)
}
