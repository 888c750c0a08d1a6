package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

func f64(f float64) *float64 { return &f }
func i64(n int64) *int64     { return &n }

func TestParseDiveCI(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Settings
	}{
		// dive's defaults when the file says nothing: lowestEfficiency 0.9,
		// highestWastedBytes disabled, highestUserWastedPercent 0.1.
		{"empty", "", Settings{LowestEfficiency: f64(0.9), HighestUserWastedPercent: f64(0.1)}},
		{"dive's documented example", `rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.95
  # If the amount of wasted space is at least X or larger than X, mark as failed.
  highestWastedBytes: 20MB
  highestUserWastedPercent: 0.20
`, Settings{LowestEfficiency: f64(0.95), HighestWastedBytes: i64(20_000_000), HighestUserWastedPercent: f64(0.20)}},
		{"disabled and case-insensitive keys", "rules:\n  LOWESTEFFICIENCY: disabled\n  highestwastedbytes: 5M\n", Settings{HighestWastedBytes: i64(5_000_000), HighestUserWastedPercent: f64(0.1)}},
		// Read as dive reads them (found in review, each against dive --ci):
		// YAML numbers formatted back as Go floats, go-humanize's units.
		{"dive's value forms", "rules:\n  lowestEfficiency: 5e-1\n  highestWastedBytes: 1Ki\n  highestUserWastedPercent: 0x1p-1\n", Settings{LowestEfficiency: f64(0.5), HighestWastedBytes: i64(1024), HighestUserWastedPercent: f64(0.5)}},
		{"float and comma bytes", "rules:\n  highestWastedBytes: 2e3\n", Settings{LowestEfficiency: f64(0.9), HighestWastedBytes: i64(2000), HighestUserWastedPercent: f64(0.1)}},
		{"comma bytes", "rules:\n  highestWastedBytes: 2,000\n", Settings{LowestEfficiency: f64(0.9), HighestWastedBytes: i64(2000), HighestUserWastedPercent: f64(0.1)}},
		{"IEC and unknown keys ignored", "other: 1\nrules:\n  highestWastedBytes: 1MiB\n  somethingNew: 3\n", Settings{LowestEfficiency: f64(0.9), HighestWastedBytes: i64(1 << 20), HighestUserWastedPercent: f64(0.1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDiveCI(".dive-ci", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseDiveCIErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		// dive's own parsers refuse these (it calls the rule misconfigured).
		{"rules:\n  lowestEfficiency: 90%\n", ".dive-ci:2: lowestEfficiency:"},
		{"rules:\n  lowestEfficiency: Disabled\n", ".dive-ci:2: lowestEfficiency:"},
		{"rules:\n  highestWastedBytes: 5 MBs\n", ".dive-ci:2: highestWastedBytes:"},
		{"rules:\n  highestWastedBytes: lots\n", ".dive-ci:2: highestWastedBytes:"},
		{"rules: [1, 2]\n", ".dive-ci:1: rules: expected a mapping"},
		{"- a\n", ".dive-ci:1: expected dive's CI rules"},
		{"rules:\n  lowestEfficiency: [0.9]\n", ".dive-ci:2: lowestEfficiency: expected a value"},
	}
	for _, tt := range tests {
		_, err := ParseDiveCI(".dive-ci", []byte(tt.in))
		if err == nil || !errors.Is(err, errdefs.ErrUsage) || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("ParseDiveCI(%q) = %v, want an error starting %q", tt.in, err, tt.want)
		}
	}
}
