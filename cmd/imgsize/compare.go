package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/report"
)

func newCompareCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
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
index's stored bytes (every blob once) are set against the baseline's.`,
		Example: "  imgsize compare oci:examples/out:single-stage oci:examples/out:multistage",
		Args:    argsAtLeast(2, "images (a baseline and at least one other)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd.Context(), g, args)
		},
	}
}

func runCompare(ctx context.Context, g *globalOptions, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
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
