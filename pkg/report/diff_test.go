package report

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/schema"
)

// fileDiff sets v1 (A) against v2 (B), by hand (sizes in MB of
// regular-file bytes, 1 MB = 1,000,000 B):
//
//	A, layers base (0) and app v1 (1): dirs bin, usr, usr/lib (0), app,
//	  etc (1); bin/sh 10, usr/lib/libc.so 20 (0); app/server 60,
//	  app/run.sh 1,000 B mode 0644, etc/app.conf 2,000 B, symlink
//	  app/current → server (1). 11 entries, 90,003,000 B.
//	B, layers base (0), go (1) and app v2 (2): the same base; dirs
//	  usr/local, usr/local/go{,/bin,/pkg,/src} with go 20, compile 80,
//	  src.zip 100 (1); dirs app, etc, app/server 80, app/run.sh 1,000 B
//	  mode 0755, symlink app/current → server.v2 (2). 18 entries,
//	  310,001,000 B.
//
// Added: the Go tree, 5 dirs and 3 files: 8 entries, 200. Removed:
// etc/app.conf, 1 entry, 2,000 B. Changed: app/server (size), app/run.sh
// (mode), app/current (link): 3 entries, B's 80,001,000 B. With content,
// bin/sh's content differs too: 4 entries, 90,001,000 B. B − A =
// 200,000,000 − 2,000 + 20,000,000 = 219,998,000 B.
//
// Entries, largest |Δ| first and then by path: usr/local, added whole, is
// one entry for the 7 paths beneath it (200); then app/server, etc/app.conf
// and the Δ 0 changes: 5 entries for all 12 differences (6 for 13).
//
// The roll-up to depth 2 puts each path in the row of its directory cut to
// two components: the Go tree's 7 paths in usr/local (0 → 200), usr/local
// itself in usr (no bytes directly there), app's 3 in app (60,001,000 →
// 80,001,000 B), etc/app.conf in etc (2,000 → 0 B), bin/sh in bin.
func fileDiff(content bool) *analysis.FileDiff {
	const mb = 1_000_000
	base := layer("1", exact(12*mb), exact(30_010_000), "/bin/sh -c #(nop) ADD file:0a1b2c in / ")
	a := image("example.com/app:v1", "example.com/app:v1", "b", 900, 1_500,
		base, layer("5", exact(25*mb), exact(60_010_000), "COPY /out /app # buildkit"))
	b := image("example.com/app:v2", "example.com/app:v2", "e", 1_000, 1_700,
		base,
		layer("3", exact(70*mb), exact(200_010_000), "ADD go1.22.5.linux-amd64.tar.gz /usr/local # buildkit"),
		layer("6", exact(32*mb), exact(80_010_000), "COPY /out /app # buildkit"))
	info := func(p string, t files.Type, size, mode int64, link string, l int) *analysis.FileInfo {
		return &analysis.FileInfo{Entry: files.Entry{Path: p, Type: t, Size: size, Mode: mode, Linkname: link}, Layer: l}
	}
	changed := func(p string, fa, fb *analysis.FileInfo, fields ...string) analysis.DiffEntry {
		return analysis.DiffEntry{Path: p, Change: analysis.Changed, A: fa, B: fb, Delta: fb.Size - fa.Size, Fields: fields}
	}
	server := changed("app/server", info("app/server", files.Regular, 60*mb, 0o755, "", 1), info("app/server", files.Regular, 80*mb, 0o755, "", 2), "size")
	d := &analysis.FileDiff{
		A: a, B: b,
		FilesA:  analysis.Count{Files: 11, Bytes: 90_003_000},
		FilesB:  analysis.Count{Files: 18, Bytes: 310_001_000},
		Added:   analysis.Count{Files: 8, Bytes: 200 * mb},
		Removed: analysis.Count{Files: 1, Bytes: 2_000},
		Changed: analysis.Count{Files: 3, Bytes: 80_001_000},
		Entries: []analysis.DiffEntry{
			{
				Path: "usr/local", Change: analysis.Added, B: info("usr/local", files.Dir, 0, 0o755, "", 1),
				Delta: 200 * mb, Subtree: analysis.Count{Files: 7, Bytes: 200 * mb},
			},
			server,
			{Path: "etc/app.conf", Change: analysis.Removed, A: info("etc/app.conf", files.Regular, 2_000, 0o644, "", 1), Delta: -2_000},
			changed("app/current", info("app/current", files.Symlink, 0, 0o777, "server", 1), info("app/current", files.Symlink, 0, 0o777, "server.v2", 2), "link"),
			changed("app/run.sh", info("app/run.sh", files.Regular, 1_000, 0o644, "", 1), info("app/run.sh", files.Regular, 1_000, 0o755, "", 2), "mode"),
		},
		Dirs: []analysis.DiffDir{
			{Path: "usr/local", Added: 7, BytesA: 0, BytesB: 200 * mb, Delta: 200 * mb},
			{Path: "app", Changed: 3, BytesA: 60_001_000, BytesB: 80_001_000, Delta: 20 * mb},
			{Path: "etc", Removed: 1, BytesA: 2_000, BytesB: 0, Delta: -2_000},
			{Path: "usr", Added: 1},
		},
		Content: content,
	}
	if content {
		d.Changed = analysis.Count{Files: 4, Bytes: 90_001_000}
		d.Entries[1].Fields = append(d.Entries[1].Fields, "content")
		d.Entries[1].A.Digest, d.Entries[1].B.Digest = hash("5a").String(), hash("6b").String()
		sh := changed("bin/sh", info("bin/sh", files.Regular, 10*mb, 0o755, "", 0), info("bin/sh", files.Regular, 10*mb, 0o755, "", 0), "content")
		sh.A.Digest, sh.B.Digest = hash("1c").String(), hash("1d").String()
		d.Entries = append(d.Entries, sh)
		d.Dirs = slices.Insert(d.Dirs, 3, analysis.DiffDir{Path: "bin", Changed: 1, BytesA: 10 * mb, BytesB: 10 * mb})
	}
	return d
}

// sameDiff is an image against itself: nothing differs.
func sameDiff() *analysis.FileDiff {
	img := filesReport().Image
	return &analysis.FileDiff{
		A: img, B: img,
		FilesA: analysis.Count{Files: 21, Bytes: 335_000_000},
		FilesB: analysis.Count{Files: 21, Bytes: 335_000_000},
	}
}

func TestDiffGolden(t *testing.T) {
	tests := []struct {
		name    string
		diff    func() *analysis.FileDiff
		binary  bool
		formats []Format
	}{
		{name: "diff_report", diff: func() *analysis.FileDiff { return fileDiff(false) }, formats: allFormats},
		{name: "diff_content", diff: func() *analysis.FileDiff { return fileDiff(true) }, formats: []Format{Table, JSON, CSV}},
		{name: "diff_report_binary", diff: func() *analysis.FileDiff { return fileDiff(false) }, binary: true, formats: []Format{Table}},
		{name: "diff_same", diff: sameDiff, formats: []Format{Table, Markdown, JSON}},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			name := tt.name + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				opts := Options{Format: f, Binary: tt.binary, Version: "v0.0.0-test", Time: goldenTime}
				if err := Diff(&buf, tt.diff(), opts); err != nil {
					t.Fatal(err)
				}
				if f != Markdown || tt.name != "diff_same" { // it has no table
					checkOutput(t, f, buf.Bytes())
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

func TestDiffTableFacts(t *testing.T) {
	out := render(t, Diff, Table, fileDiff(false))
	for _, s := range []string{
		"Diff: example.com/app:v1 → example.com/app:v2",
		"A: example.com/app:v1  Digest: sha256:bbbb",
		"B: example.com/app:v2  Digest: sha256:eeee",
		// 219,998,000 ÷ 90,003,000 = 244.4%.
		"Files: A 11 entries, 90.0 MB; B 18 entries, 310 MB; B − A +7 entries, +220 MB (+244.4%)",
		"Differences: 8 added (200 MB in B), 1 removed (2.00 kB in A), 3 changed (80.0 MB in B)",
		"Contents: not compared; \"changed\" means the type, size, mode or link target differs",
		"uncompressed and exact, from reading every layer",
		"What made B bigger, by directory",
		"Largest differences: all 12 paths that differ, largest |Δ| first",
		"A directory added or removed whole is one row for everything under it",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	rows := [][]string{
		{"+200 MB", "0 B", "200 MB", "+7 −0 ~0", "/usr/local"},
		{"-2.00 kB", "2.00 kB", "0 B", "+0 −1 ~0", "/etc"},
		{"0 B", "0 B", "0 B", "+1 −0 ~0", "/usr"},
		{"+200 MB", "added", "—", "dir", "/usr/local", "whole, 7 entries under it"},
		{"+20.0 MB", "changed", "60.0 MB", "80.0 MB", "/app/server", "size"},
		{"0 B", "changed", "1.00 kB", "1.00 kB", "/app/run.sh", "mode 0644 → 0755"},
		{"0 B", "changed", "symlink", "symlink", "/app/current", "link server → server.v2"},
		{"-2.00 kB", "removed", "2.00 kB", "—", "/etc/app.conf"},
	}
	for _, want := range rows {
		wantRow(t, out, want)
	}

	out = render(t, Diff, Table, fileDiff(true))
	for _, s := range []string{
		"Contents: compared by digest",
		"4 changed (90.0 MB in B)",
		"Largest differences: all 13 paths that differ, largest |Δ| first",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("content table lacks %q:\n%s", s, out)
		}
	}
	for _, want := range [][]string{
		{"+20.0 MB", "changed", "60.0 MB", "80.0 MB", "/app/server", "size, content"},
		{"0 B", "changed", "10.0 MB", "10.0 MB", "/bin/sh", "content"},
		{"0 B", "10.0 MB", "10.0 MB", "+0 −0 ~1", "/bin"},
	} {
		wantRow(t, out, want)
	}

	// The top 2 entries: usr/local for 8 paths, and app/server.
	d := fileDiff(false)
	d.Entries = d.Entries[:2]
	if out := render(t, Diff, Table, d); !strings.Contains(out, "Largest differences: the top 2, for 9 of the 12 paths that differ; largest |Δ| first") {
		t.Errorf("no cut heading:\n%s", out)
	}

	// B smaller than A: the roll-up says so.
	d = fileDiff(false)
	d.A, d.B = d.B, d.A
	d.FilesA, d.FilesB = d.FilesB, d.FilesA
	if out := render(t, Diff, Table, d); !strings.Contains(out, "What made B smaller, by directory") {
		t.Errorf("no smaller heading:\n%s", out)
	}
}

func TestDiffSame(t *testing.T) {
	out := render(t, Diff, Table, sameDiff())
	for _, s := range []string{
		// The same reference on both sides: told apart by digest.
		"Diff: example.com/app:single-stage (sha256:dddddddddddd) → example.com/app:single-stage (sha256:dddddddddddd)",
		"B − A 0 entries, 0 B (0.0%)",
		"No differences: the two final filesystems have the same paths, with the same types, sizes, modes and link targets.",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "Largest differences") {
		t.Errorf("sections printed for no differences:\n%s", out)
	}
}

func TestDiffJSON(t *testing.T) {
	for _, content := range []bool{false, true} {
		t.Run("content="+strconv.FormatBool(content), func(t *testing.T) {
			d := fileDiff(content)
			opts := Options{Format: JSON, Version: "v0.0.0-test", Time: goldenTime}
			out := render(t, Diff, JSON, d)
			testutil.ValidateReport(t, []byte(out))
			doc, err := schema.Decode(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(diffDocument(d, opts), doc); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			var again bytes.Buffer
			if err := writeJSON(&again, doc); err != nil {
				t.Fatal(err)
			}
			if again.String() != out {
				t.Error("re-encoded document differs from the original")
			}
			r := doc.Diff
			if doc.Kind != schema.KindDiff || len(doc.Images) != 2 || r.ImageA != 0 || r.ImageB != 1 || r.Content != content {
				t.Fatalf("kind %q, %d images, a %d, b %d, content %v", doc.Kind, len(doc.Images), r.ImageA, r.ImageB, r.Content)
			}
			if doc.Images[r.ImageA].Ref != "example.com/app:v1" || doc.Images[r.ImageB].Ref != "example.com/app:v2" {
				t.Errorf("images %s, %s", doc.Images[0].Ref, doc.Images[1].Ref)
			}
			if r.FilesystemB.Bytes-r.FilesystemA.Bytes != 219_998_000 {
				t.Errorf("B − A = %d, want 219998000", r.FilesystemB.Bytes-r.FilesystemA.Bytes)
			}
			var mode *schema.DiffEntryRecord
			for i, e := range r.Entries {
				if e.Path == "/app/run.sh" {
					mode = &r.Entries[i]
				}
			}
			if mode == nil || mode.Change != "changed" || mode.A.Mode != 0o644 || mode.B.Mode != 0o755 || !slices.Equal(mode.Fields, []string{"mode"}) || mode.DeltaBytes != 0 {
				t.Errorf("run.sh entry = %+v", mode)
			}
			if e := r.Entries[2]; e.Path != "/etc/app.conf" || e.Change != "removed" || e.B != nil || e.A.Bytes != 2_000 || e.DeltaBytes != -2_000 || e.Fields == nil || e.Subtree != nil {
				t.Errorf("removed entry = %+v", e)
			}
			if e := r.Entries[0]; e.A != nil || e.B.Type != "dir" || e.B.Layer != 1 || e.Subtree == nil || *e.Subtree != (schema.CountRecord{Entries: 7, Bytes: 200_000_000}) || e.DeltaBytes != 200_000_000 {
				t.Errorf("added directory = %+v", e)
			}
			if content && r.Entries[1].B.Digest != hash("6b").String() {
				t.Errorf("content digest = %q", r.Entries[1].B.Digest)
			}
			// The rows do not overlap: their deltas add up to B − A.
			var rows int64
			for _, dir := range r.Dirs {
				rows += dir.DeltaBytes
			}
			if rows != 219_998_000 {
				t.Errorf("rows add up to %d, want 219998000", rows)
			}
		})
	}
	doc := render(t, Diff, JSON, sameDiff())
	testutil.ValidateReport(t, []byte(doc))
}

// The CSV's figures are the analysis's, number for number.
func TestDiffCSV(t *testing.T) {
	d := fileDiff(true)
	recs := csvRecords(t, render(t, Diff, CSV, d))
	if len(recs) != 1+len(d.Dirs)+len(d.Entries) {
		t.Fatalf("%d rows, want %d", len(recs), 1+len(d.Dirs)+len(d.Entries))
	}
	num := func(rec map[string]string, col string) int64 {
		t.Helper()
		n, err := strconv.ParseInt(rec[col], 10, 64)
		if err != nil {
			t.Fatalf("%s %s = %q: %v", rec["section"], col, rec[col], err)
		}
		return n
	}
	s := recs[0]
	got := []int64{num(s, "a_bytes"), num(s, "b_bytes"), num(s, "delta_bytes"), num(s, "a_entries"), num(s, "b_entries"),
		num(s, "added"), num(s, "added_bytes"), num(s, "removed"), num(s, "removed_bytes"), num(s, "changed"), num(s, "changed_bytes")}
	want := []int64{d.FilesA.Bytes, d.FilesB.Bytes, d.FilesB.Bytes - d.FilesA.Bytes, int64(d.FilesA.Files), int64(d.FilesB.Files),
		int64(d.Added.Files), d.Added.Bytes, int64(d.Removed.Files), d.Removed.Bytes, int64(d.Changed.Files), d.Changed.Bytes}
	if s["section"] != "summary" || !slices.Equal(got, want) || s["content"] != "true" || s["image_a"] != "example.com/app:v1" || s["image_b"] != "example.com/app:v2" {
		t.Errorf("summary = %v\nwant %v", s, want)
	}
	for i, dir := range d.Dirs {
		rec := recs[1+i]
		got := []int64{num(rec, "a_bytes"), num(rec, "b_bytes"), num(rec, "delta_bytes"), num(rec, "added"), num(rec, "removed"), num(rec, "changed")}
		want := []int64{dir.BytesA, dir.BytesB, dir.Delta, int64(dir.Added), int64(dir.Removed), int64(dir.Changed)}
		if rec["section"] != "dir" || rec["path"] != "/"+dir.Path || !slices.Equal(got, want) {
			t.Errorf("dir %d = %v, want %v", i, rec, want)
		}
	}
	for i, e := range d.Entries {
		rec := recs[1+len(d.Dirs)+i]
		if rec["section"] != "entry" || rec["path"] != "/"+e.Path || rec["change"] != e.Change || num(rec, "delta_bytes") != e.Delta || rec["fields"] != strings.Join(e.Fields, ";") {
			t.Errorf("entry %d = %v", i, rec)
		}
		if i == 0 {
			if num(rec, "subtree_entries") != int64(e.Subtree.Files) || num(rec, "subtree_bytes") != e.Subtree.Bytes {
				t.Errorf("entry %d subtree = %v, want %+v", i, rec, e.Subtree)
			}
		} else if rec["subtree_entries"] != "" || rec["subtree_bytes"] != "" {
			t.Errorf("entry %d has a subtree: %v", i, rec)
		}
		for _, side := range []struct {
			prefix string
			fi     *analysis.FileInfo
		}{{"a_", e.A}, {"b_", e.B}} {
			if side.fi == nil {
				for _, col := range []string{"type", "bytes", "mode", "layer"} {
					if rec[side.prefix+col] != "" {
						t.Errorf("entry %d: %s%s = %q for an absent side", i, side.prefix, col, rec[side.prefix+col])
					}
				}
				continue
			}
			mode, err := strconv.ParseInt(rec[side.prefix+"mode"], 8, 64)
			if err != nil || mode != side.fi.Mode {
				t.Errorf("entry %d: %smode = %q, want %o", i, side.prefix, rec[side.prefix+"mode"], side.fi.Mode)
			}
			if rec[side.prefix+"type"] != string(side.fi.Type) || num(rec, side.prefix+"bytes") != side.fi.Size ||
				num(rec, side.prefix+"layer") != int64(side.fi.Layer) || rec[side.prefix+"link"] != side.fi.Linkname || rec[side.prefix+"digest"] != side.fi.Digest {
				t.Errorf("entry %d %s = %v, want %+v", i, side.prefix, rec, *side.fi)
			}
		}
	}
}

func TestDiffErrors(t *testing.T) {
	if err := Diff(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("Diff(nil) succeeded")
	}
	d := fileDiff(false)
	d.B = nil
	if err := Diff(&bytes.Buffer{}, d, Options{}); err == nil {
		t.Error("Diff without B succeeded")
	}
	bad := []struct {
		name string
		edit func(*analysis.DiffEntry)
	}{
		{"added with A", func(e *analysis.DiffEntry) { e.A = e.B }},
		{"changed without A", func(e *analysis.DiffEntry) { e.Change = analysis.Changed }},
		{"unknown change", func(e *analysis.DiffEntry) { e.Change = "moved" }},
	}
	for _, tt := range bad {
		d := fileDiff(false)
		tt.edit(&d.Entries[0])
		for _, f := range allFormats {
			if err := Diff(&bytes.Buffer{}, d, Options{Format: f}); err == nil {
				t.Errorf("%s, %s: Diff succeeded", tt.name, f)
			}
		}
	}
}

func TestDiffDeterministic(t *testing.T) {
	for _, f := range allFormats {
		if a, b := render(t, Diff, f, fileDiff(true)), render(t, Diff, f, fileDiff(true)); a != b {
			t.Errorf("%s: two renderings differ", f)
		}
	}
}

func TestDiffUntrustedLink(t *testing.T) {
	d := fileDiff(false)
	d.Entries[3].B.Linkname = "server\nv2"
	out := render(t, Diff, Table, d)
	wantRow(t, out, []string{"0 B", "changed", "symlink", "symlink", "/app/current", `link server → server\nv2`})
	checkMarkdownTables(t, render(t, Diff, Markdown, d))
}

// Diff in a table: one file added between two builds.
func ExampleDiff() {
	a := image("example.com/app:v1", "example.com/app:v1", "1", 500, 600, layer("1", exact(800), exact(3_072), "COPY app /app"))
	b := image("example.com/app:v2", "example.com/app:v2", "2", 500, 600, layer("1", exact(800), exact(3_072), "COPY app /app"),
		layer("2", exact(400_000), exact(1_003_072), "COPY data.bin /data.bin"))
	d := &analysis.FileDiff{
		A: a, B: b,
		FilesA: analysis.Count{Files: 1, Bytes: 1_000},
		FilesB: analysis.Count{Files: 2, Bytes: 1_001_000},
		Added:  analysis.Count{Files: 1, Bytes: 1_000_000},
		Entries: []analysis.DiffEntry{{
			Path: "data.bin", Change: analysis.Added, Delta: 1_000_000,
			B: &analysis.FileInfo{Entry: files.Entry{Path: "data.bin", Type: files.Regular, Size: 1_000_000, Mode: 0o644}, Layer: 1},
		}},
		Dirs: []analysis.DiffDir{{Path: "", Added: 1, BytesA: 1_000, BytesB: 1_001_000, Delta: 1_000_000}},
	}
	if err := Diff(os.Stdout, d, Options{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Diff: example.com/app:v1 → example.com/app:v2
	// A: example.com/app:v1  Digest: sha256:1111111111111111111111111111111111111111111111111111111111111111  Platform: linux/amd64
	// B: example.com/app:v2  Digest: sha256:2222222222222222222222222222222222222222222222222222222222222222  Platform: linux/amd64
	// Files: A 1 entry, 1.00 kB; B 2 entries, 1.00 MB; B − A +1 entry, +1.00 MB (+100000.0%)
	// Differences: 1 added (1.00 MB in B), 0 removed (0 B in A), 0 changed (0 B in B)
	// Contents: not compared; "changed" means the type, size, mode or link target differs (--content compares contents too)
	//
	// Sizes are regular-file bytes of the layers' tar entries: uncompressed and exact, from reading every layer (not the compressed or uncompressed sizes `imgsize inspect` shows).
	//
	// What made B bigger, by directory
	//        Δ         A         B    CHANGES   PATH
	// +1.00 MB   1.00 kB   1.00 MB   +1 −0 ~0   /
	// Each path counts in one row: the directory holding it, cut to the roll-up depth ("/" for paths at the top), so the rows do not overlap and their Δ add up to B − A. A, B: the regular-file bytes of the row's paths in each, changed or not (for a directory at the depth limit, its whole subtree); Δ: B − A. CHANGES: the row's paths added (+), removed (−) and changed (~).
	//
	// Largest differences: the 1 path that differs
	//        Δ   CHANGE   A         B   PATH        DETAIL
	// +1.00 MB   added    —   1.00 MB   /data.bin
	// A, B: a regular file's size, or the kind of entry; "—" where the path is absent. Δ: B − A. DETAIL: what differs in a changed path.
}
