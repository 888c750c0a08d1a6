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
