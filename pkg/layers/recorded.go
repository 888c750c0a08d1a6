package layers

import (
	"errors"
	"fmt"
	"math"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
	"github.com/imgsize/imgsize/pkg/source"
)

// fromRecorded builds the model of an image a saved report recorded. The
// figures are taken as recorded, provenances included; nothing is read or
// re-measured, so options that govern reading do not apply. The totals
// must agree with the layers, which catches a report edited by hand.
func fromRecorded(src *source.Image) (*Image, error) {
	r := src.Recorded
	rec := r.Image
	out := &Image{
		Ref:               src.Arg,
		Name:              rec.Name,
		Transport:         rec.Transport,
		SyntheticManifest: rec.SyntheticManifest,
		MediaType:         types.MediaType(rec.MediaType),
		Recorded: &Recorded{
			Path:      r.Path,
			Ref:       rec.Ref,
			Generator: r.Generator.Name,
			Version:   r.Generator.Version,
			Time:      r.Time,
		},
	}
	var err error
	if out.Digest, err = recordedHash(rec.Digest); err != nil {
		return nil, corruptRecord("digest", err)
	}
	if out.ConfigDigest, err = recordedHash(rec.ConfigDigest); err != nil {
		return nil, corruptRecord("configDigest", err)
	}
	if rec.ConfigBytes != nil {
		out.ConfigSize = *rec.ConfigBytes
	} else {
		out.ConfigUnknown = "the report records no config size"
	}
	if rec.ManifestBytes != nil {
		out.ManifestSize = *rec.ManifestBytes
	}
	if rec.Created != nil {
		out.Created = *rec.Created
	}
	if rec.Platform != "" {
		if out.Platform, err = v1.ParsePlatform(rec.Platform); err != nil {
			return nil, corruptRecord("platform", err)
		}
	}
	for _, s := range rec.History {
		st := Step{CreatedBy: s.CreatedBy, Comment: s.Comment, Empty: s.EmptyLayer, Layer: -1}
		if s.Created != nil {
			st.Created = *s.Created
		}
		if s.Layer != nil {
			st.Layer = *s.Layer
		}
		out.History = append(out.History, st)
	}
	out.Layers = make([]Layer, len(rec.Layers))
	cs := make([]Size, len(rec.Layers))
	us := make([]Size, len(rec.Layers))
	for i, lr := range rec.Layers {
		l := Layer{
			MediaType:    types.MediaType(lr.MediaType),
			Annotations:  lr.Annotations,
			CreatedBy:    lr.CreatedBy,
			Compressed:   recordedSize(lr.Compressed),
			Uncompressed: recordedSize(lr.Uncompressed),
		}
		if l.Digest, err = recordedHash(lr.Digest); err != nil {
			return nil, corruptRecord(fmt.Sprintf("layer %d digest", i), err)
		}
		if l.Digest == (v1.Hash{}) {
			return nil, corruptRecord(fmt.Sprintf("layer %d digest", i), errors.New("missing"))
		}
		if l.DiffID, err = recordedHash(lr.DiffID); err != nil {
			return nil, corruptRecord(fmt.Sprintf("layer %d diffID", i), err)
		}
		out.Layers[i] = l
		cs[i], us[i] = l.Compressed, l.Uncompressed
	}
	for _, sizes := range [][]Size{cs, us} {
		var sum int64
		for _, sz := range sizes {
			if sz.Bytes > math.MaxInt64-sum {
				return nil, corruptRecord("layer sizes", errors.New("they add up to more than 8 EiB"))
			}
			sum += sz.Bytes
		}
	}
	out.Compressed, out.Uncompressed = Total(cs), Total(us)
	for _, t := range []struct {
		what     string
		got      Size
		recorded schema.SizeRecord
	}{
		{"compressed", out.Compressed, rec.Compressed},
		{"uncompressed", out.Uncompressed, rec.Uncompressed},
	} {
		want := recordedSize(t.recorded)
		if t.got.Provenance != want.Provenance || t.got.Known() && t.got.Bytes != want.Bytes {
			return nil, corruptRecord(t.what+" total", fmt.Errorf("recorded as %s %s, but its layers add up to %s %s",
				sizeString(want), want.Provenance, sizeString(t.got), t.got.Provenance))
		}
		// Keep the recorded reason: it explains the total as first measured.
		if t.what == "compressed" {
			out.Compressed.Reason = want.Reason
		} else {
			out.Uncompressed.Reason = want.Reason
		}
	}
	return out, nil
}

func recordedSize(r schema.SizeRecord) Size {
	s := Size{Provenance: Provenance(r.Provenance), Reason: r.Reason}
	if r.Bytes != nil {
		s.Bytes = *r.Bytes
	}
	return s
}

func recordedHash(s string) (v1.Hash, error) {
	if s == "" {
		return v1.Hash{}, nil
	}
	return v1.NewHash(s)
}

func sizeString(s Size) string {
	if !s.Known() {
		return "?"
	}
	return fmt.Sprintf("%d B", s.Bytes)
}

func corruptRecord(field string, err error) error {
	return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading report: recorded %s: %w", field, err))
}
