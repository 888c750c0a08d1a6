package layers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// TestAnnotationStaysWithItsManifest: an annotation that lies about a
// layer's size must not change the figure of another image holding the
// same blob, through the run's memo or the cache, in either order.
func TestAnnotationStaysWithItsManifest(t *testing.T) {
	l, raw := tarLayer(t, map[string]int{"a": 300_000, "b": 5_000})
	honest, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l})
	if err != nil {
		t.Fatal(err)
	}
	lie, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, Annotations: map[string]string{
		"io.containers.estargz.uncompressed-size": "99999744",
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	for tag, img := range map[string]v1.Image{"honest": honest, "lie": lie} {
		ref, _ := name.ParseReference(u.Host + "/app:" + tag)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	truth := int64(len(raw))
	for _, order := range [][]string{{"lie", "honest"}, {"honest", "lie"}} {
		c := cache.New(t.TempDir())
		memo := &layers.Memo{}
		got := map[string]layers.Size{}
		for _, tag := range order {
			src, err := source.Open(context.Background(), u.Host+"/app:"+tag, source.Options{})
			if err != nil {
				t.Fatal(err)
			}
			img, err := layers.Load(context.Background(), src, layers.Options{Cache: c, Memo: memo})
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			got[tag] = img.Layers[0].Uncompressed
		}
		if got["honest"].Bytes != truth || got["honest"].Provenance == layers.Annotation {
			t.Errorf("order %v: honest image says %+v, the layer holds %d", order, got["honest"], truth)
		}
		if got["lie"].Bytes != 99999744 || got["lie"].Provenance != layers.Annotation {
			t.Errorf("order %v: annotated image says %+v, want the annotation, marked as such", order, got["lie"])
		}
	}
}

// TestLocalImagesAreAlwaysCounted: a cache entry, right or wrong, never
// stands in for reading a local layer, which is what verifies it.
func TestLocalImagesAreAlwaysCounted(t *testing.T) {
	l, raw := tarLayer(t, map[string]int{"a": 200_000})
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l})
	if err != nil {
		t.Fatal(err)
	}
	dir, blob := writeLayout(t, img)
	d, _ := l.Digest()
	c := cache.New(t.TempDir())
	if err := c.Put(d, cache.Entry{Uncompressed: 512, Provenance: string(layers.GzipTrailer)}); err != nil {
		t.Fatal(err)
	}
	got, err := load(t, "oci:"+dir, layers.Options{Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if u := got.Layers[0].Uncompressed; u.Bytes != int64(len(raw)) || u.Provenance != layers.Exact {
		t.Errorf("local layer %+v, want %d counted; a cache entry was used instead", u, len(raw))
	}

	// A damaged blob is found even though the cache now knows the layer.
	flipByte(t, blob)
	if _, err := load(t, "oci:"+dir, layers.Options{Cache: c}); !errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("tampered local layer with a warm cache: err = %v, want ErrCorrupt", err)
	}
}

// unusableRanger answers every ranged read as a registry that mangles
// Content-Range would.
type unusableRanger struct{}

func (unusableRanger) ReadRange(_ context.Context, h v1.Hash, size, start, end int64) ([]byte, error) {
	return nil, fmt.Errorf("%w: blob %s: asked for bytes %d-%d, got Content-Range \"bytes 0-3/999\"", source.ErrRangeUnusable, h, start, end)
}

// TestUnusableRangeFallsBack: a ranged answer that cannot be trusted makes
// the layer be read whole (and digest-checked), not the image fail.
func TestUnusableRangeFallsBack(t *testing.T) {
	ref, img := servedRandomImage(t, 50_000, 2)
	src, err := source.Open(context.Background(), ref, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.Blobs = unusableRanger{}
	got, err := layers.Load(context.Background(), src, layers.Options{})
	if err != nil {
		t.Fatalf("an unusable Range answer failed the image: %v", err)
	}
	ls, _ := img.Layers()
	for i, l := range got.Layers {
		rc, _ := ls[i].Uncompressed()
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if l.Uncompressed.Bytes != n || l.Uncompressed.Provenance != layers.Exact || !strings.Contains(l.Uncompressed.Reason, "Content-Range") {
			t.Errorf("layer %d: %+v, want %d counted with the reason", i, l.Uncompressed, n)
		}
	}
}

// writeLayout writes img to a new layout and returns its directory and the
// path of its first layer's blob.
func writeLayout(t *testing.T, img v1.Image) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	return dir, filepath.Join(dir, "blobs", "sha256", d.Hex)
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSharedLayerReadInEachLocalImage: two local images holding the same
// layer are each read; a damaged second copy is found even though the
// first, sound copy was read already in the same run.
func TestSharedLayerReadInEachLocalImage(t *testing.T) {
	img, err := random.Image(20_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := writeLayout(t, img)
	bad, blob := writeLayout(t, img)
	flipByte(t, blob)
	memo := &layers.Memo{}
	if _, err := load(t, "oci:"+good, layers.Options{Memo: memo}); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, "oci:"+bad, layers.Options{Memo: memo}); !errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("damaged copy after a sound one: err = %v, want ErrCorrupt", err)
	}
}

// TestExactChecksUncompressedLayers: an uncompressed local layer is sized
// from its stored size without reading it; --exact reads it and checks its
// digest.
func TestExactChecksUncompressedLayers(t *testing.T) {
	_, raw := tarLayer(t, map[string]int{"a": 30_000})
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(raw, types.OCIUncompressedLayer)})
	if err != nil {
		t.Fatal(err)
	}
	dir, blob := writeLayout(t, img)
	flipByte(t, blob)
	cheap, err := load(t, "oci:"+dir, layers.Options{})
	if err != nil {
		t.Fatalf("without --exact the layer is not read: %v", err)
	}
	if u := cheap.Layers[0].Uncompressed; u.Bytes != int64(len(raw)) {
		t.Errorf("uncompressed %+v, want the stored size %d", u, len(raw))
	}
	if _, err := load(t, "oci:"+dir, layers.Options{Exact: true}); !errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("--exact on a damaged uncompressed layer: err = %v, want ErrCorrupt", err)
	}
}
