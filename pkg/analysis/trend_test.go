package analysis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

func trendInputs(times map[string]time.Time, recorded bool, names ...string) []analysis.TrendInput {
	var in []analysis.TrendInput
	for i, n := range names {
		img := &layers.Image{Ref: n, Compressed: layers.Size{Bytes: int64(100 * (i + 1)), Provenance: layers.Exact}, Uncompressed: layers.Size{Provenance: layers.Unknown}}
		if recorded {
			img.Recorded = &layers.Recorded{Path: n, Time: times[n]}
		} else {
			img.Created = times[n]
		}
		in = append(in, analysis.TrendInput{Label: n, Images: []*layers.Image{img}})
	}
	return in
}

func order(tr *analysis.Trend) string {
	var out []string
	for _, p := range tr.Series[0].Points {
		out = append(out, p.Label)
	}
	return strings.Join(out, " ")
}

func TestTrendOrders(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		in        []analysis.TrendInput
		order     analysis.TrendOrder
		want      string
		wantOrder analysis.TrendOrder
		note      string
	}{
		{"created", trendInputs(map[string]time.Time{"b": day(1), "a": day(3), "c": day(2)}, false, "a", "b", "c"), analysis.OrderCreated, "b c a", analysis.OrderCreated, ""},
		{"created, one missing", trendInputs(map[string]time.Time{"b": day(1), "c": day(2)}, false, "a", "b", "c"), analysis.OrderCreated, "b c a", analysis.OrderCreated, "a: no creation time"},
		{"created, none", trendInputs(nil, false, "c", "a", "b"), analysis.OrderCreated, "a b c", analysis.OrderName, "ordered by name"},
		{"semver", trendInputs(nil, false, "v1.10.0", "latest", "v1.9.0", "1.2"), analysis.OrderSemver, "1.2 v1.9.0 v1.10.0", analysis.OrderSemver, "left out, not semantic versions: latest"},
		{"recorded", trendInputs(map[string]time.Time{"x": day(2), "y": day(1)}, true, "x", "y"), analysis.OrderRecorded, "y x", analysis.OrderRecorded, ""},
		{"recorded, one missing", trendInputs(map[string]time.Time{"x": day(2)}, true, "x", "y"), analysis.OrderRecorded, "x y", analysis.OrderArguments, "ordered as given: y records no time"},
		{"args", trendInputs(map[string]time.Time{"x": day(2), "y": day(1)}, true, "x", "y"), analysis.OrderArguments, "x y", analysis.OrderArguments, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := analysis.TrendOf(tt.in, analysis.TrendOptions{Order: tt.order})
			if err != nil {
				t.Fatal(err)
			}
			if got := order(tr); got != tt.want || tr.Order != tt.wantOrder {
				t.Errorf("got %q (%s), want %q (%s)", got, tr.Order, tt.want, tt.wantOrder)
			}
			if notes := strings.Join(tr.Notes, "\n"); !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q lack %q", notes, tt.note)
			}
			// Uncompressed sizes are unknown: no delta is given a figure.
			for _, p := range tr.Series[0].Points[1:] {
				if p.Uncompressed.Known || !p.Compressed.Known {
					t.Errorf("%s: deltas %+v %+v", p.Label, p.Compressed, p.Uncompressed)
				}
			}
		})
	}
}
