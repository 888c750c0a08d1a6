package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
)

// SchemaVersion is the version of the JSON document this package writes and
// reads. It changes only when a field is removed or changes meaning; new
// fields may appear within a version.
const SchemaVersion = 1

// The kinds of JSON document.
const (
	KindInspect = "inspect"
	KindCompare = "compare"
)

// Document is imgsize's JSON report. It is a DTO of its own, not the model:
// its field names and meanings are stable within a SchemaVersion. Bytes are
// always integers; a size that is not known is null, never 0.
type Document struct {
	SchemaVersion int       `json:"schemaVersion"`
	Kind          string    `json:"kind"`
	Generator     Generator `json:"generator"`
	// Images are the images reported. In a comparison, one per row, in the
	// order of Comparison.Rows.
	Images []ImageRecord `json:"images"`
	// Comparison is set when Kind is KindCompare.
	Comparison *ComparisonRecord `json:"comparison,omitempty"`
}

// Generator names the program that wrote a Document.
type Generator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SizeRecord is a byte count and how it was obtained (see layers.Provenance).
type SizeRecord struct {
	// Bytes is null when Provenance is "unknown".
	Bytes      *int64 `json:"bytes"`
	Provenance string `json:"provenance"`
	// Reason explains a provenance other than "exact", when known.
	Reason string `json:"reason,omitempty"`
}

// ImageRecord is one image and its sizes.
//
// A field that does not exist for an image is omitted, while a size that
// exists but is not known is null: when the source stores no manifest
// (docker-archive), SyntheticManifest is true and the manifest's Digest,
// MediaType and ManifestBytes are all omitted — the manifest imgsize made
// to read the archive has a digest, media type and size no registry would
// show. Every other image has all three.
type ImageRecord struct {
	// Ref is the argument as the user gave it; Name the resolved reference.
	Ref       string `json:"ref"`
	Name      string `json:"name"`
	Transport string `json:"transport"`
	// Digest is the manifest digest; omitted when SyntheticManifest.
	Digest string `json:"digest,omitempty"`
	// ConfigDigest is the image ID as docker shows it.
	ConfigDigest string `json:"configDigest"`
	// SyntheticManifest: the source stores no manifest (docker-archive).
	SyntheticManifest bool `json:"syntheticManifest,omitempty"`
	// MediaType is the manifest's media type; omitted when
	// SyntheticManifest.
	MediaType string `json:"mediaType,omitempty"`
	// Platform is os/arch[/variant][:osversion], empty when not known.
	Platform string `json:"platform,omitempty"`
	// ManifestBytes is the manifest's size; omitted when SyntheticManifest.
	ManifestBytes *int64 `json:"manifestBytes,omitempty"`
	ConfigBytes   int64  `json:"configBytes"`
	// Compressed and Uncompressed are totals over Layers.
	Compressed   SizeRecord    `json:"compressed"`
	Uncompressed SizeRecord    `json:"uncompressed"`
	Layers       []LayerRecord `json:"layers"`
}

// LayerRecord is one layer of an image.
type LayerRecord struct {
	// Index is the layer's position in the manifest, 0 being the base.
	Index        int               `json:"index"`
	Digest       string            `json:"digest"`
	DiffID       string            `json:"diffID"`
	MediaType    string            `json:"mediaType"`
	Compressed   SizeRecord        `json:"compressed"`
	Uncompressed SizeRecord        `json:"uncompressed"`
	CreatedBy    string            `json:"createdBy"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// ComparisonRecord sets each image against a baseline.
type ComparisonRecord struct {
	// Baseline is the index in Document.Images of the baseline image.
	Baseline int `json:"baseline"`
	// RatioBasis says which size the table's ratio column uses:
	// "uncompressed" when every image's uncompressed size is known, else
	// "compressed".
	RatioBasis string      `json:"ratioBasis"`
	Rows       []RowRecord `json:"rows"`
}

// RowRecord is one image measured against the baseline.
type RowRecord struct {
	// Image is the index in Document.Images.
	Image int `json:"image"`
	// Compressed and Uncompressed are null when either side is unknown.
	Compressed   *DeltaRecord `json:"compressed"`
	Uncompressed *DeltaRecord `json:"uncompressed"`
	// MatchedBy says when a layer of this image counts as one of the
	// baseline's: "digest" when their digests are equal, "diffID" when
	// their diffIDs are (the digest of the uncompressed tar; by digest
	// where a layer's diffID is unknown). Rows with a docker-archive on
	// either side use "diffID": docker save stores layers uncompressed, so
	// their digests never equal a registry's compressed ones. Reports
	// written before this field existed matched by digest; DecodeJSON reads
	// its absence as "digest".
	MatchedBy string `json:"matchedBy"`
	// Shared is what of this image the baseline already has (layers the
	// same by MatchedBy); Unique what pulling it costs someone who has the
	// baseline. Both are in this image's own sizes: a docker-archive's
	// compressed bytes are unknown (null) unless estimated.
	Shared       BytesRecord `json:"shared"`
	Unique       BytesRecord `json:"unique"`
	SharedLayers int         `json:"sharedLayers"`
	// AddedLayers are digests of this image's layers the baseline lacks;
	// RemovedLayers of the baseline's layers this image lacks.
	AddedLayers   []string `json:"addedLayers"`
	RemovedLayers []string `json:"removedLayers"`
}

// DeltaRecord is a size set against the baseline's.
type DeltaRecord struct {
	// DeltaBytes is image − baseline.
	DeltaBytes int64 `json:"deltaBytes"`
	// DeltaPercent is DeltaBytes relative to the baseline; null when the
	// baseline is 0.
	DeltaPercent *float64 `json:"deltaPercent"`
	// Ratio is baseline ÷ image: above 1 the image is that many times
	// smaller. Null when the image is 0.
	Ratio *float64 `json:"ratio"`
	// Provenance is the weaker of the two sizes' provenances.
	Provenance string `json:"provenance"`
}

// BytesRecord pairs a compressed and an uncompressed figure.
type BytesRecord struct {
	Compressed   SizeRecord `json:"compressed"`
	Uncompressed SizeRecord `json:"uncompressed"`
}

func newGenerator(opts Options) Generator {
	return Generator{Name: "imgsize", Version: opts.Version}
}

func inspectDocument(imgs []*layers.Image, opts Options) *Document {
	d := &Document{
		SchemaVersion: SchemaVersion,
		Kind:          KindInspect,
		Generator:     newGenerator(opts),
		Images:        make([]ImageRecord, 0, len(imgs)),
	}
	for _, img := range imgs {
		d.Images = append(d.Images, imageRecord(img))
	}
	return d
}

func compareDocument(c *analysis.Comparison, opts Options) *Document {
	d := &Document{
		SchemaVersion: SchemaVersion,
		Kind:          KindCompare,
		Generator:     newGenerator(opts),
		Images:        make([]ImageRecord, 0, len(c.Rows)),
		Comparison: &ComparisonRecord{
			Baseline:   0,
			RatioBasis: ratioBasis(c),
			Rows:       make([]RowRecord, 0, len(c.Rows)),
		},
	}
	for i, r := range c.Rows {
		d.Images = append(d.Images, imageRecord(r.Image))
		d.Comparison.Rows = append(d.Comparison.Rows, RowRecord{
			Image:         i,
			MatchedBy:     r.MatchedBy,
			Compressed:    deltaRecord(r.Compressed),
			Uncompressed:  deltaRecord(r.Uncompressed),
			Shared:        bytesRecord(r.Shared),
			Unique:        bytesRecord(r.Unique),
			SharedLayers:  r.SharedLayers,
			AddedLayers:   layerDigests(r.Added),
			RemovedLayers: layerDigests(r.Removed),
		})
	}
	return d
}

func imageRecord(img *layers.Image) ImageRecord {
	rec := ImageRecord{
		Ref:               img.Ref,
		Name:              img.Name,
		Transport:         img.Transport,
		Digest:            hashString(img.Digest),
		MediaType:         string(img.MediaType),
		Platform:          platformString(img.Platform),
		ConfigDigest:      hashString(img.ConfigDigest),
		SyntheticManifest: img.SyntheticManifest,
		ConfigBytes:       int64(len(img.Config)),
		Compressed:        sizeRecord(img.Compressed),
		Uncompressed:      sizeRecord(img.Uncompressed),
		Layers:            make([]LayerRecord, 0, len(img.Layers)),
	}
	if !img.SyntheticManifest {
		n := int64(len(img.Manifest))
		rec.ManifestBytes = &n
	}
	for i, l := range img.Layers {
		rec.Layers = append(rec.Layers, LayerRecord{
			Index:        i,
			Digest:       hashString(l.Digest),
			DiffID:       hashString(l.DiffID),
			MediaType:    string(l.MediaType),
			Compressed:   sizeRecord(l.Compressed),
			Uncompressed: sizeRecord(l.Uncompressed),
			CreatedBy:    l.CreatedBy,
			Annotations:  l.Annotations,
		})
	}
	return rec
}

func sizeRecord(s layers.Size) SizeRecord {
	rec := SizeRecord{Provenance: string(s.Provenance), Reason: s.Reason}
	if rec.Provenance == "" {
		rec.Provenance = string(layers.Unknown)
	}
	if s.Known() {
		b := s.Bytes
		rec.Bytes = &b
	}
	return rec
}

func deltaRecord(d analysis.Delta) *DeltaRecord {
	if !d.Known {
		return nil
	}
	rec := &DeltaRecord{
		DeltaBytes: d.Bytes,
		Provenance: string(combine(d.Base, d.Value).Provenance),
	}
	if d.Base.Bytes != 0 {
		p := d.Percent
		rec.DeltaPercent = &p
	}
	if d.Value.Bytes != 0 {
		r := d.Ratio
		rec.Ratio = &r
	}
	return rec
}

func bytesRecord(b analysis.Bytes) BytesRecord {
	return BytesRecord{Compressed: sizeRecord(b.Compressed), Uncompressed: sizeRecord(b.Uncompressed)}
}

func layerDigests(ls []layers.Layer) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, hashString(l.Digest))
	}
	return out
}

// hashString is h as "sha256:…", or "" for the zero hash.
func hashString(h v1.Hash) string {
	if h == (v1.Hash{}) {
		return ""
	}
	return h.String()
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return ""
	}
	return p.String()
}

func writeJSON(w io.Writer, d *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// DecodeJSON reads a JSON report written by imgsize (with --format json) and
// checks it: a schema version this package does not read is an error
// wrapping errdefs.ErrUnsupported; malformed or inconsistent content one
// wrapping errdefs.ErrCorrupt.
func DecodeJSON(r io.Reader) (*Document, error) {
	dec := json.NewDecoder(r)
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, errors.New("reading JSON report: unexpected data after the document"))
	}
	if d.SchemaVersion != SchemaVersion {
		if d.SchemaVersion == 0 {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, errors.New("reading JSON report: no schemaVersion; not an imgsize report"))
		}
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("reading JSON report: schema version %d is not supported (this imgsize reads version %d)", d.SchemaVersion, SchemaVersion))
	}
	if err := d.validate(); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if d.Comparison != nil {
		for i := range d.Comparison.Rows {
			if d.Comparison.Rows[i].MatchedBy == "" {
				// Written before rows said; imgsize then matched by digest.
				d.Comparison.Rows[i].MatchedBy = analysis.MatchDigest
			}
		}
	}
	return &d, nil
}

func (d *Document) validate() error {
	switch d.Kind {
	case KindInspect:
		if d.Comparison != nil {
			return errors.New(`kind "inspect" with a comparison`)
		}
	case KindCompare:
		if d.Comparison == nil {
			return errors.New(`kind "compare" without a comparison`)
		}
	default:
		return fmt.Errorf("unknown kind %q", d.Kind)
	}
	for i, img := range d.Images {
		if img.SyntheticManifest && (img.Digest != "" || img.MediaType != "" || img.ManifestBytes != nil) {
			return fmt.Errorf("image %d: a synthetic manifest with a digest, media type or size", i)
		}
		if img.ManifestBytes != nil && *img.ManifestBytes < 0 {
			return fmt.Errorf("image %d: negative manifest size %d", i, *img.ManifestBytes)
		}
		if err := img.Compressed.validate(); err != nil {
			return fmt.Errorf("image %d compressed: %w", i, err)
		}
		if err := img.Uncompressed.validate(); err != nil {
			return fmt.Errorf("image %d uncompressed: %w", i, err)
		}
		for j, l := range img.Layers {
			if err := l.Compressed.validate(); err != nil {
				return fmt.Errorf("image %d layer %d compressed: %w", i, j, err)
			}
			if err := l.Uncompressed.validate(); err != nil {
				return fmt.Errorf("image %d layer %d uncompressed: %w", i, j, err)
			}
		}
	}
	if c := d.Comparison; c != nil {
		if c.Baseline < 0 || c.Baseline >= len(d.Images) {
			return fmt.Errorf("comparison baseline %d is not an image index", c.Baseline)
		}
		for i, r := range c.Rows {
			if r.Image < 0 || r.Image >= len(d.Images) {
				return fmt.Errorf("comparison row %d: image %d is not an image index", i, r.Image)
			}
			switch r.MatchedBy {
			case "", analysis.MatchDigest, analysis.MatchDiffID:
			default:
				return fmt.Errorf("comparison row %d: unknown matchedBy %q", i, r.MatchedBy)
			}
			for _, s := range []struct {
				what string
				size SizeRecord
			}{
				{"shared compressed", r.Shared.Compressed},
				{"shared uncompressed", r.Shared.Uncompressed},
				{"unique compressed", r.Unique.Compressed},
				{"unique uncompressed", r.Unique.Uncompressed},
			} {
				if err := s.size.validate(); err != nil {
					return fmt.Errorf("comparison row %d %s: %w", i, s.what, err)
				}
			}
		}
	}
	return nil
}

func (s SizeRecord) validate() error {
	switch layers.Provenance(s.Provenance) {
	case layers.Unknown:
		if s.Bytes != nil {
			return errors.New("unknown size with bytes")
		}
		return nil
	case layers.Exact, layers.Annotation, layers.GzipTrailer, layers.ZstdHeader, layers.Estimated, layers.Mixed:
		if s.Bytes == nil {
			return fmt.Errorf("%s size without bytes", s.Provenance)
		}
		if *s.Bytes < 0 {
			return fmt.Errorf("negative size %d", *s.Bytes)
		}
		return nil
	default:
		return fmt.Errorf("unknown provenance %q", s.Provenance)
	}
}
