package files_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/imgsize/imgsize/pkg/files"
)

// bigImage is a few layers large enough that reading them takes a while.
func bigImage(t testing.TB) (layers int, arg string) {
	t.Helper()
	var ls []member
	for i := range 16 {
		ls = append(ls, reg(string(rune('a'+i)), 0o644, pseudoRandom(uint64(i), 1<<20)))
	}
	l := layerOf(t, ls, gz)
	l2 := layerOf(t, ls[:8], zst)
	arg, _ = writeLayout(t, imageOf(t, l, l2))
	return 2, arg
}

// TestReadCancelled: a cancelled context stops Read promptly, before it
// starts and in the middle of a layer, with the context's error.
func TestReadCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes a large image")
	}
	_, arg := bigImage(t)
	src := open(t, arg)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := files.Read(ctx, src, files.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v, want context.Canceled", err)
	}

	for _, content := range []bool{false, true} {
		ctx, cancel := context.WithCancel(t.Context())
		var once sync.Once
		var seen countingProgress
		start := time.Now()
		_, err := files.Read(ctx, src, files.Options{Content: content, Progress: func(n int64) {
			seen.add(n)
			once.Do(cancel) // cancel as soon as reading has begun
		}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Content=%v: Read cancelled mid-layer = %v, want context.Canceled", content, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Content=%v: Read took %v after cancellation", content, d)
		}
		if n := seen.total(); n > 4<<20 {
			t.Errorf("Content=%v: read on for %d bytes after cancellation", content, n)
		}
		cancel()
	}
}

// TestReadCancelledWhileBlocked: a registry that stops sending mid-layer
// does not hold Read once the context ends.
func TestReadCancelledWhileBlocked(t *testing.T) {
	r := newRegistry(t)
	arg := r.push(t, imageOf(t, layerOf(t, []member{reg("a", 0o644, []byte("a"))}, gz)), "stall")
	src := open(t, arg)
	r.mu.Lock()
	r.stallBlobs = true
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := files.Read(ctx, src, files.Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read from a stalled registry = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Read took %v, want it to end soon after the 200ms deadline", d)
	}
}
