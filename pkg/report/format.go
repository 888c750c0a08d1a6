package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Format names an output format.
type Format string

// The output formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	Markdown Format = "markdown"
	CSV      Format = "csv"
	// HTML is one self-contained page (html.go) drawn from the JSON report.
	HTML Format = "html"
)

// Formats lists the valid formats in the order help text shows them.
var Formats = []Format{Table, JSON, Markdown, CSV, HTML}

// ParseFormat reads a --format value. The error wraps errdefs.ErrUsage and
// lists the valid formats.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(strings.TrimSpace(s), string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", errdefs.UsageError(fmt.Errorf("unknown format %q: valid formats are %s", s, strings.Join(names, ", ")))
}

// Options control how a report is written.
type Options struct {
	// Format of the output; the zero value means Table.
	Format Format
	// Binary prints IEC units (KiB, MiB, GiB; powers of 1024) instead of SI
	// units (kB, MB, GB; powers of 1000, as `docker image ls` prints them).
	Binary bool
	// Version of imgsize, recorded in JSON output.
	Version string
	// Time the report is made, recorded in JSON output.
	Time time.Time
	// Width, when above 0, fits the table format to a terminal of that
	// many columns: long cells are shortened with "…", lines wrap at words
	// and fields. 0 (a file, a pipe, --wide) keeps full width.
	Width int
	// Color marks FAIL, near misses, growth and shrinkage with ANSI
	// colours in the table format (a terminal that wants colour).
	Color bool
	// History makes inspect list every step of the image's history, empty
	// ones (ENV, WORKDIR, CMD…) with 0 B, aligned with the layers they
	// made, as `docker history` does (oldest first, as the layer table).
	History bool
}

func (o Options) format() (Format, error) {
	if o.Format == "" {
		return Table, nil
	}
	return ParseFormat(string(o.Format))
}

var (
	siUnits  = []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	iecUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
)

// FormatBytes humanizes a byte count with three significant digits, the way
// `docker image ls` does: "512 B", "7.35 MB", "135 MB", "1.02 GB". With
// binary it uses powers of 1024 and IEC units: "7.01 MiB".
//
// Unlike docker (which formats with %.3g), trailing zeros are kept —
// "1.00 kB", "1.50 KiB" — so every figure shows the same precision and a
// round number is not mistaken for an exact one. A value that rounds up to
// the next unit moves to it ("1.00 MB", not docker's "1e+03kB"). Counts
// below one unit step are printed whole ("1023 B"). Negative values get a
// leading "-".
func FormatBytes(n int64, binary bool) string {
	if n < 0 {
		if n == math.MinInt64 {
			return "-" + formatAbs(uint64(math.MaxInt64)+1, binary)
		}
		return "-" + formatAbs(uint64(-n), binary)
	}
	return formatAbs(uint64(n), binary)
}

func formatAbs(n uint64, binary bool) string {
	base, units := 1000.0, siUnits
	if binary {
		base, units = 1024.0, iecUnits
	}
	if float64(n) < base {
		return strconv.FormatUint(n, 10) + " B"
	}
	v, i := float64(n), 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	s := sigDigits(v)
	// 999,999 B is 999.999 kB, which rounds to "1000": show "1.00 MB".
	if r, _ := strconv.ParseFloat(s, 64); r >= base && i < len(units)-1 {
		v /= base
		i++
		s = sigDigits(v)
	}
	return s + " " + units[i]
}

// sigDigits formats v (>= 0) with three significant digits, keeping
// trailing zeros; values of 1000 or more are printed whole.
func sigDigits(v float64) string {
	switch {
	case v < 9.995:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 99.95:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// createdByWidth is how many runes of a CREATED BY cell a table shows.
const createdByWidth = 70

// createdBy shortens a config history command for a table cell: the
// "/bin/sh -c #(nop) " prefix Docker writes for metadata steps is dropped,
// whitespace runs (newlines of a multi-line RUN) become one space, other
// controls are made visible (Terminal), and the result is cut to
// createdByWidth runes with "…".
func createdBy(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "/bin/sh -c #(nop) ")
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	return truncate(Terminal(s), createdByWidth)
}

// truncate cuts s to at most n runes, the last being "…" when it was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)[:n-1]
	return strings.TrimRightFunc(string(r), unicode.IsSpace) + "…"
}

// shortDigest is "sha256:" and the first 12 hex digits, as docker prints.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return alg + ":" + hex
}

// formatDelta prints a signed byte difference with its percentage of the
// baseline: "-1.02 GB (-99.3%)", "+2.00 MB (+0.2%)", "0 B (0.0%)". The
// percentage is left out when the baseline is 0.
func formatDelta(bytes int64, percent float64, baseZero, binary bool) string {
	var b strings.Builder
	b.WriteString(signedBytes(bytes, binary))
	if !baseZero {
		b.WriteString(" (")
		b.WriteString(formatPercent(bytes, percent))
		b.WriteString(")")
	}
	return b.String()
}

// signedBytes is a byte difference with its sign: "+1.20 MB", "-3.00 kB",
// "0 B".
func signedBytes(n int64, binary bool) string {
	if n > 0 {
		return "+" + FormatBytes(n, binary)
	}
	return FormatBytes(n, binary)
}

func formatPercent(bytes int64, p float64) string {
	sign := ""
	switch {
	case bytes > 0:
		sign = "+"
	case bytes < 0:
		sign = "-"
	}
	a := math.Abs(p)
	if bytes != 0 && a < 0.05 {
		return sign + "<0.1%"
	}
	return sign + strconv.FormatFloat(a, 'f', 1, 64) + "%"
}

// formatRatio turns baseline ÷ image into words: "500× smaller",
// "1.30× larger", "same size". ok is false when a side is zero and the
// ratio has no meaning.
func formatRatio(base, value int64) (string, bool) {
	switch {
	case base == value:
		return "same size", true
	case base == 0 || value == 0:
		return "", false
	case base > value:
		return sigDigits(float64(base)/float64(value)) + "× smaller", true
	default:
		return sigDigits(float64(value)/float64(base)) + "× larger", true
	}
}
