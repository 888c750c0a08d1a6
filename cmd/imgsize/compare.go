package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/report"
)

// compareOptions are compare's own flags.
type compareOptions struct {
	// packages also sets each image's packages against the baseline's.
	packages bool
}

func newCompareCmd(g *globalOptions) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare BASE IMAGE...",
		Short: "Compare images against a baseline",
		Long: `Compare images against the first one (the baseline): totals side by side,
absolute and relative deltas, the ratio ("50.2× smaller"), bytes shared with
and unique against the baseline (layers are the same when their digests are
equal; against a docker-archive, which has no compressed digests, when their
diffIDs are), and the layers found on only one side.

With --platform all (or a list), multi-platform images are compared
platform by platform, matched by os/arch/variant (linux/arm64 is
linux/arm64/v8); platforms present on one side only are listed, and each
index's stored bytes (every blob once) are set against the baseline's.

--packages also sets each image's installed packages against the
baseline's, as imgsize diff --packages does for two: added, removed,
upgraded (old → new version) and resized, with the bytes each owns, largest
change first, in the table, Markdown, JSON and HTML (CSV, one row per
image, has no place for them: use imgsize diff --packages -f csv). It reads
every layer of every image whole, and one platform.`,
		Example: "  imgsize compare oci:examples/out:single-stage oci:examples/out:multistage\n  imgsize compare --packages -f markdown base.tar new.tar",
		Args:    argsAtLeast(2, "images (a baseline and at least one other)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd.Context(), g, o, args)
		},
	}
	cmd.Flags().BoolVar(&o.packages, "packages", false, "also compare each image's installed packages with the baseline's (see imgsize packages); reads every layer whole")
	return cmd
}

func runCompare(ctx context.Context, g *globalOptions, o *compareOptions, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	if o.packages {
		return comparePackages(ctx, g, ropts, args)
	}
	if xs, err := g.indexes(ctx, args); err != nil || xs != nil {
		if err != nil {
			return err
		}
		pc := analysis.ComparePlatforms(xs[0], xs[1:]...)
		return g.emit(ctx, func(w io.Writer) error { return report.ComparePlatforms(w, pc, ropts) })
	}
	imgs, err := g.loadAll(ctx, args)
	if err != nil {
		return err
	}
	c := analysis.Compare(imgs[0], imgs[1:]...)
	return g.emit(ctx, func(w io.Writer) error { return report.Compare(w, c, ropts) })
}

// comparePackages is compare --packages: every image read whole with its
// package databases, the comparison made of the images so read, and each
// row given its package changes against the baseline.
func comparePackages(ctx context.Context, g *globalOptions, ropts report.Options, args []string) error {
	if err := g.onePlatform("compare --packages"); err != nil {
		return err
	}
	if ropts.Format == report.CSV {
		return errdefs.UsageError(errors.New("compare --packages: CSV has one row per image and no place for packages; use imgsize diff --packages -f csv BASE IMAGE"))
	}
	prs, err := loadEach(ctx, g, args, func(l *loader, arg string) (*analysis.PackageReport, error) {
		_, pr, err := l.loadPackages(arg, false)
		return pr, err
	})
	if err != nil {
		return err
	}
	imgs := make([]*layers.Image, len(prs))
	for i, pr := range prs {
		imgs[i] = pr.Image
	}
	c := analysis.Compare(imgs[0], imgs[1:]...)
	for i := 1; i < len(c.Rows); i++ {
		c.Rows[i].Packages = analysis.DiffPackages(prs[0], prs[i])
	}
	return g.emit(ctx, func(w io.Writer) error { return report.Compare(w, c, ropts) })
}
