package layers

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// Options control how much work Load does.
type Options struct {
	// Exact reads every compressed layer of a registry image to count its
	// uncompressed size. Local images are always counted.
	Exact bool
	// Jobs bounds how many layers are read at once; 0 means GOMAXPROCS.
	Jobs int
	// Memo, when shared between Load calls, keeps a layer present in several
	// images from being read more than once.
	Memo *Memo
}

// Memo remembers uncompressed sizes by layer digest for one run.
type Memo struct {
	mu sync.Mutex
	m  map[v1.Hash]*memoEntry
}

type memoEntry struct {
	once sync.Once
	n    int64
	err  error
}

func (m *Memo) entry(h v1.Hash) *memoEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[v1.Hash]*memoEntry{}
	}
	e, ok := m.m[h]
	if !ok {
		e = &memoEntry{}
		m.m[h] = e
	}
	return e
}

// Load builds the size model of src.
func Load(ctx context.Context, src *source.Image, opts Options) (*Image, error) {
	img := src.Image
	out := &Image{Ref: src.Arg, Name: src.Name, Transport: string(src.Transport)}
	var err error
	if out.Manifest, err = img.RawManifest(); err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if out.Config, err = img.RawConfigFile(); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest: %w", err))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing config: %w", err))
	}
	if out.Digest, err = img.Digest(); err != nil {
		return nil, err
	}
	if out.MediaType, err = img.MediaType(); err != nil {
		return nil, err
	}
	out.Platform = cf.Platform()

	diffIDs := cf.RootFS.DiffIDs
	createdBy := historyByLayer(cf.History, len(m.Layers))
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
		switch {
		case isUncompressed(d.MediaType):
			// The stored blob is the tar stream itself: its size is the
			// uncompressed size, no bytes read.
			l.Uncompressed = Size{Bytes: d.Size, Provenance: Exact}
		case !src.Remote || opts.Exact:
			toCount = append(toCount, i)
		default:
			l.Uncompressed = Size{Provenance: Unknown, Reason: "a registry states only compressed sizes; use --exact to read the layers"}
		}
		out.Layers[i] = l
	}

	if err := countLayers(ctx, img, out.Layers, toCount, opts); err != nil {
		return nil, err
	}

	cs := make([]Size, len(out.Layers))
	us := make([]Size, len(out.Layers))
	for i, l := range out.Layers {
		cs[i], us[i] = l.Compressed, l.Uncompressed
	}
	out.Compressed, out.Uncompressed = Total(cs), Total(us)
	return out, nil
}

func countLayers(ctx context.Context, img v1.Image, ls []Layer, idx []int, opts Options) error {
	if len(idx) == 0 {
		return nil
	}
	memo := opts.Memo
	if memo == nil {
		memo = &Memo{}
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, i := range idx {
		g.Go(func() error {
			d := ls[i].Digest
			e := memo.entry(d)
			e.once.Do(func() { e.n, e.err = countLayer(gctx, img, d) })
			if e.err != nil {
				return e.err
			}
			// Each goroutine writes only its own slot.
			ls[i].Uncompressed = Size{Bytes: e.n, Provenance: Exact}
			return nil
		})
	}
	return g.Wait()
}

func countLayer(ctx context.Context, img v1.Image, d v1.Hash) (int64, error) {
	l, err := img.LayerByDigest(d)
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", d, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return 0, fmt.Errorf("opening layer %s: %w", d, err)
	}
	defer rc.Close()
	return countUncompressed(ctx, rc, d)
}

func isUncompressed(mt types.MediaType) bool {
	switch mt {
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
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
