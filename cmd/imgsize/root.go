package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/source"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info is used.
var version = ""

func moduleVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	format   string
	output   string
	platform string
	wide     bool
	noColor  bool
	insecure bool
	binary   bool
	exact    bool
	estimate bool
	jobs     int
	cacheDir string
	noCache  bool
	stats    bool
	noProg   bool
	quiet    bool
	timeout  time.Duration
	idle     time.Duration
	retry    time.Duration
	// preferDaemon and registrySizes govern docker-daemon: images.
	preferDaemon  bool
	registrySizes bool

	// traffic is filled during a run with --stats; run prints it at the
	// end, after a failure too.
	traffic *source.Stats

	// stdin is what an argument "-" reads (an archive piped in).
	stdin          io.Reader
	stdout, stderr io.Writer
	// getenv reads the environment (tests replace it).
	getenv func(string) string
}

// newRootCmd builds the command tree over g, which holds the flags'
// values and, after a run, what run reports besides the error.
func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:           "imgsize",
		Short:         "How big container images really are, and why",
		Long:          "imgsize reports compressed and uncompressed sizes of container images, layer by layer,\nfrom registries, docker-archive tarballs and OCI layouts, and compares builds side by side.",
		Version:       moduleVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,

		// Without Args, cobra reports an unknown command with a plain
		// error; with it, the root runs and can say it is a usage error.
		Args:                       argsCommand,
		SuggestionsMinimumDistance: 2,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return errdefs.UsageError(err) })
	pf := root.PersistentFlags()
	pf.StringVarP(&g.format, "format", "f", "table", "output format: table, json, markdown, csv, html (one self-contained page)")
	pf.StringVarP(&g.output, "output", "o", "", "write the report to `FILE` (atomically) instead of stdout")
	pf.StringVar(&g.platform, "platform", "linux/amd64", "platform to pick from a multi-platform index, as os/arch[/variant]; all, or a comma-separated list, reads several (inspect, compare, check, trend)")
	pf.BoolVar(&g.wide, "wide", false, "print tables at full width, even on a terminal narrower than them")
	pf.BoolVar(&g.noColor, "no-color", false, "print no colour (also NO_COLOR=1; colour only ever goes to a terminal)")
	pf.BoolVar(&g.insecure, "insecure", false, "allow plain HTTP and unverified TLS for registries that are not on loopback")
	pf.BoolVar(&g.binary, "binary", false, "print sizes in IEC units (KiB, MiB, GiB) instead of SI (kB, MB, GB)")
	pf.BoolVar(&g.exact, "exact", false, "read and count every layer (registry layers too, instead of probing a few bytes each; uncompressed layers are then digest-checked)")
	pf.BoolVar(&g.estimate, "estimate-compressed", false, "estimate the compressed size of layers an archive stores uncompressed, by gzipping them")
	pf.IntVar(&g.jobs, "jobs", 4, "layers probed or read at once")
	pf.StringVar(&g.cacheDir, "cache-dir", "", "where to remember layer sizes by digest (default $XDG_CACHE_HOME/imgsize)")
	pf.BoolVar(&g.noCache, "no-cache", false, "neither read nor write the layer cache")
	pf.BoolVar(&g.stats, "stats", false, "print registry requests and bytes fetched, by kind, to stderr")
	pf.BoolVar(&g.noProg, "no-progress", false, "never show progress: no bar on a terminal, no heartbeat line (every 15 s of reading layers) in a log")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print nothing on stderr but errors: no progress, no heartbeat, no notes")
	pf.Var(limitValue{&g.timeout}, "timeout", "give up on the whole run after this long, e.g. 2m; none: no limit for the run (every request still has --idle-timeout)")
	pf.DurationVar(&g.idle, "idle-timeout", source.DefaultIdleTimeout, "fail a registry request whose answer makes no progress for this long, or moves slower than 1 KiB/s over it (after 3 tries)")
	pf.DurationVar(&g.retry, "retry-delay", source.DefaultRetryDelay, "wait this long before retrying a registry request answered 408, 429, 500, 502, 503 or 504, or stalled; the next wait is 3× longer (3 tries in all)")
	pf.BoolVar(&g.preferDaemon, "prefer-daemon", false, "read a bare reference from the local Docker-API engine when it has the image, else from the registry (also IMGSIZE_PREFER_DAEMON=1)")
	pf.BoolVar(&g.registrySizes, "registry-sizes", false, "for docker-daemon: images, take compressed sizes from the registry manifest the engine recorded (RepoDigests), if its layers match")

	root.AddCommand(newInspectCmd(g), newCompareCmd(g), newCheckCmd(g), newFilesCmd(g), newDiffCmd(g), newPackagesCmd(g), newCommentCmd(g), newTrendCmd(g), newVersionCmd(g), newCacheCmd(g), newGenDocsCmd(g))
	// cobra adds "completion" when it executes; adding it now lets
	// usageArgs reach its commands' argument checks too.
	root.InitDefaultCompletionCmd()
	registerCompletions(root)
	usageArgs(root)
	return root
}

// limitValue is a duration flag that must be positive, or "none" for no
// limit (stored as 0): a zero or negative duration is more likely a
// mistake than a wish to wait forever, so it is refused.
type limitValue struct{ d *time.Duration }

func (v limitValue) String() string {
	if v.d == nil || *v.d == 0 {
		return "none"
	}
	return v.d.String()
}

func (v limitValue) Set(s string) error {
	if s == "none" {
		*v.d = 0
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("must be a positive duration, or none for no limit")
	}
	*v.d = d
	return nil
}

func (limitValue) Type() string { return "duration" }

// argsCommand rejects what the root gets as arguments: a word that names
// no command. The word is redacted: it may be a reference typed with its
// credentials and without a command.
func argsCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", source.Redact(args[0]), cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return errdefs.UsageError(errors.New(msg))
}

// argsNone is cobra.NoArgs with a usage-kind error.
func argsNone(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errdefs.UsageError(fmt.Errorf("%s takes no arguments, got %d", cmd.Name(), len(args)))
	}
	return nil
}

// usageArgs makes every argument check in the tree fail with a usage
// error, including those of commands cobra provides (completion), whose
// checks return plain errors.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil || errors.Is(err, errdefs.ErrUsage) {
				return err
			}
			return errdefs.UsageError(err)
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// argsExactly is cobra.ExactArgs with a usage-kind error.
func argsExactly(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return errdefs.UsageError(fmt.Errorf("need exactly %d %s, got %d", n, what, len(args)))
		}
		return nil
	}
}

// argsAtLeast is cobra.MinimumNArgs with a usage-kind error.
func argsAtLeast(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return errdefs.UsageError(fmt.Errorf("need at least %d %s, got %d", n, what, len(args)))
		}
		return nil
	}
}

func (g *globalOptions) reportOptions() (report.Options, error) {
	f, err := report.ParseFormat(g.format)
	if err != nil {
		return report.Options{}, err
	}
	o := report.Options{Format: f, Binary: g.binary, Version: moduleVersion(), Time: time.Now()}
	o.Width, o.Color = g.terminal()
	return o, nil
}

func (g *globalOptions) sourceOptions() (source.Options, error) {
	var p v1.Platform
	if _, multi, err := g.platforms(); err != nil {
		return source.Options{}, err
	} else if !multi {
		if p, err = source.ParsePlatform(g.platform); err != nil {
			return source.Options{}, err
		}
	}
	if g.jobs < 1 {
		return source.Options{}, errdefs.UsageError(fmt.Errorf("--jobs must be at least 1, got %d", g.jobs))
	}
	if g.idle <= 0 {
		return source.Options{}, errdefs.UsageError(fmt.Errorf("--idle-timeout must be positive, got %s (a request that never ends would hang the run)", g.idle))
	}
	if g.retry <= 0 {
		return source.Options{}, errdefs.UsageError(fmt.Errorf("--retry-delay must be positive, got %s (retries without a pause would hammer a struggling registry)", g.retry))
	}
	getenv := g.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return source.Options{
		Platform: p, Insecure: g.insecure, UserAgent: "imgsize/" + moduleVersion(), IdleTimeout: g.idle, RetryDelay: g.retry, Stdin: g.stdin,
		PreferDaemon: g.preferDaemon || getenv("IMGSIZE_PREFER_DAEMON") == "1", RegistrySizes: g.registrySizes, Getenv: getenv,
	}, nil
}

// layerOptions turns the flags that govern reading layers into options.
func (g *globalOptions) layerOptions() (layers.Options, error) {
	lopts := layers.Options{Exact: g.exact, EstimateCompressed: g.estimate, Jobs: g.jobs, Memo: &layers.Memo{}}
	if g.noCache && g.cacheDir != "" {
		return layers.Options{}, errdefs.UsageError(errors.New("--no-cache and --cache-dir contradict each other: give one"))
	}
	if !g.noCache {
		dir := g.cacheDir
		if dir == "" {
			var err error
			if dir, err = cache.DefaultDir(); err != nil {
				return layers.Options{}, err
			}
		}
		lopts.Cache = cache.New(dir)
	}
	return lopts, nil
}

// loader opens and models images for one run: one memo, so that a layer
// present in several registry images is read once, one progress bar, one
// traffic count and one deadline.
type loader struct {
	ctx   context.Context
	sopts source.Options
	lopts layers.Options
	// stdin is set once an argument has read standard input.
	stdin atomic.Bool
}

// newLoader sets up a run's loading; the caller must call the returned
// function when done (it ends the progress bar and the --timeout).
func (g *globalOptions) newLoader(ctx context.Context) (*loader, func(), error) {
	sopts, err := g.sourceOptions()
	if err != nil {
		return nil, nil, err
	}
	lopts, err := g.layerOptions()
	if err != nil {
		return nil, nil, err
	}
	if g.stats {
		g.traffic = &source.Stats{}
		sopts.Stats = g.traffic
	}
	// The run's images share connections, one ping per registry and one
	// token per repository.
	sopts.Registries = &source.Registries{}
	var done []func()
	if m := newMeter(g.stderr, g.noProg || g.quiet, heartbeatEvery); m != nil {
		lopts.Progress, lopts.Planned, lopts.LayerDone = m.add, m.planned, m.layerDone
		done = append(done, m.finish)
	}
	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, g.timeout, fmt.Errorf("timed out after %s (--timeout)", g.timeout))
		done = append(done, cancel)
	}
	// Idempotent, so a caller may finish the bar before writing the report
	// and still defer it for the error paths.
	var once sync.Once
	return &loader{ctx: ctx, sopts: sopts, lopts: lopts}, func() {
		once.Do(func() {
			for _, f := range done {
				f()
			}
		})
	}, nil
}

// load opens and models one argument. The error names the image.
func (l *loader) load(arg string) (*layers.Image, error) {
	img, err := l.model(arg)
	if err != nil {
		return nil, named(arg, err)
	}
	return img, nil
}

// model is load with an error that does not name the image, for reports
// that name it already.
func (l *loader) model(arg string) (*layers.Image, error) {
	if err := l.claimStdin(arg); err != nil {
		return nil, err
	}
	img, err := loadOne(l.ctx, arg, l.sopts, l.lopts)
	return img, l.cause(err)
}

// claimStdin lets one argument of a run read standard input, which can
// be read once: a second is a usage error, not an empty archive.
func (l *loader) claimStdin(arg string) error {
	if source.IsStdin(arg) && l.stdin.Swap(true) {
		return errStdinTwice
	}
	return nil
}

var errStdinTwice = errdefs.UsageError(errors.New("standard input can be read once: only one argument may be -"))

// oneStdin refuses, before anything is read, a run whose arguments read
// standard input more than once.
func oneStdin(args []string) error {
	n := 0
	for _, a := range args {
		if source.IsStdin(a) {
			n++
		}
	}
	if n > 1 {
		return errStdinTwice
	}
	return nil
}

// cause says that a deadline was the --timeout.
func (l *loader) cause(err error) error {
	if c := context.Cause(l.ctx); err != nil && c != nil && errors.Is(err, context.DeadlineExceeded) {
		return c
	}
	return err
}

// named says which image an error is about. The argument may hold
// credentials: source.Open refuses them, and they must not be echoed
// either.
func named(arg string, err error) error {
	return fmt.Errorf("%s: %w", source.Redact(arg), err)
}

// loadAll opens and models each argument in order, stopping at the first
// that cannot be read.
func (g *globalOptions) loadAll(ctx context.Context, args []string) ([]*layers.Image, error) {
	return loadEach(ctx, g, args, (*loader).load)
}

// loadEach reads the arguments with one loader, several at once (each
// image's manifests and configs are small requests, so twenty images cost
// about what the slowest does), and returns them in order; the error is
// that of the first argument, in order, that could not be read, and names
// it (one's error does).
func loadEach[T any](ctx context.Context, g *globalOptions, args []string, one func(*loader, string) (T, error)) ([]T, error) {
	if err := oneStdin(args); err != nil {
		return nil, err
	}
	l, done, err := g.newLoader(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return eachArg(l, args, one)
}

// eachArg is loadEach with a loader the caller has: imagesAtOnce
// arguments at a time, results in order, the first error in order.
func eachArg[T any](l *loader, args []string, one func(*loader, string) (T, error)) ([]T, error) {
	out := make([]T, len(args))
	errs := make([]error, len(args))
	var wg sync.WaitGroup
	sem := make(chan struct{}, imagesAtOnce)
	for i, arg := range args {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = one(l, arg)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// imagesAtOnce bounds the images a run reads at once; each reads its
// layers with up to --jobs more.
const imagesAtOnce = 8

// fileOptions are the file-list reads' options from the run's: jobs,
// cache and progress.
func (l *loader) fileOptions(content bool) files.Options {
	return files.Options{Content: content, Jobs: l.lopts.Jobs, Cache: l.lopts.Cache, Progress: l.lopts.Progress, Planned: l.lopts.Planned, LayerDone: l.lopts.LayerDone}
}

// loadFiles opens one argument and reads both its size model and what
// each of its layers holds (with content digests when content). The error
// names the image.
func (l *loader) loadFiles(arg string, content bool) (*layers.Image, []files.Layer, error) {
	img, fl, err := l.modelFiles(arg, content)
	if err != nil {
		return nil, nil, named(arg, err)
	}
	return img, fl, nil
}

// modelFiles is loadFiles with an error that does not name the image.
func (l *loader) modelFiles(arg string, content bool) (*layers.Image, []files.Layer, error) {
	return l.modelCapture(arg, content, nil)
}

// modelCapture is modelFiles capturing the files capture chooses (nil:
// none). A capture reads every layer: the cache holds no contents.
func (l *loader) modelCapture(arg string, content bool, capture *files.Capture) (*layers.Image, []files.Layer, error) {
	if err := l.claimStdin(arg); err != nil {
		return nil, nil, err
	}
	src, err := source.Open(l.ctx, arg, l.sopts)
	if err != nil {
		return nil, nil, l.cause(err)
	}
	defer src.Close()
	fopts := l.fileOptions(content)
	fopts.Capture = capture
	fl, err := files.Read(l.ctx, src, fopts)
	if err != nil {
		return nil, nil, l.cause(err)
	}
	// Listing the files decompressed each layer once already; its counts
	// spare the model a second pass.
	lopts := l.lopts
	lopts.Counted = map[v1.Hash]int64{}
	for _, f := range fl {
		if f.Uncompressed > 0 {
			lopts.Counted[f.Digest] = f.Uncompressed
		}
	}
	img, err := layers.Load(l.ctx, src, lopts)
	if err != nil {
		return nil, nil, l.cause(err)
	}
	return img, fl, nil
}

func loadOne(ctx context.Context, arg string, sopts source.Options, lopts layers.Options) (*layers.Image, error) {
	src, err := source.Open(ctx, arg, sopts)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return layers.Load(ctx, src, lopts)
}

// emit writes a report to stdout or, with -o, atomically to a file. A
// failure to write is errOutput (exit 4). An interrupt before the file is
// in place leaves any previous report untouched.
func (g *globalOptions) emit(ctx context.Context, write func(io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.output == "" || g.output == "-" {
		if err := write(g.stdout); err != nil {
			return errdefs.Wrap(errOutput, fmt.Errorf("writing report to stdout: %w", err))
		}
		return nil
	}
	err := report.WriteFile(g.output, func(w io.Writer) error {
		if err := write(w); err != nil {
			return err
		}
		return ctx.Err()
	})
	// WriteFile's errors already say "writing report PATH".
	return errdefs.Wrap(errOutput, err)
}
