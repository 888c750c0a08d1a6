package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/imgsize/imgsize/pkg/schema"
)

// The page's style and script, inlined into every HTML report: nothing is
// fetched when it is opened, and its Content-Security-Policy forbids
// fetching anything at all.
//
//go:embed html/page.css
var pageCSS string

//go:embed html/page.js
var pageJS string

// writeHTML writes d as one self-contained page: the JSON report embedded
// as data, and a script that draws every table and chart from it, so each
// figure on the page is the report's own (its element carries the JSON
// pointer it came from in data-path, and the bytes in data-bytes).
//
// Charts are SVG drawn by a few hundred lines of hand-written script
// rather than a vendored library: the figures needed (stacked bars,
// budget bars, a treemap) are simple, and a charting library would
// multiply the page's size for each report.
func writeHTML(w io.Writer, d *schema.Document) error {
	data, err := json.Marshal(d) // escapes <, > and & (and U+2028/9): safe in a script element
	if err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	title := "imgsize " + d.Kind
	if len(d.Images) > 0 {
		title += ": " + d.Images[0].Ref
	}
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` + "\n")
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n")
	b.WriteString("<title>" + html.EscapeString(title) + "</title>\n<style>\n" + pageCSS + "</style>\n</head>\n<body>\n")
	b.WriteString("<noscript><p>This report draws its tables and charts with JavaScript; the figures are in the JSON below, and in `imgsize … -f json`.</p></noscript>\n")
	b.WriteString("<main id=\"app\"></main>\n")
	b.WriteString("<script type=\"application/json\" id=\"imgsize-report\">")
	b.Write(data)
	b.WriteString("</script>\n<script>\n" + pageJS + "</script>\n</body>\n</html>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}
