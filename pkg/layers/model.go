package layers

import (
	"fmt"
	"math"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Provenance says how a size was obtained. Every size carries one, so no
// figure is ever a silent guess.
type Provenance string

const (
	// Exact: read from a manifest, a tar header, or by counting a stream.
	Exact Provenance = "exact"
	// Annotation: stated by a layer annotation written by the build tool.
	Annotation Provenance = "annotation"
	// GzipTrailer: the gzip ISIZE trailer, fetched with a Range request.
	GzipTrailer Provenance = "gzip-trailer"
	// ZstdHeader: the zstd frame header's content size. No longer
	// produced (a header describes one frame, a layer may hold several;
	// see probe.go), but saved reports may carry it.
	ZstdHeader Provenance = "zstd-header"
	// Estimated: computed, not measured (for example by compressing).
	Estimated Provenance = "estimated"
	// Unknown: not available without work the user did not ask for.
	Unknown Provenance = "unknown"
	// Mixed: a total over layers whose sizes came from different exact or
	// derived methods; no part of it is unknown or estimated.
	Mixed Provenance = "mixed"
)

// Size is a byte count and how it was obtained. Bytes is meaningful unless
// Provenance is Unknown.
type Size struct {
	Bytes      int64
	Provenance Provenance
	// Reason explains a provenance other than Exact, for the report.
	Reason string
}

// Known reports whether Bytes holds a figure.
func (s Size) Known() bool { return s.Provenance != Unknown && s.Provenance != "" }

// Layer is one layer of an image.
type Layer struct {
	Digest      v1.Hash
	DiffID      v1.Hash
	MediaType   types.MediaType
	Annotations map[string]string
	// Compressed is the size of the blob as stored: what a pull transfers.
	Compressed Size
	// Uncompressed is the length of the layer's tar stream (the DiffID stream).
	Uncompressed Size
	// CreatedBy is the build step that made the layer, from config history.
	CreatedBy string
}

// Step is one entry of the config's history, as `docker history` lists
// it: a build step, whether or not it made a layer.
type Step struct {
	// Created is when the step ran; zero when the history does not say.
	Created   time.Time
	CreatedBy string
	Comment   string
	// Empty: the step made no layer (ENV, WORKDIR, CMD…: empty_layer).
	Empty bool
	// Layer is the index in Image.Layers of the layer the step made; -1
	// for an empty step, and for every step when the history's non-empty
	// steps do not number the layers (a history rewritten by hand): then
	// no step is tied to a layer rather than a wrong one.
	Layer int
}

// Image is one image and its sizes.
type Image struct {
	// Ref is the argument as the user gave it; Name the resolved reference.
	Ref, Name string
	Transport string
	// Digest is the manifest digest, zero when the manifest is synthetic.
	Digest v1.Hash
	// ConfigDigest is the image ID as docker shows it.
	ConfigDigest v1.Hash
	// SyntheticManifest: the source stores no manifest (docker-archive);
	// Manifest holds one imgsize made, whose size and digest mean nothing.
	SyntheticManifest bool
	MediaType         types.MediaType
	Platform          *v1.Platform
	// Created is the config's creation time; zero when the config does
	// not say, or the image was recorded in a report.
	Created time.Time
	// Manifest and Config are the raw bytes of those blobs, nil when the
	// image was recorded in a report; ManifestSize and ConfigSize are
	// their sizes in bytes either way (ManifestSize is 0 when the manifest
	// is synthetic: its size means nothing).
	Manifest, Config         []byte
	ManifestSize, ConfigSize int64
	Layers                   []Layer
	// History is the config's history, oldest step first; nil when the
	// source gives none (an engine's metadata, an older report).
	History []Step
	// Compressed and Uncompressed are totals over Layers.
	Compressed, Uncompressed Size
	// Recorded is set when the figures were read from a saved report, not
	// measured from the image in this run.
	Recorded *Recorded
	// ConfigUnknown, when set, says why the config's size is not known
	// (an image read from an engine's metadata, which does not include
	// the config itself); ConfigSize is then 0.
	ConfigUnknown string
}

// Recorded says which report an image's figures were read from.
type Recorded struct {
	// Path is the report file as the user named it; Ref the image's
	// argument in the run that wrote it.
	Path, Ref string
	// Generator and Version name the program that wrote the report, and
	// Time when (zero if it did not say).
	Generator, Version string
	Time               time.Time
}

// maxLayerBytes bounds a believable layer figure: 1 PiB, beyond any real
// layer, and small enough that thousands of them add up within int64. A
// figure above it comes from a corrupt or hostile manifest, annotation or
// report; printing it (or a sum wrapped negative) would be a lie.
const maxLayerBytes = 1 << 50

// believable returns s, or Unknown with the reason when its figure is
// negative or above maxLayerBytes.
func believable(s Size) Size {
	if s.Known() && (s.Bytes < 0 || s.Bytes > maxLayerBytes) {
		return Size{Provenance: Unknown, Reason: fmt.Sprintf("a stated size of %d bytes is not believed: no layer is negative or over 1 PiB", s.Bytes)}
	}
	return s
}

// Total sums sizes, keeping the weakest provenance: one unknown layer makes
// the total unknown, one estimate makes it an estimate. A figure that is
// not believable (see maxLayerBytes) counts as unknown, and a sum that
// would exceed int64 is unknown rather than wrapped.
func Total(sizes []Size) Size {
	var t Size
	t.Provenance = Exact
	provs := map[Provenance]bool{}
	var unknownReason string
	for _, s := range sizes {
		s = believable(s)
		provs[s.Provenance] = true
		switch {
		case !s.Known():
			if unknownReason == "" {
				unknownReason = s.Reason
			}
		case t.Bytes > math.MaxInt64-s.Bytes:
			provs[Unknown] = true
			if unknownReason == "" {
				unknownReason = "the sizes add up to more than 8 EiB"
			}
		default:
			t.Bytes += s.Bytes
		}
	}
	switch {
	case provs[Unknown] || provs[""]:
		t.Provenance = Unknown
		t.Bytes = 0 // a partial sum would read as a total
		t.Reason = unknownReason
	case provs[Estimated]:
		t.Provenance = Estimated
	case len(provs) == 1:
		for p := range provs {
			t.Provenance = p
		}
	case len(provs) > 1:
		t.Provenance = Mixed
	}
	return t
}

// totals sums the layers, each figure made believable first: a manifest
// or an engine may state any size, and the report must not print one no
// layer can have.
func totals(out *Image) {
	cs := make([]Size, len(out.Layers))
	us := make([]Size, len(out.Layers))
	for i := range out.Layers {
		l := &out.Layers[i]
		l.Compressed, l.Uncompressed = believable(l.Compressed), believable(l.Uncompressed)
		cs[i], us[i] = l.Compressed, l.Uncompressed
	}
	out.Compressed, out.Uncompressed = Total(cs), Total(us)
}
