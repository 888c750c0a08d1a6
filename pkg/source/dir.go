package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// The files that mark a containers/image "dir" directory (skopeo copy …
// dir:DIR, podman save --format docker-dir).
const (
	dirManifestFile = "manifest.json"
	dirVersionFile  = "version"
)

// dirBlobStore reads a "dir" directory: the image manifest in manifest.json
// and every blob in a file named by its hex digest (version 1.1), or by its
// hex digest and ".tar" (version 1.0).
type dirBlobStore struct {
	dir string
	// manifest is served for its own digest, so that the manifest read
	// from manifest.json goes through the same checks as every blob.
	manifest       []byte
	manifestDigest v1.Hash
}

func (d *dirBlobStore) readFile(name string) ([]byte, error) {
	return dirStore{d.dir}.readFile(name)
}

func (d *dirBlobStore) blob(h v1.Hash) (io.ReadSeeker, int64, io.Closer, error) {
	if h == d.manifestDigest {
		return bytes.NewReader(d.manifest), int64(len(d.manifest)), io.NopCloser(nil), nil
	}
	if h.Algorithm != "sha256" {
		return nil, 0, nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("digest algorithm %q of %s", h.Algorithm, h))
	}
	for _, name := range []string{h.Hex, h.Hex + ".tar"} {
		f, err := os.Open(filepath.Join(d.dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
		return f, fi.Size(), f, nil
	}
	return nil, 0, nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("blob %s missing from directory", h))
}

// isDirLayout reports whether dir looks like a containers/image "dir"
// directory: manifest.json and version, and no index.json (an OCI layout).
func isDirLayout(dir string) bool {
	for _, name := range []string{dirManifestFile, dirVersionFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(dir, "index.json"))
	return errors.Is(err, os.ErrNotExist)
}

// openDir reads the image of a "dir" directory. It holds one image, so
// there is no tag to choose and the platform is whatever the image is.
func openDir(ctx context.Context, dir string) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, err)
	}
	if !fi.IsDir() {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s is not a directory", dir))
	}
	s := &dirBlobStore{dir: dir}
	raw, err := s.readFile(dirManifestFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s of directory %s: %w", dirManifestFile, dir, err)
	}
	if len(raw) > maxMetadata {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s of directory %s is %d bytes, too large for a manifest", dirManifestFile, dir, len(raw)))
	}
	mt, err := dirManifestMediaType(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing %s of directory %s: %w", dirManifestFile, dir, err)
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	s.manifest, s.manifestDigest = raw, h
	img, err := imageFromStore(s, v1.Descriptor{MediaType: mt, Size: size, Digest: h})
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", dir, err)
	}
	return &Image{Transport: Dir, Name: dir, Image: img}, nil
}

// dirManifestMediaType learns what manifest.json holds: an image manifest
// is read; a manifest list (skopeo copy --all) is refused, since its images'
// manifests are stored under names of their own.
func dirManifestMediaType(raw []byte) (types.MediaType, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrCorrupt, err)
	}
	switch {
	case m.MediaType.IsIndex():
		return "", errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("a manifest list (%s) is not supported; copy one platform with skopeo copy --override-arch", m.MediaType))
	case m.MediaType == "" && m.Config.Digest == (v1.Hash{}):
		return "", errdefs.Wrap(errdefs.ErrCorrupt, errors.New("no config descriptor: not an image manifest"))
	case m.MediaType == "":
		return types.OCIManifestSchema1, nil
	case !m.MediaType.IsImage():
		return "", errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("unknown manifest media type %q", m.MediaType))
	}
	return m.MediaType, nil
}
