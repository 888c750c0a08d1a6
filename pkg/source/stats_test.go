package source_test

// Tests of --stats accounting: what Stats counts for an Open and a ranged
// read must be what the servers logged sending, request for request and
// byte for byte, with redirect hops counted as the blob they fetch.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/source"
)

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[source.Kind]string{
		source.KindManifest: "manifest",
		source.KindConfig:   "config",
		source.KindLayer:    "layer",
		source.KindOther:    "other",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// kindCount is requests and body bytes of one kind.
type kindCount struct{ requests, bytes int64 }

// serverCounts classifies what the servers logged, by the test's own
// knowledge of which digest is which.
func serverCounts(log []served, config, layer v1.Hash) map[source.Kind]kindCount {
	out := map[source.Kind]kindCount{}
	for _, s := range log {
		k := source.KindOther
		switch {
		case strings.Contains(s.path, "/manifests/"):
			k = source.KindManifest
		case digestIn(s.path, config):
			k = source.KindConfig
		case digestIn(s.path, layer):
			k = source.KindLayer
		}
		c := out[k]
		c.requests++
		c.bytes += s.bytes
		out[k] = c
	}
	return out
}

func statsCounts(st *source.Stats) map[source.Kind]kindCount {
	out := map[source.Kind]kindCount{}
	for _, k := range []source.Kind{source.KindManifest, source.KindConfig, source.KindLayer, source.KindOther} {
		r, b := st.Counts(k)
		out[k] = kindCount{r, b}
	}
	return out
}

// TestStatsMatchServer opens an image and reads a layer's trailer, then
// compares Stats with the server logs, and with what the generator says
// the manifest, config and range weigh.
func TestStatsMatchServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		auth     string
		redirect bool
		// failFirst answers the first ranged request with this status.
		failFirst int
	}{
		{name: "plain"},
		{name: "basic auth", auth: "basic"},
		{name: "bearer token", auth: "bearer"},
		{name: "redirect to storage", redirect: true},
		{name: "redirect to storage, bearer token", auth: "bearer", redirect: true},
		{name: "429 once", failFirst: http.StatusTooManyRequests},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRangeEnv(t)
			e.auth, e.redirect = tt.auth, tt.redirect
			ri := newRangeImage(t, 20, 50_000)
			e.push(ri.img, "v1")
			var once sync.Once
			e.blobHook = func(w http.ResponseWriter, r *http.Request, d v1.Hash) bool {
				failed := false
				if d == ri.digest && tt.failFirst != 0 {
					once.Do(func() {
						http.Error(w, "slow down", tt.failFirst)
						failed = true
					})
				}
				return failed
			}
			var st source.Stats
			img := e.open("v1", &st)
			got, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), ri.size()-4, ri.size()-1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, ri.blob[len(ri.blob)-4:]) {
				t.Fatalf("trailer % x, want % x", got, ri.blob[len(ri.blob)-4:])
			}
			server := serverCounts(e.served(), ri.config, ri.digest)
			client := statsCounts(&st)
			for _, k := range []source.Kind{source.KindManifest, source.KindConfig, source.KindLayer} {
				if client[k] != server[k] {
					t.Errorf("%s: Stats say %d requests, %d bytes; the servers sent %d, %d", k, client[k].requests, client[k].bytes, server[k].requests, server[k].bytes)
				}
			}
			// Pings and tokens: the client need not read every body.
			if o, s := client[source.KindOther], server[source.KindOther]; o.requests != s.requests || o.bytes > s.bytes {
				t.Errorf("other: Stats say %d requests, %d bytes; the servers sent %d, %d", o.requests, o.bytes, s.requests, s.bytes)
			}

			// The generator's view: one manifest, one config, one range of
			// 4 bytes, each through one more hop when redirected.
			raw, _ := ri.img.RawManifest()
			cfg, _ := ri.img.RawConfigFile()
			hops := int64(1)
			if tt.redirect {
				hops = 2
			}
			layerReqs := hops
			if tt.failFirst != 0 {
				layerReqs++
			}
			want := map[source.Kind]kindCount{
				source.KindManifest: {1, int64(len(raw))},
				source.KindConfig:   {hops, int64(len(cfg))},
				source.KindLayer:    {layerReqs, 4},
			}
			for k, w := range want {
				c := client[k]
				if k == source.KindLayer && tt.failFirst != 0 {
					// The refused request's error body is read too.
					w.bytes += int64(len("slow down\n"))
				}
				if c != w {
					t.Errorf("%s: Stats say %d requests, %d bytes; want %d, %d", k, c.requests, c.bytes, w.requests, w.bytes)
				}
			}
		})
	}
}

// TestStatsConcurrent: Stats may be shared by concurrent reads (run with
// -race); no request or byte is lost.
func TestStatsConcurrent(t *testing.T) {
	t.Parallel()
	e := newRangeEnv(t)
	ri := newRangeImage(t, 21, 300_000)
	e.push(ri.img, "v1")
	var st source.Stats
	img := e.open("v1", &st)
	r0, b0 := st.Counts(source.KindLayer)
	const readers = 32
	var wg sync.WaitGroup
	var sum int64
	errs := make(chan error, readers)
	for i := range readers {
		n := int64(i + 1)
		sum += n
		wg.Go(func() {
			start := int64(i) * 5000
			b, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), start, start+n-1)
			if err == nil && !bytes.Equal(b, ri.blob[start:start+n]) {
				err = fmt.Errorf("wrong bytes at %d", start)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r1, b1 := st.Counts(source.KindLayer)
	if r1-r0 != readers || b1-b0 != sum {
		t.Errorf("Stats layer: %d requests, %d bytes; want %d, %d", r1-r0, b1-b0, readers, sum)
	}
}

// TestStatsZeroValue: a fresh Stats reads all zeros, and an image opened
// without Stats works.
func TestStatsZeroValue(t *testing.T) {
	t.Parallel()
	var st source.Stats
	for _, k := range []source.Kind{source.KindManifest, source.KindConfig, source.KindLayer, source.KindOther} {
		if r, b := st.Counts(k); r != 0 || b != 0 {
			t.Errorf("%s: %d, %d; want 0, 0", k, r, b)
		}
	}
	e := newRangeEnv(t)
	ri := newRangeImage(t, 22, 5000)
	e.push(ri.img, "v1")
	img := e.open("v1", nil)
	if _, err := img.Blobs.ReadRange(context.Background(), ri.digest, ri.size(), 0, 0); err != nil {
		t.Fatal(err)
	}
}
