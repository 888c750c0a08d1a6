package main

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// terminal says how the table format fits stdout: its width in columns
// (COLUMNS, else the terminal's size) and whether to colour, when stdout is
// a terminal and no -o file is written; 0 and no colour otherwise (files,
// pipes, CI logs keep full width and plain text), and width 0 with --wide.
func (g *globalOptions) terminal() (width int, color bool) {
	f, ok := g.stdout.(*os.File)
	if !ok || (g.output != "" && g.output != "-") || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	getenv := g.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	color = !g.noColor && getenv("NO_COLOR") == ""
	if g.wide {
		return 0, color
	}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return max(n, 40), color
	}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return max(w, 40), color
	}
	return 0, color
}
