package packages

import (
	"io"
	"path"
	"strings"
)

// isDatabaseFile says whether p (clean, relative) is a file Read parses.
func isDatabaseFile(p string) bool {
	switch {
	case p == dpkgStatus, p == apkInstalled, isRpmFile(p):
		return true
	case strings.HasPrefix(p, dpkgStatusD):
		return !strings.Contains(p[len(dpkgStatusD):], "/")
	case strings.HasPrefix(p, dpkgInfo):
		return strings.HasSuffix(p, ".list") && !strings.Contains(p[len(dpkgInfo):], "/")
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case strings.HasSuffix(dir, ".dist-info"):
		return base == "METADATA" || base == "RECORD"
	case strings.HasSuffix(dir, ".egg-info"):
		return base == "PKG-INFO" || base == "installed-files.txt"
	case strings.HasSuffix(base, ".egg-info"):
		return true
	}
	return isNpmManifest(p)
}

// Wanted says whether Read needs the content of the regular file at p
// (clean, relative) of size bytes and permission bits mode: a database
// file, whatever its size (the capture's limit says when one is too large
// to read), a Java archive, or an executable that may be a Go binary.
func Wanted(p string, size, mode int64) bool {
	return isDatabaseFile(p) || isJar(p) && size <= MaxJar || mode&0o111 != 0 && size >= 64 && size <= MaxGoBinary
}

// Keep returns what Read needs of the file at p that Wanted chose: a
// database file's content, what KeepJar keeps of a Java archive, or what
// KeepGo keeps of an executable.
func Keep(p string, size int64, r io.Reader) ([]byte, error) {
	if isDatabaseFile(p) {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	if isJar(p) {
		return KeepJar(p, size, r)
	}
	return KeepGo(size, r)
}
