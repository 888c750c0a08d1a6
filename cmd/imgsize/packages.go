package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/report"
)

type packagesOptions struct {
	top int
}

func newPackagesCmd(g *globalOptions) *cobra.Command {
	o := &packagesOptions{}
	cmd := &cobra.Command{
		Use:   "packages IMAGE",
		Short: "Show the bytes each installed package owns",
		Long: `Read the package databases in the image's final filesystem — dpkg (status,
status.d and info/*.list), apk (lib/apk/db/installed), Python (*.dist-info
RECORD and METADATA, *.egg-info), npm (node_modules/*/package.json), Go
binaries' build information and Java archives' Maven coordinates or manifest
(*.jar, *.war, *.ear, each a package) — without running anything, and attribute every
regular-file byte of the final filesystem to the package that installed it,
or to no package (unowned): the packages and unowned add up to the total.

Sizes are of the files actually in the image; the size a database declares
(dpkg's Installed-Size, apk's I:, rpm's SIZE) is shown beside, marked when
they differ by more than rounding explains. A file two databases claim is
the OS package manager's, then Python's, npm's, a Go binary's main
module's, then a Java archive's. rpm's SQLite (rpmdb.sqlite) and Berkeley
DB (Packages) databases are read; its ndb format (SUSE's Packages.db) is
found but not read: its files are unowned, and the report says so.

This reads every layer whole (registry layers are downloaded; the cache,
which holds file lists and not contents, is not used).`,
		Example: "  imgsize packages oci:examples/out:single-stage\n  imgsize packages app.tar --top 20 --format json",
		Args:    argsExactly(1, "image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPackages(cmd.Context(), g, o, args[0])
		},
	}
	cmd.Flags().IntVar(&o.top, "top", 20, "how many packages the table and Markdown list (JSON and CSV list all)")
	return cmd
}

func runPackages(ctx context.Context, g *globalOptions, o *packagesOptions, arg string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	if err := g.onePlatform("packages"); err != nil {
		return err
	}
	if o.top < 1 {
		return errdefs.UsageError(fmt.Errorf("--top must be at least 1, got %d", o.top))
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return err
	}
	_, pr, err := l.loadPackages(arg, false)
	done()
	if err != nil {
		return err
	}
	return g.emit(ctx, func(w io.Writer) error { return report.Packages(w, pr, o.top, ropts) })
}

// loadPackages reads one argument's layers, capturing its package
// databases, and attributes its files to packages. The error names the
// image.
func (l *loader) loadPackages(arg string, content bool) ([]files.Layer, *analysis.PackageReport, error) {
	fl, pr, err := l.modelPackages(arg, content)
	if err != nil {
		return nil, nil, named(arg, err)
	}
	return fl, pr, nil
}

// modelPackages is loadPackages with an error that does not name the
// image.
func (l *loader) modelPackages(arg string, content bool) ([]files.Layer, *analysis.PackageReport, error) {
	img, fl, err := l.modelCapture(arg, content, analysis.PackageCapture())
	if err != nil {
		return nil, nil, err
	}
	pr, err := analysis.Packages(img, fl)
	if err != nil {
		return nil, nil, err
	}
	return fl, pr, nil
}
