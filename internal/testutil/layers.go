package testutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// GzipLayer returns the layer of media type mt whose uncompressed stream
// is raw, a tar: raw gzipped once, here, and kept with its digest and
// diffID. A layer go-containerregistry builds from a tar
// (tarball.LayerFromOpener, crane.Layer, random.Layer) gzips it to learn
// its digest and again at every read of its blob, with compress/gzip,
// whose writer state alone costs milliseconds to set up under the race
// detector, for each layer however small.
//
// The level is klauspost/compress's StatelessCompression: a real deflate
// stream that shrinks repeated content (a run of filler to a thousandth)
// as BestSpeed does, without a writer's tables to set up. Under -race,
// against compress/gzip's BestSpeed (go-containerregistry's), it took
// about a fifteenth of the CPU on a 10 kB layer, three fifths on 1 MiB
// of a Go binary and half on 1 MiB of random bytes; klauspost's own
// BestSpeed took two fifths, seven tenths and half.
func GzipLayer(t testing.TB, raw []byte, mt types.MediaType) v1.Layer {
	t.Helper()
	var blob bytes.Buffer
	zw, err := gzip.NewWriterLevel(&blob, gzip.StatelessCompression)
	if err != nil {
		t.Fatalf("gzipping a %s layer: %v", mt, err)
	}
	// One Write: a stateless writer forgets everything between Writes, so
	// one makes the blob a function of raw alone, matched across members.
	if _, err := zw.Write(raw); err != nil {
		t.Fatalf("gzipping a %s layer: %v", mt, err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("gzipping a %s layer: %v", mt, err)
	}
	return gzipLayer{
		raw:    raw,
		blob:   blob.Bytes(),
		digest: sha256Hash(blob.Bytes()),
		diffID: sha256Hash(raw),
		mt:     mt,
	}
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// gzipLayer serves both its streams from memory.
type gzipLayer struct {
	raw, blob      []byte
	digest, diffID v1.Hash
	mt             types.MediaType
}

func (l gzipLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l gzipLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l gzipLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l gzipLayer) MediaType() (types.MediaType, error) { return l.mt, nil }
func (l gzipLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l gzipLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.raw)), nil
}

// RandomLayer is random.Layer(size, mt, opts...) gzipped once (GzipLayer):
// the same tar, so the same diffID for the same random source, in a blob
// of its own.
func RandomLayer(t testing.TB, size int64, mt types.MediaType, opts ...random.Option) v1.Layer {
	t.Helper()
	l, err := random.Layer(size, mt, opts...)
	if err != nil {
		t.Fatalf("making a random layer of %d bytes: %v", size, err)
	}
	// random.Layer holds its tar in memory: reading it gzips nothing.
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatalf("reading a random layer's tar: %v", err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading a random layer's tar: %v", err)
	}
	return GzipLayer(t, raw, mt)
}

// RandomImage is random.Image(size, layers, opts...) with each layer
// gzipped once (RandomLayer): the same tars and history, so the same
// diffIDs, for the same random source.
func RandomImage(t testing.TB, size int64, layers int, opts ...random.Option) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for i := range layers {
		adds = append(adds, mutate.Addendum{
			Layer: RandomLayer(t, size, types.DockerLayer, opts...),
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
