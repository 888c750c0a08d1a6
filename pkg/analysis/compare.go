package analysis

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/layers"
)

// Comparison sets each image against a baseline.
type Comparison struct {
	Base *layers.Image
	// Rows holds one entry per image, the baseline first.
	Rows []Row
}

// Row is one image measured against the baseline.
type Row struct {
	Image        *layers.Image
	Compressed   Delta
	Uncompressed Delta
	// Shared is what of this image the baseline already has (layers with
	// equal digests); Unique is what pulling it costs someone who has the
	// baseline. Each layer digest counts once.
	Shared, Unique Bytes
	// Added are this image's layers absent from the baseline; Removed are
	// the baseline's layers absent from this image.
	Added, Removed []layers.Layer
	SharedLayers   int
}

// Bytes pairs a compressed and an uncompressed figure.
type Bytes struct {
	Compressed, Uncompressed layers.Size
}

// Delta is a size set against the baseline's.
type Delta struct {
	Base, Value layers.Size
	// Known is false when either side is unknown; the fields below are
	// then zero and must not be shown.
	Known bool
	// Bytes is Value − Base.
	Bytes int64
	// Percent is Bytes relative to Base (0 when Base is 0).
	Percent float64
	// Ratio is Base/Value: above 1 the image is that many times smaller,
	// below 1 larger (0 when Value is 0).
	Ratio float64
}

// NewDelta compares value against base.
func NewDelta(base, value layers.Size) Delta {
	d := Delta{Base: base, Value: value}
	if !base.Known() || !value.Known() {
		return d
	}
	d.Known = true
	d.Bytes = value.Bytes - base.Bytes
	if base.Bytes != 0 {
		d.Percent = float64(d.Bytes) / float64(base.Bytes) * 100
	}
	if value.Bytes != 0 {
		d.Ratio = float64(base.Bytes) / float64(value.Bytes)
	}
	return d
}

// Compare measures every image against base. base may also appear in
// images; its row then shows zero deltas.
func Compare(base *layers.Image, images ...*layers.Image) *Comparison {
	c := &Comparison{Base: base}
	for _, img := range append([]*layers.Image{base}, images...) {
		c.Rows = append(c.Rows, compareOne(base, img))
	}
	return c
}

func compareOne(base, img *layers.Image) Row {
	r := Row{
		Image:        img,
		Compressed:   NewDelta(base.Compressed, img.Compressed),
		Uncompressed: NewDelta(base.Uncompressed, img.Uncompressed),
	}
	inBase := digests(base)
	inImg := digests(img)
	var sharedC, sharedU, uniqueC, uniqueU []layers.Size
	seen := map[v1.Hash]bool{}
	for _, l := range img.Layers {
		if seen[l.Digest] {
			continue
		}
		seen[l.Digest] = true
		if inBase[l.Digest] {
			r.SharedLayers++
			sharedC, sharedU = append(sharedC, l.Compressed), append(sharedU, l.Uncompressed)
		} else {
			r.Added = append(r.Added, l)
			uniqueC, uniqueU = append(uniqueC, l.Compressed), append(uniqueU, l.Uncompressed)
		}
	}
	for _, l := range base.Layers {
		if !inImg[l.Digest] {
			r.Removed = append(r.Removed, l)
			inImg[l.Digest] = true // list a repeated layer once
		}
	}
	r.Shared = Bytes{Compressed: layers.Total(sharedC), Uncompressed: layers.Total(sharedU)}
	r.Unique = Bytes{Compressed: layers.Total(uniqueC), Uncompressed: layers.Total(uniqueU)}
	return r
}

func digests(img *layers.Image) map[v1.Hash]bool {
	m := make(map[v1.Hash]bool, len(img.Layers))
	for _, l := range img.Layers {
		m[l.Digest] = true
	}
	return m
}
