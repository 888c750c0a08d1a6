package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// Compare writes a comparison: each image's sizes against the baseline's
// (the first row), the ratio, what is shared with the baseline and what is
// not, and for each other image the layers only it has and the layers only
// the baseline has, largest first — which layers make the difference.
func Compare(w io.Writer, c *analysis.Comparison, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if c == nil || len(c.Rows) == 0 {
		return errors.New("compare report: nothing to compare")
	}
	for i, r := range c.Rows {
		if r.Image == nil {
			return fmt.Errorf("compare report: row %d has no image", i)
		}
	}
	switch f {
	case JSON:
		return writeJSON(w, compareDocument(c, opts))
	case HTML:
		return writeHTML(w, compareDocument(c, opts))
	case CSV:
		return compareCSV(w, c)
	case Markdown:
		return compareMarkdown(w, c, opts)
	default:
		return compareText(w, c, opts)
	}
}

// Ratio bases: which size a comparison's ratio column is computed on.
const (
	basisUncompressed = "uncompressed"
	basisCompressed   = "compressed"
)

// ratioBasis is "uncompressed" when every row knows both its and the
// baseline's uncompressed size — what the image occupies once pulled — and
// "compressed" otherwise, so that one column never mixes the two.
func ratioBasis(c *analysis.Comparison) string {
	for _, r := range c.Rows {
		if !r.Uncompressed.Known {
			return basisCompressed
		}
	}
	return basisUncompressed
}

func basisDelta(r analysis.Row, basis string) analysis.Delta {
	if basis == basisUncompressed {
		return r.Uncompressed
	}
	return r.Compressed
}

// compareView is what the table and Markdown formats show of a comparison.
type compareView struct {
	baseline string
	summary  grid
	notes    []string
	legend   []string
	sections []layerSection
	// packages sets each image's packages against the baseline's, with
	// compare --packages.
	packages []fileSection
}

// layerSection lists layers one image has and the other lacks.
type layerSection struct {
	title, summary string
	grid           grid
	legend         []string
}

func newCompareView(c *analysis.Comparison, opts Options) compareView {
	labels := rowLabels(c)
	basis := ratioBasis(c)
	recompressed := anyRecompressed(c)
	v := compareView{baseline: labels[0]}
	var lg legend
	v.summary = grid{columns: []column{
		{header: "IMAGE"},
		{header: "RELATIVE", bar: true},
		{header: "COMPRESSED", align: right},
		{header: "Δ COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "Δ UNCOMPRESSED", align: right},
		{header: "RATIO (" + strings.ToUpper(basis) + ")", align: right},
		{header: "SHARED COMPRESSED", align: right},
	}}
	if recompressed {
		v.summary.columns = append(v.summary.columns, column{header: "RECOMPRESSED", align: right})
	}
	v.summary.columns = append(v.summary.columns,
		column{header: "UNIQUE COMPRESSED", align: right},
		column{header: "LAYERS", align: right},
	)
	// The bars set each image against the largest, on the ratio's basis.
	basisSize := func(img *layers.Image) layers.Size {
		if basis == basisUncompressed {
			return img.Uncompressed
		}
		return img.Compressed
	}
	var most int64
	for _, r := range c.Rows {
		if s := basisSize(r.Image); s.Known() {
			most = max(most, s.Bytes)
		}
	}
	for i, r := range c.Rows {
		img := r.Image
		sizeBar := knownBar(basisSize(img), most)
		comp := lg.size(img.Compressed, "compressed", opts.Binary)
		uncomp := lg.size(img.Uncompressed, "uncompressed", opts.Binary)
		if i == 0 {
			// Deltas against itself say nothing; leave them blank.
			cells := []string{labels[i] + " (baseline)", sizeBar, comp, "", uncomp, "", "", ""}
			if recompressed {
				cells = append(cells, "")
			}
			v.summary.add(append(cells, "", strconv.Itoa(len(img.Layers)))...)
			continue
		}
		cells := []string{
			labels[i],
			sizeBar,
			comp,
			deltaCell(&lg, r.Compressed, "compressed", opts.Binary),
			uncomp,
			deltaCell(&lg, r.Uncompressed, "uncompressed", opts.Binary),
			ratioCell(&lg, basisDelta(r, basis), basis),
			lg.size(r.Shared.Compressed, "compressed", opts.Binary),
		}
		if recompressed {
			cells = append(cells, lg.size(r.Recompressed.Compressed, "compressed", opts.Binary))
		}
		v.summary.add(append(cells,
			lg.size(r.Unique.Compressed, "compressed", opts.Binary),
			layersCell(img, r),
		)...)
	}
	v.notes = []string{"RATIO: baseline size ÷ image size, on " + basis + " sizes" + basisWhy(basis) + "."}
	if recompressed {
		v.notes = append(v.notes,
			"SHARED / RECOMPRESSED / UNIQUE COMPRESSED: compressed bytes of the image's layers that are the baseline's own blobs (same digest) / hold a baseline layer's content in another blob (same diffID, different digest) / hold content the baseline lacks. Someone who has the baseline pulls RECOMPRESSED + UNIQUE; only UNIQUE is new content.")
		for i, r := range c.Rows {
			if i > 0 && len(r.RecompressedLayers) > 0 {
				v.notes = append(v.notes, labels[i]+": "+recompressedNote(c.Base, r))
			}
		}
	} else {
		v.notes = append(v.notes,
			"SHARED / UNIQUE COMPRESSED: compressed bytes of the image's layers that are the baseline's own blobs (same digest) / hold content the baseline lacks (no baseline layer has the same digest or diffID): UNIQUE is what someone who has the baseline pulls.")
	}
	for i, r := range c.Rows {
		switch {
		case i == 0 || !legacyMatch(r):
		case r.MatchedBy == analysis.MatchDiffID:
			v.notes = append(v.notes, labels[i]+": compared by an earlier imgsize, which matched layers by diffID alone: SHARED includes layers with the baseline's content in other blobs.")
		default:
			v.notes = append(v.notes, labels[i]+": compared by an earlier imgsize, which matched layers by digest alone: UNIQUE and the layers only in the image include layers with the baseline's content in other blobs.")
		}
	}
	if hasArchive(c) {
		v.notes = append(v.notes, "diffID: the digest of a layer's uncompressed tar. docker save stores layers uncompressed, so a docker-archive's layer digests are diffIDs and never equal the compressed digests of a registry or an OCI layout: against those, its layers are recompressed, not shared.")
	}
	layersNote := "LAYERS: layer count (+ layers only in the image, − layers only in the baseline)."
	if recompressed {
		layersNote = "LAYERS: layer count (+ layers only in the image, − layers only in the baseline, and the layers recompressed, which are in neither)."
	}
	v.notes = append(v.notes, layersNote)
	v.legend = lg.Lines()
	for i, r := range c.Rows {
		if i == 0 {
			continue
		}
		v.sections = append(v.sections, newLayerSection("Layers only in "+labels[i], r.Added, opts))
		if len(r.RecompressedLayers) > 0 {
			v.sections = append(v.sections, newRecompressedSection("Layers recompressed in "+labels[i]+" (the content of baseline "+labels[0]+"'s, in other blobs)", r.RecompressedLayers, opts))
		}
		v.sections = append(v.sections, newLayerSection("Layers only in baseline "+labels[0]+" (not in "+labels[i]+")", r.Removed, opts))
	}
	for i, r := range c.Rows {
		if i == 0 || r.Packages == nil {
			continue
		}
		s := packageDiffSection(r.Packages, 0, opts.Binary)
		s.title = "Packages from baseline " + labels[0] + " (A) to " + labels[i] + " (B)"
		v.packages = append(v.packages, s)
	}
	return v
}

// anyRecompressed reports whether a row other than the baseline's has a
// recompressed layer: only then does the summary show the column.
func anyRecompressed(c *analysis.Comparison) bool {
	for i, r := range c.Rows {
		if i > 0 && len(r.RecompressedLayers) > 0 {
			return true
		}
	}
	return false
}

// hasArchive reports whether any image compared has a synthetic manifest
// (a docker-archive), whose layer digests are diffIDs.
func hasArchive(c *analysis.Comparison) bool {
	for _, r := range c.Rows {
		if r.Image.SyntheticManifest {
			return true
		}
	}
	return false
}

// layersCell is a row's LAYERS cell: the count, the layers only in the
// image (+) and only in the baseline (−), and the recompressed ones.
func layersCell(img *layers.Image, r analysis.Row) string {
	s := fmt.Sprintf("%d (+%d −%d", len(img.Layers), len(r.Added), len(r.Removed))
	if n := len(r.RecompressedLayers); n > 0 {
		s += fmt.Sprintf(", %d recompressed", n)
	}
	return s + ")"
}

// recompressedNote says what a row's recompressed layers are: the same
// content as the baseline's in other blobs, stored uncompressed where
// either side is a docker-archive.
func recompressedNote(base *layers.Image, r analysis.Row) string {
	n := len(r.RecompressedLayers)
	s := fmt.Sprintf("%d layers hold", n)
	if n == 1 {
		s = "1 layer holds"
	}
	if r.Image.SyntheticManifest || base.SyntheticManifest {
		return s + " the same content as the baseline's but stored differently (different digests, same diffID: a docker-archive stores layers uncompressed): not new content, yet not the baseline's blobs."
	}
	return s + " the same content as the baseline's but compressed differently (different digests, same diffID): a registry stores and a client pulls them again."
}

func basisWhy(basis string) string {
	if basis == basisCompressed {
		return " (an uncompressed size is unknown)"
	}
	return ""
}

// rowLabels names each row's image by the reference the user gave; when
// two rows share a label but not a platform (say, the same reference read
// with different --platform values, or a saved report measured on another
// platform), the platform is added so the rows can be told apart.
func rowLabels(c *analysis.Comparison) []string {
	platforms := map[string]map[string]bool{}
	for _, r := range c.Rows {
		l := imageLabel(r.Image)
		if platforms[l] == nil {
			platforms[l] = map[string]bool{}
		}
		platforms[l][platformString(r.Image.Platform)] = true
	}
	labels := make([]string, len(c.Rows))
	for i, r := range c.Rows {
		labels[i] = imageLabel(r.Image)
		if p := platformString(r.Image.Platform); len(platforms[labels[i]]) > 1 && p != "" {
			labels[i] += " [" + p + "]"
		}
	}
	return labels
}

func imageLabel(img *layers.Image) string {
	if img.Ref != "" {
		return img.Ref
	}
	return img.Name
}

func deltaCell(lg *legend, d analysis.Delta, what string, binary bool) string {
	s := combine(d.Base, d.Value)
	if !d.Known {
		lg.note(s, what)
		return unknownMark
	}
	return lg.note(s, what) + formatDelta(d.Bytes, d.Percent, d.Base.Bytes == 0, binary)
}

func ratioCell(lg *legend, d analysis.Delta, basis string) string {
	s := combine(d.Base, d.Value)
	if !d.Known {
		lg.note(s, basis)
		return unknownMark
	}
	text, ok := formatRatio(d.Base.Bytes, d.Value.Bytes)
	if !ok {
		return "n/a"
	}
	return lg.note(s, basis) + text
}

func newLayerSection(title string, ls []layers.Layer, opts Options) layerSection {
	var lg legend
	sec := layerSection{title: title}
	sorted, by := largestFirst(ls)
	sec.summary = joinFields([]field{
		{"Layers", strconv.Itoa(len(ls))},
		{"Compressed", lg.size(totalOf(ls, compressedOf), "compressed", opts.Binary)},
		{"Uncompressed", lg.size(totalOf(ls, uncompressedOf), "uncompressed", opts.Binary)},
	})
	if len(ls) > 1 {
		sec.summary += "  (largest first by " + by + " size)"
	}
	sec.grid = grid{columns: []column{
		{header: "DIGEST", code: true},
		{header: "COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "CREATED BY", code: true},
	}}
	for _, l := range sorted {
		sec.grid.add(
			shortDigest(hashString(l.Digest)),
			lg.size(l.Compressed, "compressed", opts.Binary),
			lg.size(l.Uncompressed, "uncompressed", opts.Binary),
			createdBy(l.CreatedBy),
		)
	}
	sec.legend = lg.Lines()
	return sec
}

// newRecompressedSection lists an image's recompressed layers in its
// order, each beside the baseline layer of the same content: the blobs
// differ, so do their compressed sizes; the uncompressed tar is the same.
func newRecompressedSection(title string, ps []analysis.RecompressedLayer, opts Options) layerSection {
	var lg legend
	sec := layerSection{title: title}
	mine := make([]layers.Layer, len(ps))
	theirs := make([]layers.Layer, len(ps))
	for i, p := range ps {
		mine[i], theirs[i] = p.Layer, p.Base
	}
	sec.summary = joinFields([]field{
		{"Layers", strconv.Itoa(len(ps))},
		{"Compressed", lg.size(totalOf(mine, compressedOf), "compressed", opts.Binary)},
		{"Baseline compressed", lg.size(totalOf(theirs, compressedOf), "compressed", opts.Binary)},
		{"Uncompressed", lg.size(totalOf(mine, uncompressedOf), "uncompressed", opts.Binary)},
	})
	sec.grid = grid{columns: []column{
		{header: "DIGEST", code: true},
		{header: "BASELINE DIGEST", code: true},
		{header: "COMPRESSED", align: right},
		{header: "BASELINE COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "CREATED BY", code: true},
	}}
	for _, p := range ps {
		sec.grid.add(
			shortDigest(hashString(p.Layer.Digest)),
			shortDigest(hashString(p.Base.Digest)),
			lg.size(p.Layer.Compressed, "compressed", opts.Binary),
			lg.size(p.Base.Compressed, "compressed", opts.Binary),
			lg.size(p.Layer.Uncompressed, "uncompressed", opts.Binary),
			createdBy(p.Layer.CreatedBy),
		)
	}
	sec.legend = lg.Lines()
	return sec
}

func compressedOf(l layers.Layer) layers.Size   { return l.Compressed }
func uncompressedOf(l layers.Layer) layers.Size { return l.Uncompressed }

func totalOf(ls []layers.Layer, size func(layers.Layer) layers.Size) layers.Size {
	sizes := make([]layers.Size, len(ls))
	for i, l := range ls {
		sizes[i] = size(l)
	}
	return layers.Total(sizes)
}

// largestFirst sorts a copy of ls by uncompressed size when every layer's
// is known, else by compressed size (unknown last); ties keep the image's
// order. It returns which size it sorted by.
func largestFirst(ls []layers.Layer) ([]layers.Layer, string) {
	by, size := basisUncompressed, uncompressedOf
	for _, l := range ls {
		if !l.Uncompressed.Known() {
			by, size = basisCompressed, compressedOf
			break
		}
	}
	out := append([]layers.Layer(nil), ls...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := size(out[i]), size(out[j])
		if a.Known() != b.Known() {
			return a.Known()
		}
		return a.Bytes > b.Bytes
	})
	return out, by
}

func compareText(w io.Writer, c *analysis.Comparison, opts Options) error {
	v := newCompareView(c, opts)
	ew := textWriter(w, opts)
	ew.line("Comparison against baseline " + v.baseline)
	ew.line("")
	ew.grid(&v.summary)
	ew.line("")
	ew.legend(v.notes)
	ew.legend(v.legend)
	for _, s := range v.sections {
		ew.line("")
		if len(s.grid.rows) == 0 {
			ew.line(s.title + ": none")
			continue
		}
		ew.line(s.title)
		ew.line(s.summary)
		ew.line("")
		ew.grid(&s.grid)
		ew.legend(s.legend)
	}
	for _, s := range v.packages {
		ew.line("")
		textSection(ew, s)
	}
	return ew.err
}

func compareMarkdown(w io.Writer, c *analysis.Comparison, opts Options) error {
	v := newCompareView(c, opts)
	ew := &errWriter{w: w}
	ew.line("## Comparison against baseline " + mdCode(v.baseline))
	ew.line("")
	ew.markdown(&v.summary)
	ew.line("")
	basis := ratioBasis(c)
	names, sizes := make([]string, len(c.Rows)), make([]*int64, len(c.Rows))
	for i, r := range c.Rows {
		names[i] = imageLabel(r.Image)
		s := r.Image.Compressed
		if basis == basisUncompressed {
			s = r.Image.Uncompressed
		}
		sizes[i] = sizeRecord(s).Bytes
	}
	if chart := sizeChart(strings.ToUpper(basis[:1])+basis[1:]+" size (MB)", names, sizes); chart != nil {
		for _, l := range chart {
			ew.line(l)
		}
		ew.line("")
	}
	for _, n := range v.notes {
		ew.line("- " + mdText(n))
	}
	ew.mdLegend(v.legend)
	for _, s := range v.sections {
		ew.line("")
		if len(s.grid.rows) == 0 {
			ew.line("### " + mdText(s.title) + ": none")
			continue
		}
		ew.line("### " + mdText(s.title))
		ew.line("")
		ew.line(mdText(s.summary))
		ew.line("")
		ew.markdown(&s.grid)
		ew.mdLegend(s.legend)
	}
	for _, s := range v.packages {
		ew.line("")
		mdSection(ew, s)
	}
	return ew.err
}

// compareHeader is the CSV header of a compare report: one row per image.
// Every figure is followed by its provenance (see layers.Provenance); a
// figure computed from two sizes (a delta, the ratio) has the weaker of
// their provenances, and one summed over layers (shared, unique) the
// weakest of theirs. An unknown figure is an empty cell, its provenance
// "unknown". matched_by says how layers were matched to the baseline's:
// "digest+diffID" (see schema.RowRecord): shared layers are the
// baseline's own blobs, recompressed ones hold a baseline layer's content
// in another blob, unique ones content the baseline lacks; added_layers
// counts the unique layers and removed_layers the baseline's whose blob
// and content the image both lack. The recompressed columns come last, so
// the earlier columns keep their places.
var compareHeader = []string{
	"image", "name", "digest", "baseline",
	"compressed_bytes", "compressed_provenance", "uncompressed_bytes", "uncompressed_provenance",
	"delta_compressed_bytes", "delta_compressed_provenance", "delta_uncompressed_bytes", "delta_uncompressed_provenance",
	"ratio_basis", "ratio", "ratio_provenance",
	"matched_by",
	"shared_compressed_bytes", "shared_compressed_provenance", "unique_compressed_bytes", "unique_compressed_provenance",
	"shared_uncompressed_bytes", "shared_uncompressed_provenance", "unique_uncompressed_bytes", "unique_uncompressed_provenance",
	"shared_layers", "added_layers", "removed_layers",
	"recompressed_compressed_bytes", "recompressed_compressed_provenance",
	"recompressed_uncompressed_bytes", "recompressed_uncompressed_provenance", "recompressed_layers",
	"platform",
}

func compareCSV(w io.Writer, c *analysis.Comparison) error {
	rw := newRowWriter(w, compareHeader)
	compareRows(rw, c, "")
	return rw.flush()
}

// compareRows writes a row per image of c; platform names the platform
// compared in a platform comparison, else each image's own is written.
func compareRows(rw *rowWriter, c *analysis.Comparison, platform string) {
	basis := ratioBasis(c)
	for i, r := range c.Rows {
		img := r.Image
		ratio := basisDelta(r, basis)
		p := platform
		if p == "" {
			p = platformString(img.Platform)
		}
		rw.write([]string{
			img.Ref, img.Name, hashString(img.Digest), strconv.FormatBool(i == 0),
			csvBytes(img.Compressed), csvProvenance(img.Compressed),
			csvBytes(img.Uncompressed), csvProvenance(img.Uncompressed),
			csvDelta(r.Compressed), csvDeltaProvenance(r.Compressed),
			csvDelta(r.Uncompressed), csvDeltaProvenance(r.Uncompressed),
			basis, csvRatio(ratio), csvDeltaProvenance(ratio),
			r.MatchedBy,
			csvBytes(r.Shared.Compressed), csvProvenance(r.Shared.Compressed),
			csvBytes(r.Unique.Compressed), csvProvenance(r.Unique.Compressed),
			csvBytes(r.Shared.Uncompressed), csvProvenance(r.Shared.Uncompressed),
			csvBytes(r.Unique.Uncompressed), csvProvenance(r.Unique.Uncompressed),
			strconv.Itoa(r.SharedLayers), strconv.Itoa(len(r.Added)), strconv.Itoa(len(r.Removed)),
			csvBytes(r.Recompressed.Compressed), csvProvenance(r.Recompressed.Compressed),
			csvBytes(r.Recompressed.Uncompressed), csvProvenance(r.Recompressed.Uncompressed),
			recompressedCount(r), p,
		})
	}
}

// recompressedCount is the number of a row's recompressed layers, empty
// for a row an earlier imgsize matched another way (not counted then).
func recompressedCount(r analysis.Row) string {
	if legacyMatch(r) {
		return ""
	}
	return strconv.Itoa(len(r.RecompressedLayers))
}

// legacyMatch reports whether r was matched by an earlier imgsize, which
// did not tell recompressed layers apart (a row read back from its
// report): analysis.MatchDigest or analysis.MatchDiffID.
func legacyMatch(r analysis.Row) bool {
	return r.MatchedBy == analysis.MatchDigest || r.MatchedBy == analysis.MatchDiffID
}

// csvDeltaProvenance is the provenance of a figure computed from d's two
// sizes: the weaker of theirs, "unknown" when either is unknown.
func csvDeltaProvenance(d analysis.Delta) string {
	return csvProvenance(combine(d.Base, d.Value))
}

func csvDelta(d analysis.Delta) string {
	if !d.Known {
		return ""
	}
	return strconv.FormatInt(d.Bytes, 10)
}

// csvRatio is baseline ÷ image as a decimal, empty when unknown or when the
// image is 0 bytes.
func csvRatio(d analysis.Delta) string {
	if !d.Known || d.Value.Bytes == 0 {
		return ""
	}
	return strconv.FormatFloat(d.Ratio, 'f', -1, 64)
}
