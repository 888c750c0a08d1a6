package files

import (
	"archive/tar"
	"path"
	"strings"
)

// Whiteout names, as the OCI image spec and Docker write them.
const (
	whiteoutPrefix = ".wh."
	// whiteoutMeta starts AUFS's own bookkeeping (".wh..wh.plnk",
	// ".wh..wh.aufs", ".wh..wh.orph"), which is not part of the filesystem.
	whiteoutMeta = ".wh..wh."
	opaqueMarker = ".wh..wh..opq"
)

// entryOf turns a tar header into an entry; ok is false for headers that
// name nothing in the filesystem (the root itself, AUFS metadata).
func entryOf(h *tar.Header) (e Entry, ok bool) {
	// A PAX global header sets defaults for the entries after it
	// (archive/tar hands it over rather than applying it); it names no file.
	if h.Typeflag == tar.TypeXGlobalHeader {
		return Entry{}, false
	}
	p, ok := cleanPath(h.Name)
	if !ok {
		return Entry{}, false
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	switch {
	case base == opaqueMarker:
		// "." when the root itself is made opaque.
		return Entry{Path: dir, Type: Dir, Opaque: true}, true
	case strings.HasPrefix(base, whiteoutMeta):
		return Entry{}, false
	case strings.HasPrefix(base, whiteoutPrefix):
		name := base[len(whiteoutPrefix):]
		if name == "" {
			return Entry{}, false
		}
		return Entry{Path: path.Join(dir, name), Type: Other, Whiteout: true}, true
	}
	// Files under AUFS's metadata directories (".wh..wh.plnk/…", the
	// targets of its hard links) are bookkeeping too; Docker skips them.
	if strings.HasPrefix(p, whiteoutMeta) {
		return Entry{}, false
	}
	e = Entry{Path: p, Mode: h.Mode & 0o7777}
	// archive/tar already reports the old TypeRegA as TypeReg.
	switch h.Typeflag {
	case tar.TypeReg:
		e.Type = Regular
		e.Size = h.Size
	case tar.TypeDir:
		e.Type = Dir
	case tar.TypeSymlink:
		// A symlink's target is resolved against its own directory at run
		// time: kept as written.
		e.Type = Symlink
		e.Linkname = h.Linkname
	case tar.TypeLink:
		// A hard link names another entry of the archive, so its target is
		// cleaned like a path. Its header size is 0: the bytes belong to
		// the target (and a writer that repeats them is not counted twice).
		e.Type = Hardlink
		if l, ok := cleanPath(h.Linkname); ok {
			e.Linkname = l
		} else {
			e.Linkname = h.Linkname
		}
	default:
		e.Type = Other
	}
	return e, true
}

// cleanPath makes a tar name relative to the root: leading "/" and "./"
// stripped, then path.Clean. ok is false for the root itself.
//
// A name that climbs out of the root ("../etc") stays as cleaned: the
// entry is only listed, nothing is ever written to disk, so it is no
// hazard, and dropping it would hide what the layer holds.
func cleanPath(name string) (string, bool) {
	for {
		n := strings.TrimPrefix(strings.TrimPrefix(name, "/"), "./")
		if n == name {
			break
		}
		name = n
	}
	p := path.Clean(name)
	if p == "." || p == "" {
		return "", false
	}
	return p, true
}
