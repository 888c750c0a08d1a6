package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pipeTransport answers every request with 200 and a body the test writes.
type pipeTransport struct {
	body *io.PipeReader
	ctx  context.Context // the context the last request was sent with
}

func (p *pipeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p.ctx = r.Context()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: p.body, ContentLength: -1, Request: r}, nil
}

func guardedGet(t *testing.T, write func(w *io.PipeWriter)) (body io.ReadCloser, sent context.Context) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { write(pw); pw.Close() }()
	fake := &pipeTransport{body: pr}
	b := remote.Backoff{Duration: time.Millisecond, Steps: 3}
	rt := Options{Transport: fake, RetryBackoff: &b, IdleTimeout: 100 * time.Millisecond}.baseTransport()
	// HEAD keeps the guard from retrying: these tests watch one body.
	req, err := http.NewRequest(http.MethodHead, "http://127.0.0.1:1/v2/app/blobs/sha256:abc", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Body, fake.ctx
}

// TestWatchedBody: what the body watchdog accepts and refuses, with an
// idle timeout of 100 ms (so at least 102 bytes per window).
func TestWatchedBody(t *testing.T) {
	t.Parallel()
	chunk := strings.Repeat("x", 4096)
	tests := []struct {
		name    string
		write   func(w *io.PipeWriter)
		consume time.Duration // pause between reads
		want    string        // in the error; "" for success
	}{
		{"fast", func(w *io.PipeWriter) { io.WriteString(w, chunk) }, 0, ""},
		{"steady over several windows", func(w *io.PipeWriter) {
			for range 10 {
				io.WriteString(w, chunk[:200])
				time.Sleep(30 * time.Millisecond)
			}
		}, 0, ""},
		// The reader's own slowness is not the server's.
		{"slow reader", func(w *io.PipeWriter) {
			for range 3 {
				io.WriteString(w, chunk[:10])
			}
		}, 150 * time.Millisecond, ""},
		{"burst then silence", func(w *io.PipeWriter) {
			io.WriteString(w, chunk)
			time.Sleep(time.Second)
		}, 0, "no data for 100ms"},
		{"trickle", func(w *io.PipeWriter) {
			for range 20 {
				io.WriteString(w, "x")
				time.Sleep(20 * time.Millisecond)
			}
		}, 0, "below 1 KiB/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, sent := guardedGet(t, tt.write)
			var err error
			buf := make([]byte, 512)
			for err == nil {
				_, err = body.Read(buf)
				time.Sleep(tt.consume)
			}
			if err == io.EOF {
				err = nil
			}
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if tt.want != "" && !errors.Is(err, ErrStalled) {
				t.Errorf("err %v is not ErrStalled", err)
			}
			body.Close()
			// Close releases the request: nothing is left waiting on it.
			if sent.Err() == nil {
				t.Error("the request's context is still live after Close")
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/v2/a/b/blobs/sha256:12", "blob sha256:12"},
		{"HEAD", "/v2/a/manifests/v1", "manifest v1"},
		{"GET", "/v2/", "GET /v2/"},
		{"POST", "/v2/a/blobs/uploads/", "POST /v2/a/blobs/uploads/"},
	} {
		req, _ := http.NewRequest(tt.method, "http://h"+tt.path, nil)
		if got := describe(req); got != tt.want {
			t.Errorf("describe(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}
