package layers

import (
	"context"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/source"
)

// engineCompressedReason explains an engine image's unknown compressed
// sizes.
const engineCompressedReason = "the engine stores layers uncompressed; --estimate-compressed gzips them, --registry-sizes reads the registry manifest it was pulled as"

// engineConfigReason explains an engine image's unknown config size.
const engineConfigReason = "the engine does not hand out the config; --exact exports the image"

// fromEngine builds the model of an image in a local engine. From the
// engine's metadata alone when nothing needs layer bytes: no export, the
// uncompressed sizes are the engine's (exact from podman, estimated from
// Docker; see source.EngineKind). Otherwise (--exact, an estimate of
// compressed sizes, counts already made by pkg/files, or a Docker
// containerd store whose image ID is not the config's digest) the image is
// exported once and modelled as the docker-archive it is, each layer
// counted and checked against its diffID when asked.
func fromEngine(ctx context.Context, src *source.Image, opts Options) (*Image, error) {
	e := src.Engine
	if opts.Exact || opts.EstimateCompressed || len(opts.Counted) > 0 || e.Exported() || !e.IDIsConfig {
		exp, err := src.Export(ctx)
		if err != nil {
			return nil, err
		}
		out, err := Load(ctx, exp, opts)
		if err != nil {
			return nil, err
		}
		for i := range out.Layers {
			if l := &out.Layers[i]; !l.Compressed.Known() && isUncompressed(l.MediaType) {
				l.Compressed = Size{Provenance: Unknown, Reason: engineCompressedReason}
			}
		}
		applyRegistry(out, e)
		totals(out)
		return out, nil
	}

	out := &Image{
		Ref:               src.Arg,
		Name:              src.Name,
		Transport:         string(src.Transport),
		ConfigDigest:      e.ID,
		SyntheticManifest: true,
		ConfigUnknown:     engineConfigReason,
	}
	p := e.Platform
	if p.OS != "" || p.Architecture != "" {
		out.Platform = &p
	}
	out.Layers = make([]Layer, len(e.Layers))
	for i, el := range e.Layers {
		l := Layer{
			// The engine stores the tar stream itself: its digest, the
			// diffID, is the layer's identity, as in a docker-archive.
			Digest:     el.DiffID,
			DiffID:     el.DiffID,
			MediaType:  types.OCIUncompressedLayer,
			CreatedBy:  el.CreatedBy,
			Compressed: Size{Provenance: Unknown, Reason: engineCompressedReason},
		}
		switch {
		case !el.Sized:
			l.Uncompressed = Size{Provenance: Unknown, Reason: e.SizeReason}
		case e.SizesExact:
			l.Uncompressed = Size{Bytes: el.Size, Provenance: Exact}
		default:
			l.Uncompressed = Size{Bytes: el.Size, Provenance: Estimated, Reason: e.SizeReason}
		}
		out.Layers[i] = l
	}
	applyRegistry(out, e)
	totals(out)
	return out, nil
}

// applyRegistry takes compressed sizes from the registry manifest whose
// layers are the image's (source checked them by diffID). When it is the
// image's own manifest (same config), the image is that registry image:
// its digest, media type and layer digests are the manifest's.
func applyRegistry(out *Image, e *source.EngineImage) {
	r := e.Registry
	if r == nil {
		if e.RegistryReason != "" {
			for i := range out.Layers {
				if !out.Layers[i].Compressed.Known() {
					out.Layers[i].Compressed.Reason = "the engine stores layers uncompressed, and " + e.RegistryReason
				}
			}
		}
		return
	}
	for i := range out.Layers {
		d := r.Layers[i]
		out.Layers[i].Compressed = Size{Bytes: d.Size, Provenance: Exact}
		if r.SameConfig {
			out.Layers[i].Digest, out.Layers[i].MediaType = d.Digest, d.MediaType
		}
	}
	if r.SameConfig {
		out.SyntheticManifest = false
		out.Digest, out.MediaType, out.ManifestSize = r.Digest, r.MediaType, r.Size
		out.Name = r.Ref
	}
}
