package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/packages"
	"github.com/imgsize/imgsize/pkg/schema"
)

// The file-level fixtures are analysis values written by hand, in round
// numbers, so each figure in a golden file can be checked with a pencil.
//
// filesReport is a single-stage Go build of four layers (sizes in MB of
// regular-file bytes, 1 MB = 1,000,000 B):
//
//	0 ADD rootfs: dirs bin, usr, usr/lib; bin/sh 10, usr/lib/libc.so 20.
//	  Added 5 entries, 30; tar 30.
//	1 RUN apt-get: dirs var, var/lib, var/lib/apt, var/lib/apt/lists,
//	  usr/bin, tmp; var/lib/apt/lists/main_Packages 70, usr/bin/git 25,
//	  tmp/apt.log 5; usr/lib/libc.so again, 20.
//	  Added 9 entries, 100; changed 1, 20; tar 120.
//	2 ADD go: dirs usr/local, usr/local/go{,/bin,/pkg,/src};
//	  usr/local/go/bin/go 20, usr/local/go/pkg/compile 80,
//	  usr/local/go/src/src.zip 100. Added 8 entries, 200; tar 200.
//	3 RUN go build && rm -rf /var/lib/apt/lists /tmp && mkdir /tmp: a
//	  whiteout of var/lib/apt/lists (the dir and main_Packages: 2 entries,
//	  70), an opaque tmp (tmp/apt.log: 1 entry, 5; tmp itself written
//	  again: changed 1, 0); dir app, app/server 80.
//	  Added 2 entries, 80; changed 1, 0; deleted 3, 75; tar 80.
//
// Final filesystem: 14 dirs and 7 files, 21 entries; 10 + 20 + 25 + 200
// + 80 = 335. Tar bytes 430, of which 400 above the first layer.
// Reclaimable: main_Packages 70 (deleted by 3) + libc.so's first copy 20
// (superseded by 1) + apt.log 5 (deleted by 3, opaque) = 95 = 430 − 335.
//
// dive visits the leaves of each layer: bin/sh 10, libc.so 20 | lists'
// main_Packages 70, git 25, apt.log 5, libc.so 20 | go 20, compile 80,
// src.zip 100 | the whiteout of lists (sized as what it hid: 70), tmp 0,
// server 80. Sum 500; smallest per path 480 (libc.so once, not twice):
// efficiency 480 ÷ 500 = 0.96. libc.so is in two layers: wasted 20 + 20 =
// 40 (both copies, dive#684), user wasted 40 ÷ 400 = 0.1.
func filesReport() *analysis.FileReport {
	const mb = 1_000_000
	img := image("example.com/app:single-stage", "example.com/app:single-stage", "d", 1_000, 2_000,
		layer("1", exact(12*mb), exact(30_010_000), "/bin/sh -c #(nop) ADD file:0a1b2c in / "),
		layer("2", exact(50*mb), exact(120_020_000), "RUN /bin/sh -c apt-get update && apt-get install -y git # buildkit"),
		layer("3", exact(70*mb), exact(200_010_000), "ADD go1.22.5.linux-amd64.tar.gz /usr/local # buildkit"),
		layer("4", exact(30*mb), exact(80_010_000), "RUN /bin/sh -c go build -o /app/server . && rm -rf /var/lib/apt/lists /tmp && mkdir /tmp # buildkit"),
	)
	lf := func(i int, added, changed, deleted analysis.Count, tar int64) analysis.LayerFiles {
		l := img.Layers[i]
		return analysis.LayerFiles{Index: i, Digest: l.Digest, CreatedBy: l.CreatedBy, Added: added, Changed: changed, Deleted: deleted, TarBytes: tar}
	}
	c := func(n int, b int64) analysis.Count { return analysis.Count{Files: n, Bytes: b} }
	file := func(p string, b int64, l int) analysis.PathSize {
		return analysis.PathSize{Path: p, Bytes: b, Files: 1, Layer: l}
	}
	dir := func(p string, b int64, n int) analysis.PathSize {
		return analysis.PathSize{Path: p, Bytes: b, Files: n, Layer: -1}
	}
	return &analysis.FileReport{
		Image: img,
		Files: c(21, 335*mb),
		Layers: []analysis.LayerFiles{
			lf(0, c(5, 30*mb), c(0, 0), c(0, 0), 30*mb),
			lf(1, c(9, 100*mb), c(1, 20*mb), c(0, 0), 120*mb),
			lf(2, c(8, 200*mb), c(0, 0), c(0, 0), 200*mb),
			lf(3, c(2, 80*mb), c(1, 0), c(3, 75*mb), 80*mb),
		},
		Largest: []analysis.PathSize{
			file("usr/local/go/src/src.zip", 100*mb, 2),
			file("app/server", 80*mb, 3),
			file("usr/local/go/pkg/compile", 80*mb, 2),
			file("usr/bin/git", 25*mb, 1),
			file("usr/lib/libc.so", 20*mb, 1),
			file("usr/local/go/bin/go", 20*mb, 2),
			file("bin/sh", 10*mb, 0),
		},
		Dirs: []analysis.PathSize{
			dir("usr", 245*mb, 5),
			dir("usr/local", 200*mb, 3),
			dir("usr/local/go", 200*mb, 3),
			dir("app", 80*mb, 1),
			dir("usr/bin", 25*mb, 1),
			dir("usr/lib", 20*mb, 1),
			dir("bin", 10*mb, 1),
		},
		Dive: analysis.DiveStats{
			Efficiency:        0.96,
			WastedBytes:       40 * mb,
			SizeBytes:         430 * mb,
			UserSizeBytes:     400 * mb,
			UserWastedPercent: 0.1,
			Inefficiencies:    []analysis.Inefficiency{{Path: "usr/lib/libc.so", Count: 2, Bytes: 40 * mb}},
		},
		Reclaimable: 95 * mb,
		// Not in order: the report sorts them, largest first.
		ReclaimItems: []analysis.Reclaim{
			{Path: "usr/lib/libc.so", Bytes: 20 * mb, Layer: 0, By: 1, Why: analysis.Superseded},
			{Path: "tmp/apt.log", Bytes: 5 * mb, Layer: 1, By: 3, Why: analysis.Deleted},
			{Path: "var/lib/apt/lists/main_Packages", Bytes: 70 * mb, Layer: 1, By: 3, Why: analysis.Deleted},
		},
		Hints: []analysis.Hint{
			{
				ID:     "toolchain-in-runtime",
				Title:  "Go toolchain in the runtime image",
				Bytes:  200 * mb,
				Paths:  []string{"usr/local/go"},
				Layers: []int{2},
				Fix:    "Build in a separate stage and copy only the binary into the runtime image (multistage build: FROM golang AS build … COPY --from=build /app/server /app/server).",
			},
			{
				ID:     "deleted-in-later-layer",
				Title:  "Files deleted by a later layer still ship in the layer that added them",
				Bytes:  75 * mb,
				Paths:  []string{"var/lib/apt/lists/main_Packages", "tmp/apt.log"},
				Layers: []int{1},
				Fix:    "Delete them in the RUN that creates them: apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*.",
			},
		},
	}
}

// filesSingleLayer is one layer holding one 1,000 B file: nothing above the
// first layer (dive's user-wasted ratio is undefined), nothing wasted,
// nothing to reclaim, no hints.
func filesSingleLayer() *analysis.FileReport {
	img := image("example.com/app:static", "example.com/app:static", "7", 500, 600,
		layer("5", exact(800), exact(3_072), "COPY app /app # buildkit"))
	return &analysis.FileReport{
		Image: img,
		Files: analysis.Count{Files: 1, Bytes: 1_000},
		Layers: []analysis.LayerFiles{{
			Index: 0, Digest: img.Layers[0].Digest, CreatedBy: img.Layers[0].CreatedBy,
			Added: analysis.Count{Files: 1, Bytes: 1_000}, TarBytes: 1_000,
		}},
		Largest: []analysis.PathSize{{Path: "app", Bytes: 1_000, Files: 1, Layer: 0}},
		Dive:    analysis.DiveStats{Efficiency: 1, SizeBytes: 1_000},
	}
}

func TestFilesGolden(t *testing.T) {
	tests := []struct {
		name    string
		report  func() *analysis.FileReport
		binary  bool
		formats []Format
	}{
		{name: "files_report", report: filesReport, formats: allFormats},
		{name: "files_report_binary", report: filesReport, binary: true, formats: []Format{Table}},
		{name: "files_single_layer", report: filesSingleLayer, formats: []Format{Table, Markdown, JSON}},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			name := tt.name + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				opts := Options{Format: f, Binary: tt.binary, Version: "v0.0.0-test", Time: goldenTime}
				if err := Files(&buf, tt.report(), opts); err != nil {
					t.Fatal(err)
				}
				checkOutput(t, f, buf.Bytes())
				golden(t, name, buf.Bytes())
			})
		}
	}
}

// checkOutput holds an output to its format's rules: a JSON report to the
// published JSON Schema and to what schema.Decode accepts; Markdown tables
// to a constant number of columns; CSV to encoding/csv with one column
// count.
func checkOutput(t *testing.T, f Format, out []byte) {
	t.Helper()
	switch f {
	case JSON:
		testutil.ValidateReport(t, out)
		if _, err := schema.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("JSON does not decode: %v", err)
		}
	case Markdown:
		checkMarkdownTables(t, string(out))
	case CSV:
		r := csv.NewReader(bytes.NewReader(out))
		if _, err := r.ReadAll(); err != nil {
			t.Errorf("CSV does not parse: %v", err)
		}
	}
}

// checkMarkdownTables checks that each Markdown table's rows have as many
// cells as its header, its delimiter row included; escaped pipes are not
// cell borders.
func checkMarkdownTables(t *testing.T, out string) {
	t.Helper()
	want, tables := -1, 0
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if want < 0 {
			want = n
			tables++
			continue
		}
		if n != want {
			t.Errorf("line %d has %d cell borders, its table's header %d: %q", i+1, n, want, line)
		}
	}
	if tables == 0 {
		t.Error("no Markdown table")
	}
}

// Figures worked out by hand in filesReport's comment, found in the table
// without golden files.
func TestFilesTableFacts(t *testing.T) {
	out := render(t, Files, Table, filesReport())
	for _, s := range []string{
		"Image: example.com/app:single-stage  Digest: sha256:dddd",
		"Files: 21 entries, 335 MB (regular-file bytes of the final filesystem)",
		"Reclaimable: 95.0 MB (",
		"dive: efficiency 96.00%, wasted 40.0 MB, user wasted 10.00% of 400 MB above the first layer",
		"dive#684",
		"uncompressed and exact, from reading every layer",
		"Reclaimable: 95.0 MB in 3 items, largest first",
		"Wasted space as dive counts it: 1 path in more than one layer, 40.0 MB",
		"1. Go toolchain in the runtime image: 200 MB [toolchain-in-runtime]",
		"   Paths: /var/lib/apt/lists/main_Packages, /tmp/apt.log",
		"   Layer 2: ADD go1.22.5.linux-amd64.tar.gz /usr/local # buildkit",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	rows := [][]string{
		// Layer 3: 2 added (80 MB), 1 changed (0 B), 3 deleted (75 MB).
		{"3", "sha256:444444444444", "2 / 80.0 MB", "1 / 0 B", "3 / 75.0 MB", "80.0 MB", "RUN /bin/sh -c go build -o /app/server . && rm -rf /var/lib/apt/lists…"},
		{"1", "sha256:222222222222", "9 / 100 MB", "1 / 20.0 MB", "0 / 0 B", "120 MB", "RUN /bin/sh -c apt-get update && apt-get install -y git # buildkit"},
		{"100 MB", "2", "/usr/local/go/src/src.zip"},
		{"245 MB", "5", "/usr"},
		{"70.0 MB", "deleted", "1", "3", "/var/lib/apt/lists/main_Packages"},
		// The superseded first copy of libc.so, and the file an opaque
		// directory deleted.
		{"20.0 MB", "superseded", "0", "1", "/usr/lib/libc.so"},
		{"5.00 MB", "deleted", "1", "3", "/tmp/apt.log"},
		{"40.0 MB", "2", "/usr/lib/libc.so"},
	}
	for _, want := range rows {
		wantRow(t, out, want)
	}
}

// wantRow checks that a line of a text table has exactly the cells want
// (cells are set apart by at least two spaces); when none has, it shows
// the lines that start and end as want does.
func wantRow(t *testing.T, out string, want []string) {
	t.Helper()
	var near [][]string
	for _, line := range strings.Split(out, "\n") {
		cells := cellSep.Split(strings.TrimSpace(line), -1)
		if slices.Equal(cells, want) {
			return
		}
		if len(cells) > 1 && cells[0] == want[0] && cells[len(cells)-1] == want[len(want)-1] {
			near = append(near, cells)
		}
	}
	t.Errorf("no row %q; rows like it: %q", want, near)
}

func TestFilesSingleLayer(t *testing.T) {
	out := render(t, Files, Table, filesSingleLayer())
	for _, s := range []string{
		"user wasted n/a (no bytes above the first layer)",
		"efficiency 100.00%",
		"Reclaimable: none",
		"Wasted space as dive counts it: none",
		"Largest directories: none",
		"Hints: none",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	doc := decodeFiles(t, filesSingleLayer())
	if doc.Files.Dive.UserWastedPercent != nil {
		t.Errorf("userWastedPercent = %v, want null with no user bytes", *doc.Files.Dive.UserWastedPercent)
	}
	csvOut := render(t, Files, CSV, filesSingleLayer())
	if got := csvRecords(t, csvOut)[0]["user_wasted_percent"]; got != "" {
		t.Errorf("CSV user_wasted_percent = %q, want empty", got)
	}
}

func decodeFiles(t *testing.T, r *analysis.FileReport) *schema.Document {
	t.Helper()
	out := render(t, Files, JSON, r)
	testutil.ValidateReport(t, []byte(out))
	doc, err := schema.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestFilesJSON(t *testing.T) {
	r := filesReport()
	opts := Options{Format: JSON, Version: "v0.0.0-test", Time: goldenTime}
	doc := decodeFiles(t, r)
	if diff := cmp.Diff(filesDocument(r, opts), doc); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if doc.Kind != schema.KindFiles || doc.Files == nil || len(doc.Images) != 1 {
		t.Fatalf("kind %q, files %v, %d images", doc.Kind, doc.Files != nil, len(doc.Images))
	}
	f := doc.Files
	if f.Filesystem != (schema.CountRecord{Entries: 21, Bytes: 335_000_000}) {
		t.Errorf("filesystem = %+v", f.Filesystem)
	}
	if f.Dive.Efficiency != 0.96 || f.Dive.UserWastedPercent == nil || *f.Dive.UserWastedPercent != 0.1 || f.Dive.WastedBytes != 40_000_000 {
		t.Errorf("dive = %+v", f.Dive)
	}
	var reclaim []string
	var sum int64
	for _, it := range f.Reclaimable {
		reclaim = append(reclaim, it.Path+" "+it.Why)
		sum += it.Bytes
	}
	if want := []string{"/var/lib/apt/lists/main_Packages deleted", "/usr/lib/libc.so superseded", "/tmp/apt.log deleted"}; !slices.Equal(reclaim, want) {
		t.Errorf("reclaimable = %q, want %q", reclaim, want)
	}
	if sum != f.ReclaimableBytes || sum != 95_000_000 {
		t.Errorf("reclaimable items sum to %d, reclaimableBytes %d, want 95000000", sum, f.ReclaimableBytes)
	}
	if h := f.Hints[0]; h.ID != "toolchain-in-runtime" || h.Bytes != 200_000_000 || !slices.Equal(h.Paths, []string{"/usr/local/go"}) || !slices.Equal(h.Layers, []int{2}) {
		t.Errorf("hint 0 = %+v", h)
	}
	// Each layer record names the same layer as the image's.
	for i, l := range f.Layers {
		if l.Index != i || l.Digest != doc.Images[0].Layers[i].Digest {
			t.Errorf("layer record %d: index %d, digest %s; image layer %s", i, l.Index, l.Digest, doc.Images[0].Layers[i].Digest)
		}
	}
}

// The CSV's figures are the analysis's, number for number.
func TestFilesCSV(t *testing.T) {
	r := filesReport()
	recs := csvRecords(t, render(t, Files, CSV, r))
	bySection := map[string][]map[string]string{}
	for _, rec := range recs {
		if len(rec) != len(filesHeader) {
			t.Fatalf("record has %d columns, want %d", len(rec), len(filesHeader))
		}
		bySection[rec["section"]] = append(bySection[rec["section"]], rec)
		if rec["image"] != "example.com/app:single-stage" {
			t.Errorf("image = %q", rec["image"])
		}
	}
	counts := map[string]int{}
	for s, rs := range bySection {
		counts[s] = len(rs)
	}
	want := map[string]int{"summary": 1, "layer": 4, "file": 7, "dir": 7, "reclaim": 3, "inefficiency": 1, "hint": 2}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("rows per section (-want +got):\n%s", diff)
	}
	num := func(rec map[string]string, col string) int64 {
		t.Helper()
		n, err := strconv.ParseInt(rec[col], 10, 64)
		if err != nil {
			t.Fatalf("%s %s = %q: %v", rec["section"], col, rec[col], err)
		}
		return n
	}
	flt := func(rec map[string]string, col string) float64 {
		t.Helper()
		f, err := strconv.ParseFloat(rec[col], 64)
		if err != nil {
			t.Fatalf("%s %s = %q: %v", rec["section"], col, rec[col], err)
		}
		return f
	}
	s := bySection["summary"][0]
	if num(s, "entries") != int64(r.Files.Files) || num(s, "bytes") != r.Files.Bytes ||
		flt(s, "efficiency") != r.Dive.Efficiency || num(s, "wasted_bytes") != r.Dive.WastedBytes ||
		num(s, "size_bytes") != r.Dive.SizeBytes || num(s, "user_size_bytes") != r.Dive.UserSizeBytes ||
		flt(s, "user_wasted_percent") != r.Dive.UserWastedPercent || num(s, "reclaimable_bytes") != r.Reclaimable {
		t.Errorf("summary = %v", s)
	}
	for i, l := range r.Layers {
		rec := bySection["layer"][i]
		got := []int64{num(rec, "layer"), num(rec, "added_entries"), num(rec, "added_bytes"), num(rec, "changed_entries"), num(rec, "changed_bytes"), num(rec, "deleted_entries"), num(rec, "deleted_bytes"), num(rec, "tar_bytes")}
		want := []int64{int64(l.Index), int64(l.Added.Files), l.Added.Bytes, int64(l.Changed.Files), l.Changed.Bytes, int64(l.Deleted.Files), l.Deleted.Bytes, l.TarBytes}
		if !slices.Equal(got, want) || rec["digest"] != l.Digest.String() || rec["created_by"] != l.CreatedBy {
			t.Errorf("layer %d = %v, want %v", i, rec, want)
		}
	}
	for i, p := range r.Largest {
		rec := bySection["file"][i]
		if rec["path"] != "/"+p.Path || num(rec, "bytes") != p.Bytes || num(rec, "layer") != int64(p.Layer) {
			t.Errorf("file %d = %v, want %+v", i, rec, p)
		}
	}
	for i, p := range r.Dirs {
		rec := bySection["dir"][i]
		if rec["path"] != "/"+p.Path || num(rec, "bytes") != p.Bytes || num(rec, "files") != int64(p.Files) || rec["layer"] != "" {
			t.Errorf("dir %d = %v, want %+v", i, rec, p)
		}
	}
	for i, it := range sortedReclaim(r.ReclaimItems) {
		rec := bySection["reclaim"][i]
		if rec["path"] != "/"+it.Path || num(rec, "bytes") != it.Bytes || num(rec, "layer") != int64(it.Layer) || num(rec, "by_layer") != int64(it.By) || rec["why"] != it.Why {
			t.Errorf("reclaim %d = %v, want %+v", i, rec, it)
		}
	}
	in := r.Dive.Inefficiencies[0]
	if rec := bySection["inefficiency"][0]; rec["path"] != "/"+in.Path || num(rec, "count") != int64(in.Count) || num(rec, "bytes") != in.Bytes {
		t.Errorf("inefficiency = %v", rec)
	}
	for i, h := range r.Hints {
		rec := bySection["hint"][i]
		if rec["id"] != h.ID || rec["title"] != h.Title || rec["fix"] != h.Fix || num(rec, "bytes") != h.Bytes {
			t.Errorf("hint %d = %v", i, rec)
		}
	}
	if got := bySection["hint"][1]["paths"]; got != "/var/lib/apt/lists/main_Packages;/tmp/apt.log" {
		t.Errorf("hint paths = %q", got)
	}
}

// A reclaimable list longer than a table shows is cut in the table and
// complete in JSON and CSV; the heading says so.
func TestFilesManyReclaimItems(t *testing.T) {
	r := filesSingleLayer()
	r.Image = filesReport().Image
	for i := range 12 {
		r.ReclaimItems = append(r.ReclaimItems, analysis.Reclaim{Path: "tmp/f" + strconv.Itoa(i), Bytes: int64(1_000 * (i + 1)), Layer: 0, By: 1, Why: analysis.Deleted})
		r.Reclaimable += int64(1_000 * (i + 1))
	}
	out := render(t, Files, Table, r)
	if !strings.Contains(out, "Reclaimable: 78.0 kB in 12 items; the 10 largest (JSON and CSV list all)") {
		t.Errorf("no cut heading:\n%s", out)
	}
	if strings.Contains(out, "/tmp/f1\n") || !strings.Contains(out, "/tmp/f11\n") {
		t.Errorf("table does not list the 10 largest:\n%s", out)
	}
	if doc := decodeFiles(t, r); len(doc.Files.Reclaimable) != 12 {
		t.Errorf("JSON lists %d items, want 12", len(doc.Files.Reclaimable))
	}
	// An analysis that lists fewer items than its total: the table says
	// how much those it lists hold.
	r.ReclaimItems = r.ReclaimItems[10:]
	out = render(t, Files, Table, r)
	if !strings.Contains(out, "Reclaimable: 78.0 kB; the 2 items listed hold 23.0 kB") {
		t.Errorf("no partial heading:\n%s", out)
	}
}

func TestFilesErrors(t *testing.T) {
	if err := Files(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("Files(nil) succeeded")
	}
	if err := Files(&bytes.Buffer{}, &analysis.FileReport{}, Options{}); err == nil {
		t.Error("Files without an image succeeded")
	}
	err := Files(&bytes.Buffer{}, filesReport(), Options{Format: "yaml"})
	if !errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("unknown format: error = %v, want one wrapping ErrUsage", err)
	}
}

func TestFilesDeterministic(t *testing.T) {
	for _, f := range allFormats {
		if a, b := render(t, Files, f, filesReport()), render(t, Files, f, filesReport()); a != b {
			t.Errorf("%s: two renderings differ", f)
		}
	}
}

// The strings the schema names are the model's: pkg/schema repeats them on
// purpose (it is a leaf), and this keeps the two in step.
func TestSchemaNamesMatchModel(t *testing.T) {
	pairs := []struct{ schema, model string }{
		{schema.ReclaimSuperseded, analysis.Superseded},
		{schema.ReclaimDeleted, analysis.Deleted},
		{schema.ChangeAdded, analysis.Added},
		{schema.ChangeRemoved, analysis.Removed},
		{schema.ChangeChanged, analysis.Changed},
		{schema.BudgetMaxCompressed, analysis.MaxCompressed},
		{schema.BudgetMaxUncompressed, analysis.MaxUncompressed},
		{schema.BudgetMaxLayers, analysis.MaxLayers},
		{schema.BudgetMaxGrowth, analysis.MaxGrowth},
		{schema.BudgetLowestEfficiency, analysis.LowestEfficiency},
		{schema.BudgetHighestWastedBytes, analysis.HighestWastedBytes},
		{schema.BudgetHighestUserWastedPercent, analysis.HighestUserWastedPercent},
		{schema.BudgetMaxReclaimable, analysis.MaxReclaimable},
		{schema.BudgetForbidPackage, analysis.ForbidPackage},
		{schema.BudgetMaxPackageBytes, analysis.MaxPackageBytes},
	}
	for _, p := range pairs {
		if p.schema != p.model {
			t.Errorf("schema says %q, the model %q", p.schema, p.model)
		}
	}
	units := []string{string(analysis.UnitBytes), string(analysis.UnitLayers), string(analysis.UnitPercent), string(analysis.UnitRatio), string(analysis.UnitPackages)}
	if diff := cmp.Diff(schema.Units, units); diff != "" {
		t.Errorf("units (-schema +model):\n%s", diff)
	}
	var kinds []string
	for _, k := range packages.Kinds {
		kinds = append(kinds, string(k))
	}
	if diff := cmp.Diff(schema.PackageKinds, kinds); diff != "" {
		t.Errorf("package kinds (-schema +model):\n%s", diff)
	}
	changes := []string{string(analysis.PackageAdded), string(analysis.PackageRemoved), string(analysis.PackageUpgraded), string(analysis.PackageResized)}
	if diff := cmp.Diff(schema.PackageChanges, changes); diff != "" {
		t.Errorf("package changes (-schema +model):\n%s", diff)
	}
	types := []string{string(files.Regular), string(files.Dir), string(files.Symlink), string(files.Hardlink), string(files.Other)}
	if diff := cmp.Diff(schema.FileTypes, types); diff != "" {
		t.Errorf("file types (-schema +model):\n%s", diff)
	}
	provenances := []string{
		string(layers.Exact), string(layers.Annotation), string(layers.GzipTrailer), string(layers.ZstdHeader),
		string(layers.Estimated), string(layers.Unknown), string(layers.Mixed),
	}
	if diff := cmp.Diff(schema.Provenances, provenances); diff != "" {
		t.Errorf("provenances (-schema +model):\n%s", diff)
	}
}

func TestFormatHelpers(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{groupDigits(0), "0"},
		{groupDigits(999), "999"},
		{groupDigits(1_000), "1,000"},
		{groupDigits(12_345_678), "12,345,678"},
		{groupDigits(-1_234), "-1,234"},
		{percent2(0.96), "96.00%"},
		{percent2(1), "100.00%"},
		{percent2(0.999999), ">99.99%"},
		{percent2(0), "0.00%"},
		{percent2(0.000001), "<0.01%"},
		{percent2(1.5), "150.00%"},
		{fsPath("usr/local/go"), "/usr/local/go"},
		{fsPath(""), "/"},
		{fsPath("."), "/"},
		{fsPath("/etc"), "/etc"},
		{modeString(0o644), "0644"},
		{modeString(0o4755), "4755"},
		{entryCount(1), "1 entry"},
		{entryCount(12_345), "12,345 entries"},
		{signedBytes(2_000, false), "+2.00 kB"},
		{signedBytes(-2_000, false), "-2.00 kB"},
		{signedBytes(0, false), "0 B"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// A tar header can name any path: one with a newline, a tab or a pipe
// stays on its row in the table, Markdown and CSV, escaped, and reaches
// JSON as it is.
func TestFilesUntrustedPaths(t *testing.T) {
	const odd = "tmp/a\nb\t|c\x00d"
	r := filesSingleLayer()
	r.Largest[0].Path = odd
	r.Dirs = []analysis.PathSize{{Path: "tmp", Bytes: 1_000, Files: 1, Layer: -1}}
	r.Hints = []analysis.Hint{{ID: "duplicate-content", Title: "Same content", Bytes: 1, Paths: []string{odd}, Layers: []int{0}, Fix: "x"}}
	out := render(t, Files, Table, r)
	wantRow(t, out, []string{"1.00 kB", "0", `/tmp/a\nb\t|c\x00d`})
	if !strings.Contains(out, `   Paths: /tmp/a\nb\t|c\x00d`+"\n") {
		t.Errorf("hint path not escaped:\n%s", out)
	}
	checkMarkdownTables(t, render(t, Files, Markdown, r))
	if doc := decodeFiles(t, r); doc.Files.Largest[0].Path != "/"+odd || doc.Files.Hints[0].Paths[0] != "/"+odd {
		t.Errorf("JSON path = %q", doc.Files.Largest[0].Path)
	}
	var file map[string]string
	for _, rec := range csvRecords(t, render(t, Files, CSV, r)) {
		if rec["section"] == "file" {
			file = rec
		}
	}
	// CSV is read in terminals too: the path as the table shows it.
	if want := `/tmp/a\nb\t|c\x00d`; file["path"] != want {
		t.Errorf("CSV path = %q, want %q", file["path"], want)
	}
}

// Every JSON output validates with the options TestDeterministic and
// callers that set nothing use: no version, the zero time.
func TestFileLevelJSONZeroOptions(t *testing.T) {
	outputs := map[string]func(*bytes.Buffer) error{
		"files":        func(b *bytes.Buffer) error { return Files(b, filesReport(), Options{Format: JSON}) },
		"files single": func(b *bytes.Buffer) error { return Files(b, filesSingleLayer(), Options{Format: JSON}) },
		"diff":         func(b *bytes.Buffer) error { return Diff(b, fileDiff(false), Options{Format: JSON}) },
		"diff content": func(b *bytes.Buffer) error { return Diff(b, fileDiff(true), Options{Format: JSON, Binary: true}) },
		"diff same":    func(b *bytes.Buffer) error { return Diff(b, sameDiff(), Options{Format: JSON}) },
	}
	for name, write := range outputs {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				t.Fatal(err)
			}
			checkOutput(t, JSON, buf.Bytes())
		})
	}
}
