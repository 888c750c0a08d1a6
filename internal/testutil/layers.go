package testutil

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// KeepCompressed returns l with its compressed blob read once and kept.
// A layer go-containerregistry builds from uncompressed content
// (random.Layer, tarball.LayerFromOpener of a tar, crane.Layer) gzips
// the content again each time its blob is read: for the digest, then for
// every layout, archive or push a test writes. Under the race detector
// each of those gzips costs milliseconds even for a small layer. The
// bytes kept are those the layer gave (go-containerregistry's gzip is
// deterministic), so digests do not change.
func KeepCompressed(t testing.TB, l v1.Layer) v1.Layer {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	blob, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	// The digest is the kept blob's: asking l would gzip it once more
	// (random.Layer computes its digest by compressing).
	d, _, err := v1.SHA256(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	return keptLayer{Layer: l, blob: blob, digest: d}
}

// keptLayer serves its blob from memory; the uncompressed stream, diffID
// and media type are the layer's own.
type keptLayer struct {
	v1.Layer
	blob   []byte
	digest v1.Hash
}

func (l keptLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l keptLayer) Size() (int64, error)     { return int64(len(l.blob)), nil }
func (l keptLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

// RandomImage is random.Image(size, layers, opts...) with each layer's
// blob kept (KeepCompressed): the same layers, history and so digests,
// gzipped once instead of at each read.
func RandomImage(t testing.TB, size int64, layers int, opts ...random.Option) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for i := range layers {
		l, err := random.Layer(size, types.DockerLayer, opts...)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.Addendum{
			Layer: KeepCompressed(t, l),
			History: v1.History{
				Author:    "random.Image",
				Comment:   fmt.Sprintf("this is a random history %d of %d", i, layers),
				CreatedBy: "random",
			},
		})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
