package source_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// testIdle keeps stall tests near a second: three tries of it, plus backoff.
const testIdle = 250 * time.Millisecond

// guardEnv is the in-process registry behind a proxy whose hook may answer
// a request in its place (stall, trickle, redirect, echo).
type guardEnv struct {
	t    *testing.T
	reg  http.Handler
	host string
	ri   rangeImage
	hook atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]

	mu   sync.Mutex
	hits map[string]int // requests per path
	seen []http.Header  // request headers, in order
}

func newGuardEnv(t *testing.T) *guardEnv {
	t.Helper()
	e := &guardEnv{t: t, reg: registry.New(registry.Logger(log.New(io.Discard, "", 0))), hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits[r.URL.Path]++
		e.seen = append(e.seen, r.Header.Clone())
		e.mu.Unlock()
		if h := e.hook.Load(); h != nil && (*h)(w, r) {
			return
		}
		e.reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.host = strings.TrimPrefix(srv.URL, "http://")
	e.ri = newRangeImage(t, 7, 64<<10)
	direct := httptest.NewServer(e.reg)
	defer direct.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(direct.URL, "http://") + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, e.ri.img); err != nil {
		t.Fatal(err)
	}
	return e
}

// on installs a hook for requests whose path ends in suffix.
func (e *guardEnv) on(suffix string, h func(w http.ResponseWriter, r *http.Request)) {
	f := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, suffix) {
			return false
		}
		h(w, r)
		return true
	}
	e.hook.Store(&f)
}

func (e *guardEnv) hitsOf(suffix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for p, c := range e.hits {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func (e *guardEnv) options(kc credKeychain) source.Options {
	b := remote.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 3}
	return source.Options{Keychain: kc, RetryBackoff: &b, IdleTimeout: testIdle}
}

func (e *guardEnv) manifestDigest() v1.Hash {
	d, err := e.ri.img.Digest()
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// readLayer opens the image and reads its layer whole, through
// go-containerregistry's own client.
func (e *guardEnv) readLayer(kc credKeychain) ([]byte, error) {
	img, err := source.Open(context.Background(), e.host+"/app:v1", e.options(kc))
	if err != nil {
		return nil, err
	}
	defer img.Close()
	l, err := img.Image.LayerByDigest(e.ri.digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// stallAfter sends the headers and the first n bytes of body, then nothing
// until the client hangs up.
func stallAfter(body []byte, n int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:n])
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// checkStalled: the error is a stall, names what stalled, and came in
// bounded time after a bounded number of tries.
func checkStalled(t *testing.T, err error, start time.Time, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error from a stalled registry")
	}
	t.Logf("after %v: %v", time.Since(start), err)
	if !errors.Is(err, source.ErrStalled) {
		t.Errorf("error %q is not ErrStalled", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("error %q is classified as a deadline or a usage error", err)
	}
	for _, f := range append(fragments, "stalled") {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans lines", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

func TestStalledBody(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"layer", "manifest", "config"} {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			e := newGuardEnv(t)
			var target string
			var body []byte
			var err error
			switch c {
			case "layer":
				target, body = e.ri.digest.String(), e.ri.blob
			case "manifest":
				target = e.manifestDigest().String()
				body, err = e.ri.img.RawManifest()
			case "config":
				target = e.ri.config.String()
				body, err = e.ri.img.RawConfigFile()
			}
			if err != nil {
				t.Fatal(err)
			}
			e.on(target, stallAfter(body, 0))
			start := time.Now()
			if c == "manifest" {
				var img *source.Image
				img, err = source.Open(context.Background(), e.host+"/app@"+target, e.options(credKeychain{}))
				if err == nil {
					img.Close()
				}
			} else {
				_, err = e.readLayer(credKeychain{})
			}
			kind := map[string]string{"layer": "blob", "config": "blob", "manifest": "manifest"}[c]
			checkStalled(t, err, start, "registry "+e.host, kind+" "+target, "no data for "+testIdle.String())
			if n := e.hitsOf(target); n != 3 {
				t.Errorf("%d requests for %s, want 3 tries", n, target)
			}
		})
	}
}

func TestStalledHeaders(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	e.on(e.ri.digest.String(), func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	start := time.Now()
	_, err := e.readLayer(credKeychain{})
	checkStalled(t, err, start, "blob "+e.ri.digest.String(), "no response for")
	if n := e.hitsOf(e.ri.digest.String()); n != 3 {
		t.Errorf("%d requests, want 3 tries", n)
	}
}

func TestTrickle(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	e.on(e.ri.digest.String(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(e.ri.blob)))
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := range e.ri.blob {
			if _, err := w.Write(e.ri.blob[i : i+1]); err != nil {
				return
			}
			rc.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	start := time.Now()
	_, err := e.readLayer(credKeychain{})
	checkStalled(t, err, start, "blob "+e.ri.digest.String(), "below 1 KiB/s")
}

// TestStallResumes: the first GET stalls half way; the retry asks for the
// rest and the layer reads whole and right, whether the server honours the
// Range or sends the whole blob again.
func TestStallResumes(t *testing.T) {
	t.Parallel()
	for _, honour := range []bool{true, false} {
		t.Run(fmt.Sprintf("range honoured %v", honour), func(t *testing.T) {
			t.Parallel()
			e := newGuardEnv(t)
			blob, half := e.ri.blob, len(e.ri.blob)/2
			var calls atomic.Int32
			var gotRange atomic.Value
			e.on(e.ri.digest.String(), func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					stallAfter(blob, half)(w, r)
					return
				}
				gotRange.Store(r.Header.Get("Range"))
				if !honour {
					w.Write(blob)
					return
				}
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", half, len(blob)-1, len(blob)))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(blob[half:])
			})
			got, err := e.readLayer(credKeychain{})
			if err != nil {
				t.Fatalf("reading the layer: %v", err)
			}
			if !bytes.Equal(got, blob) {
				t.Errorf("read %d bytes, not the blob's %d", len(got), len(blob))
			}
			if r, want := gotRange.Load(), fmt.Sprintf("bytes=%d-", half); r != want {
				t.Errorf("retry sent Range %q, want %q", r, want)
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

// TestStallResumeRefused: a retry answering neither 206 with the right
// range nor 200 fails rather than splicing wrong bytes.
func TestStallResumeRefused(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	blob, half := e.ri.blob, len(e.ri.blob)/2
	var calls atomic.Int32
	e.on(e.ri.digest.String(), func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			stallAfter(blob, half)(w, r)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(blob)-1, len(blob)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(blob)
	})
	_, err := e.readLayer(credKeychain{})
	if err == nil || !strings.Contains(err.Error(), "Content-Range") {
		t.Fatalf("err = %v, want a refused Content-Range", err)
	}
}

func TestRedirectLoop(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	var hops atomic.Int32
	e.on(e.ri.digest.String(), func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(w, r, r.URL.Path+"?hop="+fmt.Sprint(hops.Load()), http.StatusFound)
	})
	_, err := e.readLayer(credKeychain{})
	if err == nil || !strings.Contains(err.Error(), "too many redirects (more than 10)") || !strings.Contains(err.Error(), e.ri.digest.String()) {
		t.Fatalf("err = %v, want too many redirects fetching the blob", err)
	}
	if n := hops.Load(); n > 11 {
		t.Errorf("%d requests in the redirect loop, want at most 11", n)
	}
}

// TestRedirectDropsCredentials: a blob redirected to another host gets no
// Authorization there, while the registry did get it.
func TestRedirectDropsCredentials(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	var storageAuth atomic.Value
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageAuth.Store(r.Header.Get("Authorization") + r.Header.Get("Proxy-Authorization"))
		w.Write(e.ri.blob)
	}))
	defer storage.Close()
	e.on(e.ri.digest.String(), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/data", http.StatusTemporaryRedirect)
	})
	kc := credKeychain{"bob", "redirect-pass-9"}
	got, err := e.readLayer(kc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, e.ri.blob) {
		t.Error("wrong bytes through the redirect")
	}
	if a, _ := storageAuth.Load().(string); a != "" {
		t.Errorf("storage host received credentials %q", a)
	}
	sent := false
	e.mu.Lock()
	for _, h := range e.seen {
		sent = sent || strings.HasPrefix(h.Get("Authorization"), "Basic ")
	}
	e.mu.Unlock()
	if !sent {
		t.Error("the registry never received the credentials: the test proves nothing")
	}
}

// TestErrorBodyRedacted: a proxy echoing the request headers in a 500
// body does not get the credentials into the error.
func TestErrorBodyRedacted(t *testing.T) {
	t.Parallel()
	e := newGuardEnv(t)
	e.on("/manifests/v1", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<html><pre>Request blocked\n%s %s\n", r.Method, r.URL)
		r.Header.Write(w)
		fmt.Fprintf(w, `{"password": "echo-pass-77"}</pre></html>`)
	})
	kc := credKeychain{"alice", "echo-pass-77"}
	_, err := source.Open(context.Background(), e.host+"/app:v1", e.options(kc))
	if err == nil {
		t.Fatal("Open succeeded against a failing proxy")
	}
	t.Logf("%v", err)
	b64 := base64.StdEncoding.EncodeToString([]byte("alice:echo-pass-77"))
	for _, secret := range []string{"echo-pass-77", b64} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}
	if !strings.Contains(err.Error(), "Request blocked") || !strings.Contains(err.Error(), "500") {
		t.Errorf("error %q lost the proxy's answer", err)
	}
}

// TestPingErrorWithoutTLSNoise: a plain-HTTP registry on this machine that
// refuses shows its answer, not the https try's TLS complaint, and keeps
// its kind.
func TestPingErrorWithoutTLSNoise(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "go away", http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := source.Open(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/app:v1", source.Options{Keychain: credKeychain{}})
	if err == nil {
		t.Fatal("Open succeeded")
	}
	t.Logf("%v", err)
	for _, noise := range []string{"TLS", "HTTPS client", "; "} {
		if strings.Contains(err.Error(), noise) {
			t.Errorf("error %q carries the https try's %q", err, noise)
		}
	}
	if !strings.Contains(err.Error(), "go away") || !errors.Is(err, errdefs.ErrUnauthorized) {
		t.Errorf("error %q lost the answer or its kind", err)
	}
}
