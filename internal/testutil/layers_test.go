package testutil

import (
	"archive/tar"
	"bytes"
	"io"
	"math/rand"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// GzipLayer's blob, digest, diffID and size are checked by
// go-containerregistry's validate.Layer, which gunzips the blob and hashes
// both streams itself; the blob must also shrink content a real layer
// would (a run of filler), or layer sizes in tests stop meaning much.
func TestGzipLayer(t *testing.T) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	body := bytes.Repeat([]byte("filler "), 10_000)
	if err := tw.WriteHeader(&tar.Header{Name: "etc/filler", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	l := GzipLayer(t, raw.Bytes(), types.OCILayer)
	if err := validate.Layer(l); err != nil {
		t.Fatal(err)
	}
	if mt, err := l.MediaType(); err != nil || mt != types.OCILayer {
		t.Errorf("media type %q (%v), want %q", mt, err, types.OCILayer)
	}
	size, err := l.Size()
	if err != nil {
		t.Fatal(err)
	}
	if size*10 > int64(raw.Len()) {
		t.Errorf("blob of %d bytes for a tar of %d bytes of filler, want under a tenth", size, raw.Len())
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw.Bytes()) {
		t.Error("uncompressed stream differs from the tar given")
	}
}

// RandomLayer holds random.Layer's tar for the same source: the same
// diffID, in a valid gzip layer of the media type asked for.
func TestRandomLayer(t *testing.T) {
	want, err := random.Layer(3000, types.DockerLayer, random.WithSource(rand.NewSource(42)))
	if err != nil {
		t.Fatal(err)
	}
	l := RandomLayer(t, 3000, types.DockerLayer, random.WithSource(rand.NewSource(42)))
	if err := validate.Layer(l); err != nil {
		t.Fatal(err)
	}
	wantDiffID, err := want.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.DiffID(); err != nil || got != wantDiffID {
		t.Errorf("diffID %s (%v), random.Layer's %s", got, err, wantDiffID)
	}
	if mt, err := l.MediaType(); err != nil || mt != types.DockerLayer {
		t.Errorf("media type %q (%v), want %q", mt, err, types.DockerLayer)
	}
}
