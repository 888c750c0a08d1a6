package source_test

// Tests of ranged blob reads against go-containerregistry's in-process
// registry behind a proxy that each test makes misbehave: ignore Range,
// redirect to object storage, fail with 429/5xx, or answer a wrong
// Content-Range. The proxy logs what it sent, so the tests can check the
// client's claims (and its Stats) against the server's view. Expected
// bytes are the generator's own blob bytes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// fastBackoff keeps retry tests quick: three tries, 1 ms apart.
var fastBackoff = remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}

// credKeychain hands the same credentials to every registry.
type credKeychain struct{ user, pass string }

func (k credKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	if k.user == "" {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
}

// served is one response as the server sent it.
type served struct {
	server string // "registry" or "storage"
	method string
	path   string
	rng    string // the Range header received
	auth   string // the Authorization header received
	status int
	bytes  int64 // body bytes written successfully
	werr   error // a write error: the client hung up
}

// logWriter counts what a handler managed to write.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	werr   error
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	if err != nil && w.werr == nil {
		w.werr = err
	}
	return n, err
}

// rangeEnv is a registry behind a logging proxy, and an object storage
// server on another host name that the proxy may redirect blobs to.
type rangeEnv struct {
	t       *testing.T
	reg     *testutil.Registry
	proxy   *httptest.Server
	storage *httptest.Server
	host    string // the proxy's host:port, as image references name it

	// auth, when set, is "basic" or "bearer": the proxy then refuses
	// /v2/ requests without the right credentials.
	auth string
	// redirect sends every blob GET to the storage server.
	redirect bool
	// blobHook, when set, may answer a blob GET itself (returning true).
	blobHook func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool

	mu  sync.Mutex
	log []served
	// inflight counts handlers still running: a client may have its
	// whole answer before the handler has returned and logged it.
	inflight atomic.Int64
}

const (
	envUser, envPass = "user", "s3cret"
	envToken         = "tok-123"
)

func newRangeEnv(t *testing.T) *rangeEnv {
	t.Helper()
	e := &rangeEnv{t: t, reg: testutil.NewRegistry()}
	e.proxy = httptest.NewServer(http.HandlerFunc(e.serveProxy))
	t.Cleanup(e.proxy.Close)
	e.storage = httptest.NewServer(http.HandlerFunc(e.serveStorage))
	t.Cleanup(e.storage.Close)
	e.host = strings.TrimPrefix(e.proxy.URL, "http://")
	return e
}

func (e *rangeEnv) record(s served) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

// served returns a copy of the log, once every handler has finished.
func (e *rangeEnv) served() []served {
	e.quiesce()
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]served(nil), e.log...)
}

func (e *rangeEnv) authorized(r *http.Request) bool {
	got := r.Header.Get("Authorization")
	switch e.auth {
	case "basic":
		return got == "Basic "+base64.StdEncoding.EncodeToString([]byte(envUser+":"+envPass))
	case "bearer":
		return got == "Bearer "+envToken
	}
	return true
}

func (e *rangeEnv) serveProxy(w http.ResponseWriter, r *http.Request) {
	e.inflight.Add(1)
	defer e.inflight.Add(-1)
	lw := &logWriter{ResponseWriter: w}
	defer func() {
		e.record(served{server: "registry", method: r.Method, path: r.URL.Path, rng: r.Header.Get("Range"),
			auth: r.Header.Get("Authorization"), status: lw.status, bytes: lw.bytes, werr: lw.werr})
	}()
	if r.URL.Path == "/token" {
		// The token endpoint of a bearer-auth registry.
		lw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(lw, `{"token":%q}`, envToken)
		return
	}
	if !e.authorized(r) {
		switch e.auth {
		case "basic":
			lw.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		case "bearer":
			lw.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, e.proxy.URL))
		}
		lw.WriteHeader(http.StatusUnauthorized)
		return
	}
	if d, ok := blobDigest(r.URL.Path); ok && r.Method == http.MethodGet {
		if e.blobHook != nil && e.blobHook(lw, r, d) {
			return
		}
		if e.redirect {
			// Another host name, and a path as distribution's S3 driver
			// makes them: it holds "/v2/" and "/blobs/" too.
			u := strings.Replace(e.storage.URL, "127.0.0.1", "localhost", 1) +
				"/docker/registry/v2/blobs/sha256/" + d.Hex[:2] + "/" + d.Hex + "/data?X-Amz-Signature=abc"
			lw.Header().Set("Location", u)
			lw.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	e.reg.ServeHTTP(lw, r)
}

// serveStorage plays object storage: it serves blobs by path, with Range
// support, and needs no credentials.
func (e *rangeEnv) serveStorage(w http.ResponseWriter, r *http.Request) {
	e.inflight.Add(1)
	defer e.inflight.Add(-1)
	lw := &logWriter{ResponseWriter: w}
	defer func() {
		e.record(served{server: "storage", method: r.Method, path: r.URL.Path, rng: r.Header.Get("Range"),
			auth: r.Header.Get("Authorization"), status: lw.status, bytes: lw.bytes, werr: lw.werr})
	}()
	parts := strings.Split(r.URL.Path, "/")
	if len(parts) < 2 || parts[len(parts)-1] != "data" {
		http.NotFound(lw, r)
		return
	}
	hex := parts[len(parts)-2]
	// Ask the registry for the blob, unauthenticated: storage holds the
	// bytes, the proxy only guards access.
	in := r.Clone(r.Context())
	in.URL.Path = "/v2/repo/blobs/sha256:" + hex
	in.URL.RawQuery = ""
	in.Header.Del("Authorization")
	e.reg.ServeHTTP(lw, in)
}

// blobDigest recognises /v2/<repo>/blobs/<digest>.
func blobDigest(p string) (v1.Hash, bool) {
	i := strings.LastIndex(p, "/blobs/")
	if !strings.HasPrefix(p, "/v2/") || i < 0 {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(p[i+len("/blobs/"):])
	return h, err == nil
}

// digestIn reports whether a logged path names blob h, on either server.
func digestIn(path string, h v1.Hash) bool {
	return strings.HasSuffix(path, "/blobs/"+h.String()) || strings.Contains(path, "/"+h.Hex+"/")
}

// push stores img at repo:tag straight into the registry, bypassing the
// proxy, so the log holds only what the code under test asked for. Its
// layers are preloaded, not uploaded: pushing the 32 MiB layer over HTTP
// costs seconds of CPU under the race detector.
func (e *rangeEnv) push(img v1.Image, tag string) {
	e.t.Helper()
	e.reg.Preload(e.t, img)
	direct := httptest.NewServer(e.reg)
	defer direct.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(direct.URL, "http://") + "/repo:" + tag)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		e.t.Fatal(err)
	}
}

func (e *rangeEnv) options(st *source.Stats) source.Options {
	kc := credKeychain{}
	if e.auth != "" {
		kc = credKeychain{envUser, envPass}
	}
	b := fastBackoff
	return source.Options{Keychain: kc, Stats: st, RetryBackoff: &b}
}

func (e *rangeEnv) open(tag string, st *source.Stats) *source.Image {
	e.t.Helper()
	img, err := source.Open(context.Background(), e.host+"/repo:"+tag, e.options(st))
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	e.t.Cleanup(func() { img.Close() })
	return img
}

// rangeImage is a one-layer image whose layer blob is size random bytes.
type rangeImage struct {
	img    v1.Image
	blob   []byte
	digest v1.Hash
	config v1.Hash
}

func newRangeImage(t *testing.T, seed byte, size int) rangeImage {
	t.Helper()
	blob := make([]byte, size)
	rand.NewChaCha8([32]byte{seed}).Read(blob)
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(blob, types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return rangeImage{img: img, blob: blob, digest: sha256Hash(blob), config: cfg}
}

func (ri rangeImage) size() int64 { return int64(len(ri.blob)) }

func TestReadRange(t *testing.T) {
	t.Parallel()
	e := newRangeEnv(t)
	ri := newRangeImage(t, 1, 200_000)
	e.push(ri.img, "v1")
	img := e.open("v1", nil)
	if img.Blobs == nil {
		t.Fatal("a registry image has no BlobRanger")
	}
	size := ri.size()
	for _, rg := range [][2]int64{
		{0, 17},
		{size - 4, size - 1},
		{12345, 12345},
		{100_000, 100_000 + 999},
		{0, 64<<10 - 1}, // the largest range allowed
	} {
		t.Run(fmt.Sprintf("%d-%d", rg[0], rg[1]), func(t *testing.T) {
			got, err := img.Blobs.ReadRange(context.Background(), ri.digest, size, rg[0], rg[1])
			if err != nil {
				t.Fatal(err)
			}
			if want := ri.blob[rg[0] : rg[1]+1]; !bytes.Equal(got, want) {
				t.Errorf("got %d bytes % x…, want %d bytes % x…", len(got), got[:min(8, len(got))], len(want), want[:min(8, len(want))])
			}
		})
	}
	// Every read above was a 206 of exactly the bytes asked for.
	for _, s := range e.served() {
		if digestIn(s.path, ri.digest) && (s.status != http.StatusPartialContent || s.rng == "") {
			t.Errorf("layer request %s %s (Range %q) answered %d", s.method, s.path, s.rng, s.status)
		}
	}
}

// TestReadRangeInvalid: ranges the cheap paths never need are refused
// before any request is made.
func TestReadRangeInvalid(t *testing.T) {
	t.Parallel()
	e := newRangeEnv(t)
	ri := newRangeImage(t, 2, 100_000)
	e.push(ri.img, "v1")
	img := e.open("v1", nil)
	before := len(e.served())
	for _, rg := range [][2]int64{{-1, 3}, {5, 4}, {0, ri.size()}, {ri.size(), ri.size()}, {0, 64 << 10}} {
		if b, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), rg[0], rg[1]); err == nil {
			t.Errorf("range %d-%d accepted (%d bytes)", rg[0], rg[1], len(b))
		}
	}
	if after := len(e.served()); after != before {
		t.Errorf("%d requests made for invalid ranges", after-before)
	}
}

// TestReadRangeIgnored: a server that answers Range with 200 and the whole
// blob gets ErrRangeIgnored, and the client hangs up instead of reading.
//
// Two servers show it. One writes the blob at once, as real ones do: the
// kernel's socket buffers take a few MiB before the hang-up reaches it,
// so the proof is the client's own count (Stats) and the server's write
// failing short of the blob. The other sends the headers, then waits to
// see whether the client hangs up before it sends any body.
func TestReadRangeIgnored(t *testing.T) {
	t.Parallel()
	t.Run("server writes at once", func(t *testing.T) {
		t.Parallel()
		e := newRangeEnv(t)
		ri := newRangeImage(t, 3, 32<<20)
		e.push(ri.img, "v1")
		e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
			r.Header.Del("Range")
			e.reg.ServeHTTP(w, r)
			return true
		}
		var st source.Stats
		img := e.open("v1", &st)
		_, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), ri.size()-4, ri.size()-1)
		if !errors.Is(err, source.ErrRangeIgnored) {
			t.Fatalf("err = %v, want ErrRangeIgnored", err)
		}
		reqs, n := st.Counts(source.KindLayer)
		t.Logf("client read %d body bytes", n)
		if reqs != 1 || n >= 1<<20 {
			t.Errorf("client: %d layer requests, %d bytes read; want 1 request and far below the %d-byte blob", reqs, n, ri.size())
		}
		layer := e.waitServed(ri.digest)
		t.Logf("server wrote %d of %d bytes before the client hung up (%v)", layer.bytes, ri.size(), layer.werr)
		if layer.status != http.StatusOK || layer.werr == nil || layer.bytes >= ri.size() {
			t.Errorf("server: status %d, %d of %d bytes written, write error %v; want a 200 cut short", layer.status, layer.bytes, ri.size(), layer.werr)
		}
	})
	t.Run("server waits after the headers", func(t *testing.T) {
		t.Parallel()
		e := newRangeEnv(t)
		ri := newRangeImage(t, 3, 1<<20)
		e.push(ri.img, "v1")
		hungUp := make(chan time.Duration, 1)
		e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
			if d != ri.digest {
				return false
			}
			ignoreRangeSlowly(w, r, ri.blob, hungUp)
			return true
		}
		var st source.Stats
		img := e.open("v1", &st)
		_, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), 0, 17)
		if !errors.Is(err, source.ErrRangeIgnored) {
			t.Fatalf("err = %v, want ErrRangeIgnored", err)
		}
		if _, n := st.Counts(source.KindLayer); n != 0 {
			t.Errorf("client read %d body bytes, want 0", n)
		}
		if d := <-hungUp; d < 0 {
			t.Errorf("the client did not hang up: the server sent the whole blob")
		} else {
			t.Logf("client hung up %v after the headers", d)
		}
		if layer := e.waitServed(ri.digest); layer.bytes != 0 {
			t.Errorf("server wrote %d body bytes, want 0", layer.bytes)
		}
	})
}

// ignoreRangeSlowly answers 200 with blob, as a server ignoring Range
// does, but sends the headers first and waits up to 2 s to see whether
// the client hangs up; it sends the body only if it does not. hungUp gets
// how long the client took, or -1.
func ignoreRangeSlowly(w http.ResponseWriter, r *http.Request, blob []byte, hungUp chan<- time.Duration) {
	w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	start := time.Now()
	select {
	case <-r.Context().Done():
		hungUp <- time.Since(start)
	case <-time.After(2 * time.Second):
		hungUp <- -1
		w.Write(blob)
	}
}

// waitServed waits for the server to finish answering a request for blob
// h (after a hang-up it learns of it only when a write fails).
func (e *rangeEnv) waitServed(h v1.Hash) served {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, s := range e.served() {
			if digestIn(s.path, h) {
				return s
			}
		}
	}
	e.t.Fatalf("the server never finished answering for %s", h)
	return served{}
}

// TestReadRangeRedirect: blob GETs are redirected to object storage on
// another host. The ranged read follows, the storage server gets the
// Range header but no credentials, and Stats count the hop as layer
// traffic.
func TestReadRangeRedirect(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"", "basic", "bearer"} {
		t.Run("auth="+auth, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			e.auth, e.redirect = auth, true
			ri := newRangeImage(t, 4, 300_000)
			e.push(ri.img, "v1")
			var st source.Stats
			img := e.open("v1", &st)
			r0, b0 := st.Counts(source.KindLayer)
			got, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), 1000, 1099)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, ri.blob[1000:1100]) {
				t.Errorf("got % x…, want % x…", got[:8], ri.blob[1000:1008])
			}
			r1, b1 := st.Counts(source.KindLayer)
			if r1-r0 != 2 || b1-b0 != 100 {
				t.Errorf("Stats layer: %d requests, %d bytes; want 2 (redirect and storage hop), 100", r1-r0, b1-b0)
			}
			var hops []served
			for _, s := range e.served() {
				if digestIn(s.path, ri.digest) {
					hops = append(hops, s)
				}
			}
			if len(hops) != 2 || hops[0].server != "registry" || hops[0].status != http.StatusTemporaryRedirect ||
				hops[1].server != "storage" || hops[1].status != http.StatusPartialContent {
				t.Fatalf("layer requests %+v; want a 307 from the registry, then a 206 from storage", hops)
			}
			if hops[1].rng != "bytes=1000-1099" {
				t.Errorf("storage got Range %q, want bytes=1000-1099", hops[1].rng)
			}
			if auth != "" && hops[0].auth == "" {
				t.Errorf("the registry hop carried no credentials")
			}
			for _, s := range e.served() {
				if s.server == "storage" && s.auth != "" {
					t.Errorf("storage request %s got Authorization %q", s.path, s.auth)
				}
			}
		})
	}
}

// TestReadRangeRetries: 429 and 503 are retried; a server failing forever
// gives an error in bounded time, after a bounded number of tries.
func TestReadRangeRetries(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		statuses []int // answers before the registry's; 0 ends the list
		forever  int   // a status answered every time: ReadRange fails
		kind     error // the errdefs kind of that failure, if any
		tries    int   // how many requests the failure takes
	}{
		{name: "429 then 503 then success", statuses: []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}},
		{name: "502 then success", statuses: []int{http.StatusBadGateway}},
		{name: "503 forever", forever: http.StatusServiceUnavailable, tries: fastBackoff.Steps},
		{name: "429 forever", forever: http.StatusTooManyRequests, tries: fastBackoff.Steps},
		{name: "404", forever: http.StatusNotFound, kind: errdefs.ErrNotFound, tries: 1},
		{name: "403", forever: http.StatusForbidden, kind: errdefs.ErrUnauthorized, tries: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			ri := newRangeImage(t, 5, 50_000)
			e.push(ri.img, "v1")
			var mu sync.Mutex
			hits := 0
			e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
				if d != ri.digest {
					return false
				}
				mu.Lock()
				i := hits
				hits++
				mu.Unlock()
				switch {
				case tt.forever != 0:
					http.Error(w, "no", tt.forever)
				case i < len(tt.statuses):
					http.Error(w, "later", tt.statuses[i])
				default:
					return false
				}
				return true
			}
			img := e.open("v1", nil)
			start := time.Now()
			got, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), 0, 9)
			elapsed := time.Since(start)
			mu.Lock()
			n := hits
			mu.Unlock()
			t.Logf("%d tries in %v: %v", n, elapsed, err)
			if tt.forever == 0 {
				if err != nil || !bytes.Equal(got, ri.blob[:10]) {
					t.Fatalf("ReadRange = % x, %v; want % x", got, err, ri.blob[:10])
				}
				if n != len(tt.statuses)+1 {
					t.Errorf("%d tries, want %d", n, len(tt.statuses)+1)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadRange succeeded against a server answering %d", tt.forever)
			}
			if errors.Is(err, source.ErrRangeIgnored) || errors.Is(err, errdefs.ErrCorrupt) {
				t.Errorf("err = %v: a server error is neither an ignored Range nor corruption", err)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), ri.digest.String()) {
				t.Errorf("error %q does not name the blob", err)
			}
			if n != tt.tries || elapsed > 5*time.Second {
				t.Errorf("%d tries in %v, want %d, quickly", n, elapsed, tt.tries)
			}
		})
	}
}

// TestReadRangeCorrupt: a 206 that does not describe exactly the bytes
// asked for is corruption, not data.
func TestReadRangeCorrupt(t *testing.T) {
	t.Parallel()
	ri := newRangeImage(t, 6, 10_000)
	size := ri.size()
	const start, end = 100, 103
	for _, tt := range []struct {
		name         string
		contentRange string // "-": none
		body         []byte
		wantErr      error // nil: success
	}{
		{"correct", fmt.Sprintf("bytes %d-%d/%d", start, end, size), ri.blob[start : end+1], nil},
		{"unknown total", fmt.Sprintf("bytes %d-%d/*", start, end), ri.blob[start : end+1], nil},
		{"another range", fmt.Sprintf("bytes %d-%d/%d", start+1, end+1, size), ri.blob[start+1 : end+2], errdefs.ErrCorrupt},
		{"from the start", fmt.Sprintf("bytes 0-3/%d", size), ri.blob[:4], errdefs.ErrCorrupt},
		{"another total", fmt.Sprintf("bytes %d-%d/%d", start, end, size+1), ri.blob[start : end+1], errdefs.ErrCorrupt},
		{"no Content-Range", "-", ri.blob[start : end+1], errdefs.ErrCorrupt},
		{"malformed", fmt.Sprintf("bytes=%d-%d/%d", start, end, size), ri.blob[start : end+1], errdefs.ErrCorrupt},
		{"not numbers", "bytes a-b/c", ri.blob[start : end+1], errdefs.ErrCorrupt},
		{"short body", fmt.Sprintf("bytes %d-%d/%d", start, end, size), ri.blob[start : end-1], errdefs.ErrCorrupt},
		{"long body", fmt.Sprintf("bytes %d-%d/%d", start, end, size), ri.blob[start : end+3], errdefs.ErrCorrupt},
		{"empty body", fmt.Sprintf("bytes %d-%d/%d", start, end, size), nil, errdefs.ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			e.push(ri.img, "v1")
			e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
				if d != ri.digest {
					return false
				}
				if tt.contentRange != "-" {
					w.Header().Set("Content-Range", tt.contentRange)
				}
				w.Header().Set("Content-Length", fmt.Sprint(len(tt.body)))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(tt.body)
				return true
			}
			img := e.open("v1", nil)
			got, err := img.Blobs.ReadRange(context.Background(), ri.digest, size, start, end)
			if tt.wantErr == nil {
				if err != nil || !bytes.Equal(got, ri.blob[start:end+1]) {
					t.Errorf("ReadRange = % x, %v; want % x", got, err, ri.blob[start:end+1])
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadRange = % x, %v; want %v", got, err, tt.wantErr)
			}
		})
	}

	// A body cut off before its Content-Length: an error, not data.
	t.Run("connection cut mid-body", func(t *testing.T) {
		t.Parallel()
		e := newRangeEnv(t)
		e.push(ri.img, "v1")
		e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
			if d != ri.digest {
				return false
			}
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return true
			}
			fmt.Fprintf(buf, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: 4\r\n\r\n", start, end, size)
			buf.Write(ri.blob[start : start+2])
			buf.Flush()
			conn.Close()
			return true
		}
		img := e.open("v1", nil)
		if got, err := img.Blobs.ReadRange(context.Background(), ri.digest, size, start, end); err == nil {
			t.Errorf("ReadRange = % x from a cut body", got)
		}
	})
}

// TestReadRangeAuthenticatesOnce: however many ranged reads run at once,
// the registry is pinged and a token fetched at most once more than Open
// itself needed (the ranged reads may share Open's transport or set up
// their own, once), and every read is authorised.
func TestReadRangeAuthenticatesOnce(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"basic", "bearer"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			e.auth = auth
			ri := newRangeImage(t, 7, 100_000)
			e.push(ri.img, "v1")
			count := func() (pings, tokens int) {
				for _, s := range e.served() {
					switch s.path {
					case "/v2/":
						pings++
					case "/token":
						tokens++
					}
				}
				return pings, tokens
			}
			img := e.open("v1", nil)
			p0, t0 := count()
			const readers = 16
			var wg sync.WaitGroup
			errs := make([]error, readers)
			for i := range readers {
				wg.Go(func() {
					start := int64(i * 1000)
					b, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), start, start+99)
					if err == nil && !bytes.Equal(b, ri.blob[start:start+100]) {
						err = fmt.Errorf("range at %d: wrong bytes", start)
					}
					errs[i] = err
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			p1, t1 := count()
			t.Logf("Open: %d pings, %d tokens; %d reads: %d more pings, %d more tokens", p0, t0, readers, p1-p0, t1-t0)
			if p1-p0 > 1 || t1-t0 > 1 {
				t.Errorf("%d pings and %d token requests for %d concurrent reads, want at most 1 each", p1-p0, t1-t0, readers)
			}
			if auth == "bearer" && t1 < 1 {
				t.Errorf("no token was ever requested: the bearer challenge was not followed")
			}
			n := 0
			for _, s := range e.served() {
				if digestIn(s.path, ri.digest) {
					n++
					if s.status != http.StatusPartialContent {
						t.Errorf("layer request answered %d (auth %q)", s.status, s.auth)
					}
				}
			}
			if n != readers {
				t.Errorf("%d layer requests for %d reads", n, readers)
			}
		})
	}
}

// TestReadRangeCancelled: a cancelled context stops a read against a
// server that never answers.
func TestReadRangeCancelled(t *testing.T) {
	t.Parallel()
	e := newRangeEnv(t)
	ri := newRangeImage(t, 8, 10_000)
	e.push(ri.img, "v1")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
		if d != ri.digest {
			return false
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	img := e.open("v1", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := img.Blobs.ReadRange(ctx, ri.digest, ri.size(), 0, 3)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
}

// quiesce waits for the handlers still running to finish (a client that
// hung up is noticed by its handler a little later).
func (e *rangeEnv) quiesce() {
	for deadline := time.Now().Add(5 * time.Second); e.inflight.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d requests still being answered after 5 s", e.inflight.Load())
		}
	}
}
