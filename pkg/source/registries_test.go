package source_test

import (
	"context"
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
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/source"
)

// TestRegistriesShare: the images of one run, opened at once from three
// repositories of one registry, cost one ping in all and, with bearer
// authentication, one token per repository; every image still reads
// right, and its ranged reads are authorised. Without Registries each
// image pings on its own (what the run saves).
func TestRegistriesShare(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"", "basic", "bearer"} {
		t.Run("auth="+auth, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			e.auth = auth
			repos := []string{"repo", "other", "third"}
			var refs []string
			want := map[string]rangeImage{}
			direct := httptest.NewServer(e.reg)
			defer direct.Close()
			for i, repo := range repos {
				for _, tag := range []string{"v1", "v2"} {
					ri := newRangeImage(t, byte(10+2*i+len(tag)+len(refs)), 5000)
					ref, err := name.ParseReference(strings.TrimPrefix(direct.URL, "http://") + "/" + repo + ":" + tag)
					if err != nil {
						t.Fatal(err)
					}
					if err := remote.Write(ref, ri.img); err != nil {
						t.Fatal(err)
					}
					r := e.host + "/" + repo + ":" + tag
					refs = append(refs, r)
					want[r] = ri
				}
			}
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
			openAll := func(opts source.Options) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make([]error, len(refs))
				for i, r := range refs {
					wg.Go(func() {
						img, err := source.Open(context.Background(), r, opts)
						if err != nil {
							errs[i] = err
							return
						}
						defer img.Close()
						ri := want[r]
						b, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), 10, 19)
						if err == nil && string(b) != string(ri.blob[10:20]) {
							err = fmt.Errorf("%s: wrong bytes in range", r)
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			opts := e.options(nil)
			opts.Registries = &source.Registries{}
			openAll(opts)
			pings, tokens := count()
			wantTokens := 0
			if auth == "bearer" {
				wantTokens = len(repos)
			}
			if pings != 1 || tokens != wantTokens {
				t.Errorf("%d images of %d repositories with Registries: %d pings, %d token requests; want 1 and %d", len(refs), len(repos), pings, tokens, wantTokens)
			}
			// Once more with the same Registries: nothing more to ask.
			openAll(opts)
			if p, tk := count(); p != pings || tk != tokens {
				t.Errorf("a second round with the same Registries pinged %d and fetched %d tokens more", p-pings, tk-tokens)
			}
			openAll(e.options(nil))
			if p, _ := count(); p-pings != len(refs) {
				t.Errorf("without Registries: %d pings for %d images, want one each", p-pings, len(refs))
			}
			for _, s := range e.served() {
				if s.status == 401 && s.path != "/v2/" {
					t.Errorf("%s %s answered 401: a shared transport lost its credentials", s.method, s.path)
				}
			}
		})
	}
}

// TestRegistriesPingFailureNotKept: a ping answered 503 (after its
// retries) fails that image, and the next image of the run pings again
// and reads once the registry is back, rather than getting the stored 503.
func TestRegistriesPingFailureNotKept(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	var pings atomic.Int32
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			pings.Add(1)
			if down.Load() {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/app:v1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	opts := anonymous.opts()
	opts.Registries = &source.Registries{}
	opts.RetryDelay = time.Millisecond
	down.Store(true)
	if got, err := source.Open(context.Background(), ref, opts); err == nil {
		got.Close()
		t.Fatal("opened through a registry whose ping answers 503")
	}
	down.Store(false)
	before := pings.Load()
	got, err := source.Open(context.Background(), ref, opts)
	if err != nil {
		t.Fatalf("the registry is back, the run still fails: %v", err)
	}
	got.Close()
	if pings.Load() == before {
		t.Error("the second image did not ping again")
	}
}
