package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Platforms says which platforms of a multi-platform index to open
// (--platform all, or a list).
type Platforms struct {
	// All selects every platform image of the index.
	All bool
	// List selects these platforms, each matched as --platform is: a
	// variant only when named, the default variant preferred.
	List []v1.Platform
}

// ParsePlatforms parses --platform's value for commands that read several
// platforms: "all", or a comma-separated list of os/arch[/variant]. ok is
// false when s names a single platform (the caller then opens one image).
func ParsePlatforms(s string) (sel Platforms, ok bool, err error) {
	if s == "all" {
		return Platforms{All: true}, true, nil
	}
	if !strings.Contains(s, ",") {
		return Platforms{}, false, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		p, err := ParsePlatform(strings.TrimSpace(part))
		if err != nil {
			return Platforms{}, false, err
		}
		if k := p.String(); !seen[k] {
			seen[k] = true
			sel.List = append(sel.List, p)
		}
	}
	return sel, true, nil
}

// EntryKind says what a manifest listed in an index is.
type EntryKind string

// The kinds of index entries.
const (
	// EntryImage is a runnable image for a platform.
	EntryImage EntryKind = "image"
	// EntryAttestation is a BuildKit attestation manifest
	// (vnd.docker.reference.type: attestation-manifest, listed under
	// unknown/unknown): provenance and SBOMs, not a platform.
	EntryAttestation EntryKind = "attestation"
	// EntrySignature is a signature (cosign, notation) listed in the index.
	EntrySignature EntryKind = "signature"
	// EntryArtifact is any other manifest that is not a runnable image:
	// one with an artifactType, a subject, a config that is not an image
	// config, or a media type imgsize does not know.
	EntryArtifact EntryKind = "artifact"
)

// Index is a multi-platform image opened for some of its platforms. An
// argument naming a single image yields an Index with one entry and a
// zero Digest.
type Index struct {
	// Arg is the argument as the user gave it; Name the resolved
	// reference; Transport where it lives.
	Arg, Name string
	Transport Transport
	// Digest, MediaType and ManifestSize describe the index manifest
	// itself; all zero when the argument named a single image, or a
	// layout whose index.json lists the images directly (index.json is not
	// a blob a registry would store).
	Digest       v1.Hash
	MediaType    types.MediaType
	ManifestSize int64
	// Nested are the indexes listed inside this one (flattened into
	// Entries); their manifests are stored too.
	Nested []v1.Descriptor
	// Entries lists the manifests of the index in its order, nested
	// indexes flattened, each digest once.
	Entries []Entry
	// Missing are platforms of a List selection the index does not have.
	Missing []v1.Platform
	// Recorded is set when the index was read from a saved report: its
	// stored bytes and artifacts are as recorded there, and each entry's
	// Image is a recorded image.
	Recorded *schema.IndexRecord

	closers []io.Closer
}

// Entry is one manifest listed in an index.
type Entry struct {
	Descriptor v1.Descriptor
	Kind       EntryKind
	// Platform is the image's platform: from the descriptor, else from its
	// config; nil for every other kind, and for the entry of a single
	// image (its model knows it).
	Platform *v1.Platform
	// Subject is the manifest an attestation or signature describes
	// (vnd.docker.reference.digest or the manifest's subject); zero when
	// it names none.
	Subject v1.Hash
	// Blobs are what the manifest references (config first, then its
	// layers or blobs), as it states them; nil for the entry of a single
	// image opened from a transport without manifests.
	Blobs []v1.Descriptor
	// Image is set for each selected platform image, nil otherwise.
	Image *Image
}

// Selected returns the entries opened as platform images, in index order.
func (x *Index) Selected() []Entry {
	var out []Entry
	for _, e := range x.Entries {
		if e.Image != nil {
			out = append(out, e)
		}
	}
	return out
}

// Close releases files held by the index and its images.
func (x *Index) Close() error {
	var errs []error
	for _, e := range x.Entries {
		if e.Image != nil {
			errs = append(errs, e.Image.Close())
		}
	}
	for _, c := range x.closers {
		errs = append(errs, c.Close())
	}
	x.closers = nil
	return errors.Join(errs...)
}

// manifestStore reads the manifests of an index and opens its images,
// from a registry or a layout.
type manifestStore interface {
	// manifest returns the manifest d names, checked against d.
	manifest(ctx context.Context, d v1.Descriptor) ([]byte, error)
	// image opens the image manifest d names.
	image(ctx context.Context, d v1.Descriptor) (*Image, error)
	// checkBlob confirms a blob an artifact references is stored with the
	// size its manifest states (layouts); registries are trusted as for
	// any image's layers.
	checkBlob(d v1.Descriptor) error
}

// OpenIndex opens the platforms sel selects of the index arg names, and
// reads (without opening) every other manifest it lists, so that the
// index's stored bytes can be told. Registries, OCI layouts and
// oci-archives hold indexes; any other argument, and a registry reference
// to a single image, yields a one-entry Index. The caller must Close it.
func OpenIndex(ctx context.Context, arg string, opts Options, sel Platforms) (*Index, error) {
	if !sel.All && len(sel.List) == 0 {
		return nil, errdefs.UsageError(errors.New("no platform selected"))
	}
	x, err := openIndex(ctx, arg, opts, sel)
	if err != nil {
		return nil, err
	}
	x.Arg = arg
	for _, e := range x.Entries {
		if e.Image != nil {
			e.Image.Arg = arg
		}
	}
	return x, nil
}

func openIndex(ctx context.Context, arg string, opts Options, sel Platforms) (*Index, error) {
	t, rest, err := splitTransport(arg)
	if err != nil {
		return nil, err
	}
	switch t {
	case Registry:
		return registryIndex(ctx, rest, opts, sel)
	case Report:
		path, selector := splitPathRef(rest)
		return reportIndex(path, selector, sel)
	case OCI:
		path, tag := splitPathRef(rest)
		return layoutIndex(ctx, OCI, path, tag, nil, sel)
	case OCIArchive:
		path, tag := splitPathRef(rest)
		if path != StdinArg {
			return archiveIndex(ctx, path, tag, sel)
		}
	case "":
		path, ref := splitPathRef(arg)
		fi, err := os.Stat(path)
		switch {
		case err != nil && !looksLikePath(arg) && !IsStdin(arg) && !opts.PreferDaemon:
			return registryIndex(ctx, arg, opts, sel)
		case err == nil && fi.IsDir() && !isDirLayout(path):
			return layoutIndex(ctx, OCI, path, ref, nil, sel)
		case err == nil && fi.Mode().IsRegular() && looksLikeReport(path):
			return reportIndex(path, ref, sel)
		case err == nil && fi.Mode().IsRegular() && !looksLikeReport(path):
			tf, err := openTar(ctx, path)
			if err != nil {
				return nil, err
			}
			if !tf.has("manifest.json") && tf.has("index.json") {
				return archiveIndexTar(ctx, tf, path, ref, sel)
			}
			tf.Close()
		}
	}
	img, err := Open(ctx, arg, opts)
	if err != nil {
		return nil, err
	}
	return singleIndex(img, sel)
}

// singleIndex is the Index of an argument that names one image: with
// --platform all, or a list, the image is read whatever its platform,
// as a single image always is (--platform chooses within an index).
func singleIndex(img *Image, _ Platforms) (*Index, error) {
	return &Index{
		Name: img.Name, Transport: img.Transport,
		Entries: []Entry{{Kind: EntryImage, Image: img}},
	}, nil
}

func registryIndex(ctx context.Context, s string, opts Options, sel Platforms) (*Index, error) {
	ref, authed, err := registryRef(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(authed)}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("fetching manifest of %s: %w", ref, err))
	}
	rs := &registryStore{ref: ref, authed: authed, opts: opts, ropts: ropts}
	switch {
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading image %s: %w", ref, err))
		}
		one, err := registryImage(ref, img, authed, opts)
		if err != nil {
			return nil, err
		}
		return singleIndex(one, sel)
	case !desc.MediaType.IsIndex():
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s: unknown manifest media type %q", ref, desc.MediaType))
	}
	x := &Index{
		Name:      ref.Context().Name() + "@" + desc.Digest.String(),
		Transport: Registry, Digest: desc.Digest, MediaType: desc.MediaType, ManifestSize: desc.Size,
	}
	if err := walkIndex(ctx, rs, x, desc.Manifest, sel); err != nil {
		x.Close()
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return x, nil
}

type registryStore struct {
	ref    name.Reference
	authed http.RoundTripper
	opts   Options
	ropts  []remote.Option

	mu sync.Mutex
	// got keeps each manifest fetched, so opening its image does not
	// fetch it again.
	got map[v1.Hash]*remote.Descriptor
}

func (r *registryStore) manifest(_ context.Context, d v1.Descriptor) ([]byte, error) {
	// Fetched by digest, which go-containerregistry checks the content
	// against. The run's context, not a group's: the descriptor kept
	// reads the image's config and layers later, after the group is done.
	got, err := remote.Get(r.ref.Context().Digest(d.Digest.String()), r.ropts...)
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("fetching manifest %s: %w", d.Digest, err))
	}
	if got.Size != d.Size {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("manifest %s is %d bytes, the index says %d", d.Digest, got.Size, d.Size))
	}
	r.mu.Lock()
	if r.got == nil {
		r.got = map[v1.Hash]*remote.Descriptor{}
	}
	r.got[d.Digest] = got
	r.mu.Unlock()
	return got.Manifest, nil
}

func (r *registryStore) image(_ context.Context, d v1.Descriptor) (*Image, error) {
	dref := r.ref.Context().Digest(d.Digest.String())
	r.mu.Lock()
	got := r.got[d.Digest]
	r.mu.Unlock()
	var img v1.Image
	var err error
	if got != nil {
		img, err = got.Image()
	} else {
		img, err = remote.Image(dref, r.ropts...)
	}
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("reading image %s of %s: %w", d.Digest, r.ref, err))
	}
	return registryImage(dref, img, r.authed, r.opts)
}

func (r *registryStore) checkBlob(v1.Descriptor) error { return nil }

func archiveIndex(ctx context.Context, path, tag string, sel Platforms) (*Index, error) {
	tf, err := openTar(ctx, path)
	if err != nil {
		return nil, err
	}
	return archiveIndexTar(ctx, tf, path, tag, sel)
}

func archiveIndexTar(ctx context.Context, tf *tarFile, path, tag string, sel Platforms) (*Index, error) {
	if !tf.has("index.json") {
		tf.Close()
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("not an OCI archive (no index.json)"))
	}
	x, err := layoutIndex(ctx, OCIArchive, path, tag, tarStore{tf}, sel)
	if err != nil {
		tf.Close()
		return nil, err
	}
	x.closers = append(x.closers, tf)
	return x, nil
}

// layoutIndex opens the index of an OCI layout (s nil: the directory
// path) or archive. The index is the one index.json names (by tag, when
// given); an index.json that lists images directly is read as the index.
func layoutIndex(ctx context.Context, tr Transport, path, tag string, s blobStore, sel Platforms) (*Index, error) {
	if s == nil {
		if _, err := os.Stat(path); err != nil {
			return nil, errdefs.Wrap(errdefs.ErrNotFound, err)
		}
		s = dirStore{path}
	}
	raw, err := s.readFile("index.json")
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s is not an OCI image layout (no index.json)", path))
		}
		return nil, fmt.Errorf("reading index.json: %w", err)
	}
	var top v1.IndexManifest
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index.json: %w", err))
	}
	descs, err := tagged(top.Manifests, tag)
	if err != nil {
		return nil, err
	}
	if tags := distinctTags(descs); tag == "" && len(tags) > 1 {
		return nil, errdefs.UsageError(fmt.Errorf("layout holds %d tagged images; choose one with :TAG (tags: %s)", len(tags), listTags(descs)))
	}
	ls := layoutStore{s: s, tr: tr, name: joinRef(path, tag)}
	x := &Index{Name: ls.name, Transport: tr}
	body := raw
	if len(descs) == 1 && descs[0].MediaType.IsIndex() {
		d := descs[0]
		if body, err = readBlob(s, d); err != nil {
			return nil, fmt.Errorf("reading index %s: %w", d.Digest, err)
		}
		x.Digest, x.MediaType, x.ManifestSize = d.Digest, d.MediaType, d.Size
	} else {
		b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: descs})
		if err != nil {
			return nil, err
		}
		body = b
	}
	if err := walkIndex(ctx, ls, x, body, sel); err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

func distinctTags(descs []v1.Descriptor) map[string]bool {
	tags := map[string]bool{}
	for _, d := range descs {
		if t := d.Annotations[annotationRefName]; t != "" {
			tags[t] = true
		} else if t := d.Annotations[annotationContainerdRef]; t != "" {
			tags[t] = true
		}
	}
	return tags
}

type layoutStore struct {
	s    blobStore
	tr   Transport
	name string
}

func (l layoutStore) manifest(_ context.Context, d v1.Descriptor) ([]byte, error) {
	return readBlob(l.s, d)
}

func (l layoutStore) image(_ context.Context, d v1.Descriptor) (*Image, error) {
	img, err := imageFromStore(l.s, d)
	if err != nil {
		return nil, err
	}
	return &Image{Transport: l.tr, Name: l.name, Image: img}, nil
}

func (l layoutStore) checkBlob(d v1.Descriptor) error {
	_, size, c, err := l.s.blob(d.Digest)
	if err != nil {
		return err
	}
	c.Close()
	if size != d.Size {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("blob %s is %d bytes, its manifest says %d", d.Digest, size, d.Size))
	}
	return nil
}

// anyManifest is the part of any manifest that says what it references:
// an image manifest's config and layers, an artifact's blobs and subject.
type anyManifest struct {
	MediaType    types.MediaType `json:"mediaType"`
	ArtifactType string          `json:"artifactType"`
	Config       *v1.Descriptor  `json:"config"`
	Layers       []v1.Descriptor `json:"layers"`
	Blobs        []v1.Descriptor `json:"blobs"`
	Subject      *v1.Descriptor  `json:"subject"`
}

// manifestJobs bounds the manifests and configs of an index read at
// once: an index lists tens of them, each a small request.
const manifestJobs = 8

// walkIndex fills x.Entries from the index body (nested indexes
// flattened, each digest once, bounded as flattenIndex is), reads every
// entry's manifest, and opens the selected platform images.
func walkIndex(ctx context.Context, ms manifestStore, x *Index, body []byte, sel Platforms) error {
	seen := map[v1.Hash]bool{}
	var walk func(body []byte, depth int) error
	walk = func(body []byte, depth int) error {
		var idx v1.IndexManifest
		if err := json.Unmarshal(body, &idx); err != nil {
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index: %w", err))
		}
		var todo []v1.Descriptor
		for _, d := range idx.Manifests {
			if seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
			if len(seen) > maxIndexManifests {
				return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("index lists more than %d manifests", maxIndexManifests))
			}
			todo = append(todo, d)
		}
		bodies := make([][]byte, len(todo))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(manifestJobs)
		for i, d := range todo {
			g.Go(func() error {
				b, err := ms.manifest(gctx, d)
				if err != nil {
					return fmt.Errorf("reading manifest %s: %w", d.Digest, err)
				}
				bodies[i] = b
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for i, d := range todo {
			b := bodies[i]
			if d.MediaType.IsIndex() {
				if depth >= 4 {
					return errdefs.Wrap(errdefs.ErrCorrupt, errors.New("indexes nested too deeply"))
				}
				x.Nested = append(x.Nested, d)
				if err := walk(b, depth+1); err != nil {
					return err
				}
				continue
			}
			e, err := classify(ms, d, b)
			if err != nil {
				return err
			}
			x.Entries = append(x.Entries, e)
		}
		return nil
	}
	if err := walk(body, 0); err != nil {
		return err
	}
	return selectPlatforms(ctx, ms, x, sel)
}

// classify tells what an index entry is from its descriptor and manifest.
func classify(ms manifestStore, d v1.Descriptor, raw []byte) (Entry, error) {
	e := Entry{Descriptor: d, Kind: EntryArtifact}
	var m anyManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return e, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest %s: %w", d.Digest, err))
	}
	if m.Config != nil {
		e.Blobs = append(e.Blobs, *m.Config)
	}
	e.Blobs = append(e.Blobs, m.Layers...)
	e.Blobs = append(e.Blobs, m.Blobs...)
	if m.Subject != nil {
		e.Subject = m.Subject.Digest
	}
	isConfig := func(mt string) bool {
		return mt == string(types.OCIConfigJSON) || mt == string(types.DockerConfigJSON)
	}
	// An artifactType that is an image config's media type is how
	// go-containerregistry describes plain images in an index.
	imageType := func(at string) bool { return at == "" || isConfig(at) }
	artifactType := d.ArtifactType + " " + m.ArtifactType
	if m.Config != nil {
		artifactType += " " + string(m.Config.MediaType)
	}
	switch {
	case isAttestation(d):
		e.Kind = EntryAttestation
		if s, err := v1.NewHash(d.Annotations["vnd.docker.reference.digest"]); err == nil {
			e.Subject = s
		}
	case strings.Contains(artifactType, "signature") || strings.Contains(artifactType, "cosign") || strings.Contains(artifactType, "notary"):
		e.Kind = EntrySignature
	case d.MediaType.IsImage() && m.Config != nil && isConfig(string(m.Config.MediaType)) && m.Subject == nil && imageType(d.ArtifactType) && imageType(m.ArtifactType):
		e.Kind = EntryImage
		e.Platform = d.Platform
	}
	if e.Kind != EntryImage {
		// Nothing else checks an artifact's blobs; its bytes are counted
		// in the index's total, so they must be there as stated.
		for _, b := range e.Blobs {
			if err := ms.checkBlob(b); err != nil {
				return e, fmt.Errorf("%s of %s: %w", b.Digest, d.Digest, err)
			}
		}
	}
	return e, nil
}

// selectPlatforms opens the platform images sel selects. An image whose
// descriptor states no platform is opened to learn it from its config; a
// descriptor whose platform its config contradicts is refused.
func selectPlatforms(ctx context.Context, ms manifestStore, x *Index, sel Platforms) error {
	var images []v1.Descriptor
	at := map[v1.Hash]int{}
	for i := range x.Entries {
		e := &x.Entries[i]
		if e.Kind != EntryImage {
			continue
		}
		if e.Platform == nil {
			img, err := ms.image(ctx, e.Descriptor)
			if err != nil {
				return err
			}
			e.Image = img
			cf, err := img.Image.ConfigFile()
			if err != nil {
				return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading config of %s: %w", e.Descriptor.Digest, err))
			}
			e.Platform = cf.Platform()
		}
		images = append(images, e.Descriptor)
		at[e.Descriptor.Digest] = i
	}
	want := map[v1.Hash]bool{}
	if sel.All {
		for _, d := range images {
			want[d.Digest] = true
		}
	}
	for _, p := range sel.List {
		matched, err := matchPlatform(images, p, func(d v1.Descriptor) (*v1.Platform, error) {
			return x.Entries[at[d.Digest]].Platform, nil
		})
		switch {
		case errors.Is(err, errdefs.ErrNotFound):
			x.Missing = append(x.Missing, p)
			continue
		case err != nil:
			return err
		}
		for _, d := range matched {
			want[d.Digest] = true
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(manifestJobs)
	for i := range x.Entries {
		e := &x.Entries[i]
		if e.Kind != EntryImage {
			continue
		}
		if !want[e.Descriptor.Digest] {
			if e.Image != nil {
				e.Image.Close()
				e.Image = nil
			}
			continue
		}
		g.Go(func() error {
			if e.Image == nil {
				img, err := ms.image(gctx, e.Descriptor)
				if err != nil {
					return err
				}
				e.Image = img
			}
			return agrees(e)
		})
	}
	return g.Wait()
}

// agrees refuses an index entry whose platform its image's config
// contradicts: one of the two lies, and every figure filed under that
// platform would be wrong.
func agrees(e *Entry) error {
	cf, err := e.Image.Image.ConfigFile()
	if err != nil {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading config of %s: %w", e.Descriptor.Digest, err))
	}
	p := e.Platform
	if cf.OS != "" && cf.Architecture != "" && (cf.OS != p.OS || cf.Architecture != p.Architecture) {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("the index lists %s as %s, but its config says %s/%s", e.Descriptor.Digest, shown(p.String()), shown(cf.OS), shown(cf.Architecture)))
	}
	return nil
}

// reportIndex reads a multi-platform image from a saved report: one of its
// indexes (by position in the report's indexes, or by the recorded
// argument or name; a report of one index needs neither), with nothing
// fetched. A report without indexes yields its one image, as report:
// does.
func reportIndex(path, selector string, sel Platforms) (*Index, error) {
	doc, err := ReadReport(path)
	if err != nil {
		return nil, err
	}
	if len(doc.Indexes) == 0 {
		i, err := selectRecorded(doc, selector)
		if err != nil {
			return nil, err
		}
		return singleIndex(recordedImage(path, doc, doc.Images[i]), sel)
	}
	rec, err := selectIndex(doc, selector)
	if err != nil {
		return nil, err
	}
	x := &Index{Name: rec.Name, Transport: Report, Recorded: rec}
	if rec.Digest != "" {
		if x.Digest, err = v1.NewHash(rec.Digest); err != nil {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("index digest: %w", err))
		}
		x.MediaType = types.MediaType(rec.MediaType)
		if rec.ManifestBytes != nil {
			x.ManifestSize = *rec.ManifestBytes
		}
	}
	var descs []v1.Descriptor
	for i, at := range rec.Platforms {
		img := doc.Images[at]
		p, err := v1.ParsePlatform(img.Platform)
		if err != nil || img.Platform == "" {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("platform image %d of the index records no valid platform (%q)", i, img.Platform))
		}
		// Recorded images have no manifest to read: the descriptor only
		// carries a key to match by.
		d := v1.Descriptor{Digest: v1.Hash{Algorithm: "index", Hex: strconv.Itoa(i)}, Platform: p}
		descs = append(descs, d)
		x.Entries = append(x.Entries, Entry{Descriptor: d, Kind: EntryImage, Platform: p, Image: recordedImage(path, doc, img)})
	}
	want := map[v1.Hash]bool{}
	for _, d := range descs {
		want[d.Digest] = sel.All
	}
	for _, p := range sel.List {
		matched, err := matchPlatform(descs, p, func(d v1.Descriptor) (*v1.Platform, error) { return d.Platform, nil })
		switch {
		case errors.Is(err, errdefs.ErrNotFound):
			x.Missing = append(x.Missing, p)
		case err != nil:
			return nil, err
		}
		for _, d := range matched {
			want[d.Digest] = true
		}
	}
	for i := range x.Entries {
		if !want[x.Entries[i].Descriptor.Digest] {
			x.Entries[i].Image = nil
		}
	}
	return x, nil
}

// selectIndex picks one of a report's indexes, as selectRecorded picks an
// image.
func selectIndex(doc *schema.Document, selector string) (*schema.IndexRecord, error) {
	n := len(doc.Indexes)
	refs := make([]string, n)
	for i, x := range doc.Indexes {
		refs[i] = shown(x.Ref)
	}
	if selector == "" {
		if n == 1 {
			return &doc.Indexes[0], nil
		}
		return nil, errdefs.UsageError(fmt.Errorf("the report holds %d multi-platform images (%s); choose one with report:PATH:N (0 to %d) or report:PATH:REF", n, strings.Join(refs, ", "), n-1))
	}
	if i, err := strconv.Atoi(selector); err == nil {
		if i < 0 || i >= n {
			return nil, errdefs.UsageError(fmt.Errorf("multi-platform image %d is not in the report: it holds 0 to %d", i, n-1))
		}
		return &doc.Indexes[i], nil
	}
	for i := range doc.Indexes {
		if doc.Indexes[i].Ref == selector || doc.Indexes[i].Name == selector {
			return &doc.Indexes[i], nil
		}
	}
	return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("no multi-platform image %q in the report (it holds %s)", selector, strings.Join(refs, ", ")))
}
