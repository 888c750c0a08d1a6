package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Trend writes how an image's sizes moved across tags or saved reports:
// per platform, a row per point with its sizes and the growth from the
// point before, then the growth from first to last. Every figure carries
// its provenance mark, as elsewhere; a time that is not known is shown as
// such, never invented.
func Trend(w io.Writer, t *analysis.Trend, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if t == nil {
		return errors.New("trend report: no trend")
	}
	for _, s := range t.Series {
		for i, p := range s.Points {
			if p.Image == nil {
				return fmt.Errorf("trend report: %s point %d has no image", s.Platform, i)
			}
		}
	}
	switch f {
	case JSON:
		return writeJSON(w, trendDocument(t, opts))
	case HTML:
		return writeHTML(w, trendDocument(t, opts))
	case CSV:
		return trendCSV(w, t)
	case Markdown:
		return trendMarkdown(w, t, opts)
	default:
		return trendText(w, t, opts)
	}
}

// trendView is what the table and Markdown formats show.
type trendView struct {
	title  string
	notes  []string
	series []trendSeriesView
	legend []string
}

type trendSeriesView struct {
	platform string
	// growth is the first-to-last line.
	growth string
	grid   grid
}

// orderText says in words how points are ordered.
func orderText(o analysis.TrendOrder) string {
	switch o {
	case analysis.OrderCreated:
		return "by creation time (image config)"
	case analysis.OrderSemver:
		return "by semantic version"
	case analysis.OrderRecorded:
		return "by the time each report was written"
	case analysis.OrderName:
		return "by name"
	}
	return "as given"
}

// pointHeader and timeHeader name the label and time columns.
func trendHeaders(t *analysis.Trend) (point, when string) {
	point, when = "TAG", "CREATED"
	if t.Repository == "" {
		point = "REPORT"
	}
	if t.Order == analysis.OrderRecorded || t.Order == analysis.OrderArguments {
		when = "RECORDED"
	}
	return point, when
}

func newTrendView(t *analysis.Trend, opts Options) trendView {
	v := trendView{}
	n := 0
	for _, s := range t.Series {
		n += len(s.Points)
	}
	subject := "saved reports"
	if t.Repository != "" {
		subject = t.Repository
	}
	v.title = fmt.Sprintf("Trend of %s: %s, ordered %s", subject, plural(n, "point"), orderText(t.Order))
	v.notes = append(v.notes, t.Tags.Notes()...)
	v.notes = append(v.notes, t.Notes...)
	lg := &legend{}
	pointH, whenH := trendHeaders(t)
	for _, s := range t.Series {
		sv := trendSeriesView{platform: s.Platform}
		sv.grid.columns = []column{{header: pointH}, {header: whenH}, {header: "COMPRESSED", align: right}, {header: "Δ COMPRESSED", align: right}, {header: "UNCOMPRESSED", align: right}, {header: "Δ UNCOMPRESSED", align: right}, {header: "DIGEST", code: true}}
		for i, p := range s.Points {
			dc, du := "", ""
			if i > 0 {
				dc = deltaCell(lg, p.Compressed, "compressed", opts.Binary)
				du = deltaCell(lg, p.Uncompressed, "uncompressed", opts.Binary)
			}
			sv.grid.add(p.Label, timeCell(p.Time), lg.size(p.Image.Compressed, "compressed", opts.Binary), dc,
				lg.size(p.Image.Uncompressed, "uncompressed", opts.Binary), du, shortDigest(hashString(p.Image.Digest)))
		}
		if len(s.Points) > 1 {
			first, last := s.Points[0].Label, s.Points[len(s.Points)-1].Label
			sv.growth = fmt.Sprintf("%s → %s: compressed %s, uncompressed %s", first, last,
				deltaCell(lg, s.Compressed, "compressed", opts.Binary), deltaCell(lg, s.Uncompressed, "uncompressed", opts.Binary))
		}
		v.series = append(v.series, sv)
	}
	v.legend = lg.Lines()
	return v
}

// timeCell is a point's time in UTC, or says it is not known.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func trendText(w io.Writer, t *analysis.Trend, opts Options) error {
	v := newTrendView(t, opts)
	ew := textWriter(w, opts)
	ew.line(v.title)
	for _, s := range v.series {
		ew.line("")
		ew.line("Platform " + s.platform)
		if s.growth != "" {
			ew.line(s.growth)
		}
		ew.line("")
		ew.grid(&s.grid)
	}
	if len(v.notes) > 0 {
		ew.line("")
		ew.legend(v.notes)
	}
	if len(v.legend) > 0 {
		ew.line("")
		ew.legend(v.legend)
	}
	return ew.err
}

func trendMarkdown(w io.Writer, t *analysis.Trend, opts Options) error {
	v := newTrendView(t, opts)
	ew := &errWriter{w: w}
	ew.line("## " + mdText(v.title))
	for i, s := range v.series {
		ew.line("")
		ew.line("### Platform " + mdCode(s.platform))
		ew.line("")
		if s.growth != "" {
			ew.line(mdText(s.growth))
			ew.line("")
		}
		ew.markdown(&s.grid)
		if chart := trendChart(t.Series[i]); chart != nil {
			ew.line("")
			for _, l := range chart {
				ew.line(l)
			}
		}
	}
	if len(v.notes) > 0 {
		ew.line("")
		for _, n := range v.notes {
			ew.line("- " + mdText(n))
		}
	}
	ew.mdLegend(v.legend)
	return ew.err
}

// trendChartPoints bounds a chart's points: the newest are drawn.
const trendChartPoints = 30

// trendChart is a Mermaid line chart of a series, in MB: the compressed
// line, and the uncompressed one when every drawn point's is known (a
// line through an unknown point would draw a figure nobody measured).
// Nil when no point's compressed size is known.
func trendChart(s analysis.TrendSeries) []string {
	ps := s.Points
	var caveats []string
	if len(ps) > trendChartPoints {
		caveats = append(caveats, fmt.Sprintf("the last %d of %d points", trendChartPoints, len(ps)))
		ps = ps[len(ps)-trendChartPoints:]
	}
	var labels, comp, unc []string
	allUnc := true
	inexactComp, inexactUnc, unknown := false, false, 0
	for _, p := range ps {
		if !p.Image.Compressed.Known() {
			unknown++
			continue
		}
		labels = append(labels, `"`+chartLabel(p.Label)+`"`)
		comp = append(comp, megabytes(p.Image.Compressed.Bytes))
		inexactComp = inexactComp || p.Image.Compressed.Provenance != layers.Exact
		if p.Image.Uncompressed.Known() {
			unc = append(unc, megabytes(p.Image.Uncompressed.Bytes))
			inexactUnc = inexactUnc || p.Image.Uncompressed.Provenance != layers.Exact
		} else {
			allUnc = false
		}
	}
	if len(labels) == 0 {
		return nil
	}
	if unknown > 0 {
		caveats = append(caveats, fmt.Sprintf("%d without a known compressed size not drawn", unknown))
	}
	title := "Compressed size (MB)"
	lines := [][]string{comp}
	if allUnc {
		title = "Compressed (lower line) and uncompressed size (MB)"
		lines = append(lines, unc)
	}
	// The chart draws bare numbers: what the table marks (derived or
	// estimated, legend.note) its title says.
	if inexactComp || allUnc && inexactUnc {
		caveats = append(caveats, "some derived or estimated, marked "+derivedMark+" or "+estimatedMark+" in the table")
	}
	if len(caveats) > 0 {
		title += "; " + strings.Join(caveats, "; ")
	}
	return mermaidChart("line", title, labels, lines...)
}

// trendHeader is the CSV header of a trend report: one row per point of
// each series. Each figure is followed by its provenance; a delta has the
// weaker of its two sizes' provenances and is empty when either is
// unknown, or for a series' first point (delta_provenance then empty
// too). time is RFC 3339, empty when not known.
var trendHeader = []string{
	"platform", "position", "label", "time", "order", "image", "digest",
	"compressed_bytes", "compressed_provenance", "uncompressed_bytes", "uncompressed_provenance",
	"delta_compressed_bytes", "delta_compressed_provenance", "delta_uncompressed_bytes", "delta_uncompressed_provenance",
}

func trendCSV(w io.Writer, t *analysis.Trend) error {
	rw := newRowWriter(w, trendHeader)
	for _, s := range t.Series {
		for i, p := range s.Points {
			when := ""
			if !p.Time.IsZero() {
				when = p.Time.UTC().Format(time.RFC3339)
			}
			dc, dcp, du, dup := "", "", "", ""
			if i > 0 {
				dc, dcp = csvDelta(p.Compressed), csvDeltaProvenance(p.Compressed)
				du, dup = csvDelta(p.Uncompressed), csvDeltaProvenance(p.Uncompressed)
			}
			rw.write([]string{
				s.Platform, strconv.Itoa(i), p.Label, when, string(t.Order), p.Image.Name, hashString(p.Image.Digest),
				csvBytes(p.Image.Compressed), csvProvenance(p.Image.Compressed),
				csvBytes(p.Image.Uncompressed), csvProvenance(p.Image.Uncompressed),
				dc, dcp, du, dup,
			})
		}
	}
	return rw.flush()
}

func trendDocument(t *analysis.Trend, opts Options) *schema.Document {
	d := newDocument(schema.KindTrend, opts)
	d.Images = []schema.ImageRecord{}
	rec := &schema.TrendRecord{Repository: t.Repository, Order: string(t.Order), Notes: append(append([]string{}, t.Tags.Notes()...), t.Notes...), Series: []schema.TrendSeriesRecord{}}
	if tg := t.Tags; tg != nil {
		rec.Tags = &schema.TagsRecord{Listed: tg.Listed, Matched: tg.Matched, Measured: tg.Measured, Invalid: tg.Invalid, Truncated: tg.Truncated}
	}
	for _, s := range t.Series {
		sr := schema.TrendSeriesRecord{Platform: s.Platform, Points: []schema.TrendPointRecord{}, Compressed: deltaRecord(s.Compressed), Uncompressed: deltaRecord(s.Uncompressed)}
		for i, p := range s.Points {
			pr := schema.TrendPointRecord{Label: p.Label, Image: len(d.Images)}
			d.Images = append(d.Images, imageRecord(p.Image))
			if !p.Time.IsZero() {
				tm := p.Time.UTC()
				pr.Time = &tm
			}
			if i > 0 {
				pr.Compressed, pr.Uncompressed = deltaRecord(p.Compressed), deltaRecord(p.Uncompressed)
			}
			sr.Points = append(sr.Points, pr)
		}
		rec.Series = append(rec.Series, sr)
	}
	d.Trend = rec
	return d
}
