package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/engine"
	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// EngineKind says which engine holds an image: what its layer sizes
// measure depends on it.
type EngineKind string

// The engines imgsize tells apart.
const (
	// EngineDocker is moby's engine: its history sizes are the unpacked
	// files' disk usage, not tar stream lengths.
	EngineDocker EngineKind = "docker"
	// EnginePodman is podman's Docker-API service: its history sizes are
	// containers/storage's UncompressedSize, the length of the tar stream
	// each layer was applied from.
	EnginePodman EngineKind = "podman"
	// EngineUnknown says nothing of itself; treated as Docker.
	EngineUnknown EngineKind = "unknown"
)

// EngineImage is an image held by a local engine (docker-daemon:REF),
// known from the engine's metadata (image inspect and history) without
// exporting it. Its layers' bytes are reached through Image.Export.
type EngineImage struct {
	// Host is the engine's address; Engine what it says it is ("Podman
	// Engine 4.3.1"); Kind which engine that is.
	Host, Engine string
	Kind         EngineKind
	// ID is the image ID.
	ID v1.Hash
	// IDIsConfig is true when ID is the config's digest, as in podman and
	// Docker's classic store; Docker's containerd image store names the
	// manifest or index instead, and the config digest is then known
	// only from an export.
	IDIsConfig bool
	// RepoTags and RepoDigests are the engine's names for the image, as
	// sent (check before printing).
	RepoTags, RepoDigests []string
	Platform              v1.Platform
	// Created is when the image was built; zero when the engine did not
	// say or said it unreadably.
	Created time.Time
	// Layers are the image's layers, base first.
	Layers []EngineLayer
	// SizesExact is true when the engine's layer sizes are tar stream
	// lengths (podman); otherwise SizeReason says what they are, or why
	// there are none.
	SizesExact bool
	SizeReason string
	// Registry holds the registry manifest the compressed sizes come
	// from, when Options.RegistrySizes asked for one and it matched;
	// otherwise RegistryReason says why there is none.
	Registry       *RegistryMatch
	RegistryReason string

	client *engine.Client
	name   string // as requested of the engine

	mu       sync.Mutex
	exported *Image
}

// EngineLayer is one layer of an engine image.
type EngineLayer struct {
	// DiffID is the digest of the layer's tar stream; an engine stores the
	// stream uncompressed, so it is also the layer's identity.
	DiffID v1.Hash
	// CreatedBy is the build step that made the layer, from the engine's
	// history; empty when steps could not be matched to layers.
	CreatedBy string
	// Size is the engine's figure for the layer (see EngineKind); valid
	// when Sized.
	Size  int64
	Sized bool
}

// RegistryMatch is a registry manifest whose layers are an engine
// image's, found through the image's RepoDigests.
type RegistryMatch struct {
	// Ref is the repo@digest the manifest was read from.
	Ref string
	// Digest, MediaType and Size describe the manifest.
	Digest    v1.Hash
	MediaType types.MediaType
	Size      int64
	// Layers are the manifest's layer descriptors, in the image's order.
	Layers []v1.Descriptor
	// SameConfig is true when the manifest's config digest is the image
	// ID: the manifest is this very image's, not only one with the same
	// layers.
	SameConfig bool
}

// Exported reports whether the image was exported already.
func (e *EngineImage) Exported() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exported != nil
}

// Close removes the export's temporary copy, if any, and drops the
// engine's connections.
func (e *EngineImage) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var err error
	if e.exported != nil {
		err = e.exported.Close()
		e.exported = nil
	}
	e.client.Close()
	return err
}

// Export makes the image's layer bytes readable. An image read from an
// engine holds none: the first call exports it (GET /images/{name}/get),
// spools the tar to a temporary file (go-containerregistry's readers need
// random access; the file is removed by Close) and checks that the export
// is the image the metadata described; later calls return the same
// export. Any other image is returned as it is.
func (i *Image) Export(ctx context.Context) (*Image, error) {
	if i.Engine == nil {
		return i, nil
	}
	return i.Engine.export(ctx, i)
}

func (e *EngineImage) export(ctx context.Context, parent *Image) (*Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exported != nil {
		return e.exported, nil
	}
	rc, err := e.client.Save(ctx, e.name)
	if err != nil {
		return nil, err
	}
	t, err := openTarStream(ctx, rc)
	rc.Close()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("exporting from the engine at %s: %w", e.Host, err)
	}
	img, err := openDockerArchiveTar(ctx, t, parent.Name, "")
	if err == nil {
		err = e.checkExport(img)
	}
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("exporting from the engine at %s: %w", e.Host, err)
	}
	img.Arg, img.Name, img.Transport = parent.Arg, parent.Name, DockerDaemon
	e.exported = img
	return img, nil
}

// checkExport refuses an export that is not the image the engine
// described: another config, or other layers.
func (e *EngineImage) checkExport(img *Image) error {
	if e.IDIsConfig {
		name, err := img.Image.ConfigName()
		if err != nil {
			return err
		}
		if name != e.ID {
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("the export's config is %s, but the engine said the image ID is %s", name, e.ID))
		}
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing the export's config: %w", err))
	}
	if !slices.Equal(cf.RootFS.DiffIDs, e.DiffIDs()) {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("the export's layers (%d diff_ids) are not the %d the engine listed", len(cf.RootFS.DiffIDs), len(e.Layers)))
	}
	return nil
}

// DiffIDs lists the layers' diffIDs, base first.
func (e *EngineImage) DiffIDs() []v1.Hash {
	out := make([]v1.Hash, len(e.Layers))
	for i, l := range e.Layers {
		out[i] = l.DiffID
	}
	return out
}

// Probe times: an engine named with docker-daemon: has the idle timeout
// to answer; one merely looked at (--prefer-daemon, the hint after a
// registry miss) must answer quickly or be skipped.
const (
	quickProbe   = 2 * time.Second
	quickInspect = 3 * time.Second
)

// locateEngine finds the engine the environment names.
func locateEngine(ctx context.Context, opts Options, probe time.Duration) (*engine.Client, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cands, err := engine.Candidates(getenv)
	if err != nil {
		return nil, err
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "imgsize"
	}
	return engine.Locate(ctx, cands, engine.LocateOptions{
		Options: engine.Options{Idle: opts.idleTimeout(), UserAgent: ua},
		Probe:   probe,
	})
}

func (o Options) idleTimeout() time.Duration {
	if o.IdleTimeout > 0 {
		return o.IdleTimeout
	}
	return DefaultIdleTimeout
}

// openDaemon reads image ref's metadata from the local engine. probe is
// how long a default endpoint may take to answer its ping (0: the idle
// timeout; quickProbe for an engine merely looked at).
func openDaemon(ctx context.Context, ref string, opts Options, probe time.Duration) (*Image, error) {
	c, err := locateEngine(ctx, opts, probe)
	if err != nil {
		return nil, err
	}
	img, err := openEngineImage(ctx, c, ref, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	return img, nil
}

func openEngineImage(ctx context.Context, c *engine.Client, ref string, opts Options) (*Image, error) {
	ver, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	in, err := c.Inspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	hist, err := c.History(ctx, ref)
	if err != nil {
		return nil, err
	}
	e, err := newEngineImage(c, ver, ref, in, hist, opts.Platform)
	if err != nil {
		return nil, fmt.Errorf("engine at %s: %w", c.Host, err)
	}
	if opts.RegistrySizes {
		e.Registry, e.RegistryReason = matchRegistry(ctx, e, opts)
	}
	return &Image{
		Transport:         DockerDaemon,
		Name:              ref,
		Engine:            e,
		SyntheticManifest: true,
		closers:           []io.Closer{e},
	}, nil
}

// newEngineImage checks the engine's answers and builds the image from
// them. Every figure and digest is the engine's, so each is checked before
// it is believed: malformed digests are errdefs.ErrCorrupt.
func newEngineImage(c *engine.Client, ver engine.Version, ref string, in *engine.Inspect, hist []engine.HistoryEntry, want v1.Platform) (*EngineImage, error) {
	e := &EngineImage{
		Host: c.Host, Engine: ver.String(), Kind: EngineKind(ver.Kind),
		RepoTags: in.RepoTags, RepoDigests: in.RepoDigests,
		client: c, name: ref,
		IDIsConfig: true,
	}
	if e.Kind != EngineDocker && e.Kind != EnginePodman {
		e.Kind = EngineUnknown
	}
	var err error
	if e.ID, err = engineHash(in.ID); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("image ID: %w", err))
	}
	if d := in.Descriptor; d != nil && d.MediaType != "" && types.MediaType(d.MediaType) != types.OCIConfigJSON && types.MediaType(d.MediaType) != types.DockerConfigJSON {
		e.IDIsConfig = false
	}
	e.Platform = v1.Platform{OS: in.Os, Architecture: in.Architecture, Variant: in.Variant}
	if in.Os == "windows" {
		// os.version only means something for Windows images; podman
		// fills it from elsewhere for others.
		e.Platform.OSVersion = in.OsVersion
	}
	if err := checkEnginePlatform(in, e.Platform, want); err != nil {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339Nano, in.Created); err == nil {
		e.Created = t
	}
	if in.RootFS.Type != "" && in.RootFS.Type != "layers" {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("rootfs type %s, not layers", shown(in.RootFS.Type)))
	}
	diffIDs := make([]v1.Hash, len(in.RootFS.Layers))
	for i, s := range in.RootFS.Layers {
		if diffIDs[i], err = engineHash(s); err != nil {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("layer %d: %w", i, err))
		}
	}
	e.Layers, e.SizeReason = engineLayers(diffIDs, hist)
	switch {
	case e.SizeReason != "":
	case e.Kind == EnginePodman:
		e.SizesExact = true
	case e.Kind == EngineDocker:
		e.SizeReason = "Docker reports the unpacked files' size, not the tar stream's; --exact exports the image to count it"
	default:
		e.SizeReason = fmt.Sprintf("the engine (%s) does not say what its layer sizes measure; --exact exports the image to count them", e.Engine)
	}
	return e, nil
}

// engineHash parses a digest the engine sent, which must be a sha256.
func engineHash(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil || h.Algorithm != "sha256" {
		return v1.Hash{}, fmt.Errorf("%s is not a sha256 digest", shown(truncated(s, 100)))
	}
	return h, nil
}

func truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkEnginePlatform refuses a multi-platform image (Docker's containerd
// image store) whose platform the engine described is not the one asked
// for: the engine's metadata requests name no platform, so imgsize cannot
// read another one from them. A single-platform image is read whatever
// its platform, as a docker-archive or a one-manifest OCI layout is.
func checkEnginePlatform(in *engine.Inspect, got, want v1.Platform) error {
	var others []string
	for _, m := range in.Manifests {
		if m.Kind != "image" || m.Descriptor.Platform == nil {
			continue
		}
		p := m.Descriptor.Platform
		others = append(others, (&v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}).String())
	}
	if len(others) < 2 || got.OS == want.OS && got.Architecture == want.Architecture &&
		(want.Variant == "" || normVariant(got.Architecture, got.Variant) == normVariant(want.Architecture, want.Variant)) {
		return nil
	}
	slices.Sort(others)
	return errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("the engine holds %s for several platforms (%s) and describes %s; reading platform %s of it is not supported: export it (docker save --platform) and read the docker-archive",
		"the image", strings.Join(shownAll(slices.Compact(others)), ", "), shown(got.String()), shown(want.String())))
}

// engineLayers maps the engine's history onto the layers. The history
// lists steps newest first, one per build step, and gives no flag for the
// steps that made no layer (ENV, CMD): both engines give those size 0. So
// the steps with a size are the layers when there are as many of them as
// layers; or every step is when there are as many steps as layers (a
// layer whose files add up to 0 bytes, which Docker reports as 0). When
// neither holds, which step made which layer is not known, and nothing is
// attributed rather than something wrong.
func engineLayers(diffIDs []v1.Hash, hist []engine.HistoryEntry) ([]EngineLayer, string) {
	out := make([]EngineLayer, len(diffIDs))
	for i, d := range diffIDs {
		out[i].DiffID = d
	}
	oldest := slices.Clone(hist)
	slices.Reverse(oldest)
	var sized []engine.HistoryEntry
	for _, h := range oldest {
		if h.Size > 0 {
			sized = append(sized, h)
		}
	}
	var steps []engine.HistoryEntry
	switch {
	case len(sized) == len(diffIDs):
		steps = sized
	case len(oldest) == len(diffIDs):
		steps = oldest
	default:
		return out, fmt.Sprintf("the engine's history lists %d steps, %d with a size, for %d layers: which step made which layer is not known; --exact exports the image to count them", len(oldest), len(sized), len(diffIDs))
	}
	for i, h := range steps {
		out[i].CreatedBy = h.CreatedBy
		out[i].Size, out[i].Sized = h.Size, true
	}
	return out, ""
}

// maxRegistryTries bounds how many of an image's RepoDigests are tried.
const maxRegistryTries = 3

// matchRegistry reads the registry manifest the engine says the image
// was pulled as, and keeps it only when its layers are the image's (the
// config's diff_ids equal the engine's): a figure from another image's
// manifest would be a guess. The reason says why no manifest is used.
func matchRegistry(ctx context.Context, e *EngineImage, opts Options) (*RegistryMatch, string) {
	if len(e.RepoDigests) == 0 {
		return nil, "the engine records no registry digest for this image (built or loaded here, not pulled)"
	}
	var why []string
	for i, rd := range e.RepoDigests {
		if i == maxRegistryTries {
			break
		}
		m, err := readRegistryMatch(ctx, rd, e, opts)
		if err == nil {
			return m, ""
		}
		if ctx.Err() != nil {
			break
		}
		why = append(why, fmt.Sprintf("%s: %s", shown(rd), strings.ReplaceAll(redact.String(err.Error()), "\n", " ")))
	}
	return nil, "--registry-sizes found no matching registry manifest: " + strings.Join(why, "; ")
}

func readRegistryMatch(ctx context.Context, rd string, e *EngineImage, opts Options) (*RegistryMatch, error) {
	if !strings.Contains(rd, "@") {
		return nil, errors.New("not a repo@digest reference")
	}
	ropts := opts
	ropts.PreferDaemon = false
	img, err := openRegistry(ctx, rd, ropts)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	m, err := img.Image.Manifest()
	if err != nil {
		return nil, err
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(cf.RootFS.DiffIDs, e.DiffIDs()) || len(m.Layers) != len(e.Layers) {
		return nil, fmt.Errorf("its layers (%d, by diff_id) are not the image's (%d)", len(m.Layers), len(e.Layers))
	}
	d, err := img.Image.Digest()
	if err != nil {
		return nil, err
	}
	mt, err := img.Image.MediaType()
	if err != nil {
		return nil, err
	}
	raw, err := img.Image.RawManifest()
	if err != nil {
		return nil, err
	}
	return &RegistryMatch{
		Ref: img.Name, Digest: d, MediaType: mt, Size: int64(len(raw)),
		Layers:     m.Layers,
		SameConfig: e.IDIsConfig && m.Config.Digest == e.ID,
	}, nil
}

// openBareRef opens an argument with no transport that names no file: a
// registry reference. With Options.PreferDaemon the local engine is asked
// first, and the registry only when the engine lacks the image or none
// answers. Without it, a registry that does not have the image (or cannot
// be reached) gets a hint when a local engine does: never a silent switch
// of source.
func openBareRef(ctx context.Context, arg string, opts Options) (*Image, error) {
	if opts.PreferDaemon {
		img, err := openDaemon(ctx, arg, opts, quickProbe)
		switch {
		case err == nil:
			return img, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, engine.ErrUnreachable):
			return nil, err
		}
	}
	img, err := openRegistry(ctx, arg, opts)
	if err == nil || opts.PreferDaemon || !registryMiss(err) || ctx.Err() != nil {
		return img, err
	}
	if hint := engineHint(ctx, arg, opts); hint != "" {
		return nil, &hintError{err: err, hint: hint}
	}
	return nil, err
}

// registryMiss says whether a registry failure may be an image that only
// exists locally: the registry does not know it (or, as Docker Hub says
// of repositories that do not exist, wants credentials for it), or could
// not be reached at all.
func registryMiss(err error) bool {
	if errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrUnauthorized) {
		return true
	}
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

// engineHint says where a local engine has ref, or "" when none answers
// quickly or it lacks the image.
func engineHint(ctx context.Context, ref string, opts Options) string {
	ctx, cancel := context.WithTimeout(ctx, quickProbe+quickInspect)
	defer cancel()
	c, err := locateEngine(ctx, opts, quickProbe)
	if err != nil {
		return ""
	}
	defer c.Close()
	if _, err := c.Inspect(ctx, ref); err != nil {
		return ""
	}
	return fmt.Sprintf("the local engine at %s has %s: read it with %s:%s (or --prefer-daemon)", c.Host, shown(ref), DockerDaemon, shown(ref))
}

// hintError is a registry error with a hint after it; errors.Is sees the
// registry error's kind, so the exit code is the registry's.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() + "; " + e.hint }
func (e *hintError) Unwrap() error { return e.err }
