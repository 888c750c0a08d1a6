package config

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// checkUsage fails t unless err is a one-line usage error naming value and
// saying phrase.
func checkUsage(t *testing.T, err error, value, phrase string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", phrase)
	}
	if !errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("error %q does not wrap errdefs.ErrUsage", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, value) || !strings.Contains(msg, phrase) || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line naming %s and saying %q", msg, value, phrase)
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"0B", 0},
		{"123", 123},
		{"123B", 123},
		{"123b", 123},
		{"123 B", 123},
		{"50MB", 50 * 1000 * 1000},
		{"50 MB", 50 * 1000 * 1000},
		{"50\tMB", 50 * 1000 * 1000},
		{"  50MB  ", 50 * 1000 * 1000},
		{"50mb", 50 * 1000 * 1000},
		{"50Mb", 50 * 1000 * 1000},
		{"50MiB", 50 * 1024 * 1024},
		{"50mib", 50 * 1024 * 1024},
		{"50 MiB", 50 * 1024 * 1024},
		{"2kB", 2 * 1000},
		{"2KB", 2 * 1000},
		{"2KiB", 2 * 1024},
		{"1.5kB", 1500},
		{".5kB", 500},
		{"1.5GB", 15 * 100 * 1000 * 1000},
		{"2GiB", 2 * 1024 * 1024 * 1024},
		{"7.35MB", 735 * 10 * 1000},
		{"1TB", 1000 * 1000 * 1000 * 1000},
		{"1TiB", 1024 * 1024 * 1024 * 1024},
		{"0.5MiB", 512 * 1024},
		// Fractions of a byte round to the nearest, halves up.
		{"1.0004kB", 1000},
		{"1.0005kB", 1001},
		{"2.5", 3},
		{"0.4B", 0},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775807B", math.MaxInt64},
		{"9223372036854775.807kB", math.MaxInt64},
		{"9223372036854775.8074kB", math.MaxInt64},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err != nil {
				t.Fatalf("ParseSize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSizeErrors(t *testing.T) {
	for _, tt := range []struct{ in, phrase string }{
		{"", "is not a size (write a number of bytes"},
		{"   ", "is not a size"},
		{"-1", "cannot be negative"},
		{"-5MB", "cannot be negative"},
		{"+5MB", "is not a size"},
		{"NaN", "is not a size"},
		{"Inf", "is not a size"},
		{"MB", "is not a size"},
		{"five", "is not a size"},
		{"50MBs", "kB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB powers of 1024"},
		{"50 mega", "is not a size"},
		{"50M", "say MB (powers of 1000) or MiB (powers of 1024)"},
		{"50k", "say kB (powers of 1000) or KiB"},
		{"2Gi", "say GB (powers of 1000) or GiB"},
		{"50PB", "is not a size"},
		{"5 0MB", "is not a size"},
		{"1.2.3", "is not a size"},
		{"1.", "is not a size"},
		{"1e6", "is not a size"},
		{"0x10", "is not a size"},
		{"1_000", "is not a size"},
		{"1,000", "is not a size"},
		{"9223372036854775808", "too large: sizes go up to 9223372036854775807 bytes"},
		{"9223372036854775.8075kB", "too large"},
		{"10000000TB", "too large"},
		{strings.Repeat("1", 65), "too long"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err == nil {
				t.Fatalf("ParseSize(%q) = %d, want an error", tt.in, got)
			}
			checkUsage(t, err, `"`+tt.in+`"`, tt.phrase)
		})
	}
}

func TestParseGrowth(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want analysis.Growth
	}{
		{"5%", analysis.Growth{Percent: true, Percentage: 5}},
		{"5.5%", analysis.Growth{Percent: true, Percentage: 5.5}},
		{"+5%", analysis.Growth{Percent: true, Percentage: 5}},
		{" 5 % ", analysis.Growth{Percent: true, Percentage: 5}},
		{"0%", analysis.Growth{Percent: true}},
		{"250%", analysis.Growth{Percent: true, Percentage: 250}},
		{"10MB", analysis.Growth{Bytes: 10 * 1000 * 1000}},
		{"+10MB", analysis.Growth{Bytes: 10 * 1000 * 1000}},
		{"+10 MiB", analysis.Growth{Bytes: 10 * 1024 * 1024}},
		{"4096", analysis.Growth{Bytes: 4096}},
		{"0", analysis.Growth{}},
		{"+0", analysis.Growth{}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseGrowth(tt.in)
			if err != nil {
				t.Fatalf("ParseGrowth(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseGrowth(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseGrowthErrors(t *testing.T) {
	for _, tt := range []struct{ in, phrase string }{
		{"-5%", "cannot be negative"},
		{"-10MB", "cannot be negative"},
		{"5 percent", "is not a growth limit (write 5% or a size such as 10MB)"},
		{"", "is not a growth limit"},
		{"%", "is not a growth limit (write a percentage of the baseline"},
		{"5%%", "is not a growth limit"},
		{"++5%", "is not a growth limit"},
		{"+-5%", "is not a growth limit"},
		{"1e3%", "is not a growth limit"},
		{"NaN%", "is not a growth limit"},
		{"10M", "say MB (powers of 1000) or MiB"},
		{"99999999999TB", "too large"},
		{strings.Repeat("9", 65) + "%", "is not a growth limit"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseGrowth(tt.in)
			if err == nil {
				t.Fatalf("ParseGrowth(%q) = %+v, want an error", tt.in, got)
			}
			checkUsage(t, err, `"`+tt.in+`"`, tt.phrase)
		})
	}
}

func TestParseFraction(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{"90%", 0.9},
		{"0.9", 0.9},
		{" 95 % ", 0.95},
		{"33.3%", 0.333},
		{".5", 0.5},
		{"1", 1},
		{"100%", 1},
		{"0.001%", 0.00001},
		{"off", 0},
		{"OFF", 0},
		{"none", 0},
		{"0", 0},
		{"0%", 0},
		{"0.0", 0},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFraction(tt.in)
			if err != nil {
				t.Fatalf("ParseFraction(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseFraction(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFractionErrors(t *testing.T) {
	for _, tt := range []struct{ in, phrase string }{
		{"95", "it must be at most 1 (for a percentage write 95%)"},
		{"1.5", "it must be at most 1"},
		{"500", "it must be at most 1"},
		{"101%", "it must be at most 100%"},
		{"-0.5", "cannot be negative"},
		{"-10%", "cannot be negative"},
		{"lots", "(write a percentage such as 90%, a fraction such as 0.9, or off)"},
		{"", "is not a fraction of a limit"},
		{"NaN", "is not a fraction of a limit"},
		{"inf", "is not a fraction of a limit"},
		{"0.9.1", "is not a fraction of a limit"},
		{"9e-1", "is not a fraction of a limit"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFraction(tt.in)
			if err == nil {
				t.Fatalf("ParseFraction(%q) = %v, want an error", tt.in, got)
			}
			checkUsage(t, err, `"`+tt.in+`"`, tt.phrase)
		})
	}
}

func TestParseBasis(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want analysis.Basis
	}{
		{"compressed", analysis.BasisCompressed},
		{"uncompressed", analysis.BasisUncompressed},
		{"Uncompressed", analysis.BasisUncompressed},
		{" COMPRESSED ", analysis.BasisCompressed},
	} {
		got, err := ParseBasis(tt.in)
		if err != nil {
			t.Errorf("ParseBasis(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseBasis(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"", "gzip", "compress", "none"} {
		got, err := ParseBasis(in)
		if err == nil {
			t.Errorf("ParseBasis(%q) = %q, want an error", in, got)
			continue
		}
		checkUsage(t, err, `"`+in+`"`, "is not a growth basis (write compressed or uncompressed)")
	}
}
