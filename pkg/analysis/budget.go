package analysis

import (
	"fmt"
	"math"
	"math/big"

	"github.com/imgsize/imgsize/pkg/layers"
)

// The budgets an image can be held to, named as their flags are.
const (
	MaxCompressed   = "max-compressed"
	MaxUncompressed = "max-uncompressed"
	MaxLayers       = "max-layers"
	MaxGrowth       = "max-growth"

	// File-level budgets: they need each layer's files read (Files).
	// The first three are dive's CI rules, with dive's definitions.
	LowestEfficiency         = "lowest-efficiency"
	HighestWastedBytes       = "highest-wasted-bytes"
	HighestUserWastedPercent = "highest-user-wasted-percent"
	MaxReclaimable           = "max-reclaimable"

	// Package budgets: they need the package databases read (Packages).
	ForbidPackage   = "forbid-package"
	MaxPackageBytes = "max-package-bytes"
)

// Basis names the size a budget measures.
type Basis string

// The sizes budgets measure.
const (
	BasisCompressed   Basis = "compressed"
	BasisUncompressed Basis = "uncompressed"
)

// Growth limits how much an image may grow against its baseline: by a
// number of bytes, or by a percentage of the baseline's size.
type Growth struct {
	// Percent says which of Bytes and Percentage is the limit.
	Percent    bool
	Bytes      int64
	Percentage float64
}

// Budgets are the limits one image is held to. A nil limit is not checked.
type Budgets struct {
	MaxCompressed   *int64
	MaxUncompressed *int64
	MaxLayers       *int
	MaxGrowth       *Growth
	// LowestEfficiency is a minimum of dive's efficiency (0 to 1);
	// HighestUserWastedPercent a maximum of dive's wasted ÷ user bytes, a
	// fraction as in dive (0.2 is 20%).
	LowestEfficiency         *float64
	HighestWastedBytes       *int64
	HighestUserWastedPercent *float64
	MaxReclaimable           *int64
	// ForbidPackages are globs (MatchGlob) of package names the image
	// must not have installed, e.g. "gcc*".
	ForbidPackages []string
	// MaxPackageBytes limit the bytes a package owns, by name.
	MaxPackageBytes []PackageLimit
	// MaxIndexCompressed limits a multi-platform image as a whole: its
	// layers.Index.Stored bytes (see CheckPlatforms). Check, which judges
	// one image, ignores it.
	MaxIndexCompressed *int64
	// GrowthBasis is the size growth is judged on; empty means compressed,
	// what a pull transfers and a registry stores.
	GrowthBasis Basis
	// WarnAt is the fraction of a limit at or above which a budget that
	// holds is reported as near it (0.9: within 10%); 0 never warns.
	WarnAt float64
}

// Empty reports whether b checks nothing.
func (b Budgets) Empty() bool {
	return b.MaxCompressed == nil && b.MaxUncompressed == nil && b.MaxLayers == nil && b.MaxGrowth == nil && b.MaxIndexCompressed == nil && !b.NeedsFiles() && !b.NeedsPackages()
}

// PackageLimit is the most bytes the packages named Name may own.
type PackageLimit struct {
	Name  string
	Bytes int64
}

// NeedsPackages reports whether a budget needs the package databases
// read (Packages), which reads every layer's contents.
func (b Budgets) NeedsPackages() bool {
	return len(b.ForbidPackages) > 0 || len(b.MaxPackageBytes) > 0
}

// NeedsFiles reports whether a budget needs the file-level analysis,
// which reads every layer's contents.
func (b Budgets) NeedsFiles() bool {
	return b.LowestEfficiency != nil || b.HighestWastedBytes != nil || b.HighestUserWastedPercent != nil || b.MaxReclaimable != nil
}

// ReadsUncompressed reports whether a budget judges uncompressed sizes
// (max-uncompressed, or growth on the uncompressed basis). The file-level
// budgets do not: they read every layer whole and count it.
func (b Budgets) ReadsUncompressed() bool {
	return b.MaxUncompressed != nil || b.MaxGrowth != nil && b.Basis() == BasisUncompressed
}

// Basis returns the growth basis, defaulting to compressed.
func (b Budgets) Basis() Basis {
	if b.GrowthBasis == "" {
		return BasisCompressed
	}
	return b.GrowthBasis
}

// Status is a budget's verdict.
type Status string

// The verdicts. Unknown counts as a failure: a gate that cannot measure
// must not let the image through.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Unknown: the figure the budget needs is not known (a docker-archive's
	// compressed size, a baseline of 0 bytes for a percentage).
	Unknown Status = "unknown"
)

// Unit is what a budget's limit and actual figure count.
type Unit string

// The units of budgets.
const (
	UnitBytes   Unit = "bytes"
	UnitLayers  Unit = "layers"
	UnitPercent Unit = "percent"
	// UnitRatio: a fraction from 0 to 1 (dive's efficiency and
	// user-wasted figures).
	UnitRatio Unit = "ratio"
	// UnitPackages: a number of packages (forbid-package).
	UnitPackages Unit = "packages"
)

// Result is one budget applied to one image.
type Result struct {
	// Budget is one of MaxCompressed, MaxUncompressed, MaxLayers, MaxGrowth.
	Budget string
	// Basis is the size measured; empty for MaxLayers.
	Basis Basis
	Unit  Unit
	// Limit and Actual are in Unit: whole numbers for bytes and layers. For
	// a growth budget Actual is the growth (negative when the image shrank).
	// Margin is the headroom left, negative when the budget is broken:
	// Limit − Actual, or Actual − Limit when Min. Actual and Margin are 0
	// when Status is Unknown.
	Limit, Actual, Margin float64
	// Min: the limit is a minimum (lowest-efficiency), not a maximum.
	Min    bool
	Status Status
	// Near is set on a budget that holds with Actual at or above
	// Budgets.WarnAt of Limit.
	Near bool
	// Provenance of Actual: how the sizes it was computed from were
	// obtained (the weaker of image and baseline for growth).
	Provenance layers.Provenance
	// Reason explains an Unknown status.
	Reason string
	// Growth is the image's size set against its baseline's, for
	// MaxGrowth.
	Growth *Delta
	// Subject is what a package budget is about: the pattern of
	// forbid-package, the package name of max-package-bytes.
	Subject string
	// Matches are the installed packages (NAME VERSION, by kind) a
	// forbid-package pattern matched.
	Matches []string
}

// CheckPackages holds a package report to b's package budgets: one result
// a forbidden pattern (Actual: how many installed packages match; its
// limit is 0) and one a package limit (Actual: the bytes the packages of
// that name own; a package not installed owns 0). Every figure is exact.
func CheckPackages(pr *PackageReport, b Budgets) []Result {
	var out []Result
	for _, g := range b.ForbidPackages {
		r := Result{Budget: ForbidPackage, Unit: UnitPackages, Subject: g, Provenance: layers.Exact}
		for _, p := range pr.Packages {
			if MatchGlob(g, p.Name) {
				r.Matches = append(r.Matches, fmt.Sprintf("%s %s (%s)", p.Name, p.Version, p.Kind))
			}
		}
		r.Actual = float64(len(r.Matches))
		out = append(out, judge(r, 0))
	}
	for _, l := range b.MaxPackageBytes {
		r := Result{Budget: MaxPackageBytes, Unit: UnitBytes, Subject: l.Name, Limit: float64(l.Bytes), Provenance: layers.Exact}
		found := false
		for _, p := range pr.Packages {
			if p.Name == l.Name {
				r.Actual += float64(p.Owned.Bytes)
				found = true
			}
		}
		r = judge(r, b.WarnAt)
		if !found {
			r.Reason = "not installed"
		}
		out = append(out, r)
	}
	return out
}

// Check holds img to b. baseline is needed only for a growth budget; without
// one that budget is Unknown.
func Check(img, baseline *layers.Image, b Budgets) []Result {
	var out []Result
	if b.MaxCompressed != nil {
		out = append(out, sizeBudget(MaxCompressed, BasisCompressed, img.Compressed, *b.MaxCompressed, b.WarnAt))
	}
	if b.MaxUncompressed != nil {
		out = append(out, sizeBudget(MaxUncompressed, BasisUncompressed, img.Uncompressed, *b.MaxUncompressed, b.WarnAt))
	}
	if b.MaxLayers != nil {
		r := Result{Budget: MaxLayers, Unit: UnitLayers, Limit: float64(*b.MaxLayers), Actual: float64(len(img.Layers)), Provenance: layers.Exact}
		out = append(out, judge(r, b.WarnAt))
	}
	if b.MaxGrowth != nil {
		out = append(out, growthBudget(img, baseline, *b.MaxGrowth, b.Basis(), b.WarnAt))
	}
	return out
}

// CheckFiles holds a file-level analysis to b's file-level budgets (the
// dive rules and max-reclaimable). Every figure is exact: it comes from
// reading each layer's entries.
func CheckFiles(fr *FileReport, b Budgets) []Result {
	var out []Result
	d := fr.Dive
	if b.LowestEfficiency != nil {
		r := Result{Budget: LowestEfficiency, Unit: UnitRatio, Min: true, Limit: *b.LowestEfficiency, Actual: d.Efficiency, Provenance: layers.Exact}
		out = append(out, judgeMin(r))
	}
	if b.HighestWastedBytes != nil {
		r := Result{Budget: HighestWastedBytes, Unit: UnitBytes, Limit: float64(*b.HighestWastedBytes), Actual: float64(d.WastedBytes), Provenance: layers.Exact}
		out = append(out, judge(r, b.WarnAt))
	}
	if b.HighestUserWastedPercent != nil {
		r := Result{Budget: HighestUserWastedPercent, Unit: UnitRatio, Limit: *b.HighestUserWastedPercent, Provenance: layers.Exact}
		if d.UserSizeBytes == 0 {
			// dive's ratio is 0/0 here, NaN, which no threshold exceeds:
			// dive passes the rule, and a .dive-ci must judge as dive does.
			r.Status = Pass
			r.Reason = "no bytes above the first layer, so none wasted relative to them (dive passes this rule too)"
			r.Margin = r.Limit
		} else {
			r.Actual = d.UserWastedPercent
			r = judge(r, b.WarnAt)
		}
		out = append(out, r)
	}
	if b.MaxReclaimable != nil {
		r := Result{Budget: MaxReclaimable, Unit: UnitBytes, Limit: float64(*b.MaxReclaimable), Actual: float64(fr.Reclaimable), Provenance: layers.Exact}
		out = append(out, judge(r, b.WarnAt))
	}
	return out
}

// judgeMin sets the verdict of a result whose limit is a minimum. It is
// never near: how close to a floor is worth a warning has no natural
// fraction.
func judgeMin(r Result) Result {
	r.Margin = r.Actual - r.Limit
	r.Status = Pass
	if r.Actual < r.Limit {
		r.Status = Fail
	}
	return r
}

func sizeBudget(name string, basis Basis, s layers.Size, limit int64, warnAt float64) Result {
	r := Result{Budget: name, Basis: basis, Unit: UnitBytes, Limit: float64(limit), Provenance: s.Provenance}
	if !s.Known() {
		r.Status, r.Provenance = Unknown, layers.Unknown
		r.Reason = fmt.Sprintf("the %s size is not known", basis)
		if s.Reason != "" {
			r.Reason += ": " + s.Reason
		}
		return r
	}
	r.Actual = float64(s.Bytes)
	return judge(r, warnAt)
}

func growthBudget(img, baseline *layers.Image, g Growth, basis Basis, warnAt float64) Result {
	r := Result{Budget: MaxGrowth, Basis: basis, Unit: UnitBytes, Limit: float64(g.Bytes)}
	if g.Percent {
		r.Unit, r.Limit = UnitPercent, g.Percentage
	}
	if baseline == nil {
		r.Status, r.Provenance, r.Reason = Unknown, layers.Unknown, "no baseline to measure growth against"
		return r
	}
	base, value := baseline.Compressed, img.Compressed
	if basis == BasisUncompressed {
		base, value = baseline.Uncompressed, img.Uncompressed
	}
	d := NewDelta(base, value)
	r.Growth = &d
	switch {
	case !base.Known():
		r.Status, r.Provenance = Unknown, layers.Unknown
		r.Reason = unknownReason("the baseline's", basis, base)
		return r
	case !value.Known():
		r.Status, r.Provenance = Unknown, layers.Unknown
		r.Reason = unknownReason("the image's", basis, value)
		return r
	case g.Percent && base.Bytes == 0:
		r.Status, r.Provenance = Unknown, layers.Unknown
		r.Reason = "the baseline's size is 0 bytes; growth in percent of it is undefined"
		return r
	}
	r.Provenance = layers.Total([]layers.Size{base, value}).Provenance
	r.Actual = float64(d.Bytes)
	if !g.Percent {
		return judge(r, warnAt)
	}
	// Growth in percent is a quotient, and float division can put a
	// growth exactly at the limit a hair above it (7/100 gives
	// 7.000000000000001): the verdict compares exact rationals.
	growth := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(d.Bytes), big.NewInt(100)), big.NewInt(base.Bytes))
	limit := new(big.Rat).SetFloat64(g.Percentage)
	r.Actual = d.Percent
	switch growth.Cmp(limit) {
	case 0:
		r.Actual = r.Limit
	case 1:
		if r.Actual <= r.Limit {
			r.Actual = math.Nextafter(r.Limit, math.Inf(1))
		}
	case -1:
		if r.Actual >= r.Limit {
			r.Actual = math.Nextafter(r.Limit, math.Inf(-1))
		}
	}
	return judge(r, warnAt)
}

func unknownReason(whose string, basis Basis, s layers.Size) string {
	msg := fmt.Sprintf("%s %s size is not known", whose, basis)
	if s.Reason != "" {
		msg += ": " + s.Reason
	}
	return msg
}

// judge sets the verdict of a result whose Actual is known. A limit is
// inclusive: an image exactly at its budget passes.
func judge(r Result, warnAt float64) Result {
	r.Margin = r.Limit - r.Actual
	r.Status = Pass
	if r.Actual > r.Limit {
		r.Status = Fail
		return r
	}
	r.Near = warnAt > 0 && r.Limit > 0 && r.Actual >= warnAt*r.Limit
	return r
}

// ImageCheck is one image held to its budgets.
type ImageCheck struct {
	// Arg names the image as the user gave it; BaselineArg its baseline.
	Arg, BaselineArg string
	// Platform names the platform judged (layers.PlatformKey) when the
	// image is one platform of a multi-platform image checked platform by
	// platform (CheckPlatforms); empty otherwise.
	Platform string
	// Image and Baseline are nil when they could not be read (Err).
	Image, Baseline *layers.Image
	// Index is set on the check of a multi-platform image as a whole
	// (MaxIndexCompressed): Image is then nil, and Results judge
	// Index.Stored.
	Index   *layers.Index
	Budgets Budgets
	Results []Result
	// Err is why the image could not be read: nothing was checked.
	Err error
	// BaselineErr is why the baseline could not be read: the growth
	// budget is unknown, the others are checked.
	BaselineErr error
	// Why explains a failed growth budget, when the caller looked (Why).
	Why *GrowthWhy
	// Packages is the package report the package budgets judge; nil
	// when none applies.
	Packages *PackageReport
}

// GrowthFailed reports whether the growth budget failed on a measured
// figure: the case a why can explain.
func (c ImageCheck) GrowthFailed() bool {
	for _, r := range c.Results {
		if r.Budget == MaxGrowth && r.Status == Fail {
			return true
		}
	}
	return false
}

// Judge holds the image to its budgets, the file-level ones with fr (nil
// when none applies). An unreadable baseline leaves growth unknown and
// says why.
func (c *ImageCheck) Judge(fr *FileReport) {
	c.Results = Check(c.Image, c.Baseline, c.Budgets)
	if fr != nil {
		c.Results = append(c.Results, CheckFiles(fr, c.Budgets)...)
	}
	if c.Packages != nil {
		c.Results = append(c.Results, CheckPackages(c.Packages, c.Budgets)...)
	}
	if c.BaselineErr == nil {
		return
	}
	for i := range c.Results {
		if c.Results[i].Budget == MaxGrowth {
			c.Results[i].Reason = "the baseline could not be read: " + c.BaselineErr.Error()
		}
	}
}

// Passed reports whether the image was read and every budget holds.
func (c ImageCheck) Passed() bool {
	if c.Err != nil || c.BaselineErr != nil {
		return false
	}
	for _, r := range c.Results {
		if r.Status != Pass {
			return false
		}
	}
	return true
}

// CheckRun is the gate's outcome over all images.
type CheckRun struct {
	Images []ImageCheck
}

// Tally counts budgets by outcome: failed includes Unknown; errors counts
// images, and baselines, that could not be read.
func (c *CheckRun) Tally() (passed, failed, near, errors int) {
	for _, ic := range c.Images {
		if ic.Err != nil {
			errors++
			continue
		}
		if ic.BaselineErr != nil {
			errors++
		}
		for _, r := range ic.Results {
			switch {
			case r.Status != Pass:
				failed++
			case r.Near:
				near++
				passed++
			default:
				passed++
			}
		}
	}
	return passed, failed, near, errors
}

// Passed reports whether every image was read and held to all its budgets.
func (c *CheckRun) Passed() bool {
	for _, ic := range c.Images {
		if !ic.Passed() {
			return false
		}
	}
	return true
}
