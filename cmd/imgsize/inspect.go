package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/report"
)

func newInspectCmd(g *globalOptions) *cobra.Command {
	var history bool
	c := &cobra.Command{
		Use:   "inspect IMAGE...",
		Short: "Show an image's sizes, layer by layer",
		Long: `Show each image's compressed and uncompressed totals and a table of its layers:
digest, compressed size, uncompressed size and the build step that created it.

IMAGE is docker://REF or a bare registry reference, docker-archive:PATH[:REF],
oci:DIR[:TAG], oci-archive:PATH[:TAG], dir:DIR, or a path whose format is detected.

With --platform all (or a list such as linux/amd64,linux/arm64), each
platform of a multi-platform image is shown, and the index as a whole: what
its registry stores and a full mirror pulls (every blob once, a layer the
platforms share counted once), the layers platforms share, and its
attestations and signatures, which are not platforms.`,
		Example: "  imgsize inspect alpine:3.20\n  imgsize inspect --platform all alpine:3.20\n  imgsize inspect oci:examples/out:multistage --format json\n  imgsize inspect --history docker-archive:app.tar",
		Args:    argsAtLeast(1, "image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), g, history, args)
		},
	}
	c.Flags().BoolVar(&history, "history", false, "list every build step, empty ones (ENV, WORKDIR, CMD…) with 0 B, aligned with the layers they made, as docker history does but oldest first")
	return c
}

func runInspect(ctx context.Context, g *globalOptions, history bool, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	ropts.History = history
	if xs, err := g.indexes(ctx, args); err != nil || xs != nil {
		if err != nil {
			return err
		}
		return g.emit(ctx, func(w io.Writer) error { return report.InspectIndexes(w, xs, ropts) })
	}
	imgs, err := g.loadAll(ctx, args)
	if err != nil {
		return err
	}
	return g.emit(ctx, func(w io.Writer) error { return report.Inspect(w, imgs, ropts) })
}
