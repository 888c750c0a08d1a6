package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Diff writes what differs between two images' final filesystems in
// opts.Format: each filesystem's totals and the difference, how many paths
// were added, removed and changed with their bytes, the differences rolled
// up by directory (what made B bigger), then the paths that differ most.
//
// It says whether file contents were compared: without, a path counts as
// changed only when its type, size, mode or link target differ.
func Diff(w io.Writer, d *analysis.FileDiff, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if d == nil {
		return errors.New("diff report: no diff")
	}
	if d.A == nil || d.B == nil {
		return errors.New("diff report: the diff lacks image A or B")
	}
	for i, e := range d.Entries {
		if err := validEntry(e); err != nil {
			return fmt.Errorf("diff report: entry %d (%s): %w", i, e.Path, err)
		}
	}
	switch f {
	case JSON:
		return writeJSON(w, diffDocument(d, opts))
	case HTML:
		return writeHTML(w, diffDocument(d, opts))
	case CSV:
		return diffCSV(w, d)
	case Markdown:
		return diffMarkdown(w, d, opts)
	default:
		return diffText(w, d, opts)
	}
}

// validEntry rejects an entry no format could report honestly: a side that
// should be there and is not, or the reverse.
func validEntry(e analysis.DiffEntry) error {
	var wantA, wantB bool
	switch e.Change {
	case analysis.Added:
		wantB = true
	case analysis.Removed:
		wantA = true
	case analysis.Changed:
		wantA, wantB = true, true
	default:
		return fmt.Errorf("unknown change %q", e.Change)
	}
	if (e.A != nil) != wantA || (e.B != nil) != wantB {
		return fmt.Errorf("a path %s has A %v and B %v", e.Change, e.A != nil, e.B != nil)
	}
	return nil
}

// diffLabels names A and B by the references the user gave; when those are
// the same, by their digests too.
func diffLabels(d *analysis.FileDiff) (string, string) {
	a, b := imageLabel(d.A), imageLabel(d.B)
	if a == b {
		a += " (" + shortDigest(manifestDigest(d.A)) + ")"
		b += " (" + shortDigest(manifestDigest(d.B)) + ")"
	}
	return a, b
}

// diffView is what the table and Markdown formats show of a diff.
type diffView struct {
	title    string
	idents   [2][]field // A's and B's
	totals   []field
	notes    []string
	sections []fileSection
	empty    string // said instead of the sections when nothing differs
}

func newDiffView(d *analysis.FileDiff, opts Options) diffView {
	b := opts.Binary
	la, lb := diffLabels(d)
	v := diffView{title: la + " → " + lb}
	for i, img := range []*layers.Image{d.A, d.B} {
		label := [2]string{la, lb}[i]
		v.idents[i] = append([]field{{[2]string{"A", "B"}[i], label}},
			nonEmpty(field{"Digest", manifestDigest(img)}, field{"Platform", platformString(img.Platform)})...)
	}
	fa, fb := d.FilesA, d.FilesB
	delta := fb.Bytes - fa.Bytes
	pct := 0.0
	if fa.Bytes != 0 {
		pct = float64(delta) / float64(fa.Bytes) * 100
	}
	v.totals = []field{
		{"Files", fmt.Sprintf("A %s, %s; B %s, %s; B − A %s, %s",
			entryCount(fa.Files), FormatBytes(fa.Bytes, b), entryCount(fb.Files), FormatBytes(fb.Bytes, b),
			signedEntries(fb.Files-fa.Files), formatDelta(delta, pct, fa.Bytes == 0, b))},
		{"Differences", fmt.Sprintf("%s added (%s in B), %s removed (%s in A), %s changed (%s in B)",
			groupDigits(int64(d.Added.Files)), FormatBytes(d.Added.Bytes, b),
			groupDigits(int64(d.Removed.Files)), FormatBytes(d.Removed.Bytes, b),
			groupDigits(int64(d.Changed.Files)), FormatBytes(d.Changed.Bytes, b))},
	}
	if d.Content {
		v.totals = append(v.totals, field{"Contents", "compared by digest: a path whose content differs counts as changed"})
	} else {
		v.totals = append(v.totals, field{"Contents", "not compared; \"changed\" means the type, size, mode or link target differs (--content compares contents too)"})
	}
	v.notes = []string{fileBytesNote}
	total := d.Added.Files + d.Removed.Files + d.Changed.Files
	if total == 0 && len(d.Entries) == 0 && len(d.Dirs) == 0 {
		v.empty = "No differences: the two final filesystems have the same paths, with the same types, sizes, modes and link targets"
		if d.Content {
			v.empty += " and contents"
		}
		v.empty += "."
		if d.Packages != nil {
			v.sections = append(v.sections, packageDiffSection(d.Packages, 0, b))
		}
		return v
	}
	v.sections = []fileSection{diffDirsSection(d, b), diffEntriesSection(d, total, b)}
	if d.Packages != nil {
		v.sections = append(v.sections, packageDiffSection(d.Packages, 0, b))
	}
	return v
}

// wholeDir reports whether e is a directory added or removed whole, which
// stands for everything under it (its Subtree).
func wholeDir(e analysis.DiffEntry) bool {
	switch {
	case e.Change == analysis.Added && e.B != nil:
		return e.B.Type == files.Dir
	case e.Change == analysis.Removed && e.A != nil:
		return e.A.Type == files.Dir
	}
	return false
}

// covered is how many differences the entries stand for: one each, and a
// directory added or removed whole for everything under it too.
func covered(entries []analysis.DiffEntry) int {
	n := 0
	for _, e := range entries {
		n += 1 + e.Subtree.Files
	}
	return n
}

func diffDirsSection(d *analysis.FileDiff, b bool) fileSection {
	s := fileSection{title: "What made B bigger, by directory"}
	if d.FilesB.Bytes < d.FilesA.Bytes {
		s.title = "What made B smaller, by directory"
	}
	s.grid = grid{columns: []column{
		{header: "Δ", align: right},
		{header: "A", align: right},
		{header: "B", align: right},
		{header: "CHANGES", align: right},
		{header: "PATH", code: true},
	}}
	for _, dir := range d.Dirs {
		s.grid.add(signedBytes(dir.Delta, b), FormatBytes(dir.BytesA, b), FormatBytes(dir.BytesB, b), changeCounts(dir), shownPath(dir.Path))
	}
	s.notes = []string{"Each path counts in one row: the directory holding it, cut to the roll-up depth (\"/\" for paths at the top), so the rows do not overlap and their Δ add up to B − A. A, B: the regular-file bytes of the row's paths in each, changed or not (for a directory at the depth limit, its whole subtree); Δ: B − A. CHANGES: the row's paths added (+), removed (−) and changed (~)."}
	return s
}

func diffEntriesSection(d *analysis.FileDiff, total int, b bool) fileSection {
	s := fileSection{title: "Largest differences"}
	switch n := covered(d.Entries); {
	case len(d.Entries) == 0:
	case n < total:
		s.sub = fmt.Sprintf("the top %s, for %s of the %s paths that differ; largest |Δ| first",
			groupDigits(int64(len(d.Entries))), groupDigits(int64(n)), groupDigits(int64(total)))
	case total == 1:
		s.sub = "the 1 path that differs"
	default:
		s.sub = fmt.Sprintf("all %s paths that differ, largest |Δ| first", groupDigits(int64(total)))
	}
	s.grid = grid{columns: []column{
		{header: "Δ", align: right},
		{header: "CHANGE"},
		{header: "A", align: right},
		{header: "B", align: right},
		{header: "PATH", code: true},
		{header: "DETAIL"},
	}}
	whole := false
	for _, e := range d.Entries {
		s.grid.add(signedBytes(e.Delta, b), e.Change, infoCell(e.A, b), infoCell(e.B, b), shownPath(e.Path), detail(e))
		whole = whole || wholeDir(e)
	}
	s.notes = []string{"A, B: a regular file's size, or the kind of entry; \"—\" where the path is absent. Δ: B − A. DETAIL: what differs in a changed path."}
	if whole {
		s.notes = append(s.notes, "A directory added or removed whole is one row for everything under it: its Δ is the bytes of the regular files beneath it.")
	}
	return s
}

// changeCounts is a directory's "+added −removed ~changed" cell.
func changeCounts(dir analysis.DiffDir) string {
	return "+" + groupDigits(int64(dir.Added)) + " −" + groupDigits(int64(dir.Removed)) + " ~" + groupDigits(int64(dir.Changed))
}

// infoCell is one side of a difference: a regular file's size, another
// entry's kind, or "—" when the path is absent.
func infoCell(fi *analysis.FileInfo, binary bool) string {
	switch {
	case fi == nil:
		return "—"
	case fi.Type == files.Regular:
		return FormatBytes(fi.Size, binary)
	default:
		return string(fi.Type)
	}
}

// detail says how a changed path differs — "size", "mode 0644 → 0755",
// "link server → server.v2", "type file → symlink", "content" — or what
// a directory added or removed whole holds: "whole, 7 entries under it".
func detail(e analysis.DiffEntry) string {
	if wholeDir(e) {
		return "whole, " + entryCount(e.Subtree.Files) + " under it"
	}
	if e.Change != analysis.Changed || e.A == nil || e.B == nil {
		return ""
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		switch f {
		case "type":
			parts = append(parts, "type "+string(e.A.Type)+" → "+string(e.B.Type))
		case "mode":
			parts = append(parts, "mode "+modeString(e.A.Mode)+" → "+modeString(e.B.Mode))
		case "link":
			parts = append(parts, "link "+shown(e.A.Linkname)+" → "+shown(e.B.Linkname))
		default:
			parts = append(parts, f)
		}
	}
	return strings.Join(parts, ", ")
}

// modeString is permission bits in octal, as ls and chmod write them:
// "0755", "4755".
func modeString(m int64) string { return fmt.Sprintf("%04o", m) }

// signedEntries is a difference in entries: "+1 entry", "-12 entries",
// "0 entries".
func signedEntries(n int) string {
	s := entryCount(n)
	if n > 0 {
		s = "+" + s
	}
	return s
}

func diffText(w io.Writer, d *analysis.FileDiff, opts Options) error {
	v := newDiffView(d, opts)
	ew := textWriter(w, opts)
	ew.line("Diff: " + v.title)
	for _, id := range v.idents {
		ew.fields(id)
	}
	for _, f := range v.totals {
		ew.line(f.label + ": " + f.value)
	}
	ew.line("")
	ew.legend(v.notes)
	if v.empty != "" {
		ew.line("")
		ew.line(v.empty)
	}
	for _, s := range v.sections {
		ew.line("")
		textSection(ew, s)
	}
	return ew.err
}

func diffMarkdown(w io.Writer, d *analysis.FileDiff, opts Options) error {
	v := newDiffView(d, opts)
	ew := &errWriter{w: w}
	la, lb := diffLabels(d)
	ew.line("## Diff " + mdCode(la) + " → " + mdCode(lb))
	ew.line("")
	for _, id := range v.idents {
		parts := make([]string, len(id))
		for i, f := range id {
			parts[i] = f.label + ": " + mdCode(f.value)
		}
		ew.line("- " + strings.Join(parts, ", "))
	}
	for _, f := range v.totals {
		ew.line("- " + f.label + ": " + mdText(f.value))
	}
	ew.line("")
	for _, n := range v.notes {
		ew.line(mdText(n))
		ew.line("")
	}
	if v.empty != "" {
		ew.line(mdText(v.empty))
	}
	for i, s := range v.sections {
		if i > 0 {
			ew.line("")
		}
		mdSection(ew, s)
	}
	return ew.err
}

// diffHeader is the CSV header of a diff report. Each row is one record
// and its section column says which:
//
//   - summary (one row): a_bytes and b_bytes, a_entries and b_entries of
//     the two final filesystems, delta_bytes (B − A); added, removed and
//     changed (counts of every difference) with added_bytes (B's),
//     removed_bytes (A's) and changed_bytes (B's); content (true when file
//     contents were compared; when false, changed means the type, size,
//     mode or link target differs);
//   - dir: path, a_bytes and b_bytes (regular-file bytes under it),
//     delta_bytes, added, removed and changed (entries under it);
//   - entry: path, change (added, removed, changed), a_* and b_* (the
//     path's entry in A and in B, empty where absent: type, bytes, mode in
//     octal as chmod writes it, link target, content digest, layer that
//     wrote it), delta_bytes, fields (what differs, separated by ";");
//     for a directory added or removed whole, which stands for everything
//     under it, subtree_entries and subtree_bytes (the paths beneath it
//     and their regular-file bytes, which delta_bytes is).
//
// A dir row holds the paths whose directory, cut to the roll-up depth, is
// its path ("/" for paths at the top): the rows do not overlap.
//
// Paths are absolute; bytes are whole numbers of regular-file bytes,
// uncompressed and exact.
var diffHeader = []string{
	"section", "image_a", "image_b", "path", "change",
	"a_bytes", "b_bytes", "delta_bytes",
	"a_entries", "b_entries", "added", "added_bytes", "removed", "removed_bytes", "changed", "changed_bytes",
	"a_type", "b_type", "a_mode", "b_mode", "a_link", "b_link", "a_digest", "b_digest", "a_layer", "b_layer",
	"fields", "subtree_entries", "subtree_bytes", "content",
}

// diffPackageHeader are the columns a diff --packages adds to the CSV:
// its rows of section "package" give kind, name, change (added, removed,
// upgraded, resized), a_version and b_version, a_bytes, b_bytes and
// delta_bytes (the bytes the package owns in each); a row of section
// "package-note" gives, in note, a side whose package database was not
// read (its packages may show as added or removed when they are not).
var diffPackageHeader = []string{"kind", "name", "a_version", "b_version", "note"}

func diffCSV(w io.Writer, d *analysis.FileDiff) error {
	header := diffHeader
	if d.Packages != nil {
		header = append(slices.Clone(diffHeader), diffPackageHeader...)
	}
	cw := newRowWriter(w, header)
	la, lb := imageLabel(d.A), imageLabel(d.B)
	cw.row(map[string]string{
		"section": "summary", "image_a": la, "image_b": lb,
		"a_bytes": i64toa(d.FilesA.Bytes), "b_bytes": i64toa(d.FilesB.Bytes), "delta_bytes": i64toa(d.FilesB.Bytes - d.FilesA.Bytes),
		"a_entries": itoa(d.FilesA.Files), "b_entries": itoa(d.FilesB.Files),
		"added": itoa(d.Added.Files), "added_bytes": i64toa(d.Added.Bytes),
		"removed": itoa(d.Removed.Files), "removed_bytes": i64toa(d.Removed.Bytes),
		"changed": itoa(d.Changed.Files), "changed_bytes": i64toa(d.Changed.Bytes),
		"content": strconv.FormatBool(d.Content),
	})
	for _, dir := range d.Dirs {
		cw.row(map[string]string{
			"section": "dir", "image_a": la, "image_b": lb, "path": fsPath(dir.Path),
			"a_bytes": i64toa(dir.BytesA), "b_bytes": i64toa(dir.BytesB), "delta_bytes": i64toa(dir.Delta),
			"added": itoa(dir.Added), "removed": itoa(dir.Removed), "changed": itoa(dir.Changed),
		})
	}
	for _, e := range d.Entries {
		m := map[string]string{
			"section": "entry", "image_a": la, "image_b": lb, "path": fsPath(e.Path), "change": e.Change,
			"delta_bytes": i64toa(e.Delta), "fields": strings.Join(e.Fields, ";"),
		}
		for prefix, fi := range map[string]*analysis.FileInfo{"a_": e.A, "b_": e.B} {
			if fi == nil {
				continue
			}
			m[prefix+"type"] = string(fi.Type)
			m[prefix+"bytes"] = i64toa(fi.Size)
			m[prefix+"mode"] = modeString(fi.Mode)
			m[prefix+"link"] = fi.Linkname
			m[prefix+"digest"] = fi.Digest
			m[prefix+"layer"] = itoa(fi.Layer)
		}
		if wholeDir(e) {
			m["subtree_entries"], m["subtree_bytes"] = itoa(e.Subtree.Files), i64toa(e.Subtree.Bytes)
		}
		cw.row(m)
	}
	if d.Packages != nil {
		for _, n := range d.Packages.Notes {
			cw.row(map[string]string{"section": "package-note", "image_a": la, "image_b": lb, "note": n})
		}
		for _, c := range d.Packages.Changes {
			cw.row(map[string]string{
				"section": "package", "image_a": la, "image_b": lb, "change": string(c.Change),
				"kind": string(c.Kind), "name": c.Name, "a_version": c.OldVersion, "b_version": c.NewVersion,
				"a_bytes": i64toa(c.OldBytes), "b_bytes": i64toa(c.NewBytes), "delta_bytes": i64toa(c.Delta),
			})
		}
	}
	return cw.flush()
}

func diffDocument(d *analysis.FileDiff, opts Options) *schema.Document {
	doc := newDocument(schema.KindDiff, opts)
	doc.Images = []schema.ImageRecord{imageRecord(d.A), imageRecord(d.B)}
	rec := &schema.DiffRecord{
		ImageA:      0,
		ImageB:      1,
		Content:     d.Content,
		FilesystemA: countRecord(d.FilesA),
		FilesystemB: countRecord(d.FilesB),
		Added:       countRecord(d.Added),
		Removed:     countRecord(d.Removed),
		Changed:     countRecord(d.Changed),
		Dirs:        make([]schema.DiffDirRecord, 0, len(d.Dirs)),
		Entries:     make([]schema.DiffEntryRecord, 0, len(d.Entries)),
	}
	for _, dir := range d.Dirs {
		rec.Dirs = append(rec.Dirs, schema.DiffDirRecord{
			Path:       fsPath(dir.Path),
			BytesA:     dir.BytesA,
			BytesB:     dir.BytesB,
			DeltaBytes: dir.Delta,
			Added:      dir.Added,
			Removed:    dir.Removed,
			Changed:    dir.Changed,
		})
	}
	for _, e := range d.Entries {
		er := schema.DiffEntryRecord{
			Path:       fsPath(e.Path),
			Change:     e.Change,
			A:          fileInfoRecord(e.A),
			B:          fileInfoRecord(e.B),
			DeltaBytes: e.Delta,
			Fields:     append([]string{}, e.Fields...),
		}
		if wholeDir(e) {
			st := countRecord(e.Subtree)
			er.Subtree = &st
		}
		rec.Entries = append(rec.Entries, er)
	}
	if d.Packages != nil {
		rec.Packages = packageDiffRecord(d.Packages)
	}
	doc.Diff = rec
	return doc
}

func fileInfoRecord(fi *analysis.FileInfo) *schema.FileInfoRecord {
	if fi == nil {
		return nil
	}
	return &schema.FileInfoRecord{
		Type:     string(fi.Type),
		Bytes:    fi.Size,
		Mode:     fi.Mode,
		Linkname: fi.Linkname,
		Digest:   fi.Digest,
		Layer:    fi.Layer,
	}
}
