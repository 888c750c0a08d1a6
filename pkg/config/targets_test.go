package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

func TestTargets(t *testing.T) {
	cfg, err := Parse("imgsize.yaml", []byte(`defaults:
  max-layers: 10
  max-compressed: 50MB
images:
  - image: a
    max-compressed: 5MB
  - image: b
    max-layers: none
    baseline: base.json
    max-growth: 5%
`))
	if err != nil {
		t.Fatal(err)
	}
	flags := Settings{MaxLayers: intPtr(3)}

	// The file's images, each: defaults, then its entry, then the flags.
	got, err := Targets(cfg, flags, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Image != "a" || got[1].Image != "b" {
		t.Fatalf("targets %+v, want a and b", got)
	}
	a, b := got[0].Settings.Budgets(), got[1].Settings.Budgets()
	if *a.MaxCompressed != 5_000_000 || *a.MaxLayers != 3 || a.MaxGrowth != nil {
		t.Errorf("a: %+v; want its own 5MB, the flag's 3 layers, no growth", a)
	}
	// b cleared the file's max-layers, but the flag lays 3 over that.
	if *b.MaxCompressed != 50_000_000 || *b.MaxLayers != 3 || b.MaxGrowth == nil || *got[1].Settings.Baseline != "base.json" {
		t.Errorf("b: %+v; want the default 50MB, the flag's 3 layers, its growth and baseline", b)
	}
	if got[1].Where != "imgsize.yaml:7" {
		t.Errorf("b from %q, want its entry's line", got[1].Where)
	}

	// Arguments choose the images; one without an entry gets the defaults.
	got, err = Targets(cfg, Settings{}, []string{"c", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if c := got[0].Settings.Budgets(); *c.MaxCompressed != 50_000_000 || *c.MaxLayers != 10 {
		t.Errorf("c: %+v; want the defaults", c)
	}
	if *got[1].Settings.Budgets().MaxCompressed != 5_000_000 {
		t.Error("a given as an argument lost its entry")
	}
}

func TestTargetsErrors(t *testing.T) {
	empty, _ := Parse("imgsize.yaml", []byte("defaults:\n  max-layers: 1\n"))
	growth := Settings{MaxGrowth: &growthLimit}
	base := "x.json"
	tests := []struct {
		name  string
		cfg   *File
		flags Settings
		args  []string
		want  string
	}{
		{"nothing to check", nil, Settings{MaxLayers: intPtr(1)}, nil, "no images to check"},
		{"a file without images", empty, Settings{}, nil, "list images in imgsize.yaml"},
		{"no budget", nil, Settings{}, []string{"img"}, "no budgets for img (from the command line)"},
		{"growth without baseline", nil, growth, []string{"img"}, "needs a baseline"},
		{"baseline without growth", nil, Settings{MaxLayers: intPtr(1), Baseline: &base}, []string{"img"}, "no effect without a growth budget"},
		{"credentials redacted", nil, Settings{}, []string{"user:secret@127.0.0.1:5000/app"}, "no budgets for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Targets(tt.cfg, tt.flags, tt.args)
			if err == nil || !errors.Is(err, errdefs.ErrUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a usage error saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("err %q echoes a password", err)
			}
		})
	}
}

var growthLimit = analysis.Growth{Percent: true, Percentage: 5}

func intPtr(n int) *int { return &n }
