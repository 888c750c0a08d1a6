package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// trendFixture: four tags whose creation times are not in name order,
// one with an unknown uncompressed size and one without a creation time.
// Compressed / uncompressed, by tag:
//
//	v1.0  1,001,000 exact / 2,002,000 exact            created day 1
//	v1.10 1,801,000 exact / 4,002,000 gzip-trailer...  created day 3
//	v1.9  1,801,000 exact / ? (a layer not read)       created day 2
//	edge  2,001,000 exact / 4,002,000                  no creation time
func trendFixture(t *testing.T, order analysis.TrendOrder) *analysis.Trend {
	t.Helper()
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	mk := func(tag, digest string, created time.Time, ls ...layers.Layer) analysis.TrendInput {
		img := image("registry.example/app:"+tag, "registry.example/app@"+hash(digest).String(), digest, 500, 1500, ls...)
		img.Created = created
		return analysis.TrendInput{Label: tag, Images: []*layers.Image{img}}
	}
	notRead := layers.Size{Provenance: layers.Unknown, Reason: "not read whole (no cheap path: gzip trailer is not a whole number of tar blocks (several gzip members?))"}
	trailer := func(n int64) layers.Size { return layers.Size{Bytes: n, Provenance: layers.GzipTrailer} }
	in := []analysis.TrendInput{
		mk("edge", "4", time.Time{}, layerB, layerC, layer("9", exact(1_000_000), exact(2_000_000), "")),
		mk("v1.10", "3", day(3), layerB, layerC, layer("d", exact(800_000), trailer(2_000_000), "")),
		mk("v1.0", "1", day(1), layerB, layerC),
		mk("v1.9", "2", day(2), layerB, layerC, layer("d", exact(800_000), notRead, "")),
	}
	tr, err := analysis.TrendOf(in, analysis.TrendOptions{Order: order})
	if err != nil {
		t.Fatal(err)
	}
	tr.Repository = "registry.example/app"
	tr.Tags = &analysis.TagCounts{Listed: 5, Matched: 4, Measured: 4, Invalid: 1}
	return tr
}

func TestTrendGolden(t *testing.T) {
	for _, order := range []analysis.TrendOrder{analysis.OrderCreated, analysis.OrderSemver} {
		for _, f := range []Format{Table, Markdown, CSV, JSON} {
			name := "trend_" + string(order) + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Trend(&buf, trendFixture(t, order), Options{Format: f, Version: "v0.0.0-test", Time: goldenTime}); err != nil {
					t.Fatal(err)
				}
				if f == JSON {
					testutil.ValidateReport(t, buf.Bytes())
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

// TestTrendFigures holds the rendered growth to figures computed here.
func TestTrendFigures(t *testing.T) {
	tr := trendFixture(t, analysis.OrderCreated)
	var labels []string
	for _, p := range tr.Series[0].Points {
		labels = append(labels, p.Label)
	}
	if got, want := strings.Join(labels, " "), "v1.0 v1.9 v1.10 edge"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
	var buf bytes.Buffer
	if err := Trend(&buf, tr, Options{Format: Table}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// v1.0 → edge: 2,001,000 − 1,001,000 = +1,000,000 B = +99.9%.
	for _, want := range []string{
		"v1.0 → edge: compressed +1.00 MB (+99.9%), uncompressed +2.00 MB (+99.9%)",
		"edge: no creation time in its config; listed last, by name",
		"? uncompressed unknown: not read whole",
		"not valid tags, skipped: 1 name listed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// v1.9's uncompressed size is unknown: neither delta next to it is
	// given a figure.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "v1.9 ") || strings.HasPrefix(l, "v1.10 ") {
			if !strings.Contains(l, "?") {
				t.Errorf("row %q shows no unknown delta", l)
			}
		}
	}
}

func TestTrendPlatformsAndLast(t *testing.T) {
	mk := func(tag string, d int, arch string, n int64) *layers.Image {
		img := image("r/app:"+tag, "r/app:"+tag, tag+arch, 10, 10, layer(tag+arch, exact(n), exact(2*n), ""))
		img.Platform = &v1.Platform{OS: "linux", Architecture: arch}
		img.Created = time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC)
		return img
	}
	var in []analysis.TrendInput
	for i, tag := range []string{"c", "a", "b"} {
		in = append(in, analysis.TrendInput{Label: tag, Images: []*layers.Image{mk(tag, 3-i, "amd64", int64(1000*(3-i))), mk(tag, 3-i, "arm64", int64(100*(3-i)))}})
	}
	tr, err := analysis.TrendOf(in, analysis.TrendOptions{Order: analysis.OrderCreated, Last: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Series) != 2 || tr.Series[0].Platform != "linux/amd64" || tr.Series[1].Platform != "linux/arm64" {
		t.Fatalf("series %+v", tr.Series)
	}
	for _, s := range tr.Series {
		if len(s.Points) != 2 || s.Points[0].Label != "a" || s.Points[1].Label != "c" {
			t.Errorf("%s: points %v, want the newest two, a then c", s.Platform, s.Points)
		}
	}
	if d := tr.Series[1].Compressed; !d.Known || d.Bytes != 100 {
		t.Errorf("arm64 growth %+v, want +100", d)
	}
	var buf bytes.Buffer
	if err := Trend(&buf, tr, Options{Format: Markdown}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "```mermaid\nxychart-beta\n"); n != 2 {
		t.Errorf("%d Mermaid charts, want one per platform:\n%s", n, buf.String())
	}
}

// TestTrendChartSaysWhatItDraws: the Mermaid chart draws bare numbers, so
// its title says when some are derived, when points are left out (unknown
// compressed size) and when only the last points are drawn.
func TestTrendChartSaysWhatItDraws(t *testing.T) {
	mk := func(label string, comp, unc layers.Size) analysis.TrendPoint {
		return analysis.TrendPoint{Label: label, Image: &layers.Image{Compressed: comp, Uncompressed: unc}}
	}
	trailer := layers.Size{Bytes: 3_000_000, Provenance: layers.GzipTrailer}
	unknown := layers.Size{Provenance: layers.Unknown, Reason: "not read"}
	title := func(ps ...analysis.TrendPoint) string {
		for _, l := range trendChart(analysis.TrendSeries{Points: ps}) {
			if strings.HasPrefix(l, "  title ") {
				return l
			}
		}
		return ""
	}
	if got := title(mk("a", exact(1e6), exact(2e6)), mk("b", exact(1e6), exact(2e6))); strings.Contains(got, ";") {
		t.Errorf("all exact: title %q carries a caveat", got)
	}
	if got := title(mk("a", exact(1e6), exact(2e6)), mk("b", exact(1e6), trailer)); !strings.Contains(got, "some derived or estimated") {
		t.Errorf("a gzip-trailer uncompressed size drawn: title %q does not say so", got)
	}
	if got := title(mk("a", exact(1e6), exact(2e6)), mk("b", unknown, unknown)); !strings.Contains(got, "1 without a known compressed size not drawn") {
		t.Errorf("an unknown point: title %q does not say it is left out", got)
	}
	var many []analysis.TrendPoint
	for i := range trendChartPoints + 5 {
		many = append(many, mk(fmt.Sprint(i), exact(1e6), exact(2e6)))
	}
	if got := title(many...); !strings.Contains(got, fmt.Sprintf("the last %d of %d points", trendChartPoints, trendChartPoints+5)) {
		t.Errorf("%d points: title %q does not say only the last are drawn", len(many), got)
	}
}
