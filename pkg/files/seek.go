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
//
// It reads ahead: each read of the source fills a buffer of up to
// seekBuffer bytes, and a Seek that lands inside it costs nothing. For
// each entry archive/tar seeks to the last byte of the content it skips,
// reads that byte (which finds truncation) and then the next header; with
// the buffer that is one read of the source instead of two, and none when
// a file is small enough that its successor's header was read with it.
// Every byte handed out was read from the source at its position, so a
// truncated blob still fails where it did.
type seekingReader struct {
	ctx      context.Context
	rs       io.ReadSeeker
	progress func(int64)
	pos      int64 // the position the caller sees
	err      error

	buf    []byte // bytes of the source from bufPos on
	bufPos int64
	srcPos int64 // where rs stands; -1 unknown
}

// seekBuffer is read of the source at once: a header, the byte before it
// and small files' contents, without reading much of large ones.
const seekBuffer = 16 << 10

func (s *seekingReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.pos < s.bufPos || s.pos >= s.bufPos+int64(len(s.buf)) {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.pos-s.bufPos:])
	s.advance(s.pos + int64(n))
	return n, nil
}

// fill reads the source from pos on into the buffer. At the end of the
// source it returns io.EOF with the buffer empty.
func (s *seekingReader) fill() error {
	if s.buf == nil {
		s.buf = make([]byte, seekBuffer)
		s.srcPos = 0
	}
	s.buf = s.buf[:cap(s.buf)]
	if s.srcPos != s.pos {
		if _, err := s.rs.Seek(s.pos, io.SeekStart); err != nil {
			s.buf, s.srcPos = s.buf[:0], -1
			s.note(err)
			return err
		}
	}
	n, err := s.rs.Read(s.buf)
	s.buf, s.bufPos, s.srcPos = s.buf[:n], s.pos, s.pos+int64(n)
	if n > 0 {
		// An error with data is met again by the next fill.
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	s.note(err)
	return err
}

func (s *seekingReader) note(err error) {
	if err != io.EOF && s.err == nil {
		s.err = err
	}
}

func (s *seekingReader) Seek(off int64, whence int) (int64, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = off
	case io.SeekCurrent:
		pos = s.pos + off
	default:
		p, err := s.rs.Seek(off, whence)
		s.srcPos = p
		if err != nil {
			s.srcPos = -1
			s.note(err)
			return p, err
		}
		pos = p
	}
	if pos < 0 {
		err := errors.New("seek to a negative position")
		s.note(err)
		return s.pos, err
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
