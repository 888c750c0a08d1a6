package faultproxy_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/faultproxy"
)

// upstream is go-containerregistry's in-process registry holding one
// image, whose first layer's digest is returned.
func upstream(t *testing.T) (string, v1.Hash) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	img, err := random.Image(3000, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	return srv.URL, d
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaults(t *testing.T) {
	t.Parallel()
	up, layer := upstream(t)
	blob := "/v2/app/blobs/" + layer.String()
	_, want, err := get(t, up+blob, nil)
	if err != nil || len(want) == 0 {
		t.Fatalf("upstream blob: %v", err)
	}

	t.Run("forwards unmatched requests unchanged", func(t *testing.T) {
		rule := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Manifest}, Fault: faultproxy.Fault{Status: 500}}
		p := faultproxy.New(t, up, faultproxy.Options{}, rule)
		resp, b, err := get(t, p.URL+blob, nil)
		if err != nil || resp.StatusCode != 200 || string(b) != string(want) {
			t.Fatalf("status %v err %v, %d bytes, want the blob's %d", resp, err, len(b), len(want))
		}
		if rule.Hits() != 0 || p.Count(faultproxy.Blob) != 1 {
			t.Errorf("hits %d, blob requests %d", rule.Hits(), p.Count(faultproxy.Blob))
		}
	})

	t.Run("status with Retry-After, only Times times", func(t *testing.T) {
		rule := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: faultproxy.Fault{Status: 429, RetryAfter: "1"}, Times: 1}
		p := faultproxy.New(t, up, faultproxy.Options{}, rule)
		resp, _, _ := get(t, p.URL+blob, nil)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("first: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if resp, _, _ := get(t, p.URL+blob, nil); resp.StatusCode != 200 {
			t.Errorf("second: %d, want 200 once the rule is used up", resp.StatusCode)
		}
	})

	t.Run("stall holds the body until the client gives up", func(t *testing.T) {
		rule := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: faultproxy.Fault{Stall: true, StallAfter: 5}}
		p := faultproxy.New(t, up, faultproxy.Options{}, rule)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+blob, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != 5 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("read %d bytes, err %v; want 5 then the deadline", len(b), err)
		}
	})

	t.Run("echo writes request headers into the body", func(t *testing.T) {
		rule := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: faultproxy.Fault{EchoHeaders: true}}
		p := faultproxy.New(t, up, faultproxy.Options{}, rule)
		resp, b, _ := get(t, p.URL+blob, map[string]string{"Authorization": "Basic dXNlcjpzZWNyZXQ="})
		if resp.StatusCode != 500 || !strings.Contains(string(b), "Authorization: Basic dXNlcjpzZWNyZXQ=") {
			t.Errorf("%d %q", resp.StatusCode, b)
		}
		if rq := p.Requests(); len(rq) != 1 || !rq[0].Authorization || rq[0].Fault != 0 {
			t.Errorf("requests %+v", rq)
		}
	})

	t.Run("redirect loop points at itself", func(t *testing.T) {
		rule := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: faultproxy.Fault{RedirectLoop: true}}
		p := faultproxy.New(t, up, faultproxy.Options{}, rule)
		resp, _, _ := get(t, p.URL+blob, nil)
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != blob {
			t.Errorf("%d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("rewrite and ignore range", func(t *testing.T) {
		rw := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, Fault: faultproxy.Fault{Rewrite: func(_ *http.Request, b []byte) []byte { return []byte("LIES") }}, Times: 1}
		ig := &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, Fault: faultproxy.Fault{IgnoreRange: true}}
		p := faultproxy.New(t, up, faultproxy.Options{}, rw, ig)
		resp, b, _ := get(t, p.URL+blob, map[string]string{"Range": "bytes=0-3"})
		if resp.StatusCode != 206 || string(b) != "LIES" {
			t.Errorf("rewrite: %d %q", resp.StatusCode, b)
		}
		resp, b, _ = get(t, p.URL+blob, map[string]string{"Range": "bytes=0-3"})
		if resp.StatusCode != 200 || len(b) != len(want) {
			t.Errorf("ignored range: %d, %d bytes", resp.StatusCode, len(b))
		}
	})

	t.Run("reset and truncate break the connection", func(t *testing.T) {
		for _, f := range []faultproxy.Fault{{Reset: true}, {Truncate: true, TruncateAfter: 7}} {
			p := faultproxy.New(t, up, faultproxy.Options{}, &faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: f})
			if _, b, err := get(t, p.URL+blob, nil); err == nil {
				t.Errorf("%+v: read %d bytes without an error", f, len(b))
			}
		}
	})
}
