package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// InspectIndexes writes multi-platform images read for several platforms
// (inspect --platform all, or a list): for each, the index as a whole
// (what a registry stores, each blob once), a row per platform and per
// artifact, the layers platforms share, then each platform's image as
// Inspect shows one.
func InspectIndexes(w io.Writer, xs []*layers.Index, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	for i, x := range xs {
		if x == nil || slices.Contains(x.Platforms, nil) {
			return fmt.Errorf("inspect report: index %d is incomplete", i)
		}
	}
	switch f {
	case JSON, HTML:
		d := newDocument(schema.KindInspect, opts)
		d.Images = []schema.ImageRecord{}
		for _, x := range xs {
			d.Indexes = append(d.Indexes, indexRecord(d, x, nil))
		}
		if f == HTML {
			return writeHTML(w, d)
		}
		return writeJSON(w, d)
	case CSV:
		var imgs []*layers.Image
		for _, x := range xs {
			imgs = append(imgs, x.Platforms...)
		}
		if opts.History {
			return historyCSV(w, imgs)
		}
		return inspectCSV(w, imgs)
	}
	md := f == Markdown
	ew := &errWriter{w: w}
	if !md {
		ew = textWriter(w, opts)
	}
	for i, x := range xs {
		if i > 0 {
			ew.line("")
		}
		writeIndexSummary(ew, x, opts, md)
		for _, img := range x.Platforms {
			ew.line("")
			v := newImageView(img, opts)
			v.title += " [" + layers.PlatformKey(img.Platform) + "]"
			if !opts.History && len(x.SharedLayers) > 0 {
				alsoIn(&v, x, img)
			}
			if md {
				writeImageMarkdown(ew, v)
			} else {
				writeImageText(ew, v)
			}
		}
	}
	return ew.err
}

// writeIndexSummary writes an index's identity, its stored total and a
// row per platform image and per artifact.
func writeIndexSummary(ew *errWriter, x *layers.Index, opts Options, md bool) {
	var lg legend
	title := x.Ref
	if title == "" {
		title = x.Name
	}
	ident := nonEmpty(
		field{"Name", nameIfNew(x.Name, title)},
		field{"Digest", hashString(x.Digest)},
		field{"Media type", string(x.MediaType)},
	)
	if x.Digest == (v1.Hash{}) {
		ident = append(ident, field{"Index", "none stored (" + noIndexWhy(x) + ")"})
	}
	shared := sharedTotal(x)
	totals := []field{
		{"Stored (every blob once)", lg.size(x.Stored, "stored", opts.Binary)},
		{"Platforms", platformCount(x)},
		{"Shared layers", fmt.Sprintf("%d (%s)", len(x.SharedLayers), lg.size(shared, "compressed", opts.Binary))},
	}
	if len(x.Artifacts) > 0 {
		totals = append(totals, field{"Artifacts", strconv.Itoa(len(x.Artifacts))})
	}
	g := grid{columns: []column{
		{header: "PLATFORM"},
		{header: "DIGEST", code: true},
		{header: "COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "LAYERS", align: right},
		{header: "SHARED", align: right},
	}}
	for i, img := range x.Platforms {
		g.add(layers.PlatformKey(img.Platform), shortDigest(hashString(img.Digest)),
			lg.size(img.Compressed, "compressed", opts.Binary), lg.size(img.Uncompressed, "uncompressed", opts.Binary),
			strconv.Itoa(len(img.Layers)), strconv.Itoa(sharedIn(x, i)))
	}
	for _, a := range x.Artifacts {
		what := string(a.Kind)
		if s := subjectPlatform(x, a.Subject); s != "" {
			what += " of " + s
		}
		g.add(what, shortDigest(hashString(a.Digest)), lg.size(a.Bytes, "compressed", opts.Binary), "", plural(a.Blobs, "blob"), "")
	}
	notes := []string{
		"Stored: what a registry stores for the whole index and a full mirror pulls: the index, and every manifest, config and layer of every platform (selected or not) and artifact, each blob once; a layer several platforms share counts once.",
		"SHARED: the platform's layers another platform listed here also has (stored and pulled once).",
	}
	if len(x.Artifacts) > 0 {
		notes = append(notes, "Attestations (provenance, SBOMs) and signatures are not platforms: their COMPRESSED is their manifest and blobs, counted in Stored.")
	}
	for _, p := range x.Missing {
		notes = append(notes, "Not in the index: "+layers.PlatformKey(&p)+" (asked for).")
	}
	if md {
		ew.mdHeader("## Index "+mdCode(title), ident, totals)
		ew.markdown(&g)
		ew.mdLegend(append(notes, lg.Lines()...))
		return
	}
	ew.fields(append([]field{{"Index", title}}, ident...))
	ew.fields(totals)
	ew.line("")
	ew.grid(&g)
	ew.line("")
	ew.legend(notes)
	ew.legend(lg.Lines())
}

func nameIfNew(name, title string) string {
	if name == title {
		return ""
	}
	return name
}

// noIndexWhy says why an Index has no index manifest.
func noIndexWhy(x *layers.Index) string {
	if len(x.Platforms)+x.Unselected+len(x.Artifacts) == 1 {
		return "the argument names a single image"
	}
	return "the layout's index.json lists the images itself"
}

func platformCount(x *layers.Index) string {
	n := len(x.Platforms)
	if x.Unselected == 0 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d of %d", n, n+x.Unselected)
}

// sharedIn counts the layers of x.Platforms[i] another platform also has.
func sharedIn(x *layers.Index, i int) int {
	n := 0
	for _, l := range x.Platforms[i].Layers {
		if len(x.SharedLayers[l.Digest]) > 0 {
			n++
		}
	}
	return n
}

// sharedTotal is the compressed bytes of the shared layers, each once.
func sharedTotal(x *layers.Index) layers.Size {
	var sizes []layers.Size
	for _, h := range sortedShared(x) {
		sizes = append(sizes, sharedSize(x, h))
	}
	return layers.Total(sizes)
}

func sharedSize(x *layers.Index, h v1.Hash) layers.Size {
	for _, i := range x.SharedLayers[h] {
		for _, l := range x.Platforms[i].Layers {
			if l.Digest == h {
				return l.Compressed
			}
		}
	}
	return layers.Size{Provenance: layers.Unknown}
}

// sortedShared lists the shared layers in the order the first platform
// holding each lists them, so reports are stable.
func sortedShared(x *layers.Index) []v1.Hash {
	var out []v1.Hash
	seen := map[v1.Hash]bool{}
	for _, img := range x.Platforms {
		for _, l := range img.Layers {
			if len(x.SharedLayers[l.Digest]) > 0 && !seen[l.Digest] {
				seen[l.Digest] = true
				out = append(out, l.Digest)
			}
		}
	}
	return out
}

// subjectPlatform names the platform of the image an artifact describes.
func subjectPlatform(x *layers.Index, h v1.Hash) string {
	if h == (v1.Hash{}) {
		return ""
	}
	for _, img := range x.Platforms {
		if img.Digest == h {
			return layers.PlatformKey(img.Platform)
		}
	}
	return shortDigest(h.String())
}

// alsoIn adds to an image view's layer table the other platforms that
// hold each layer.
func alsoIn(v *imageView, x *layers.Index, img *layers.Image) {
	v.layers.columns = append(v.layers.columns, column{header: "ALSO IN"})
	for i, l := range img.Layers {
		var others []string
		for _, j := range x.SharedLayers[l.Digest] {
			if x.Platforms[j] != img {
				others = append(others, layers.PlatformKey(x.Platforms[j].Platform))
			}
		}
		v.layers.rows[i] = append(v.layers.rows[i], strings.Join(others, ", "))
	}
	v.legend = append(v.legend, "ALSO IN: the other platforms of the index that have the layer (stored once).")
}

// indexRecord appends x's platform images to d.Images and describes x.
// at, when set, gives the positions some of them already have.
func indexRecord(d *schema.Document, x *layers.Index, at map[*layers.Image]int) schema.IndexRecord {
	rec := schema.IndexRecord{
		Ref: x.Ref, Name: x.Name, Transport: x.Transport,
		Digest: hashString(x.Digest), MediaType: string(x.MediaType),
		Platforms: []int{}, Unselected: x.Unselected, Missing: []string{},
		Artifacts: []schema.ArtifactRecord{}, Stored: sizeRecord(x.Stored),
		SharedLayers: []schema.SharedLayerRecord{},
	}
	if x.Digest != (v1.Hash{}) {
		n := x.ManifestSize
		rec.ManifestBytes = &n
	}
	pos := make([]int, len(x.Platforms))
	for i, img := range x.Platforms {
		n, ok := at[img]
		if !ok {
			n = len(d.Images)
			d.Images = append(d.Images, imageRecord(img))
			if at != nil {
				at[img] = n
			}
		}
		pos[i] = n
		rec.Platforms = append(rec.Platforms, n)
	}
	for _, p := range x.Missing {
		rec.Missing = append(rec.Missing, layers.PlatformKey(&p))
	}
	for _, a := range x.Artifacts {
		rec.Artifacts = append(rec.Artifacts, schema.ArtifactRecord{
			Kind: string(a.Kind), Digest: hashString(a.Digest), MediaType: string(a.MediaType),
			Subject: hashString(a.Subject), Bytes: sizeRecord(a.Bytes), Blobs: a.Blobs,
		})
	}
	for _, h := range sortedShared(x) {
		sl := schema.SharedLayerRecord{Digest: h.String(), Compressed: sizeRecord(sharedSize(x, h))}
		for _, i := range x.SharedLayers[h] {
			sl.Images = append(sl.Images, pos[i])
		}
		rec.SharedLayers = append(rec.SharedLayers, sl)
	}
	return rec
}

// ComparePlatforms writes a comparison of multi-platform images platform
// by platform: each index's stored bytes against the baseline's, the
// platforms present on one side only, then each platform's comparison as
// Compare shows one.
func ComparePlatforms(w io.Writer, pc *analysis.PlatformComparison, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if pc == nil || len(pc.Indexes) < 2 {
		return errors.New("compare report: nothing to compare")
	}
	switch f {
	case JSON:
		return writeJSON(w, platformCompareDocument(pc, opts))
	case HTML:
		return writeHTML(w, platformCompareDocument(pc, opts))
	case CSV:
		rw := newRowWriter(w, compareHeader)
		for _, p := range pc.Platforms {
			if p.Comparison != nil {
				compareRows(rw, p.Comparison, p.Label())
			}
		}
		return rw.flush()
	}
	md := f == Markdown
	ew := &errWriter{w: w}
	if !md {
		ew = textWriter(w, opts)
	}
	var lg legend
	g := grid{columns: []column{
		{header: "IMAGE"},
		{header: "STORED", align: right},
		{header: "Δ STORED", align: right},
		{header: "PLATFORMS"},
	}}
	for i, x := range pc.Indexes {
		label := indexLabel(x)
		delta := ""
		if i == 0 {
			label += " (baseline)"
		} else {
			delta = deltaCell(&lg, pc.Stored[i], "stored", opts.Binary)
		}
		var keys []string
		for _, img := range x.Platforms {
			keys = append(keys, layers.PlatformKey(img.Platform))
		}
		g.add(label, lg.size(x.Stored, "stored", opts.Binary), delta, strings.Join(keys, ", "))
	}
	notes := []string{"STORED: what a registry stores for the whole index and a full mirror pulls, every blob once (attestations and signatures included). Platforms are matched by os/arch/variant, default variants left out (linux/arm64 is linux/arm64/v8)."}
	for _, p := range pc.Platforms {
		if p.Comparison != nil {
			continue
		}
		var in []string
		for _, j := range p.In() {
			in = append(in, indexLabel(pc.Indexes[j]))
		}
		why := "only in " + strings.Join(in, ", ")
		if p.Images[0] == nil {
			why += ", not in the baseline: compared with nothing"
		} else {
			why += ": the others lack it"
		}
		notes = append(notes, p.Label()+": "+why+".")
	}
	if md {
		ew.line("## Comparison of platforms against baseline " + mdCode(indexLabel(pc.Indexes[0])))
		ew.line("")
		ew.markdown(&g)
		ew.mdLegend(append(notes, lg.Lines()...))
	} else {
		ew.line("Comparison of platforms against baseline " + indexLabel(pc.Indexes[0]))
		ew.line("")
		ew.grid(&g)
		ew.line("")
		ew.legend(notes)
		ew.legend(lg.Lines())
	}
	for _, p := range pc.Platforms {
		if p.Comparison == nil || ew.err != nil {
			continue
		}
		ew.line("")
		if md {
			ew.line("# Platform " + mdCode(p.Label()))
			ew.line("")
			ew.err = compareMarkdown(w, p.Comparison, opts)
		} else {
			ew.line("=== Platform " + p.Label() + " ===")
			ew.err = compareText(w, p.Comparison, opts)
		}
	}
	return ew.err
}

func indexLabel(x *layers.Index) string {
	if x.Ref != "" {
		return x.Ref
	}
	return x.Name
}

func platformCompareDocument(pc *analysis.PlatformComparison, opts Options) *schema.Document {
	d := newDocument(schema.KindCompare, opts)
	d.Images = []schema.ImageRecord{}
	at := map[*layers.Image]int{}
	for _, x := range pc.Indexes {
		d.Indexes = append(d.Indexes, indexRecord(d, x, at))
	}
	c := &schema.ComparisonRecord{Rows: []schema.RowRecord{}, Platforms: []schema.PlatformCompareRecord{}}
	for _, s := range pc.Stored {
		c.Stored = append(c.Stored, deltaRecord(s))
	}
	first := true
	for _, p := range pc.Platforms {
		pr := schema.PlatformCompareRecord{Platform: p.Label(), Images: make([]*int, len(p.Images)), Rows: []int{}}
		for i, img := range p.Images {
			if img != nil {
				n := at[img]
				pr.Images[i] = &n
			}
		}
		pr.Baseline = pr.Images[0]
		if p.Comparison != nil {
			pr.RatioBasis = ratioBasis(p.Comparison)
			base := at[p.Comparison.Base]
			if first {
				c.Baseline, c.RatioBasis, first = base, pr.RatioBasis, false
			}
			rows := p.Comparison.Rows
			for _, r := range rowRecords(p.Comparison, func(i int) int { return at[rows[i].Image] }) {
				b := base
				r.Baseline, r.Platform = &b, p.Label()
				pr.Rows = append(pr.Rows, len(c.Rows))
				c.Rows = append(c.Rows, r)
			}
		}
		c.Platforms = append(c.Platforms, pr)
	}
	if first {
		c.RatioBasis = basisCompressed
	}
	d.Comparison = c
	return d
}
