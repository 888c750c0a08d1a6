package layers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/readpool"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// countBuffers are reused from one layer to the next (see readpool).
var countBuffers = readpool.NewBuffers(1 << 20)

// countUncompressed reads a layer blob once, returning the length of its
// decompressed stream while checking the blob against its digest and the
// stream against diffID (when not zero: the config's diff_id, which
// pkg/files checks the same way with the same words). The
// format is taken from the bytes, not the media type, because tools do
// mislabel layers; bytes that are neither gzip nor zstd are an
// uncompressed tar. blob should stop on ctx (openLayer's reader does);
// ctx tells a cancelled read from a corrupt one.
func countUncompressed(ctx context.Context, blob io.Reader, digest, diffID v1.Hash) (int64, error) {
	corrupt := func(format string, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: "+format+": %w", digest, err))
	}
	h := sha256.New()
	br := countBuffers.Get(io.TeeReader(blob, h))
	defer countBuffers.Put(br)
	magic, _ := br.Peek(4)
	// dh hashes the decompressed stream, the diffID's content.
	dh := sha256.New()
	var n int64
	var err error
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := readpool.Gzip(br)
		defer readpool.PutGzip(zr)
		if err != nil {
			return 0, corrupt("bad gzip header", err)
		}
		// Multistream (the default) reads every gzip member: estargz and
		// concatenated layers are counted whole.
		n, err = io.Copy(dh, zr)
		if err != nil {
			return 0, corrupt("decompressing gzip", err)
		}
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, zerr := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if zerr != nil {
			return 0, corrupt("bad zstd header", zerr)
		}
		defer zr.Close()
		n, err = io.Copy(dh, zr)
		if err != nil {
			return 0, corrupt("decompressing zstd", err)
		}
	default:
		n, err = io.Copy(dh, br)
		if err != nil {
			return 0, corrupt("reading", err)
		}
	}
	// Hash whatever follows the compressed stream too: the digest covers
	// the whole blob.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return 0, corrupt("reading", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if digest.Algorithm == "sha256" {
		if got := hex.EncodeToString(h.Sum(nil)); got != digest.Hex {
			return 0, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: digest mismatch: content is sha256:%s", digest, got))
		}
	}
	if diffID.Algorithm == "sha256" {
		if got := hex.EncodeToString(dh.Sum(nil)); got != diffID.Hex {
			return 0, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: diff_id mismatch: config says %s, uncompressed content is sha256:%s", digest, diffID, got))
		}
	}
	return n, nil
}
