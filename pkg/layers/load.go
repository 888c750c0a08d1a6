package layers

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/internal/ctxio"
	"github.com/imgsize/imgsize/internal/memo"
	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// Options control how much work Load does.
type Options struct {
	// Exact reads every compressed layer of a registry image to count its
	// uncompressed size instead of taking a cheap path. Local images are
	// always counted.
	Exact bool
	// Jobs bounds how many layers are read at once; 0 means GOMAXPROCS.
	Jobs int
	// Memo, when shared between Load calls, keeps a layer present in several
	// registry images from being probed or read more than once. Local
	// images never share: each copy is read, which is what verifies it.
	Memo *Memo
	// Cache keeps what was learned about a layer across runs; nil: none.
	Cache *cache.Cache
	// EstimateCompressed fills in the compressed size of layers stored
	// uncompressed (docker-archive) by gzipping them as a push would; the
	// figure is marked Estimated.
	EstimateCompressed bool
	// Progress, when set, is called with the number of layer bytes read
	// (bytes as stored: the blob, compressed or not) each time a counted
	// or estimated read advances; it must be safe for concurrent use.
	Progress func(n int64)
	// Planned, when set, is called with the stored bytes and the number of
	// layers about to be read whole, and LayerDone as each such read ends
	// well, so a progress display knows its total; both must be safe for
	// concurrent use. A local image's layers are all planned before the
	// first is read; a registry image's each as soon as a read is certain
	// (with Exact at once, otherwise after its probe), without waiting for
	// one of Jobs. Layers sized without a read (Counted, the cache, the
	// gzip trailer, another image's read) are never planned; a layer both
	// counted and gzipped for EstimateCompressed is planned twice, as it
	// is read twice. Planned bytes add up to Progress's when every read
	// ends well.
	Planned   func(bytes int64, layers int)
	LayerDone func()
	// Counted holds uncompressed sizes already counted in this run from
	// this image's own blobs, by layer digest, each read whole and checked
	// against its digest (pkg/files does so while listing entries): they
	// are exact and stand in for reading the layer again.
	Counted map[v1.Hash]int64
	// CountWrappable counts every gzip layer whose blob is large enough
	// to hold 4 GiB or more (over 2^32/1032 bytes, deflate's best ratio)
	// instead of taking its size from the gzip trailer, which is the size
	// mod 4 GiB and could read far below the truth. It is for gates, where
	// an undercount passes an image that should fail; cached trailer
	// figures for such layers are not used, counted ones are. A size
	// stated by an annotation is a claim of the manifest, not a fact of
	// the blob, so under this option such layers are counted too.
	CountWrappable bool
	// NeverRead never reads a registry layer whole: a layer that no cheap
	// path sizes (annotation, cache, gzip trailer) gets an Unknown
	// uncompressed size whose reason says why, instead of being counted.
	// Layers under 1 KiB are then probed like larger ones. For commands
	// that read many images (trend), where a download per layer is never
	// worth it. The verdict on a trailer that cannot be used is cached
	// with the trailer's bytes, so a later run makes no request for it.
	// Local images are read as always.
	NeverRead bool
}

// Memo remembers uncompressed sizes by layer digest for one run, and
// makes concurrent requests for the same digest wait for one read. Only
// successes are kept: a read cancelled with one image's work does not fail
// the same layer in another image.
type Memo struct {
	sizes memo.Map[Size]
}

func (m *Memo) size(h string, compute func() (Size, error)) (Size, error) {
	return m.sizes.Do(h, func() (Size, bool, error) {
		s, err := compute()
		return s, true, err
	})
}

// cheapPaths says whether sizes may come from annotations, headers and
// trailers: for registry images, unless counting is asked for.
func cheapPaths(src *source.Image, opts Options) bool { return src.Remote && !opts.Exact }

// Load builds the size model of src.
func Load(ctx context.Context, src *source.Image, opts Options) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if src.Recorded != nil {
		return fromRecorded(src)
	}
	if src.Engine != nil {
		return fromEngine(ctx, src, opts)
	}
	img := src.Image
	out := &Image{Ref: src.Arg, Name: src.Name, Transport: string(src.Transport)}
	var err error
	if out.Manifest, err = img.RawManifest(); err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if out.Config, err = img.RawConfigFile(); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	out.ConfigSize = int64(len(out.Config))
	if !src.SyntheticManifest {
		out.ManifestSize = int64(len(out.Manifest))
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest: %w", err))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing config: %w", err))
	}
	// A synthetic manifest's digest and media type describe nothing real.
	if !src.SyntheticManifest {
		if out.Digest, err = img.Digest(); err != nil {
			return nil, err
		}
		if out.MediaType, err = img.MediaType(); err != nil {
			return nil, err
		}
	}
	out.SyntheticManifest = src.SyntheticManifest
	out.ConfigDigest = m.Config.Digest
	out.Platform = cf.Platform()
	out.Created = cf.Created.Time

	cheap := cheapPaths(src, opts)
	diffIDs := cf.RootFS.DiffIDs
	createdBy := historyByLayer(cf.History, len(m.Layers))
	out.History = steps(cf.History, len(m.Layers))
	out.Layers = make([]Layer, len(m.Layers))
	var toCount []int
	for i, d := range m.Layers {
		l := Layer{Digest: d.Digest, MediaType: d.MediaType, Annotations: d.Annotations, CreatedBy: createdBy[i]}
		if len(diffIDs) == len(m.Layers) {
			l.DiffID = diffIDs[i]
		}
		l.Compressed = Size{Bytes: d.Size, Provenance: Exact}
		if src.SyntheticManifest && isUncompressed(d.MediaType) {
			l.Compressed = Size{Provenance: Unknown, Reason: "the archive stores this layer uncompressed; its compressed size depends on how it is pushed"}
		}
		n, annotated := annotatedSize(d)
		counted, isCounted := opts.Counted[d.Digest]
		switch {
		case isCounted && counted > 0:
			l.Uncompressed = Size{Bytes: counted, Provenance: Exact}
		case isUncompressed(d.MediaType) && !opts.Exact:
			// The stored blob is the tar stream itself: its size is the
			// uncompressed size, no bytes read (so not digest-checked;
			// --exact reads and checks it).
			l.Uncompressed = Size{Bytes: d.Size, Provenance: Exact}
		case cheap && annotated && !opts.CountWrappable:
			// An annotation is a statement of this manifest, not a fact of
			// the blob: it is never memoised or cached by digest, so one
			// manifest cannot change another image's figures.
			l.Uncompressed = Size{Bytes: n, Provenance: Annotation}
		default:
			toCount = append(toCount, i)
		}
		out.Layers[i] = l
	}

	// Layers read whole are checked against their diffIDs; a config that
	// does not list one per layer would silently skip that check.
	if len(toCount) > 0 && len(diffIDs) != len(m.Layers) {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("config lists %d diff_ids for %d layers", len(diffIDs), len(m.Layers)))
	}
	if err := sizeLayers(ctx, src, cheap, m.Layers, out.Layers, toCount, opts); err != nil {
		return nil, err
	}
	if opts.EstimateCompressed {
		// The layers estimateCompressed gzips, read whole as stored. It
		// reports no layer's end, so all are done when it returns.
		var planned int
		if opts.Planned != nil {
			var bytes int64
			for i, l := range out.Layers {
				if !l.Compressed.Known() && isUncompressed(l.MediaType) {
					bytes += m.Layers[i].Size
					planned++
				}
			}
			if planned > 0 {
				opts.Planned(bytes, planned)
			}
		}
		if err := estimateCompressed(ctx, img, out.Layers, opts); err != nil {
			return nil, err
		}
		for range planned {
			if opts.LayerDone != nil {
				opts.LayerDone()
			}
		}
	}

	totals(out)
	return out, nil
}

// sizeLayers finds the uncompressed size of the layers at idx, in
// parallel, each digest once per run.
func sizeLayers(ctx context.Context, src *source.Image, cheap bool, descs []v1.Descriptor, ls []Layer, idx []int, opts Options) error {
	if len(idx) == 0 {
		return nil
	}
	// Local images are never answered from another image's read: each
	// copy of a layer is read, which is what verifies it.
	memo := opts.Memo
	if memo == nil || !src.Remote {
		memo = &Memo{}
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	// A figure from a cheap path must not answer a request to count
	// (local images, --exact), so the mode is part of the key. So is the
	// gate's, and the diffID a read is checked against: two configs
	// naming one blob with different diffIDs each get their own check.
	key := func(i int) string {
		k := descs[i].Digest.String() + " " + ls[i].DiffID.String()
		if cheap {
			k += " cheap"
			if opts.CountWrappable {
				k += " wrappable"
			}
			if opts.NeverRead {
				k += " never-read"
			}
		}
		return k
	}
	// A local image reads every layer here whole, once per key (its memo
	// is its own, and no cache answers for it), so all are planned before
	// the first read: a progress display's total is then the image's, not
	// that of the reads in flight. A registry layer may yet be answered by
	// the cache, the trailer or another image's read; uncompressedSize
	// plans it once a read is certain.
	if !src.Remote && opts.Planned != nil {
		seen := map[string]bool{}
		var bytes int64
		for _, i := range idx {
			if k := key(i); !seen[k] {
				seen[k] = true
				bytes += descs[i].Size
			}
		}
		opts.Planned(bytes, len(seen))
		opts.Planned = nil
	}
	// Every layer's goroutine starts at once and takes one of jobs slots
	// only to probe or read, not while it waits for the cache or another
	// image's read, so a registry layer's read is planned as soon as it is
	// certain, not as a slot frees. An image has a few hundred layers at
	// most.
	slots := make(slots, jobs)
	g, gctx := errgroup.WithContext(ctx)
	for _, i := range idx {
		g.Go(func() error {
			size, err := memo.size(key(i), func() (Size, error) {
				return uncompressedSize(gctx, src, cheap, descs[i], ls[i].DiffID, opts, slots)
			})
			if err != nil {
				return err
			}
			// Each goroutine writes only its own slot.
			ls[i].Uncompressed = size
			return nil
		})
	}
	return g.Wait()
}

// slots bounds the probes and reads under way at once.
type slots chan struct{}

// take waits for a slot, or for ctx to end.
func (s slots) take(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) give() { <-s }

// uncompressedSize takes the cheapest trustworthy way: for registry images
// the cache, then the cheap path (the gzip trailer); otherwise one full
// read of the blob, counted, digest-checked and diffID-checked. Local
// images are always counted: reading them is what verifies them, and the
// cache would skip that. It holds one of slots only while it probes or
// reads.
func uncompressedSize(ctx context.Context, src *source.Image, cheap bool, d v1.Descriptor, diffID v1.Hash, opts Options, slots slots) (Size, error) {
	if e, ok := opts.Cache.Get(d.Digest); ok && src.Remote && cacheUsable(e, d, cheap, opts.CountWrappable) {
		return Size{Bytes: e.Uncompressed, Provenance: Provenance(e.Provenance), Reason: e.Reason}, nil
	}
	var reason string
	if cheap && src.Blobs != nil {
		if opts.NeverRead {
			if tail, ok := opts.Cache.GetBlob(trailerKind, d.Digest); ok && len(tail) == 4 {
				if _, why := gzipTrailerSize(tail, d.Size); why != "" {
					return notRead(why), nil
				}
			}
		}
		if err := slots.take(ctx); err != nil {
			return Size{}, err
		}
		p, ok, err := cheapUncompressed(ctx, src.Blobs, d, opts.CountWrappable, opts.NeverRead)
		slots.give()
		if err != nil {
			return Size{}, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		if ok {
			// Only a figure that passed every check reaches here, and so
			// the cache. A cache that cannot be written only costs a
			// later run time.
			_ = opts.Cache.Put(d.Digest, cache.Entry{Uncompressed: p.n, Provenance: string(p.prov)})
			return Size{Bytes: p.n, Provenance: p.prov}, nil
		}
		if opts.NeverRead {
			if p.tail != nil {
				// The trailer is a fact of the blob: the same verdict
				// follows from it next time, without a request.
				_ = opts.Cache.PutBlob(trailerKind, d.Digest, p.tail)
			}
			return notRead(p.reason), nil
		}
		reason = p.reason
		if reason != reasonWrappable {
			reason = "read whole: " + reason
		}
	}
	if opts.Planned != nil {
		opts.Planned(d.Size, 1)
	}
	if err := slots.take(ctx); err != nil {
		return Size{}, err
	}
	n, err := countLayer(ctx, src.Image, d.Digest, diffID, opts.Progress)
	slots.give()
	if err != nil {
		return Size{}, err
	}
	if opts.LayerDone != nil {
		opts.LayerDone()
	}
	_ = opts.Cache.Put(d.Digest, cache.Entry{Uncompressed: n, Provenance: string(Exact), Reason: reason})
	return Size{Bytes: n, Provenance: Exact, Reason: reason}, nil
}

// cacheUsable says whether a cache entry may answer for layer d. A count
// always may. A derived figure may only on the cheap path, and only if it
// would pass today's checks: entries written by earlier versions may hold
// a zstd frame header's size (one frame of possibly several) or a trailer
// no check refused then; and under the gate, no trailer of a blob that
// could have wrapped.
func cacheUsable(e cache.Entry, d v1.Descriptor, cheap, countWrappable bool) bool {
	switch Provenance(e.Provenance) {
	case Exact:
		// A count must at least be one this blob could have given: the
		// cache is outside input (a CI cache restored from elsewhere),
		// and its checksum shows damage, not a deliberate edit.
		switch {
		case e.Uncompressed < 0 || e.Uncompressed > maxLayerBytes:
			return false
		case isUncompressed(d.MediaType):
			return e.Uncompressed == d.Size
		case d.MediaType == types.OCILayer || d.MediaType == types.DockerLayer:
			// An entry below what the blob must hold is an undercount a
			// gate would pass; a true count that falls outside (a blob
			// with trailing bytes, say) only costs a read each run.
			return e.Uncompressed >= minGzipContent(d.Size) && e.Uncompressed <= maxGzipContent(d.Size)
		}
		return true
	case GzipTrailer:
		if !cheap || countWrappable && trailerMayWrap(d.Size) || d.Size >= maxISIZE {
			return false
		}
		var tail [4]byte
		binary.LittleEndian.PutUint32(tail[:], uint32(e.Uncompressed))
		n, why := gzipTrailerSize(tail[:], d.Size)
		return why == "" && n == e.Uncompressed
	}
	return false
}

// trailerKind is the cache kind holding the 4 trailer bytes of gzip
// layers whose trailer could not be used (Options.NeverRead).
const trailerKind = "gzip-trailer"

// notRead is the size of a layer Options.NeverRead leaves unread.
func notRead(why string) Size {
	return Size{Provenance: Unknown, Reason: "not read whole (no cheap path: " + why + ")"}
}

func countLayer(ctx context.Context, img v1.Image, d, diffID v1.Hash, progress func(int64)) (int64, error) {
	r, c, err := openLayer(ctx, img, d, progress)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return countUncompressed(ctx, r, d, diffID)
}

// openLayer opens a layer's stored bytes for one long read that stops on
// cancellation and reports progress.
func openLayer(ctx context.Context, img v1.Image, d v1.Hash, progress func(int64)) (io.Reader, io.Closer, error) {
	l, err := img.LayerByDigest(d)
	if err != nil {
		return nil, nil, fmt.Errorf("layer %s: %w", d, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, nil, fmt.Errorf("opening layer %s: %w", d, err)
	}
	var r io.Reader = ctxio.Reader{Ctx: ctx, R: rc}
	if progress != nil {
		r = progressReader{r, progress}
	}
	return r, rc, nil
}

type progressReader struct {
	r io.Reader
	f func(int64)
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.f(int64(n))
	}
	return n, err
}

func isUncompressed(mt types.MediaType) bool {
	switch mt {
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}

// steps is the config history with each step tied to the layer it made,
// when the non-empty steps number the layers (see Step.Layer).
func steps(h []v1.History, n int) []Step {
	if len(h) == 0 {
		return nil
	}
	made := 0
	for _, e := range h {
		if !e.EmptyLayer {
			made++
		}
	}
	out := make([]Step, len(h))
	layer := 0
	for i, e := range h {
		s := Step{Created: e.Created.Time, CreatedBy: e.CreatedBy, Comment: e.Comment, Empty: e.EmptyLayer, Layer: -1}
		if !e.EmptyLayer && made == n {
			s.Layer = layer
			layer++
		}
		out[i] = s
	}
	return out
}

// historyByLayer maps the config history onto layers: entries marked
// empty_layer made no layer and are skipped. When the counts disagree (a
// history rewritten by hand) nothing is attributed rather than something
// wrong.
func historyByLayer(h []v1.History, n int) []string {
	out := make([]string, n)
	var made []string
	for _, e := range h {
		if !e.EmptyLayer {
			made = append(made, e.CreatedBy)
		}
	}
	if len(made) != n {
		return out
	}
	copy(out, made)
	return out
}
