package files

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Capture asks Read for the content of a few regular files, such as the
// package databases an image holds. It is bounded: a matched file larger
// than MaxFile, or kept bytes beyond MaxTotal over all layers, fail the
// read with an error that says so (wrapping ErrCaptureLimit), rather than
// hold an unbounded amount of memory or silently keep part of a file.
type Capture struct {
	// Match chooses, by its entry (path, size, mode), a regular file whose
	// content is captured. It must be safe for concurrent use.
	Match func(e Entry) bool
	// Keep, when set, turns a matched file's content (at most e.Size bytes
	// from r) into what is kept: nil keeps nothing. It may stop reading
	// early. Without Keep the content itself is kept. It must be safe for
	// concurrent use.
	Keep func(e Entry, r io.Reader) ([]byte, error)
	// MaxFile is the largest matched file read; MaxTotal the most bytes
	// kept over all layers. 0 means no limit, which only a test should
	// want.
	MaxFile, MaxTotal int64
}

// ErrCaptureLimit is wrapped by the error of a Read whose Capture hit
// MaxFile or MaxTotal.
var ErrCaptureLimit = errors.New("capture limit exceeded")

// errCapture marks an error of the capture itself (a limit, or Keep's own
// error) rather than of the layer's bytes.
var errCapture = errors.New("capturing")

// captures is one layer's capturing: the kept contents by path (the last
// entry of a path in the layer wins, as it does in the filesystem), and the
// run's total of kept bytes.
type captures struct {
	c     *Capture
	total *atomic.Int64
	kept  map[string][]byte
}

type captureError struct{ err error }

func (e captureError) Error() string { return e.err.Error() }
func (e captureError) Unwrap() []error {
	return []error{e.err, errCapture}
}

func (cs *captures) capture(e Entry, r io.Reader) error {
	if cs.c.MaxFile > 0 && e.Size > cs.c.MaxFile {
		return captureError{fmt.Errorf("capturing /%s: %d bytes, over the limit of %d bytes a file: %w", e.Path, e.Size, cs.c.MaxFile, ErrCaptureLimit)}
	}
	r = io.LimitReader(r, e.Size)
	var b []byte
	var err error
	if cs.c.Keep != nil {
		b, err = cs.c.Keep(e, r)
		if err != nil {
			return captureError{fmt.Errorf("capturing /%s: %w", e.Path, err)}
		}
	} else {
		b = make([]byte, e.Size)
		if _, err = io.ReadFull(r, b); err != nil {
			// A short read is the tar's truncation: the layer is bad.
			return err
		}
	}
	if cs.kept == nil {
		cs.kept = map[string][]byte{}
	}
	if b == nil {
		// A later entry of the path that keeps nothing hides an earlier
		// one's content.
		delete(cs.kept, e.Path)
		return nil
	}
	if n := cs.total.Add(int64(len(b))); cs.c.MaxTotal > 0 && n > cs.c.MaxTotal {
		return captureError{fmt.Errorf("capturing /%s: the captured files add up to over %d bytes: %w", e.Path, cs.c.MaxTotal, ErrCaptureLimit)}
	}
	cs.kept[e.Path] = b
	return nil
}
