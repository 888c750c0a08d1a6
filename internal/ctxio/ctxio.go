// Package ctxio makes long reads stop when their context is done.
package ctxio

import (
	"context"
	"io"
)

// Reader ends a long read promptly once ctx is done (Ctrl-C while a
// multi-gigabyte layer or archive is being read): each Read first checks
// the context, so a copy loop stops within one buffer.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

func (c Reader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}

// BlockingReader is Reader for a source whose Read may block without end
// (a pipe whose writer stalled, as with `ssh host docker save | imgsize
// inspect -`): each Read runs apart and is abandoned when ctx is done, so
// the caller can clean up and exit. An abandoned Read ends with the
// process; nothing reads from r after that.
type BlockingReader struct {
	Ctx context.Context
	R   io.Reader
	buf []byte
}

// Read implements io.Reader.
func (c *BlockingReader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := c.R.Read(buf)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return copy(p, buf[:r.n]), r.err
	case <-c.Ctx.Done():
		// The goroutine may still write into buf: never reuse it.
		c.buf = nil
		return 0, c.Ctx.Err()
	}
}
