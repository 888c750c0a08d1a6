package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// TestTerminalWidthGolden renders every command's table at 80 and 200
// columns: no line is wider than the terminal, long cells are shortened
// with "…", and the bars appear.
func TestTerminalWidthGolden(t *testing.T) {
	reports := []struct {
		name  string
		write func(*bytes.Buffer, Options) error
	}{
		{"inspect_all", func(w *bytes.Buffer, o Options) error {
			return Inspect(w, []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage()}, o)
		}},
		{"compare_all", func(w *bytes.Buffer, o Options) error {
			return Compare(w, analysis.Compare(singleImage(), multiImage(), gzipImage()), o)
		}},
		{"check_mixed", func(w *bytes.Buffer, o Options) error { return Check(w, mixedRun(), o) }},
		{"files_report", func(w *bytes.Buffer, o Options) error { return Files(w, filesReport(), o) }},
		{"diff_report", func(w *bytes.Buffer, o Options) error { return Diff(w, fileDiff(false), o) }},
	}
	for _, r := range reports {
		for _, width := range []int{80, 200} {
			name := fmt.Sprintf("%s.w%d.table.golden", r.name, width)
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := r.write(&buf, Options{Format: Table, Width: width, Time: goldenTime}); err != nil {
					t.Fatal(err)
				}
				golden(t, name, buf.Bytes())
				for i, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
					if w := displayWidth(l); w > width {
						t.Errorf("line %d is %d columns wide, over %d: %q", i+1, w, width, l)
					}
				}
				var full bytes.Buffer
				if err := r.write(&full, Options{Format: Table, Time: goldenTime}); err != nil {
					t.Fatal(err)
				}
				// A table too wide is shortened, or laid out one block per
				// row ("  HEADER: value" lines).
				if width == 80 && maxWidth(full.String()) > 80 && !strings.Contains(buf.String(), "…") && !strings.Contains(buf.String(), "\n  ") {
					t.Errorf("nothing was fitted although the full table is %d wide", maxWidth(full.String()))
				}
				if r.name != "check_mixed" && r.name != "diff_report" && !strings.Contains(buf.String(), "█") {
					t.Errorf("no bar on a terminal")
				}
				if strings.Contains(full.String(), "█") || strings.Contains(full.String(), "RELATIVE") {
					t.Errorf("bars outside a terminal")
				}
			})
		}
	}
}

func maxWidth(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, displayWidth(l))
	}
	return n
}

// TestColor marks failures and growth only when asked, and fitting is done
// before colouring: escape codes take no columns.
func TestColor(t *testing.T) {
	var plain, colored bytes.Buffer
	if err := Check(&plain, mixedRun(), Options{Width: 80}); err != nil {
		t.Fatal(err)
	}
	if err := Check(&colored, mixedRun(), Options{Width: 80, Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colour without Color")
	}
	for _, want := range []string{ansiRed + ansiBold + "FAIL" + ansiReset, ansiGreen + "pass" + ansiReset} {
		if !strings.Contains(colored.String(), want) {
			t.Errorf("no %q in the coloured check", want)
		}
	}
	strip := strings.NewReplacer(ansiRed, "", ansiBold, "", ansiYellow, "", ansiGreen, "", ansiReset, "")
	if strip.Replace(colored.String()) != plain.String() {
		t.Errorf("colour changed the text")
	}
	if got := colorize("+1.50 MB (+0.4%) and -4.00 MB (-1.0%)"); got != ansiRed+"+1.50 MB (+0.4%)"+ansiReset+" and "+ansiGreen+"-4.00 MB (-1.0%)"+ansiReset {
		t.Errorf("colorize = %q", got)
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct{ in, end, middle string }{
		{"registry.example.com/team/app:v1.2.3", "registry.exa…", "registr…:v1.2.3"},
		{"short", "short", "short"},
		{"ΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔ", "ΔΔΔΔΔΔΔΔΔΔΔΔ…", "ΔΔΔΔΔΔΔ…ΔΔΔΔΔΔΔ"},
	} {
		if got := shortenEnd(tc.in, 13); got != tc.end || displayWidth(got) > 13 {
			t.Errorf("shortenEnd(%q) = %q, want %q", tc.in, got, tc.end)
		}
		if got := shortenMiddle(tc.in, 15); got != tc.middle && displayWidth(tc.in) > 15 || displayWidth(got) > 15 {
			t.Errorf("shortenMiddle(%q) = %q, want %q", tc.in, got, tc.middle)
		}
	}
	if got := wrapWords("one two three four five", 10); strings.Join(got, "|") != "one two|  three|  four|  five" {
		t.Errorf("wrapWords = %q", got)
	}
	if bar(50, 100) != "██████" || bar(0, 100) != "" || bar(1, 1000) != "▏" || bar(-1, 100) != "" {
		t.Errorf("bar: %q %q %q", bar(50, 100), bar(0, 100), bar(1, 1000))
	}
}
