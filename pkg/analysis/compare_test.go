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

func unknownSize() layers.Size {
	return layers.Size{Provenance: layers.Unknown, Reason: "stored uncompressed"}
}

// registryImage has gzip layers: digests of the compressed blobs, diffIDs
// of their content ('1' and '2').
func registryImage() *layers.Image {
	return image(
		layers.Layer{Digest: hash('a'), DiffID: hash('1'), Compressed: exact(300), Uncompressed: exact(1_000)},
		layers.Layer{Digest: hash('b'), DiffID: hash('2'), Compressed: exact(30), Uncompressed: exact(100)},
	)
}

// archiveImage is the same image as docker save writes it: the layers are
// stored uncompressed, so each digest is the diffID, the compressed size is
// unknown, and the manifest is one imgsize made.
func archiveImage() *layers.Image {
	img := image(
		layers.Layer{Digest: hash('1'), DiffID: hash('1'), Compressed: unknownSize(), Uncompressed: exact(1_000)},
		layers.Layer{Digest: hash('2'), DiffID: hash('2'), Compressed: unknownSize(), Uncompressed: exact(100)},
	)
	img.SyntheticManifest = true
	return img
}

func TestCompareDockerArchiveIsRecompressed(t *testing.T) {
	t.Run("registry baseline", func(t *testing.T) {
		c := analysis.Compare(registryImage(), archiveImage())
		if b := c.Rows[0]; b.SharedLayers != 2 || len(b.RecompressedLayers) != 0 {
			t.Errorf("baseline row against itself: shared %d, recompressed %d; want 2, 0", b.SharedLayers, len(b.RecompressedLayers))
		}
		r := c.Rows[1]
		if r.SharedLayers != 0 || len(r.RecompressedLayers) != 2 || len(r.Added) != 0 || len(r.Removed) != 0 {
			t.Errorf("shared %d, recompressed %d, added %d, removed %d; want 0, 2, 0, 0", r.SharedLayers, len(r.RecompressedLayers), len(r.Added), len(r.Removed))
		}
		for i, p := range r.RecompressedLayers {
			if p.Layer.Digest != archiveImage().Layers[i].Digest || p.Base.Digest != registryImage().Layers[i].Digest {
				t.Errorf("pair %d: %s with baseline %s", i, p.Layer.Digest, p.Base.Digest)
			}
		}
		if r.Recompressed.Uncompressed != exact(1_100) {
			t.Errorf("recompressed uncompressed %+v, want exact 1100", r.Recompressed.Uncompressed)
		}
		// The archive's layers have no compressed size: what it holds of
		// the baseline's content is unknown in compressed bytes, never 0
		// and never the registry's.
		if r.Recompressed.Compressed.Known() {
			t.Errorf("recompressed compressed %+v, want unknown", r.Recompressed.Compressed)
		}
		if r.Shared.Compressed != exact(0) || r.Unique.Compressed != exact(0) || r.Unique.Uncompressed != exact(0) {
			t.Errorf("shared %+v unique %+v, want exact 0: no blob is the baseline's, no content new", r.Shared, r.Unique)
		}
		if r.Compressed.Known {
			t.Errorf("compressed delta against an archive %+v, want unknown", r.Compressed)
		}
		if !r.Uncompressed.Known || r.Uncompressed.Bytes != 0 {
			t.Errorf("uncompressed delta %+v, want known 0", r.Uncompressed)
		}
	})

	t.Run("archive baseline", func(t *testing.T) {
		c := analysis.Compare(archiveImage(), registryImage())
		if b := c.Rows[0]; b.SharedLayers != 2 || len(b.RecompressedLayers) != 0 {
			t.Errorf("archive baseline against itself: shared %d, recompressed %d; want 2, 0", b.SharedLayers, len(b.RecompressedLayers))
		}
		r := c.Rows[1]
		if len(r.RecompressedLayers) != 2 || r.SharedLayers != 0 || len(r.Added) != 0 || len(r.Removed) != 0 {
			t.Errorf("recompressed %d, shared %d, added %d, removed %d; want 2, 0, 0, 0", len(r.RecompressedLayers), r.SharedLayers, len(r.Added), len(r.Removed))
		}
		// The registry image's own compressed sizes: 300 + 30, all of it
		// to pull for someone who holds the archive's content as blobs.
		if r.Recompressed.Compressed != exact(330) {
			t.Errorf("recompressed compressed %+v, want exact 330", r.Recompressed.Compressed)
		}
	})

	t.Run("unknown diffID: matched by digest", func(t *testing.T) {
		// Layer 1 was pushed uncompressed (its digest is its content's) and
		// layer 2 gzipped; neither diffID is known, as when a config lists
		// the wrong number of them.
		reg := image(
			layers.Layer{Digest: hash('1'), Compressed: exact(1_000), Uncompressed: exact(1_000)},
			layers.Layer{Digest: hash('b'), Compressed: exact(30), Uncompressed: exact(100)},
		)
		r := analysis.Compare(archiveImage(), reg).Rows[1]
		if r.SharedLayers != 1 || len(r.RecompressedLayers) != 0 {
			t.Errorf("shared %d, recompressed %d; want 1, 0", r.SharedLayers, len(r.RecompressedLayers))
		}
		if len(r.Added) != 1 || r.Added[0].Digest != hash('b') || len(r.Removed) != 1 || r.Removed[0].Digest != hash('2') {
			t.Errorf("added %v removed %v, want b and 2", r.Added, r.Removed)
		}
	})

	t.Run("unknown diffID of an uncompressed blob matches a diffID", func(t *testing.T) {
		// The registry's layer 1 is the uncompressed tar whose diffID the
		// config does not list: its digest is its content's, the
		// baseline's layer a's diffID.
		reg := image(layers.Layer{Digest: hash('1'), Compressed: exact(1_000), Uncompressed: exact(1_000)})
		r := analysis.Compare(registryImage(), reg).Rows[1]
		if len(r.RecompressedLayers) != 1 || r.RecompressedLayers[0].Base.Digest != hash('a') || len(r.Removed) != 1 || r.Removed[0].Digest != hash('b') {
			t.Errorf("recompressed %v removed %v; want 1 with a, and b removed", r.RecompressedLayers, r.Removed)
		}
	})
}

// The same image compressed another way (say zstd): equal diffIDs,
// different blobs. No content is new, yet pulling it costs every byte
// again.
func TestCompareRecompressed(t *testing.T) {
	zstd := image(
		layers.Layer{Digest: hash('c'), DiffID: hash('1'), Compressed: exact(250), Uncompressed: exact(1_000)},
		layers.Layer{Digest: hash('d'), DiffID: hash('2'), Compressed: exact(25), Uncompressed: exact(100)},
	)
	r := analysis.Compare(registryImage(), zstd).Rows[1]
	if r.SharedLayers != 0 || len(r.RecompressedLayers) != 2 || len(r.Added) != 0 || len(r.Removed) != 0 {
		t.Errorf("shared %d, recompressed %d, added %d, removed %d; want 0, 2, 0, 0", r.SharedLayers, len(r.RecompressedLayers), len(r.Added), len(r.Removed))
	}
	if r.Recompressed.Compressed != exact(275) || r.Recompressed.Uncompressed != exact(1_100) {
		t.Errorf("recompressed %+v, want 275 and 1100", r.Recompressed)
	}
	if r.Unique.Compressed != exact(0) || r.Shared.Compressed != exact(0) {
		t.Errorf("unique %+v shared %+v, want 0 and 0", r.Unique.Compressed, r.Shared.Compressed)
	}

	// A rebuild of the zstd image that keeps layer c's blob, recompresses
	// layer 2 (digest e) and adds new content (f, diffID 3); the
	// baseline's layer a is then shared by blob, b only by content.
	mixed := image(
		layers.Layer{Digest: hash('a'), DiffID: hash('1'), Compressed: exact(300), Uncompressed: exact(1_000)},
		layers.Layer{Digest: hash('e'), DiffID: hash('2'), Compressed: exact(20), Uncompressed: exact(100)},
		layers.Layer{Digest: hash('f'), DiffID: hash('3'), Compressed: exact(7), Uncompressed: exact(9)},
		layers.Layer{Digest: hash('e'), DiffID: hash('2'), Compressed: exact(20), Uncompressed: exact(100)},
	)
	r = analysis.Compare(registryImage(), mixed).Rows[1]
	if r.SharedLayers != 1 || r.Shared.Compressed != exact(300) {
		t.Errorf("shared %d layers, %+v; want 1, 300", r.SharedLayers, r.Shared.Compressed)
	}
	if len(r.RecompressedLayers) != 1 || r.RecompressedLayers[0].Layer.Digest != hash('e') || r.RecompressedLayers[0].Base.Digest != hash('b') || r.Recompressed.Compressed != exact(20) {
		t.Errorf("recompressed %+v (%+v); want e for b, 20 bytes once", r.RecompressedLayers, r.Recompressed.Compressed)
	}
	if len(r.Added) != 1 || r.Added[0].Digest != hash('f') || r.Unique.Compressed != exact(7) || len(r.Removed) != 0 {
		t.Errorf("added %v (%+v) removed %v; want f, 7 bytes, none removed", r.Added, r.Unique.Compressed, r.Removed)
	}
}
