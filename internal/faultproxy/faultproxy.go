// Package faultproxy is an HTTP layer that stands in front of a registry
// (the real docker-registry started by internal/testregistry, or
// go-containerregistry's in-process one) and misbehaves on purpose: it
// answers 429 and 5xx, resets connections, truncates, stalls and trickles
// bodies, ignores or mangles Range, loops redirects, redirects to another
// host, sends huge manifests and headers, and echoes request headers in an
// error body, as WAF and proxy error pages do.
//
// Every request that no rule matches is forwarded unchanged, so a test
// reads a real registry through the proxy and only the requests it aims at
// go wrong. The proxy listens on 127.0.0.1 only and is closed, with every
// stalled answer released, when the test ends.
package faultproxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kind classifies a registry request by its path.
type Kind int

// The kinds of request a rule can aim at.
const (
	Any Kind = iota
	Ping
	Manifest
	Blob
	Token
)

func (k Kind) String() string {
	return [...]string{"any", "ping", "manifest", "blob", "token"}[k]
}

var blobPath = regexp.MustCompile(`^/v2/.+/blobs/(sha256:[a-f0-9]{64})$`)

// KindOf classifies a request path.
func KindOf(path string) Kind {
	switch {
	case path == "/v2/" || path == "/v2":
		return Ping
	case strings.Contains(path, "/manifests/"):
		return Manifest
	case blobPath.MatchString(path):
		return Blob
	case strings.Contains(path, "token"):
		return Token
	}
	return Any
}

// Match selects the requests a rule applies to. Zero fields match anything.
type Match struct {
	Kind Kind
	// Digest restricts the rule to one blob or manifest digest.
	Digest string
	// Ranged: 0 any, 1 only requests with a Range header, -1 only without.
	Ranged int
	// Method restricts the rule to one method (GET, HEAD).
	Method string
}

func (m Match) matches(r *http.Request) bool {
	if m.Kind != Any && KindOf(r.URL.Path) != m.Kind {
		return false
	}
	if m.Digest != "" && !strings.HasSuffix(r.URL.Path, "/"+m.Digest) {
		return false
	}
	if m.Method != "" && r.Method != m.Method {
		return false
	}
	switch hasRange := r.Header.Get("Range") != ""; {
	case m.Ranged > 0 && !hasRange, m.Ranged < 0 && hasRange:
		return false
	}
	return true
}

// Fault is what the proxy does to a matched request. Exactly one field
// that describes a behaviour should be set.
type Fault struct {
	// Status answers with this code (and Body) without asking upstream.
	Status int
	// RetryAfter is sent as Retry-After with Status.
	RetryAfter string
	// Body is the body sent with Status.
	Body string
	// EchoHeaders answers Status (500 if zero) with every request header
	// written into the body, one "Name: value" a line, as a WAF page does.
	EchoHeaders bool
	// Reset closes the connection without an answer (TCP RST).
	Reset bool
	// StallHeaders never answers: the client waits for headers.
	StallHeaders bool
	// StallAfter forwards upstream's headers and the first StallAfter
	// bytes of its body (0 is allowed with Stall set), then sends nothing
	// more until the client gives up or the proxy closes.
	Stall      bool
	StallAfter int64
	// Trickle forwards upstream's answer one byte every Trickle.
	Trickle time.Duration
	// TruncateAfter forwards upstream's headers and the first N bytes,
	// then closes the connection.
	TruncateAfter int64
	Truncate      bool
	// IgnoreRange drops the Range header, so upstream answers 200 with
	// the whole blob.
	IgnoreRange bool
	// Rewrite replaces the body of upstream's answer (status and other
	// headers kept; Content-Length follows the new body). Used to lie in a
	// Range answer, for example about a gzip trailer.
	Rewrite func(r *http.Request, body []byte) []byte
	// RedirectLoop answers 307 to the request's own URL, forever.
	RedirectLoop bool
	// RedirectTo answers 307 to this base URL (another host), path kept.
	RedirectTo string
	// HugeHeader adds a header of this many bytes to upstream's answer.
	HugeHeader int
	// HugeBody answers 200 with this many bytes of JSON-ish filler, with
	// the upstream's Content-Type.
	HugeBody int64
}

// Rule is a fault applied to matching requests.
type Rule struct {
	Match Match
	Fault Fault
	// Times limits how many matching requests are affected (0: all); later
	// matching requests are forwarded unchanged.
	Times int

	hits atomic.Int64
}

// Hits is how many requests the rule has affected so far.
func (r *Rule) Hits() int64 { return r.hits.Load() }

// Proxy is a running fault layer.
type Proxy struct {
	// URL is "http://127.0.0.1:PORT"; Addr the host:port part, to use in
	// image references.
	URL, Addr string

	upstream *url.URL
	client   *http.Client
	srv      *httptest.Server
	done     chan struct{}
	closeMu  sync.Once

	mu       sync.Mutex
	rules    []*Rule
	requests []Request
}

// Request is one request the proxy saw.
type Request struct {
	Method, Path, Range string
	Kind                Kind
	// Authorization tells whether the request carried credentials.
	Authorization bool
	// Fault is the index of the rule that affected it, -1 if none.
	Fault int
	// At is when the proxy received it.
	At time.Time
}

// Options configure the upstream connection.
type Options struct {
	// RootCAs trusts the upstream's certificate (TLS upstreams).
	RootCAs *x509.CertPool
}

// New starts a proxy in front of upstream ("http://127.0.0.1:5000" or
// "https://…") for the lifetime of t.
func New(t testing.TB, upstream string, opts Options, rules ...*Rule) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("faultproxy: upstream %q: %v", upstream, err)
	}
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: opts.RootCAs},
		MaxIdleConnsPerHost: 16,
		DisableCompression:  true,
	}
	p := &Proxy{
		upstream: u,
		client: &http.Client{
			Transport: tr,
			// Upstream redirects go back to the client as they are.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		done:  make(chan struct{}),
		rules: rules,
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.Config.MaxHeaderBytes = 1 << 20
	p.srv.Start()
	p.URL = p.srv.URL
	p.Addr = strings.TrimPrefix(p.srv.URL, "http://")
	t.Cleanup(p.Close)
	t.Cleanup(tr.CloseIdleConnections)
	return p
}

// Close releases every stalled answer and stops the proxy.
func (p *Proxy) Close() {
	p.closeMu.Do(func() {
		close(p.done)
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
}

// SetRules replaces the rules from now on.
func (p *Proxy) SetRules(rules ...*Rule) {
	p.mu.Lock()
	p.rules = rules
	p.mu.Unlock()
}

// Requests returns what the proxy has seen so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Count returns how many requests of kind k the proxy has seen.
func (p *Proxy) Count(k Kind) int {
	n := 0
	for _, r := range p.Requests() {
		if k == Any || r.Kind == k {
			n++
		}
	}
	return n
}

// pick returns the first rule that matches and still has uses left.
func (p *Proxy) pick(r *http.Request) (int, *Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, rule := range p.rules {
		if !rule.Match.matches(r) {
			continue
		}
		if rule.Times > 0 && rule.hits.Load() >= int64(rule.Times) {
			continue
		}
		rule.hits.Add(1)
		return i, rule
	}
	return -1, nil
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	i, rule := p.pick(r)
	p.mu.Lock()
	p.requests = append(p.requests, Request{
		Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Kind: KindOf(r.URL.Path),
		Authorization: r.Header.Get("Authorization") != "", Fault: i, At: time.Now(),
	})
	p.mu.Unlock()
	if rule == nil {
		p.forward(w, r, Fault{})
		return
	}
	f := rule.Fault
	switch {
	case f.EchoHeaders:
		code := f.Status
		if code == 0 {
			code = http.StatusInternalServerError
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<html><body><h1>Request rejected</h1><pre>\n%s %s\n", r.Method, r.URL.RequestURI())
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range r.Header[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.WriteString("</pre></body></html>\n")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		io.WriteString(w, b.String())
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
	case f.Reset:
		p.reset(w)
	case f.StallHeaders:
		p.wait(r)
	case f.RedirectLoop:
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
	case f.RedirectTo != "":
		http.Redirect(w, r, strings.TrimSuffix(f.RedirectTo, "/")+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	case f.HugeBody > 0:
		w.Header().Set("Content-Length", strconv.FormatInt(f.HugeBody, 10))
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for left := f.HugeBody; left > 0; {
			n := min(left, int64(len(chunk)))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			left -= n
		}
	default:
		p.forward(w, r, f)
	}
}

// wait blocks until the client goes away or the proxy closes.
func (p *Proxy) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.done:
	}
}

func (p *Proxy) reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST
	}
	conn.Close()
}

// forward asks upstream and passes its answer on, applying f's body faults.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, f Fault) {
	u := *p.upstream
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	if f.IgnoreRange {
		req.Header.Del("Range")
	}
	req.ContentLength = r.ContentLength
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	// A redirect upstream to its own address would bypass the proxy.
	if loc := resp.Header.Get("Location"); loc != "" {
		h.Set("Location", strings.Replace(loc, p.upstream.Scheme+"://"+p.upstream.Host, p.URL, 1))
	}
	if f.HugeHeader > 0 {
		h.Set("X-Filler", strings.Repeat("x", f.HugeHeader))
	}
	var body io.Reader = resp.Body
	if f.Rewrite != nil {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			p.reset(w)
			return
		}
		b = f.Rewrite(r, b)
		h.Set("Content-Length", strconv.Itoa(len(b)))
		body = bytes.NewReader(b)
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	switch {
	case f.Stall:
		if f.StallAfter > 0 {
			_, _ = io.CopyN(w, body, f.StallAfter)
		}
		flush()
		p.wait(r)
	case f.Truncate:
		_, _ = io.CopyN(w, body, f.TruncateAfter)
		flush()
		p.reset(w)
	case f.Trickle > 0:
		one := make([]byte, 1)
		for {
			if _, err := io.ReadFull(body, one); err != nil {
				return
			}
			if _, err := w.Write(one); err != nil {
				return
			}
			flush()
			select {
			case <-time.After(f.Trickle):
			case <-r.Context().Done():
				return
			case <-p.done:
				return
			}
		}
	default:
		_, _ = io.Copy(w, body)
	}
}
