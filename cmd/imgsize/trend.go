package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/source"
)

// trendOptions are trend's own flags.
type trendOptions struct {
	tags, tagsRegex string
	last, maxTags   int
	sort            string
}

// defaultMaxTags bounds the tags a trend measures unless told otherwise.
const defaultMaxTags = 100

func newTrendCmd(g *globalOptions) *cobra.Command {
	opts := trendOptions{maxTags: defaultMaxTags}
	c := &cobra.Command{
		Use:   "trend REPOSITORY | trend REPORT.json...",
		Short: "Show how an image's size moved across tags or saved reports",
		Long: `Show how an image's size moved: each tag of a repository, or each saved
report, with its compressed and uncompressed size, the growth from the one
before, and the growth from first to last, in bytes and percent. Every
figure carries its provenance, as in the other commands.

REPOSITORY is docker://REPO or a bare REPO (registry/path, no tag). Its tags
are listed (at most 10000 names are read), chosen with --tags GLOB (path
syntax: *, ?, [...]; matched against the whole tag) or --tags-regex RE (Go
RE2, unanchored), and the first --max-tags of them, in the registry's order,
are measured from manifests and configs only: uncompressed sizes come from
the cache or the gzip trailer (a ranged read of 4 bytes), never from
downloading a layer. A layer no cheap path can size is shown as unknown,
with the reason. Tags are ordered oldest to newest by the creation time in
each image's config (--sort created, the default; tags whose config has no
time come last, by name, and a note says which), or by semantic version
(--sort semver: v1.9.0 before v1.10.0; tags that are not versions, such as
latest, are left out and named in a note).

REPORT.json... are JSON reports saved by imgsize (-f json -o FILE), each
holding one image (or, with --platform all, one multi-platform image).
They are ordered by the time each was written (--sort recorded, the
default; if one has no time, all stay in argument order and a note says
so), by the creation time of the image each recorded (--sort created;
reports written before imgsize recorded it have none and come last, by
name, as a note says) or in argument order (--sort args). Nothing is
fetched.

With --platform all (or a list), each platform is its own series. Otherwise
each tag or report yields the platform --platform picks, as in inspect.`,
		Example: "  imgsize trend registry.example.com/app --tags 'v1.*' --last 10\n" +
			"  imgsize trend registry.example.com/app --tags-regex '^v[0-9]+\\.[0-9]+\\.[0-9]+$' --sort semver -f markdown\n" +
			"  imgsize trend --platform all registry.example.com/app\n" +
			"  imgsize trend history/*.json -f html -o trend.html",
		Args: argsAtLeast(1, "repository or saved report"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrend(cmd.Context(), g, opts, args)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.tags, "tags", "", "measure only the tags this `GLOB` matches as a whole (*, ?, [...]), e.g. 'v1.*'")
	f.StringVar(&opts.tagsRegex, "tags-regex", "", "measure only the tags this Go `REGEXP` matches (unanchored: use ^ and $)")
	f.IntVar(&opts.maxTags, "max-tags", defaultMaxTags, "measure at most this many matching tags, the first in the registry's order (a note says how many were left)")
	f.IntVar(&opts.last, "last", 0, "keep only the newest `N` points of each series, after ordering (0: all); with --sort semver on one platform, when every matching tag was listed (not cut by --max-tags), only those N tags are read")
	f.StringVar(&opts.sort, "sort", "", "order points by: created (tags' default; reports too), semver (tags), recorded (reports' default), args (reports, as given)")
	return c
}

func runTrend(ctx context.Context, g *globalOptions, opts trendOptions, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	if g.exact {
		return errdefs.UsageError(errors.New("trend never reads layers whole: --exact is for inspect, compare and check"))
	}
	if opts.last < 0 {
		return errdefs.UsageError(fmt.Errorf("--last must not be negative, got %d", opts.last))
	}
	reports := trendReports(args)
	if !reports && len(args) > 1 {
		return errdefs.UsageError(fmt.Errorf("trend reads one repository, or saved reports (files): got %d arguments, not all existing files", len(args)))
	}
	if reports && (opts.tags != "" || opts.tagsRegex != "") {
		return errdefs.UsageError(errors.New("--tags and --tags-regex choose a repository's tags; saved reports are all read"))
	}
	order, err := trendOrder(opts.sort, reports)
	if err != nil {
		return err
	}
	sel, multi, err := g.platforms()
	if err != nil {
		return err
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return err
	}
	defer done()
	// The cheap path only: a trend reads tens of images.
	l.lopts.NeverRead = true

	var inputs []analysis.TrendInput
	var t *analysis.Trend
	if reports {
		if inputs, err = l.trendPoints(args, args, sel, multi); err != nil {
			return err
		}
		if t, err = analysis.TrendOf(inputs, analysis.TrendOptions{Order: order, Last: opts.last}); err != nil {
			return err
		}
	} else {
		repo, err := source.ParseRepository(args[0], l.sopts)
		if err != nil {
			return err
		}
		tsel, err := source.ParseTagSelection(opts.tags, opts.tagsRegex, opts.maxTags)
		if err != nil {
			return err
		}
		list, err := source.ListTags(l.ctx, repo, l.sopts, tsel)
		if err != nil {
			return named(repo.Name(), l.cause(err))
		}
		if len(list.Tags) == 0 {
			return errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("%s: no tag to measure (%d listed, none matched)", source.Redact(repo.Name()), list.Listed))
		}
		measure := list.Tags
		var cutNotes []string
		newestOnly := false
		// Versions order by name alone: with --last, only the newest are
		// read. Across platforms a tag may lack one, so there every tag is
		// read and each series keeps its own newest; and when --max-tags
		// (or the listing bound) cut the tags, the newest may not be among
		// those kept, so those are all read and the notes say what was cut.
		if order == analysis.OrderSemver && opts.last > 0 && !multi && !list.Truncated && len(list.Tags) == list.Matched {
			if newest, notes := analysis.SemverNewest(list.Tags, opts.last); len(newest) > 0 {
				measure, cutNotes, newestOnly = newest, notes, true
			}
		}
		refs := make([]string, len(measure))
		for i, tag := range measure {
			refs[i] = repo.Name() + ":" + tag
		}
		if inputs, err = l.trendPoints(refs, measure, sel, multi); err != nil {
			return err
		}
		if t, err = analysis.TrendOf(inputs, analysis.TrendOptions{Order: order, Last: opts.last}); err != nil {
			return err
		}
		t.Notes = append(cutNotes, t.Notes...)
		t.Repository = list.Repository
		t.Tags = &analysis.TagCounts{Listed: list.Listed, Matched: list.Matched, Measured: len(measure), Invalid: list.Invalid, Truncated: list.Truncated, NewestOnly: newestOnly}
	}
	done()
	return g.emit(ctx, func(w io.Writer) error { return report.Trend(w, t, ropts) })
}

// trendReports says whether the arguments are saved reports (files)
// rather than a repository.
func trendReports(args []string) bool {
	for _, a := range args {
		p := strings.TrimPrefix(a, "report:")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// trendOrder reads --sort for the kind of arguments given.
func trendOrder(s string, reports bool) (analysis.TrendOrder, error) {
	switch o := analysis.TrendOrder(s); {
	case s == "" && reports:
		return analysis.OrderRecorded, nil
	case s == "":
		return analysis.OrderCreated, nil
	case o == analysis.OrderCreated,
		(o == analysis.OrderRecorded || o == analysis.OrderArguments) && reports,
		o == analysis.OrderSemver && !reports:
		return o, nil
	case o == analysis.OrderRecorded || o == analysis.OrderArguments:
		return "", errdefs.UsageError(fmt.Errorf("--sort %s orders saved reports; tags are ordered by created or semver", s))
	case o == analysis.OrderSemver:
		return "", errdefs.UsageError(fmt.Errorf("--sort %s orders tags; saved reports are ordered by recorded, created or args", s))
	}
	return "", errdefs.UsageError(fmt.Errorf("unknown --sort %q: created (tags or reports), semver (tags), recorded, args (reports)", s))
}

// trendPoints reads each argument (a tag's reference or a report), at most
// imagesAtOnce at a time, as the platforms --platform selects; labels name
// the points. The error is that of the first argument, in order, that
// could not be read, and names it.
func (l *loader) trendPoints(args, labels []string, sel source.Platforms, multi bool) ([]analysis.TrendInput, error) {
	images, err := eachArg(l, args, func(l *loader, arg string) ([]*layers.Image, error) {
		if multi {
			x, err := l.index(arg, sel)
			if err != nil {
				return nil, named(arg, err)
			}
			return x.Platforms, nil
		}
		img, err := l.load(arg)
		return []*layers.Image{img}, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]analysis.TrendInput, len(args))
	for i := range out {
		out[i] = analysis.TrendInput{Label: labels[i], Images: images[i]}
	}
	return out, nil
}
