package source

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/imgsize/imgsize/internal/memo"
)

// Registries shares between the images of one run what talking to a
// registry costs once: one HTTP transport, so connections stay open and
// are reused from image to image; one ping (GET /v2/) per registry and
// scheme; and one authenticated transport per repository, so a token is
// fetched once per repository scope. Without it every image opens its
// own connections, pings its registry and authenticates anew: twenty
// images of one registry cost twenty pings (forty against a plain-HTTP
// registry on this machine, whose HTTPS try fails first).
//
// A Registries serves one set of Options (the first Open that uses it
// builds the transport from them). The zero value is ready; it is safe
// for concurrent use.
type Registries struct {
	baseOnce sync.Once
	base     http.RoundTripper

	authed memo.Map[http.RoundTripper]

	pings pingMemo
}

// baseTransport is the run's one transport under authentication; without
// Registries (r nil), each caller's own.
func (r *Registries) baseTransport(o Options) http.RoundTripper {
	if r == nil {
		return o.baseTransport()
	}
	r.baseOnce.Do(func() { r.base = o.baseTransport() })
	return r.base
}

// authTransport returns repo's authenticated transport, made once per
// run and repository; concurrent callers wait for one handshake. A
// failure is not kept: the next image tries again.
func (r *Registries) authTransport(ctx context.Context, repo name.Repository, o Options) (http.RoundTripper, error) {
	return r.authed.Do(repo.String(), func() (http.RoundTripper, bool, error) {
		rt, err := newAuthTransport(ctx, repo, o)
		return rt, true, err
	})
}

// pingMemo answers a registry's ping (an unauthenticated GET /v2/, which
// says which scheme and which authentication the registry wants) from
// the first answer of the run. It keeps a 200, a 401 and its challenge,
// and the one error that cannot change within a run: a TLS handshake
// answered in plain HTTP, which is how the HTTPS try to a plain-HTTP
// registry on this machine fails. Any other status (a 429, a 5xx, a 404)
// and any other error says how the registry was at that moment: passed
// on, not kept. Concurrent pings of one registry wait for one.
type pingMemo struct {
	answers memo.Map[*pingAnswer]
}

// pingAnswer is a ping's answer, replayed to every later ping.
type pingAnswer struct {
	status int
	proto  string
	header http.Header
	body   []byte
	err    error
}

// maxPingBody bounds the body kept of a ping answer (an error document
// at most); pings are read and discarded by go-containerregistry.
const maxPingBody = 64 << 10

func (m *pingMemo) wrap(inner http.RoundTripper) http.RoundTripper {
	return &pingMemoTransport{memo: m, inner: inner}
}

type pingMemoTransport struct {
	memo  *pingMemo
	inner http.RoundTripper
}

// isPing tells go-containerregistry's ping from every other request: a
// GET of /v2/ with no credentials and no body.
func isPing(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Path == "/v2/" && req.URL.RawQuery == "" &&
		req.Header.Get("Authorization") == "" && (req.Body == nil || req.Body == http.NoBody)
}

func (t *pingMemoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isPing(req) {
		return t.inner.RoundTrip(req)
	}
	a, err := t.memo.answers.Do(req.URL.Scheme+"://"+req.URL.Host, func() (*pingAnswer, bool, error) {
		a, err := t.ping(req)
		// A 429 or 5xx (after the retries beneath) says how the registry
		// was then, not for the rest of the run: answered, not kept.
		keep := err == nil && (a.err != nil || a.status == http.StatusOK || a.status == http.StatusUnauthorized)
		return a, keep, err
	})
	if err != nil {
		return nil, err
	}
	if a.err != nil {
		return nil, a.err
	}
	return &http.Response{
		Status: http.StatusText(a.status), StatusCode: a.status,
		Proto: a.proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: req,
	}, nil
}

// ping sends one ping and reads its answer whole; the error is returned
// (not kept) unless it is one that holds for the rest of the run.
func (t *pingMemoTransport) ping(req *http.Request) (*pingAnswer, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && req.Context().Err() == nil {
			return &pingAnswer{err: err}, nil
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPingBody))
	if err != nil {
		return nil, err
	}
	return &pingAnswer{status: resp.StatusCode, proto: resp.Proto, header: resp.Header, body: body}, nil
}
