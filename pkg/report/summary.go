package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Summary writes check and compare reports as one Markdown summary that
// fits a pull request at fleet scale: one row per image (and platform),
// before → after compressed and uncompressed with the change, the budget
// closest to failing and the verdict; failures, errors and near misses
// first, passing images collapsed under <details>; the why of a failed
// growth budget where the check recorded it; and a Mermaid bar chart of
// the largest changes, which GitHub and GitLab draw. Every figure is the
// reports' own: nothing is measured again. It is what `imgsize comment`
// posts and what `check` appends to GitHub's step summary.
func Summary(w io.Writer, docs []*schema.Document, opts Options) error {
	if len(docs) == 0 {
		return errors.New("summary: no report")
	}
	var rows []summaryRow
	for i, d := range docs {
		switch {
		case d == nil:
			return fmt.Errorf("summary: report %d is empty", i)
		case d.Check != nil:
			rows = append(rows, checkRows(d)...)
		case d.Comparison != nil:
			rows = append(rows, comparisonRows(d)...)
		default:
			return fmt.Errorf("summary: a %s report has no check or comparison to summarize", d.Kind)
		}
	}
	slices.SortStableFunc(rows, func(a, b summaryRow) int { return int(a.rank) - int(b.rank) })
	ew := &errWriter{w: w}
	ew.line("## " + summaryHeadline(rows))
	ew.line("")
	var shown, passing []summaryRow
	for _, r := range rows {
		if r.rank == rankPass {
			passing = append(passing, r)
		} else {
			shown = append(shown, r)
		}
	}
	if len(shown) > 0 {
		g := summaryGrid(shown, opts)
		ew.markdown(&g)
		ew.line("")
	}
	if len(passing) > 0 {
		verb := " pass"
		if len(passing) == 1 {
			verb = " passes"
		}
		ew.line("<details><summary>" + htmlText(plural(len(passing), "image")+verb) + "</summary>")
		ew.line("")
		g := summaryGrid(passing, opts)
		ew.markdown(&g)
		ew.line("")
		ew.line("</details>")
		ew.line("")
	}
	for _, r := range shown {
		if r.why != nil {
			writeWhy(ew, r.label, r.why, opts)
		}
		if r.packages != nil {
			writePackageChanges(ew, r, opts)
		}
	}
	if chart := summaryChart(rows); len(chart) > 0 {
		for _, l := range chart {
			ew.line(l)
		}
		ew.line("")
	}
	ew.line("Sizes: compressed is what a pull transfers and a registry stores; uncompressed what the layers unpack to. ? marks a figure not known, never 0.")
	return ew.err
}

// CheckSummary writes a check run as Summary does its saved report.
func CheckSummary(w io.Writer, run *analysis.CheckRun, opts Options) error {
	if err := validRun(run); err != nil {
		return err
	}
	return Summary(w, []*schema.Document{checkDocument(run, opts)}, opts)
}

// summaryRank orders the rows: what needs attention first.
type summaryRank int

const (
	rankError summaryRank = iota
	rankFail
	rankNear
	rankCompared
	rankPass
)

type summaryRow struct {
	label string
	rank  summaryRank
	// before and after are the baseline's and the image's sizes; nil
	// when not known (no baseline, an unknown figure).
	beforeC, afterC, beforeU, afterU *int64
	worst                            string
	verdict                          string
	why                              *schema.WhyRecord
	// packages are a compared image's package changes against its
	// baseline (compare --packages), baseLabel that baseline.
	packages  *schema.PackageDiffRecord
	baseLabel string
}

func checkRows(d *schema.Document) []summaryRow {
	var out []summaryRow
	for _, r := range d.Check.Results {
		row := summaryRow{label: r.Ref}
		if r.Image != nil {
			img := d.Images[*r.Image]
			row.afterC, row.afterU = img.Compressed.Bytes, img.Uncompressed.Bytes
		}
		if r.Index != nil && *r.Index < len(d.Indexes) {
			row.afterC = d.Indexes[*r.Index].Stored.Bytes
		}
		if r.Baseline != nil {
			base := d.Images[*r.Baseline]
			row.beforeC, row.beforeU = base.Compressed.Bytes, base.Uncompressed.Bytes
		}
		row.rank, row.worst = worstBudget(r)
		switch {
		case r.Error != "":
			row.rank, row.verdict = rankError, "❌ error: "+r.Error
		case row.rank == rankFail:
			row.verdict = "❌ FAIL"
		case row.rank == rankNear:
			row.verdict = "⚠️ near limit"
		default:
			row.verdict = "✅ pass"
		}
		row.why = r.Why
		out = append(out, row)
	}
	return out
}

func comparisonRows(d *schema.Document) []summaryRow {
	c := d.Comparison
	var out []summaryRow
	for _, r := range c.Rows {
		base := c.Baseline
		if r.Baseline != nil {
			base = *r.Baseline
		}
		if r.Image == base {
			continue
		}
		img, b := d.Images[r.Image], d.Images[base]
		label := img.Ref
		if r.Platform != "" {
			label += " [" + r.Platform + "]"
		}
		out = append(out, summaryRow{
			label: label, rank: rankCompared,
			beforeC: b.Compressed.Bytes, afterC: img.Compressed.Bytes,
			beforeU: b.Uncompressed.Bytes, afterU: img.Uncompressed.Bytes,
			worst: "—", verdict: "compared with " + b.Ref,
			packages: r.Packages, baseLabel: b.Ref,
		})
	}
	return out
}

// worstBudget is the budget closest to failing (or failed furthest) and
// the rank it gives the image.
func worstBudget(r schema.ImageCheckRecord) (summaryRank, string) {
	rank, worst, used := rankPass, "", -1.0
	for _, b := range r.Budgets {
		br, u := rankPass, usage(b)
		switch {
		case b.Status != schema.StatusPass:
			br = rankFail
			if b.Status == schema.StatusUnknown {
				u = math.Inf(1)
			}
		case b.Near:
			br = rankNear
		}
		if br < rank || (br == rank && u > used) {
			rank, worst, used = br, budgetBrief(b), u
		}
	}
	return rank, worst
}

// usage is how much of its limit a budget uses: actual ÷ limit, or limit ÷
// actual for a minimum; 0 when unknown or the limit is 0.
func usage(b schema.BudgetRecord) float64 {
	if b.Actual == nil || b.Limit == 0 {
		return 0
	}
	if b.Min {
		if *b.Actual == 0 {
			return math.Inf(1)
		}
		return b.Limit / *b.Actual
	}
	return *b.Actual / b.Limit
}

// budgetBrief says a budget's figure against its limit in a few words.
func budgetBrief(b schema.BudgetRecord) string {
	if b.Actual == nil {
		why := b.Reason
		if why == "" {
			why = "not known"
		}
		return b.Budget + ": ? (" + why + ")"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var actual, limit string
	switch b.Unit {
	case "bytes":
		actual, limit = FormatBytes(int64(math.Round(*b.Actual)), false), FormatBytes(int64(math.Round(b.Limit)), false)
		if b.Budget == schema.BudgetMaxGrowth && *b.Actual >= 0 {
			actual = "+" + actual
		}
	case "percent":
		actual, limit = strconv.FormatFloat(*b.Actual, 'f', 1, 64)+"%", num(b.Limit)+"%"
		if *b.Actual >= 0 {
			actual = "+" + actual
		}
	default:
		actual, limit = num(*b.Actual), num(b.Limit)
	}
	if b.Min {
		return b.Budget + ": " + actual + " (min " + limit + ")"
	}
	return b.Budget + ": " + actual + " of " + limit
}

func summaryHeadline(rows []summaryRow) string {
	var failed, errs, near, checked int
	for _, r := range rows {
		switch r.rank {
		case rankError:
			errs++
		case rankFail:
			failed++
		case rankNear:
			near++
		}
		if r.rank != rankCompared {
			checked++
		}
	}
	if checked == 0 {
		return "Image sizes compared: " + plural(len(rows), "image")
	}
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d fail", failed, checked))
	}
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%d could not be read", errs))
	}
	if near > 0 {
		parts = append(parts, fmt.Sprintf("%d near the limit", near))
	}
	switch {
	case failed+errs > 0:
		return "❌ Image size check failed: " + strings.Join(parts, ", ")
	case near > 0:
		return "⚠️ Image size check passed: " + plural(checked, "image") + ", " + strings.Join(parts, ", ")
	default:
		return "✅ Image size check passed: " + plural(checked, "image")
	}
}

func summaryGrid(rows []summaryRow, opts Options) grid {
	g := grid{columns: []column{
		{header: "IMAGE", code: true},
		{header: "COMPRESSED", align: right},
		{header: "Δ", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "Δ", align: right},
		{header: "CLOSEST BUDGET"},
		{header: "VERDICT"},
	}}
	for _, r := range rows {
		g.add(r.label,
			beforeAfter(r.beforeC, r.afterC, opts.Binary), change(r.beforeC, r.afterC, opts.Binary),
			beforeAfter(r.beforeU, r.afterU, opts.Binary), change(r.beforeU, r.afterU, opts.Binary),
			r.worst, r.verdict)
	}
	return g
}

func sizeOrUnknown(n *int64, binary bool) string {
	if n == nil {
		return unknownMark
	}
	return FormatBytes(*n, binary)
}

// beforeAfter is "before → after", or the one size there is.
func beforeAfter(before, after *int64, binary bool) string {
	if before == nil {
		return sizeOrUnknown(after, binary)
	}
	return FormatBytes(*before, binary) + " → " + sizeOrUnknown(after, binary)
}

// change is after − before and its percentage, empty without a before.
func change(before, after *int64, binary bool) string {
	if before == nil || after == nil {
		return ""
	}
	d := *after - *before
	return formatDelta(d, percentOf(d, *before), *before == 0, binary)
}

func percentOf(d, base int64) float64 {
	if base == 0 {
		return 0
	}
	return float64(d) / float64(base) * 100
}

// chartRows bounds the chart: more bars than this read as noise.
const chartRows = 10

// summaryChart is a Mermaid bar chart of compressed sizes for the rows
// that changed most (or the largest, without baselines), as lines: two
// bars per image, baseline and this build, when every charted image has
// a baseline, else this build's alone (a missing baseline drawn as 0
// would read as an image of 0 bytes). Nil when no row has a known size.
func summaryChart(rows []summaryRow) []string {
	var rs []summaryRow
	for _, r := range rows {
		if r.afterC != nil {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	weight := func(r summaryRow) int64 {
		if r.beforeC != nil {
			d := *r.afterC - *r.beforeC
			if d < 0 {
				d = -d
			}
			return d
		}
		return *r.afterC
	}
	slices.SortStableFunc(rs, func(a, b summaryRow) int {
		wa, wb := weight(a), weight(b)
		switch {
		case wa > wb:
			return -1
		case wa < wb:
			return 1
		}
		return 0
	})
	if len(rs) > chartRows {
		rs = rs[:chartRows]
	}
	var labels, before, after []string
	allBefore := true
	mb := megabytes
	for _, r := range rs {
		labels = append(labels, `"`+chartLabel(r.label)+`"`)
		after = append(after, mb(*r.afterC))
		if r.beforeC == nil {
			allBefore = false
			continue
		}
		before = append(before, mb(*r.beforeC))
	}
	if allBefore {
		return mermaidBars("Compressed size (MB): baseline, then this build", labels, before, after)
	}
	return mermaidBars("Compressed size (MB)", labels, after)
}

// mermaidBars is a Mermaid xychart-beta bar chart, as lines: labels
// already quoted, one bar series per values list (numbers in MB).
func mermaidBars(title string, labels []string, series ...[]string) []string {
	return mermaidChart("bar", title, labels, series...)
}

// mermaidChart is mermaidBars with the series drawn as kind: "bar" or
// "line".
func mermaidChart(kind, title string, labels []string, series ...[]string) []string {
	out := []string{"```mermaid", "xychart-beta", `  title "` + title + `"`, "  x-axis [" + strings.Join(labels, ", ") + "]", `  y-axis "MB"`}
	for _, s := range series {
		out = append(out, "  "+kind+" ["+strings.Join(s, ", ")+"]")
	}
	return append(out, "```")
}

// megabytes is n in MB with two decimals at most, for a chart.
func megabytes(n int64) string {
	return strconv.FormatFloat(math.Round(float64(n)/1e4)/100, 'f', -1, 64)
}

// sizeChart charts the known sizes of images (labels quoted by it), one
// bar each; nil when none is known. It follows a table in Markdown
// reports, where GitHub and GitLab draw it.
func sizeChart(title string, names []string, sizes []*int64) []string {
	var labels, values []string
	for i, n := range sizes {
		if n == nil || i >= chartRows {
			continue
		}
		labels = append(labels, `"`+chartLabel(names[i])+`"`)
		values = append(values, megabytes(*n))
	}
	if len(labels) == 0 {
		return nil
	}
	return mermaidBars(title, labels, values)
}

// chartLabel shortens an image's label for an axis: its last path
// element, at most 24 characters, without what Mermaid would parse.
func chartLabel(s string) string {
	if i := strings.LastIndexAny(s, "/"); i >= 0 && i < len(s)-1 && !strings.Contains(s[i:], "]") {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune("\"[]`<>#;\\", r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 24 {
		s = string(r[:23]) + "…"
	}
	return s
}

// summaryPackages is how many package changes a summary lists for one
// image: the comment says what moved most; the report has them all.
const summaryPackages = 8

// writePackageChanges lists the package changes that moved a compared
// image's size most, as the report orders them (largest first).
func writePackageChanges(ew *errWriter, r summaryRow, opts Options) {
	pd := r.packages
	ew.line("**Packages of " + mdCode(r.label) + " against " + mdCode(r.baseLabel) + "** (uncompressed: the bytes of each package's files in the final filesystem)")
	ew.line("")
	if len(pd.Changes) == 0 {
		ew.line("- no package added, removed, upgraded or resized")
	}
	for i, c := range pd.Changes {
		if i == summaryPackages {
			ew.line("- … and " + plural(len(pd.Changes)-i, "more change") + " (the report lists them all)")
			break
		}
		ew.line("- " + mdText(signedBytes(c.DeltaBytes, opts.Binary)) + " " + mdText(c.Change) + " " + mdCode(c.Name) + " " + mdCode(changeVersion(c.Change, c.OldVersion, c.NewVersion)) + " (" + mdText(c.Kind) + ")")
	}
	ew.line("- unowned files: " + mdText(signedBytes(pd.UnownedDeltaBytes, opts.Binary)))
	for _, n := range pd.Notes {
		ew.line("- ⚠️ " + mdText(n))
	}
	ew.line("")
}

// htmlText escapes text for an HTML element such as <summary>.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// writeWhy lists what made an image grow: the directories that grew, then
// the layers only it has and the steps that made them.
func writeWhy(ew *errWriter, label string, w *schema.WhyRecord, opts Options) {
	ew.line("**Why " + mdCode(label) + " grew**")
	ew.line("")
	for _, d := range w.Dirs {
		ew.line("- " + mdText(signedBytes(d.DeltaBytes, opts.Binary)) + " in " + mdCode(d.Path) + " (" + mdText(FormatBytes(d.BytesA, opts.Binary)+" → "+FormatBytes(d.BytesB, opts.Binary)) + ")")
	}
	for _, l := range w.Layers {
		size := unknownMark
		if l.Uncompressed.Bytes != nil {
			size = FormatBytes(*l.Uncompressed.Bytes, opts.Binary)
		}
		step := l.CreatedBy
		if step == "" {
			step = "(no build step recorded)"
		}
		ew.line("- layer " + mdCode(shortDigest(l.Digest)) + ", " + mdText(size) + " uncompressed, only in this build: " + mdCode(truncate(step, 120)))
	}
	if w.Note != "" {
		ew.line("- " + mdText(w.Note))
	}
	ew.line("")
}
