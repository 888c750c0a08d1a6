package report

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// StepSummary is the JSON a CI step hands to later steps (GitHub's
// $GITHUB_OUTPUT "summary"): one entry per image checked, with its sizes,
// its growth against the baseline and the verdict. Sizes are null when not
// known, never 0.
type StepSummary struct {
	Passed bool               `json:"passed"`
	Images []StepImageSummary `json:"images"`
}

// StepImageSummary is one image of a StepSummary.
type StepImageSummary struct {
	Ref string `json:"ref"`
	// Platform is the platform judged, for one platform of a
	// multi-platform image; Index is true on the check of such an image
	// as a whole, whose Compressed is what its registry stores.
	Platform string `json:"platform,omitempty"`
	Index    bool   `json:"index,omitempty"`
	Baseline string `json:"baseline,omitempty"`
	// Compressed and Uncompressed are the image's totals in bytes; the
	// provenance says how they were obtained (see the report schema).
	Compressed             *int64 `json:"compressed"`
	CompressedProvenance   string `json:"compressedProvenance,omitempty"`
	Uncompressed           *int64 `json:"uncompressed"`
	UncompressedProvenance string `json:"uncompressedProvenance,omitempty"`
	// DeltaBytes and DeltaPercent are the growth the growth budget
	// measured (on its basis), null without a known one.
	DeltaBytes   *int64   `json:"deltaBytes"`
	DeltaPercent *float64 `json:"deltaPercent"`
	GrowthBasis  string   `json:"growthBasis,omitempty"`
	// Verdict is pass, near (passes, close to a limit), fail, or error
	// (the image or its baseline could not be read).
	Verdict string `json:"verdict"`
	// Failed names the budgets that did not hold.
	Failed []string `json:"failed"`
	Error  string   `json:"error,omitempty"`
}

// NewStepSummary condenses a check run for later CI steps.
func NewStepSummary(run *analysis.CheckRun) StepSummary {
	s := StepSummary{Passed: run.Passed(), Images: []StepImageSummary{}}
	for _, ic := range run.Images {
		e := StepImageSummary{Ref: ic.Arg, Platform: ic.Platform, Baseline: ic.BaselineArg, Failed: []string{}}
		switch {
		case ic.Image != nil:
			e.Compressed, e.CompressedProvenance = knownBytes(ic.Image.Compressed)
			e.Uncompressed, e.UncompressedProvenance = knownBytes(ic.Image.Uncompressed)
		case ic.Index != nil:
			// The index as a whole: what its registry stores, compressed.
			e.Index = true
			e.Compressed, e.CompressedProvenance = knownBytes(ic.Index.Stored)
		}
		near := false
		for _, r := range ic.Results {
			if r.Status != analysis.Pass {
				e.Failed = append(e.Failed, r.Budget)
			}
			near = near || r.Near
			if r.Budget == analysis.MaxGrowth && r.Growth != nil && r.Growth.Known {
				b, p := r.Growth.Bytes, r.Growth.Percent
				e.DeltaBytes, e.DeltaPercent, e.GrowthBasis = &b, &p, string(r.Basis)
			}
		}
		switch {
		case ic.Err != nil:
			e.Verdict, e.Error = "error", ic.Err.Error()
		case ic.BaselineErr != nil:
			e.Verdict, e.Error = "error", "baseline: "+ic.BaselineErr.Error()
		case len(e.Failed) > 0:
			e.Verdict = "fail"
		case near:
			e.Verdict = "near"
		default:
			e.Verdict = "pass"
		}
		s.Images = append(s.Images, e)
	}
	return s
}

// knownBytes is s as the report's JSON gives it: bytes, null when
// unknown, and the provenance.
func knownBytes(s layers.Size) (*int64, string) {
	r := sizeRecord(s)
	return r.Bytes, r.Provenance
}

// GitHubOutputs writes a check run as step outputs in the format of
// GitHub's $GITHUB_OUTPUT file: passed=true|false, and summary, the
// StepSummary JSON, in the file's multi-line form under a random
// delimiter that the value cannot contain.
func GitHubOutputs(w io.Writer, run *analysis.CheckRun) error {
	s := NewStepSummary(run)
	doc, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// JSON text holds no newline, so a delimiter on a line of its own
	// cannot occur in it; a random one is what GitHub documents anyway.
	delim, err := outputDelimiter(string(doc))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "passed=%t\nsummary<<%s\n%s\n%s\n", s.Passed, delim, doc, delim)
	return err
}

func outputDelimiter(value string) (string, error) {
	for {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		d := "imgsize_" + hex.EncodeToString(b[:])
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
}
