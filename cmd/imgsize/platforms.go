package main

import (
	"context"
	"fmt"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// platforms returns the selection --platform makes when it names several
// platforms (all, or a list); ok is false when it names one.
func (g *globalOptions) platforms() (sel source.Platforms, ok bool, err error) {
	return source.ParsePlatforms(g.platform)
}

// onePlatform refuses --platform all or a list for a command that reads
// one image of an index.
func (g *globalOptions) onePlatform(command string) error {
	if _, multi, err := g.platforms(); err != nil || multi {
		if err != nil {
			return err
		}
		return errdefs.UsageError(fmt.Errorf("%s reads one platform of an index: give --platform os/arch[/variant] (all, or a list, is for inspect, compare and check)", command))
	}
	return nil
}

// indexes reads args as multi-platform images when --platform names
// several platforms; it returns nil, nil when it names one.
func (g *globalOptions) indexes(ctx context.Context, args []string) ([]*layers.Index, error) {
	sel, multi, err := g.platforms()
	if err != nil || !multi {
		return nil, err
	}
	return g.loadIndexes(ctx, args, sel)
}

// loadIndexes opens and models each argument for the platforms sel
// selects, stopping at the first that cannot be read.
func (g *globalOptions) loadIndexes(ctx context.Context, args []string, sel source.Platforms) ([]*layers.Index, error) {
	return loadEach(ctx, g, args, func(l *loader, arg string) (*layers.Index, error) {
		x, err := l.index(arg, sel)
		if err != nil {
			return nil, named(arg, err)
		}
		return x, nil
	})
}

// index opens and models one argument's platforms; the error does not
// name the image.
func (l *loader) index(arg string, sel source.Platforms) (*layers.Index, error) {
	x, _, err := l.indexFiles(arg, sel, false, false)
	return x, err
}

// indexFiles is index that also reads each selected platform image's
// files, when withFiles for the file-level analysis and when withPackages
// for the package analysis, in one read (nil where one could not be read:
// the result's err says why).
func (l *loader) indexFiles(arg string, sel source.Platforms, withFiles, withPackages bool) (*layers.Index, []fileResult, error) {
	if err := l.claimStdin(arg); err != nil {
		return nil, nil, err
	}
	src, err := source.OpenIndex(l.ctx, arg, l.sopts, sel)
	if err != nil {
		return nil, nil, l.cause(err)
	}
	defer src.Close()
	x, err := layers.LoadIndex(l.ctx, src, l.lopts)
	if err != nil {
		return nil, nil, l.cause(err)
	}
	if !withFiles && !withPackages {
		return x, nil, nil
	}
	selected := src.Selected()
	out := make([]fileResult, len(selected))
	fopts := l.fileOptions(false)
	if withPackages {
		fopts.Capture = analysis.PackageCapture()
	}
	for j, e := range selected {
		fl, err := files.Read(l.ctx, e.Image, fopts)
		if err == nil && withPackages {
			out[j].packages, err = analysis.Packages(x.Platforms[j], fl)
		}
		if err == nil && withFiles {
			out[j].report, err = analysis.Files(x.Platforms[j], fl, analysis.FilesOptions{})
		}
		out[j].err = l.cause(err)
	}
	return x, out, nil
}

type fileResult struct {
	report   *analysis.FileReport
	packages *analysis.PackageReport
	err      error
}
