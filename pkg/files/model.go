package files

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Type is the kind of a layer entry.
type Type string

// The kinds of entry a layer tar holds.
const (
	Regular  Type = "file"
	Dir      Type = "dir"
	Symlink  Type = "symlink"
	Hardlink Type = "hardlink"
	// Other: devices, FIFOs and anything else; they hold no bytes.
	Other Type = "other"
)

// Entry is one entry of a layer tar, after whiteouts are recognised.
type Entry struct {
	// Path is clean and relative to the root, without a leading "/" or
	// "./" ("usr/local/go/bin/go"). For a whiteout it is the path deleted;
	// for an opaque marker, the directory made opaque ("." for the root).
	// A name that climbs out of the root keeps its ".." ("../etc").
	Path string
	// Type is Other for a whiteout and Dir for an opaque marker.
	Type Type
	// Size is the tar header's size: the content length of a regular file,
	// 0 for directories, links (a hard link's bytes belong to its target)
	// and whiteouts.
	Size int64
	// Mode is the header's permission and special bits (0o7777); 0 for
	// whiteouts and opaque markers, which describe no file of their own.
	Mode int64
	// Linkname is the target of a symlink (as written) or hard link
	// (cleaned like Path).
	Linkname string
	// Whiteout: a ".wh.NAME" entry, which deletes Path and everything
	// under it from the layers below.
	Whiteout bool
	// Opaque: a ".wh..wh..opq" entry in directory Path, which hides
	// everything the layers below put under Path.
	Opaque bool
	// Digest is "sha256:…" of a regular file's content, only when the
	// layer was read with Options.Content.
	Digest string
}

// Layer is what one layer holds, entries in tar order.
type Layer struct {
	Digest, DiffID v1.Hash
	Entries        []Entry
	// Uncompressed is the length of the layer's uncompressed tar stream,
	// counted while reading a blob whose digest was then checked; 0 when
	// the layer was not read whole (listed by seeking, or from the cache).
	Uncompressed int64
	// Captured holds, by path (Entry.Path), what Options.Capture kept of
	// the regular files it matched in this layer; nil without a capture.
	// It is this layer's content only: whether the final filesystem shows
	// it is for the caller to say (a later layer may overwrite or delete
	// the path).
	Captured map[string][]byte
}
