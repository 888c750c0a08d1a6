package layers

import (
	"context"
	"fmt"
	"io"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// estimateReason says how an estimated compressed size was made.
const estimateReason = "the stored tar gzipped at the default level (klauspost/compress), close to what docker push produces; a registry's figure may differ, by more for small layers"

// estimateCompressed gzips each layer whose compressed size is unknown and
// counts the output. It is opt-in: it reads and compresses every such layer.
func estimateCompressed(ctx context.Context, img v1.Image, ls []Layer, opts Options) error {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i := range ls {
		if ls[i].Compressed.Known() || !isUncompressed(ls[i].MediaType) {
			continue
		}
		g.Go(func() error {
			n, err := gzipSize(gctx, img, ls[i].Digest, opts.Progress)
			if err != nil {
				return err
			}
			ls[i].Compressed = Size{Bytes: n, Provenance: Estimated, Reason: estimateReason}
			return nil
		})
	}
	return g.Wait()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func gzipSize(ctx context.Context, img v1.Image, d v1.Hash, progress func(int64)) (int64, error) {
	r, c, err := openLayer(ctx, img, d, progress)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var cw countWriter
	zw := gzip.NewWriter(&cw)
	if _, err := io.Copy(zw, r); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, cerr
		}
		return 0, fmt.Errorf("compressing layer %s: %w", d, err)
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}
