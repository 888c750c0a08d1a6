package schema

import (
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
	dec := json.NewDecoder(r)
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
	switch d.Kind {
	case KindInspect:
		if d.Comparison != nil || d.Check != nil {
			return errors.New(`kind "inspect" with a comparison or check`)
		}
	case KindCompare:
		if d.Comparison == nil || d.Check != nil {
			return errors.New(`kind "compare" needs a comparison and no check`)
		}
	case KindCheck:
		if d.Check == nil || d.Comparison != nil {
			return errors.New(`kind "check" needs a check and no comparison`)
		}
	default:
		return fmt.Errorf("unknown kind %q", d.Kind)
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
	switch b.Budget {
	case "max-compressed", "max-uncompressed", "max-layers", "max-growth":
	default:
		return fmt.Errorf("unknown budget %q", b.Budget)
	}
	switch b.Unit {
	case "bytes", "layers", "percent":
	default:
		return fmt.Errorf("unknown unit %q", b.Unit)
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
