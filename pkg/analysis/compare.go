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
//
// Each layer of the image (each distinct blob, by digest, once) is in
// exactly one of three classes, on every transport:
//
//   - shared: its digest is one of the baseline's layer digests. It is the
//     same blob: a registry stores it once, and someone who holds the
//     baseline pulls nothing for it.
//   - recompressed: its digest is not the baseline's, but its diffID (the
//     digest of its uncompressed tar) is. It is the same content stored
//     as another blob: compressed another way (gzip and zstd, another
//     gzip level or writer), or stored uncompressed (a docker-archive,
//     whose layer digests are diffIDs). It is not new content, but a
//     registry stores it again and someone who holds the baseline pulls
//     it again.
//   - unique: neither. Content the baseline lacks.
//
// So, for someone who holds the baseline, pulling the image transfers
// Recompressed.Compressed + Unique.Compressed, and the content it adds is
// Unique alone. A layer whose diffID is not known is matched by its digest
// alone, unless its blob is the uncompressed tar (its digest is then its
// content's, see contentKey).
type Row struct {
	Image        *layers.Image
	Compressed   Delta
	Uncompressed Delta
	// MatchedBy says how the layers were matched: MatchDigestDiffID, as
	// Compare does. A row rebuilt from a report written by an earlier
	// imgsize may carry MatchDigest or MatchDiffID instead, whose figures
	// mean what they meant then (see those constants).
	MatchedBy string
	// Shared, Recompressed and Unique sum the sizes of the image's layers
	// in each class, each blob once. The sizes are this image's own: where
	// a docker-archive stores its layers uncompressed, their compressed
	// sizes are unknown (or estimated), and so are the figures they add
	// to — never 0.
	Shared, Recompressed, Unique Bytes
	// SharedLayers counts the shared layers.
	SharedLayers int
	// RecompressedLayers are the recompressed layers, in the image's
	// order, each with the baseline layer of the same content.
	RecompressedLayers []RecompressedLayer
	// Added are the image's unique layers; Removed are the baseline's
	// layers whose blob and content the image both lack. A recompressed
	// layer is in neither list, nor is the baseline layer it matches.
	Added, Removed []layers.Layer
	// Packages sets the image's packages against the baseline's, when the
	// caller read both (compare --packages); nil otherwise, and for the
	// baseline's own row.
	Packages *PackageDiff
}

// The ways layers are matched to the baseline's (Row.MatchedBy).
const (
	// MatchDigestDiffID: by digest, then by diffID, as described on Row.
	MatchDigestDiffID = "digest+diffID"
	// MatchDigest: an earlier imgsize matched layers by digest alone; a
	// recompressed layer counted as unique (and added).
	MatchDigest = "digest"
	// MatchDiffID: an earlier imgsize matched layers by diffID alone in
	// rows with a docker-archive on either side; a recompressed layer
	// counted as shared.
	MatchDiffID = "diffID"
)

// RecompressedLayer is a layer of the image that holds the same content as
// a layer of the baseline (equal diffIDs) in a different blob (different
// digests).
type RecompressedLayer struct {
	Layer, Base layers.Layer
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
// images; its row then shows zero deltas and every layer shared.
//
// Layers are matched the same way whatever the images' transports (see
// Row): by digest first, then by diffID. So the same image pushed as gzip
// and as zstd, or a docker-archive beside its registry copy, has no unique
// layer against the other: every layer is recompressed.
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
		MatchedBy:    MatchDigestDiffID,
		Compressed:   NewDelta(base.Compressed, img.Compressed),
		Uncompressed: NewDelta(base.Uncompressed, img.Uncompressed),
	}
	baseBlobs, baseContent := index(base)
	imgBlobs, imgContent := index(img)
	var sharedC, sharedU, recompC, recompU, uniqueC, uniqueU []layers.Size
	seen := map[v1.Hash]bool{}
	for _, l := range img.Layers {
		if seen[l.Digest] {
			continue
		}
		seen[l.Digest] = true
		if _, ok := baseBlobs[l.Digest]; ok {
			r.SharedLayers++
			sharedC, sharedU = append(sharedC, l.Compressed), append(sharedU, l.Uncompressed)
		} else if b, ok := baseContent[contentKey(l)]; ok {
			r.RecompressedLayers = append(r.RecompressedLayers, RecompressedLayer{Layer: l, Base: b})
			recompC, recompU = append(recompC, l.Compressed), append(recompU, l.Uncompressed)
		} else {
			r.Added = append(r.Added, l)
			uniqueC, uniqueU = append(uniqueC, l.Compressed), append(uniqueU, l.Uncompressed)
		}
	}
	listed := map[v1.Hash]bool{}
	for _, l := range base.Layers {
		_, blob := imgBlobs[l.Digest]
		_, content := imgContent[contentKey(l)]
		if !blob && !content && !listed[l.Digest] {
			r.Removed = append(r.Removed, l)
			listed[l.Digest] = true // list a repeated layer once
		}
	}
	r.Shared = Bytes{Compressed: layers.Total(sharedC), Uncompressed: layers.Total(sharedU)}
	r.Recompressed = Bytes{Compressed: layers.Total(recompC), Uncompressed: layers.Total(recompU)}
	r.Unique = Bytes{Compressed: layers.Total(uniqueC), Uncompressed: layers.Total(uniqueU)}
	return r
}

// contentKey identifies a layer's content: its DiffID, or its digest when
// the DiffID is not known. The two cannot be confused: a digest equals a
// diffID only when the blob is the uncompressed tar itself, and then it is
// the same content.
func contentKey(l layers.Layer) v1.Hash {
	if l.DiffID == (v1.Hash{}) {
		return l.Digest
	}
	return l.DiffID
}

// index maps img's layers by digest and by content key, the first layer
// of each kept.
func index(img *layers.Image) (blobs, content map[v1.Hash]layers.Layer) {
	blobs = make(map[v1.Hash]layers.Layer, len(img.Layers))
	content = make(map[v1.Hash]layers.Layer, len(img.Layers))
	for _, l := range img.Layers {
		if _, ok := blobs[l.Digest]; !ok {
			blobs[l.Digest] = l
		}
		if _, ok := content[contentKey(l)]; !ok {
			content[contentKey(l)] = l
		}
	}
	return blobs, content
}
