package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

func newDocument(kind string, opts Options) *schema.Document {
	return &schema.Document{
		SchemaVersion: schema.Version,
		Kind:          kind,
		Generator:     schema.Generator{Name: "imgsize", Version: opts.Version},
		Time:          opts.Time.UTC(),
	}
}

func inspectDocument(imgs []*layers.Image, opts Options) *schema.Document {
	d := newDocument(schema.KindInspect, opts)
	d.Images = make([]schema.ImageRecord, 0, len(imgs))
	for _, img := range imgs {
		d.Images = append(d.Images, imageRecord(img))
	}
	return d
}

func compareDocument(c *analysis.Comparison, opts Options) *schema.Document {
	d := newDocument(schema.KindCompare, opts)
	d.Images = make([]schema.ImageRecord, 0, len(c.Rows))
	for _, r := range c.Rows {
		d.Images = append(d.Images, imageRecord(r.Image))
	}
	d.Comparison = &schema.ComparisonRecord{
		Baseline:   0,
		RatioBasis: ratioBasis(c),
		Rows:       rowRecords(c, func(i int) int { return i }),
	}
	return d
}

// rowRecords describes c's rows, pos giving the position of row i's image
// in the document's images.
func rowRecords(c *analysis.Comparison, pos func(i int) int) []schema.RowRecord {
	out := make([]schema.RowRecord, 0, len(c.Rows))
	for i, r := range c.Rows {
		rec := schema.RowRecord{
			Image:         pos(i),
			MatchedBy:     r.MatchedBy,
			Compressed:    deltaRecord(r.Compressed),
			Uncompressed:  deltaRecord(r.Uncompressed),
			Shared:        bytesRecord(r.Shared),
			Unique:        bytesRecord(r.Unique),
			SharedLayers:  r.SharedLayers,
			AddedLayers:   layerDigests(r.Added),
			RemovedLayers: layerDigests(r.Removed),
		}
		// A row an earlier imgsize matched another way (read back from
		// its report) has no recompressed figures to write.
		if !legacyMatch(r) {
			recompressed := bytesRecord(r.Recompressed)
			rec.Recompressed = &recompressed
			rec.RecompressedLayers = recompressedDigests(r.RecompressedLayers)
		}
		if r.Packages != nil {
			rec.Packages = packageDiffRecord(r.Packages)
		}
		out = append(out, rec)
	}
	return out
}

func imageRecord(img *layers.Image) schema.ImageRecord {
	rec := schema.ImageRecord{
		Ref:               img.Ref,
		Name:              img.Name,
		Transport:         img.Transport,
		Digest:            hashString(img.Digest),
		MediaType:         string(img.MediaType),
		Platform:          platformString(img.Platform),
		ConfigDigest:      hashString(img.ConfigDigest),
		SyntheticManifest: img.SyntheticManifest,
		ConfigBytes:       configBytes(img),
		Compressed:        sizeRecord(img.Compressed),
		Uncompressed:      sizeRecord(img.Uncompressed),
		Layers:            make([]schema.LayerRecord, 0, len(img.Layers)),
	}
	if !img.SyntheticManifest {
		n := img.ManifestSize
		rec.ManifestBytes = &n
	}
	if !img.Created.IsZero() {
		c := img.Created.UTC()
		rec.Created = &c
	}
	for _, s := range img.History {
		sr := schema.StepRecord{CreatedBy: s.CreatedBy, Comment: s.Comment, EmptyLayer: s.Empty}
		if !s.Created.IsZero() {
			t := s.Created.UTC()
			sr.Created = &t
		}
		if s.Layer >= 0 {
			n := s.Layer
			sr.Layer = &n
		}
		rec.History = append(rec.History, sr)
	}
	if r := img.Recorded; r != nil {
		rec.Recorded = &schema.RecordedRecord{
			Path:      r.Path,
			Ref:       r.Ref,
			Generator: schema.Generator{Name: r.Generator, Version: r.Version},
			Time:      r.Time.UTC(),
		}
	}
	for i, l := range img.Layers {
		rec.Layers = append(rec.Layers, schema.LayerRecord{
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

func sizeRecord(s layers.Size) schema.SizeRecord {
	rec := schema.SizeRecord{Provenance: string(s.Provenance), Reason: s.Reason}
	if rec.Provenance == "" {
		rec.Provenance = string(layers.Unknown)
	}
	if s.Known() {
		b := s.Bytes
		rec.Bytes = &b
	}
	return rec
}

func deltaRecord(d analysis.Delta) *schema.DeltaRecord {
	if !d.Known {
		return nil
	}
	rec := &schema.DeltaRecord{
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

func bytesRecord(b analysis.Bytes) schema.BytesRecord {
	return schema.BytesRecord{Compressed: sizeRecord(b.Compressed), Uncompressed: sizeRecord(b.Uncompressed)}
}

func layerDigests(ls []layers.Layer) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, hashString(l.Digest))
	}
	return out
}

func recompressedDigests(ps []analysis.RecompressedLayer) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, hashString(p.Layer.Digest))
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

// writeJSON writes d indented. Every string keeps its value; jsonSafe
// escapes the runes a terminal would act on.
func writeJSON(w io.Writer, d *schema.Document) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	if _, err := w.Write(jsonSafe(buf.Bytes())); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// configBytes is the config's size, nil when it is not known.
func configBytes(img *layers.Image) *int64 {
	if img.ConfigUnknown != "" {
		return nil
	}
	n := img.ConfigSize
	return &n
}
