package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imgsize/imgsize/pkg/analysis"
)

func ptr[T any](v T) *T { return &v }

func TestOver(t *testing.T) {
	defaults := Settings{
		MaxCompressed:   ptr(int64(50 * 1000 * 1000)),
		MaxUncompressed: ptr(int64(200 * 1024 * 1024)),
		MaxGrowth:       &analysis.Growth{Percent: true, Percentage: 5},
		WarnAt:          ptr(0.8),
		Baseline:        ptr("baseline.json"),
	}
	entry := Settings{
		MaxCompressed: ptr(int64(5 * 1000 * 1000)),
		MaxLayers:     ptr(10),
		Cleared:       map[string]bool{"max-growth": true, "baseline": true},
	}
	flags := Settings{
		Baseline:    ptr("report.json"),
		GrowthBasis: ptr(analysis.BasisUncompressed),
		Cleared:     map[string]bool{"max-uncompressed": true},
	}
	for _, tt := range []struct {
		name string
		got  Settings
		want Settings
	}{
		{
			name: "entry over defaults",
			got:  defaults.Over(entry),
			want: Settings{
				MaxCompressed:   ptr(int64(5 * 1000 * 1000)),
				MaxUncompressed: ptr(int64(200 * 1024 * 1024)),
				MaxLayers:       ptr(10),
				WarnAt:          ptr(0.8),
				Cleared:         map[string]bool{"max-growth": true, "baseline": true},
			},
		},
		{
			name: "flags over entry over defaults",
			got:  defaults.Over(entry).Over(flags),
			want: Settings{
				MaxCompressed: ptr(int64(5 * 1000 * 1000)),
				MaxLayers:     ptr(10),
				GrowthBasis:   ptr(analysis.BasisUncompressed),
				WarnAt:        ptr(0.8),
				Baseline:      ptr("report.json"),
				Cleared:       map[string]bool{"max-growth": true, "max-uncompressed": true},
			},
		},
		{
			name: "a value given again replaces a clear below",
			got:  entry.Over(Settings{MaxGrowth: &analysis.Growth{Bytes: 1000}}),
			want: Settings{
				MaxCompressed: ptr(int64(5 * 1000 * 1000)),
				MaxLayers:     ptr(10),
				MaxGrowth:     &analysis.Growth{Bytes: 1000},
				Cleared:       map[string]bool{"baseline": true},
			},
		},
		{
			name: "a value beats a clear in the same settings",
			got:  defaults.Over(Settings{Baseline: ptr("b.json"), Cleared: map[string]bool{"baseline": true}}),
			want: Settings{
				MaxCompressed:   ptr(int64(50 * 1000 * 1000)),
				MaxUncompressed: ptr(int64(200 * 1024 * 1024)),
				MaxGrowth:       &analysis.Growth{Percent: true, Percentage: 5},
				WarnAt:          ptr(0.8),
				Baseline:        ptr("b.json"),
			},
		},
		{name: "nothing over nothing", got: Settings{}.Over(Settings{}), want: Settings{}},
		{name: "nothing over defaults", got: defaults.Over(Settings{}), want: defaults},
		{name: "defaults over nothing", got: Settings{}.Over(defaults), want: defaults},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("settings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOverAssociative lets the command line lay flags over an image's
// merged settings or over each level in turn with the same result.
func TestOverAssociative(t *testing.T) {
	levels := []Settings{
		{},
		{MaxCompressed: ptr(int64(1)), Baseline: ptr("a")},
		{Cleared: map[string]bool{"max-compressed": true, "baseline": true}},
		{MaxCompressed: ptr(int64(2)), WarnAt: ptr(0.0), Cleared: map[string]bool{"max-layers": true}},
		{MaxLayers: ptr(3), GrowthBasis: ptr(analysis.BasisCompressed)},
	}
	for i, a := range levels {
		for j, b := range levels {
			for k, c := range levels {
				left, right := a.Over(b).Over(c), a.Over(b.Over(c))
				if diff := cmp.Diff(left, right); diff != "" {
					t.Errorf("(%d over %d) over %d differs from %d over (%d over %d) (-left +right):\n%s", i, j, k, i, j, k, diff)
				}
			}
		}
	}
}

func TestOverKeepsInputs(t *testing.T) {
	s := Settings{Cleared: map[string]bool{"baseline": true}}
	o := Settings{Cleared: map[string]bool{"max-growth": true}}
	got := s.Over(o)
	got.Cleared["max-layers"] = true
	if len(s.Cleared) != 1 || len(o.Cleared) != 1 {
		t.Errorf("changing Over's result changed its inputs: %v, %v", s.Cleared, o.Cleared)
	}
}

func TestBudgets(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Settings
		want analysis.Budgets
	}{
		{
			name: "nothing set",
			want: analysis.Budgets{WarnAt: 0.9},
		},
		{
			name: "everything set",
			in: Settings{
				MaxCompressed:   ptr(int64(5 * 1000 * 1000)),
				MaxUncompressed: ptr(int64(20 * 1024 * 1024)),
				MaxLayers:       ptr(0),
				MaxGrowth:       &analysis.Growth{Percent: true, Percentage: 5},
				GrowthBasis:     ptr(analysis.BasisUncompressed),
				WarnAt:          ptr(0.75),
				Baseline:        ptr("baseline.json"),
			},
			want: analysis.Budgets{
				MaxCompressed:   ptr(int64(5 * 1000 * 1000)),
				MaxUncompressed: ptr(int64(20 * 1024 * 1024)),
				MaxLayers:       ptr(0),
				MaxGrowth:       &analysis.Growth{Percent: true, Percentage: 5},
				GrowthBasis:     analysis.BasisUncompressed,
				WarnAt:          0.75,
			},
		},
		{
			name: "warnings off",
			in:   Settings{WarnAt: ptr(0.0)},
			want: analysis.Budgets{WarnAt: 0},
		},
		{
			name: "cleared fields are unset",
			in:   Settings{Cleared: map[string]bool{"max-growth": true, "growth-basis": true}},
			want: analysis.Budgets{WarnAt: 0.9},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.Budgets()); diff != "" {
				t.Errorf("Budgets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
