package files

import (
	"context"
	"errors"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Header-only reads of uncompressed local layers.
//
// A docker-archive stores layers uncompressed, and so may an OCI layout;
// listing such a layer's entries needs only its headers, and archive/tar
// seeks past file contents when its reader can seek, so without Content a
// multi-gigabyte layer costs a few reads per file instead of every byte.
// The price: the blob is not checked against its digest (nor its diff_id,
// which for an uncompressed layer is the same hash), exactly as pkg/layers
// takes an uncompressed layer's size from the manifest unread. Truncation
// is still found: archive/tar reads the last byte of each skipped content.
// Such a read is never cached. Content reads every byte and checks it.

// seeker returns rc's Seek, if it has one: pkg/source serves local blobs
// (docker-archive, OCI layout and archive) as seekable sections of files.
func seeker(rc io.ReadCloser) (io.ReadSeeker, bool) {
	rs, ok := rc.(io.ReadSeeker)
	return rs, ok
}

// seekLayer lists an uncompressed layer's entries from its headers alone.
// done is false, with rs rewound, when the blob turns out compressed: it
// must then be streamed.
func seekLayer(ctx context.Context, rs io.ReadSeeker, d v1.Descriptor, opts Options, cs *captures) (es []Entry, done bool, err error) {
	magic := make([]byte, 4)
	n, err := io.ReadFull(rs, magic)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, false, failure(ctx, d.Digest, err, "reading", err)
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, false, failure(ctx, d.Digest, err, "seeking", err)
	}
	if hasPrefix(magic[:n], gzipMagic) || hasPrefix(magic[:n], zstdMagic) {
		return nil, false, nil
	}
	sr := &seekingReader{ctx: ctx, rs: rs, progress: opts.Progress}
	es, err = readTar(ctx, sr, false, cs)
	if err != nil {
		if errors.Is(err, errCapture) {
			return nil, true, err
		}
		return nil, true, failure(ctx, d.Digest, sr.err, "reading tar", err)
	}
	// What follows the tar's end is padding the digest would cover, but
	// this read checks no digest; count it as skipped for progress.
	if sr.progress != nil && d.Size > sr.pos {
		sr.progress(d.Size - sr.pos)
	}
	return es, true, nil
}

// seekingReader stops on ctx, remembers the source's first error, and
// reports progress for bytes read and skipped alike.
type seekingReader struct {
	ctx      context.Context
	rs       io.ReadSeeker
	progress func(int64)
	pos      int64
	err      error
}

func (s *seekingReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.rs.Read(p)
	s.advance(s.pos + int64(n))
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

func (s *seekingReader) Seek(off int64, whence int) (int64, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	pos, err := s.rs.Seek(off, whence)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return pos, err
	}
	s.advance(pos)
	return pos, nil
}

func (s *seekingReader) advance(pos int64) {
	if pos > s.pos && s.progress != nil {
		s.progress(pos - s.pos)
	}
	s.pos = pos
}
