package layers_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// plan records what Load announces and reads.
type plan struct {
	mu                    sync.Mutex
	bytes, layers, done   int64
	read                  int64
	calls                 int
	layersAtFirstProgress int64
	sawProgress           bool
}

func (p *plan) options(o layers.Options) layers.Options {
	o.Planned = func(b int64, n int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.bytes += b
		p.layers += int64(n)
		p.calls++
	}
	o.LayerDone = func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.done++
	}
	o.Progress = func(n int64) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.sawProgress {
			p.sawProgress, p.layersAtFirstProgress = true, p.layers
		}
		p.read += n
	}
	return o
}

func storedBytes(t *testing.T, imgs ...v1.Image) int64 {
	t.Helper()
	seen := map[v1.Hash]bool{}
	var n int64
	for _, img := range imgs {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range m.Layers {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				n += l.Size
			}
		}
	}
	return n
}

// TestPlannedProgress: every layer read whole is announced with its
// stored bytes, once, and reported done; the announced bytes are the bytes
// read, so a display's total is true. Where a read is certain (local
// images, Exact) every layer is announced before the first byte is read,
// however few Jobs: the total is the image's, not that of the reads in
// flight.
func TestPlannedProgress(t *testing.T) {
	t.Parallel()
	base, err := random.Image(20_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := random.Layer(10_000, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	child, err := mutate.AppendLayers(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	five, err := random.Image(30_000, 5)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(five); err != nil {
		t.Fatal(err)
	}
	remote := func(img v1.Image) *source.Image {
		return &source.Image{Image: img, Transport: source.Registry, Remote: true}
	}
	openLayout := func(t *testing.T) *source.Image {
		src, err := source.Open(context.Background(), "oci:"+dir, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src
	}

	for _, tc := range []struct {
		name string
		srcs func(t *testing.T) []*source.Image
		opts layers.Options
		// want: bytes and layers planned (and read, and done).
		wantBytes, wantLayers int64
	}{
		{
			name:      "local layout, one job: all planned up front",
			srcs:      func(t *testing.T) []*source.Image { return []*source.Image{openLayout(t)} },
			opts:      layers.Options{Jobs: 1},
			wantBytes: storedBytes(t, five), wantLayers: 5,
		},
		{
			name:      "registry images sharing layers, exact: shared layers planned once",
			srcs:      func(*testing.T) []*source.Image { return []*source.Image{remote(base), remote(child)} },
			opts:      layers.Options{Jobs: 1, Exact: true, Memo: &layers.Memo{}},
			wantBytes: storedBytes(t, base, child), wantLayers: 3,
		},
		{
			name: "registry, cheap path: the trailer sizes every layer, nothing planned",
			srcs: func(t *testing.T) []*source.Image {
				ref, _ := servedRandomImage(t, 10_000, 3)
				src, err := source.Open(context.Background(), ref, source.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { src.Close() })
				return []*source.Image{src}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got plan
			opts := got.options(tc.opts)
			srcs := tc.srcs(t)
			for _, src := range srcs {
				if _, err := layers.Load(context.Background(), src, opts); err != nil {
					t.Fatal(err)
				}
			}
			if got.bytes != tc.wantBytes || got.layers != tc.wantLayers {
				t.Errorf("planned %d B in %d layers, want %d B in %d", got.bytes, got.layers, tc.wantBytes, tc.wantLayers)
			}
			if got.read != got.bytes || got.done != got.layers {
				t.Errorf("read %d B and finished %d layers of %d B in %d planned", got.read, got.done, got.bytes, got.layers)
			}
			if len(srcs) == 1 && got.sawProgress && got.layersAtFirstProgress != tc.wantLayers {
				t.Errorf("%d layers planned when the first byte was read, want all %d", got.layersAtFirstProgress, tc.wantLayers)
			}
		})
	}
}

// TestPlannedEstimate: gzipping a docker-archive's plain layers to
// estimate their compressed size reads each whole; those reads are
// planned and finished too, so the display's figures still add up.
func TestPlannedEstimate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testutil.Fixtures(t), "test-docker-image.tar")
	var plain plan
	img, err := load(t, path, plain.options(layers.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if plain.calls != 0 || plain.read != 0 {
		t.Fatalf("sizing an archive's plain tars read %d B in %d planned calls, want none", plain.read, plain.calls)
	}
	var stored int64
	for _, l := range img.Layers {
		stored += l.Uncompressed.Bytes // a plain tar: stored as it is
	}
	var est plan
	if _, err := load(t, path, est.options(layers.Options{EstimateCompressed: true})); err != nil {
		t.Fatal(err)
	}
	n := int64(len(img.Layers))
	if est.bytes != stored || est.layers != n || est.read != stored || est.done != n {
		t.Errorf("planned %d B in %d layers, read %d B, %d done; want %d B in %d, all read and done", est.bytes, est.layers, est.read, est.done, stored, n)
	}
}
