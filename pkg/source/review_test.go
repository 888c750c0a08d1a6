package source

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request to %s went out", r.URL)
	return nil, errors.New("unexpected")
}

// TestPlainHTTPOnlyToLoopback: plain HTTP leaves this machine only with
// --insecure. The guard answers before dialling, so no packet is sent to
// the private address used here.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	guard := loopbackHTTPOnly{failingTransport{t}}
	for _, u := range []string{"http://10.1.2.3/v2/", "http://192.168.1.9:5000/v2/", "http://registry.example/v2/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if _, err := guard.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "--insecure") {
			t.Errorf("%s: err = %v, want a refusal pointing at --insecure", u, err)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "127.0.0.2": true, "localhost": true, "::1": true, "10.0.0.1": false, "registry.example": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, !want, want)
		}
	}
	// With --insecure the request goes through to the inner transport.
	called := false
	open := Options{Insecure: true, Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("stop here")
	})}.baseTransport()
	req, _ := http.NewRequest(http.MethodGet, "http://10.1.2.3/v2/", nil)
	open.RoundTrip(req)
	if !called {
		t.Error("--insecure did not let plain HTTP through")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func pushIndex(t *testing.T, host string, platforms ...v1.Platform) string {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		img, err := random.Image(100, 1)
		if err != nil {
			t.Fatal(err)
		}
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	ref, _ := name.ParseReference(host + "/multi:latest")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

func TestPlatformVariants(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	ref := pushIndex(t, host, v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"})
	// An index that leaves arm64's variant unsaid still serves arm64/v8.
	img, err := Open(ctx, ref, Options{Platform: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}})
	if err != nil {
		t.Fatalf("linux/arm64/v8 against an unstated arm64 variant: %v", err)
	}
	img.Close()

	// Without a variant, the default one is meant: arm v7, amd64 v1.
	for _, tc := range []struct {
		platforms []v1.Platform
		want      v1.Platform
		pick      string
	}{
		{[]v1.Platform{{OS: "linux", Architecture: "arm", Variant: "v6"}, {OS: "linux", Architecture: "arm", Variant: "v7"}}, v1.Platform{OS: "linux", Architecture: "arm"}, "linux/arm/v7"},
		{[]v1.Platform{{OS: "linux", Architecture: "amd64", Variant: "v3"}, {OS: "linux", Architecture: "amd64"}}, v1.Platform{OS: "linux", Architecture: "amd64"}, "linux/amd64"},
		{[]v1.Platform{{OS: "linux", Architecture: "amd64", Variant: "v3"}, {OS: "linux", Architecture: "amd64"}}, v1.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, "linux/amd64/v3"},
	} {
		ref := pushIndex(t, host, tc.platforms...)
		img, err := Open(ctx, ref, Options{Platform: tc.want})
		if err != nil {
			t.Errorf("%s among %v: %v", tc.want.String(), tc.platforms, err)
			continue
		}
		d, _ := img.Image.Digest()
		idx, _ := remote.Index(mustRef(t, ref))
		im, _ := idx.IndexManifest()
		for _, m := range im.Manifests {
			if m.Digest == d && m.Platform.String() != tc.pick {
				t.Errorf("%s among %v picked %s, want %s", tc.want.String(), tc.platforms, m.Platform.String(), tc.pick)
			}
		}
		img.Close()
	}
	// Neither v5 nor v6 is arm's default: that is for the user to say.
	ref = pushIndex(t, host, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v5"}, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"})
	if _, err := Open(ctx, ref, Options{Platform: v1.Platform{OS: "linux", Architecture: "arm"}}); !errors.Is(err, errdefs.ErrUsage) || !strings.Contains(err.Error(), "linux/arm/v5") {
		t.Errorf("linux/arm against v5 and v6: err = %v, want a usage error naming both", err)
	}
}

// TestDirectoryNamedLikeAReference: a directory that shares a registry
// reference's name does not capture the reference.
func TestDirectoryNamedLikeAReference(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	im, _ := random.Image(100, 1)
	ref, _ := name.ParseReference(host + "/app:v1")
	if err := remote.Write(ref, im); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	// "127.0.0.1:PORT" exists here as a plain directory.
	if err := os.MkdirAll(filepath.Join(dir, strings.Split(host, ":")[0]), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), host+"/app:v1", Options{})
	if err != nil {
		t.Fatalf("reference shadowed by a directory: %v", err)
	}
	if img.Transport != Registry {
		t.Errorf("transport %s, want registry", img.Transport)
	}
	img.Close()
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
