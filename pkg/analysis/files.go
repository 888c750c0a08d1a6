package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
)

// The defaults of FilesOptions.
const (
	defaultTop   = 10
	defaultDepth = 3
)

// Files analyses one image: img supplies layer digests and the commands
// that created them; ls what its layers hold, in the same order (Files
// fails when the two differ in length).
//
// It applies the layers as NewFilesystem does and reports the final
// filesystem's totals, its largest files and directories, what each layer
// added, changed and deleted, dive's figures (see DiveStats), the copies a
// later layer superseded or deleted (ReclaimItems: a regular file written
// again at its path, replaced by another type or removed with a directory
// replaced by a file is superseded; one removed by a whiteout or opaque
// marker, directly or under a deleted directory, is deleted; copies that
// hold no bytes are not listed), and hints.
func Files(img *layers.Image, ls []files.Layer, opts FilesOptions) (*FileReport, error) {
	if img == nil {
		return nil, fmt.Errorf("file analysis: no image")
	}
	if len(img.Layers) != len(ls) {
		return nil, fmt.Errorf("file analysis of %s: the image has %d layers but %d file lists were given", imageName(img), len(img.Layers), len(ls))
	}
	top, depth := opts.Top, opts.Depth
	if top <= 0 {
		top = defaultTop
	}
	if depth <= 0 {
		depth = defaultDepth
	}

	rec := &recorder{layers: make([]LayerFiles, len(ls))}
	a := newApplier(rec)
	for i, l := range ls {
		a.apply(i, l)
	}
	fs := a.finish()

	r := &FileReport{Image: img, Files: fs.Totals()}
	var sizes []int64
	r.Dive, sizes = diveStats(ls)
	r.Layers = rec.layers
	for i := range r.Layers {
		lf := &r.Layers[i]
		lf.Index = i
		lf.Digest = img.Layers[i].Digest
		if lf.Digest.Hex == "" {
			lf.Digest = ls[i].Digest
		}
		lf.CreatedBy = img.Layers[i].CreatedBy
		lf.TarBytes = sizes[i]
	}
	r.Largest, r.Dirs = largest(fs, top, depth)

	slices.SortFunc(rec.reclaims, func(a, b reclaimCause) int {
		return cmp.Or(
			cmp.Compare(b.Bytes, a.Bytes),
			strings.Compare(a.Path, b.Path),
			cmp.Compare(a.Layer, b.Layer),
			cmp.Compare(a.By, b.By),
		)
	})
	r.ReclaimItems = make([]Reclaim, len(rec.reclaims))
	for i, rc := range rec.reclaims {
		r.ReclaimItems[i] = rc.Reclaim
		r.Reclaimable += rc.Bytes
	}
	r.Hints = hints(fs, rec.reclaims)
	return r, nil
}

func imageName(img *layers.Image) string {
	if img.Ref != "" {
		return img.Ref
	}
	if img.Name != "" {
		return img.Name
	}
	return "image"
}

// byBytes orders the largest first, then by path.
func byBytes(a, b PathSize) int {
	return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path))
}

// largest returns the top regular files of fs and its top directories no
// deeper than depth components (the root not listed), by bytes. It holds
// a few times top candidates at once, not every path.
func largest(fs *Filesystem, top, depth int) (fls, dirs []PathSize) {
	fs.Walk(func(fi FileInfo) {
		switch {
		case fi.Type == files.Regular || regularBytes(fi.Entry) > 0:
			// A hard link holding content its file no longer has counts.
			fls = keepTop(append(fls, PathSize{Path: fi.Path, Bytes: fi.Size, Files: 1, Layer: fi.Layer}), top, false)
		case fi.Type == files.Dir:
			if strings.Count(fi.Path, "/")+1 <= depth {
				b, n := fs.dirTotals(fi.Path)
				dirs = keepTop(append(dirs, PathSize{Path: fi.Path, Bytes: b, Files: n, Layer: -1}), top, false)
			}
		}
	})
	return keepTop(fls, top, true), keepTop(dirs, top, true)
}

// keepTop sorts ps and trims it to its top largest: when final, or once it
// holds 4×top.
func keepTop(ps []PathSize, top int, final bool) []PathSize {
	if !final && len(ps) < 4*top {
		return ps
	}
	slices.SortFunc(ps, byBytes)
	return ps[:min(top, len(ps))]
}
