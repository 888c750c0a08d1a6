package layers_test

// Benchmarks of the cost of learning uncompressed layer sizes.
//
//	go test -run XXX -bench . -benchtime 3x ./pkg/layers/
//
// BenchmarkRemoteUncompressed compares the cheap path (one Range request
// for a gzip trailer per layer) with --exact (download and count every
// layer) on the same image in an in-process registry, and reports what
// each fetched as custom metrics. BenchmarkLocalCount measures plain
// decompression speed on the same layers read from an OCI layout.
//
// The test image (4 gzip layers, 32 MiB of tar) is made lazily, once per
// process, and only when a benchmark runs: `go test` without -bench pays
// nothing for it. No benchmark asserts a duration; they fail only when a
// figure is wrong or the path measured is not the one named.

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

const (
	benchLayers        = 4
	benchFilesPerLayer = 32
	benchFileSize      = 256 << 10 // 4 × 32 × 256 KiB = 32 MiB of file content
)

// benchImageData is the benchmark image, made once per process.
type benchImageData struct {
	img          v1.Image
	compressed   int64 // sum of layer blob sizes
	uncompressed int64 // sum of layer tar lengths
}

var (
	benchOnce sync.Once
	benchData benchImageData
	benchErr  error
)

func benchImage(b *testing.B) benchImageData {
	b.Helper()
	benchOnce.Do(func() { benchData, benchErr = makeBenchImage() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchData
}

// makeBenchImage builds benchLayers single-member gzip layers of
// semi-compressible content: three files in four are text-like (words
// from a small vocabulary, which gzip shrinks about threefold), one in four
// is random bytes (already-compressed data, as binaries and archives in
// real images are). Deterministic, so every run measures the same bytes.
func makeBenchImage() (benchImageData, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([][]byte, 512)
	for i := range vocab {
		w := make([]byte, 3+rng.IntN(8))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = w
	}
	fill := func(p []byte, text bool) {
		if !text {
			for i := 0; i+8 <= len(p); i += 8 {
				u := rng.Uint64()
				for k := range 8 {
					p[i+k] = byte(u >> (8 * k))
				}
			}
			return
		}
		i := 0
		for i < len(p) {
			i += copy(p[i:], vocab[rng.IntN(len(vocab))])
			if i < len(p) {
				p[i] = " \n"[rng.IntN(2)]
				i++
			}
		}
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var d benchImageData
	content := make([]byte, benchFileSize)
	for l := range benchLayers {
		var raw, gz bytes.Buffer
		tw := tar.NewWriter(&raw)
		for f := range benchFilesPerLayer {
			fill(content, f%4 != 3)
			hdr := &tar.Header{Name: fmt.Sprintf("layer%d/file%02d", l, f), Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}
			if err := tw.WriteHeader(hdr); err != nil {
				return d, err
			}
			if _, err := tw.Write(content); err != nil {
				return d, err
			}
		}
		if err := tw.Close(); err != nil {
			return d, err
		}
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(raw.Bytes()); err != nil {
			return d, err
		}
		if err := zw.Close(); err != nil {
			return d, err
		}
		blob := gz.Bytes()
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return d, err
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   layer,
			History: v1.History{CreatedBy: fmt.Sprintf("COPY layer%d /layer%d", l, l)},
		})
		if err != nil {
			return d, err
		}
		d.compressed += int64(len(blob))
		d.uncompressed += int64(raw.Len())
	}
	d.img = img
	return d, nil
}

// BenchmarkRemoteUncompressed loads the same registry image by the cheap
// path and with Exact, with no cache and a fresh Memo each iteration, and
// reports per op: layer-B (layer response-body bytes read), layer-reqs
// (layer blob requests) and reqs (all registry requests, including
// manifest, config and ping).
func BenchmarkRemoteUncompressed(b *testing.B) {
	data := benchImage(b)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	arg := u.Host + "/bench/app:v1"
	ref, err := name.ParseReference(arg)
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(ref, data.img); err != nil {
		b.Fatal(err)
	}

	for _, bc := range []struct {
		name  string
		exact bool
		want  layers.Provenance
	}{
		{"cheap", false, layers.GzipTrailer},
		{"exact", true, layers.Exact},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			var iters, reqs, layerReqs, layerBytes int64
			for b.Loop() {
				stats := &source.Stats{}
				src, err := source.Open(ctx, "docker://"+arg, source.Options{Stats: stats})
				if err != nil {
					b.Fatal(err)
				}
				img, err := layers.Load(ctx, src, layers.Options{Exact: bc.exact, Jobs: 4, Memo: &layers.Memo{}, Cache: nil})
				src.Close()
				if err != nil {
					b.Fatal(err)
				}
				checkBenchImage(b, img, data, bc.want)
				for _, k := range []source.Kind{source.KindManifest, source.KindConfig, source.KindLayer, source.KindOther} {
					n, _ := stats.Counts(k)
					reqs += n
				}
				n, by := stats.Counts(source.KindLayer)
				layerReqs += n
				layerBytes += by
				iters++
			}
			b.ReportMetric(float64(layerBytes)/float64(iters), "layer-B/op")
			b.ReportMetric(float64(layerReqs)/float64(iters), "layer-reqs/op")
			b.ReportMetric(float64(reqs)/float64(iters), "reqs/op")
		})
	}
}

// BenchmarkLocalCount counts the same layers from an OCI layout on disk:
// decompression and hashing speed, in MB/s of uncompressed tar.
func BenchmarkLocalCount(b *testing.B) {
	data := benchImage(b)
	dir := b.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.AppendImage(data.img); err != nil {
		b.Fatal(err)
	}
	b.Run("gzip", func(b *testing.B) {
		ctx := context.Background()
		b.SetBytes(data.uncompressed)
		for b.Loop() {
			src, err := source.Open(ctx, "oci:"+dir, source.Options{})
			if err != nil {
				b.Fatal(err)
			}
			img, err := layers.Load(ctx, src, layers.Options{Jobs: 4, Memo: &layers.Memo{}})
			src.Close()
			if err != nil {
				b.Fatal(err)
			}
			checkBenchImage(b, img, data, layers.Exact)
		}
	})
	// Many small layers: the per-layer cost (buffers, inflaters), which
	// the 4 large layers above hide. Its B/op is the figure to watch.
	b.Run("2000-small-layers", func(b *testing.B) {
		const n = 2000
		img, err := random.Image(64, n)
		if err != nil {
			b.Fatal(err)
		}
		// The total as go-containerregistry's own decompression counts it.
		var want int64
		ls, err := img.Layers()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range ls {
			rc, err := l.Uncompressed()
			if err != nil {
				b.Fatal(err)
			}
			k, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
			want += k
		}
		dir := b.TempDir()
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			src, err := source.Open(ctx, "oci:"+dir, source.Options{})
			if err != nil {
				b.Fatal(err)
			}
			got, err := layers.Load(ctx, src, layers.Options{Jobs: 4, Memo: &layers.Memo{}})
			src.Close()
			if err != nil {
				b.Fatal(err)
			}
			if len(got.Layers) != n || got.Uncompressed.Bytes != want || got.Uncompressed.Provenance != layers.Exact {
				b.Fatalf("%d layers, uncompressed %d (%s); want %d, %d exact", len(got.Layers), got.Uncompressed.Bytes, got.Uncompressed.Provenance, n, want)
			}
		}
	})
}

// checkBenchImage fails the benchmark when a figure is wrong or a layer's
// size came another way than the one being measured (say, the cheap path
// silently falling back to a full read).
func checkBenchImage(b *testing.B, img *layers.Image, data benchImageData, want layers.Provenance) {
	b.Helper()
	if len(img.Layers) != benchLayers {
		b.Fatalf("%d layers, want %d", len(img.Layers), benchLayers)
	}
	for i, l := range img.Layers {
		if l.Uncompressed.Provenance != want {
			b.Fatalf("layer %d: uncompressed size from %q (%s), want %q", i, l.Uncompressed.Provenance, l.Uncompressed.Reason, want)
		}
	}
	if img.Uncompressed.Bytes != data.uncompressed {
		b.Fatalf("uncompressed total %d, want %d", img.Uncompressed.Bytes, data.uncompressed)
	}
	if img.Compressed.Bytes != data.compressed {
		b.Fatalf("compressed total %d, want %d", img.Compressed.Bytes, data.compressed)
	}
}
