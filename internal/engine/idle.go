package engine

import (
	"context"
	"io"
	"sync"
	"time"
)

// idleBody fails a streamed answer that brings no bytes for the idle
// timeout. net/http's ResponseHeaderTimeout ends with the headers: a body
// that stalls after them would otherwise block a read for ever.
type idleBody struct {
	parent context.Context
	rc     io.ReadCloser
	idle   time.Duration
	cancel context.CancelFunc
	timer  *time.Timer
	err    error // returned once the timer fired

	mu      sync.Mutex
	stalled bool
}

func newIdleBody(parent context.Context, rc io.ReadCloser, idle time.Duration, cancel context.CancelFunc, stallErr error) *idleBody {
	b := &idleBody{parent: parent, rc: rc, idle: idle, cancel: cancel, err: stallErr}
	b.timer = time.AfterFunc(idle, func() {
		b.mu.Lock()
		b.stalled = true
		b.mu.Unlock()
		// Cancelling the request's context unblocks the read.
		cancel()
	})
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF {
		if perr := b.parent.Err(); perr != nil {
			return n, perr
		}
		b.mu.Lock()
		stalled := b.stalled
		b.mu.Unlock()
		if stalled {
			return n, b.err
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}
