package source

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// registryRef parses s and authenticates to its registry. One
// authenticated transport serves both go-containerregistry and the ranged
// reads, so the registry is pinged and a token fetched once.
func registryRef(ctx context.Context, s string, opts Options) (name.Reference, http.RoundTripper, error) {
	// Open has refused user:password@ prefixes already, so s can be quoted.
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(s, nopts...)
	if err != nil {
		return nil, nil, errdefs.UsageError(fmt.Errorf("invalid image reference %q: %w", s, err))
	}
	authed, err := authTransport(ctx, ref.Context(), opts)
	if err != nil {
		return nil, nil, err
	}
	return ref, authed, nil
}

func openRegistry(ctx context.Context, s string, opts Options) (*Image, error) {
	ref, authed, err := registryRef(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithTransport(authed))
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("fetching manifest of %s: %w", ref, err))
	}
	var img v1.Image
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading index of %s: %w", ref, err))
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index of %s: %w", ref, err))
		}
		var images []v1.Descriptor
		for _, d := range im.Manifests {
			if d.MediaType.IsImage() && !isAttestation(d) {
				images = append(images, d)
			}
		}
		matched, err := matchPlatform(images, opts.Platform, func(d v1.Descriptor) (*v1.Platform, error) { return d.Platform, nil })
		if err != nil {
			return nil, err
		}
		img, err = idx.Image(matched[0].Digest)
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading image %s of %s: %w", matched[0].Digest, ref, err))
		}
	case desc.MediaType.IsImage():
		img, err = desc.Image()
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading image %s: %w", ref, err))
		}
	default:
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s: unknown manifest media type %q", ref, desc.MediaType))
	}
	return registryImage(ref, img, authed, opts)
}

// registryImage finishes opening one image of ref's repository: its
// manifest and config are fetched now, so every later step works on
// metadata already in memory and errors surface here, once.
func registryImage(ref name.Reference, img v1.Image, authed http.RoundTripper, opts Options) (*Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("reading manifest of %s: %w", ref, err))
	}
	if opts.Stats != nil {
		opts.Stats.noteConfig(m.Config.Digest)
	}
	if _, err := img.RawConfigFile(); err != nil {
		return nil, classifyRemote(fmt.Errorf("reading config of %s: %w", ref, err))
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &Image{
		Transport: Registry,
		Name:      ref.Context().Name() + "@" + d.String(),
		Image:     img,
		Remote:    true,
		Blobs:     &registryRanger{repo: ref.Context(), client: &http.Client{Transport: authed}},
	}, nil
}

// authTransport pings the registry and returns a transport that adds the
// credentials it asks for (basic or bearer token, pull scope), retries 429
// and 5xx with backoff, and sends imgsize's user agent. Credentials are
// only attached for the registry's own host, so a redirect to object
// storage carries none. With opts.Registries, the run's images share it
// (one per repository) and its connections and pings.
func authTransport(ctx context.Context, repo name.Repository, opts Options) (http.RoundTripper, error) {
	if opts.Registries != nil {
		return opts.Registries.authTransport(ctx, repo, opts)
	}
	return newAuthTransport(ctx, repo, opts)
}

// newAuthTransport makes authTransport's transport: it pings the registry
// and fetches a token when the registry asks for one.
func newAuthTransport(ctx context.Context, repo name.Repository, opts Options) (http.RoundTripper, error) {
	auth, err := opts.keychain().Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", repo, err)
	}
	// Whatever the keychain hands out is masked wherever imgsize prints
	// text a registry or proxy wrote.
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", repo, err)
	}
	redact.Add(cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken)
	if cfg.Username != "" && cfg.Password != "" {
		redact.Add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	rt := transport.NewRetry(opts.Registries.baseTransport(opts),
		transport.WithRetryStatusCodes(retryStatusCodes...),
		transport.WithRetryBackoff(opts.backoff()))
	if opts.Registries != nil {
		rt = opts.Registries.pings.wrap(rt)
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "imgsize"
	}
	rt = transport.NewUserAgent(rt, ua)
	authed, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("authenticating to %s: %w", repo.RegistryStr(), answerOnly(err)))
	}
	return authed, nil
}

// retryStatusCodes are retried with backoff: rate limits and server errors
// are usually transient.
var retryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

func (o Options) keychain() authn.Keychain {
	if o.Keychain == nil {
		return authn.DefaultKeychain
	}
	return o.Keychain
}

// DefaultRetryDelay is the first wait between tries of a registry request.
const DefaultRetryDelay = time.Second

func (o Options) backoff() remote.Backoff {
	if o.RetryBackoff != nil {
		return *o.RetryBackoff
	}
	// Three tries, 1 s then 3 s apart by default, as go-containerregistry
	// does.
	d := o.RetryDelay
	if d <= 0 {
		d = DefaultRetryDelay
	}
	return remote.Backoff{Duration: d, Factor: 3, Jitter: 0.1, Steps: 3}
}

// baseTransport is the HTTP transport under authentication and retries:
// the injected one, or a clone of the default with TLS policy and a
// header timeout so a registry that accepts but never answers fails.
func (o Options) baseTransport() http.RoundTripper {
	rt := o.Transport
	if rt == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 60 * time.Second
		if o.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
		}
		rt = t
	}
	if !o.Insecure {
		rt = loopbackHTTPOnly{rt}
	}
	if o.Stats != nil {
		rt = &countingTransport{inner: rt, stats: o.Stats}
	}
	// Outside the counting, so each try counts as the request it is.
	return o.newGuard(rt)
}

// loopbackHTTPOnly refuses plain HTTP except to this machine.
// go-containerregistry also falls back to HTTP for private-network
// addresses (10/8, 172.16/12, 192.168/16), where credentials and content
// would cross a network unprotected; that takes --insecure here.
type loopbackHTTPOnly struct{ inner http.RoundTripper }

func (t loopbackHTTPOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !isLoopback(r.URL.Hostname()) {
		// Not a usage error: this is also the second try after HTTPS failed
		// against a registry that is merely down.
		return nil, fmt.Errorf("refusing plain HTTP to %s, which is not on this machine (--insecure allows it)", r.URL.Host)
	}
	return t.inner.RoundTrip(r)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// answerOnly keeps, of the https and http tries go-containerregistry makes
// to ping a registry on this machine, the one that reached a server: when
// the http try got an HTTP answer (or stalled), the https try's "first
// record does not look like a TLS handshake" is noise. errors.Is and As
// still see both.
func answerOnly(err error) error {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Slice {
		return err
	}
	for i := range v.Len() {
		e, ok := v.Index(i).Interface().(error)
		if !ok {
			return err
		}
		var terr *transport.Error
		if errors.As(e, &terr) || errors.Is(e, ErrStalled) {
			return &answerError{msg: e.Error(), err: err}
		}
	}
	return err
}

// answerError shows one of the errors it wraps.
type answerError struct {
	msg string
	err error
}

func (e *answerError) Error() string { return e.msg }
func (e *answerError) Unwrap() error { return e.err }

// classifyRemote marks registry errors with the kind the exit code needs.
func classifyRemote(err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return errdefs.Wrap(errdefs.ErrUnauthorized, err)
		case terr.StatusCode == http.StatusNotFound:
			return errdefs.Wrap(errdefs.ErrNotFound, err)
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return errdefs.Wrap(errdefs.ErrUnauthorized, err)
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return errdefs.Wrap(errdefs.ErrNotFound, err)
			}
		}
	}
	return err
}
