package analysis_test

import (
	"math"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

func hash(c byte) v1.Hash {
	h := make([]byte, 64)
	for i := range h {
		h[i] = c
	}
	return v1.Hash{Algorithm: "sha256", Hex: string(h)}
}

func exact(n int64) layers.Size { return layers.Size{Bytes: n, Provenance: layers.Exact} }

func image(ls ...layers.Layer) *layers.Image {
	img := &layers.Image{Layers: ls}
	var c, u []layers.Size
	for _, l := range ls {
		c, u = append(c, l.Compressed), append(u, l.Uncompressed)
	}
	img.Compressed, img.Uncompressed = layers.Total(c), layers.Total(u)
	return img
}

func layer(c byte, comp, uncomp int64) layers.Layer {
	return layers.Layer{Digest: hash(c), Compressed: exact(comp), Uncompressed: exact(uncomp)}
}

func TestCompare(t *testing.T) {
	// The classic case in round numbers: a toolchain image against a
	// binary-only one, sharing nothing.
	single := image(layer('a', 300_000_000, 1_000_000_000), layer('b', 1_000, 2_000), layer('c', 1_000_000, 2_000_000))
	multi := image(layer('d', 1_000_000, 2_000_000))
	// A rebuild that keeps the base layer and changes the top one.
	rebuild := image(layer('a', 300_000_000, 1_000_000_000), layer('e', 500, 1_000))

	c := analysis.Compare(single, multi, rebuild)
	if len(c.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (baseline first)", len(c.Rows))
	}
	base := c.Rows[0]
	if base.Uncompressed.Bytes != 0 || base.Uncompressed.Ratio != 1 || base.SharedLayers != 3 || len(base.Added) != 0 || len(base.Removed) != 0 {
		t.Errorf("baseline row against itself: %+v", base)
	}

	m := c.Rows[1]
	if got, want := m.Uncompressed.Bytes, int64(2_000_000-1_002_002_000); got != want {
		t.Errorf("delta uncompressed %d, want %d", got, want)
	}
	if got, want := m.Uncompressed.Ratio, 1_002_002_000.0/2_000_000; math.Abs(got-want) > 1e-9 {
		t.Errorf("ratio %v, want %v", got, want)
	}
	if got, want := m.Compressed.Percent, (1_000_000.0-301_001_000)/301_001_000*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("percent %v, want %v", got, want)
	}
	if m.SharedLayers != 0 || m.Shared.Compressed.Bytes != 0 || m.Unique.Compressed.Bytes != 1_000_000 {
		t.Errorf("multi shares nothing: shared %+v unique %+v", m.Shared, m.Unique)
	}
	if len(m.Added) != 1 || len(m.Removed) != 3 {
		t.Errorf("multi added %d removed %d, want 1 and 3", len(m.Added), len(m.Removed))
	}

	r := c.Rows[2]
	if r.SharedLayers != 1 || r.Shared.Compressed.Bytes != 300_000_000 || r.Unique.Compressed.Bytes != 500 || r.Shared.Uncompressed.Bytes != 1_000_000_000 {
		t.Errorf("rebuild shared %+v unique %+v", r.Shared, r.Unique)
	}
	if len(r.Added) != 1 || r.Added[0].Digest != hash('e') || len(r.Removed) != 2 {
		t.Errorf("rebuild added %v removed %v", r.Added, r.Removed)
	}
}

func TestCompareUnknownIsNotZero(t *testing.T) {
	known := image(layer('a', 10, 20))
	unknown := image(layers.Layer{Digest: hash('b'), Compressed: exact(5), Uncompressed: layers.Size{Provenance: layers.Unknown}})
	c := analysis.Compare(known, unknown)
	if c.Rows[1].Uncompressed.Known {
		t.Errorf("delta against an unknown size must be unknown: %+v", c.Rows[1].Uncompressed)
	}
	if !c.Rows[1].Compressed.Known || c.Rows[1].Compressed.Bytes != -5 {
		t.Errorf("compressed delta %+v, want -5 known", c.Rows[1].Compressed)
	}
}

func TestDuplicateLayerCountsOnceInSharedAndUnique(t *testing.T) {
	base := image(layer('a', 10, 20))
	dup := image(layer('b', 7, 9), layer('b', 7, 9), layer('a', 10, 20))
	r := analysis.Compare(base, dup).Rows[1]
	if r.Unique.Compressed.Bytes != 7 || r.Shared.Compressed.Bytes != 10 || len(r.Added) != 1 {
		t.Errorf("unique %+v shared %+v added %d", r.Unique, r.Shared, len(r.Added))
	}
}
