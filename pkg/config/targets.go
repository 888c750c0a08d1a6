package config

import (
	"errors"
	"fmt"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// Target is one image to check and the settings that apply to it.
type Target struct {
	Image    string
	Settings Settings
	// Where says where the settings came from, for messages.
	Where string
}

// Targets decides which images the gate checks and under which settings:
// the arguments, or else the config file's images; each with the file's
// defaults, its own entry and then flags laid over one another, in that
// order. cfg may be nil (no file). The errors, usage errors, are the
// gate's setup mistakes: nothing to check, an image with no budget, a
// growth budget without a baseline, a --baseline with no growth budget.
func Targets(cfg *File, flags Settings, args []string) ([]Target, error) {
	var out []Target
	switch {
	case len(args) > 0:
		for _, a := range args {
			t := Target{Image: a, Settings: flags, Where: "the command line"}
			if cfg != nil {
				s := cfg.Base(a)
				t.Where = cfg.Path + " defaults and the command line"
				if e, ok := cfg.Lookup(a); ok {
					s = s.Over(e.Settings)
					t.Where = fmt.Sprintf("%s:%d and the command line", cfg.Path, e.Line)
				}
				t.Settings = s.Over(flags)
			}
			out = append(out, t)
		}
	case cfg != nil && len(cfg.Images) > 0:
		for _, e := range cfg.Images {
			out = append(out, Target{
				Image:    e.Image,
				Settings: cfg.Settings(e).Over(flags),
				Where:    fmt.Sprintf("%s:%d", cfg.Path, e.Line),
			})
		}
	case cfg != nil:
		return nil, errdefs.UsageError(fmt.Errorf("no images to check: give IMAGE arguments or list images in %s", cfg.Path))
	default:
		return nil, errdefs.UsageError(errors.New("no images to check: give IMAGE arguments, or list images in imgsize.yaml (or --config)"))
	}
	growthAnywhere := false
	for _, t := range out {
		b := t.Settings.Budgets()
		if b.Empty() {
			return nil, errdefs.UsageError(fmt.Errorf("no budgets for %s (from %s): set --max-compressed, --max-uncompressed, --max-layers, --max-growth, a file-level rule or --dive-ci, or budgets in imgsize.yaml", source.Redact(t.Image), t.Where))
		}
		if b.MaxIndexCompressed != nil && t.Settings.Platforms == nil {
			return nil, errdefs.UsageError(fmt.Errorf("max-index-compressed for %s (from %s) judges a multi-platform image as a whole: it needs --platform all (or a list) or platforms: in imgsize.yaml", source.Redact(t.Image), t.Where))
		}
		if b.MaxGrowth != nil {
			growthAnywhere = true
			if t.Settings.Baseline == nil {
				return nil, errdefs.UsageError(fmt.Errorf("max-growth for %s (from %s) needs a baseline: --baseline IMAGE|REPORT.json or baseline: in imgsize.yaml", source.Redact(t.Image), t.Where))
			}
		}
	}
	if flags.Baseline != nil && !growthAnywhere {
		return nil, errdefs.UsageError(errors.New("--baseline has no effect without a growth budget (--max-growth)"))
	}
	return out, nil
}
