package report

import (
	"slices"

	"github.com/imgsize/imgsize/pkg/layers"
)

// Marks put before a size that was not read exactly. Unknown sizes print
// unknownMark alone, never 0.
const (
	derivedMark   = "~"
	estimatedMark = "≈"
	unknownMark   = "?"
)

// legend collects the marks a table uses, so the lines explaining them can
// follow it — only for the marks that appear.
type legend struct {
	entries []*legendEntry
	index   map[string]*legendEntry
}

// legendEntry explains one mark on one kind of size, with the distinct
// reasons given for it.
type legendEntry struct {
	rank    int
	text    string
	reasons []string
}

// size formats s for a cell of the column what ("compressed" or
// "uncompressed") and notes its mark.
func (l *legend) size(s layers.Size, what string, binary bool) string {
	if !s.Known() {
		l.note(s, what)
		return unknownMark
	}
	return l.note(s, what) + FormatBytes(s.Bytes, binary)
}

// note records why s is not exact and returns its mark ("" when exact).
func (l *legend) note(s layers.Size, what string) string {
	var mark, text string
	rank := 0
	switch s.Provenance {
	case layers.Exact:
		return ""
	case layers.Annotation:
		mark, text = derivedMark, what+" stated by a layer annotation, not counted"
	case layers.GzipTrailer:
		mark, text = derivedMark, what+" read from the gzip trailer (ISIZE), not counted"
	case layers.ZstdHeader:
		mark, text = derivedMark, what+" read from the zstd frame header, not counted"
	case layers.Mixed:
		mark, text = derivedMark, what+" combines exact and derived figures"
	case layers.Estimated:
		mark, text, rank = estimatedMark, what+" estimated, not measured", 1
	default:
		mark, text, rank = unknownMark, what+" unknown", 2
	}
	text = mark + " " + text
	if l.index == nil {
		l.index = map[string]*legendEntry{}
	}
	e := l.index[text]
	if e == nil {
		e = &legendEntry{rank: rank, text: text}
		l.index[text] = e
		l.entries = append(l.entries, e)
	}
	if s.Reason != "" && !slices.Contains(e.reasons, s.Reason) {
		e.reasons = append(e.reasons, s.Reason)
	}
	return mark
}

// combine is the provenance of a figure computed from a and b (a delta or a
// ratio): the weaker of the two, as layers.Total keeps it.
func combine(a, b layers.Size) layers.Size {
	t := layers.Total([]layers.Size{a, b})
	if t.Reason == "" {
		for _, s := range []layers.Size{a, b} {
			if s.Provenance == t.Provenance && s.Reason != "" {
				t.Reason = s.Reason
				break
			}
		}
	}
	return t
}

// Lines returns the legend: derived marks first, then estimates, then
// unknowns; within a mark in the order first met. A mark given with reasons
// gets one line per distinct reason.
func (l *legend) Lines() []string {
	sorted := slices.Clone(l.entries)
	slices.SortStableFunc(sorted, func(a, b *legendEntry) int { return a.rank - b.rank })
	var out []string
	for _, e := range sorted {
		if len(e.reasons) == 0 {
			out = append(out, e.text)
		}
		for _, r := range e.reasons {
			out = append(out, e.text+": "+r)
		}
	}
	return out
}
