package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

type align int

const (
	left align = iota
	right
)

// column is a table column: its header and how its cells align.
type column struct {
	header string
	align  align
	// code cells are set in a code span in Markdown (digests, commands).
	code bool
}

// grid is a table's content, rendered the same way as a terminal table or
// a Markdown table so both carry the same figures.
type grid struct {
	columns []column
	rows    [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

// writeText renders g as a borderless table: no lines, columns set apart by
// spaces, numbers right-aligned, no trailing blanks. It reads the same in a
// terminal, a CI log and a golden file.
func (g *grid) writeText(w io.Writer) error {
	headers := make([]string, len(g.columns))
	aligns := make([]tw.Align, len(g.columns))
	for i, c := range g.columns {
		headers[i] = Terminal(c.header)
		aligns[i] = tw.AlignLeft
		if c.align == right {
			aligns[i] = tw.AlignRight
		}
	}
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Lines:      tw.Lines{ShowTop: tw.Off, ShowBottom: tw.Off, ShowHeaderLine: tw.Off, ShowFooterLine: tw.Off},
				Separators: tw.Separators{ShowHeader: tw.Off, ShowFooter: tw.Off, BetweenRows: tw.Off, BetweenColumns: tw.Off},
			},
		})),
		// Count ambiguous-width runes (≈ Δ × …) as one column whatever the
		// locale, so the output does not depend on the environment.
		tablewriter.WithEastAsian(tw.Off),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
	)
	t.Header(headers)
	for _, r := range g.rows {
		// Cells carry outside text: a control character would reach the
		// terminal, and a newline would split the row.
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = Terminal(c)
		}
		if err := t.Append(cells); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("rendering table: %w", err)
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteString("\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// writeMarkdown renders g as a GitHub-flavoured Markdown table.
func (g *grid) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range g.columns {
		b.WriteString(" " + mdCell(mdText(Terminal(c.header))) + " |")
	}
	b.WriteString("\n|")
	for _, c := range g.columns {
		if c.align == right {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range g.rows {
		b.WriteString("|")
		for i, cell := range r {
			// A newline in a cell reads as a space, as Markdown would
			// show it; other controls are made visible.
			cell = Terminal(mdNewlines.Replace(cell))
			if i < len(g.columns) && g.columns[i].code {
				cell = mdCode(cell)
			} else {
				cell = mdText(cell)
			}
			b.WriteString(" " + mdCell(cell) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes text for a Markdown table cell: pipes would end the cell
// and newlines the row.
func mdCell(s string) string {
	return strings.ReplaceAll(mdNewlines.Replace(s), "|", `\|`)
}

var mdNewlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// mdCode wraps s in a code span, with a fence longer than any run of
// backticks inside it.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdText escapes characters Markdown would read as formatting in running
// text (headings, list items, table cells), HTML tags and entity
// references included. Pipes are left to mdCell.
func mdText(s string) string {
	return mdEntity(mdEscaper.Replace(s))
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "#", `\#`, "~", `\~`,
)
