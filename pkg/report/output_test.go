package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// Facts computed by hand from the fixtures, checked against the output
// independently of the golden files.

// render writes v with write in format f, with the golden files' version
// and time.
func render[T any](t *testing.T, write func(io.Writer, T, Options) error, f Format, v T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, v, Options{Format: f, Version: "v0.0.0-test", Time: goldenTime}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func renderInspect(t *testing.T, f Format, imgs ...*layers.Image) string {
	t.Helper()
	return render(t, Inspect, f, imgs)
}

var cellSep = regexp.MustCompile(`\s{2,}`)

// tableRow finds the line of a text table that starts with first and splits
// it into cells (cells are set apart by at least two spaces).
func tableRow(t *testing.T, out, first string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, first+" ") || strings.HasPrefix(line, first+"\t") {
			return cellSep.Split(strings.TrimSpace(line), -1)
		}
	}
	t.Fatalf("no row starting %q in:\n%s", first, out)
	return nil
}

func TestCompareTableFacts(t *testing.T) {
	// One 1,000,000,000 B layer against multi's 2,000,000 B: 500× smaller.
	gb := image("example.com/app:gb", "example.com/app:gb", "9", 100, 100, layerA)
	out := render(t, Compare, Table, analysis.Compare(gb, multiImage()))
	row := tableRow(t, out, "example.com/app:multi")
	want := []string{
		"example.com/app:multi",
		"800 kB", "-399 MB (-99.8%)", // 800,000 − 400,000,000 = −399,200,000
		"2.00 MB", "-998 MB (-99.8%)", // 2,000,000 − 1,000,000,000 = −998,000,000
		"500× smaller",
		"0 B", "800 kB", // nothing shared; all 800,000 B unique
		"1 (+1 −1)",
	}
	if !slices.Equal(row, want) {
		t.Errorf("multi row = %q\nwant       %q", row, want)
	}
	if !strings.Contains(out, "RATIO (UNCOMPRESSED)") {
		t.Errorf("ratio header does not name its basis:\n%s", out)
	}
	for _, h := range []string{"COMPRESSED", "Δ COMPRESSED", "UNCOMPRESSED", "Δ UNCOMPRESSED", "SHARED COMPRESSED", "UNIQUE COMPRESSED"} {
		if !strings.Contains(out, h) {
			t.Errorf("header %q missing", h)
		}
	}

	// shared has layer a (400,000,000 B compressed) in common with single.
	out = render(t, Compare, Table, analysis.Compare(singleImage(), sharedImage()))
	row = tableRow(t, out, "example.com/app:shared")
	// 405,000,000 − 401,001,000 = +3,999,000 (+0.997%);
	// 1,015,000,000 − 1,002,002,000 = +12,998,000 (+1.297%);
	// 1,015,000,000 / 1,002,002,000 = 1.013× larger.
	want = []string{"example.com/app:shared", "405 MB", "+4.00 MB (+1.0%)", "1.01 GB", "+13.0 MB (+1.3%)", "1.01× larger", "400 MB", "5.00 MB", "2 (+1 −2)"}
	if !slices.Equal(row, want) {
		t.Errorf("shared row = %q\nwant        %q", row, want)
	}
}

func TestUnknownIsNeverZero(t *testing.T) {
	out := render(t, Compare, Table, analysis.Compare(singleImage(), unknownImage()))
	row := tableRow(t, out, "example.com/app:remote")
	// IMAGE, COMPRESSED, Δ COMPRESSED, UNCOMPRESSED, Δ UNCOMPRESSED, RATIO, …
	if row[3] != "?" || row[4] != "?" {
		t.Errorf("remote uncompressed cells = %q, %q; want ?", row[3], row[4])
	}
	if !strings.Contains(out, "? uncompressed unknown: "+remoteReason) {
		t.Errorf("legend lacks the unknown reason:\n%s", out)
	}
	if !strings.Contains(out, "RATIO (COMPRESSED)") {
		t.Errorf("ratio header should fall back to compressed:\n%s", out)
	}

	out = renderInspect(t, Table, unknownImage())
	if !strings.Contains(out, "Uncompressed: ?") {
		t.Errorf("unknown total not shown as ?:\n%s", out)
	}
	if row := tableRow(t, out, "0"); row[3] != "?" {
		t.Errorf("layer 0 uncompressed = %q, want ?", row[3])
	}
	// Legend only for marks that appear.
	if strings.Contains(out, "~") || strings.Contains(out, "≈") {
		t.Errorf("legend for marks that do not appear:\n%s", out)
	}
	if out := renderInspect(t, Table, singleImage()); strings.ContainsAny(out, "~≈?") {
		t.Errorf("exact image has marks:\n%s", out)
	}
}

func TestDerivedMarks(t *testing.T) {
	out := renderInspect(t, Table, gzipImage())
	if row := tableRow(t, out, "1"); row[3] != "~7.35 MB" {
		t.Errorf("gzip-trailer layer uncompressed = %q, want ~7.35 MB", row[3])
	}
	// 1,000,000,000 exact + 7,350,000 gzip-trailer = ~1.01 GB, mixed.
	if !strings.Contains(out, "Uncompressed: ~1.01 GB") {
		t.Errorf("mixed total not marked:\n%s", out)
	}
	out = renderInspect(t, Table, estimatedImage())
	if row := tableRow(t, out, "0"); row[2] != "≈3.00 MB" {
		t.Errorf("estimated layer compressed = %q, want ≈3.00 MB", row[2])
	}
}

func TestCompareCSV(t *testing.T) {
	out := render(t, Compare, CSV, analysis.Compare(singleImage(), multiImage(), unknownImage()))
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("got %d records, want header + 3", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(row int, name string) string {
		t.Helper()
		i, ok := col[name]
		if !ok {
			t.Fatalf("no column %q", name)
		}
		return recs[row][i]
	}
	checks := []struct {
		row        int
		name, want string
	}{
		{1, "baseline", "true"},
		{1, "compressed_bytes", "401001000"},
		{1, "uncompressed_bytes", "1002002000"},
		{2, "baseline", "false"},
		{2, "delta_compressed_bytes", "-400201000"},    // 800,000 − 401,001,000
		{2, "delta_uncompressed_bytes", "-1000002000"}, // 2,000,000 − 1,002,002,000
		{2, "ratio_basis", "compressed"},               // remote's uncompressed is unknown
		{2, "ratio", "501.25125"},                      // 401,001,000 / 800,000
		{2, "unique_compressed_bytes", "800000"},
		{2, "removed_layers", "3"},
		{3, "uncompressed_bytes", ""}, // unknown: empty, never 0
		{3, "uncompressed_provenance", "unknown"},
		{3, "delta_uncompressed_bytes", ""},
		{3, "unique_uncompressed_bytes", ""},
		{3, "compressed_bytes", "30123456"}, // 30,000,000 + 123,456
		// Every derived figure says how it was obtained; unknown is an
		// empty cell with provenance "unknown".
		{2, "delta_compressed_provenance", "exact"},
		{2, "delta_uncompressed_provenance", "exact"},
		{2, "ratio_provenance", "exact"},
		{2, "matched_by", "digest+diffID"},
		{2, "recompressed_compressed_bytes", "0"}, // nothing recompressed: exact 0
		{2, "recompressed_compressed_provenance", "exact"},
		{2, "recompressed_layers", "0"},
		{2, "shared_compressed_bytes", "0"}, // nothing shared: exact 0
		{2, "shared_compressed_provenance", "exact"},
		{2, "unique_uncompressed_bytes", "2000000"},
		{2, "unique_uncompressed_provenance", "exact"},
		{3, "delta_uncompressed_provenance", "unknown"},
		{3, "unique_uncompressed_provenance", "unknown"},
		{3, "shared_uncompressed_bytes", "0"}, // no layer shared: exact 0
		{3, "shared_uncompressed_provenance", "exact"},
		{3, "delta_compressed_bytes", "-370877544"}, // 30,123,456 − 401,001,000
		{3, "delta_compressed_provenance", "exact"},
	}
	for _, c := range checks {
		if got := get(c.row, c.name); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.name, got, c.want)
		}
	}
}

// csvRecords parses a CSV report into one map per row, by column name.
func csvRecords(t *testing.T, out string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func TestCompareCSVProvenance(t *testing.T) {
	tests := []struct {
		name string
		c    *analysis.Comparison
		row  int
		want map[string]string
	}{
		{
			// gzip = a (1,000,000,000 exact) + h (~7,350,000 gzip trailer).
			name: "derived",
			c:    analysis.Compare(singleImage(), gzipImage()),
			row:  1,
			want: map[string]string{
				"delta_compressed_bytes":         "1499000", // 402,500,000 − 401,001,000
				"delta_compressed_provenance":    "exact",
				"delta_uncompressed_bytes":       "5348000", // 1,007,350,000 − 1,002,002,000
				"delta_uncompressed_provenance":  "mixed",
				"ratio_basis":                    "uncompressed",
				"ratio_provenance":               "mixed",
				"matched_by":                     "digest+diffID",
				"shared_uncompressed_bytes":      "1000000000", // layer a
				"shared_uncompressed_provenance": "exact",
				"unique_uncompressed_bytes":      "7350000", // layer h
				"unique_uncompressed_provenance": "gzip-trailer",
			},
		},
		{
			// The archive of single: the same content (diffIDs) in other
			// blobs, stored uncompressed: recompressed, no compressed size.
			name: "archive",
			c:    analysis.Compare(singleImage(), archiveImage()),
			row:  1,
			want: map[string]string{
				"compressed_bytes":                     "",
				"compressed_provenance":                "unknown",
				"delta_compressed_bytes":               "",
				"delta_compressed_provenance":          "unknown",
				"delta_uncompressed_bytes":             "0",
				"delta_uncompressed_provenance":        "exact",
				"ratio":                                "1",
				"ratio_provenance":                     "exact",
				"matched_by":                           "digest+diffID",
				"shared_compressed_bytes":              "0",
				"shared_compressed_provenance":         "exact",
				"unique_compressed_bytes":              "0",
				"unique_compressed_provenance":         "exact",
				"shared_uncompressed_bytes":            "0",
				"recompressed_compressed_bytes":        "",
				"recompressed_compressed_provenance":   "unknown",
				"recompressed_uncompressed_bytes":      "1002002000",
				"recompressed_uncompressed_provenance": "exact",
				"recompressed_layers":                  "3",
				"shared_layers":                        "0",
				"added_layers":                         "0",
				"removed_layers":                       "0",
			},
		},
		{
			// Estimated compressed sizes stay marked in every derived column.
			name: "estimated",
			c:    analysis.Compare(estimatedImage(), singleImage()),
			row:  1,
			want: map[string]string{
				"delta_compressed_bytes":       "398001000", // 401,001,000 − 3,000,000
				"delta_compressed_provenance":  "estimated",
				"matched_by":                   "digest+diffID",
				"shared_compressed_provenance": "exact", // nothing shared: exact 0
				"unique_compressed_bytes":      "401001000",
				"unique_compressed_provenance": "exact",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := csvRecords(t, render(t, Compare, CSV, tt.c))[tt.row]
			for col, want := range tt.want {
				got, ok := row[col]
				if !ok {
					t.Errorf("no column %q", col)
				} else if got != want {
					t.Errorf("%s = %q, want %q", col, got, want)
				}
			}
		})
	}
}

func TestCompareArchiveIsRecompressed(t *testing.T) {
	c := analysis.Compare(singleImage(), archiveImage(), multiImage())
	out := render(t, Compare, Table, c)
	row := tableRow(t, out, "docker-archive:single.tar")
	want := []string{
		"docker-archive:single.tar",
		"?", "?", // stored uncompressed: no compressed size, no delta
		"1.00 GB", "0 B (0.0%)", // 1,002,002,000 both
		"same size",
		"0 B", // no blob is the baseline's
		"?",   // all three layers are its content, in bytes it cannot state
		"0 B", // nothing unique
		"3 (+0 −0, 3 recompressed)",
	}
	if !slices.Equal(row, want) {
		t.Errorf("archive row = %q\nwant         %q", row, want)
	}
	if row := tableRow(t, out, "example.com/app:multi"); !slices.Equal(row[6:], []string{"0 B", "0 B", "800 kB", "1 (+1 −3)"}) {
		t.Errorf("multi row = %q: nothing shared or recompressed, 800 kB unique", row)
	}
	for _, s := range []string{
		"SHARED / RECOMPRESSED / UNIQUE COMPRESSED:",
		"Someone who has the baseline pulls RECOMPRESSED + UNIQUE",
		"docker-archive:single.tar: 3 layers hold the same content as the baseline's but stored differently (different digests, same diffID: a docker-archive stores layers uncompressed)",
		"diffID: the digest of a layer's uncompressed tar.",
		"Layers only in docker-archive:single.tar: none",
		"Layers recompressed in docker-archive:single.tar (the content of baseline example.com/app:single's, in other blobs)",
		"Layers only in baseline example.com/app:single (not in docker-archive:single.tar): none",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if out := render(t, Compare, Table, analysis.Compare(singleImage(), multiImage())); strings.Contains(out, "diffID:") || strings.Contains(out, "RECOMPRESSED") {
		t.Errorf("a comparison without an archive or a recompressed layer explains them:\n%s", out)
	}
	if out := render(t, Compare, Markdown, c); !strings.Contains(out, "Someone who has the baseline pulls RECOMPRESSED + UNIQUE") {
		t.Errorf("markdown lacks the recompressed note:\n%s", out)
	}

	var doc map[string]any
	if err := json.Unmarshal([]byte(render(t, Compare, JSON, c)), &doc); err != nil {
		t.Fatal(err)
	}
	var got, n []any
	for _, r := range doc["comparison"].(map[string]any)["rows"].([]any) {
		got = append(got, r.(map[string]any)["matchedBy"])
		n = append(n, float64(len(r.(map[string]any)["recompressedLayers"].([]any))))
	}
	if want := []any{"digest+diffID", "digest+diffID", "digest+diffID"}; !slices.Equal(got, want) {
		t.Errorf("JSON matchedBy = %v, want %v", got, want)
	}
	if want := []any{0.0, 3.0, 0.0}; !slices.Equal(n, want) {
		t.Errorf("JSON recompressedLayers counts = %v, want %v", n, want)
	}
}

// The same image compressed another way: every layer recompressed, none
// unique, and the note says a registry stores them again.
func TestCompareRecompressedTable(t *testing.T) {
	c := analysis.Compare(singleImage(), zstdImage())
	out := render(t, Compare, Table, c)
	row := tableRow(t, out, "example.com/app:zstd")
	// zstd's layers: 350,000,000 + 900 + 900,000 = 350,900,900 B.
	want := []string{"example.com/app:zstd", "351 MB", "-50.1 MB (-12.5%)", "1.00 GB", "0 B (0.0%)", "same size", "0 B", "351 MB", "0 B", "3 (+0 −0, 3 recompressed)"}
	if !slices.Equal(row, want) {
		t.Errorf("zstd row = %q\nwant      %q", row, want)
	}
	for _, s := range []string{
		"example.com/app:zstd: 3 layers hold the same content as the baseline's but compressed differently (different digests, same diffID): a registry stores and a client pulls them again.",
		"Layers: 3  Compressed: 351 MB  Baseline compressed: 401 MB  Uncompressed: 1.00 GB",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "diffID: the digest") {
		t.Errorf("no archive, yet the archive note:\n%s", out)
	}
}

func TestInspectCSV(t *testing.T) {
	out := renderInspect(t, CSV, singleImage(), unknownImage(), estimatedImage())
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(recs), 1+3+2+1; got != want {
		t.Fatalf("got %d records, want %d (header + one per layer)", got, want)
	}
	if !slices.Equal(recs[0], inspectHeader) {
		t.Errorf("header = %q", recs[0])
	}
	// Row 4 is remote's layer 0: compressed 30,000,000, uncompressed unknown.
	r := recs[4]
	if r[3] != "0" || r[7] != "30000000" || r[8] != "exact" || r[9] != "" || r[10] != "unknown" {
		t.Errorf("remote layer 0 = %q", r)
	}
	// The created_by of the estimated layer shows its tab and newline as
	// escapes: the row stays one line wherever the CSV is read.
	if got := recs[6][11]; got != `RUN /bin/sh -c echo "a\tb\nc" > /x` {
		t.Errorf("created_by = %q", got)
	}
}

func TestJSONUnknownIsNull(t *testing.T) {
	var doc map[string]any
	out := renderInspect(t, JSON, unknownImage())
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	img := doc["images"].([]any)[0].(map[string]any)
	unc := img["uncompressed"].(map[string]any)
	if b, ok := unc["bytes"]; !ok || b != nil {
		t.Errorf("uncompressed.bytes = %v (present %v), want null", b, ok)
	}
	if unc["provenance"] != "unknown" || unc["reason"] != remoteReason {
		t.Errorf("uncompressed = %v", unc)
	}
	comp := img["compressed"].(map[string]any)
	if comp["bytes"] != float64(30_123_456) {
		t.Errorf("compressed.bytes = %v, want 30123456", comp["bytes"])
	}
	// Bytes are integers in the text, not floats.
	if !strings.Contains(out, `"bytes": 30123456,`) {
		t.Errorf("bytes not written as an integer:\n%s", out)
	}

	out = render(t, Compare, JSON, analysis.Compare(singleImage(), unknownImage()))
	doc = nil
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	row := doc["comparison"].(map[string]any)["rows"].([]any)[1].(map[string]any)
	if v, ok := row["uncompressed"]; !ok || v != nil {
		t.Errorf("unknown uncompressed delta = %v (present %v), want null", v, ok)
	}
	if d := row["compressed"].(map[string]any); d["deltaBytes"] != float64(30_123_456-401_001_000) {
		t.Errorf("compressed delta = %v", d)
	}
}

func TestMarkdownRowPerImage(t *testing.T) {
	c := analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
	out := render(t, Compare, Markdown, c)
	// The first table is the summary: header, delimiter, then one row per image.
	lines := strings.Split(out, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "|") })
	n := 0
	for _, l := range lines[start+2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		n++
	}
	if n != len(c.Rows) {
		t.Errorf("summary table has %d rows, want %d", n, len(c.Rows))
	}
	// A pipe in a command is escaped, so the row keeps its column count.
	for _, l := range lines {
		if strings.Contains(l, "make install") {
			if got := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); got != 5 {
				t.Errorf("row %q has %d unescaped pipes, want 5", l, got)
			}
		}
	}
	// Same figures as the table.
	for _, s := range []string{"501× smaller", "1 (+1 −3)", "-1.00 GB (-99.8%)"} {
		if !strings.Contains(out, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}

func TestNoANSI(t *testing.T) {
	c := analysis.Compare(singleImage(), multiImage(), unknownImage(), gzipImage())
	for _, f := range Formats {
		if out := render(t, Compare, f, c); strings.Contains(out, "\x1b") {
			t.Errorf("%s output has an escape sequence", f)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	if err := Compare(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("Compare(nil) succeeded")
	}
	if err := Inspect(&bytes.Buffer{}, []*layers.Image{nil}, Options{}); err == nil {
		t.Error("Inspect([nil]) succeeded")
	}
}
