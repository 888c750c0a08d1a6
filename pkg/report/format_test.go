package report

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n      int64
		binary bool
		want   string
	}{
		{0, false, "0 B"},
		{512, false, "512 B"},
		{999, false, "999 B"},
		// Three significant digits, zeros kept: a round figure is shown at
		// the same precision as any other.
		{1_000, false, "1.00 kB"},
		{1_500, false, "1.50 kB"},
		{7_350_000, false, "7.35 MB"}, // docker's classic busybox figure
		{135_000_000, false, "135 MB"},
		{1_020_000_000, false, "1.02 GB"},
		{1_002_002_000, false, "1.00 GB"},
		// 12.345 MB rounds to 3 significant digits.
		{12_345_678, false, "12.3 MB"},
		// 999,999 B is 999.999 kB: it rounds up into the next unit rather
		// than printing docker's "1e+03kB".
		{999_999, false, "1.00 MB"},
		{999_499, false, "999 kB"},
		{9_995, false, "10.0 kB"},
		{99_950, false, "100 kB"},
		{-1_020_000_000, false, "-1.02 GB"},
		{math.MaxInt64, false, "9.22 EB"},
		{math.MinInt64, false, "-9.22 EB"},

		{0, true, "0 B"},
		{1_000, true, "1000 B"},
		{1_023, true, "1023 B"},
		{1_024, true, "1.00 KiB"},
		{1_536, true, "1.50 KiB"},
		{7_350_000, true, "7.01 MiB"},
		// 1023.9 KiB rounds to 1024: shown as 1.00 MiB.
		{1_048_575, true, "1.00 MiB"},
		// Between 1000 and 1023 of a unit, binary has four digits.
		{1_000 * 1024, true, "1000 KiB"},
		{1 << 30, true, "1.00 GiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.n, tt.binary); got != tt.want {
			t.Errorf("FormatBytes(%d, %v) = %q, want %q", tt.n, tt.binary, got, tt.want)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	tests := []struct {
		base, value int64
		want        string
	}{
		{1_000_000_000, 2_000_000, "500× smaller"},
		{1_002_002_000, 2_000_000, "501× smaller"},
		{100_400_000, 2_000_000, "50.2× smaller"},
		{1_000_000, 1_300_000, "1.30× larger"},
		{2_000_000, 2_000_000, "same size"},
		{5_000_000_000, 2_000_000, "2500× smaller"},
		{0, 0, "same size"},
	}
	for _, tt := range tests {
		got, ok := formatRatio(tt.base, tt.value)
		if !ok || got != tt.want {
			t.Errorf("formatRatio(%d, %d) = %q, %v; want %q", tt.base, tt.value, got, ok, tt.want)
		}
	}
	for _, tt := range [][2]int64{{0, 5}, {5, 0}} {
		if got, ok := formatRatio(tt[0], tt[1]); ok {
			t.Errorf("formatRatio(%d, %d) = %q, want no ratio", tt[0], tt[1], got)
		}
	}
}

func TestFormatDelta(t *testing.T) {
	tests := []struct {
		bytes    int64
		percent  float64
		baseZero bool
		want     string
	}{
		// A 1,027,000,000 B baseline shrunk to 7,000,000 B.
		{-1_020_000_000, -1_020_000_000.0 / 1_027_000_000 * 100, false, "-1.02 GB (-99.3%)"},
		{2_000_000, 0.2, false, "+2.00 MB (+0.2%)"},
		{0, 0, false, "0 B (0.0%)"},
		{100, 100.0 / 1e9 * 100, false, "+100 B (+<0.1%)"},
		{5_000, 0, true, "+5.00 kB"},
	}
	for _, tt := range tests {
		if got := formatDelta(tt.bytes, tt.percent, tt.baseZero, false); got != tt.want {
			t.Errorf("formatDelta(%d, %v) = %q, want %q", tt.bytes, tt.percent, got, tt.want)
		}
	}
}

func TestCreatedBy(t *testing.T) {
	tests := []struct{ in, want string }{
		{`/bin/sh -c #(nop)  CMD ["sh"]`, `CMD ["sh"]`},
		{"/bin/sh -c #(nop) ADD file:abc in / ", "ADD file:abc in /"},
		{"RUN /bin/sh -c apt-get update \\\n\t&& apt-get install -y curl # buildkit", `RUN /bin/sh -c apt-get update \ && apt-get install -y curl # buildkit`},
		{"", ""},
		{strings.Repeat("x", 70), strings.Repeat("x", 70)},
		{strings.Repeat("x", 71), strings.Repeat("x", 69) + "…"},
		{strings.Repeat("é", 80), strings.Repeat("é", 69) + "…"},
		// Whitespace reads as a space; other controls show as escapes.
		{"RUN echo \x1b[2J\a\r\nimgsize: ok\u202e", `RUN echo \x1b[2J\a imgsize: ok\u202e`},
	}
	for _, tt := range tests {
		if got := createdBy(tt.in); got != tt.want {
			t.Errorf("createdBy(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShortDigest(t *testing.T) {
	d := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	if got, want := shortDigest(d), "sha256:0123456789ab"; got != want {
		t.Errorf("shortDigest = %q, want %q", got, want)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		got, err := ParseFormat(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if got, err := ParseFormat("JSON"); err != nil || got != JSON {
		t.Errorf(`ParseFormat("JSON") = %q, %v; want json`, got, err)
	}
	_, err := ParseFormat("yaml")
	if !errors.Is(err, errdefs.ErrUsage) {
		t.Fatalf("ParseFormat(yaml) error = %v, want one wrapping ErrUsage", err)
	}
	for _, f := range Formats {
		if !strings.Contains(err.Error(), string(f)) {
			t.Errorf("error %q does not list %q", err, f)
		}
	}
	if err := Inspect(&strings.Builder{}, nil, Options{Format: "yaml"}); !errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("Inspect with a bad format: error = %v, want ErrUsage", err)
	}
}
