package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/packages"
	"github.com/imgsize/imgsize/pkg/schema"
)

// TestSummaryGolden renders a check run with failures, an unreadable
// image and passes, and a comparison, as the PR summary.
func TestSummaryGolden(t *testing.T) {
	opts := Options{Format: Markdown, Version: "v0.0.0-test", Time: goldenTime}
	run := mixedRun()
	var buf bytes.Buffer
	if err := CheckSummary(&buf, run, opts); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary_check.md.golden", buf.Bytes())
	out := buf.String()
	// What needs attention comes before the collapsed passes, and every
	// image checked is a row.
	details := strings.Index(out, "<details>")
	for _, ic := range run.Images {
		if !strings.Contains(out, "`"+checkLabel(ic)+"`") {
			t.Errorf("no row for %s", checkLabel(ic))
		}
		at := strings.Index(out, "`"+checkLabel(ic)+"`")
		if !ic.Passed() && details >= 0 && at > details {
			t.Errorf("%s fails but is listed under <details>", checkLabel(ic))
		}
	}
	if !strings.Contains(out, "```mermaid\nxychart-beta\n") {
		t.Errorf("no Mermaid chart:\n%s", out)
	}
}

// TestSummaryWhy shows a recorded why under the failing image, and says
// when the directories were not compared.
func TestSummaryWhy(t *testing.T) {
	base := image("app:v1", "app", "1", 500, 300, layer("a", exact(100), exact(1000), ""))
	img := image("app:v2", "app", "2", 500, 300, layer("a", exact(100), exact(1000), ""), layer("b", exact(5000), exact(90000), "RUN apt-get install -y gcc"))
	g := analysis.Growth{Percent: true, Percentage: 5}
	ic := analysis.ImageCheck{Arg: "app:v2", BaselineArg: "app:v1", Image: img, Baseline: base, Budgets: analysis.Budgets{MaxGrowth: &g}}
	ic.Judge(nil)
	if !ic.GrowthFailed() {
		t.Fatalf("growth did not fail: %+v", ic.Results)
	}
	ic.Why = analysis.Why(base, img, &analysis.FileDiff{Dirs: []analysis.DiffDir{{Path: "/usr/lib/gcc", BytesA: 0, BytesB: 88000, Delta: 88000}, {Path: "/tmp", Delta: -5}}}, 5, "")
	var buf bytes.Buffer
	if err := CheckSummary(&buf, &analysis.CheckRun{Images: []analysis.ImageCheck{ic}}, Options{Time: goldenTime}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"**Why `app:v2` grew**", "+88.0 kB in `/usr/lib/gcc`", "`RUN apt-get install -y gcc`", "❌ FAIL", "100 B → 5.10 kB"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/tmp") {
		t.Errorf("a shrinking directory is listed as a why:\n%s", out)
	}
}

// TestSummaryCompare lists each compared image against its baseline and
// draws no baseline bar of 0 for an image without one.
func TestSummaryCompare(t *testing.T) {
	c := analysis.Compare(image("fat", "fat", "1", 500, 300, layerA), image("slim", "slim", "2", 500, 300, layerD))
	var buf bytes.Buffer
	doc := compareDocument(c, Options{Time: goldenTime})
	if err := Summary(&buf, []*schema.Document{doc}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Image sizes compared: 1 image", "`slim`", "400 MB → 800 kB", "-399 MB (-99.8%)", "  bar [400]\n  bar [0.8]\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestMetricsGolden writes the mixed check run as GitLab's metrics report:
// unknown figures are left out, never 0, and the file ends with # EOF.
func TestMetricsGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Metrics(&buf, mixedRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, "check_mixed.metrics.golden", buf.Bytes())
	out := buf.String()
	if !strings.HasSuffix(out, "# EOF\n") {
		t.Errorf("no # EOF at the end:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 2 || !strings.Contains(f[0], "{image=") {
			t.Errorf("not a sample line: %q", l)
		}
	}
	// docker-archive:single.tar's compressed size is unknown.
	if strings.Contains(out, `imgsize_compressed_bytes{image="docker-archive:single.tar"}`) {
		t.Errorf("an unknown size is written:\n%s", out)
	}
	if !strings.Contains(out, `imgsize_check_passed{image="example.com/app:single"} 1`) || !strings.Contains(out, `imgsize_check_passed{image="example.com/app:missing"} 0`) {
		t.Errorf("verdicts missing:\n%s", out)
	}
	if got := metricLabel("a\"b\\c\nd\x1b"); got != `a\"b\\c\nd` {
		t.Errorf("metricLabel = %q", got)
	}
}

// TestSummaryComparePackages: a comparison made with --packages says, in
// the comment, which packages moved the image's size most, largest
// first, and how many more the report lists.
func TestSummaryComparePackages(t *testing.T) {
	c := comparePackages()
	var buf bytes.Buffer
	if err := Summary(&buf, []*schema.Document{compareDocument(c, Options{Time: goldenTime})}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	want := "**Packages of `example.com/app:multi` against `example.com/app:single`** (uncompressed: the bytes of each package's files in the final filesystem)\n\n" +
		"- -70.0 MB removed `gcc-12` `12.2.0-14` (dpkg)\n" +
		"- +700 kB added `ca-certificates` `20240226-r0` (apk)\n" +
		"- +100 kB upgraded `libc6` `2.36-9 → 2.36-9+deb12u4` (dpkg)\n" +
		"- unowned files: -500 MB\n" +
		"- ⚠️ in B, the rpm database at /usr/lib/sysimage/rpm/Packages.db was not read (ndb): the packages it lists are missing on that side and may show as added or removed\n"
	if !strings.Contains(out, want) {
		t.Errorf("summary lacks\n%s\nin:\n%s", want, out)
	}

	// Past summaryPackages changes, the rest are counted, not listed.
	var many []analysis.PackageChange
	for i := range summaryPackages + 3 {
		many = append(many, analysis.PackageChange{Kind: packages.Npm, Name: fmt.Sprintf("p%02d", i), Change: analysis.PackageAdded, NewVersion: "1", NewBytes: int64(1000 - i), Delta: int64(1000 - i)})
	}
	c.Rows[1].Packages.Changes = many
	buf.Reset()
	if err := Summary(&buf, []*schema.Document{compareDocument(c, Options{Time: goldenTime})}, Options{}); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	if !strings.Contains(out, "`p07`") || strings.Contains(out, "`p08`") || !strings.Contains(out, "- … and 3 more changes (the report lists them all)") {
		t.Errorf("a long package list is not cut at %d with the rest counted:\n%s", summaryPackages, out)
	}
}
