package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Transport names where an image lives, in skopeo's vocabulary.
type Transport string

// The transports imgsize reads.
const (
	Registry      Transport = "docker"
	DockerArchive Transport = "docker-archive"
	OCI           Transport = "oci"
	OCIArchive    Transport = "oci-archive"
	// Dir is a containers/image "dir" directory (skopeo copy … dir:DIR,
	// podman save --format docker-dir).
	Dir Transport = "dir"
	// Report is a JSON report saved by imgsize: the figures it recorded
	// for an image, with nothing fetched.
	Report Transport = "report"
	// DockerDaemon is an image in a local Docker-API engine (Docker, or
	// podman's `podman system service`), read from its metadata and
	// exported only when layer bytes are needed (daemon.go).
	DockerDaemon Transport = "docker-daemon"
)

// Known transports that imgsize recognises but cannot read (yet); naming them
// gives a clearer error than treating "dir:/x" as a registry reference.
var unsupported = map[string]bool{
	"containers-storage": true,
	"ostree":             true,
	"sif":                true,
}

// Options control how an argument is resolved.
type Options struct {
	// Platform chosen inside a multi-platform index. Zero value: linux/amd64.
	Platform v1.Platform
	// Insecure allows plain HTTP and unverified TLS for non-loopback registries.
	Insecure bool
	// Keychain for registry credentials; nil means authn.DefaultKeychain.
	Keychain authn.Keychain
	// Transport for registry HTTP; nil means http.DefaultTransport (tests
	// inject one trusting their CA).
	Transport http.RoundTripper
	// UserAgent sent to registries; empty means "imgsize".
	UserAgent string
	// Stats, when set, counts registry requests and bytes by kind.
	Stats *Stats
	// Registries, when set, lets the images opened with these options
	// share connections, pings and authentication; nil: each image
	// connects and authenticates on its own.
	Registries *Registries
	// RetryBackoff overrides the backoff between retries of 429 and 5xx
	// answers and stalls (tests shorten it).
	RetryBackoff *remote.Backoff
	// RetryDelay is the first wait between tries (--retry-delay); each
	// further wait is 3× longer. Zero means DefaultRetryDelay. RetryBackoff,
	// when set, wins.
	RetryDelay time.Duration
	// IdleTimeout is how long a registry may send no response headers or
	// no body bytes before the try fails (--idle-timeout); it is also the
	// window MinRate is measured over. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MinRate is the slowest, in bytes per second, a response body may
	// arrive before the try fails. Zero means DefaultMinRate.
	MinRate int64
	// Stdin is read by the argument "-" (an archive piped in); nil means
	// standard input is not read and "-" fails with "no standard input".
	Stdin io.Reader
	// PreferDaemon makes a bare reference look in the local engine first
	// (--prefer-daemon), and in the registry only when the engine lacks
	// the image or none answers.
	PreferDaemon bool
	// RegistrySizes takes a docker-daemon: image's compressed sizes from
	// the registry manifest the engine recorded it was pulled as
	// (RepoDigests), when that manifest's layers are the image's
	// (--registry-sizes). It reads the registry.
	RegistrySizes bool
	// Getenv reads the variables that locate an engine (DOCKER_HOST,
	// DOCKER_CONTEXT, DOCKER_CONFIG, HOME, XDG_RUNTIME_DIR); nil means
	// os.Getenv. Tests point it at their own engine.
	Getenv func(string) string
}

// Image is one resolved image and what the later steps must know about where
// it came from.
type Image struct {
	// Arg is the argument exactly as the user gave it.
	Arg string
	// Transport the argument resolved to.
	Transport Transport
	// Name is the resolved reference: registry reference, or path[:tag].
	Name string
	// Image is the image itself.
	Image v1.Image
	// Remote is true when reading layer bytes costs network transfers; the
	// model then leaves uncompressed sizes unknown unless asked to read them.
	Remote bool
	// SyntheticManifest is true when the manifest was made by the reader
	// rather than stored with the image (docker-archive): its layer sizes
	// describe the archive's storage, not what a registry would hold.
	SyntheticManifest bool
	// Blobs reads byte ranges of layer blobs; set for registry images only.
	Blobs BlobRanger
	// Recorded is set, and Image nil, when the argument named a saved
	// report: the image is known only by the figures recorded there.
	Recorded *Recorded
	// Engine is set, and Image nil, when the image is in a local engine
	// (docker-daemon:): known from the engine's metadata, its layers'
	// bytes only through Export.
	Engine *EngineImage

	closers []io.Closer
}

// Close releases files held by the image (archives, temporary copies).
func (i *Image) Close() error {
	var errs []error
	for _, c := range i.closers {
		errs = append(errs, c.Close())
	}
	i.closers = nil
	return errors.Join(errs...)
}

// transportPrefix, like the package's other patterns, is compiled on first
// use: package-level regexps are compiled before main by every run of
// imgsize, `imgsize version` and `imgsize --help` included.
var transportPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z][a-z0-9-]*):(.*)$`) })

// Open resolves arg to an image. The caller must Close it.
func Open(ctx context.Context, arg string, opts Options) (*Image, error) {
	if opts.Platform.OS == "" {
		opts.Platform = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	if arg == "" {
		return nil, errdefs.UsageError(errors.New("empty image argument"))
	}
	if !isLocalTransport(arg) && hasUserinfo(arg) {
		if _, err := os.Stat(arg); err != nil {
			return nil, errdefs.UsageError(errors.New("credentials do not belong in an image reference; use docker login or a Docker config (DOCKER_CONFIG)"))
		}
	}
	t, rest, err := splitTransport(arg)
	if err != nil {
		return nil, err
	}
	var img *Image
	switch t {
	case Registry:
		img, err = openRegistry(ctx, rest, opts)
	case DockerArchive:
		path, ref := splitPathRef(rest)
		if path == StdinArg {
			img, err = openStdin(ctx, DockerArchive, ref, opts)
			break
		}
		img, err = openDockerArchive(ctx, path, ref)
	case OCI:
		path, tag := splitPathRef(rest)
		img, err = openOCILayout(ctx, path, tag, opts.Platform)
	case OCIArchive:
		path, tag := splitPathRef(rest)
		if path == StdinArg {
			img, err = openStdin(ctx, OCIArchive, tag, opts)
			break
		}
		img, err = openOCIArchive(ctx, path, tag, opts.Platform)
	case Report:
		path, sel := splitPathRef(rest)
		img, err = openReport(path, sel)
	case Dir:
		img, err = openDir(ctx, rest)
	case DockerDaemon:
		img, err = openDaemon(ctx, rest, opts, 0)
	case "":
		img, err = openDetected(ctx, arg, opts)
	}
	if err != nil {
		return nil, err
	}
	img.Arg = arg
	return img, nil
}

// splitTransport separates "transport:rest". A bare argument returns an empty
// transport, to be detected from the filesystem or parsed as a reference.
func splitTransport(arg string) (Transport, string, error) {
	if rest, ok := strings.CutPrefix(arg, "docker://"); ok {
		return Registry, rest, nil
	}
	m := transportPrefix().FindStringSubmatch(arg)
	if m == nil {
		return "", arg, nil
	}
	switch Transport(m[1]) {
	case DockerArchive, OCI, OCIArchive, Report, Dir:
		if m[2] == "" {
			return "", "", errdefs.UsageError(fmt.Errorf("missing path after %q", m[1]+":"))
		}
		return Transport(m[1]), m[2], nil
	case DockerDaemon:
		if m[2] == "" {
			return "", "", errdefs.UsageError(errors.New(`missing image after "docker-daemon:" (a reference or an image ID)`))
		}
		return DockerDaemon, m[2], nil
	case Registry:
		return "", "", errdefs.UsageError(errors.New("registry references are written docker://REF or as a bare REF"))
	}
	if unsupported[m[1]] {
		return "", "", errdefs.UsageError(fmt.Errorf("transport %q is not supported (supported: docker://, docker-archive:, docker-daemon:, oci:, oci-archive:, dir:, report:)", m[1]))
	}
	// "alpine:3.15" and "localhost:5000/app" also match the pattern; a
	// remainder that cannot be a tag or a port-prefixed path means the user
	// meant a transport we do not know.
	if looksLikeTagOrPort(m[2]) {
		return "", arg, nil
	}
	return "", "", errdefs.UsageError(fmt.Errorf("unknown transport %q (supported: docker://, docker-archive:, docker-daemon:, oci:, oci-archive:, dir:, report:)", m[1]))
}

// looksLikeTagOrPort reports whether s, what follows a colon, is a tag
// (validTag, the one grammar) or a registry port and path, with or without
// a sha256 digest: "v1", "v1@sha256:…", "5000/app".
func looksLikeTagOrPort(s string) bool {
	// A port's path may hold anything, a digest included.
	if port, _, slash := strings.Cut(s, "/"); slash && allDigits(port) {
		return true
	}
	name, digest, at := strings.Cut(s, "@")
	if at {
		hex, ok := strings.CutPrefix(digest, "sha256:")
		if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return false
		}
	}
	return validTag(name) || allDigits(name)
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// splitPathRef splits "PATH[:REF]". A colon belongs to the path when what
// precedes it is an existing file or directory, so paths with colons still
// work; otherwise the last colon that is followed by something other than a
// path separator starts the reference.
func splitPathRef(s string) (path, ref string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	for i := len(s) - 1; i > 0; i-- {
		if s[i] != ':' {
			continue
		}
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	// Nothing exists: take the first colon so that docker-archive:x.tar:app:v1
	// yields ref "app:v1"; the caller reports the missing file.
	if i := strings.Index(s, ":"); i > 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// openDetected handles an argument without a transport: an existing path is
// inspected to find its format; anything else is a registry reference.
func openDetected(ctx context.Context, arg string, opts Options) (*Image, error) {
	path, ref := splitPathRef(arg)
	if path == StdinArg {
		return openStdin(ctx, "", ref, opts)
	}
	fi, err := os.Stat(path)
	if err != nil {
		if looksLikePath(arg) {
			return nil, errdefs.Wrap(errdefs.ErrNotFound, err)
		}
		return openBareRef(ctx, arg, opts)
	}
	if fi.IsDir() {
		// A directory that happens to share a registry reference's name
		// ("alpine" for alpine:3.20) is not what the user meant unless it
		// is a layout or the argument is plainly a path; a tag, digest or
		// port is what marks a reference.
		if _, err := os.Stat(filepath.Join(path, "index.json")); err != nil && !looksLikePath(arg) && strings.ContainsAny(arg, ":@") {
			img, rerr := openRegistry(ctx, arg, opts)
			if rerr != nil {
				return nil, fmt.Errorf("%s is a directory but not an OCI image layout (no index.json); read as a registry reference: %w", path, rerr)
			}
			return img, nil
		}
		if ref == "" && isDirLayout(path) {
			return openDir(ctx, path)
		}
		return openOCILayout(ctx, path, ref, opts.Platform)
	}
	if looksLikeReport(path) {
		return openReport(path, ref)
	}
	t, err := openTar(ctx, path)
	if err != nil {
		return nil, err
	}
	var img *Image
	if t.has("manifest.json") || !t.has("index.json") {
		img, err = openDockerArchiveTar(ctx, t, path, ref)
	} else {
		img, err = openOCIArchiveTar(ctx, t, path, ref, opts.Platform)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return img, nil
}

// looksLikePath reports whether a missing argument was surely meant as a file:
// registry references never start with . or / and never end in .tar.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") ||
		strings.HasSuffix(s, ".tar") || strings.HasSuffix(s, ".tar.gz") || strings.HasSuffix(s, ".tgz") ||
		strings.HasSuffix(s, ".json")
}
