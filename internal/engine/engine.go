// Package engine is a small client of the Docker Engine API, as Docker and
// podman's compatible service (`podman system service`) serve it, and the
// discovery of which engine to talk to, done the way the docker CLI does it.
//
// It sits beneath pkg/source (which turns docker-daemon:REF into an image)
// and beside the data flow: it knows the five requests imgsize makes
// (/_ping, /version, /images/{name}/json, /images/{name}/history and the
// export /images/{name}/get), not images or sizes.
//
// Why not github.com/docker/docker/client: the moby client module drags in
// dozens of modules (the engine's own API types, OpenTelemetry, gRPC
// pieces, containerd errdefs) and several megabytes of binary for five GET
// requests; its answers would still need bounding and checking here, as
// every engine answer is outside input. A plain net/http client over a unix
// socket does the same work in a few hundred lines that this repository
// can read and test. It is internal because it is not an API imgsize
// promises: library users reach engines through pkg/source's options.
//
// Every answer is bounded (MaxMetadata for JSON, MaxErrorBody for error
// bodies), its JSON refused as errdefs.ErrCorrupt when malformed, and each
// request is held to an idle timeout: headers must come within it, and an
// export's body may not stall for longer.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// MaxMetadata bounds a JSON answer (/version, image inspect, history): a
// history of thousands of steps is a few hundred KiB, so 16 MiB is far
// beyond any real image and still small enough to hold in memory.
const MaxMetadata = 16 << 20

// MaxErrorBody is read of an error answer, whose message is quoted.
const MaxErrorBody = 64 << 10

// DefaultIdle is the idle timeout when Options.Idle is zero.
const DefaultIdle = 30 * time.Second

// apiVersion is the API version requests name. 1.41 is what podman 4 and 5
// serve and every Docker since 20.10 accepts; the five requests imgsize
// makes have not changed shape since long before it.
const apiVersion = "v1.41"

// ErrUnreachable marks an engine that did not answer at all (no socket,
// connection refused, no HTTP answer): as opposed to one that answered
// with an error.
var ErrUnreachable = errors.New("engine unreachable")

// Kind says which engine answers: their history sizes mean different
// things (see Docker and Podman).
type Kind string

const (
	// Docker is moby's engine. Its history gives each layer's size as the
	// disk usage of the unpacked files, not the length of its tar stream.
	Docker Kind = "docker"
	// Podman is podman's Docker-compatible service. Its history gives each
	// layer's size as containers/storage's UncompressedSize: the length of
	// the tar stream the layer was applied from.
	Podman Kind = "podman"
	// Unknown is an engine that does not say; it is treated as Docker,
	// whose figures are the weaker.
	Unknown Kind = "unknown"
)

// Options configure a Client.
type Options struct {
	// Idle is how long a request may wait for response headers, and an
	// export's body for its next bytes; metadata answers must arrive
	// whole within it. Zero means DefaultIdle.
	Idle time.Duration
	// UserAgent is sent with each request; empty means "imgsize".
	UserAgent string
}

// Client talks to one engine.
type Client struct {
	// Host is the endpoint as configured: unix:///path or tcp://host:port.
	Host string
	// From says how Host was found (DOCKER_HOST, a docker context, the
	// default socket…), for messages.
	From string

	base string // URL prefix: scheme, host and API version
	http *http.Client
	idle time.Duration
	ua   string

	// podman is the Podman version the last /_ping answered OK named in
	// its headers, nil when it named none: Version answers from it
	// before asking /version.
	mu     sync.Mutex
	podman *Version
}

// New returns a client for host, which is unix:///path or tcp://host:port
// (plain HTTP). Other schemes (ssh://, npipe://, fd://) are refused as
// unsupported.
func New(host string, opts Options) (*Client, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, errdefs.UsageError(fmt.Errorf("engine address %s: %w", quoted(host), err))
	}
	tr := &http.Transport{
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: opts.idle(),
	}
	c := &Client{Host: host, idle: opts.idle(), ua: opts.UserAgent}
	if c.ua == "" {
		c.ua = "imgsize"
	}
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		if path == "" {
			return nil, errdefs.UsageError(fmt.Errorf("engine address %s names no socket", quoted(host)))
		}
		d := &net.Dialer{Timeout: opts.idle()}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		// The host part of the URL is a placeholder: the socket is the
		// address. "docker" is what the docker CLI sends.
		c.base = "http://docker/" + apiVersion
	case "tcp", "http":
		if u.Host == "" {
			return nil, errdefs.UsageError(fmt.Errorf("engine address %s names no host", quoted(host)))
		}
		hostPort := u.Host
		if u.Port() == "" {
			hostPort = net.JoinHostPort(u.Hostname(), "2375")
		}
		tr.DialContext = (&net.Dialer{Timeout: opts.idle()}).DialContext
		c.base = "http://" + hostPort + strings.TrimSuffix(u.Path, "/") + "/" + apiVersion
	default:
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("engine address %s: scheme %q is not supported (imgsize speaks to unix:// sockets and plain tcp://)", quoted(host), u.Scheme))
	}
	c.http = &http.Client{
		Transport: tr,
		// An engine never redirects; following one could take a request
		// off this machine.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func (o Options) idle() time.Duration {
	if o.Idle <= 0 {
		return DefaultIdle
	}
	return o.Idle
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// String names the engine for messages: its address and how it was found.
func (c *Client) String() string {
	if c.From == "" {
		return c.Host
	}
	return c.Host + " (" + c.From + ")"
}

// Ping checks that an engine answers at all.
func (c *Client) Ping(ctx context.Context) error {
	body, h, err := c.getSmallHeader(ctx, "/_ping", "", nil)
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(string(body)); s != "OK" {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("engine at %s: /_ping answered %s, not OK", c.Host, quoted(truncate(s, 64))))
	}
	v, ok := podmanFromHeader(h)
	c.mu.Lock()
	c.podman = nil
	if ok {
		c.podman = &v
	}
	c.mu.Unlock()
	return nil
}

// Version is what /version says of the engine, reduced to what imgsize
// uses.
type Version struct {
	Kind Kind
	// Name and Number are the engine's own ("Podman Engine", "4.3.1"),
	// stripped of control characters.
	Name, Number string
}

// String is "Podman Engine 4.3.1".
func (v Version) String() string {
	s := strings.TrimSpace(v.Name + " " + v.Number)
	if s == "" {
		return "unknown engine"
	}
	return s
}

// Version asks the engine what it is. Podman names itself in the headers
// of its /_ping answer (Libpod-Api-Version, Server: Libpod/4.3.1 (linux)),
// which is asked first: its /version looks up the Debian or RPM packages
// of conmon and the OCI runtime, 0.8 s of the engine's time for each
// image read. Otherwise /version: Podman names itself in Components
// ("Podman Engine"); Docker names its daemon "Engine" there and says
// "Docker Engine" in Platform.Name.
func (c *Client) Version(ctx context.Context) (Version, error) {
	c.mu.Lock()
	p := c.podman
	c.mu.Unlock()
	if p != nil {
		return *p, nil
	}
	var raw struct {
		Version  string
		Platform struct{ Name string }
		// Components is absent from engines before Docker 17.06.
		Components []struct {
			Name    string
			Version string
		}
	}
	if err := c.getJSON(ctx, "/version", "", nil, &raw); err != nil {
		return Version{}, err
	}
	v := Version{Kind: Unknown, Name: clean(raw.Platform.Name, 64), Number: clean(raw.Version, 64)}
	for _, comp := range raw.Components {
		switch comp.Name {
		case "Podman Engine":
			return Version{Kind: Podman, Name: "Podman Engine", Number: clean(comp.Version, 64)}, nil
		case "Engine":
			v.Kind, v.Number = Docker, clean(comp.Version, 64)
		}
	}
	if v.Kind == Unknown && strings.Contains(raw.Platform.Name, "Docker Engine") {
		v.Kind = Docker
	}
	if v.Kind == Docker && v.Name == "" {
		v.Name = "Docker Engine"
	}
	return v, nil
}

// podmanFromHeader reads Podman's name and version from its /_ping
// headers; false when they are not Podman's, which leaves the question to
// /version.
func podmanFromHeader(h http.Header) (Version, bool) {
	api := clean(h.Get("Libpod-Api-Version"), 64)
	if api == "" {
		return Version{}, false
	}
	number := api
	// "Libpod/4.3.1 (linux)": the engine's own version, where the API
	// version could lag it.
	if rest, ok := strings.CutPrefix(h.Get("Server"), "Libpod/"); ok {
		if n, _, _ := strings.Cut(rest, " "); clean(n, 64) != "" {
			number = clean(n, 64)
		}
	}
	return Version{Kind: Podman, Name: "Podman Engine", Number: number}, true
}

// Inspect is what GET /images/{name}/json says of an image, reduced to
// what imgsize uses. Strings are as the engine sent them: callers check
// and sanitise what they show.
type Inspect struct {
	// ID is the image ID: the config's digest, except in Docker's
	// containerd image store, where it names the manifest or index (see
	// Descriptor).
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
	Created     string   `json:"Created"`
	Os          string   `json:"Os"`
	// OsVersion is set for Windows images (and, by podman, copied from
	// the config's os.version).
	OsVersion    string `json:"OsVersion"`
	Architecture string `json:"Architecture"`
	Variant      string `json:"Variant"`
	RootFS       struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
	// Descriptor is set by Docker 25+ with the containerd image store
	// (API 1.44+): the content the image ID names.
	Descriptor *Descriptor `json:"Descriptor,omitempty"`
	// Manifests is set by Docker 28+ with the containerd image store when
	// asked (manifests=1): the platforms an image holds, and which are
	// present locally.
	Manifests []ManifestSummary `json:"Manifests,omitempty"`
}

// Descriptor is an OCI content descriptor as the engine sends it.
type Descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *Platform `json:"platform,omitempty"`
}

// Platform is an OCI platform as the engine sends it.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// ManifestSummary is one manifest of a multi-platform image in Docker's
// containerd image store.
type ManifestSummary struct {
	ID         string     `json:"ID"`
	Descriptor Descriptor `json:"Descriptor"`
	Available  bool       `json:"Available"`
	// Kind is "image", "attestation" or "unknown".
	Kind string `json:"Kind"`
}

// HistoryEntry is one step of GET /images/{name}/history, which lists the
// newest step first.
type HistoryEntry struct {
	ID        string   `json:"Id"`
	Created   int64    `json:"Created"`
	CreatedBy string   `json:"CreatedBy"`
	Tags      []string `json:"Tags"`
	// Size is the size of the layer the step made, 0 for a step that made
	// none; what it measures depends on the engine (see Kind).
	Size    int64  `json:"Size"`
	Comment string `json:"Comment"`
}

// Inspect asks the engine about the image name (a reference or an ID). An
// image the engine does not have is errdefs.ErrNotFound.
func (c *Client) Inspect(ctx context.Context, name string) (*Inspect, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var in Inspect
	// manifests=1 lists a multi-platform image's platforms (Docker 28+);
	// engines that do not know the parameter ignore it.
	if err := c.getJSON(ctx, "/images/"+name+"/json", "manifests=1", notFound(c, name), &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// History lists the build steps of image name, newest first.
func (c *Client) History(ctx context.Context, name string) ([]HistoryEntry, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var h []HistoryEntry
	if err := c.getJSON(ctx, "/images/"+name+"/history", "", notFound(c, name), &h); err != nil {
		return nil, err
	}
	return h, nil
}

// Save exports image name as the tar `docker save` writes, streamed. The
// caller must close the body. A body that brings no bytes for the idle
// timeout fails; cancelling ctx ends the read.
func (c *Client) Save(parent context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	path := "/images/" + name + "/get"
	ctx, cancel := context.WithCancel(parent)
	// Headers within the idle timeout (the transport's
	// ResponseHeaderTimeout); the body then under idleBody's watch.
	resp, err := c.do(ctx, path, "")
	if err != nil {
		cancel()
		return nil, c.failed(parent, path, err)
	}
	if err := c.status(resp, path, notFound(c, name)); err != nil {
		resp.Body.Close()
		cancel()
		return nil, err
	}
	return newIdleBody(parent, resp.Body, c.idle, cancel, fmt.Errorf("engine at %s: exporting %s: no data for %s (--idle-timeout)", c.Host, quoted(name), c.idle)), nil
}

// nameChars is what an image reference or ID may hold; anything else in
// a path (?, #, %, spaces, controls) would change what is requested. Its
// length, at most maxName, is checked apart: a counted repetition
// ({0,511}) compiles into as many copies, which cost every run of imgsize
// 5 ms at start-up. It is compiled on first use, not before main by every
// run.
var nameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$`) })

const maxName = 512

func checkName(name string) error {
	if len(name) > maxName || !nameChars().MatchString(name) || strings.Contains(name, "..") || strings.Contains(name, "//") {
		return errdefs.UsageError(fmt.Errorf("invalid image name %s for an engine: a reference (repo[:tag][@digest]) or an image ID", quoted(name)))
	}
	return nil
}

// notFound makes the error for a 404 on image name.
func notFound(c *Client, name string) func() error {
	return func() error {
		return errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("image %s not found in the engine at %s", quoted(name), c.Host))
	}
}

func (c *Client) getJSON(ctx context.Context, path, query string, on404 func() error, v any) error {
	body, err := c.getSmall(ctx, path, query, on404)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("engine at %s: malformed answer to GET %s: %s", c.Host, path, truncate(err.Error(), 200)))
	}
	return nil
}

// getSmall GETs a metadata answer whole, within the idle timeout and
// MaxMetadata.
func (c *Client) getSmall(parent context.Context, path, query string, on404 func() error) ([]byte, error) {
	body, _, err := c.getSmallHeader(parent, path, query, on404)
	return body, err
}

// getSmallHeader is getSmall that also returns the answer's headers.
func (c *Client) getSmallHeader(parent context.Context, path, query string, on404 func() error) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(parent, c.idle)
	defer cancel()
	resp, err := c.do(ctx, path, query)
	if err != nil {
		return nil, nil, c.failed(parent, path, err)
	}
	defer resp.Body.Close()
	if err := c.status(resp, path, on404); err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadata+1))
	if err != nil {
		if perr := parent.Err(); perr != nil {
			return nil, nil, perr
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("engine at %s: GET %s: answer not complete after %s (--idle-timeout)", c.Host, path, c.idle)
		}
		return nil, nil, fmt.Errorf("engine at %s: reading answer to GET %s: %s", c.Host, path, dialReason(err))
	}
	if len(body) > MaxMetadata {
		return nil, nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("engine at %s: answer to GET %s is larger than %d MiB", c.Host, path, MaxMetadata>>20))
	}
	return body, resp.Header, nil
}

func (c *Client) do(ctx context.Context, path, query string) (*http.Response, error) {
	u := c.base + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errdefs.UsageError(fmt.Errorf("engine at %s: GET %s: %w", c.Host, path, err))
	}
	req.Header.Set("User-Agent", c.ua)
	return c.http.Do(req)
}

// failed explains a request that got no answer: the caller's own
// cancellation or deadline (parent) as it is, so --timeout and Ctrl-C are
// recognised; otherwise the engine did not answer.
func (c *Client) failed(parent context.Context, path string, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) && ne.Timeout() {
		return errdefs.Wrap(ErrUnreachable, fmt.Errorf("engine at %s: GET %s: no answer within %s (--idle-timeout)", c.Host, path, c.idle))
	}
	return errdefs.Wrap(ErrUnreachable, fmt.Errorf("engine at %s: %s", c.Host, dialReason(err)))
}

// dialReason is the end of a transport error ("connection refused", "no
// such file or directory"), without Go's repetition of the URL.
func dialReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return clean(op.Err.Error(), 200)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return clean(ue.Err.Error(), 200)
	}
	return clean(err.Error(), 200)
}

// status turns a non-2xx answer into an error quoting the engine's message.
func (c *Client) status(resp *http.Response, path string, on404 func() error) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound && on404 != nil {
		return on404()
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	var msg struct {
		Message string `json:"message"`
	}
	text := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
		text = msg.Message
	}
	text = clean(redact.String(text), 300)
	err := fmt.Errorf("engine at %s: GET %s: %s", c.Host, path, resp.Status)
	if text != "" {
		err = fmt.Errorf("engine at %s: GET %s: %s: %s", c.Host, path, resp.Status, text)
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return errdefs.Wrap(errdefs.ErrNotFound, err)
	case http.StatusUnauthorized, http.StatusForbidden:
		return errdefs.Wrap(errdefs.ErrUnauthorized, err)
	}
	return err
}

// clean makes outside text one printable line of at most n bytes:
// control and format characters become spaces (collapsed), invalid UTF-8
// is dropped.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// quoted shows an outside string: as is when it is printable, Go-quoted
// otherwise, so a message naming it stays one honest line.
func quoted(s string) string {
	s = truncate(s, 512)
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || r == ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
