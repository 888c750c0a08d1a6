package layers

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/schema"
	"github.com/imgsize/imgsize/pkg/source"
)

// Index is the size model of a multi-platform image: each selected
// platform's image, the index's other manifests (attestations,
// signatures), and what the index costs as a whole.
type Index struct {
	// Ref is the argument as the user gave it; Name the resolved reference.
	Ref, Name, Transport string
	// Digest, MediaType and ManifestSize describe the index manifest (zero
	// when the argument named a single image, or a layout whose
	// index.json lists the images itself).
	Digest       v1.Hash
	MediaType    types.MediaType
	ManifestSize int64
	// Platforms holds each selected platform image in index order.
	Platforms []*Image
	// Unselected counts the platform images of the index that were not
	// selected (their bytes are in Stored all the same).
	Unselected int
	// Artifacts are the index's entries that are not platform images.
	Artifacts []Artifact
	// Missing lists requested platforms the index does not have.
	Missing []v1.Platform
	// Stored is what a registry stores for the whole index and a full
	// mirror pulls: every blob once (the index and any nested one, each
	// manifest, config and layer of every platform, selected or not, and
	// of every artifact), compressed as stored.
	Stored Size
	// SharedLayers maps the digest of each layer present in more than one
	// of Platforms to the positions (in Platforms) of those images.
	SharedLayers map[v1.Hash][]int
}

// Artifact is a manifest in an index that is not a platform image.
type Artifact struct {
	Kind      source.EntryKind
	Digest    v1.Hash
	MediaType types.MediaType
	// Subject is the manifest it refers to; zero if none.
	Subject v1.Hash
	// Bytes is its manifest and every blob it references, as stored.
	Bytes Size
	// Blobs is how many blobs (config and layers) it references.
	Blobs int
}

// PlatformKey is the key platforms are matched by across images:
// os/arch/variant with the default variants containerd assumes made
// plain (amd64 is v1, arm64 v8, arm v7), so linux/arm64 and
// linux/arm64/v8 are one platform, shown as docker shows it: linux/amd64,
// linux/arm64, linux/arm/v7. A Windows os.version is kept (its images are
// per OS build).
func PlatformKey(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return "unknown"
	}
	variant := p.Variant
	switch {
	case p.Architecture == "amd64" && variant == "v1", p.Architecture == "arm64" && variant == "v8":
		variant = ""
	case p.Architecture == "arm" && variant == "":
		variant = "v7"
	}
	k := p.OS + "/" + p.Architecture
	if variant != "" {
		k += "/" + variant
	}
	if p.OSVersion != "" {
		k += ":" + p.OSVersion
	}
	return k
}

// LoadIndex builds the size model of every selected platform of src, each
// as Load would (sharing opts and its Memo), and the index's totals.
func LoadIndex(ctx context.Context, src *source.Index, opts Options) (*Index, error) {
	if opts.Memo == nil {
		opts.Memo = &Memo{}
	}
	x := &Index{
		Ref: src.Arg, Name: src.Name, Transport: string(src.Transport),
		Digest: src.Digest, MediaType: src.MediaType, ManifestSize: src.ManifestSize,
		Missing: src.Missing,
	}
	blobs := storedBlobs{sizes: map[v1.Hash]Size{}}
	if src.Digest != (v1.Hash{}) {
		blobs.add(src.Digest, exactSize(src.ManifestSize))
	}
	for _, d := range src.Nested {
		blobs.add(d.Digest, exactSize(d.Size))
	}
	for _, e := range src.Entries {
		switch {
		case e.Image != nil:
			img, err := Load(ctx, e.Image, opts)
			if err != nil {
				if e.Platform != nil {
					return nil, fmt.Errorf("%s: %w", PlatformKey(e.Platform), err)
				}
				return nil, err
			}
			if e.Platform != nil {
				// The index's statement, which OpenIndex checked against
				// the config; it may name a variant the config leaves out.
				p := *e.Platform
				img.Platform = &p
			}
			x.Platforms = append(x.Platforms, img)
			blobs.addImage(img)
		case e.Kind == source.EntryImage:
			x.Unselected++
			blobs.add(e.Descriptor.Digest, exactSize(e.Descriptor.Size))
			for _, b := range e.Blobs {
				blobs.add(b.Digest, exactSize(b.Size))
			}
		default:
			a := Artifact{Kind: e.Kind, Digest: e.Descriptor.Digest, MediaType: e.Descriptor.MediaType, Subject: e.Subject, Blobs: len(e.Blobs)}
			sizes := []Size{exactSize(e.Descriptor.Size)}
			blobs.add(e.Descriptor.Digest, sizes[0])
			for _, b := range e.Blobs {
				sizes = append(sizes, exactSize(b.Size))
				blobs.add(b.Digest, exactSize(b.Size))
			}
			a.Bytes = Total(sizes)
			x.Artifacts = append(x.Artifacts, a)
		}
	}
	x.Stored = blobs.total()
	x.SharedLayers = sharedLayers(x.Platforms)
	if rec := src.Recorded; rec != nil {
		if err := fromRecordedIndex(x, rec); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// fromRecordedIndex takes what a saved report recorded of an index and
// its model cannot recompute from the recorded platform images: the
// stored bytes, the artifacts and the platforms that run did not select.
func fromRecordedIndex(x *Index, rec *schema.IndexRecord) error {
	x.Stored = believable(recordedSize(rec.Stored))
	x.Unselected += rec.Unselected
	for i, a := range rec.Artifacts {
		d, err := recordedHash(a.Digest)
		if err != nil {
			return corruptRecord(fmt.Sprintf("artifact %d digest", i), err)
		}
		s, err := recordedHash(a.Subject)
		if err != nil {
			return corruptRecord(fmt.Sprintf("artifact %d subject", i), err)
		}
		x.Artifacts = append(x.Artifacts, Artifact{
			Kind: source.EntryKind(a.Kind), Digest: d, MediaType: types.MediaType(a.MediaType),
			Subject: s, Bytes: believable(recordedSize(a.Bytes)), Blobs: a.Blobs,
		})
	}
	return nil
}

func exactSize(n int64) Size { return believable(Size{Bytes: n, Provenance: Exact}) }

// storedBlobs sums blobs by digest, each once.
type storedBlobs struct {
	order []v1.Hash
	sizes map[v1.Hash]Size
	// unknown, when set, makes the total unknown for this reason.
	unknown string
}

func (s *storedBlobs) add(h v1.Hash, size Size) {
	if _, ok := s.sizes[h]; ok {
		return
	}
	s.order = append(s.order, h)
	s.sizes[h] = size
}

// addImage adds an image's manifest, config and layers. A manifest the
// source does not store (docker-archive, an engine) has no size a
// registry would store, nor has a config the source does not hand out:
// Stored is then unknown, with the reason.
func (s *storedBlobs) addImage(img *Image) {
	switch {
	case img.SyntheticManifest || img.Digest == (v1.Hash{}):
		s.unknown = "the source stores no registry manifest for the image"
	case img.ConfigUnknown != "":
		s.unknown = img.ConfigUnknown
	}
	s.add(img.Digest, exactSize(img.ManifestSize))
	s.add(img.ConfigDigest, exactSize(img.ConfigSize))
	for _, l := range img.Layers {
		s.add(l.Digest, l.Compressed)
	}
}

func (s *storedBlobs) total() Size {
	if s.unknown != "" {
		return Size{Provenance: Unknown, Reason: s.unknown}
	}
	sizes := make([]Size, 0, len(s.order))
	for _, h := range s.order {
		sizes = append(sizes, s.sizes[h])
	}
	return Total(sizes)
}

func sharedLayers(imgs []*Image) map[v1.Hash][]int {
	in := map[v1.Hash][]int{}
	for i, img := range imgs {
		seen := map[v1.Hash]bool{}
		for _, l := range img.Layers {
			if seen[l.Digest] {
				continue
			}
			seen[l.Digest] = true
			in[l.Digest] = append(in[l.Digest], i)
		}
	}
	out := map[v1.Hash][]int{}
	for h, at := range in {
		if len(at) > 1 {
			out[h] = at
		}
	}
	return out
}
