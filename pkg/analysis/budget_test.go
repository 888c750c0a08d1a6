package analysis_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

func i64(n int64) *int64 { return &n }
func intp(n int) *int    { return &n }

func TestCheck(t *testing.T) {
	// 10 MB compressed, 25 MB uncompressed in two layers; the baseline
	// is 8 MB and 20 MB in one.
	img := image(layer('a', 6_000_000, 15_000_000), layer('b', 4_000_000, 10_000_000))
	base := image(layer('a', 8_000_000, 20_000_000))
	trailer := image(layers.Layer{Digest: hash('t'), Compressed: exact(1_000), Uncompressed: layers.Size{Bytes: 5_000, Provenance: layers.GzipTrailer}})
	archive := image(layers.Layer{Digest: hash('d'), Compressed: layers.Size{Provenance: layers.Unknown, Reason: "stored uncompressed"}, Uncompressed: exact(5_000)})
	empty := image()

	tests := []struct {
		name     string
		img      *layers.Image
		baseline *layers.Image
		budgets  analysis.Budgets
		want     []analysis.Result
	}{
		{
			name:    "sizes and layers hold; 10 MB of 10 MB is near, exactly at the limit passes",
			img:     img,
			budgets: analysis.Budgets{MaxCompressed: i64(10_000_000), MaxUncompressed: i64(50_000_000), MaxLayers: intp(2), WarnAt: 0.9},
			want: []analysis.Result{
				{Budget: "max-compressed", Basis: "compressed", Unit: "bytes", Limit: 10e6, Actual: 10e6, Margin: 0, Status: "pass", Near: true, Provenance: "exact"},
				{Budget: "max-uncompressed", Basis: "uncompressed", Unit: "bytes", Limit: 50e6, Actual: 25e6, Margin: 25e6, Status: "pass", Provenance: "exact"},
				{Budget: "max-layers", Unit: "layers", Limit: 2, Actual: 2, Margin: 0, Status: "pass", Near: true, Provenance: "exact"},
			},
		},
		{
			name:    "one byte over fails; no warning asked for",
			img:     img,
			budgets: analysis.Budgets{MaxCompressed: i64(9_999_999), MaxLayers: intp(1)},
			want: []analysis.Result{
				{Budget: "max-compressed", Basis: "compressed", Unit: "bytes", Limit: 9_999_999, Actual: 10e6, Margin: -1, Status: "fail", Provenance: "exact"},
				{Budget: "max-layers", Unit: "layers", Limit: 1, Actual: 2, Margin: -1, Status: "fail", Provenance: "exact"},
			},
		},
		{
			// 10 MB against 8 MB is +2 MB, +25%.
			name:     "growth in percent, compressed by default",
			img:      img,
			baseline: base,
			budgets:  analysis.Budgets{MaxGrowth: &analysis.Growth{Percent: true, Percentage: 20}},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "compressed", Unit: "percent", Limit: 20, Actual: 25, Margin: -5, Status: "fail", Provenance: "exact"},
			},
		},
		{
			// 25 MB against 20 MB is +5 MB.
			name:     "growth in bytes, uncompressed",
			img:      img,
			baseline: base,
			budgets:  analysis.Budgets{MaxGrowth: &analysis.Growth{Bytes: 5_000_000}, GrowthBasis: analysis.BasisUncompressed, WarnAt: 0.5},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "uncompressed", Unit: "bytes", Limit: 5e6, Actual: 5e6, Margin: 0, Status: "pass", Near: true, Provenance: "exact"},
			},
		},
		{
			// 8 MB against 10 MB is −2 MB, −20%: shrinking passes a 0% budget, and is never near it.
			name:     "shrinking",
			img:      base,
			baseline: img,
			budgets:  analysis.Budgets{MaxGrowth: &analysis.Growth{Percent: true}, WarnAt: 0.9},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "compressed", Unit: "percent", Limit: 0, Actual: -20, Margin: 20, Status: "pass", Provenance: "exact"},
			},
		},
		{
			name:    "a derived figure keeps its provenance",
			img:     trailer,
			budgets: analysis.Budgets{MaxUncompressed: i64(4_000)},
			want: []analysis.Result{
				{Budget: "max-uncompressed", Basis: "uncompressed", Unit: "bytes", Limit: 4_000, Actual: 5_000, Margin: -1_000, Status: "fail", Provenance: "gzip-trailer"},
			},
		},
		{
			name:    "an unknown size is unknown, not 0",
			img:     archive,
			budgets: analysis.Budgets{MaxCompressed: i64(1)},
			want: []analysis.Result{
				{Budget: "max-compressed", Basis: "compressed", Unit: "bytes", Limit: 1, Status: "unknown", Provenance: "unknown", Reason: "the compressed size is not known: stored uncompressed"},
			},
		},
		{
			name:     "an unknown baseline is unknown",
			img:      img,
			baseline: archive,
			budgets:  analysis.Budgets{MaxGrowth: &analysis.Growth{Bytes: 1}},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "compressed", Unit: "bytes", Limit: 1, Status: "unknown", Provenance: "unknown", Reason: "the baseline's compressed size is not known: stored uncompressed"},
			},
		},
		{
			name:     "percent of nothing is undefined",
			img:      img,
			baseline: empty,
			budgets:  analysis.Budgets{MaxGrowth: &analysis.Growth{Percent: true, Percentage: 5}},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "compressed", Unit: "percent", Limit: 5, Status: "unknown", Provenance: "unknown", Reason: "the baseline's size is 0 bytes; growth in percent of it is undefined"},
			},
		},
		{
			name:    "no baseline",
			img:     img,
			budgets: analysis.Budgets{MaxGrowth: &analysis.Growth{Bytes: 1}},
			want: []analysis.Result{
				{Budget: "max-growth", Basis: "compressed", Unit: "bytes", Limit: 1, Status: "unknown", Provenance: "unknown", Reason: "no baseline to measure growth against"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := analysis.Check(tt.img, tt.baseline, tt.budgets)
			if d := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(analysis.Result{}, "Growth")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			for _, r := range got {
				if r.Budget == analysis.MaxGrowth && tt.baseline != nil && r.Status != analysis.Unknown {
					if r.Growth == nil || !r.Growth.Known {
						t.Errorf("growth result without its delta: %+v", r)
					}
				}
			}
		})
	}
}

func TestCheckRunTally(t *testing.T) {
	img := image(layer('a', 100, 200))
	run := analysis.CheckRun{Images: []analysis.ImageCheck{
		{Image: img, Results: analysis.Check(img, nil, analysis.Budgets{MaxCompressed: i64(100), MaxLayers: intp(5), WarnAt: 0.9})},
		{Image: img, Results: analysis.Check(img, nil, analysis.Budgets{MaxCompressed: i64(99), MaxGrowth: &analysis.Growth{Bytes: 1}})},
		{Arg: "gone", Err: errors.New("not found")},
	}}
	passed, failed, near, unreadable := run.Tally()
	// Image 1: 100 of 100 passes near, 1 of 5 layers passes. Image 2: over
	// by one, and growth unknown without a baseline. Image 3 unreadable.
	if passed != 2 || failed != 2 || near != 1 || unreadable != 1 {
		t.Errorf("tally = %d passed, %d failed, %d near, %d unreadable; want 2, 2, 1, 1", passed, failed, near, unreadable)
	}
	if run.Passed() || !run.Images[0].Passed() || run.Images[1].Passed() || run.Images[2].Passed() {
		t.Error("verdicts wrong: only the first image holds")
	}
	if (analysis.Budgets{}).Empty() != true || (analysis.Budgets{MaxLayers: intp(0)}).Empty() {
		t.Error("Empty: a zero limit is still a budget")
	}
}

func f64(f float64) *float64 { return &f }

// dive's rules compare as dive does: efficiency fails below the minimum,
// the others above the maximum; equality passes each.
func TestCheckFiles(t *testing.T) {
	fr := &analysis.FileReport{
		Dive:        analysis.DiveStats{Efficiency: 0.9, WastedBytes: 5_000, UserSizeBytes: 20_000, UserWastedPercent: 0.25},
		Reclaimable: 3_000,
	}
	got := analysis.CheckFiles(fr, analysis.Budgets{
		LowestEfficiency:         f64(0.9),
		HighestWastedBytes:       i64(4_999),
		HighestUserWastedPercent: f64(0.25),
		MaxReclaimable:           i64(3_000),
	})
	want := []analysis.Result{
		{Budget: "lowest-efficiency", Unit: "ratio", Min: true, Limit: 0.9, Actual: 0.9, Margin: 0, Status: "pass", Provenance: "exact"},
		{Budget: "highest-wasted-bytes", Unit: "bytes", Limit: 4_999, Actual: 5_000, Margin: -1, Status: "fail", Provenance: "exact"},
		{Budget: "highest-user-wasted-percent", Unit: "ratio", Limit: 0.25, Actual: 0.25, Margin: 0, Status: "pass", Provenance: "exact"},
		{Budget: "max-reclaimable", Unit: "bytes", Limit: 3_000, Actual: 3_000, Margin: 0, Status: "pass", Provenance: "exact"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	low := analysis.CheckFiles(&analysis.FileReport{Dive: analysis.DiveStats{Efficiency: 0.85}}, analysis.Budgets{LowestEfficiency: f64(0.9), HighestUserWastedPercent: f64(0.1)})
	if low[0].Status != analysis.Fail || low[0].Margin > -0.049 || low[0].Margin < -0.051 {
		t.Errorf("efficiency 0.85 against 0.9: %+v, want fail by 0.05", low[0])
	}
	// No bytes above the base layer: dive's ratio is NaN and its rule
	// passes (found in review against dive --ci on a one-layer image).
	if low[1].Status != analysis.Pass {
		t.Errorf("user-wasted of an image with no user bytes: %+v, want pass as in dive", low[1])
	}
	if !(analysis.Budgets{MaxReclaimable: i64(0)}).NeedsFiles() || (analysis.Budgets{MaxLayers: intp(1)}).NeedsFiles() {
		t.Error("NeedsFiles wrong")
	}
}

// A growth exactly at a percentage limit passes, although float division
// puts 7 of 100 at 7.000000000000001; one byte more fails.
func TestGrowthPercentExactlyAtLimit(t *testing.T) {
	base := image(layer('a', 100, 100))
	for _, tt := range []struct {
		value int64
		want  analysis.Status
	}{{107, analysis.Pass}, {108, analysis.Fail}, {106, analysis.Pass}} {
		img := image(layer('b', tt.value, tt.value))
		r := analysis.Check(img, base, analysis.Budgets{MaxGrowth: &analysis.Growth{Percent: true, Percentage: 7}})[0]
		if r.Status != tt.want {
			t.Errorf("%d against 100 with a 7%% limit: %s (actual %v), want %s", tt.value, r.Status, r.Actual, tt.want)
		}
		if tt.value == 107 && (r.Actual != 7 || r.Margin != 0) {
			t.Errorf("exactly at the limit: actual %v, margin %v; want 7 and 0", r.Actual, r.Margin)
		}
	}
	// Exhaustively over small sizes: the verdict is the exact one.
	for b := int64(1); b <= 300; b++ {
		for pct := 1; pct <= 30; pct++ {
			v := b + b*int64(pct)/100
			exact := (v-b)*100 <= int64(pct)*b
			r := analysis.Check(image(layer('v', v, v)), image(layer('w', b, b)), analysis.Budgets{MaxGrowth: &analysis.Growth{Percent: true, Percentage: float64(pct)}})[0]
			if (r.Status == analysis.Pass) != exact {
				t.Fatalf("%d against %d at %d%%: %s, want pass=%v", v, b, pct, r.Status, exact)
			}
		}
	}
}

func TestJudgeBaselineError(t *testing.T) {
	img := image(layer('a', 100, 100))
	ic := analysis.ImageCheck{Image: img, Budgets: analysis.Budgets{MaxLayers: intp(5), MaxGrowth: &analysis.Growth{Bytes: 1}}, BaselineErr: errors.New("not found")}
	ic.Judge(nil)
	if len(ic.Results) != 2 || ic.Results[0].Status != analysis.Pass || ic.Results[1].Status != analysis.Unknown || ic.Results[1].Reason != "the baseline could not be read: not found" {
		t.Errorf("results %+v: want layers checked and growth unknown with the baseline's error", ic.Results)
	}
	if ic.Passed() {
		t.Error("an image whose baseline could not be read passed")
	}
	run := analysis.CheckRun{Images: []analysis.ImageCheck{ic}}
	if p, f, _, e := run.Tally(); p != 1 || f != 1 || e != 1 {
		t.Errorf("tally %d passed %d failed %d errors; want 1, 1, 1", p, f, e)
	}
}
