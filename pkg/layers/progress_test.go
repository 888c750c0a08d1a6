package layers_test

import (
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/imgsize/imgsize/pkg/layers"
)

// TestPlannedProgress: each layer read whole is announced with its stored
// bytes before it is read and reported done after, and the progress calls
// add up to what was announced, so a display's total is true.
func TestPlannedProgress(t *testing.T) {
	t.Parallel()
	img, err := random.Image(50_000, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	var plannedBytes, plannedLayers, done, read atomic.Int64
	opts := layers.Options{
		Planned:   func(b int64, n int) { plannedBytes.Add(b); plannedLayers.Add(int64(n)) },
		LayerDone: func() { done.Add(1) },
		Progress:  func(n int64) { read.Add(n) },
	}
	if _, err := load(t, "oci:"+dir, opts); err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	var stored int64
	for _, l := range m.Layers {
		stored += l.Size
	}
	if plannedBytes.Load() != stored || plannedLayers.Load() != 3 || done.Load() != 3 || read.Load() != stored {
		t.Errorf("planned %d B in %d layers, %d done, %d B read; want %d B, 3, 3, %d B", plannedBytes.Load(), plannedLayers.Load(), done.Load(), read.Load(), stored, stored)
	}
}
