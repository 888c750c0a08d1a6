package report

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Check fixtures reuse the round-number images of fixtures_test.go, and the
// results are analysis.Check's own, so the reports show what the gate
// really decides.

const (
	mb = 1_000_000
	gb = 1_000_000_000
)

func maxBytes(n int64) *int64 { return &n }
func maxLayers(n int) *int    { return &n }

func growthPercent(p float64) *analysis.Growth {
	return &analysis.Growth{Percent: true, Percentage: p}
}

func growthBytes(n int64) *analysis.Growth { return &analysis.Growth{Bytes: n} }

// emptyImage has no layers: 0 bytes, exactly.
func emptyImage() *layers.Image {
	return image("example.com/app:empty", "example.com/app:empty", "0", 300, 400)
}

// trailerImage is layer h alone: 2,500,000 B compressed, ~7,350,000 B
// uncompressed from the gzip trailer.
func trailerImage() *layers.Image {
	return image("example.com/app:deps", "example.com/app:deps", "f", 500, 700, layerH)
}

func checked(img, base *layers.Image, b analysis.Budgets) analysis.ImageCheck {
	ic := analysis.ImageCheck{Arg: img.Ref, Image: img, Baseline: base, Budgets: b}
	if base != nil {
		ic.BaselineArg = base.Ref
	}
	ic.Results = analysis.Check(img, base, b)
	return ic
}

// mixedRun covers every verdict. Figures, from fixtures_test.go:
//
//	single  compressed 401,001,000  uncompressed 1,002,002,000  3 layers
//	shared  compressed 405,000,000  uncompressed 1,015,000,000  2 layers
//	gzip    compressed 402,500,000  uncompressed ~1,007,350,000 (mixed)
//	deps    compressed   2,500,000  uncompressed ~7,350,000 (gzip trailer)
//	archive compressed unknown      uncompressed 1,002,002,000
//	multi   compressed     800,000  uncompressed 2,000,000      1 layer
//	empty   0 bytes
func mixedRun() *analysis.CheckRun {
	single, shared := singleImage(), sharedImage()
	base := singleImage() // one baseline for two images: listed once in JSON
	return &analysis.CheckRun{Images: []analysis.ImageCheck{
		// All pass; it shrank 3,999,000 B against shared (−0.987%).
		checked(single, shared, analysis.Budgets{
			MaxCompressed: maxBytes(500 * mb), MaxUncompressed: maxBytes(2 * gb), MaxLayers: maxLayers(10),
			MaxGrowth: growthPercent(5), WarnAt: 0.9,
		}),
		// Every absolute budget fails; growth of 3,999,000 B (0.997%)
		// holds under 1%, near it.
		checked(shared, base, analysis.Budgets{
			MaxCompressed: maxBytes(400 * mb), MaxUncompressed: maxBytes(1 * gb), MaxLayers: maxLayers(1),
			MaxGrowth: growthPercent(1), WarnAt: 0.9,
		}),
		// Uncompressed growth 5,348,000 B over a 5 MB budget, on a mixed
		// (exact + gzip-trailer) total.
		checked(gzipImage(), base, analysis.Budgets{
			MaxUncompressed: maxBytes(1_100 * mb), MaxGrowth: growthBytes(5 * mb),
			GrowthBasis: analysis.BasisUncompressed,
		}),
		// A figure from the gzip trailer; a size exactly at its budget.
		checked(trailerImage(), nil, analysis.Budgets{
			MaxCompressed: maxBytes(2_500_000), MaxUncompressed: maxBytes(10 * mb), WarnAt: 0.9,
		}),
		// A docker-archive's compressed size is unknown.
		checked(archiveImage(), nil, analysis.Budgets{
			MaxCompressed: maxBytes(500 * mb), MaxUncompressed: maxBytes(2 * gb), WarnAt: 0.9,
		}),
		// A percentage of a 0-byte baseline is undefined; 1 of 1 layers.
		checked(multiImage(), emptyImage(), analysis.Budgets{
			MaxLayers: maxLayers(1), MaxGrowth: growthPercent(10), WarnAt: 0.9,
		}),
		{
			Arg:     "example.com/app:missing",
			Budgets: analysis.Budgets{MaxCompressed: maxBytes(500 * mb)},
			Err:     errors.New("reading example.com/app:missing: GET https://example.com/v2/app/manifests/missing: MANIFEST_UNKNOWN: manifest unknown"),
		},
		// The image was read, its baseline not.
		{
			Arg: "example.com/app:multi", BaselineArg: "report:gone.json", Image: multiImage(),
			Budgets: analysis.Budgets{MaxGrowth: growthPercent(5)},
			Err:     errors.New("baseline report:gone.json: open gone.json: no such file or directory"),
		},
	}}
}

func passRun() *analysis.CheckRun {
	return &analysis.CheckRun{Images: []analysis.ImageCheck{
		checked(singleImage(), nil, analysis.Budgets{MaxCompressed: maxBytes(500 * mb), MaxLayers: maxLayers(5), WarnAt: 0.9}),
		checked(trailerImage(), nil, analysis.Budgets{MaxUncompressed: maxBytes(10 * mb), WarnAt: 0.9}),
	}}
}

func TestCheckGolden(t *testing.T) {
	tests := []struct {
		name    string
		run     func() *analysis.CheckRun
		binary  bool
		formats []Format
	}{
		{name: "check_mixed", run: mixedRun, formats: allFormats},
		{name: "check_mixed_binary", run: mixedRun, binary: true, formats: []Format{Table}},
		{name: "check_pass", run: passRun, formats: allFormats},
		{name: "check_none", run: func() *analysis.CheckRun { return &analysis.CheckRun{} }, formats: []Format{Table, Markdown}},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			name := tt.name + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				opts := Options{Format: f, Binary: tt.binary, Version: "v0.0.0-test", Time: goldenTime}
				if err := Check(&buf, tt.run(), opts); err != nil {
					t.Fatal(err)
				}
				if f == JSON {
					checkOutput(t, JSON, buf.Bytes())
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

// checkRow finds the text table row of one image's budget and splits it
// into its cells.
func checkRowCells(t *testing.T, out, image, budget string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		cells := cellSep.Split(strings.TrimSpace(line), -1)
		if len(cells) >= 2 && cells[0] == image && cells[1] == budget {
			return cells
		}
	}
	t.Fatalf("no row for %s %s in:\n%s", image, budget, out)
	return nil
}

// Figures worked out by hand from the fixtures, checked in the table
// without golden files.
func TestCheckTableFacts(t *testing.T) {
	out := render(t, Check, Table, mixedRun())
	tests := []struct {
		image, budget string
		want          []string // LIMIT, ACTUAL, MARGIN, RESULT
	}{
		{"example.com/app:single", "max-compressed", []string{"500 MB", "401 MB", "99.0 MB", "pass"}},
		// 3,999,000 / 405,000,000 = 0.987% smaller than shared.
		{"example.com/app:single", "max-growth (compressed, vs example.com/app:shared)", []string{"5%", "-1.0% (-4.00 MB)", "6.0%", "pass"}},
		// 405,000,000 − 400,000,000 = 5,000,000 over.
		{"example.com/app:shared", "max-compressed", []string{"400 MB", "405 MB", "-5.00 MB", "FAIL"}},
		{"example.com/app:shared", "max-uncompressed", []string{"1.00 GB", "1.01 GB", "-15.0 MB", "FAIL"}},
		{"example.com/app:shared", "max-layers", []string{"1", "2", "-1", "FAIL"}},
		// 3,999,000 / 401,001,000 = 0.99725%: shown to three decimals so
		// that it does not read as 1.0% of a 1% limit.
		{"example.com/app:shared", "max-growth (compressed, vs example.com/app:single)", []string{"1%", "+0.997% (+4.00 MB)", "0.003%", "pass (near limit)"}},
		// 1,007,350,000 − 1,002,002,000 = 5,348,000: 348,000 over, mixed.
		{"example.com/app:gzip", "max-growth (uncompressed, vs example.com/app:single)", []string{"5.00 MB", "~+5.35 MB (+0.5%)", "~-348 kB", "FAIL"}},
		{"example.com/app:deps", "max-uncompressed", []string{"10.0 MB", "~7.35 MB", "~2.65 MB", "pass"}},
		{"example.com/app:deps", "max-compressed", []string{"2.50 MB", "2.50 MB", "0 B", "pass (near limit)"}},
		{"docker-archive:single.tar", "max-compressed", []string{"500 MB", "?", "?", "UNKNOWN: the compressed size is not known: the archive stores this layer uncompressed; its compressed size depends on how it is pushed"}},
		{"example.com/app:multi", "max-growth (compressed, vs example.com/app:empty)", []string{"10%", "?", "?", "UNKNOWN: the baseline's size is 0 bytes; growth in percent of it is undefined"}},
		{"example.com/app:multi", "max-layers", []string{"1", "1", "0", "pass (near limit)"}},
		{"example.com/app:missing", "read image", []string{"ERROR: reading example.com/app:missing: GET https://example.com/v2/app/manifests/missing: MANIFEST_UNKNOWN: manifest unknown"}},
		{"example.com/app:multi", "read image", []string{"ERROR: baseline report:gone.json: open gone.json: no such file or directory"}},
	}
	for _, tt := range tests {
		got := checkRowCells(t, out, tt.image, tt.budget)[2:]
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s %s = %q\nwant %q", tt.image, tt.budget, got, tt.want)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := lines[len(lines)-1], "8 images, 16 budgets: 10 pass (3 near its limit), 6 FAIL (2 UNKNOWN), 2 unreadable — gate FAILED"; got != want {
		t.Errorf("summary = %q\nwant      %q", got, want)
	}
	for _, s := range []string{
		"Growth is judged on the size its BUDGET cell names",
		"~ uncompressed growth combines exact and derived figures",
		"~ uncompressed size read from the gzip trailer (ISIZE), not counted",
		"the gate counts UNKNOWN as a failure",
		"at or above 90% of the limit",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}

	out = render(t, Check, Table, passRun())
	if !strings.HasSuffix(out, "2 images, 3 budgets: 3 pass, 0 FAIL, 0 unreadable — gate passed\n") {
		t.Errorf("pass summary:\n%s", out)
	}
	if strings.Contains(out, "Growth") {
		t.Errorf("growth note without a growth budget:\n%s", out)
	}

	// An image held to nothing is not shown as passing anything.
	out = render(t, Check, Markdown, &analysis.CheckRun{Images: []analysis.ImageCheck{checked(multiImage(), nil, analysis.Budgets{})}})
	if !strings.Contains(out, "| `example.com/app:multi` | no budgets |  |  |  | nothing checked |") {
		t.Errorf("image without budgets:\n%s", out)
	}

	// A compressed growth basis says so: users must know which size grew.
	run := &analysis.CheckRun{Images: []analysis.ImageCheck{
		checked(sharedImage(), singleImage(), analysis.Budgets{MaxGrowth: growthBytes(10 * mb)}),
	}}
	out = render(t, Check, Table, run)
	if !strings.Contains(out, "Growth is judged on compressed size") {
		t.Errorf("compressed basis not stated:\n%s", out)
	}
	// +3,999,000 B of 401,001,000 = +0.997%, rounded as compare does.
	if got := checkRowCells(t, out, "example.com/app:shared", "max-growth (compressed, vs example.com/app:single)")[2:]; !slices.Equal(got, []string{"10.0 MB", "+4.00 MB (+1.0%)", "6.00 MB", "pass"}) {
		t.Errorf("bytes growth row = %q", got)
	}
}

// A percentage over its limit by less than the rounding step still prints
// over it.
func TestPercentDecimals(t *testing.T) {
	tests := []struct {
		limit, actual float64
		want          int
	}{
		{5, 3.2, 1},
		{5, 5, 1},
		{5, 5.04, 2},
		{5, 4.9999, 4},
		{5, -0.04, 2},
		{5, 0, 1},
	}
	for _, tt := range tests {
		r := analysis.Result{Unit: analysis.UnitPercent, Limit: tt.limit, Actual: tt.actual, Margin: tt.limit - tt.actual}
		if got := percentDecimals(r); got != tt.want {
			t.Errorf("percentDecimals(limit %v, actual %v) = %d, want %d", tt.limit, tt.actual, got, tt.want)
		}
	}
}

// The CSV's raw figures against values computed here from the fixtures'
// layer sizes, not read from a golden file.
func TestCheckCSVFigures(t *testing.T) {
	rows := csvRecords(t, render(t, Check, CSV, mixedRun()))
	find := func(image, budget string) map[string]string {
		t.Helper()
		for _, r := range rows {
			if r["image"] == image && r["budget"] == budget {
				return r
			}
		}
		t.Fatalf("no CSV row for %s %s", image, budget)
		return nil
	}
	num := func(t *testing.T, s string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q is not a number: %v", s, err)
		}
		return v
	}
	sum := func(f func(layers.Layer) layers.Size, ls ...layers.Layer) int64 {
		var n int64
		for _, l := range ls {
			n += f(l).Bytes
		}
		return n
	}
	singleC := sum(compressedOf, layerA, layerB, layerC)
	sharedC := sum(compressedOf, layerA, layerE)
	sharedU := sum(uncompressedOf, layerA, layerE)
	singleU := sum(uncompressedOf, layerA, layerB, layerC)
	gzipU := sum(uncompressedOf, layerA, layerH)

	tests := []struct {
		image, budget        string
		limit, actual, margn float64
		status, provenance   string
	}{
		{"example.com/app:shared", "max-compressed", 400 * mb, float64(sharedC), 400*mb - float64(sharedC), "fail", "exact"},
		{"example.com/app:shared", "max-uncompressed", 1 * gb, float64(sharedU), 1*gb - float64(sharedU), "fail", "exact"},
		{"example.com/app:shared", "max-layers", 1, 2, -1, "fail", "exact"},
		{"example.com/app:shared", "max-growth", 1, float64(sharedC-singleC) / float64(singleC) * 100, 1 - float64(sharedC-singleC)/float64(singleC)*100, "pass", "exact"},
		{"example.com/app:single", "max-growth", 5, float64(singleC-sharedC) / float64(sharedC) * 100, 5 - float64(singleC-sharedC)/float64(sharedC)*100, "pass", "exact"},
		{"example.com/app:gzip", "max-growth", 5 * mb, float64(gzipU - singleU), 5*mb - float64(gzipU-singleU), "fail", "mixed"},
		{"example.com/app:deps", "max-uncompressed", 10 * mb, float64(layerH.Uncompressed.Bytes), 10*mb - float64(layerH.Uncompressed.Bytes), "pass", "gzip-trailer"},
		{"example.com/app:deps", "max-compressed", 2_500_000, float64(layerH.Compressed.Bytes), 0, "pass", "exact"},
	}
	for _, tt := range tests {
		r := find(tt.image, tt.budget)
		for _, c := range []struct {
			col  string
			want float64
		}{{"limit", tt.limit}, {"actual", tt.actual}, {"margin", tt.margn}} {
			if got := num(t, r[c.col]); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("%s %s %s = %v, want %v", tt.image, tt.budget, c.col, got, c.want)
			}
		}
		if r["status"] != tt.status || r["provenance"] != tt.provenance {
			t.Errorf("%s %s status, provenance = %s, %s; want %s, %s", tt.image, tt.budget, r["status"], r["provenance"], tt.status, tt.provenance)
		}
	}
	// Bytes are integers, never humanized or in exponent form.
	if r := find("example.com/app:shared", "max-uncompressed"); r["limit"] != "1000000000" || r["actual"] != "1015000000" || r["margin"] != "-15000000" {
		t.Errorf("bytes not raw integers: %v", r)
	}
	if r := find("example.com/app:gzip", "max-growth"); r["growth_bytes"] != strconv.FormatInt(gzipU-singleU, 10) || r["basis"] != "uncompressed" || r["baseline"] != "example.com/app:single" {
		t.Errorf("gzip growth row = %v", r)
	}
	// Unknown figures are empty, never 0.
	for _, r := range []map[string]string{find("docker-archive:single.tar", "max-compressed"), find("example.com/app:multi", "max-growth")} {
		if r["actual"] != "" || r["margin"] != "" || r["status"] != "unknown" || r["provenance"] != "unknown" || r["reason"] == "" {
			t.Errorf("unknown row = %v", r)
		}
	}
	// A 0-byte baseline: growth in bytes is known, in percent not.
	if r := find("example.com/app:multi", "max-growth"); r["growth_bytes"] != "800000" || r["growth_percent"] != "" {
		t.Errorf("growth against an empty baseline = %v", r)
	}
	var errs []string
	for _, r := range rows {
		if r["status"] == "error" {
			errs = append(errs, r["image"])
			if r["error"] == "" || r["budget"] != "" {
				t.Errorf("error row = %v", r)
			}
		}
	}
	if want := []string{"example.com/app:missing", "example.com/app:multi"}; !slices.Equal(errs, want) {
		t.Errorf("error rows = %q, want %q", errs, want)
	}
	if got, want := len(rows), 16+2; got != want {
		t.Errorf("%d rows, want %d (one per budget and one per unreadable image)", got, want)
	}
}

func TestCheckJSON(t *testing.T) {
	out := render(t, Check, JSON, mixedRun())
	checkOutput(t, JSON, []byte(out))
	doc, err := schema.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Kind != schema.KindCheck || doc.Check == nil || doc.Comparison != nil {
		t.Fatalf("kind %q, check %v, comparison %v", doc.Kind, doc.Check, doc.Comparison)
	}
	c := doc.Check
	if c.Passed || c.Budgets != 16 || c.Failed != 6 || c.Near != 3 || c.Errors != 2 {
		t.Errorf("counts: passed %v, budgets %d, failed %d, near %d, errors %d; want false 16 6 3 2", c.Passed, c.Budgets, c.Failed, c.Near, c.Errors)
	}
	// The seven images read, in order, then the two baselines not among
	// them: single (shared by two checks) and empty. shared is one check's
	// image and the first check's baseline: listed once.
	var refs []string
	for _, img := range doc.Images {
		refs = append(refs, img.Ref)
	}
	wantRefs := []string{
		"example.com/app:single", "example.com/app:shared", "example.com/app:gzip", "example.com/app:deps",
		"docker-archive:single.tar", "example.com/app:multi", "example.com/app:multi",
		"example.com/app:single", "example.com/app:empty",
	}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	ptr := func(n int) *int { return &n }
	wantIdx := []struct{ image, baseline *int }{
		{ptr(0), ptr(1)}, {ptr(1), ptr(7)}, {ptr(2), ptr(7)}, {ptr(3), nil},
		{ptr(4), nil}, {ptr(5), ptr(8)}, {nil, nil}, {ptr(6), nil},
	}
	if len(c.Results) != len(wantIdx) {
		t.Fatalf("%d results, want %d", len(c.Results), len(wantIdx))
	}
	for i, w := range wantIdx {
		r := c.Results[i]
		if diff := cmp.Diff(w.image, r.Image); diff != "" {
			t.Errorf("result %d image index (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(w.baseline, r.Baseline); diff != "" {
			t.Errorf("result %d baseline index (-want +got):\n%s", i, diff)
		}
		if r.Image != nil && doc.Images[*r.Image].Ref != r.Ref {
			t.Errorf("result %d: ref %q, image %q", i, r.Ref, doc.Images[*r.Image].Ref)
		}
	}
	var statuses [][]string
	for _, r := range c.Results {
		var s []string
		for _, b := range r.Budgets {
			s = append(s, b.Status)
			if (b.Status == schema.StatusUnknown) != (b.Actual == nil) || (b.Actual == nil) != (b.Margin == nil) {
				t.Errorf("%s %s: status %s with actual %v, margin %v", r.Ref, b.Budget, b.Status, b.Actual, b.Margin)
			}
		}
		statuses = append(statuses, s)
	}
	wantStatuses := [][]string{
		{"pass", "pass", "pass", "pass"},
		{"fail", "fail", "fail", "pass"},
		{"pass", "fail"},
		{"pass", "pass"},
		{"unknown", "pass"},
		{"pass", "unknown"},
		nil,
		nil,
	}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	shared := c.Results[1]
	if shared.GrowthBasis != "compressed" || shared.WarnAt != 0.9 || shared.BaselineRef != "example.com/app:single" || shared.Passed {
		t.Errorf("shared result = %+v", shared)
	}
	g := shared.Budgets[3]
	if !g.Near || g.Unit != "percent" || g.Limit != 1 || g.Growth == nil || g.Growth.DeltaBytes != 3_999_000 {
		t.Errorf("shared growth = %+v, growth %+v", g, g.Growth)
	}
	if got := c.Results[2].GrowthBasis; got != "uncompressed" {
		t.Errorf("gzip growth basis = %q", got)
	}
	if got := c.Results[3].GrowthBasis; got != "" {
		t.Errorf("growth basis without a growth budget = %q", got)
	}
	if b := c.Results[2].Budgets[1]; b.Provenance != "mixed" || *b.Actual != 5_348_000 || *b.Margin != -348_000 {
		t.Errorf("gzip growth = %+v", b)
	}
	unk := c.Results[4].Budgets[0]
	if unk.Provenance != "unknown" || !strings.HasPrefix(unk.Reason, "the compressed size is not known") {
		t.Errorf("archive compressed = %+v", unk)
	}
	// A 0-byte baseline: the growth in bytes is known, its percentage
	// null, and the budget unknown.
	zero := c.Results[5].Budgets[1]
	if zero.Growth == nil || zero.Growth.DeltaBytes != 800_000 || zero.Growth.DeltaPercent != nil {
		t.Errorf("growth against empty = %+v", zero.Growth)
	}
	missing := c.Results[6]
	if missing.Error == "" || missing.Passed || len(missing.Budgets) != 0 || missing.Budgets == nil {
		t.Errorf("missing = %+v", missing)
	}
	if got := c.Results[7]; got.Error == "" || got.BaselineRef != "report:gone.json" || got.Baseline != nil {
		t.Errorf("unreadable baseline = %+v", got)
	}

	// Other runs and options validate too: no version, the zero time, an
	// empty run, an image with no budgets, text that needs escaping.
	for _, run := range []*analysis.CheckRun{
		mixedRun(), passRun(), {},
		{Images: []analysis.ImageCheck{{Arg: "oci:a|b\"c", Err: errors.New("bad <x> & \"y\"\tz")}}},
		{Images: []analysis.ImageCheck{checked(multiImage(), nil, analysis.Budgets{})}},
	} {
		var buf bytes.Buffer
		if err := Check(&buf, run, Options{Format: JSON}); err != nil {
			t.Fatal(err)
		}
		checkOutput(t, JSON, buf.Bytes())
	}

	// A passing run.
	doc, err = schema.Decode(strings.NewReader(render(t, Check, JSON, passRun())))
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Check.Passed || doc.Check.Failed != 0 || doc.Check.Budgets != 3 || len(doc.Images) != 2 {
		t.Errorf("pass run = %+v, %d images", doc.Check, len(doc.Images))
	}
}

// The JSON round-trips through schema.Decode unchanged.
func TestCheckJSONRoundTrip(t *testing.T) {
	opts := Options{Format: JSON, Version: "v1.2.3", Time: goldenTime}
	run := mixedRun()
	var buf bytes.Buffer
	if err := Check(&buf, run, opts); err != nil {
		t.Fatal(err)
	}
	written := buf.String()
	doc, err := schema.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(checkDocument(run, opts), doc); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var again bytes.Buffer
	if err := writeJSON(&again, doc); err != nil {
		t.Fatal(err)
	}
	if again.String() != written {
		t.Error("re-encoded document differs from the original")
	}
}

func TestCheckMarkdown(t *testing.T) {
	out := render(t, Check, Markdown, mixedRun())
	for _, s := range []string{
		"## ❌ Image size check failed",
		"| `example.com/app:shared` | max-layers | 1 | 2 | -1 | ❌ FAIL |",
		"| `example.com/app:deps` | max-compressed | 2.50 MB | 2.50 MB | 0 B | ⚠️ pass (near limit) |",
		"| `example.com/app:single` | max-compressed | 500 MB | 401 MB | 99.0 MB | ✅ pass |",
		`| \~+5.35 MB (+0.5%) | \~-348 kB | ❌ FAIL |`,
		"**8 images, 16 budgets: 10 pass (3 near its limit), 6 FAIL (2 UNKNOWN), 2 unreadable — gate FAILED**",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("markdown lacks %q:\n%s", s, out)
		}
	}
	// Every table line has as many cells as the header: no stray pipe.
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		unescaped := strings.Count(line, "|") - strings.Count(line, `\|`)
		if unescaped != len(checkColumns)+1 {
			t.Errorf("row has %d cell borders, want %d: %s", unescaped, len(checkColumns)+1, line)
		}
	}
	if out := render(t, Check, Markdown, passRun()); !strings.HasPrefix(out, "## ✅ Image size check passed\n") {
		t.Errorf("pass heading:\n%s", out)
	}

	near := &analysis.CheckRun{Images: []analysis.ImageCheck{
		checked(trailerImage(), nil, analysis.Budgets{MaxCompressed: maxBytes(2_500_000), WarnAt: 0.9}),
	}}
	if out := render(t, Check, Markdown, near); !strings.HasPrefix(out, "## ⚠️ Image size check passed, 1 budget near the limit\n") {
		t.Errorf("near heading:\n%s", out)
	}

	// A pipe in an error or a reference cannot break the table.
	run := &analysis.CheckRun{Images: []analysis.ImageCheck{{Arg: "oci:a|b", Err: errors.New("bad | worse\nand more")}}}
	out = render(t, Check, Markdown, run)
	if !strings.Contains(out, "| `oci:a\\|b` | read image |  |  |  | ❌ ERROR: bad \\| worse and more |") {
		t.Errorf("escaping:\n%s", out)
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name string
		run  *analysis.CheckRun
		opts Options
	}{
		{"nil run", nil, Options{}},
		{"image without image or error", &analysis.CheckRun{Images: []analysis.ImageCheck{{Arg: "x"}}}, Options{}},
		{"bad format", passRun(), Options{Format: "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(&bytes.Buffer{}, tt.run, tt.opts); err == nil {
				t.Error("no error")
			}
			if tt.opts.Format == "" {
				if err := JUnit(&bytes.Buffer{}, tt.run, tt.opts); err == nil {
					t.Error("JUnit: no error")
				}
				if err := GitHubAnnotations(&bytes.Buffer{}, tt.run, tt.opts); err == nil {
					t.Error("GitHubAnnotations: no error")
				}
			}
		})
	}
}

func TestCheckDeterministic(t *testing.T) {
	for _, f := range allFormats {
		if a, b := render(t, Check, f, mixedRun()), render(t, Check, f, mixedRun()); a != b {
			t.Errorf("%s: two renderings differ", f)
		}
	}
}
