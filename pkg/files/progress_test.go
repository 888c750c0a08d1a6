package files_test

import (
	"sync/atomic"
	"testing"

	"github.com/imgsize/imgsize/pkg/files"
)

// TestPlannedProgress: Read announces every layer's stored bytes once,
// before reading, reports each layer done, and its progress adds up to
// the announced total.
func TestPlannedProgress(t *testing.T) {
	t.Parallel()
	img, _ := knownImage(t)
	arg, _ := writeLayout(t, img)
	var plannedBytes, plannedLayers, calls, done, got atomic.Int64
	_, err := read(t, arg, files.Options{
		Planned:   func(b int64, n int) { plannedBytes.Add(b); plannedLayers.Add(int64(n)); calls.Add(1) },
		LayerDone: func() { done.Add(1) },
		Progress:  func(n int64) { got.Add(n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	var stored int64
	for _, l := range m.Layers {
		stored += l.Size
	}
	n := int64(len(m.Layers))
	if calls.Load() != 1 || plannedBytes.Load() != stored || plannedLayers.Load() != n || done.Load() != n || got.Load() != stored {
		t.Errorf("%d announcements of %d B in %d layers, %d done, %d B read; want 1 of %d B in %d, %d, %d B", calls.Load(), plannedBytes.Load(), plannedLayers.Load(), done.Load(), got.Load(), stored, n, n, stored)
	}
}
