package analysis

import (
	"slices"

	"github.com/imgsize/imgsize/pkg/layers"
)

// GrowthWhy says why an image grew against its baseline: the layers only
// it has (the build steps that added bytes; known from the manifests
// alone) and, when both images were read file by file, the directories
// whose files grew most.
type GrowthWhy struct {
	// Layers are the image's layers the baseline has neither as a blob nor
	// as content (Compare's Added), largest uncompressed first, at most
	// the top asked for.
	Layers []layers.Layer
	// Dirs are the directories whose regular-file bytes grew, largest
	// growth first (Diff's roll-up), at most the top asked for; nil when
	// the files were not compared (Note says why).
	Dirs []DiffDir
	// Note says what is missing from the why and why (the file comparison
	// was skipped, or failed).
	Note string
}

// Why explains img's growth against base: its added layers, and the
// growing directories of d (nil when the files were not compared; note
// then says why). top bounds each list.
func Why(base, img *layers.Image, d *FileDiff, top int, note string) *GrowthWhy {
	w := &GrowthWhy{Note: note}
	if row := Compare(base, img).Rows[1]; len(row.Added) > 0 {
		added := slices.Clone(row.Added)
		slices.SortStableFunc(added, func(a, b layers.Layer) int {
			return byDelta(a.Uncompressed.Bytes, b.Uncompressed.Bytes, "", "")
		})
		w.Layers = added[:min(top, len(added))]
	}
	if d != nil {
		for _, dir := range d.Dirs {
			if dir.Delta > 0 && len(w.Dirs) < top {
				w.Dirs = append(w.Dirs, dir)
			}
		}
	}
	return w
}
