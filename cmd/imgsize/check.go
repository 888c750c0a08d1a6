package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/config"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/source"
)

// errBudget marks a gate that did not pass (exit 1).
var errBudget = errors.New("budget exceeded")

type checkOptions struct {
	maxCompressed, maxUncompressed string
	maxLayers                      string
	maxGrowth, baseline            string
	growthBasis, warnAt            string
	config, junit, diveCI          string
	metrics                        string

	maxIndexCompressed              string
	lowestEfficiency, highestWasted string
	highestUserWasted, reclaimable  string

	forbidPackage   string
	maxPackageBytes []string

	trustGzipTrailer bool
	whyLimit         string
}

func newCheckCmd(g *globalOptions) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [IMAGE...]",
		Short: "Fail when an image exceeds its size budgets (the CI gate)",
		Long: `Hold each image to size budgets and exit 1 when any is exceeded: absolute
limits on compressed size, uncompressed size and layer count, and growth
against a baseline (an image, or a JSON report saved by an earlier run).

Budgets come from flags, which apply to every image, or from a config file
(imgsize.yaml in the current directory, or --config) giving defaults and
per-image budgets and baselines; flags win over the file. Without IMAGE
arguments, the images listed in the config file are checked.

Growth is judged on compressed size (what a pull transfers and a registry
stores) unless --growth-basis uncompressed. A budget whose figure cannot be
known (the compressed size of a docker-archive, a percentage of a 0-byte
baseline) fails: a gate must not pass what it cannot measure. For the same
reason, when a budget reads uncompressed sizes, a registry layer's gzip
trailer is not trusted once the layer is large enough (over about 4.16 MB)
to hold 4 GiB, which the trailer cannot state: such layers are read and
counted, and the report lists them (--trust-gzip-trailer skips this).

When GITHUB_ACTIONS=true, failures and near misses are also written as
::error and ::warning annotations (to stderr) and the Markdown report is
appended to $GITHUB_STEP_SUMMARY. --junit writes JUnit XML, which GitLab,
Jenkins and Azure DevOps show as test results; --metrics the sizes as
OpenMetrics, which GitLab shows in the merge request against the target
branch's. imgsize comment posts a saved -f json report as one pull or
merge request comment.

--forbid-package and --max-package-bytes read the package databases, as
imgsize packages does (every layer whole); only they do. An image whose
package databases cannot all be read (an rpm database in the ndb format,
or a damaged one) fails them with exit 3: a gate does not pass what it
cannot see.

Exit codes: 0 every budget holds; 1 a budget is exceeded or unknown; 2 usage
or config error; 3 an image or baseline could not be read; 4 the report
could not be written.`,
		Example: `  imgsize check oci:examples/out:multistage --max-compressed 10MB --max-layers 5
  imgsize check app.tar --max-growth 5% --baseline report:last-release.json
  imgsize check --config ci/imgsize.yaml --junit imgsize-junit.xml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), g, o, cmd.Flags(), args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.maxCompressed, "max-compressed", "", "largest compressed size allowed, e.g. 50MB or 48MiB (none: drop the config file's)")
	f.StringVar(&o.maxUncompressed, "max-uncompressed", "", "largest uncompressed size allowed, e.g. 200MB (none: drop the config file's)")
	f.StringVar(&o.maxLayers, "max-layers", "", "most layers allowed (none: drop the config file's)")
	f.StringVar(&o.maxIndexCompressed, "max-index-compressed", "", "with --platform all or a list: largest size of the multi-platform image as a whole, what its registry stores (every blob once), e.g. 200MB (none: drop the config file's)")
	f.StringVar(&o.maxGrowth, "max-growth", "", "most growth allowed against --baseline: a percentage (5%) or a size (10MB) (none: drop the config file's)")
	f.StringVar(&o.baseline, "baseline", "", "`IMAGE` or saved JSON report to measure growth against")
	f.StringVar(&o.growthBasis, "growth-basis", "", "size growth is judged on: compressed (default) or uncompressed")
	f.StringVar(&o.warnAt, "warn-at", "", "report a budget as near its limit from this fraction of it, e.g. 90% (default 90%; off to disable)")
	f.StringVar(&o.lowestEfficiency, "lowest-efficiency", "", "smallest dive efficiency allowed, e.g. 0.9 (reads every layer's files)")
	f.StringVar(&o.highestWasted, "highest-wasted-bytes", "", "most dive wasted bytes allowed, e.g. 20MB (reads every layer's files)")
	f.StringVar(&o.highestUserWasted, "highest-user-wasted-percent", "", "most dive wasted bytes allowed, as a ratio of the bytes above the first layer, e.g. 0.1 (reads every layer's files)")
	f.StringVar(&o.reclaimable, "max-reclaimable", "", "most reclaimable bytes allowed (copies a later layer superseded or deleted), e.g. 50MB (reads every layer's files)")
	f.StringVar(&o.forbidPackage, "forbid-package", "", "fail when an installed package's name matches one of these comma-separated globs, e.g. 'gcc*,make,golang*' (reads the package databases; an image whose packages cannot be read exits 3) (none: drop the config file's)")
	f.StringArrayVar(&o.maxPackageBytes, "max-package-bytes", nil, "most bytes the package NAME may own in the final filesystem, as `NAME=SIZE` (e.g. libc6=20MB); repeatable (reads the package databases) (none: drop the config file's)")
	f.StringVar(&o.diveCI, "dive-ci", "", "also apply dive's CI rules from `FILE` (a .dive-ci, read as dive reads it: its defaults, \"disabled\")")
	f.StringVar(&o.config, "config", "", "budgets file (default imgsize.yaml in the current directory, if present)")
	f.StringVar(&o.junit, "junit", "", "also write the results as JUnit XML to `FILE` (atomically)")
	f.StringVar(&o.metrics, "metrics", "", "also write the sizes as OpenMetrics text to `FILE` (atomically), as GitLab's artifacts:reports:metrics reads them")
	f.StringVar(&o.whyLimit, "why-limit", "2GB", "when a growth budget fails, compare the image's and the baseline's files to name the directories that grew, if their layers unpack to at most this much together (none: never; the layers only the image has are named either way)")
	f.BoolVar(&o.trustGzipTrailer, "trust-gzip-trailer", false, "for uncompressed budgets, take a large gzip layer's size from its trailer instead of reading it; faster, but the trailer is the size mod 4 GiB, so a layer holding 4 GiB or more (a sparse file compresses that well) can pass a budget it exceeds")
	return cmd
}

// flagSettings turns the budget flags the user gave into settings; flags
// not given leave the config file's values alone.
func (o *checkOptions) flagSettings(flags *pflag.FlagSet) (config.Settings, error) {
	var s config.Settings
	var err error
	// "none" removes a limit or baseline the config file gives.
	set := func(name string) bool {
		if !flags.Changed(name) {
			return false
		}
		if v := flags.Lookup(name).Value.String(); strings.EqualFold(strings.TrimSpace(v), "none") && clearable[name] {
			if s.Cleared == nil {
				s.Cleared = map[string]bool{}
			}
			s.Cleared[name] = true
			return false
		}
		return true
	}
	if set("max-compressed") {
		if s.MaxCompressed, err = sizeFlag("max-compressed", o.maxCompressed); err != nil {
			return s, err
		}
	}
	if set("max-uncompressed") {
		if s.MaxUncompressed, err = sizeFlag("max-uncompressed", o.maxUncompressed); err != nil {
			return s, err
		}
	}
	if set("max-index-compressed") {
		if s.MaxIndexCompressed, err = sizeFlag("max-index-compressed", o.maxIndexCompressed); err != nil {
			return s, err
		}
	}
	if flags.Changed("platform") {
		// --platform wins over platforms: in the file; naming one platform
		// checks that one image, as without the file.
		v := flags.Lookup("platform").Value.String()
		if _, multi, err := source.ParsePlatforms(v); err != nil {
			return s, err
		} else if multi {
			s.Platforms = &v
		} else {
			if s.Cleared == nil {
				s.Cleared = map[string]bool{}
			}
			s.Cleared["platforms"] = true
		}
	}
	if set("max-layers") {
		n, err := config.ParseLayers(o.maxLayers)
		if err != nil {
			return s, flagError("max-layers", err)
		}
		s.MaxLayers = &n
	}
	if set("max-growth") {
		gr, err := config.ParseGrowth(o.maxGrowth)
		if err != nil {
			return s, flagError("max-growth", err)
		}
		s.MaxGrowth = &gr
	}
	if set("baseline") {
		if o.baseline == "" {
			return s, errdefs.UsageError(errors.New("--baseline needs an image or a report"))
		}
		b := o.baseline
		s.Baseline = &b
	}
	for _, r := range []struct {
		name string
		v    string
		dst  **float64
	}{
		{"lowest-efficiency", o.lowestEfficiency, &s.LowestEfficiency},
		{"highest-user-wasted-percent", o.highestUserWasted, &s.HighestUserWastedPercent},
	} {
		if set(r.name) {
			x, err := config.ParseRatio(r.v)
			if err != nil {
				return s, flagError(r.name, err)
			}
			*r.dst = &x
		}
	}
	if set("highest-wasted-bytes") {
		if s.HighestWastedBytes, err = sizeFlag("highest-wasted-bytes", o.highestWasted); err != nil {
			return s, err
		}
	}
	if set("max-reclaimable") {
		if s.MaxReclaimable, err = sizeFlag("max-reclaimable", o.reclaimable); err != nil {
			return s, err
		}
	}
	if set("forbid-package") {
		gs, err := config.ParseForbidPackages(o.forbidPackage)
		if err != nil {
			return s, flagError("forbid-package", err)
		}
		s.ForbidPackages = &gs
	}
	if set("max-package-bytes") {
		ls, err := config.ParsePackageLimits(strings.Join(o.maxPackageBytes, ","))
		if err != nil {
			return s, flagError("max-package-bytes", err)
		}
		s.MaxPackageBytes = &ls
	}
	if set("growth-basis") {
		b, err := config.ParseBasis(o.growthBasis)
		if err != nil {
			return s, flagError("growth-basis", err)
		}
		s.GrowthBasis = &b
	}
	if set("warn-at") {
		w, err := config.ParseFraction(o.warnAt)
		if err != nil {
			return s, flagError("warn-at", err)
		}
		s.WarnAt = &w
	}
	return s, nil
}

// clearable are the flags that take "none".
var clearable = map[string]bool{
	"max-compressed": true, "max-uncompressed": true, "max-layers": true, "max-growth": true, "baseline": true,
	"lowest-efficiency": true, "highest-wasted-bytes": true, "highest-user-wasted-percent": true, "max-reclaimable": true,
	"max-index-compressed": true, "forbid-package": true, "max-package-bytes": true,
}

func sizeFlag(name, v string) (*int64, error) {
	n, err := config.ParseSize(v)
	if err != nil {
		return nil, flagError(name, err)
	}
	return &n, nil
}

func flagError(name string, err error) error {
	return errdefs.UsageError(fmt.Errorf("--%s: %w", name, err))
}

// loadConfig reads --config, or imgsize.yaml when present; nil without
// either.
func (o *checkOptions) loadConfig() (*config.File, error) {
	if o.config != "" {
		return config.Load(o.config)
	}
	f, err := config.Load(config.DefaultPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

func runCheck(ctx context.Context, g *globalOptions, o *checkOptions, flags *pflag.FlagSet, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	given, err := o.flagSettings(flags)
	if err != nil {
		return err
	}
	if o.diveCI != "" {
		// dive's rules sit between the config file and the flags: they
		// apply to every image, and a flag still wins.
		dive, err := config.LoadDiveCI(o.diveCI)
		if err != nil {
			return err
		}
		given = dive.Over(given)
	}
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	targets, err := config.Targets(cfg, given, args)
	if err != nil {
		return err
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return err
	}
	// A gate must not pass an undercount: when any budget reads
	// uncompressed sizes, no such size comes from a trailer that could
	// have wrapped. One setting for the run, baselines included.
	l.lopts.CountWrappable = !o.trustGzipTrailer && slices.ContainsFunc(targets, func(t config.Target) bool {
		return t.Settings.Budgets().ReadsUncompressed()
	})
	whyLimit := int64(-1)
	if !strings.EqualFold(strings.TrimSpace(o.whyLimit), "none") {
		n, err := sizeFlag("why-limit", o.whyLimit)
		if err != nil {
			done()
			return err
		}
		whyLimit = *n
	}
	run := checkAll(l, targets, whyLimit)
	done()
	// An interrupt is not a verdict: no report claims a result.
	if err := ctx.Err(); err != nil {
		return err
	}

	if err := g.emit(ctx, func(w io.Writer) error { return report.Check(w, run, ropts) }); err != nil {
		return err
	}
	if o.junit != "" {
		err := report.WriteFile(o.junit, func(w io.Writer) error { return report.JUnit(w, run, ropts) })
		if err != nil {
			return errdefs.Wrap(errOutput, err)
		}
	}
	if o.metrics != "" {
		err := report.WriteFile(o.metrics, func(w io.Writer) error { return report.Metrics(w, run) })
		if err != nil {
			return errdefs.Wrap(errOutput, err)
		}
	}
	if g.getenv("GITHUB_ACTIONS") == "true" {
		if err := githubOutputs(g, run, ropts); err != nil {
			return err
		}
	}
	return checkVerdict(run)
}

// checkAll reads every image and baseline, each baseline once, and holds
// each image to its budgets. An image that cannot be read does not stop
// the others: a gate reports everything it can.
func checkAll(l *loader, targets []config.Target, whyLimit int64) *analysis.CheckRun {
	type loaded struct {
		img *layers.Image
		err error
	}
	baselines := map[string]loaded{}
	indexBaselines := map[string]loadedIndex{}
	run := &analysis.CheckRun{}
	// Every target gets a row, even after --timeout has expired: a gate
	// that silently checked fewer images would pass what it never saw.
	for _, t := range targets {
		b := t.Settings.Budgets()
		if t.Settings.Platforms != nil {
			run.Images = append(run.Images, checkPlatforms(l, t, b, indexBaselines)...)
			continue
		}
		ic := analysis.ImageCheck{Arg: source.Redact(t.Image), Budgets: b}
		var fr *analysis.FileReport
		var err error
		switch {
		case b.NeedsPackages():
			// A package rule reads every layer whole, capturing the
			// package databases; a file-level rule shares the read. A
			// database found but not read fails the image: no verdict on
			// packages it cannot see.
			var fl []files.Layer
			if fl, ic.Packages, err = l.modelPackages(t.Image, false); err == nil {
				ic.Image = ic.Packages.Image
				err = ic.Packages.Readable()
				if err == nil && b.NeedsFiles() {
					fr, err = analysis.Files(ic.Image, fl, analysis.FilesOptions{})
				}
			}
		case b.NeedsFiles():
			// Only a file-level rule pays for reading every layer.
			var fl []files.Layer
			if ic.Image, fl, err = l.modelFiles(t.Image, false); err == nil {
				fr, err = analysis.Files(ic.Image, fl, analysis.FilesOptions{})
			}
		default:
			ic.Image, err = l.model(t.Image)
		}
		if err != nil {
			// Reports name the image beside its error.
			ic.Image, ic.Err = nil, cleanError{err}
			run.Images = append(run.Images, ic)
			continue
		}
		if b.MaxGrowth != nil {
			arg := *t.Settings.Baseline
			ic.BaselineArg = source.Redact(arg)
			got, ok := baselines[arg]
			if !ok {
				got.img, got.err = l.load(arg)
				baselines[arg] = got
			}
			ic.Baseline = got.img
			if got.err != nil {
				ic.BaselineErr = cleanError{got.err}
			}
		}
		ic.Judge(fr)
		if ic.GrowthFailed() && ic.Baseline != nil {
			ic.Why = l.why(ic.Baseline, ic.Image, *t.Settings.Baseline, t.Image, whyLimit)
		}
		run.Images = append(run.Images, ic)
	}
	return run
}

// whyTop bounds the layers and directories a why lists.
const whyTop = 5

// why explains img's growth against base: the layers only img has, and,
// when both images' layers unpack to at most limit bytes together (-1:
// never), the directories that grew, from comparing their files.
func (l *loader) why(base, img *layers.Image, baseArg, imgArg string, limit int64) *analysis.GrowthWhy {
	cost := layers.Total([]layers.Size{base.Uncompressed, img.Uncompressed})
	switch {
	case limit < 0:
		return analysis.Why(base, img, nil, whyTop, "")
	case !cost.Known():
		return analysis.Why(base, img, nil, whyTop, "the directories that grew are not listed: the images' uncompressed sizes are not known, so the cost of comparing their files is not either")
	case cost.Bytes > limit:
		return analysis.Why(base, img, nil, whyTop, fmt.Sprintf("the directories that grew are not listed: comparing the files would read %s of layers, over --why-limit %s", report.FormatBytes(cost.Bytes, false), report.FormatBytes(limit, false)))
	}
	a, la, err := l.modelFiles(baseArg, false)
	var b *layers.Image
	var lb []files.Layer
	if err == nil {
		b, lb, err = l.modelFiles(imgArg, false)
	}
	var d *analysis.FileDiff
	if err == nil {
		d, err = analysis.Diff(a, b, la, lb, analysis.DiffOptions{Top: whyTop * 4})
	}
	if err != nil {
		return analysis.Why(base, img, nil, whyTop, "the directories that grew are not listed: comparing the files failed: "+oneLine(source.Redact(err.Error())))
	}
	return analysis.Why(base, img, d, whyTop, "")
}

type loadedIndex struct {
	x   *layers.Index
	err error
}

// checkPlatforms holds each selected platform of a multi-platform image to
// its budgets (and the index as a whole to max-index-compressed), growth
// against the same platform of the baseline, each baseline read once.
func checkPlatforms(l *loader, t config.Target, b analysis.Budgets, baselines map[string]loadedIndex) []analysis.ImageCheck {
	sel, multi, err := source.ParsePlatforms(*t.Settings.Platforms)
	if err == nil && !multi {
		// One platform named in the file: an index of that one.
		var p v1.Platform
		p, err = source.ParsePlatform(*t.Settings.Platforms)
		sel = source.Platforms{List: []v1.Platform{p}}
	}
	pt := analysis.PlatformTarget{Arg: source.Redact(t.Image), Budgets: b}
	if err != nil {
		pt.Err = err
		return analysis.CheckPlatforms(pt)
	}
	x, fr, err := l.indexFiles(t.Image, sel, b.NeedsFiles(), b.NeedsPackages())
	if err != nil {
		pt.Err = cleanError{err}
		return analysis.CheckPlatforms(pt)
	}
	pt.Index = x
	for _, f := range fr {
		pt.Files = append(pt.Files, f.report)
		pt.Packages = append(pt.Packages, f.packages)
		var ferr error
		if f.err != nil {
			ferr = cleanError{f.err}
		}
		pt.FilesErr = append(pt.FilesErr, ferr)
	}
	if b.MaxGrowth != nil {
		arg := *t.Settings.Baseline
		pt.BaselineArg = source.Redact(arg)
		key := arg + "\x00" + *t.Settings.Platforms
		got, ok := baselines[key]
		if !ok {
			got.x, got.err = l.index(arg, sel)
			if got.err != nil {
				got.err = named(arg, got.err)
			}
			baselines[key] = got
		}
		pt.Baseline = got.x
		if got.err != nil {
			pt.BaselineErr = cleanError{got.err}
		}
	}
	return analysis.CheckPlatforms(pt)
}

// cleanError keeps an error's kinds for the exit code while its text is
// one line without credentials, fit for reports and CI logs.
type cleanError struct{ err error }

func (e cleanError) Error() string { return oneLine(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }

// checkVerdict is the gate's error. A mistake in how the gate is set up
// (exit 2) outranks an image or baseline that could not be read (exit 3),
// which outranks a budget exceeded (exit 1): the budgets of what was not
// read were not checked at all. Which image comes first does not matter.
func checkVerdict(run *analysis.CheckRun) error {
	var errs []error
	for _, ic := range run.Images {
		if ic.Err != nil {
			errs = append(errs, named(ic.Arg, ic.Err))
		}
		if ic.BaselineErr != nil {
			errs = append(errs, fmt.Errorf("baseline of %s: %w", ic.Arg, ic.BaselineErr))
		}
	}
	if len(errs) > 0 {
		first := errs[0]
		for _, e := range errs {
			if errors.Is(e, errdefs.ErrUsage) {
				first = e
				break
			}
		}
		if len(errs) > 1 {
			return fmt.Errorf("%d images or baselines could not be read; %w", len(errs), first)
		}
		return first
	}
	_, failed, _, _ := run.Tally()
	if failed > 0 {
		total := 0
		for _, ic := range run.Images {
			total += len(ic.Results)
		}
		return errdefs.Wrap(errBudget, fmt.Errorf("size check failed: %d of %d budgets exceeded or unknown", failed, total))
	}
	return nil
}

// githubOutputs writes annotations to stderr, where the Actions runner
// reads workflow commands as it does on stdout, keeping stdout for the
// report; appends passed and the JSON summary to the step's outputs; and
// appends the Markdown report to the job's summary.
func githubOutputs(g *globalOptions, run *analysis.CheckRun, ropts report.Options) error {
	if err := report.GitHubAnnotations(g.stderr, run, ropts); err != nil {
		return errdefs.Wrap(errOutput, err)
	}
	if path := g.getenv("GITHUB_OUTPUT"); path != "" {
		if err := appendTo(path, func(w io.Writer) error { return report.GitHubOutputs(w, run) }); err != nil {
			return errdefs.Wrap(errOutput, fmt.Errorf("writing step outputs %s: %w", path, err))
		}
	}
	path := g.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	if err := appendTo(path, func(w io.Writer) error { return report.CheckSummary(w, run, ropts) }); err != nil {
		return errdefs.Wrap(errOutput, fmt.Errorf("writing step summary %s: %w", path, err))
	}
	return nil
}

// appendTo appends what write writes to the file at path, as the runner's
// step files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY) are meant to be
// written: other steps' content stays.
func appendTo(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	werr := write(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
