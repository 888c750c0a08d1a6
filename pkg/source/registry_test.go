package source_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// staticKeychain hands the same credentials to every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
}

// anonymous keeps tests independent of the machine's Docker config.
var anonymous = staticKeychain{}

func (k staticKeychain) opts() source.Options {
	if k == anonymous {
		return source.Options{Keychain: authn.NewMultiKeychain()}
	}
	return source.Options{Keychain: k}
}

func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestOpenRegistry(t *testing.T) {
	t.Parallel()
	host := newRegistry(t)
	img := genImage(t, 50, 2, 500, &linuxAmd64)
	amd := genImage(t, 51, 1, 500, &linuxAmd64)
	arm := genImage(t, 52, 1, 500, &linuxArm64)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &linuxAmd64}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &linuxArm64}},
	)
	imgRef, err := name.ParseReference(host + "/app/single:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(imgRef, img); err != nil {
		t.Fatal(err)
	}
	idxRef, err := name.ParseReference(host + "/app/multi:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(idxRef, idx); err != nil {
		t.Fatal(err)
	}
	facts := factsOf(t, img)

	for _, c := range []struct {
		name, arg string
		platform  string
		want      v1.Image
		wantErr   error
		fragments []string
	}{
		{name: "bare", arg: host + "/app/single:v1", want: img},
		{name: "docker://", arg: "docker://" + host + "/app/single:v1", want: img},
		{name: "by digest", arg: host + "/app/single@" + facts.digest.String(), want: img},
		{name: "single image ignores platform", arg: host + "/app/single:v1", platform: "linux/s390x", want: img},
		{name: "index default", arg: host + "/app/multi:v1", want: amd},
		{name: "index arm64", arg: "docker://" + host + "/app/multi:v1", platform: "linux/arm64", want: arm},
		{name: "index absent platform", arg: host + "/app/multi:v1", platform: "linux/s390x", wantErr: errdefs.ErrNotFound, fragments: []string{"linux/s390x", "linux/amd64", "linux/arm64"}},
		{name: "absent tag", arg: host + "/app/single:v2", wantErr: errdefs.ErrNotFound, fragments: []string{"v2"}},
		{name: "absent repository", arg: host + "/app/nothing:v1", wantErr: errdefs.ErrNotFound, fragments: []string{"app/nothing"}},
		{name: "bad reference", arg: "docker://" + host + "/App:v1", wantErr: errdefs.ErrUsage, fragments: []string{"invalid image reference"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := anonymous.opts()
			if c.platform != "" {
				p, err := source.ParsePlatform(c.platform)
				if err != nil {
					t.Fatal(err)
				}
				opts.Platform = p
			}
			got, err := source.Open(context.Background(), c.arg, opts)
			if c.wantErr != nil {
				if err == nil {
					got.Close()
				}
				checkErr(t, err, c.wantErr, c.fragments...)
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.arg, err)
			}
			defer got.Close()
			if d, want := digestOf(t, got.Image), digestOf(t, c.want); d != want {
				t.Errorf("digest = %s, want %s", d, want)
			}
			if !got.Remote || got.Transport != source.Registry || got.SyntheticManifest {
				t.Errorf("Remote, Transport, SyntheticManifest = %v, %q, %v; want true, %q, false", got.Remote, got.Transport, got.SyntheticManifest, source.Registry)
			}
			if want := host + "/app/"; !strings.HasPrefix(got.Name, want) || !strings.HasSuffix(got.Name, "@"+digestOf(t, c.want).String()) {
				t.Errorf("Name = %q, want %sREPO@%s", got.Name, want, digestOf(t, c.want))
			}
			if c.want == img {
				checkLayers(t, got.Image, facts.wantLayers(), facts.diffIDs())
			}
		})
	}
}

// TestOpenRegistryUnauthorized: a registry refusing every request yields
// ErrUnauthorized, and the credentials that were sent appear nowhere in
// the error. The server records the Authorization headers it saw, so the
// test proves the secret was actually in play.
func TestOpenRegistryUnauthorized(t *testing.T) {
	t.Parallel()
	const user, pass = "user", "hunter2"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	for _, scheme := range []string{"basic", "bearer"} {
		t.Run(scheme, func(t *testing.T) {
			var sawSecret atomic.Bool
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.Header.Get("Authorization"), basic) {
					sawSecret.Store(true)
				}
				if scheme == "basic" {
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				} else {
					w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test"`)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, kc := range []staticKeychain{{user, pass}, anonymous} {
				img, err := source.Open(context.Background(), "docker://"+host+"/app:v1", kc.opts())
				if err == nil {
					img.Close()
				}
				checkErr(t, err, errdefs.ErrUnauthorized)
				for _, secret := range []string{pass, basic} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks the credentials: %q", err)
					}
				}
			}
			if !sawSecret.Load() {
				t.Error("the server never received the credentials; the leak check proves nothing")
			}
		})
	}
}

// TestOpenRegistryUnreachable: nothing listens any more. The error is an
// image error (exit 3), not a usage error, and names the registry.
func TestOpenRegistryUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	start := time.Now()
	img, err := source.Open(context.Background(), host+"/app:v1", anonymous.opts())
	if err == nil {
		img.Close()
		t.Fatal("Open of a closed server succeeded")
	}
	if errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("unreachable registry gave a usage error: %v", err)
	}
	if !strings.Contains(err.Error(), host) {
		t.Errorf("error %q does not name %s", err, host)
	}
	t.Logf("unreachable: %v after %v", err, time.Since(start))
}

// TestOpenRegistryServerError: a registry answering 500 forever. The reader
// retries (DESIGN: do better than skopeo's single try) but gives up in
// bounded time with an image error.
func TestOpenRegistryServerError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				requests.Add(1)
				http.Error(w, "boom", status)
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			start := time.Now()
			// Short pauses between the tries: the count is what matters.
			opts := anonymous.opts()
			opts.RetryDelay = 10 * time.Millisecond
			img, err := source.Open(context.Background(), host+"/app:v1", opts)
			elapsed := time.Since(start)
			if err == nil {
				img.Close()
				t.Fatal("Open succeeded against a failing server")
			}
			if errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("server error classified as a usage error: %v", err)
			}
			if !strings.Contains(err.Error(), host) {
				t.Errorf("error %q does not name %s", err, host)
			}
			n := requests.Load()
			t.Logf("%d: %d requests in %v: %v", status, n, elapsed, err)
			if n < 2 {
				t.Errorf("%d requests: a %d was not retried", n, status)
			}
			if n > 10 || elapsed > 15*time.Second {
				t.Errorf("%d requests in %v: retries are not bounded", n, elapsed)
			}
		})
	}
}

// TestOpenRegistryCancelled: a cancelled context stops the retries.
func TestOpenRegistryCancelled(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, "boom", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	img, err := source.Open(ctx, strings.TrimPrefix(srv.URL, "http://")+"/app:v1", anonymous.opts())
	elapsed := time.Since(start)
	if err == nil {
		img.Close()
		t.Fatal("Open succeeded against a failing server")
	}
	t.Logf("cancelled after %v and %d requests: %v", elapsed, requests.Load(), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q is not context.DeadlineExceeded", err)
	}
}

// TestOpenRegistryStatus: the error kind follows the HTTP status even when
// the registry sends no distribution-spec error body, and follows the body
// when the status alone says little.
func TestOpenRegistryStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		status  int
		body    string
		wantErr error
	}{
		{"401 without body", http.StatusUnauthorized, "", errdefs.ErrUnauthorized},
		{"403 without body", http.StatusForbidden, "", errdefs.ErrUnauthorized},
		{"404 without body", http.StatusNotFound, "", errdefs.ErrNotFound},
		{"400 DENIED", http.StatusBadRequest, `{"errors":[{"code":"DENIED","message":"no"}]}`, errdefs.ErrUnauthorized},
		{"400 MANIFEST_UNKNOWN", http.StatusBadRequest, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no"}]}`, errdefs.ErrNotFound},
		{"400 NAME_UNKNOWN", http.StatusBadRequest, `{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}`, errdefs.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					return // ping: anonymous access
				}
				if c.body != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			img, err := source.Open(context.Background(), host+"/app:v1", anonymous.opts())
			if err == nil {
				img.Close()
			}
			checkErr(t, err, c.wantErr, host+"/app:v1")
		})
	}
}
