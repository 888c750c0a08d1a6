package main

import (
	"bytes"
	encbin "encoding/binary"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// chunkedGzip writes one gzip member (RFC 1952) of a stream made mostly
// of copies of one chunk, which it deflates once: deflating hundreds of
// MB, or 4 GB, in this race-instrumented process costs seconds. The deflate
// stream is strung together from pieces that each start with an empty
// window and end byte-aligned (a sync flush), so that any piece may follow
// any other: the chunk's piece stands for each write of the chunk, and
// the bytes written between chunks (tar headers) become pieces of their
// own. Back-references are relative, so each copy decodes as the first.
type chunkedGzip struct {
	w               io.Writer
	level           int
	chunk, deflated []byte
	pending         []byte // written since the last chunk, not yet deflated
	crc             uint32
	size            uint32 // the stream's length modulo 2³², as the trailer holds it
}

// newChunkedGzip deflates at level: flate.HuffmanOnly for data with no
// matches worth finding, flate.BestCompression for runs of zeros.
func newChunkedGzip(w io.Writer, chunk []byte, level int) (*chunkedGzip, error) {
	d, err := deflatePiece(chunk, false, level)
	if err != nil {
		return nil, err
	}
	// Magic, deflate, no flags, no modification time, no extra flags,
	// OS unknown: what compress/gzip writes by default.
	if _, err := w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}); err != nil {
		return nil, err
	}
	return &chunkedGzip{w: w, level: level, chunk: chunk, deflated: d}, nil
}

func (z *chunkedGzip) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	// The chunk is known by its address, as tar passes it on: comparing
	// the bytes would cost what this saves. Equal bytes elsewhere are
	// deflated as any others, which is slower but as correct.
	if len(p) != len(z.chunk) || &p[0] != &z.chunk[0] {
		z.pending = append(z.pending, p...)
		return len(p), nil
	}
	if err := z.flush(false); err != nil {
		return 0, err
	}
	if _, err := z.w.Write(z.deflated); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush deflates what was written since the last chunk as a piece, the
// final one when final.
func (z *chunkedGzip) flush(final bool) error {
	if len(z.pending) == 0 && !final {
		return nil
	}
	d, err := deflatePiece(z.pending, final, z.level)
	if err != nil {
		return err
	}
	z.pending = z.pending[:0]
	_, err = z.w.Write(d)
	return err
}

// Close ends the deflate stream and writes the trailer.
func (z *chunkedGzip) Close() error {
	if err := z.flush(true); err != nil {
		return err
	}
	_, err := z.w.Write(encbin.LittleEndian.AppendUint32(encbin.LittleEndian.AppendUint32(nil, z.crc), z.size))
	return err
}

// deflatePiece deflates b at level from an empty window and ends on a
// byte boundary: with a sync flush, or with the final block when final.
func deflatePiece(b []byte, final bool, level int) ([]byte, error) {
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, level)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(b); err != nil {
		return nil, err
	}
	if final {
		err = fw.Close()
	} else {
		err = fw.Flush()
	}
	return out.Bytes(), err
}
