package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Decode reads a JSON report written by imgsize and checks it: a schema
// version this package does not read is an error wrapping
// errdefs.ErrUnsupported; malformed or inconsistent content one wrapping
// errdefs.ErrCorrupt.
func Decode(r io.Reader) (*Document, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading JSON report: %w", err)
	}
	// The version decides how the rest reads: a newer report may have
	// changed a field's type, which must read as "too new", not "corrupt".
	var head struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if head.SchemaVersion != Version && head.SchemaVersion != 0 {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("reading JSON report: schema version %d is not supported (this imgsize reads version %d; a newer imgsize wrote it)", head.SchemaVersion, Version))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, errors.New("reading JSON report: unexpected data after the document"))
	}
	if d.SchemaVersion != Version {
		if d.SchemaVersion == 0 {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, errors.New("reading JSON report: no schemaVersion; not an imgsize report"))
		}
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("reading JSON report: schema version %d is not supported (this imgsize reads version %d; a newer imgsize wrote it)", d.SchemaVersion, Version))
	}
	if err := d.validate(); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if d.Comparison != nil {
		for i := range d.Comparison.Rows {
			if d.Comparison.Rows[i].MatchedBy == "" {
				// Written before rows said; imgsize then matched by digest.
				d.Comparison.Rows[i].MatchedBy = MatchDigest
			}
		}
	}
	return &d, nil
}

func (d *Document) validate() error {
	if !slices.Contains(Kinds, d.Kind) {
		return fmt.Errorf("unknown kind %q", d.Kind)
	}
	// Each kind but inspect has its record, and no other kind's.
	for _, r := range []struct {
		kind, name string
		present    bool
	}{
		{KindCompare, "comparison", d.Comparison != nil},
		{KindCheck, "check", d.Check != nil},
		{KindFiles, "files", d.Files != nil},
		{KindDiff, "diff", d.Diff != nil},
	} {
		switch {
		case r.kind == d.Kind && !r.present:
			return fmt.Errorf("kind %q without a %s record", d.Kind, r.name)
		case r.kind != d.Kind && r.present:
			return fmt.Errorf("kind %q with a %s record", d.Kind, r.name)
		}
	}
	for i, img := range d.Images {
		if err := img.validate(); err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
	}
	if c := d.Comparison; c != nil {
		if err := c.validate(len(d.Images)); err != nil {
			return err
		}
	}
	if c := d.Check; c != nil {
		if err := c.validate(len(d.Images)); err != nil {
			return err
		}
	}
	if f := d.Files; f != nil {
		if err := f.validate(d.Images); err != nil {
			return fmt.Errorf("files: %w", err)
		}
	}
	if df := d.Diff; df != nil {
		if err := df.validate(d.Images); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	}
	return nil
}

func (img *ImageRecord) validate() error {
	if img.SyntheticManifest && (img.Digest != "" || img.MediaType != "" || img.ManifestBytes != nil) {
		return errors.New("a synthetic manifest with a digest, media type or size")
	}
	if img.ManifestBytes != nil && *img.ManifestBytes < 0 {
		return fmt.Errorf("negative manifest size %d", *img.ManifestBytes)
	}
	if img.ConfigBytes < 0 {
		return fmt.Errorf("negative config size %d", img.ConfigBytes)
	}
	if err := img.Compressed.validate(); err != nil {
		return fmt.Errorf("compressed: %w", err)
	}
	if err := img.Uncompressed.validate(); err != nil {
		return fmt.Errorf("uncompressed: %w", err)
	}
	for j, l := range img.Layers {
		if err := l.Compressed.validate(); err != nil {
			return fmt.Errorf("layer %d compressed: %w", j, err)
		}
		if err := l.Uncompressed.validate(); err != nil {
			return fmt.Errorf("layer %d uncompressed: %w", j, err)
		}
	}
	return nil
}

func (c *ComparisonRecord) validate(images int) error {
	if c.Baseline < 0 || c.Baseline >= images {
		return fmt.Errorf("comparison baseline %d is not an image index", c.Baseline)
	}
	for i, r := range c.Rows {
		if r.Image < 0 || r.Image >= images {
			return fmt.Errorf("comparison row %d: image %d is not an image index", i, r.Image)
		}
		switch r.MatchedBy {
		case "", MatchDigest, MatchDiffID:
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
	return nil
}

func (c *CheckRecord) validate(images int) error {
	index := func(p *int) bool { return p == nil || (*p >= 0 && *p < images) }
	for i, r := range c.Results {
		if !index(r.Image) || !index(r.Baseline) {
			return fmt.Errorf("check result %d: image or baseline is not an image index", i)
		}
		for j, b := range r.Budgets {
			if err := b.validate(); err != nil {
				return fmt.Errorf("check result %d budget %d: %w", i, j, err)
			}
		}
	}
	return nil
}

func (b *BudgetRecord) validate() error {
	if !slices.Contains(Budgets, b.Budget) {
		return fmt.Errorf("unknown budget %q", b.Budget)
	}
	if !slices.Contains(Units, b.Unit) {
		return fmt.Errorf("unknown unit %q", b.Unit)
	}
	// Min says which way the margin is measured; only a floor has it.
	if b.Min != (b.Budget == BudgetLowestEfficiency) {
		return fmt.Errorf("budget %q with min %v", b.Budget, b.Min)
	}
	switch b.Status {
	case StatusUnknown:
		if b.Actual != nil || b.Margin != nil {
			return errors.New("an unknown status with an actual figure")
		}
	case StatusPass, StatusFail:
		if b.Actual == nil || b.Margin == nil {
			return fmt.Errorf("status %q without an actual figure", b.Status)
		}
	default:
		return fmt.Errorf("unknown status %q", b.Status)
	}
	if !slices.Contains(Provenances, b.Provenance) {
		return fmt.Errorf("unknown provenance %q", b.Provenance)
	}
	return nil
}

func (s SizeRecord) validate() error {
	switch {
	case s.Provenance == "unknown":
		if s.Bytes != nil {
			return errors.New("unknown size with bytes")
		}
		return nil
	case slices.Contains(Provenances, s.Provenance):
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

// layerIndex reports whether i is the index of one of img's layers.
func layerIndex(img ImageRecord, i int) bool { return i >= 0 && i < len(img.Layers) }

func (f *FilesRecord) validate(images []ImageRecord) error {
	if f.Image < 0 || f.Image >= len(images) {
		return fmt.Errorf("image %d is not an image index", f.Image)
	}
	img := images[f.Image]
	for i, l := range f.Layers {
		if !layerIndex(img, l.Index) {
			return fmt.Errorf("layer record %d: layer %d is not a layer of image %d", i, l.Index, f.Image)
		}
	}
	for i, l := range f.Largest {
		if !layerIndex(img, l.Layer) {
			return fmt.Errorf("largest file %d: layer %d is not a layer of image %d", i, l.Layer, f.Image)
		}
	}
	for i, r := range f.Reclaimable {
		if !layerIndex(img, r.Layer) || !layerIndex(img, r.ByLayer) {
			return fmt.Errorf("reclaimable item %d: layer %d or %d is not a layer of image %d", i, r.Layer, r.ByLayer, f.Image)
		}
		switch r.Why {
		case ReclaimSuperseded, ReclaimDeleted:
		default:
			return fmt.Errorf("reclaimable item %d: unknown why %q", i, r.Why)
		}
	}
	for i, h := range f.Hints {
		for _, l := range h.Layers {
			if !layerIndex(img, l) {
				return fmt.Errorf("hint %d (%s): layer %d is not a layer of image %d", i, h.ID, l, f.Image)
			}
		}
	}
	return nil
}

func (d *DiffRecord) validate(images []ImageRecord) error {
	for _, i := range []int{d.ImageA, d.ImageB} {
		if i < 0 || i >= len(images) {
			return fmt.Errorf("image %d is not an image index", i)
		}
	}
	a, b := images[d.ImageA], images[d.ImageB]
	for i, e := range d.Entries {
		var wantA, wantB bool
		switch e.Change {
		case ChangeAdded:
			wantB = true
		case ChangeRemoved:
			wantA = true
		case ChangeChanged:
			wantA, wantB = true, true
		default:
			return fmt.Errorf("entry %d (%s): unknown change %q", i, e.Path, e.Change)
		}
		if (e.A != nil) != wantA || (e.B != nil) != wantB {
			return fmt.Errorf("entry %d (%s): a %s path needs %s", i, e.Path, e.Change, map[string]string{
				ChangeAdded: "b and no a", ChangeRemoved: "a and no b", ChangeChanged: "both a and b",
			}[e.Change])
		}
		for _, side := range []struct {
			name string
			info *FileInfoRecord
			img  ImageRecord
		}{{"a", e.A, a}, {"b", e.B, b}} {
			if side.info == nil {
				continue
			}
			if !slices.Contains(FileTypes, side.info.Type) {
				return fmt.Errorf("entry %d (%s) %s: unknown type %q", i, e.Path, side.name, side.info.Type)
			}
			if !layerIndex(side.img, side.info.Layer) {
				return fmt.Errorf("entry %d (%s) %s: layer %d is not a layer of its image", i, e.Path, side.name, side.info.Layer)
			}
		}
		for _, f := range e.Fields {
			if !slices.Contains(DiffFields, f) {
				return fmt.Errorf("entry %d (%s): unknown field %q", i, e.Path, f)
			}
		}
	}
	return nil
}
