package config

import "github.com/imgsize/imgsize/pkg/analysis"

// DefaultWarnAt is the warn-at fraction used where none is given: a budget
// that holds is reported as near its limit within the last 10% of it.
const DefaultWarnAt = 0.9

// The keys of the settings that have no budget of their own in analysis.
// Like the budgets' names, they are the command-line flags without "--".
const (
	keyGrowthBasis = "growth-basis"
	keyWarnAt      = "warn-at"
	keyBaseline    = "baseline"
	keyImage       = "image"
	// keyPlatforms selects the platforms of a multi-platform image to
	// check, as --platform does: all, or a list.
	keyPlatforms = "platforms"
)

// settingKeys are the keys a Settings is written with, in the order error
// messages list them.
var settingKeys = []string{
	analysis.MaxCompressed, analysis.MaxUncompressed, analysis.MaxLayers,
	analysis.MaxGrowth, analysis.LowestEfficiency, analysis.HighestWastedBytes,
	analysis.HighestUserWastedPercent, analysis.MaxReclaimable,
	analysis.MaxIndexCompressed, analysis.ForbidPackage, analysis.MaxPackageBytes,
	keyGrowthBasis, keyWarnAt, keyBaseline, keyPlatforms,
}

// Settings are budgets as given in one place: the config file's defaults,
// one of its images, or the command line. A nil field was not given there
// and is inherited from a lower level.
type Settings struct {
	MaxCompressed, MaxUncompressed *int64
	MaxLayers                      *int
	MaxGrowth                      *analysis.Growth
	// The file-level budgets: dive's three CI rules and max-reclaimable.
	LowestEfficiency, HighestUserWastedPercent *float64
	HighestWastedBytes, MaxReclaimable         *int64
	// MaxIndexCompressed limits a multi-platform image as a whole (what
	// its registry stores); it needs Platforms.
	MaxIndexCompressed *int64
	// ForbidPackages are globs of package names (forbid-package);
	// MaxPackageBytes limits on the bytes of named packages
	// (max-package-bytes). Each is given, or cleared, as a whole.
	ForbidPackages  *[]string
	MaxPackageBytes *[]analysis.PackageLimit
	GrowthBasis     *analysis.Basis
	// WarnAt is a fraction as ParseFraction returns it; a pointer to 0
	// turns warnings off, which differs from nil (DefaultWarnAt).
	WarnAt *float64
	// Baseline is the image argument growth is measured against, as it
	// would be given on the command line.
	Baseline *string
	// Platforms selects the platforms of a multi-platform image to check,
	// each held to the budgets: "all", or os/arch[/variant] values joined
	// by commas, as --platform takes them (already checked).
	Platforms *string
	// Cleared names, by key ("max-growth", "baseline"), the fields given
	// as "none" here: they remove a value inherited from a lower level.
	// A field with a value here is not cleared, whatever Cleared says.
	// warn-at is never cleared: "none" there is the value 0, never warn.
	Cleared map[string]bool
}

// Over returns s with o laid over it: each field o gives a value wins, each
// field o clears is removed, and the rest keep s's state (a value, cleared,
// or unset). A clear stays a clear in the result so that layering is
// associative: a.Over(b).Over(c) equals a.Over(b.Over(c)).
func (s Settings) Over(o Settings) Settings {
	l := layering{s: s.Cleared, o: o.Cleared, out: map[string]bool{}}
	out := Settings{
		MaxCompressed:   over(&l, analysis.MaxCompressed, s.MaxCompressed, o.MaxCompressed),
		MaxUncompressed: over(&l, analysis.MaxUncompressed, s.MaxUncompressed, o.MaxUncompressed),
		MaxLayers:       over(&l, analysis.MaxLayers, s.MaxLayers, o.MaxLayers),
		MaxGrowth:       over(&l, analysis.MaxGrowth, s.MaxGrowth, o.MaxGrowth),

		LowestEfficiency:         over(&l, analysis.LowestEfficiency, s.LowestEfficiency, o.LowestEfficiency),
		HighestWastedBytes:       over(&l, analysis.HighestWastedBytes, s.HighestWastedBytes, o.HighestWastedBytes),
		HighestUserWastedPercent: over(&l, analysis.HighestUserWastedPercent, s.HighestUserWastedPercent, o.HighestUserWastedPercent),
		MaxReclaimable:           over(&l, analysis.MaxReclaimable, s.MaxReclaimable, o.MaxReclaimable),
		MaxIndexCompressed:       over(&l, analysis.MaxIndexCompressed, s.MaxIndexCompressed, o.MaxIndexCompressed),
		ForbidPackages:           over(&l, analysis.ForbidPackage, s.ForbidPackages, o.ForbidPackages),
		MaxPackageBytes:          over(&l, analysis.MaxPackageBytes, s.MaxPackageBytes, o.MaxPackageBytes),

		GrowthBasis: over(&l, keyGrowthBasis, s.GrowthBasis, o.GrowthBasis),
		WarnAt:      over(&l, keyWarnAt, s.WarnAt, o.WarnAt),
		Baseline:    over(&l, keyBaseline, s.Baseline, o.Baseline),
		Platforms:   over(&l, keyPlatforms, s.Platforms, o.Platforms),
	}
	if len(l.out) > 0 {
		out.Cleared = l.out
	}
	return out
}

// layering holds the Cleared sets of one Over: the lower level's, the upper
// level's and the result's.
type layering struct{ s, o, out map[string]bool }

// over is one field of Over: the first of o's and then s's states that is
// not unset, a value before a clear.
func over[T any](l *layering, key string, s, o *T) *T {
	switch {
	case o != nil:
		return o
	case l.o[key]:
		l.out[key] = true
		return nil
	case s != nil:
		return s
	case l.s[key]:
		l.out[key] = true
	}
	return nil
}

// Budgets turns s into the limits analysis checks. An unset growth basis
// stays empty, which analysis reads as compressed; an unset warn-at is
// DefaultWarnAt.
func (s Settings) Budgets() analysis.Budgets {
	b := analysis.Budgets{
		MaxCompressed:   s.MaxCompressed,
		MaxUncompressed: s.MaxUncompressed,
		MaxLayers:       s.MaxLayers,
		MaxGrowth:       s.MaxGrowth,
		WarnAt:          DefaultWarnAt,

		LowestEfficiency:         s.LowestEfficiency,
		HighestWastedBytes:       s.HighestWastedBytes,
		HighestUserWastedPercent: s.HighestUserWastedPercent,
		MaxReclaimable:           s.MaxReclaimable,
		MaxIndexCompressed:       s.MaxIndexCompressed,
	}
	if s.GrowthBasis != nil {
		b.GrowthBasis = *s.GrowthBasis
	}
	if s.ForbidPackages != nil {
		b.ForbidPackages = *s.ForbidPackages
	}
	if s.MaxPackageBytes != nil {
		b.MaxPackageBytes = *s.MaxPackageBytes
	}
	if s.WarnAt != nil {
		b.WarnAt = *s.WarnAt
	}
	return b
}
