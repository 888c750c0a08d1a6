package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// blobStore is what an OCI image layout offers, whether it is a directory
// or a tar of one.
type blobStore interface {
	// readFile reads a small top-level file such as index.json.
	readFile(name string) ([]byte, error)
	// blob returns a reader of the blob and its stored size.
	blob(h v1.Hash) (io.ReadSeeker, int64, io.Closer, error)
}

type dirStore struct{ dir string }

func (d dirStore) readFile(name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A metadata file is small: a huge one, or a device (a symlink to
	// /dev/zero), is refused before it is read into memory.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxMetadata {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s is not a regular file of at most %d MiB", name, maxMetadata>>20))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMetadata {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s grew past %d MiB while read", name, maxMetadata>>20))
	}
	return b, nil
}

func (d dirStore) blob(h v1.Hash) (io.ReadSeeker, int64, io.Closer, error) {
	f, err := os.Open(filepath.Join(d.dir, "blobs", h.Algorithm, h.Hex))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("blob %s missing from layout", h))
		}
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, fi.Size(), f, nil
}

type tarStore struct{ t *tarFile }

func (s tarStore) readFile(name string) ([]byte, error) { return s.t.readAll(name) }

func (s tarStore) blob(h v1.Hash) (io.ReadSeeker, int64, io.Closer, error) {
	sec, err := s.t.section("blobs/" + h.Algorithm + "/" + h.Hex)
	if err != nil {
		return nil, 0, nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("blob %s missing from archive", h))
	}
	return sec, sec.Size(), io.NopCloser(nil), nil
}

// readBlob reads a small blob and checks it against its descriptor, so a
// wrong digest in a manifest or config is reported, not silently used.
func readBlob(s blobStore, d v1.Descriptor) ([]byte, error) {
	r, size, c, err := s.blob(d.Digest)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if size > maxMetadata {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("blob %s is %d bytes, too large for %s", d.Digest, size, d.MediaType))
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d.Digest, err)
	}
	if err := verifyBytes(b, d); err != nil {
		return nil, err
	}
	return b, nil
}

func verifyBytes(b []byte, d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" {
		return errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("digest algorithm %q of %s", d.Digest.Algorithm, d.Digest))
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != d.Digest.Hex {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("digest mismatch: descriptor says %s, content is sha256:%s", d.Digest, got))
	}
	if d.Size != 0 && int64(len(b)) != d.Size {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("size mismatch for %s: descriptor says %d bytes, content is %d", d.Digest, d.Size, len(b)))
	}
	return nil
}

func openOCILayout(ctx context.Context, dir, tag string, p v1.Platform) (*Image, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		if _, err2 := os.Stat(dir); err2 != nil {
			return nil, errdefs.Wrap(errdefs.ErrNotFound, err2)
		}
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s is not an OCI image layout (no index.json)", dir))
	}
	img, err := resolveOCI(ctx, dirStore{dir}, tag, p)
	if err != nil {
		return nil, err
	}
	return &Image{Transport: OCI, Name: joinRef(dir, tag), Image: img}, nil
}

func openOCIArchive(ctx context.Context, path, tag string, p v1.Platform) (*Image, error) {
	t, err := openTar(ctx, path)
	if err != nil {
		return nil, err
	}
	img, err := openOCIArchiveTar(ctx, t, path, tag, p)
	if err != nil {
		t.Close()
		return nil, err
	}
	return img, nil
}

func openOCIArchiveTar(ctx context.Context, t *tarFile, path, tag string, p v1.Platform) (*Image, error) {
	if !t.has("index.json") {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("not an OCI archive (no index.json)"))
	}
	img, err := resolveOCI(ctx, tarStore{t}, tag, p)
	if err != nil {
		return nil, err
	}
	return &Image{Transport: OCIArchive, Name: joinRef(path, tag), Image: img, closers: []io.Closer{t}}, nil
}

func joinRef(path, ref string) string {
	if ref == "" {
		return path
	}
	return path + ":" + ref
}

const (
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerdRef = "io.containerd.image.name"
)

// resolveOCI picks one image manifest out of a layout's index.json, by tag
// first and by platform when more than one image remains.
func resolveOCI(ctx context.Context, s blobStore, tag string, p v1.Platform) (v1.Image, error) {
	raw, err := s.readFile("index.json")
	if err != nil {
		return nil, fmt.Errorf("reading index.json: %w", err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index.json: %w", err))
	}
	descs, err := tagged(idx.Manifests, tag)
	if err != nil {
		return nil, err
	}
	var images []v1.Descriptor
	for _, d := range descs {
		imgs, err := flattenIndex(ctx, s, d, 0)
		if err != nil {
			return nil, err
		}
		images = append(images, imgs...)
	}
	var chosen v1.Descriptor
	switch {
	case len(images) == 0:
		return nil, errdefs.Wrap(errdefs.ErrNotFound, errors.New("layout holds no image manifest"))
	case len(images) == 1:
		// One image is read whatever its platform: --platform chooses within
		// an index, it does not filter a single image away.
		chosen = images[0]
	default:
		// Images that state no platform at all can only be told apart by
		// tag: say so, rather than "no image for linux/amd64".
		var known bool
		var lookupErr error
		matched, err := matchPlatform(images, p, func(d v1.Descriptor) (*v1.Platform, error) {
			pl, err := platformFromConfig(s, d)
			known = known || pl != nil
			lookupErr = err
			return pl, err
		})
		if err != nil && !known && lookupErr == nil {
			return nil, errdefs.UsageError(fmt.Errorf("layout holds %d images and none states its platform; choose one with :TAG (tags: %s)", len(images), listTags(images)))
		}
		if err != nil {
			return nil, err
		}
		if len(matched) > 1 {
			return nil, errdefs.UsageError(fmt.Errorf("layout holds %d images for %s; choose one with :TAG (tags: %s)", len(matched), p.String(), listTags(matched)))
		}
		chosen = matched[0]
	}
	return imageFromStore(s, chosen)
}

// tagged keeps the descriptors of index.json that tag names; all of them
// when tag is empty.
func tagged(descs []v1.Descriptor, tag string) ([]v1.Descriptor, error) {
	if tag == "" {
		return descs, nil
	}
	var out []v1.Descriptor
	for _, d := range descs {
		if refMatches(d.Annotations, tag) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("tag %q not in layout (tags: %s)", tag, listTags(descs)))
	}
	return out, nil
}

func refMatches(ann map[string]string, tag string) bool {
	if ann[annotationRefName] == tag {
		return true
	}
	n := ann[annotationContainerdRef]
	return n != "" && (n == tag || strings.HasSuffix(n, ":"+tag))
}

func listTags(descs []v1.Descriptor) string {
	var tags []string
	for _, d := range descs {
		if t := d.Annotations[annotationRefName]; t != "" {
			tags = append(tags, shown(t))
		} else if t := d.Annotations[annotationContainerdRef]; t != "" {
			tags = append(tags, shown(t))
		}
	}
	if len(tags) == 0 {
		return "none"
	}
	sort.Strings(tags)
	return strings.Join(tags, ", ")
}

// maxIndexManifests bounds what one descriptor of a layout may expand to:
// real multi-platform indexes list tens of images, and an index of
// indexes each repeating the next would otherwise grow without bound.
const maxIndexManifests = 10_000

// flattenIndex expands nested indexes into the image manifests they hold,
// dropping attestation manifests (BuildKit's unknown/unknown entries).
// Each digest is expanded once: an index that lists the same child many
// times, at every level, costs what listing it once does.
func flattenIndex(ctx context.Context, s blobStore, d v1.Descriptor, depth int) ([]v1.Descriptor, error) {
	w := indexWalk{s: s, seen: map[v1.Hash]bool{}}
	if err := w.walk(ctx, d, depth); err != nil {
		return nil, err
	}
	return w.out, nil
}

type indexWalk struct {
	s    blobStore
	seen map[v1.Hash]bool
	out  []v1.Descriptor
}

func (w *indexWalk) walk(ctx context.Context, d v1.Descriptor, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.seen[d.Digest] {
		return nil
	}
	w.seen[d.Digest] = true
	if len(w.seen) > maxIndexManifests {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("index lists more than %d manifests", maxIndexManifests))
	}
	switch {
	case d.MediaType.IsImage():
		if !isAttestation(d) {
			w.out = append(w.out, d)
		}
		return nil
	case d.MediaType.IsIndex():
		if depth > 4 {
			return errdefs.Wrap(errdefs.ErrCorrupt, errors.New("indexes nested too deeply"))
		}
		b, err := readBlob(w.s, d)
		if err != nil {
			return fmt.Errorf("reading index %s: %w", d.Digest, err)
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(b, &idx); err != nil {
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index %s: %w", d.Digest, err))
		}
		for _, c := range idx.Manifests {
			// A tag annotation on the outer descriptor still names the
			// images inside; keep it for error messages.
			if c.Annotations == nil && d.Annotations != nil {
				c.Annotations = d.Annotations
			}
			if err := w.walk(ctx, c, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("unknown manifest media type %q for %s", d.MediaType, d.Digest))
	}
}

func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// platformFromConfig learns the platform of an image whose descriptor does
// not state it, from its config.
func platformFromConfig(s blobStore, d v1.Descriptor) (*v1.Platform, error) {
	if d.Platform != nil {
		return d.Platform, nil
	}
	img, err := imageFromStore(s, d)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading config of %s: %w", d.Digest, err))
	}
	return cf.Platform(), nil
}

// storeImage is a v1.Image backed by a blob store; partial fills in the rest
// of the interface (layer decompression, diffIDs) from these few methods.
type storeImage struct {
	s        blobStore
	desc     v1.Descriptor
	manifest []byte
	m        *v1.Manifest
	config   []byte
	// layers finds a layer's descriptor by digest: go-containerregistry
	// asks for each layer by digest, and a scan of the manifest for each
	// made an image of 5,000 layers take 25 million comparisons.
	layers map[v1.Hash]v1.Descriptor
}

func imageFromStore(s blobStore, d v1.Descriptor) (v1.Image, error) {
	raw, err := readBlob(s, d)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d.Digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest %s: %w", d.Digest, err))
	}
	cfg, err := readBlob(s, m.Config)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", m.Config.Digest, err)
	}
	// Stat every layer now: a missing or resized blob is an error of the
	// image, found without reading layer bodies.
	layers := make(map[v1.Hash]v1.Descriptor, len(m.Layers))
	for _, l := range m.Layers {
		if _, ok := layers[l.Digest]; !ok {
			layers[l.Digest] = l // the first, as a scan would find
		}
		if !isLayerMediaType(l.MediaType) {
			return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("unknown layer media type %q for %s", l.MediaType, l.Digest))
		}
		_, size, c, err := s.blob(l.Digest)
		if err != nil {
			return nil, err
		}
		c.Close()
		if size != l.Size {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s is %d bytes, manifest says %d", l.Digest, size, l.Size))
		}
	}
	return partial.CompressedToImage(&storeImage{s: s, desc: d, manifest: raw, m: m, config: cfg, layers: layers})
}

func isLayerMediaType(mt types.MediaType) bool {
	switch mt {
	case types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
		types.DockerLayer, types.DockerUncompressedLayer,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer, types.DockerForeignLayer:
		return true
	}
	return false
}

func (i *storeImage) RawConfigFile() ([]byte, error) { return i.config, nil }
func (i *storeImage) RawManifest() ([]byte, error)   { return i.manifest, nil }
func (i *storeImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return i.desc.MediaType, nil
}

func (i *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return &storeLayer{s: i.s, desc: l}, nil
	}
	if i.m.Config.Digest == h {
		return &storeLayer{s: i.s, desc: i.m.Config}, nil
	}
	return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("blob %s not in manifest", h))
}

type storeLayer struct {
	s    blobStore
	desc v1.Descriptor
}

func (l *storeLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storeLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storeLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *storeLayer) Compressed() (io.ReadCloser, error) {
	r, _, c, err := l.s.blob(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	return readSeekCloser{r, c}, nil
}
