package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Packages writes the packages of one image and the bytes each owns in
// opts.Format; the table and Markdown list the top largest (0: all), JSON
// and CSV every package.
func Packages(w io.Writer, r *analysis.PackageReport, top int, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if r == nil || r.Image == nil {
		return errors.New("packages report: no package report")
	}
	switch f {
	case JSON:
		return writeJSON(w, packagesDocument(r, opts))
	case HTML:
		return writeHTML(w, packagesDocument(r, opts))
	case CSV:
		return packagesCSV(w, r)
	case Markdown:
		return packagesMarkdown(w, r, top, opts)
	default:
		return packagesText(w, r, top, opts)
	}
}

// packagesNote says once what the sizes are.
const packagesNote = "BYTES are the regular-file bytes of the final filesystem each package owns: the files actually in the image, whatever the database declares (DECLARED: dpkg's Installed-Size, apk's I:; ! marks one that differs by more than rounding explains). Every byte counts once: a file two databases claim goes to the OS package manager, then Python, npm, then a Go binary's main module; a hard-linked content counts once. The packages and unowned add up to the total."

// packagesView is a file-level view: its sections list packages.
type packagesView = filesView

func newPackagesView(r *analysis.PackageReport, top int, opts Options) packagesView {
	b := opts.Binary
	v := packagesView{title: imageLabel(r.Image)}
	v.ident = nonEmpty(
		field{"Digest", manifestDigest(r.Image)},
		field{"Platform", platformString(r.Image.Platform)},
	)
	var dbs []string
	for _, d := range r.Databases {
		s := fmt.Sprintf("%s %s (%s)", d.Kind, fsPath(d.Path), plural(d.Packages, "package"))
		if !d.Read {
			s = fmt.Sprintf("%s %s (not read)", d.Kind, fsPath(d.Path))
		}
		if strings.Contains(d.Path, "*") || strings.Contains(d.Path, " ") {
			s = fmt.Sprintf("%s (%s)", d.Kind, plural(d.Packages, "package"))
		}
		dbs = append(dbs, s)
	}
	if len(dbs) == 0 {
		dbs = []string{"none found"}
	}
	owned := r.Total.Bytes - r.Unowned.Bytes
	v.totals = []field{
		{"Files", groupDigits(int64(r.Total.Files)) + " regular files, " + FormatBytes(r.Total.Bytes, b) + " (the final filesystem)"},
		{"Packages", plural(len(r.Packages), "package") + " own " + FormatBytes(owned, b) + share(owned, r.Total.Bytes)},
		{"Unowned", FormatBytes(r.Unowned.Bytes, b) + share(r.Unowned.Bytes, r.Total.Bytes) + " in " + plural(r.Unowned.Files, "file")},
		{"Databases", strings.Join(dbs, "; ")},
	}
	v.notes = append([]string{packagesNote}, r.Notes...)

	s := fileSection{title: "Packages"}
	s.grid = grid{columns: []column{
		{header: "KIND"},
		{header: "NAME", code: true},
		{header: "VERSION", code: true},
		{header: "FILES", align: right},
		{header: "BYTES", align: right},
		{header: "RELATIVE", bar: true},
		{header: "DECLARED", align: right},
		{header: "LAYERS"},
	}}
	n := len(r.Packages)
	if top > 0 && top < n {
		n = top
		s.sub = fmt.Sprintf("the %d largest of %d", top, len(r.Packages))
	}
	most := r.Unowned.Bytes
	for _, p := range r.Packages {
		most = max(most, p.Owned.Bytes)
	}
	for _, p := range r.Packages[:n] {
		declared := ""
		if p.Declared >= 0 {
			declared = FormatBytes(p.Declared, b)
			if p.Disagrees {
				declared += " !"
			}
		}
		s.grid.add(string(p.Kind), p.Name, p.Version, groupDigits(int64(p.Owned.Files)), FormatBytes(p.Owned.Bytes, b), bar(p.Owned.Bytes, most), declared, layerCounts(p.Layers, b))
	}
	if len(r.Packages) > 0 || r.Unowned.Files > 0 {
		s.grid.add("", "(unowned)", "", groupDigits(int64(r.Unowned.Files)), FormatBytes(r.Unowned.Bytes, b), bar(r.Unowned.Bytes, most), "", layerCounts(r.UnownedLayers, b))
	}
	s.notes = []string{"LAYERS: the layers that wrote the package's files and their bytes (layer: bytes)."}
	v.sections = append(v.sections, s)

	var gos fileSection
	gos.title = "Go binaries"
	gos.grid = grid{columns: []column{
		{header: "MAIN MODULE", code: true},
		{header: "VERSION", code: true},
		{header: "GO", code: true},
		{header: "MODULES", align: right},
		{header: "BYTES", align: right},
	}}
	for _, p := range r.Packages {
		if p.Kind == "go" {
			gos.grid.add(p.Name, p.Version, p.GoVersion, strconv.Itoa(len(p.Modules)), FormatBytes(p.Owned.Bytes, b))
		}
	}
	if len(gos.grid.rows) > 0 {
		gos.notes = []string{"MODULES: the modules linked in besides the main one (all listed in -f json, as `go version -m` prints them)."}
		v.sections = append(v.sections, gos)
	}
	for _, h := range r.Hints {
		hv := hintView{head: h.Title + ": " + FormatBytes(h.Bytes, b), id: h.ID, fix: h.Fix}
		for _, p := range h.Paths {
			hv.paths = append(hv.paths, shownPath(p))
		}
		for _, l := range h.Layers {
			cb := ""
			if l >= 0 && l < len(r.Image.Layers) {
				cb = r.Image.Layers[l].CreatedBy
			}
			hv.layers = append(hv.layers, "Layer "+strconv.Itoa(l)+": "+createdBy(cb))
		}
		v.hints = append(v.hints, hv)
	}
	return v
}

// share is " (N% of the total)".
func share(n, total int64) string {
	if total <= 0 {
		return ""
	}
	return " (" + strconv.FormatFloat(float64(n)*100/float64(total), 'f', 1, 64) + "%)"
}

func layerCounts(ls []analysis.LayerCount, b bool) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, strconv.Itoa(l.Layer)+": "+FormatBytes(l.Bytes, b))
	}
	return strings.Join(parts, ", ")
}

func packagesText(w io.Writer, r *analysis.PackageReport, top int, opts Options) error {
	return filesViewText(w, newPackagesView(r, top, opts), opts)
}

func packagesMarkdown(w io.Writer, r *analysis.PackageReport, top int, opts Options) error {
	v := newPackagesView(r, top, opts)
	ew := &errWriter{w: w}
	ew.mdHeader("## Packages of "+mdCode(v.title), v.ident, v.totals)
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
			ew.line("   - " + strings.Join(codes, ", "))
		}
	}
	return ew.err
}

// packagesHeader is the CSV header of a packages report: one row a
// package (section "package"), one for the unowned files (section
// "unowned", name empty), one a database (section "database": kind, path,
// read, packages, note). declared_bytes is empty when the database states
// no size; layers are "LAYER:BYTES" joined by ";".
var packagesHeader = []string{"section", "image", "kind", "name", "version", "files", "bytes", "declared_bytes", "disagrees", "layers", "go_version", "path", "read", "packages", "note"}

func packagesCSV(w io.Writer, r *analysis.PackageReport) error {
	cw := newRowWriter(w, packagesHeader)
	img := imageLabel(r.Image)
	csvLayers := func(ls []analysis.LayerCount) string {
		parts := make([]string, 0, len(ls))
		for _, l := range ls {
			parts = append(parts, itoa(l.Layer)+":"+i64toa(l.Bytes))
		}
		return strings.Join(parts, ";")
	}
	for _, p := range r.Packages {
		row := map[string]string{
			"section": "package", "image": img, "kind": string(p.Kind), "name": p.Name, "version": p.Version,
			"files": itoa(p.Owned.Files), "bytes": i64toa(p.Owned.Bytes), "disagrees": strconv.FormatBool(p.Disagrees),
			"layers": csvLayers(p.Layers), "go_version": p.GoVersion,
		}
		if p.Declared >= 0 {
			row["declared_bytes"] = i64toa(p.Declared)
		}
		cw.row(row)
	}
	cw.row(map[string]string{"section": "unowned", "image": img, "files": itoa(r.Unowned.Files), "bytes": i64toa(r.Unowned.Bytes), "layers": csvLayers(r.UnownedLayers)})
	for _, d := range r.Databases {
		cw.row(map[string]string{"section": "database", "image": img, "kind": string(d.Kind), "path": d.Path, "read": strconv.FormatBool(d.Read), "packages": itoa(d.Packages), "note": d.Note})
	}
	return cw.flush()
}

func layerCountRecords(ls []analysis.LayerCount) []schema.LayerCountRecord {
	out := make([]schema.LayerCountRecord, 0, len(ls))
	for _, l := range ls {
		out = append(out, schema.LayerCountRecord{Layer: l.Layer, Files: l.Files, Bytes: l.Bytes})
	}
	return out
}

func packagesDocument(r *analysis.PackageReport, opts Options) *schema.Document {
	d := newDocument(schema.KindPackages, opts)
	d.Images = []schema.ImageRecord{imageRecord(r.Image)}
	rec := &schema.PackagesRecord{
		Total:     schema.FileCountRecord{Files: r.Total.Files, Bytes: r.Total.Bytes},
		Packages:  make([]schema.PackageRecord, 0, len(r.Packages)),
		Unowned:   schema.OwnedRecord{Files: r.Unowned.Files, Bytes: r.Unowned.Bytes, Layers: layerCountRecords(r.UnownedLayers)},
		Databases: make([]schema.PackageDatabaseRecord, 0, len(r.Databases)),
		Notes:     append([]string{}, r.Notes...),
		Hints:     make([]schema.HintRecord, 0, len(r.Hints)),
	}
	for _, p := range r.Packages {
		pr := schema.PackageRecord{
			Kind: string(p.Kind), Name: p.Name, Version: p.Version,
			Files: p.Owned.Files, Bytes: p.Owned.Bytes, Disagrees: p.Disagrees,
			Layers: layerCountRecords(p.Layers), GoVersion: p.GoVersion, Modules: p.Modules,
		}
		if p.Declared >= 0 {
			v := p.Declared
			pr.DeclaredBytes = &v
		}
		rec.Packages = append(rec.Packages, pr)
	}
	for _, db := range r.Databases {
		rec.Databases = append(rec.Databases, schema.PackageDatabaseRecord{Kind: string(db.Kind), Path: db.Path, Read: db.Read, Note: db.Note, Packages: db.Packages})
	}
	for _, h := range r.Hints {
		hr := schema.HintRecord{ID: h.ID, Title: h.Title, Bytes: h.Bytes, Paths: make([]string, 0, len(h.Paths)), Layers: append([]int{}, h.Layers...), Fix: h.Fix}
		for _, p := range h.Paths {
			hr.Paths = append(hr.Paths, fsPath(p))
		}
		rec.Hints = append(rec.Hints, hr)
	}
	d.Packages = rec
	return d
}

// packageDiffRecord is the JSON of a package diff.
func packageDiffRecord(pd *analysis.PackageDiff) *schema.PackageDiffRecord {
	rec := &schema.PackageDiffRecord{UnownedDeltaBytes: pd.UnownedDelta, Changes: make([]schema.PackageChangeRecord, 0, len(pd.Changes)), Notes: pd.Notes}
	for _, c := range pd.Changes {
		rec.Changes = append(rec.Changes, schema.PackageChangeRecord{
			Kind: string(c.Kind), Name: c.Name, Change: string(c.Change),
			OldVersion: c.OldVersion, NewVersion: c.NewVersion,
			OldBytes: c.OldBytes, NewBytes: c.NewBytes, DeltaBytes: c.Delta,
		})
	}
	return rec
}

// changeVersion is the version a package change shows: the old one of a
// package removed, "old → new" of one upgraded, else the new one.
func changeVersion(change, oldVersion, newVersion string) string {
	switch analysis.PackageChangeKind(change) {
	case analysis.PackageRemoved:
		return oldVersion
	case analysis.PackageUpgraded:
		return oldVersion + " → " + newVersion
	}
	return newVersion
}

// packageDiffSection is the package changes as a section, the top
// largest.
func packageDiffSection(pd *analysis.PackageDiff, top int, b bool) fileSection {
	s := fileSection{title: "Packages"}
	s.grid = grid{columns: []column{
		{header: "CHANGE"},
		{header: "KIND"},
		{header: "NAME", code: true},
		{header: "VERSION", code: true},
		{header: "A", align: right},
		{header: "B", align: right},
		{header: "Δ", align: right},
	}}
	n := len(pd.Changes)
	if top > 0 && top < n {
		n = top
		s.sub = fmt.Sprintf("the %d largest changes of %d", top, len(pd.Changes))
	}
	for _, c := range pd.Changes[:n] {
		s.grid.add(string(c.Change), string(c.Kind), c.Name, changeVersion(string(c.Change), c.OldVersion, c.NewVersion), FormatBytes(c.OldBytes, b), FormatBytes(c.NewBytes, b), signedBytes(c.Delta, b))
	}
	s.notes = append(slices.Clone(pd.Notes), "Packages are matched by kind and name; A and B are the bytes each owns in the final filesystems; unowned bytes changed by "+signedBytes(pd.UnownedDelta, b)+".")
	return s
}
