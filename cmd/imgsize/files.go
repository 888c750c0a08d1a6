package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/report"
)

// fileOptions are the flags of the file-level commands.
type fileOptions struct {
	top, depth int
	content    bool
	// packages: diff also compares the packages (diff only).
	packages bool
}

func (o *fileOptions) register(cmd *cobra.Command, depth int) {
	f := cmd.Flags()
	f.IntVar(&o.top, "top", 10, "how many files, directories and other items to list")
	f.IntVar(&o.depth, "depth", depth, "deepest directory level listed (1: /usr, 2: /usr/local, …)")
	f.BoolVar(&o.content, "content", false, "also hash every file's content (finds duplicates; diff compares contents); reads every byte")
}

func (o *fileOptions) validate() error {
	if o.top < 1 {
		return errdefs.UsageError(fmt.Errorf("--top must be at least 1, got %d", o.top))
	}
	if o.depth < 1 {
		return errdefs.UsageError(fmt.Errorf("--depth must be at least 1, got %d", o.depth))
	}
	return nil
}

func newFilesCmd(g *globalOptions) *cobra.Command {
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "files IMAGE",
		Short: "Show where an image's bytes are, file by file, and what is wasted",
		Long: `Read every layer of an image, file by file, and show:
the final filesystem's size (regular-file bytes after whiteouts), the largest
files and directories, what each layer added, changed and deleted, dive's
efficiency, wasted bytes and user-wasted ratio (defined exactly as dive defines
them), the bytes a better build would not ship (reclaimable: copies a later
layer superseded or deleted), and hints naming common bloat with its cost and
fix.

This reads every layer's contents (headers only, unless --content), so it
downloads a registry image's layers; layer file lists are cached by digest.`,
		Example: "  imgsize files oci:examples/out:single-stage\n  imgsize files app.tar --top 20 --depth 2 --format json",
		Args:    argsExactly(1, "image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFiles(cmd.Context(), g, o, args[0])
		},
	}
	o.register(cmd, 3)
	return cmd
}

func runFiles(ctx context.Context, g *globalOptions, o *fileOptions, arg string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	if err := g.onePlatform("files"); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return err
	}
	img, fl, err := l.loadFiles(arg, o.content)
	done()
	if err != nil {
		return err
	}
	fr, err := analysis.Files(img, fl, analysis.FilesOptions{Top: o.top, Depth: o.depth})
	if err != nil {
		return named(arg, err)
	}
	return g.emit(ctx, func(w io.Writer) error { return report.Files(w, fr, ropts) })
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show which files make B bigger (or smaller) than A",
		Long: `Compare the final filesystems of two images: files added, removed and changed
(type, size, mode, link target; with --content also the contents), rolled up by
directory to --depth and ordered by bytes, so what made B bigger fits on one
screen. A directory added or removed whole is listed once, with its bytes.

Sizes are regular-file bytes of the final filesystems (uncompressed, exact).
This reads every layer of both images (headers only, unless --content).

--packages also compares the installed packages, as imgsize packages reads
them: added, removed, upgraded (old → new version) and resized, with the
bytes each owns in A and B, largest change first. It reads every layer whole.`,
		Example: "  imgsize diff oci:examples/out:multistage oci:examples/out:single-stage\n  imgsize diff --packages old.tar new.tar",
		Args:    argsExactly(2, "images (A and B)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), g, o, args[0], args[1])
		},
	}
	o.register(cmd, 3)
	cmd.Flags().BoolVar(&o.packages, "packages", false, "also compare the installed packages (see imgsize packages); reads every layer whole")
	return cmd
}

func runDiff(ctx context.Context, g *globalOptions, o *fileOptions, a, b string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	if err := g.onePlatform("diff"); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if err := oneStdin([]string{a, b}); err != nil {
		return err
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return err
	}
	defer done()
	var d *analysis.FileDiff
	if o.packages {
		la, pa, err := l.loadPackages(a, o.content)
		if err != nil {
			return err
		}
		lb, pb, err := l.loadPackages(b, o.content)
		if err != nil {
			return err
		}
		if d, err = analysis.Diff(pa.Image, pb.Image, la, lb, analysis.DiffOptions{Top: o.top, Depth: o.depth, Content: o.content}); err != nil {
			return err
		}
		d.Packages = analysis.DiffPackages(pa, pb)
	} else {
		imgA, la, err := l.loadFiles(a, o.content)
		if err != nil {
			return err
		}
		imgB, lb, err := l.loadFiles(b, o.content)
		if err != nil {
			return err
		}
		if d, err = analysis.Diff(imgA, imgB, la, lb, analysis.DiffOptions{Top: o.top, Depth: o.depth, Content: o.content}); err != nil {
			return err
		}
	}
	done()
	return g.emit(ctx, func(w io.Writer) error { return report.Diff(w, d, ropts) })
}
