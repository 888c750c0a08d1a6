package files

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/ctxio"
	"github.com/imgsize/imgsize/internal/readpool"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// zstdConcurrency is 1: the zstd stream decodes synchronously, in the
// reading goroutine. Above 1 it would read the blob from goroutines of its
// own, ahead of the tar, racing with the digest check and the final drain
// of the same reader; layers already run in parallel up to Jobs.
const zstdConcurrency = 1

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// scanLayer reads one layer blob and returns its entries. verified says
// whether the blob was checked against its digest, which only a read of
// every byte does: a header-only read of an uncompressed local layer
// (seekLayer) is not.
func scanLayer(ctx context.Context, rc io.ReadCloser, d v1.Descriptor, diffID v1.Hash, opts Options, cs *captures) ([]Entry, scanned, error) {
	if !opts.Content {
		if rs, ok := seeker(rc); ok {
			es, done, err := seekLayer(ctx, rs, d, opts, cs)
			if done || err != nil {
				return es, scanned{}, err
			}
			// Compressed: fall through to the stream, rs rewound.
			rc = io.NopCloser(rs)
		}
	}
	return streamLayer(ctx, rc, d, diffID, opts, cs)
}

// scanned is what a read established besides the entries: whether the
// blob was checked against its digest, and the length of its uncompressed
// stream when every byte of it was read (0 otherwise).
type scanned struct {
	verified     bool
	uncompressed int64
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// storedReader reads a layer's stored bytes once: it stops on ctx, hashes
// what passes for the digest check, reports progress, and remembers the
// first error of the source itself, to tell a failed read from bad bytes.
type storedReader struct {
	r        io.Reader
	h        hash.Hash
	progress func(int64)
	err      error
}

func (s *storedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.h.Write(p[:n])
		if s.progress != nil {
			s.progress(int64(n))
		}
	}
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// hashReader hashes the uncompressed stream for the diff_id check.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func (h hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// scanBuffers are reused from one layer to the next (see readpool).
var scanBuffers = readpool.NewBuffers(256 << 10)

// streamLayer reads every byte of the blob once: decompressing it by its
// magic bytes (gzip, including multi-member and eStargz; zstd; anything
// else is taken as an uncompressed tar, as tools do mislabel media types),
// parsing the tar, hashing contents when asked, and checking both the
// stored bytes against the layer digest and the tar stream against the
// diff_id.
func streamLayer(ctx context.Context, rc io.Reader, d v1.Descriptor, diffID v1.Hash, opts Options, cs *captures) ([]Entry, scanned, error) {
	st := &storedReader{r: ctxio.Reader{Ctx: ctx, R: rc}, h: sha256.New(), progress: opts.Progress}
	fail := func(what string, err error) error { return failure(ctx, d.Digest, st.err, what, err) }

	br := scanBuffers.Get(st)
	defer scanBuffers.Put(br)
	magic, _ := br.Peek(4)
	var stream io.Reader = br
	switch {
	case hasPrefix(magic, gzipMagic):
		// Multistream (the default) reads every gzip member: eStargz and
		// concatenated layers are read whole.
		zr, err := readpool.Gzip(br)
		defer readpool.PutGzip(zr)
		if err != nil {
			return nil, scanned{}, fail("bad gzip header", err)
		}
		stream = zr
	case hasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(zstdConcurrency))
		if err != nil {
			return nil, scanned{}, fail("bad zstd header", err)
		}
		defer zr.Close()
		stream = zr
	}
	compressed := stream != io.Reader(br)
	// Counting the uncompressed stream as it passes spares pkg/layers a
	// second decompression of the same blob for its uncompressed size.
	var count int64
	stream = countingReader{stream, &count}
	// The diff_id is hashed only when it says something the digest does
	// not: for an uncompressed blob the two must simply be equal.
	var dh hash.Hash
	if compressed && diffID.Algorithm == "sha256" {
		dh = sha256.New()
		stream = hashReader{stream, dh}
	}

	es, err := readTar(ctx, stream, opts.Content, cs)
	if err != nil {
		if errors.Is(err, errCapture) {
			return nil, scanned{}, err
		}
		return nil, scanned{}, fail("reading tar", err)
	}
	// Drain what follows the tar's end: its padding belongs to the diff_id,
	// and reading to the end checks the last gzip member's CRC or zstd
	// frame's checksum; then whatever follows the compressed stream, which
	// the digest covers too.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return nil, scanned{}, fail("reading after the tar's end", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, scanned{}, fail("reading", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, scanned{}, err
	}
	var res scanned
	if d.Digest.Algorithm == "sha256" {
		if got := hex.EncodeToString(st.h.Sum(nil)); got != d.Digest.Hex {
			return nil, scanned{}, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: digest mismatch: content is sha256:%s", d.Digest, got))
		}
		res.verified = true
	}
	switch {
	case dh != nil:
		if got := hex.EncodeToString(dh.Sum(nil)); got != diffID.Hex {
			return nil, scanned{}, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: diff_id mismatch: config says %s, uncompressed content is sha256:%s", d.Digest, diffID, got))
		}
	case !compressed && diffID != (v1.Hash{}) && diffID != d.Digest:
		return nil, scanned{}, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: diff_id mismatch: config says %s of an uncompressed layer", d.Digest, diffID))
	}
	// With the digest checked, the count is a fact of the blob the
	// digest names.
	if res.verified {
		res.uncompressed = count
	}
	return es, res, nil
}

// maxPath is Linux's PATH_MAX, the longest name a path can be opened by.
const maxPath = 4096

// readTar lists the entries of a tar stream, skipping contents unless
// content asks for their digests. archive/tar consumes PAX and GNU
// long-name headers itself and seeks past contents when r can seek.
//
// Hashing a file checks ctx on its own: the holes of a sparse file come
// out of archive/tar as zeros without reading r, and a few bytes of
// sparse map can claim exabytes.
func readTar(ctx context.Context, r io.Reader, content bool, cs *captures) ([]Entry, error) {
	tr := tar.NewReader(r)
	var es []Entry
	var buf []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return nil, err
		}
		// Analyses walk paths component by component; a name no Linux
		// system can open (archive/tar allows 1 MiB) would cost them time
		// and memory with its depth squared.
		if len(h.Name) > maxPath {
			return nil, fmt.Errorf("an entry's name is %d bytes, longer than PATH_MAX (%d): no Linux filesystem can hold it", len(h.Name), maxPath)
		}
		e, ok := entryOf(h)
		if !ok {
			continue
		}
		if cs != nil && e.Type == Regular && cs.c.Match != nil && cs.c.Match(e) {
			// One read serves both: the capture sees what is hashed.
			var ch hash.Hash
			var r io.Reader = ctxio.Reader{Ctx: ctx, R: tr}
			if content {
				ch = sha256.New()
				r = io.TeeReader(r, ch)
			}
			if err := cs.capture(e, r); err != nil {
				return nil, err
			}
			if content {
				// Whatever the capture left unread is hashed too.
				if _, err := io.Copy(ch, ctxio.Reader{Ctx: ctx, R: tr}); err != nil {
					return nil, err
				}
				e.Digest = "sha256:" + hex.EncodeToString(ch.Sum(nil))
			}
		} else if content && e.Type == Regular {
			if buf == nil {
				buf = make([]byte, 64<<10)
			}
			ch := sha256.New()
			if _, err := io.CopyBuffer(ch, ctxio.Reader{Ctx: ctx, R: tr}, buf); err != nil {
				return nil, err
			}
			e.Digest = "sha256:" + hex.EncodeToString(ch.Sum(nil))
		}
		es = append(es, e)
	}
}

// failure turns an error met while reading a layer into what Read returns:
// ctx's error when ctx ended (a closed blob or a cancelled read is not a
// bad layer); the source's own error when the blob could not be read (disk
// or network, not the image's fault); otherwise the bytes are bad, and the
// error is ErrCorrupt naming the layer.
func failure(ctx context.Context, digest v1.Hash, srcErr error, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if isIOError(srcErr) {
		return fmt.Errorf("layer %s: reading: %w", digest, srcErr)
	}
	return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %s: %s: %w", digest, what, err))
}

// isIOError says whether a source failed to deliver bytes, as opposed to
// delivering wrong ones (a registry's digest check, a short body).
func isIOError(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &ne) || errors.As(err, &pe) || errors.As(err, &errno)
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
