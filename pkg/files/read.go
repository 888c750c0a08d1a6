package files

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// Options control Read.
type Options struct {
	// Content also computes each regular file's sha256 (Entry.Digest):
	// every content byte is then read and hashed, never skipped.
	Content bool
	// Jobs bounds how many layers are read at once; 0 means GOMAXPROCS.
	Jobs int
	// Cache remembers each layer's entries by layer digest (and whether
	// they carry content digests); nil: none. Only registry images' layers
	// are answered from it, as pkg/layers does for sizes; see readLayer.
	Cache *cache.Cache
	// Progress, when set, is called as each layer advances with the number
	// of its stored (compressed) bytes read, skipped by seeking or, for a
	// layer answered from the cache, its whole size: over a successful Read
	// the calls add up to the sum of the layers' sizes, for a progress bar.
	// It must be safe for concurrent use.
	Progress func(n int64)
	// Planned, when set, is called once, before any layer is read, with
	// the stored bytes and the number of the layers Read will go through;
	// LayerDone as each ends well. Both must be safe for concurrent use.
	Planned   func(bytes int64, layers int)
	LayerDone func()
	// Capture, when set, keeps the content of the few regular files it
	// matches (Layer.Captured). A capturing read never answers a layer
	// from the cache: the cache holds entries, not contents.
	Capture *Capture
}

// Read returns what each layer of src holds, in manifest order. Each layer
// is read once, as a stream, up to Options.Jobs at once; its stored bytes
// are checked against the layer digest and its tar stream against the
// config's diff_id as they pass, so a layer that is not what the manifest
// says fails with errdefs.ErrCorrupt. Entries are kept, contents never.
func Read(ctx context.Context, src *source.Image, opts Options) ([]Layer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if src.Recorded != nil {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("a saved report records sizes, not files; name the image itself"))
	}
	// An engine's image has no layer bytes until the engine exports it;
	// the export is kept with src, so the model reads it too.
	src, err := src.Export(ctx)
	if err != nil {
		return nil, err
	}
	m, err := src.Image.Manifest()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest: %w", err))
	}
	cf, err := src.Image.ConfigFile()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing config: %w", err))
	}
	// A config whose diff_ids do not pair up with the layers attributes
	// none rather than wrong ones; the layer digests are still checked.
	diffIDs := cf.RootFS.DiffIDs
	if len(diffIDs) != len(m.Layers) {
		diffIDs = nil
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if opts.Planned != nil {
		var total int64
		for _, d := range m.Layers {
			total += d.Size
		}
		opts.Planned(total, len(m.Layers))
	}
	out := make([]Layer, len(m.Layers))
	// total counts the bytes every layer's captures keep, against
	// Capture.MaxTotal.
	var total atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, d := range m.Layers {
		out[i].Digest = d.Digest
		if diffIDs != nil {
			out[i].DiffID = diffIDs[i]
		}
		diffID := out[i].DiffID
		g.Go(func() error {
			var cs *captures
			if opts.Capture != nil {
				cs = &captures{c: opts.Capture, total: &total}
			}
			es, n, err := readLayer(gctx, src, d, diffID, opts, cs)
			if err != nil {
				return err
			}
			// Each goroutine writes only its own slot.
			out[i].Entries, out[i].Uncompressed = es, n
			if cs != nil {
				out[i].Captured = cs.kept
			}
			if opts.LayerDone != nil {
				opts.LayerDone()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// readLayer returns the entries of one layer: from the cache for a
// registry image, otherwise by reading it.
//
// Local images (archives, layouts) are never answered from the cache: the
// blob is on disk, and reading it is what checks it against its digest;
// an entry cached from another copy of the digest would hide a damaged or
// altered local file. A registry's blob, by contrast, is what the digest
// names (the registry is content-addressed, and every read of it here was
// checked), so the cache can stand for it, as it does for pkg/layers'
// sizes. Entries are cached only from a read that checked the digest, from
// any source, so the cache holds only what a digest's bytes really hold.
func readLayer(ctx context.Context, src *source.Image, d v1.Descriptor, diffID v1.Hash, opts Options, cs *captures) ([]Entry, int64, error) {
	if src.Remote && opts.Capture == nil {
		if es, ok := cached(opts.Cache, d.Digest, opts.Content); ok {
			if opts.Progress != nil {
				opts.Progress(d.Size)
			}
			return es, 0, nil
		}
	}
	l, err := src.Image.LayerByDigest(d.Digest)
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, 0, fmt.Errorf("opening layer %s: %w", d.Digest, err)
	}
	defer rc.Close()
	// Closing the blob unblocks a read waiting on the network when ctx
	// ends; the reading loop then reports ctx's error.
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	es, res, err := scanLayer(ctx, rc, d, diffID, opts, cs)
	if err != nil {
		return nil, 0, err
	}
	if res.verified {
		// A cache that cannot be written only costs a later run time.
		_ = store(opts.Cache, d.Digest, opts.Content, es)
	}
	return es, res.uncompressed, nil
}
