package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Files writes the file-level analysis of one image in opts.Format: the
// final filesystem's size, what each layer added, changed and deleted, the
// largest files and directories, dive's efficiency and wasted bytes, the
// bytes a better build would not ship (reclaimable) and the hints that say
// how.
//
// Every size in it is regular-file bytes of the layers' tar entries:
// uncompressed and exact, from reading every layer; the output says so.
func Files(w io.Writer, r *analysis.FileReport, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("files report: no file report")
	}
	if r.Image == nil {
		return errors.New("files report: the file report has no image")
	}
	switch f {
	case JSON:
		return writeJSON(w, filesDocument(r, opts))
	case HTML:
		return writeHTML(w, filesDocument(r, opts))
	case CSV:
		return filesCSV(w, r)
	case Markdown:
		return filesMarkdown(w, r, opts)
	default:
		return filesText(w, r, opts)
	}
}

// listedRows is how many reclaimable items and inefficient paths a table
// lists; JSON and CSV list them all.
const listedRows = 10

// fileBytesNote says once what every size of the file-level reports is.
const fileBytesNote = "Sizes are regular-file bytes of the layers' tar entries: uncompressed and exact, from reading every layer (not the compressed or uncompressed sizes `imgsize inspect` shows)."

// fileSection is one titled table of a file-level report.
type fileSection struct {
	// title heads the section; sub, when set, gives its figures: the
	// table format writes "title: sub", Markdown a heading and a line.
	title, sub string
	grid       grid
	notes      []string
}

// hintView is one hint as the table and Markdown formats show it.
type hintView struct {
	head   string // title, id and bytes
	id     string
	fix    string
	paths  []string
	layers []string // "Layer N: created by"
}

// filesView is what the table and Markdown formats show of a file report.
type filesView struct {
	title    string
	ident    []field
	totals   []field
	notes    []string
	sections []fileSection
	hints    []hintView
}

func newFilesView(r *analysis.FileReport, opts Options) filesView {
	b := opts.Binary
	img := r.Image
	v := filesView{title: imageLabel(img)}
	v.ident = nonEmpty(
		field{"Digest", manifestDigest(img)},
		field{"Platform", platformString(img.Platform)},
	)
	d := r.Dive
	userWasted := "n/a (no bytes above the first layer)"
	if d.UserSizeBytes > 0 {
		userWasted = percent2(d.UserWastedPercent) + " of " + FormatBytes(d.UserSizeBytes, b) + " above the first layer"
	}
	v.totals = []field{
		{"Files", entryCount(r.Files.Files) + ", " + FormatBytes(r.Files.Bytes, b) + " (regular-file bytes of the final filesystem)"},
		{"Reclaimable", FormatBytes(r.Reclaimable, b) + " (what a better build would not ship: copies a later layer superseded, files a later layer deleted)"},
		{"dive", "efficiency " + percent2(d.Efficiency) + ", wasted " + FormatBytes(d.WastedBytes, b) + ", user wasted " + userWasted},
	}
	v.notes = []string{
		fileBytesNote,
		"dive's figures are as dive defines them: its wasted bytes count every copy of a path found in more than one layer, the copy kept included (dive#684), so they are not what a fix would save. Reclaimable is: the superseded copies and deleted files the final filesystem does not show.",
	}
	v.sections = []fileSection{
		filesLayersSection(r, b),
		filesLargestSection(r, b),
		filesDirsSection(r, b),
		filesReclaimSection(r, b),
		filesDiveSection(r, b),
	}
	for _, h := range r.Hints {
		hv := hintView{
			head:  h.Title + ": " + FormatBytes(h.Bytes, b),
			id:    h.ID,
			fix:   h.Fix,
			paths: make([]string, 0, len(h.Paths)),
		}
		for _, p := range h.Paths {
			hv.paths = append(hv.paths, shownPath(p))
		}
		for _, l := range h.Layers {
			hv.layers = append(hv.layers, "Layer "+strconv.Itoa(l)+": "+createdBy(layerCreatedBy(r, l)))
		}
		v.hints = append(v.hints, hv)
	}
	return v
}

func filesLayersSection(r *analysis.FileReport, b bool) fileSection {
	s := fileSection{title: "Layers"}
	s.grid = grid{columns: []column{
		{header: "#", align: right},
		{header: "DIGEST", code: true},
		{header: "ADDED", align: right},
		{header: "CHANGED", align: right},
		{header: "DELETED", align: right},
		{header: "TAR BYTES", align: right},
		{header: "CREATED BY", code: true},
	}}
	for _, l := range r.Layers {
		s.grid.add(
			strconv.Itoa(l.Index),
			shortDigest(hashString(l.Digest)),
			countCell(l.Added, b),
			countCell(l.Changed, b),
			countCell(l.Deleted, b),
			FormatBytes(l.TarBytes, b),
			createdBy(l.CreatedBy),
		)
	}
	s.notes = []string{
		"ADDED, CHANGED, DELETED: entries (directories and links included) / bytes of the regular files among them. CHANGED: paths the layer writes again, even with equal content; DELETED: paths it removes by whiteout or opaque directory, with the bytes they held.",
		"TAR BYTES: the sum of the layer's tar entry sizes (dive's layer size).",
	}
	return s
}

func filesLargestSection(r *analysis.FileReport, b bool) fileSection {
	s := fileSection{title: "Largest files"}
	s.grid = grid{columns: []column{
		{header: "SIZE", align: right},
		{header: "RELATIVE", bar: true},
		{header: "LAYER", align: right},
		{header: "PATH", code: true},
	}}
	var most int64
	for _, p := range r.Largest {
		most = max(most, p.Bytes)
	}
	for _, p := range r.Largest {
		s.grid.add(FormatBytes(p.Bytes, b), bar(p.Bytes, most), strconv.Itoa(p.Layer), shownPath(p.Path))
	}
	s.notes = []string{"LAYER: the layer that wrote the file."}
	return s
}

func filesDirsSection(r *analysis.FileReport, b bool) fileSection {
	s := fileSection{title: "Largest directories"}
	s.grid = grid{columns: []column{
		{header: "SIZE", align: right},
		{header: "RELATIVE", bar: true},
		{header: "FILES", align: right},
		{header: "PATH", code: true},
	}}
	var most int64
	for _, p := range r.Dirs {
		most = max(most, p.Bytes)
	}
	for _, p := range r.Dirs {
		s.grid.add(FormatBytes(p.Bytes, b), bar(p.Bytes, most), groupDigits(int64(p.Files)), shownPath(p.Path))
	}
	s.notes = []string{"SIZE and FILES: the regular files under the directory, at any depth."}
	return s
}

func filesReclaimSection(r *analysis.FileReport, b bool) fileSection {
	items := sortedReclaim(r.ReclaimItems)
	s := fileSection{title: "Reclaimable"}
	var sum int64
	for _, it := range items {
		sum += it.Bytes
	}
	switch {
	case len(items) == 0:
	case sum != r.Reclaimable:
		s.sub = fmt.Sprintf("%s; the %s listed hold %s", FormatBytes(r.Reclaimable, b), itemCount(min(len(items), listedRows)), FormatBytes(listedBytes(items), b))
	case len(items) > listedRows:
		s.sub = fmt.Sprintf("%s in %s; the %d largest (JSON and CSV list all)", FormatBytes(r.Reclaimable, b), itemCount(len(items)), listedRows)
	default:
		s.sub = fmt.Sprintf("%s in %s, largest first", FormatBytes(r.Reclaimable, b), itemCount(len(items)))
	}
	s.grid = grid{columns: []column{
		{header: "SIZE", align: right},
		{header: "WHY"},
		{header: "LAYER", align: right},
		{header: "BY LAYER", align: right},
		{header: "PATH", code: true},
	}}
	for _, it := range items[:min(len(items), listedRows)] {
		s.grid.add(FormatBytes(it.Bytes, b), it.Why, strconv.Itoa(it.Layer), strconv.Itoa(it.By), shownPath(it.Path))
	}
	s.notes = []string{"LAYER added the bytes; BY LAYER wrote the path again (superseded) or deleted it, by whiteout or opaque directory (deleted)."}
	return s
}

// listedBytes is the bytes of the items a table lists.
func listedBytes(items []analysis.Reclaim) int64 {
	var n int64
	for _, it := range items[:min(len(items), listedRows)] {
		n += it.Bytes
	}
	return n
}

func filesDiveSection(r *analysis.FileReport, b bool) fileSection {
	d := r.Dive
	s := fileSection{title: "Wasted space as dive counts it"}
	if n := len(d.Inefficiencies); n > 0 {
		paths := "1 path"
		if n != 1 {
			paths = groupDigits(int64(n)) + " paths"
		}
		s.sub = fmt.Sprintf("%s in more than one layer, %s", paths, FormatBytes(d.WastedBytes, b))
		if n > listedRows {
			s.sub += fmt.Sprintf("; the %d largest (JSON and CSV list all)", listedRows)
		}
	}
	s.grid = grid{columns: []column{
		{header: "WASTED", align: right},
		{header: "LAYERS", align: right},
		{header: "PATH", code: true},
	}}
	for _, in := range d.Inefficiencies[:min(len(d.Inefficiencies), listedRows)] {
		s.grid.add(FormatBytes(in.Bytes, b), strconv.Itoa(in.Count), shownPath(in.Path))
	}
	s.notes = []string{"WASTED: dive's size of the path summed over the LAYERS it is in, the copy kept included."}
	return s
}

// sortedReclaim is a copy of items, largest first, then by path and
// layers, as analysis.Files orders them; sorting again keeps every format
// in one order whatever the analysis gives.
func sortedReclaim(items []analysis.Reclaim) []analysis.Reclaim {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b analysis.Reclaim) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.By, b.By))
	})
	return out
}

// layerCreatedBy is the command that created layer i, from the file
// analysis or else the image.
func layerCreatedBy(r *analysis.FileReport, i int) string {
	for _, l := range r.Layers {
		if l.Index == i && l.CreatedBy != "" {
			return l.CreatedBy
		}
	}
	if i >= 0 && i < len(r.Image.Layers) {
		return r.Image.Layers[i].CreatedBy
	}
	return ""
}

func filesText(w io.Writer, r *analysis.FileReport, opts Options) error {
	return filesViewText(w, newFilesView(r, opts), opts)
}

// filesViewText writes a file-level view (files, packages) as text.
func filesViewText(w io.Writer, v filesView, opts Options) error {
	ew := textWriter(w, opts)
	ew.fields(append([]field{{"Image", v.title}}, v.ident...))
	for _, f := range v.totals {
		ew.line(f.label + ": " + f.value)
	}
	ew.line("")
	ew.legend(v.notes)
	for _, s := range v.sections {
		ew.line("")
		textSection(ew, s)
	}
	ew.line("")
	if len(v.hints) == 0 {
		ew.line("Hints: none")
		return ew.err
	}
	ew.line("Hints")
	for i, h := range v.hints {
		ew.line(fmt.Sprintf("%d. %s [%s]", i+1, h.head, h.id))
		ew.line("   Fix: " + h.fix)
		if len(h.paths) > 0 {
			ew.line("   Paths: " + strings.Join(h.paths, ", "))
		}
		for _, l := range h.layers {
			ew.line("   " + l)
		}
	}
	return ew.err
}

// textSection writes a section: its heading, its table and the notes that
// explain the table, or "TITLE: none".
func textSection(ew *errWriter, s fileSection) {
	if len(s.grid.rows) == 0 {
		ew.line(s.title + ": none")
		return
	}
	if s.sub != "" {
		ew.line(s.title + ": " + s.sub)
	} else {
		ew.line(s.title)
	}
	ew.grid(&s.grid)
	ew.legend(s.notes)
}

func filesMarkdown(w io.Writer, r *analysis.FileReport, opts Options) error {
	v := newFilesView(r, opts)
	ew := &errWriter{w: w}
	ew.mdHeader("## Files of "+mdCode(v.title), v.ident, v.totals)
	for _, n := range v.notes {
		ew.line(mdText(n))
		ew.line("")
	}
	for _, s := range v.sections {
		mdSection(ew, s)
		ew.line("")
	}
	if len(v.hints) == 0 {
		ew.line("### Hints: none")
		return ew.err
	}
	ew.line("### Hints")
	ew.line("")
	for i, h := range v.hints {
		ew.line(fmt.Sprintf("%d. **%s** (%s)", i+1, mdText(h.head), mdCode(h.id)))
		ew.line("   - Fix: " + mdText(h.fix))
		if len(h.paths) > 0 {
			codes := make([]string, len(h.paths))
			for j, p := range h.paths {
				codes[j] = mdCode(p)
			}
			ew.line("   - Paths: " + strings.Join(codes, ", "))
		}
		for _, l := range h.layers {
			label, cmd, _ := strings.Cut(l, ": ")
			ew.line("   - " + label + ": " + mdCode(cmd))
		}
	}
	return ew.err
}

// mdSection writes a section as a Markdown heading, table and notes.
func mdSection(ew *errWriter, s fileSection) {
	if len(s.grid.rows) == 0 {
		ew.line("### " + mdText(s.title) + ": none")
		return
	}
	ew.line("### " + mdText(s.title))
	ew.line("")
	if s.sub != "" {
		ew.line(mdText(s.sub))
		ew.line("")
	}
	ew.markdown(&s.grid)
	if len(s.notes) > 0 {
		ew.line("")
		for _, n := range s.notes {
			ew.line("- " + mdText(n))
		}
	}
}

// filesHeader is the CSV header of a files report. A CSV file holds one
// table, so each row is one record and its section column says which; the
// other columns are filled only where that section has the figure:
//
//   - summary (one row): entries and bytes of the final filesystem, dive's
//     efficiency (a ratio from 0 to 1), wasted_bytes, size_bytes,
//     user_size_bytes and user_wasted_percent (a fraction as dive writes
//     it, 0.2 for 20%; empty when user_size_bytes is 0), and
//     reclaimable_bytes;
//   - layer: layer (its index), digest, created_by, added_*, changed_* and
//     deleted_* (entries and regular-file bytes), tar_bytes;
//   - file: path, bytes, layer (that wrote it);
//   - dir: path, bytes and files (regular files under it);
//   - reclaim: path, bytes, layer (that added them), by_layer, why
//     (superseded or deleted);
//   - inefficiency (dive's): path, count (of layers), bytes (dive's
//     cumulative size, the copy kept included);
//   - hint: id, title, bytes (saved), fix, paths and layers (separated by
//     ";").
//
// Every list is complete (a table lists the largest reclaimable items and
// inefficiencies only). Paths are absolute; bytes are whole numbers of
// regular-file bytes, uncompressed and exact.
var filesHeader = []string{
	"section", "image", "path", "bytes", "entries", "files", "layer", "by_layer", "why", "count",
	"digest", "created_by",
	"added_entries", "added_bytes", "changed_entries", "changed_bytes", "deleted_entries", "deleted_bytes", "tar_bytes",
	"efficiency", "wasted_bytes", "size_bytes", "user_size_bytes", "user_wasted_percent", "reclaimable_bytes",
	"id", "title", "fix", "paths", "layers",
}

func filesCSV(w io.Writer, r *analysis.FileReport) error {
	cw := newRowWriter(w, filesHeader)
	img := imageLabel(r.Image)
	d := r.Dive
	sum := map[string]string{
		"section": "summary", "image": img,
		"entries": itoa(r.Files.Files), "bytes": i64toa(r.Files.Bytes),
		"efficiency": ftoa(d.Efficiency), "wasted_bytes": i64toa(d.WastedBytes),
		"size_bytes": i64toa(d.SizeBytes), "user_size_bytes": i64toa(d.UserSizeBytes),
		"reclaimable_bytes": i64toa(r.Reclaimable),
	}
	if d.UserSizeBytes > 0 {
		sum["user_wasted_percent"] = ftoa(d.UserWastedPercent)
	}
	cw.row(sum)
	for _, l := range r.Layers {
		cw.row(map[string]string{
			"section": "layer", "image": img, "layer": itoa(l.Index),
			"digest": hashString(l.Digest), "created_by": l.CreatedBy,
			"added_entries": itoa(l.Added.Files), "added_bytes": i64toa(l.Added.Bytes),
			"changed_entries": itoa(l.Changed.Files), "changed_bytes": i64toa(l.Changed.Bytes),
			"deleted_entries": itoa(l.Deleted.Files), "deleted_bytes": i64toa(l.Deleted.Bytes),
			"tar_bytes": i64toa(l.TarBytes),
		})
	}
	for _, p := range r.Largest {
		cw.row(map[string]string{"section": "file", "image": img, "path": fsPath(p.Path), "bytes": i64toa(p.Bytes), "layer": itoa(p.Layer)})
	}
	for _, p := range r.Dirs {
		cw.row(map[string]string{"section": "dir", "image": img, "path": fsPath(p.Path), "bytes": i64toa(p.Bytes), "files": itoa(p.Files)})
	}
	for _, it := range sortedReclaim(r.ReclaimItems) {
		cw.row(map[string]string{
			"section": "reclaim", "image": img, "path": fsPath(it.Path), "bytes": i64toa(it.Bytes),
			"layer": itoa(it.Layer), "by_layer": itoa(it.By), "why": it.Why,
		})
	}
	for _, in := range d.Inefficiencies {
		cw.row(map[string]string{"section": "inefficiency", "image": img, "path": fsPath(in.Path), "count": itoa(in.Count), "bytes": i64toa(in.Bytes)})
	}
	for _, h := range r.Hints {
		paths := make([]string, len(h.Paths))
		for i, p := range h.Paths {
			paths[i] = fsPath(p)
		}
		ls := make([]string, len(h.Layers))
		for i, l := range h.Layers {
			ls[i] = itoa(l)
		}
		cw.row(map[string]string{
			"section": "hint", "image": img, "id": h.ID, "title": h.Title, "bytes": i64toa(h.Bytes),
			"fix": h.Fix, "paths": strings.Join(paths, ";"), "layers": strings.Join(ls, ";"),
		})
	}
	return cw.flush()
}

func filesDocument(r *analysis.FileReport, opts Options) *schema.Document {
	d := newDocument(schema.KindFiles, opts)
	d.Images = []schema.ImageRecord{imageRecord(r.Image)}
	dv := r.Dive
	rec := &schema.FilesRecord{
		Image:      0,
		Filesystem: countRecord(r.Files),
		Layers:     make([]schema.LayerFilesRecord, 0, len(r.Layers)),
		Largest:    make([]schema.FileSizeRecord, 0, len(r.Largest)),
		Dirs:       make([]schema.DirSizeRecord, 0, len(r.Dirs)),
		Dive: schema.DiveRecord{
			Efficiency:     dv.Efficiency,
			WastedBytes:    dv.WastedBytes,
			SizeBytes:      dv.SizeBytes,
			UserSizeBytes:  dv.UserSizeBytes,
			Inefficiencies: make([]schema.InefficiencyRecord, 0, len(dv.Inefficiencies)),
		},
		ReclaimableBytes: r.Reclaimable,
		Reclaimable:      make([]schema.ReclaimRecord, 0, len(r.ReclaimItems)),
		Hints:            make([]schema.HintRecord, 0, len(r.Hints)),
	}
	if dv.UserSizeBytes > 0 {
		p := dv.UserWastedPercent
		rec.Dive.UserWastedPercent = &p
	}
	for _, l := range r.Layers {
		rec.Layers = append(rec.Layers, schema.LayerFilesRecord{
			Index:    l.Index,
			Digest:   hashString(l.Digest),
			Added:    countRecord(l.Added),
			Changed:  countRecord(l.Changed),
			Deleted:  countRecord(l.Deleted),
			TarBytes: l.TarBytes,
		})
	}
	for _, p := range r.Largest {
		rec.Largest = append(rec.Largest, schema.FileSizeRecord{Path: fsPath(p.Path), Bytes: p.Bytes, Layer: p.Layer})
	}
	for _, p := range r.Dirs {
		rec.Dirs = append(rec.Dirs, schema.DirSizeRecord{Path: fsPath(p.Path), Bytes: p.Bytes, Files: p.Files})
	}
	for _, in := range dv.Inefficiencies {
		rec.Dive.Inefficiencies = append(rec.Dive.Inefficiencies, schema.InefficiencyRecord{Path: fsPath(in.Path), Count: in.Count, Bytes: in.Bytes})
	}
	for _, it := range sortedReclaim(r.ReclaimItems) {
		rec.Reclaimable = append(rec.Reclaimable, schema.ReclaimRecord{Path: fsPath(it.Path), Bytes: it.Bytes, Layer: it.Layer, ByLayer: it.By, Why: it.Why})
	}
	for _, h := range r.Hints {
		hr := schema.HintRecord{ID: h.ID, Title: h.Title, Bytes: h.Bytes, Paths: make([]string, 0, len(h.Paths)), Layers: slices.Clone(h.Layers), Fix: h.Fix}
		if hr.Layers == nil {
			hr.Layers = []int{}
		}
		for _, p := range h.Paths {
			hr.Paths = append(hr.Paths, fsPath(p))
		}
		rec.Hints = append(rec.Hints, hr)
	}
	d.Files = rec
	return d
}

func countRecord(c analysis.Count) schema.CountRecord {
	return schema.CountRecord{Entries: c.Files, Bytes: c.Bytes}
}

// fsPath is a model path ("usr/local/go", clean, relative to the root) as
// a user names it in an image: "/usr/local/go"; the root is "/".
func fsPath(p string) string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
	if p == "." {
		p = ""
	}
	return "/" + p
}

// shownPath is fsPath for a table or Markdown cell; see shown.
func shownPath(p string) string { return shown(fsPath(p)) }

// shown is s for a table or Markdown cell. A tar header can name a path
// with any bytes: control characters (a newline would end the row) and
// invalid UTF-8 are escaped as Go escapes them ("a\nb"). JSON carries the
// path as it is; CSV as Terminal writes it.
func shown(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// countCell is a Count as a table cell: "5 / 30.0 MB".
func countCell(c analysis.Count, binary bool) string {
	return groupDigits(int64(c.Files)) + " / " + FormatBytes(c.Bytes, binary)
}

// entryCount is "1 entry" or "12,345 entries".
func entryCount(n int) string {
	if n == 1 || n == -1 {
		return groupDigits(int64(n)) + " entry"
	}
	return groupDigits(int64(n)) + " entries"
}

func itemCount(n int) string {
	if n == 1 {
		return "1 item"
	}
	return groupDigits(int64(n)) + " items"
}

// groupDigits prints n with a comma between groups of three digits:
// "12,345".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// percent2 prints a ratio as a percentage with two decimals: 0.9612 is
// "96.12%". A ratio that is not 1 never prints as 100.00%, nor one that is
// not 0 as 0.00%: ">99.99%", "<0.01%".
func percent2(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(r*100, 'f', 2, 64)
	switch {
	case r != 1 && s == "100.00":
		return ">99.99%"
	case r != 0 && (s == "0.00" || s == "-0.00"):
		return "<0.01%"
	}
	return s + "%"
}

func itoa(n int) string     { return strconv.Itoa(n) }
func i64toa(n int64) string { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// rowWriter writes CSV rows given as column → value, in the header's
// order, and keeps the first error.
type rowWriter struct {
	cw     *csvWriter
	header []string
	err    error
}

func newRowWriter(w io.Writer, header []string) *rowWriter {
	rw := &rowWriter{cw: newCSVWriter(w), header: header}
	rw.write(header)
	return rw
}

func (rw *rowWriter) row(m map[string]string) {
	rec := make([]string, len(rw.header))
	for i, h := range rw.header {
		rec[i] = m[h]
	}
	for k := range m {
		if rw.err == nil && !slices.Contains(rw.header, k) {
			rw.err = fmt.Errorf("no column %q", k)
		}
	}
	rw.write(rec)
}

func (rw *rowWriter) write(rec []string) {
	if rw.err == nil {
		rw.err = rw.cw.Write(rec)
	}
}

func (rw *rowWriter) flush() error {
	if rw.err == nil {
		rw.cw.Flush()
		rw.err = rw.cw.Error()
	}
	if rw.err != nil {
		return fmt.Errorf("writing CSV report: %w", rw.err)
	}
	return nil
}
