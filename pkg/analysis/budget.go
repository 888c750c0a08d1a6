package analysis

import (
	"fmt"

	"github.com/imgsize/imgsize/pkg/layers"
)

// The budgets an image can be held to, named as their flags are.
const (
	MaxCompressed   = "max-compressed"
	MaxUncompressed = "max-uncompressed"
	MaxLayers       = "max-layers"
	MaxGrowth       = "max-growth"
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
	// GrowthBasis is the size growth is judged on; empty means compressed,
	// what a pull transfers and a registry stores.
	GrowthBasis Basis
	// WarnAt is the fraction of a limit at or above which a budget that
	// holds is reported as near it (0.9: within 10%); 0 never warns.
	WarnAt float64
}

// Empty reports whether b checks nothing.
func (b Budgets) Empty() bool {
	return b.MaxCompressed == nil && b.MaxUncompressed == nil && b.MaxLayers == nil && b.MaxGrowth == nil
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
	// Margin is Limit − Actual: the headroom left, negative when exceeded.
	// Actual and Margin are 0 when Status is Unknown.
	Limit, Actual, Margin float64
	Status                Status
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
	if g.Percent {
		r.Actual = d.Percent
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
	// Image and Baseline are nil when they could not be read (Err).
	Image, Baseline *layers.Image
	Budgets         Budgets
	Results         []Result
	// Err is why the image or its baseline could not be read.
	Err error
}

// Passed reports whether the image was read and every budget holds.
func (c ImageCheck) Passed() bool {
	if c.Err != nil {
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
// images that could not be read.
func (c *CheckRun) Tally() (passed, failed, near, errors int) {
	for _, ic := range c.Images {
		if ic.Err != nil {
			errors++
			continue
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
