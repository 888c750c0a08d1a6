package source

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind classifies registry traffic for --stats.
type Kind int

// The kinds of registry request.
const (
	KindManifest Kind = iota
	KindConfig
	KindLayer
	KindOther // ping, token
	numKinds
)

// Kinds lists every kind, in the order reports show them.
func Kinds() []Kind { return []Kind{KindManifest, KindConfig, KindLayer, KindOther} }

func (k Kind) String() string {
	return [...]string{"manifest", "config", "layer", "other"}[k]
}

// Stats counts registry requests and response-body bytes by kind. It is
// safe for concurrent use; the zero value is ready.
type Stats struct {
	requests [numKinds]atomic.Int64
	bytes    [numKinds]atomic.Int64
	configs  sync.Map // digest string -> struct{}, so config blobs are told from layers
}

// Counts returns the requests made and body bytes read for a kind.
func (s *Stats) Counts(k Kind) (requests, bytes int64) {
	return s.requests[k].Load(), s.bytes[k].Load()
}

func (s *Stats) noteConfig(h v1.Hash) { s.configs.Store(h.String(), struct{}{}) }

func (s *Stats) classify(r *http.Request) Kind {
	// A redirect's hop to object storage is classified by the registry
	// request that was redirected, whatever its own path: storage paths
	// may look like registry ones (distribution's S3 layout,
	// .../docker/registry/v2/blobs/sha256/ab/<hex>/data) without naming
	// the digest where a registry path does.
	for r.Response != nil && r.Response.Request != nil {
		r = r.Response.Request
	}
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/manifests/"):
		return KindManifest
	case strings.Contains(p, "/blobs/"):
		d := p[strings.LastIndex(p, "/")+1:]
		if _, ok := s.configs.Load(d); ok {
			return KindConfig
		}
		return KindLayer
	}
	return KindOther
}

// countingTransport feeds Stats; it counts what is read of each body, so a
// body closed early (a 200 to a Range request) counts only what was read.
type countingTransport struct {
	inner http.RoundTripper
	stats *Stats
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	k := t.stats.classify(r)
	resp, err := t.inner.RoundTrip(r)
	if err != nil {
		// Not a request the registry answered (a refused https attempt
		// of the scheme probe, say): --stats counts what it served.
		return resp, err
	}
	t.stats.requests[k].Add(1)
	if resp.Body == nil {
		return resp, nil
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.stats.bytes[k]}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
