package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// DefaultIdleTimeout is how long a registry may leave a request without
// response headers, or a response body without a byte, before the attempt
// fails (--idle-timeout). It also sets the window in which DefaultMinRate
// is measured. Attempts are retried, so a stall costs up to three times
// this plus the backoff.
const DefaultIdleTimeout = 30 * time.Second

// DefaultMinRate is the slowest a response body may arrive, in bytes per
// second, averaged over each window of the idle timeout while imgsize is
// waiting for it: a body that trickles in more slowly fails as a stall.
// Time imgsize spends elsewhere (decompressing, say) does not count.
const DefaultMinRate = 1024

// ErrStalled marks a registry answer that stopped arriving (no headers or
// no body bytes for the idle timeout) or trickled below the minimum rate,
// on every try. It is not context.DeadlineExceeded: --timeout is the
// user's overall budget, a stall the registry's failure.
var ErrStalled = errors.New("registry stalled")

// maxTries bounds the tries of a GET or HEAD that stalls: the first and
// two retries, whether the headers or the body stalled.
const maxTries = 3

// maxRedirects bounds a redirect chain on any client: go-containerregistry's
// own client follows same-host redirects without end.
const maxRedirects = 10

// maxManifest bounds a manifest or index body: the distribution spec has
// registries accept manifests up to 4 MiB, and go-containerregistry would
// otherwise hold up to 100 MiB of one in memory.
const maxManifest = 4 << 20

// maxErrorBody is read of an error answer, as go-containerregistry does.
const maxErrorBody = 64 << 10

// guard sits under authentication and retries and makes every registry
// request end: it times out missing headers and stalled or trickling
// bodies, retries and resumes safe requests that stall, caps redirect
// chains, and redacts credentials echoed in error answers before
// go-containerregistry quotes them.
type guard struct {
	inner   http.RoundTripper
	idle    time.Duration
	minRate int64
	backoff remote.Backoff
}

func (o Options) newGuard(inner http.RoundTripper) *guard {
	g := &guard{inner: inner, idle: o.IdleTimeout, minRate: o.MinRate, backoff: o.backoff()}
	if g.idle <= 0 {
		g.idle = DefaultIdleTimeout
	}
	if g.minRate <= 0 {
		g.minRate = DefaultMinRate
	}
	return g
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if hops := redirectHops(req); hops > maxRedirects {
		first := firstRequest(req)
		return nil, fmt.Errorf("registry %s: too many redirects (more than %d) fetching %s", first.URL.Host, maxRedirects, describe(first))
	}
	if v := req.Header.Get("Authorization"); v != "" {
		// Tokens from a token exchange are not in the keychain; what
		// is sent is what a proxy may echo.
		_, cred, _ := strings.Cut(v, " ")
		redact.Add(v, cred)
	}
	safe := (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
	bo := g.backoff
	for try := 1; ; try++ {
		resp, err := g.attempt(req)
		if err != nil {
			if !errors.Is(err, ErrStalled) || !safe || try >= maxTries {
				return nil, err
			}
			if err := sleep(req.Context(), bo.Step()); err != nil {
				return nil, err
			}
			continue
		}
		resp.Request = req
		switch {
		case resp.StatusCode >= 400:
			redactResponse(resp)
		case safe && req.Method == http.MethodGet:
			resp.Body = &resumingBody{g: g, req: req, first: resp, cur: resp.Body, try: try, backoff: bo}
		}
		// Outside the resume, so a resumed body is held to it too.
		if err := limitManifest(req, resp); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// attempt sends req once, failing it when the headers take longer than
// the idle timeout, and watches the body it returns.
func (g *guard) attempt(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(g.idle, cancel)
	resp, err := g.inner.RoundTrip(req.WithContext(ctx))
	// A timer that could not be stopped has cancelled ctx, or is about
	// to: the answer is lost either way, and it was the idle limit's doing
	// unless the caller's own context ended.
	stalled := !timer.Stop() && req.Context().Err() == nil
	if stalled {
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		return nil, g.stall(req, fmt.Sprintf("no response for %s (--idle-timeout)", g.idle))
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.Body == nil {
		cancel()
		return resp, nil
	}
	resp.Body = &watchedBody{g: g, req: req, rc: resp.Body, cancel: cancel}
	return resp, nil
}

func (g *guard) stall(req *http.Request, reason string) error {
	first := firstRequest(req)
	return &stallError{host: first.URL.Host, what: describe(first), reason: reason}
}

// stallError names the registry, what was fetched and how it stalled.
type stallError struct{ host, what, reason string }

func (e *stallError) Error() string {
	return fmt.Sprintf("registry %s: %s stalled: %s", e.host, e.what, e.reason)
}

func (e *stallError) Is(target error) bool { return target == ErrStalled }

// redirectHops counts the redirects that led to req, as http.Client
// records them.
func redirectHops(req *http.Request) int {
	n := 0
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		n++
	}
	return n
}

// firstRequest is the registry request a redirect chain started from.
func firstRequest(req *http.Request) *http.Request {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req
}

// describe names what a registry request fetches, from its path.
func describe(req *http.Request) string {
	p := req.URL.Path
	last := p[strings.LastIndex(p, "/")+1:]
	switch {
	case strings.Contains(p, "/blobs/uploads"):
	case strings.Contains(p, "/blobs/"):
		return "blob " + last
	case strings.Contains(p, "/manifests/"):
		return "manifest " + last
	case strings.HasSuffix(p, "/tags/list"):
		return "a page of the tag list of " + strings.TrimSuffix(strings.TrimPrefix(p, "/v2/"), "/tags/list")
	}
	return req.Method + " " + p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redactResponse replaces an error answer's body (at most maxErrorBody of
// it) and header values with their redacted text: go-containerregistry
// quotes the body in its errors, and proxies echo request headers there.
func redactResponse(resp *http.Response) {
	for k, vs := range resp.Header {
		for i, v := range vs {
			vs[i] = redact.String(v)
		}
		resp.Header[k] = vs
	}
	if resp.Body == nil || resp.Request.Method == http.MethodHead {
		return
	}
	// A body that stalls or breaks ends the read: the status is the answer.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	clean := []byte(redact.String(string(b)))
	resp.Body = io.NopCloser(bytes.NewReader(clean))
	resp.ContentLength = int64(len(clean))
	resp.Header.Set("Content-Length", strconv.Itoa(len(clean)))
}

// watchedBody fails a body that sends nothing for the idle timeout, or
// less than minRate × idle bytes in a window of the idle timeout. Only
// time spent waiting in Read counts, so a slow reader is not taken for a
// slow server. One timer runs while a Read waits; nothing polls.
type watchedBody struct {
	g      *guard
	req    *http.Request
	rc     io.ReadCloser
	cancel context.CancelFunc

	mu        sync.Mutex
	timer     *time.Timer
	gen       int // which arming of timer is current
	reading   bool
	readStart time.Time
	winWait   time.Duration // time waited in Read in this window, before readStart
	winBytes  int64
	err       error // the stall, once detected
	done      bool
}

func (w *watchedBody) Read(p []byte) (int, error) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return 0, w.err
	}
	w.reading = true
	w.readStart = time.Now()
	w.arm(w.g.idle - w.winWait)
	w.mu.Unlock()

	n, err := w.rc.Read(p)

	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	w.timer.Stop()
	w.reading = false
	w.winWait += time.Since(w.readStart)
	w.winBytes += int64(n)
	switch {
	case w.err != nil:
		return n, w.err
	case err == io.EOF:
		// A body that ends within a window is never too slow.
		w.done = true
	case w.winWait >= w.g.idle:
		if w.winBytes < w.minBytes() {
			w.fail(w.slow())
			return n, w.err
		}
		w.winWait, w.winBytes = 0, 0
	}
	return n, err
}

// arm starts the timer for a Read that may wait d more in this window.
// The caller holds mu.
func (w *watchedBody) arm(d time.Duration) {
	w.gen++
	gen := w.gen
	if w.timer != nil {
		w.timer.Stop()
	}
	// A timer per arming: a stale one that fires while the next Read
	// arms its own sees an old generation and does nothing.
	w.timer = time.AfterFunc(d, func() { w.fire(gen) })
}

// fire runs when a Read has waited out the window: the body stalls,
// unless the window brought enough bytes, which starts the next one.
func (w *watchedBody) fire(gen int) {
	w.mu.Lock()
	if gen != w.gen || !w.reading || w.done || w.err != nil {
		w.mu.Unlock()
		return
	}
	waited := time.Since(w.readStart)
	switch {
	case w.winBytes == 0:
		w.fail(fmt.Sprintf("no data for %s (--idle-timeout)", w.g.idle))
	case w.winBytes < w.minBytes():
		w.fail(w.slow())
	default:
		// The window is full and fast enough: this Read starts the next.
		w.winWait, w.winBytes = -waited, 0
		w.arm(w.g.idle)
	}
	failed := w.err != nil
	w.mu.Unlock()
	if failed {
		// The cancelled request ends the waiting Read over HTTP; closing
		// the body also ends it over a transport that ignores contexts.
		w.rc.Close()
	}
}

func (w *watchedBody) minBytes() int64 {
	return int64(float64(w.g.minRate) * w.g.idle.Seconds())
}

func (w *watchedBody) slow() string {
	return fmt.Sprintf("%d B in %s, below %s", w.winBytes, w.g.idle, rate(w.g.minRate))
}

// fail records the stall and aborts the request, which ends a waiting
// Read. The caller holds mu.
func (w *watchedBody) fail(reason string) {
	w.err = w.g.stall(w.req, reason)
	w.cancel()
}

func (w *watchedBody) Close() error {
	w.mu.Lock()
	w.done = true
	w.gen++
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	err := w.rc.Close()
	w.cancel()
	return err
}

func rate(bps int64) string {
	if bps%1024 == 0 {
		return fmt.Sprintf("%d KiB/s", bps/1024)
	}
	return fmt.Sprintf("%d B/s", bps)
}

// resumingBody retries a GET whose body stalls, within the request's
// tries: from where it stopped with "Range: bytes=N-" when the request
// had no Range of its own, or from the start when nothing had arrived.
// A server may answer the resumption with the whole body (200), whose
// first N bytes are skipped; the digest checks above catch a server that
// changed its answer.
type resumingBody struct {
	g         *guard
	req       *http.Request
	first     *http.Response
	cur       io.ReadCloser
	delivered int64
	try       int
	backoff   remote.Backoff
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		n, err := b.cur.Read(p)
		b.delivered += int64(n)
		if !errors.Is(err, ErrStalled) {
			return n, err
		}
		if n > 0 {
			// The stall shows again on the next Read.
			return n, nil
		}
		if !b.resumable() {
			return 0, err
		}
		if err := b.resume(err); err != nil {
			return 0, err
		}
	}
}

func (b *resumingBody) ownRange() bool { return b.req.Header.Get("Range") != "" }

func (b *resumingBody) resumable() bool {
	if b.try >= maxTries {
		return false
	}
	if b.ownRange() {
		return b.delivered == 0
	}
	return b.first.StatusCode == http.StatusOK
}

// resume replaces the stalled body with the rest of it, trying again while
// tries remain. stalled is the error to return when they run out.
func (b *resumingBody) resume(stalled error) error {
	b.cur.Close()
	for b.try < maxTries {
		if err := sleep(b.req.Context(), b.backoff.Step()); err != nil {
			return err
		}
		b.try++
		r := b.req.Clone(b.req.Context())
		partial := !b.ownRange() && b.delivered > 0
		if partial {
			r.Header.Set("Range", fmt.Sprintf("bytes=%d-", b.delivered))
		}
		resp, err := b.g.attempt(r)
		if errors.Is(err, ErrStalled) {
			stalled = err
			continue
		}
		if err != nil {
			return err
		}
		if err := b.accept(resp, partial); err != nil {
			resp.Body.Close()
			if errors.Is(err, ErrStalled) {
				stalled = err
				continue
			}
			return err
		}
		b.cur = resp.Body
		return nil
	}
	return stalled
}

// accept checks that a retry's answer continues the first one.
func (b *resumingBody) accept(resp *http.Response, partial bool) error {
	first := firstRequest(b.req)
	bad := func(why string) error {
		return fmt.Errorf("registry %s: %s stalled, and the retry %s", first.URL.Host, describe(first), why)
	}
	if !partial {
		if resp.StatusCode != b.first.StatusCode {
			return bad(fmt.Sprintf("answered %d instead of %d", resp.StatusCode, b.first.StatusCode))
		}
		if cr := resp.Header.Get("Content-Range"); cr != b.first.Header.Get("Content-Range") {
			return bad(fmt.Sprintf("answered Content-Range %q instead of %q", cr, b.first.Header.Get("Content-Range")))
		}
		return nil
	}
	length := b.first.ContentLength
	switch resp.StatusCode {
	case http.StatusPartialContent:
		want := fmt.Sprintf("bytes %d-", b.delivered)
		if length >= 0 {
			want = fmt.Sprintf("bytes %d-%d/%d", b.delivered, length-1, length)
		}
		if cr := resp.Header.Get("Content-Range"); cr != want && !(length < 0 && strings.HasPrefix(cr, want)) {
			return bad(fmt.Sprintf("answered Content-Range %q to bytes=%d-", cr, b.delivered))
		}
		return nil
	case http.StatusOK:
		if length >= 0 && resp.ContentLength >= 0 && resp.ContentLength != length {
			return bad(fmt.Sprintf("answered %d bytes instead of %d", resp.ContentLength, length))
		}
		if _, err := io.CopyN(io.Discard, resp.Body, b.delivered); err != nil {
			if errors.Is(err, ErrStalled) {
				return err
			}
			return bad(fmt.Sprintf("broke off before byte %d: %v", b.delivered, err))
		}
		return nil
	}
	return bad(fmt.Sprintf("answered %d to bytes=%d-", resp.StatusCode, b.delivered))
}

func (b *resumingBody) Close() error { return b.cur.Close() }

// limitManifest refuses a manifest answer, or a page of a tag list, over
// maxManifest, by its Content-Length when it states one and while reading
// when it does not.
func limitManifest(req *http.Request, resp *http.Response) error {
	if req.Method != http.MethodGet || resp.StatusCode >= 300 || !strings.Contains(req.URL.Path, "/manifests/") && !strings.HasSuffix(req.URL.Path, "/tags/list") {
		return nil
	}
	// A registry need accept no larger manifest; a tag list page has no
	// such rule, and this is imgsize's own bound on one.
	why := "the most a registry need accept"
	if strings.HasSuffix(req.URL.Path, "/tags/list") {
		why = "imgsize's bound on one page"
	}
	tooLarge := fmt.Errorf("registry %s: %s is larger than %d MiB, %s", req.URL.Host, describe(req), maxManifest>>20, why)
	if resp.ContentLength > maxManifest {
		resp.Body.Close()
		return errdefs.Wrap(errdefs.ErrCorrupt, tooLarge)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxManifest, err: errdefs.Wrap(errdefs.ErrCorrupt, tooLarge)}
	return nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, b.err
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
