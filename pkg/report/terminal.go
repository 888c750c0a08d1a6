package report

import (
	"regexp"
	"strings"
	"sync"

	"github.com/mattn/go-runewidth"
)

// Terminal output: tables and lines fitted to the terminal's width, and
// colour. Both apply only to the table format when the caller says stdout
// is a terminal (Options.Width, Options.Color); files, pipes and CI logs
// get the full, plain text, as do golden files.

// widthCond measures display width with ambiguous runes (Δ × …) one column
// wide, as the tables count them, whatever the locale.
var widthCond = &runewidth.Condition{EastAsianWidth: false}

func displayWidth(s string) int { return widthCond.StringWidth(s) }

// minCell is the narrowest a shortened cell gets: a few characters and
// the ellipsis still say what the value was.
const minCell = 8

// shortenEnd cuts s to at most n columns, ending in "…".
func shortenEnd(s string, n int) string {
	if displayWidth(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return widthCond.Truncate(s, n-1, "") + "…"
}

// shortenMiddle cuts s to at most n columns by removing its middle, so a
// reference or a path keeps its start and its end (the tag, the file).
func shortenMiddle(s string, n int) string {
	if displayWidth(s) <= n {
		return s
	}
	if n < 3 {
		return shortenEnd(s, n)
	}
	r := []rune(s)
	head, tail := (n-1)/2, n-1-(n-1)/2
	// Take the tail by width from the end.
	var end []rune
	w := 0
	for i := len(r) - 1; i >= 0; i-- {
		rw := widthCond.RuneWidth(r[i])
		if w+rw > tail {
			break
		}
		w += rw
		end = append([]rune{r[i]}, end...)
	}
	return widthCond.Truncate(s, head, "") + "…" + string(end)
}

// wrapWords breaks s into lines of at most width columns at spaces; a
// word longer than a line is shortened in the middle. Continuation lines
// are indented by two spaces.
func wrapWords(s string, width int) []string {
	if width <= 0 || displayWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	cur, indent := "", ""
	for _, word := range strings.Fields(s) {
		limit := width - displayWidth(indent)
		if displayWidth(word) > limit {
			word = shortenMiddle(word, limit)
		}
		switch {
		case cur == "":
			cur = indent + word
		case displayWidth(cur)+1+displayWidth(word) <= width:
			cur += " " + word
		default:
			lines = append(lines, cur)
			indent = "  "
			cur = indent + word
		}
	}
	return append(lines, cur)
}

// packFields lays "Label: value" fields on lines of at most width columns,
// two spaces apart, starting a new line where the next field would not
// fit; a field wider than a line is shortened in the middle.
func packFields(fs []field, width int) []string {
	if width <= 0 {
		return []string{joinFields(fs)}
	}
	var lines []string
	cur := ""
	for _, f := range fs {
		s := f.label + ": " + f.value
		if displayWidth(s) > width {
			s = shortenMiddle(s, width)
		}
		switch {
		case cur == "":
			cur = s
		case displayWidth(cur)+2+displayWidth(s) <= width:
			cur += "  " + s
		default:
			lines = append(lines, cur)
			cur = s
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// ANSI colours, used only when Options.Color says so.
const (
	ansiRed    = "\x1b[31m"
	ansiBold   = "\x1b[1m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiReset  = "\x1b[0m"
)

type colorRule struct {
	re    *regexp.Regexp
	color string
}

// colorRules are compiled on first use: only output to a colour terminal
// needs them, and package-level regexps are compiled before main by every
// run of imgsize.
var colorRules = sync.OnceValue(func() []colorRule {
	return []colorRule{
		{regexp.MustCompile(`\b(FAIL|FAILED|UNKNOWN)\b|ERROR: .*$`), ansiRed + ansiBold},
		{regexp.MustCompile(`\bnear (its )?limit\b|\bpass \(near[^)]*\)`), ansiYellow},
		{regexp.MustCompile(`\bpass(ed)?\b`), ansiGreen},
		// Growth in red, shrinkage in green: "+1.50 MB (+0.4%)", "-4.00 MB
		// (-1.0%)". A bare negative figure (a margin under 0) is no shrinkage.
		{regexp.MustCompile(`\+[0-9][0-9.]* [kMGTPE]?i?B \(\+[0-9.]+%\)`), ansiRed},
		{regexp.MustCompile(`-[0-9][0-9.]* [kMGTPE]?i?B \(-[0-9.]+%\)`), ansiGreen},
	}
})

// colorize marks verdicts and changes in a line already fitted to the
// terminal: the escape codes take no columns there.
func colorize(line string) string {
	type span struct {
		start, end int
		color      string
	}
	var spans []span
	taken := make([]bool, len(line))
	for _, r := range colorRules() {
		for _, m := range r.re.FindAllStringIndex(line, -1) {
			free := true
			for i := m[0]; i < m[1]; i++ {
				if taken[i] {
					free = false
					break
				}
			}
			if !free {
				continue
			}
			for i := m[0]; i < m[1]; i++ {
				taken[i] = true
			}
			spans = append(spans, span{m[0], m[1], r.color})
		}
	}
	if len(spans) == 0 {
		return line
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		for _, s := range spans {
			if s.start == i {
				b.WriteString(s.color)
			}
		}
		b.WriteByte(line[i])
		for _, s := range spans {
			if s.end == i+1 {
				b.WriteString(ansiReset)
			}
		}
	}
	return b.String()
}

// barBlocks draw a bar in eighths of a column.
var barBlocks = []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

// barWidth is how many columns a full bar takes.
const barWidth = 12

// bar draws v against max as a bar of up to barWidth columns; nothing for
// an unknown figure (v < 0) or a zero max.
func bar(v, max int64) string {
	if v < 0 || max <= 0 {
		return ""
	}
	eighths := int(float64(v) / float64(max) * barWidth * 8)
	if eighths == 0 && v > 0 {
		eighths = 1
	}
	return strings.Repeat("█", eighths/8) + barBlocks[eighths%8]
}
