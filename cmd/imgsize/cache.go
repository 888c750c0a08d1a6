package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/config"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/report"
)

// pruneOptions are the flags of imgsize cache prune, as given.
type pruneOptions struct {
	olderThan string
	maxSize   string
}

func newCacheCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show, locate and prune imgsize's cache",
		Long: `imgsize remembers what it learned about each layer by digest (uncompressed
sizes, file lists) in a cache directory, so that a later run fetches less.
The cache only saves time: deleting any part of it changes no figure, and an
entry that is damaged or edited is ignored and rewritten.

The directory is --cache-dir, or $XDG_CACHE_HOME/imgsize by default.`,
		Example: "  imgsize cache dir\n  imgsize cache info --format json\n  imgsize cache prune --older-than 30d --max-size 1GiB",
		Args:    argsCommand,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCacheDirCmd(g), newCacheInfoCmd(g), newCachePruneCmd(g))
	return cmd
}

func newCacheDirCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "dir",
		Short: "Print the cache directory imgsize uses",
		Long:  "Print the cache directory imgsize uses: --cache-dir if given, else $XDG_CACHE_HOME/imgsize\n(~/.cache/imgsize on Linux). The directory need not exist yet.",
		Args:  argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCacheDir(cmd.Context(), g)
		},
	}
}

func newCacheInfoCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show how many entries and bytes the cache holds, by kind",
		Long: `Show how many entries and bytes the cache holds, by kind: layers (sizes of
layers) and one kind per file-list format (files, files-content), and in total.
Formats: table (default) and json.`,
		Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCacheInfo(cmd.Context(), g)
		},
	}
}

func newCachePruneCmd(g *globalOptions) *cobra.Command {
	o := &pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove cache entries not used recently",
		Long: `Remove cache entries last used more than --older-than ago, then the least
recently used ones until the cache holds at most --max-size bytes, and print
what was removed and what was kept. Give one or both. A hit marks an entry
used, so a CI cache pruned this way keeps what its builds still read.

Only files of the cache's own layout are removed, no symlink is followed, and
imgsize runs writing to the cache meanwhile are safe.`,
		Example: "  imgsize cache prune --older-than 30d\n  imgsize cache prune --max-size 500MB\n  imgsize cache prune --max-size 0   # empty the cache",
		Args:    argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCachePrune(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.olderThan, "older-than", "", "remove entries not used for this `DURATION`: 720h, 30d, 1d12h")
	f.StringVar(&o.maxSize, "max-size", "", "then remove the least recently used entries until the cache holds at most `SIZE`: 500MB, 1GiB, 0")
	return cmd
}

// theCache is the cache the other commands would use. --no-cache names
// none, so with a cache command it is a usage error rather than ignored.
func (g *globalOptions) theCache() (*cache.Cache, error) {
	if g.noCache {
		return nil, errdefs.UsageError(errors.New("--no-cache cannot be used with imgsize cache: it names no cache to act on"))
	}
	dir := g.cacheDir
	if dir == "" {
		var err error
		if dir, err = cache.DefaultDir(); err != nil {
			return nil, err
		}
	}
	return cache.New(dir), nil
}

// cacheFormat is the output format of the cache commands: a table, or JSON
// of their own shape (not a report).
func (g *globalOptions) cacheFormat() (report.Format, error) {
	f, err := report.ParseFormat(g.format)
	if err != nil {
		return "", err
	}
	if f != report.Table && f != report.JSON {
		return "", errdefs.UsageError(fmt.Errorf("imgsize cache writes table or json, not %s", f))
	}
	return f, nil
}

func runCacheDir(ctx context.Context, g *globalOptions) error {
	c, err := g.theCache()
	if err != nil {
		return err
	}
	return g.emit(ctx, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, c.Dir())
		return err
	})
}

func runCacheInfo(ctx context.Context, g *globalOptions) error {
	c, err := g.theCache()
	if err != nil {
		return err
	}
	f, err := g.cacheFormat()
	if err != nil {
		return err
	}
	// Info's and Prune's errors name the cache directory already.
	s, err := c.Info(ctx)
	if err != nil {
		return err
	}
	return g.emit(ctx, func(w io.Writer) error {
		return report.WriteCacheInfo(w, s, report.Options{Format: f, Binary: g.binary})
	})
}

func runCachePrune(ctx context.Context, g *globalOptions, o *pruneOptions) error {
	c, err := g.theCache()
	if err != nil {
		return err
	}
	f, err := g.cacheFormat()
	if err != nil {
		return err
	}
	if o.olderThan == "" && o.maxSize == "" {
		return errdefs.UsageError(errors.New("imgsize cache prune needs --older-than, --max-size or both"))
	}
	var olderThan time.Duration
	if o.olderThan != "" {
		if olderThan, err = parseAge(o.olderThan); err != nil {
			return err
		}
	}
	maxSize := int64(-1)
	if o.maxSize != "" {
		if maxSize, err = config.ParseSize(o.maxSize); err != nil {
			return fmt.Errorf("--max-size: %w", err) // a usage error already
		}
	}
	res, perr := c.Prune(ctx, olderThan, maxSize)
	if perr != nil && res.Removed.Dir == "" {
		return perr // nothing was removed
	}
	// Files that could not be removed do not hide those that were.
	if err := g.emit(ctx, func(w io.Writer) error {
		return report.WriteCachePrune(w, res, report.Options{Format: f, Binary: g.binary})
	}); err != nil {
		return err
	}
	return perr
}

// days is a count of days, whole or decimal, and an optional rest that
// time.ParseDuration reads: "30d", "1.5d", "1d12h". It is compiled on
// first use, not before main by every run of imgsize.
var days = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)d(.*)$`) })

// parseAge reads --older-than: a Go duration ("720h", "90m") or one with
// a leading count of days, which Go's durations lack and ages are written
// in. It must be more than zero. Errors wrap errdefs.ErrUsage.
func parseAge(s string) (time.Duration, error) {
	bad := func(why string) error {
		return errdefs.UsageError(fmt.Errorf("--older-than %q: %s", s, why))
	}
	t := strings.TrimSpace(s)
	var d time.Duration
	if m := days().FindStringSubmatch(t); m != nil {
		n, err := strconv.ParseFloat(m[1], 64)
		// Beyond ~292 years a Duration overflows; no cache is that old.
		if err != nil || n*24 > math.MaxInt64/float64(time.Hour)/2 {
			return 0, bad("too many days")
		}
		d = time.Duration(math.Round(n * 24 * float64(time.Hour)))
		t = m[2]
	}
	if t != "" {
		rest, err := time.ParseDuration(t)
		if err != nil {
			return 0, bad("write a duration such as 720h, 30d or 1d12h")
		}
		if rest < 0 || d > math.MaxInt64-rest {
			return 0, bad("out of range")
		}
		d += rest
	}
	if d <= 0 {
		return 0, bad("must be more than zero")
	}
	return d, nil
}
