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
	// bar is a column of proportional bars, for terminals: Markdown and
	// CSV leave it out.
	bar bool
}

// shortenMiddle reports whether the column's cells are shortened in the
// middle (references and paths, whose end matters) rather than at the end.
func (c column) shortensInMiddle() bool {
	switch c.header {
	case "IMAGE", "PATH", "DIRECTORY", "NAME", "FILE", "PLATFORM":
		return true
	}
	return false
}

// grid is a table's content, rendered the same way as a terminal table or
// a Markdown table so both carry the same figures.
type grid struct {
	columns []column
	rows    [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

// writeTextFit renders g as writeText does, in at most width columns
// when width is above 0: the widest left-aligned column whose cells can be
// shortened (references, paths and build steps; never figures) is cut to
// make room, again and again, down to minCell columns each.
//
// Bar columns are drawn for a terminal only (width above 0): a file, a
// pipe or a CI log keeps the plain columns scripts read.
func (g *grid) writeTextFit(w io.Writer, width int) error {
	if width <= 0 {
		return g.withoutBars().writeText(w)
	}
	fit := &grid{columns: g.columns, rows: make([][]string, len(g.rows))}
	for i, r := range g.rows {
		fit.rows[i] = make([]string, len(r))
		for j, c := range r {
			fit.rows[i][j] = Terminal(c)
		}
	}
	for range 4 * len(g.columns) {
		var buf strings.Builder
		if err := fit.writeText(&buf); err != nil {
			return err
		}
		over := 0
		for _, l := range strings.Split(buf.String(), "\n") {
			over = max(over, displayWidth(l)-width)
		}
		col, colWidth := -1, 0
		for j, c := range fit.columns {
			if c.align == right || c.bar || c.keeps() {
				continue
			}
			if cw := fit.columnWidth(j); cw > minCell && cw > colWidth {
				col, colWidth = j, cw
			}
		}
		if over <= 0 {
			_, err := io.WriteString(w, buf.String())
			return err
		}
		if col < 0 {
			// Too many columns for the terminal: one block per row.
			_, err := io.WriteString(w, strings.Join(g.listLayout(width), "\n")+"\n")
			return err
		}
		limit := max(minCell, colWidth-over)
		for _, r := range fit.rows {
			if col < len(r) {
				if fit.columns[col].shortensInMiddle() {
					r[col] = shortenMiddle(r[col], limit)
				} else {
					r[col] = shortenEnd(r[col], limit)
				}
			}
		}
	}
	_, err := io.WriteString(w, strings.Join(g.listLayout(width), "\n")+"\n")
	return err
}

// keeps reports whether the column's cells say too much to be cut (a
// verdict, an error, the budget judged): a table that cannot fit without
// cutting them is laid out as a list instead.
func (c column) keeps() bool {
	switch c.header {
	case "RESULT", "BUDGET", "VERDICT":
		return true
	}
	return false
}

// listLayout lays g out for a terminal too narrow for its columns: each
// row is its first cell on a line, then "HEADER: value" for the other
// non-empty cells, as many to a line as fit; a field too long for a line
// wraps at words.
func (g *grid) listLayout(width int) []string {
	var out []string
	for i, r := range g.rows {
		if i > 0 {
			out = append(out, "")
		}
		if len(r) == 0 {
			continue
		}
		head := shortenMiddle(Terminal(r[0]), width)
		for j, c := range g.columns {
			if c.bar && j < len(r) && r[j] != "" && displayWidth(head)+2+displayWidth(r[j]) <= width {
				head += "  " + r[j]
			}
		}
		out = append(out, head)
		cur := ""
		flush := func() {
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
		}
		for j := 1; j < len(r) && j < len(g.columns); j++ {
			c := g.columns[j]
			v := strings.TrimSpace(Terminal(r[j]))
			if c.bar || v == "" {
				continue
			}
			f := v
			if h := strings.TrimSpace(c.header); h != "" {
				f = h + ": " + v
			}
			switch {
			case displayWidth(f)+2 > width:
				flush()
				for k, l := range wrapWords(f, width-2) {
					if k == 0 {
						l = "  " + l
					} else {
						l = "  " + l
					}
					out = append(out, l)
				}
			case cur == "":
				cur = "  " + f
			case displayWidth(cur)+3+displayWidth(f) <= width:
				cur += "   " + f
			default:
				flush()
				cur = "  " + f
			}
		}
		flush()
	}
	return out
}

// withoutBars is g without its bar columns.
func (g *grid) withoutBars() *grid {
	out := &grid{}
	var keep []int
	for j, c := range g.columns {
		if !c.bar {
			keep = append(keep, j)
			out.columns = append(out.columns, c)
		}
	}
	for _, r := range g.rows {
		row := make([]string, 0, len(keep))
		for _, j := range keep {
			if j < len(r) {
				row = append(row, r[j])
			}
		}
		out.rows = append(out.rows, row)
	}
	return out
}

// columnWidth is the display width of column j's widest cell.
func (g *grid) columnWidth(j int) int {
	n := displayWidth(g.columns[j].header)
	for _, r := range g.rows {
		if j < len(r) {
			n = max(n, displayWidth(r[j]))
		}
	}
	return n
}

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
		if c.bar {
			continue
		}
		b.WriteString(" " + mdCell(mdText(Terminal(c.header))) + " |")
	}
	b.WriteString("\n|")
	for _, c := range g.columns {
		if c.bar {
			continue
		}
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
			if i < len(g.columns) && g.columns[i].bar {
				continue
			}
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
