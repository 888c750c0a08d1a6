package files

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/pkg/cache"
)

// The cache keeps a layer's entries under its digest, in two kinds: with
// content digests ("files-content") and without ("files"). A read without
// Content is answered by either; a read with Content only by the first.
// Each blob is a zstd frame (with its checksum) of a gob-encoded record
// that repeats the digest and format version, so a damaged, foreign or
// outdated blob is a miss, and the next read rewrites it.
const (
	cacheKind        = "files"
	cacheKindContent = "files-content"
	// cacheVersion is bumped whenever what an Entry means changes.
	cacheVersion = 1
	// maxCacheBlob bounds what decoding a cache blob may allocate.
	maxCacheBlob = 1 << 30
)

type cacheRecord struct {
	Version int
	Digest  string
	Content bool
	Entries []Entry
}

var zstdCodec = sync.OnceValues(func() (*zstd.Encoder, *zstd.Decoder) {
	// EncodeAll and DecodeAll may be called concurrently; options are
	// known-valid constants.
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxCacheBlob), zstd.WithDecoderConcurrency(0))
	return enc, dec
})

// cached returns the entries cached for h. Without content, entries cached
// with content digests serve too, the digests dropped.
func cached(c *cache.Cache, h v1.Hash, content bool) ([]Entry, bool) {
	if c == nil {
		return nil, false
	}
	if es, ok := load(c, cacheKindContent, h, true); ok {
		if !content {
			for i := range es {
				es[i].Digest = ""
			}
		}
		return es, true
	}
	if content {
		return nil, false
	}
	return load(c, cacheKind, h, false)
}

func load(c *cache.Cache, kind string, h v1.Hash, content bool) ([]Entry, bool) {
	b, ok := c.GetBlob(kind, h)
	if !ok {
		return nil, false
	}
	_, dec := zstdCodec()
	raw, err := dec.DecodeAll(b, nil)
	if err != nil {
		return nil, false
	}
	var rec cacheRecord
	if gob.NewDecoder(bytes.NewReader(raw)).Decode(&rec) != nil ||
		rec.Version != cacheVersion || rec.Digest != h.String() || rec.Content != content {
		return nil, false
	}
	for _, e := range rec.Entries {
		if !e.valid(content) {
			return nil, false
		}
	}
	return rec.Entries, true
}

// valid is a sanity check of a decoded entry, not a proof: the zstd
// checksum has already caught damage.
func (e Entry) valid(content bool) bool {
	switch e.Type {
	case Regular, Dir, Symlink, Hardlink, Other:
	default:
		return false
	}
	if e.Path == "" || e.Size < 0 || (e.Size != 0 && e.Type != Regular) {
		return false
	}
	hasDigest := e.Digest != ""
	return hasDigest == (content && e.Type == Regular)
}

// store caches entries read with or without content digests.
func store(c *cache.Cache, h v1.Hash, content bool, es []Entry) error {
	if c == nil {
		return nil
	}
	var buf bytes.Buffer
	rec := cacheRecord{Version: cacheVersion, Digest: h.String(), Content: content, Entries: es}
	if err := gob.NewEncoder(&buf).Encode(rec); err != nil {
		return fmt.Errorf("encoding entries of %s: %w", h, err)
	}
	enc, _ := zstdCodec()
	kind := cacheKind
	if content {
		kind = cacheKindContent
	}
	return c.PutBlob(kind, h, enc.EncodeAll(buf.Bytes(), nil))
}
