package testutil

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Registry is go-containerregistry's in-process registry with its blobs
// in a store that a test can also fill directly (Preload). Under the race
// detector a push through HTTP costs about a second of CPU for every few
// MiB of layers, most of it the registry reading each upload into a
// growing buffer; a preloaded blob is found by the push and not sent.
type Registry struct {
	http.Handler
	blobs *blobStore
}

// NewRegistry returns a registry that logs nothing.
func NewRegistry() *Registry {
	b := &blobStore{m: map[v1.Hash][]byte{}}
	return &Registry{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(b)), blobs: b}
}

// Preload stores the blob of each of img's layers, as the layer gives it,
// under the layer's digest. A push of img then uploads only its config
// and manifest.
func (r *Registry) Preload(t testing.TB, img v1.Image) {
	t.Helper()
	layerBlobs(t, img, r.blobs.add)
}

// layerBlobs calls f with the digest and stored blob of each of img's
// layers, in order.
func layerBlobs(t testing.TB, img v1.Image, f func(v1.Hash, []byte)) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		size, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		// Read into a buffer of its size, not a growing one, and 1 MiB at
		// a time: a single copy of tens of MiB cannot be preempted, and
		// under -race it held up the GC, which spun waiting, for seconds.
		b := make([]byte, size)
		for off := 0; off < len(b) && err == nil; off += 1 << 20 {
			_, err = io.ReadFull(rc, b[off:min(off+1<<20, len(b))])
		}
		rc.Close()
		if err != nil {
			t.Fatalf("reading layer %s: %v", d, err)
		}
		f(d, b)
	}
}

// blobStore is the registry's blob storage, as go-containerregistry's
// in-memory one (whose store a test cannot reach).
type blobStore struct {
	mu sync.Mutex
	m  map[v1.Hash][]byte
}

func (s *blobStore) add(h v1.Hash, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[h] = b
}

func (s *blobStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

// Get returns a reader with ReadAt, from which the registry serves a
// Range.
func (s *blobStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return readAtCloser{bytes.NewReader(b)}, nil
}

// Put stores an upload; the registry's rc fails when the bytes do not
// match h.
func (s *blobStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	s.add(h, b)
	return nil
}

// Delete removes a blob, as the in-memory store does.
func (s *blobStore) Delete(_ context.Context, _ string, h v1.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok {
		return registry.ErrNotFound
	}
	delete(s.m, h)
	return nil
}

type readAtCloser struct{ *bytes.Reader }

func (readAtCloser) Close() error { return nil }
