package files

import (
	"context"
	"io"
)

// Seeker exposes seeker to the external tests.
var Seeker = seeker

// EntryOf exposes entryOf to the external tests.
var EntryOf = entryOf

// Store and Cached expose the cache format to the benchmarks.
var (
	Store  = store
	Cached = cached
)

// ReadTarForTest lists a tar stream's entries, headers only.
func ReadTarForTest(r io.Reader) ([]Entry, error) {
	return readTar(context.Background(), r, false, nil)
}

// SeekBuffer is what a header-only read reads of a blob at once.
const SeekBuffer = seekBuffer
