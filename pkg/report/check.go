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
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Check writes the gate's outcome in opts.Format (table, json, markdown,
// csv): one row per image and budget with its limit, the measured figure,
// the margin left and the verdict, a row for each image that could not be
// read, and a one-line summary that ends with whether the gate passed.
//
// UNKNOWN is a failure: a budget whose figure cannot be known does not let
// the image through. An image that could not be read is counted apart from
// the budgets, which were not checked.
func Check(w io.Writer, run *analysis.CheckRun, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	if err := validRun(run); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, checkDocument(run, opts))
	case HTML:
		return writeHTML(w, checkDocument(run, opts))
	case CSV:
		return checkCSV(w, run)
	case Markdown:
		return checkMarkdown(w, run, opts)
	default:
		return checkText(w, run, opts)
	}
}

// validRun rejects what no renderer could report honestly: an image with
// neither figures nor a reason it has none.
func validRun(run *analysis.CheckRun) error {
	if run == nil {
		return errors.New("check report: no check run")
	}
	for i, ic := range run.Images {
		if ic.Err == nil && ic.Image == nil && ic.Index == nil {
			return fmt.Errorf("check report: image %d (%s) has neither an image nor an error", i, ic.Arg)
		}
	}
	return nil
}

// checkedResults are the results that count: none for an image that could
// not be read, as analysis.CheckRun.Tally counts them, so every format's
// figures add up to the same totals.
func checkedResults(ic analysis.ImageCheck) []analysis.Result {
	if ic.Err != nil {
		return nil
	}
	return ic.Results
}

// checkLabel names the image checked, with the platform when it is one
// platform of a multi-platform image, or "[index]" on the check of such
// an image as a whole.
func checkLabel(ic analysis.ImageCheck) string {
	var label string
	switch {
	case ic.Arg != "":
		label = ic.Arg
	case ic.Image != nil:
		label = imageLabel(ic.Image)
	case ic.Index != nil:
		label = indexLabel(ic.Index)
	default:
		label = "(unnamed image)"
	}
	switch {
	case ic.Platform != "":
		label += " [" + ic.Platform + "]"
	case ic.Index != nil:
		label += " [index]"
	}
	return label
}

func baselineLabel(ic analysis.ImageCheck) string {
	switch {
	case ic.BaselineArg != "":
		return ic.BaselineArg
	case ic.Baseline != nil:
		return imageLabel(ic.Baseline)
	default:
		return ""
	}
}

// budgetLabel names a budget and, for growth, what it is measured on and
// against, since "max-growth" alone does not say.
func budgetLabel(ic analysis.ImageCheck, r analysis.Result) string {
	if r.Subject != "" {
		return r.Budget + " " + r.Subject
	}
	if r.Budget != analysis.MaxGrowth {
		return r.Budget
	}
	vs := "no baseline"
	if b := baselineLabel(ic); b != "" {
		vs = "vs " + b
	}
	return fmt.Sprintf("%s (%s, %s)", r.Budget, r.Basis, vs)
}

// measure is what a result's Actual measures, for messages and the legend:
// "compressed size", "uncompressed growth", "layer count".
func measure(r analysis.Result) string {
	switch {
	case r.Budget == analysis.LowestEfficiency:
		return "dive efficiency"
	case r.Budget == analysis.HighestWastedBytes:
		return "dive wasted bytes"
	case r.Budget == analysis.HighestUserWastedPercent:
		return "dive wasted ÷ user bytes"
	case r.Budget == analysis.MaxReclaimable:
		return "reclaimable bytes"
	case r.Budget == analysis.MaxIndexCompressed:
		return "index stored size"
	case r.Budget == analysis.ForbidPackage:
		return "installed packages matching " + r.Subject
	case r.Budget == analysis.MaxPackageBytes:
		return "bytes of package " + r.Subject
	case r.Unit == analysis.UnitLayers:
		return "layer count"
	case r.Budget == analysis.MaxGrowth:
		return string(r.Basis) + " growth"
	default:
		return string(r.Basis) + " size"
	}
}

// resultSize is the provenance of a result's Actual with the reason the
// sizes it came from give, so the legend can say why a figure is derived.
func resultSize(ic analysis.ImageCheck, r analysis.Result) layers.Size {
	s := layers.Size{Provenance: r.Provenance}
	var from layers.Size
	switch {
	case r.Budget == analysis.MaxGrowth && r.Growth != nil:
		from = combine(r.Growth.Base, r.Growth.Value)
	case r.Budget == analysis.MaxIndexCompressed && ic.Index != nil:
		from = ic.Index.Stored
	case ic.Image == nil || r.Unit != analysis.UnitBytes:
	case r.Basis == analysis.BasisCompressed:
		from = ic.Image.Compressed
	case r.Basis == analysis.BasisUncompressed:
		from = ic.Image.Uncompressed
	}
	if from.Provenance == s.Provenance {
		s.Reason = from.Reason
	}
	return s
}

// figures are a result's limit, actual and margin in words, without marks.
type figures struct {
	limit, actual, margin string
	known                 bool
}

func resultFigures(r analysis.Result, binary bool) figures {
	f := figures{known: r.Status == analysis.Pass || r.Status == analysis.Fail}
	d := percentDecimals(r)
	switch r.Unit {
	case analysis.UnitPercent:
		f.limit = trimPercent(r.Limit)
	case analysis.UnitLayers, analysis.UnitPackages:
		f.limit = wholeNumber(r.Limit)
	case analysis.UnitRatio:
		f.limit = strconv.FormatFloat(r.Limit, 'f', -1, 64)
	default:
		f.limit = FormatBytes(wholeBytes(r.Limit), binary)
	}
	if r.Min {
		f.limit = "≥ " + f.limit
	}
	if !f.known {
		return f
	}
	switch {
	case r.Unit == analysis.UnitRatio:
		// dive prints these ratios raw; four decimals tell 0.9844 from 0.98.
		f.actual, f.margin = ratio(r.Actual), ratio(r.Margin)
	case r.Unit == analysis.UnitPercent:
		f.actual = signedPercent(r.Actual, d)
		if r.Growth != nil && r.Growth.Known {
			f.actual += " (" + signedBytes(r.Growth.Bytes, binary) + ")"
		}
		f.margin = strconv.FormatFloat(r.Margin, 'f', d, 64) + "%"
	case r.Unit == analysis.UnitLayers:
		f.actual, f.margin = wholeNumber(r.Actual), wholeNumber(r.Margin)
	case r.Unit == analysis.UnitPackages:
		f.actual, f.margin = wholeNumber(r.Actual), wholeNumber(r.Margin)
		if len(r.Matches) > 0 {
			f.actual += " (" + strings.Join(r.Matches, ", ") + ")"
		}
	case r.Budget == analysis.MaxGrowth && r.Growth != nil && r.Growth.Known:
		g := r.Growth
		f.actual = formatDelta(g.Bytes, g.Percent, g.Base.Bytes == 0, binary)
		f.margin = FormatBytes(wholeBytes(r.Margin), binary)
	default:
		f.actual = FormatBytes(wholeBytes(r.Actual), binary)
		f.margin = FormatBytes(wholeBytes(r.Margin), binary)
	}
	return f
}

func wholeBytes(v float64) int64 { return int64(math.Round(v)) }

func ratio(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func wholeNumber(v float64) string { return strconv.FormatInt(int64(math.Round(v)), 10) }

// trimPercent prints a limit as it was most likely given: "5%", "2.5%".
func trimPercent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

func signedPercent(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if v > 0 {
		s = "+" + s
	}
	return s + "%"
}

// percentDecimals is the fewest decimals (at least one) with which a
// percentage budget's figures tell the truth: an actual over its limit
// does not print equal to it, and a growth or margin that is not 0 does
// not print as 0 — a FAIL next to "+5.0%" of a "5%" limit would look wrong.
func percentDecimals(r analysis.Result) int {
	const most = 6
	shows := func(v float64, d int) float64 {
		p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', d, 64), 64)
		return p
	}
	for d := 1; d < most; d++ {
		if (r.Actual == r.Limit) == (shows(r.Actual, d) == shows(r.Limit, d)) &&
			(r.Actual == 0) == (shows(r.Actual, d) == 0) &&
			(r.Margin == 0) == (shows(r.Margin, d) == 0) {
			return d
		}
	}
	return most
}

// verdict is a result's RESULT cell: unknown says why, because a reader
// cannot act on UNKNOWN alone.
func verdict(r analysis.Result) string {
	switch {
	case r.Status == analysis.Pass && r.Near:
		return "pass (near limit)"
	case r.Status == analysis.Pass:
		return "pass"
	case r.Status == analysis.Fail:
		return "FAIL"
	case r.Reason != "":
		return "UNKNOWN: " + r.Reason
	default:
		return "UNKNOWN"
	}
}

// outcome is a row's verdict kind, for the Markdown status emoji.
type outcome int

const (
	outcomePass outcome = iota
	outcomeNear
	outcomeFail
	// outcomeNone: nothing was checked, which is neither pass nor fail.
	outcomeNone
)

func resultOutcome(r analysis.Result) outcome {
	switch {
	case r.Status != analysis.Pass:
		return outcomeFail
	case r.Near:
		return outcomeNear
	default:
		return outcomePass
	}
}

// checkRow is one line of the table: cells and the verdict kind.
type checkRow struct {
	cells   []string
	outcome outcome
}

// checkView is what the table and Markdown formats show of a run.
type checkView struct {
	rows    []checkRow
	notes   []string
	legend  []string
	summary string
	passed  bool
}

var checkColumns = []column{
	{header: "IMAGE"},
	{header: "BUDGET"},
	{header: "LIMIT", align: right},
	{header: "ACTUAL", align: right},
	{header: "MARGIN", align: right},
	{header: "RESULT"},
}

func newCheckView(run *analysis.CheckRun, opts Options) checkView {
	var lg legend
	v := checkView{passed: run.Passed(), summary: checkSummary(run)}
	var unknown, anyRow, anyMin bool
	bases := map[analysis.Basis]bool{}
	var warnAts []float64
	for _, ic := range run.Images {
		label := checkLabel(ic)
		if ic.Err != nil {
			v.rows = append(v.rows, checkRow{
				cells:   []string{label, "read image", "", "", "", "ERROR: " + ic.Err.Error()},
				outcome: outcomeFail,
			})
			continue
		}
		if len(ic.Results) == 0 {
			v.rows = append(v.rows, checkRow{cells: []string{label, "no budgets", "", "", "", "nothing checked"}, outcome: outcomeNone})
			continue
		}
		for _, r := range ic.Results {
			anyRow = true
			f := resultFigures(r, opts.Binary)
			actual, margin := unknownMark, unknownMark
			if f.known {
				mark := lg.note(resultSize(ic, r), measure(r))
				actual, margin = mark+f.actual, mark+f.margin
			} else {
				unknown = true
			}
			if r.Budget == analysis.MaxGrowth {
				bases[r.Basis] = true
			}
			if r.Near && !slices.Contains(warnAts, ic.Budgets.WarnAt) {
				warnAts = append(warnAts, ic.Budgets.WarnAt)
			}
			anyMin = anyMin || r.Min
			v.rows = append(v.rows, checkRow{
				cells:   []string{label, budgetLabel(ic, r), f.limit, actual, margin, verdict(r)},
				outcome: resultOutcome(r),
			})
		}
	}
	if anyRow {
		v.notes = append(v.notes, "MARGIN: limit − actual, the headroom left; negative when the budget is exceeded.")
	}
	if anyMin {
		v.notes = append(v.notes, "≥: a minimum (dive's lowestEfficiency); its MARGIN is actual − limit.")
	}
	switch {
	case bases[analysis.BasisCompressed] && bases[analysis.BasisUncompressed]:
		v.notes = append(v.notes, "Growth is judged on the size its BUDGET cell names: compressed (what a pull transfers and a registry stores) unless --growth-basis uncompressed.")
	case bases[analysis.BasisCompressed]:
		v.notes = append(v.notes, "Growth is judged on compressed size: what a pull transfers and a registry stores (--growth-basis uncompressed judges the unpacked size).")
	case bases[analysis.BasisUncompressed]:
		v.notes = append(v.notes, "Growth is judged on uncompressed size: the layers' unpacked tar streams (--growth-basis).")
	}
	if len(warnAts) > 0 {
		v.notes = append(v.notes, "near limit: the budget holds with its actual figure at or above "+fractions(warnAts)+" of the limit.")
	}
	for _, ic := range run.Images {
		if n := countedNote(ic); n != "" {
			v.notes = append(v.notes, n)
		}
	}
	v.legend = lg.Lines()
	if unknown {
		v.legend = append(v.legend, unknownMark+" not known; the RESULT column says why, and the gate counts UNKNOWN as a failure")
	}
	return v
}

// fractions prints warning thresholds as percentages: "90%", "80% or 90%".
func fractions(fs []float64) string {
	s := slices.Clone(fs)
	slices.Sort(s)
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = trimPercent(math.Round(f*1e6) / 1e4)
	}
	return strings.Join(parts, " or ")
}

// checkSummary is the run in one line: counts that add up, and the verdict
// spelled out last, where a CI log's tail shows it.
func checkSummary(run *analysis.CheckRun) string {
	passed, failed, near, unreadable := run.Tally()
	unknown := 0
	for _, ic := range run.Images {
		for _, r := range checkedResults(ic) {
			if r.Status != analysis.Pass && r.Status != analysis.Fail {
				unknown++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: %d pass", plural(len(run.Images), "image"), plural(passed+failed, "budget"), passed)
	if near > 0 {
		fmt.Fprintf(&b, " (%d near its limit)", near)
	}
	fmt.Fprintf(&b, ", %d FAIL", failed)
	if unknown > 0 {
		fmt.Fprintf(&b, " (%d UNKNOWN)", unknown)
	}
	fmt.Fprintf(&b, ", %d unreadable", unreadable)
	if run.Passed() {
		b.WriteString(" — gate passed")
	} else {
		b.WriteString(" — gate FAILED")
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (v *checkView) grid(emoji bool) grid {
	g := grid{columns: checkColumns}
	if emoji {
		g.columns = slices.Clone(checkColumns)
		g.columns[0].code = true
	}
	for _, r := range v.rows {
		cells := slices.Clone(r.cells)
		if emoji {
			cells[5] = [...]string{"✅ ", "⚠️ ", "❌ ", ""}[r.outcome] + cells[5]
		}
		g.add(cells...)
	}
	return g
}

func checkText(w io.Writer, run *analysis.CheckRun, opts Options) error {
	v := newCheckView(run, opts)
	ew := textWriter(w, opts)
	if len(v.rows) > 0 {
		g := v.grid(false)
		ew.grid(&g)
		ew.line("")
	}
	ew.legend(v.notes)
	ew.legend(v.legend)
	if len(v.notes)+len(v.legend) > 0 {
		ew.line("")
	}
	ew.line(v.summary)
	return ew.err
}

func checkMarkdown(w io.Writer, run *analysis.CheckRun, opts Options) error {
	v := newCheckView(run, opts)
	ew := &errWriter{w: w}
	_, _, near, _ := run.Tally()
	switch {
	case v.passed && near > 0:
		ew.line("## ⚠️ Image size check passed, " + plural(near, "budget") + " near the limit")
	case v.passed:
		ew.line("## ✅ Image size check passed")
	default:
		ew.line("## ❌ Image size check failed")
	}
	ew.line("")
	// The verdict's counts first: a pull request comment is read from the
	// top.
	ew.line("**" + mdText(v.summary) + "**")
	if len(v.rows) > 0 {
		ew.line("")
		g := v.grid(true)
		ew.markdown(&g)
	}
	var names []string
	var sizes []*int64
	for _, ic := range run.Images {
		switch {
		case ic.Image != nil:
			names, sizes = append(names, checkLabel(ic)), append(sizes, sizeRecord(ic.Image.Compressed).Bytes)
		case ic.Index != nil:
			names, sizes = append(names, checkLabel(ic)), append(sizes, sizeRecord(ic.Index.Stored).Bytes)
		}
	}
	if chart := sizeChart("Compressed size (MB)", names, sizes); chart != nil {
		ew.line("")
		for _, l := range chart {
			ew.line(l)
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

// checkHeader is the CSV header of a check report: one row per image and
// budget, and one per image that could not be read (status "error", no
// budget). limit, actual and margin are in unit: integers for bytes and
// layers, a decimal number of percent (5 for 5%) for percent; actual is the
// growth for max-growth. An unknown figure is an empty cell.
// growth_bytes and growth_percent are the image's size against its
// baseline's on basis (growth_percent empty when the baseline is 0 bytes).
var checkHeader = []string{
	"image", "baseline", "budget", "basis", "unit",
	"limit", "actual", "margin", "status", "near", "provenance", "reason",
	"growth_bytes", "growth_percent", "warn_at", "error", "platform",
}

func checkCSV(w io.Writer, run *analysis.CheckRun) error {
	cw := newCSVWriter(w)
	if err := cw.Write(checkHeader); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, ic := range run.Images {
		label, base, warnAt := checkLabel(ic), baselineLabel(ic), num(ic.Budgets.WarnAt)
		platform := ic.Platform
		if platform == "" && ic.Image != nil {
			platform = platformString(ic.Image.Platform)
		}
		if ic.Err != nil {
			err := cw.Write([]string{label, base, "", "", "", "", "", "", "error", "", "", "", "", "", warnAt, ic.Err.Error(), platform})
			if err != nil {
				return fmt.Errorf("writing CSV report: %w", err)
			}
			continue
		}
		for _, r := range ic.Results {
			known := r.Status == analysis.Pass || r.Status == analysis.Fail
			actual, margin := "", ""
			if known {
				actual, margin = num(r.Actual), num(r.Margin)
			}
			growthBytes, growthPercent := "", ""
			if g := r.Growth; g != nil && g.Known {
				growthBytes = strconv.FormatInt(g.Bytes, 10)
				if g.Base.Bytes != 0 {
					growthPercent = num(g.Percent)
				}
			}
			rowBase := ""
			if r.Budget == analysis.MaxGrowth {
				rowBase = base
			}
			prov := string(r.Provenance)
			if prov == "" || !known {
				prov = string(layers.Unknown)
			}
			err := cw.Write([]string{
				label, rowBase, r.Budget, string(r.Basis), string(r.Unit),
				num(r.Limit), actual, margin, string(r.Status), strconv.FormatBool(r.Near), prov, r.Reason,
				growthBytes, growthPercent, warnAt, "", platform,
			})
			if err != nil {
				return fmt.Errorf("writing CSV report: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	return nil
}

// checkDocument lists each image that was read, in the run's order, then
// each baseline not already listed; results point at them by index. All
// images are indexed before any baseline, so baselines come last as
// schema.Document says; a baseline shared by several images (one
// *layers.Image) is listed once.
func checkDocument(run *analysis.CheckRun, opts Options) *schema.Document {
	d := newDocument(schema.KindCheck, opts)
	d.Images = []schema.ImageRecord{}
	index := map[*layers.Image]int{}
	imageIndex := make([]*int, len(run.Images))
	for i, ic := range run.Images {
		if ic.Image == nil {
			continue
		}
		n := len(d.Images)
		imageIndex[i] = &n
		if _, ok := index[ic.Image]; !ok {
			index[ic.Image] = n
		}
		d.Images = append(d.Images, imageRecord(ic.Image))
	}
	passed, failed, near, unreadable := run.Tally()
	c := &schema.CheckRecord{
		Passed:  run.Passed(),
		Budgets: passed + failed,
		Failed:  failed,
		Near:    near,
		Errors:  unreadable,
		Results: make([]schema.ImageCheckRecord, 0, len(run.Images)),
	}
	for i, ic := range run.Images {
		rec := schema.ImageCheckRecord{
			Ref:         checkLabel(ic),
			Image:       imageIndex[i],
			BaselineRef: ic.BaselineArg,
			WarnAt:      ic.Budgets.WarnAt,
			Passed:      ic.Passed(),
			Budgets:     []schema.BudgetRecord{},
			Platform:    ic.Platform,
		}
		if ic.Index != nil {
			n := len(d.Indexes)
			d.Indexes = append(d.Indexes, indexRecord(d, ic.Index, index))
			rec.Index = &n
		}
		if ic.Baseline != nil {
			n, ok := index[ic.Baseline]
			if !ok {
				n = len(d.Images)
				index[ic.Baseline] = n
				d.Images = append(d.Images, imageRecord(ic.Baseline))
			}
			rec.Baseline = &n
			if rec.BaselineRef == "" {
				rec.BaselineRef = imageLabel(ic.Baseline)
			}
		}
		if ic.Budgets.MaxGrowth != nil {
			rec.GrowthBasis = string(ic.Budgets.Basis())
		}
		if ic.Err != nil {
			rec.Error = ic.Err.Error()
		}
		for _, r := range checkedResults(ic) {
			rec.Budgets = append(rec.Budgets, budgetRecord(r))
		}
		rec.Why = whyRecord(ic.Why)
		c.Results = append(c.Results, rec)
	}
	d.Check = c
	return d
}

func budgetRecord(r analysis.Result) schema.BudgetRecord {
	rec := schema.BudgetRecord{
		Budget:     r.Budget,
		Basis:      string(r.Basis),
		Unit:       string(r.Unit),
		Limit:      r.Limit,
		Min:        r.Min,
		Status:     string(r.Status),
		Near:       r.Near,
		Provenance: string(r.Provenance),
		Reason:     r.Reason,
	}
	if r.Status == analysis.Pass || r.Status == analysis.Fail {
		actual, margin := r.Actual, r.Margin
		rec.Actual, rec.Margin = &actual, &margin
	} else {
		rec.Status, rec.Provenance = schema.StatusUnknown, string(layers.Unknown)
	}
	if rec.Provenance == "" {
		rec.Provenance = string(layers.Unknown)
	}
	if r.Growth != nil {
		rec.Growth = deltaRecord(*r.Growth)
	}
	rec.Subject = r.Subject
	rec.Matches = slices.Clone(r.Matches)
	return rec
}

// budgetMessage says in one line what a result found and by how much, for
// a CI annotation or a JUnit failure: "compressed size 71.2 MB exceeds the
// 50.0 MB budget by 21.2 MB". A figure not read exactly says how it was
// obtained, since a message has no legend.
func budgetMessage(ic analysis.ImageCheck, r analysis.Result, binary bool) string {
	f := resultFigures(r, binary)
	if !f.known {
		msg := r.Budget + " could not be judged"
		if r.Reason != "" {
			msg += ": " + r.Reason
		}
		return msg + "; the gate counts this as a failure"
	}
	what := measure(r) + " " + f.actual
	if r.Budget == analysis.MaxGrowth {
		if b := baselineLabel(ic); b != "" {
			what += " against " + b
		}
	}
	budget := "the " + f.limit + " budget"
	if r.Unit == analysis.UnitLayers {
		budget = "the budget of " + plural(int(math.Round(r.Limit)), "layer")
	}
	if r.Budget == analysis.ForbidPackage {
		if r.Status == analysis.Fail {
			return "forbidden packages installed (" + r.Subject + "): " + strings.Join(r.Matches, ", ")
		}
		return "no installed package matches " + r.Subject
	}
	var msg string
	switch {
	case r.Min && r.Status == analysis.Fail:
		msg = what + " is below the minimum of " + strings.TrimPrefix(f.limit, "≥ ") + " by " + overshoot(r, binary)
	case r.Min:
		msg = what + " is at or above the minimum of " + strings.TrimPrefix(f.limit, "≥ ")
	case r.Status == analysis.Fail:
		msg = what + " exceeds " + budget + " by " + overshoot(r, binary)
	case r.Margin == 0:
		msg = what + " is exactly at " + budget
	case r.Near:
		msg = what + " is within " + f.margin + " of " + budget
	default:
		msg = what + " is within " + budget + " by " + f.margin
	}
	if r.Provenance != layers.Exact && r.Provenance != "" {
		msg += " (provenance: " + string(r.Provenance) + ")"
	}
	return msg
}

// overshoot is how far a result's actual figure is over its limit.
func overshoot(r analysis.Result, binary bool) string {
	switch r.Unit {
	case analysis.UnitPercent:
		return strconv.FormatFloat(-r.Margin, 'f', percentDecimals(r), 64) + "%"
	case analysis.UnitLayers, analysis.UnitPackages:
		return wholeNumber(-r.Margin)
	case analysis.UnitRatio:
		return ratio(-r.Margin)
	default:
		return FormatBytes(wholeBytes(-r.Margin), binary)
	}
}

// countedNote lists, for an image held to a budget on uncompressed size,
// the layers whose uncompressed figure was counted by reading them where
// a cheaper figure was refused, and why (the gate's "counted: a gzip
// trailer is the size mod 4 GiB…", a zstd layer, …): the figure is exact,
// and the reader sees what it cost. Empty when there are none.
func countedNote(ic analysis.ImageCheck) string {
	if ic.Image == nil || !ic.Budgets.ReadsUncompressed() {
		return ""
	}
	var parts []string
	for _, l := range ic.Image.Layers {
		if u := l.Uncompressed; u.Provenance == layers.Exact && u.Reason != "" {
			parts = append(parts, shortDigest(l.Digest.String())+" ("+u.Reason+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return checkLabel(ic) + ": layers read and counted: " + strings.Join(parts, "; ") + "."
}

func whyRecord(w *analysis.GrowthWhy) *schema.WhyRecord {
	if w == nil {
		return nil
	}
	rec := &schema.WhyRecord{Layers: []schema.WhyLayerRecord{}, Note: w.Note}
	for _, l := range w.Layers {
		rec.Layers = append(rec.Layers, schema.WhyLayerRecord{
			Digest: hashString(l.Digest), CreatedBy: l.CreatedBy,
			Compressed: sizeRecord(l.Compressed), Uncompressed: sizeRecord(l.Uncompressed),
		})
	}
	for _, d := range w.Dirs {
		rec.Dirs = append(rec.Dirs, schema.WhyDirRecord{Path: d.Path, BytesA: d.BytesA, BytesB: d.BytesB, DeltaBytes: d.Delta})
	}
	return rec
}
