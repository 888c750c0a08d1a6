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
	// MatchedBy says which identity decided that a layer of this image is
	// one of the baseline's: MatchDigest or MatchDiffID.
	MatchedBy string
	// Shared is what of this image the baseline already has (layers with
	// the same identity, see MatchedBy); Unique is what pulling it costs
	// someone who has the baseline. Each layer counts once. The sizes are
	// this image's own: where a docker-archive stores its layers
	// uncompressed, their compressed sizes are unknown (or estimated), and
	// so are its shared and unique compressed bytes — never 0.
	Shared, Unique Bytes
	// Added are this image's layers absent from the baseline; Removed are
	// the baseline's layers absent from this image.
	Added, Removed []layers.Layer
	SharedLayers   int
}

// The identities layers are matched by (Row.MatchedBy).
const (
	// MatchDigest: layers are the same when their digests (of the blob as
	// stored, usually compressed) are equal — what a registry dedups on.
	MatchDigest = "digest"
	// MatchDiffID: layers are the same when their diffIDs (the digest of
	// the uncompressed tar) are equal. Used when either image's manifest is
	// synthetic (a docker-archive): docker save stores layers uncompressed,
	// so its layer digests are diffIDs and never equal the compressed
	// digests of the same layers in a registry or OCI layout. A layer whose
	// DiffID is not known is matched by its digest.
	MatchDiffID = "diffID"
)

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
//
// Layers are matched by digest, unless the baseline's or the image's
// manifest is synthetic (a docker-archive): that row matches by diffID (see
// MatchDiffID). Two images that both have real manifests never match by
// diffID, because equal content compressed differently is a different blob
// to pull.
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
	r.MatchedBy = MatchDigest
	key := digestKey
	if base.SyntheticManifest || img.SyntheticManifest {
		r.MatchedBy, key = MatchDiffID, diffIDKey
	}
	inBase := keys(base, key)
	inImg := keys(img, key)
	var sharedC, sharedU, uniqueC, uniqueU []layers.Size
	seen := map[v1.Hash]bool{}
	for _, l := range img.Layers {
		k := key(l)
		if seen[k] {
			continue
		}
		seen[k] = true
		if inBase[k] {
			r.SharedLayers++
			sharedC, sharedU = append(sharedC, l.Compressed), append(sharedU, l.Uncompressed)
		} else {
			r.Added = append(r.Added, l)
			uniqueC, uniqueU = append(uniqueC, l.Compressed), append(uniqueU, l.Uncompressed)
		}
	}
	for _, l := range base.Layers {
		if k := key(l); !inImg[k] {
			r.Removed = append(r.Removed, l)
			inImg[k] = true // list a repeated layer once
		}
	}
	r.Shared = Bytes{Compressed: layers.Total(sharedC), Uncompressed: layers.Total(sharedU)}
	r.Unique = Bytes{Compressed: layers.Total(uniqueC), Uncompressed: layers.Total(uniqueU)}
	return r
}

func digestKey(l layers.Layer) v1.Hash { return l.Digest }

// diffIDKey is l's DiffID, or its digest when the DiffID is not known. The
// two cannot be confused: a digest equals a diffID only when the blob is
// the uncompressed tar itself, and then it is the same content.
func diffIDKey(l layers.Layer) v1.Hash {
	if l.DiffID == (v1.Hash{}) {
		return l.Digest
	}
	return l.DiffID
}

func keys(img *layers.Image, key func(layers.Layer) v1.Hash) map[v1.Hash]bool {
	m := make(map[v1.Hash]bool, len(img.Layers))
	for _, l := range img.Layers {
		m[key(l)] = true
	}
	return m
}
