// Package testlayer builds test images whose layers hold exactly the tar
// entries a test names: regular files, directories, symlinks, hard links
// and whiteouts, which crane.Layer (regular files only) cannot write.
package testlayer

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testutil"
)

// Member is one tar entry.
type Member struct {
	Header tar.Header
	Body   []byte
}

// File is a regular file with mode 0644.
func File(name string, body []byte) Member { return Exec(name, body, 0o644) }

// Exec is a regular file with the given mode.
func Exec(name string, body []byte, mode int64) Member {
	return Member{Header: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))}, Body: body}
}

// Sized is a regular file of n bytes of filler.
func Sized(name string, n int) Member { return File(name, bytes.Repeat([]byte{'x'}, n)) }

// Dir is a directory.
func Dir(name string) Member {
	return Member{Header: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}

// Symlink is a symbolic link to target.
func Symlink(name, target string) Member {
	return Member{Header: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}
}

// Hardlink is a hard link to the entry target of the same layer.
func Hardlink(name, target string) Member {
	return Member{Header: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target, Mode: 0o644}}
}

// Whiteout deletes path from the layers below.
func Whiteout(dir, name string) Member {
	p := ".wh." + name
	if dir != "" {
		p = dir + "/" + p
	}
	return Member{Header: tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: 0o644}}
}

// Tar writes members as a tar stream.
func Tar(t testing.TB, ms ...Member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := m.Header
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing header %q: %v", h.Name, err)
		}
		if _, err := tw.Write(m.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is a gzip layer (application/vnd.docker.image.rootfs.diff.tar.gzip,
// as tarball.LayerFromOpener makes it) of members, gzipped once
// (testutil.GzipLayer).
func Layer(t testing.TB, ms ...Member) v1.Layer {
	t.Helper()
	return testutil.GzipLayer(t, Tar(t, ms...), types.DockerLayer)
}

// Image is an image of layers, in order.
func Image(t testing.TB, ls ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Layout writes imgs to an OCI layout at dir, tagged in order, and returns
// dir.
func Layout(t testing.TB, dir string, tagged map[string]v1.Image) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range tagged {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// StoredFile is an uncompressed layer (application/vnd.oci.image.layer.v1.tar)
// whose tar stream is the file at path, read from disk each time: for the
// large trees tests make with tar(1), which gzipping in a race-instrumented
// test process would take minutes to store.
func StoredFile(t testing.TB, path string) v1.Layer {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, size, err := v1.SHA256(f)
	if err != nil {
		t.Fatal(err)
	}
	return storedFile{path: path, digest: h, size: size}
}

type storedFile struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l storedFile) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l storedFile) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l storedFile) Size() (int64, error)                 { return l.size, nil }
func (l storedFile) MediaType() (types.MediaType, error)  { return types.OCIUncompressedLayer, nil }
func (l storedFile) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l storedFile) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }
