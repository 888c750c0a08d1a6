package files_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// member is one tar entry as a test writes it: the header exactly as given
// (names with "./" or "/", PAX names, whiteouts) and the content.
type member struct {
	hdr  tar.Header
	body []byte
}

func dir(name string, mode int64) member {
	return member{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: mode}}
}

func reg(name string, mode int64, body []byte) member {
	return member{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))}, body: body}
}

func symlink(name, target string) member {
	return member{hdr: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}
}

func hardlink(name, target string, mode int64) member {
	return member{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target, Mode: mode}}
}

// tarOf writes members to a tar stream.
func tarOf(t testing.TB, ms []member) []byte {
	t.Helper()
	// Sized up front: growing a buffer through the 16 MiB of the large
	// tests' layers costs more than writing them, under -race.
	n := 2 << 10
	for _, m := range ms {
		n += 1<<10 + len(m.body)
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	tw := tar.NewWriter(buf)
	for _, m := range ms {
		h := m.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing header %q: %v", h.Name, err)
		}
		if _, err := tw.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compression of a test layer's blob.
type compression string

const (
	gz   compression = "gzip"
	zst  compression = "zstd"
	none compression = "none"
)

func compress(t testing.TB, raw []byte, c compression) []byte {
	t.Helper()
	// Room for incompressible content (stored blocks add a few bytes in
	// each 64 KiB), as tarOf's buffer.
	buf := bytes.NewBuffer(make([]byte, 0, len(raw)+len(raw)>>10+1<<10))
	switch c {
	case gz:
		zw := gzip.NewWriter(buf)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case zst:
		zw, err := zstd.NewWriter(buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		return raw
	}
	return buf.Bytes()
}

func mediaType(c compression) types.MediaType {
	switch c {
	case gz:
		return types.OCILayer
	case zst:
		return types.OCILayerZStd
	}
	return types.OCIUncompressedLayer
}

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// blobLayer is a layer given by its stored bytes and the diff_id its
// config states, true or not, so tests can build broken layers too.
type blobLayer struct {
	blob   []byte
	diffID v1.Hash
	mt     types.MediaType
}

func (l blobLayer) Digest() (v1.Hash, error) { return sha(l.blob), nil }
func (l blobLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l blobLayer) Size() (int64, error)     { return int64(len(l.blob)), nil }
func (l blobLayer) MediaType() (types.MediaType, error) {
	return l.mt, nil
}
func (l blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

func newLayer(t testing.TB, blob []byte, diffID v1.Hash, mt types.MediaType) v1.Layer {
	t.Helper()
	l, err := partial.CompressedToLayer(blobLayer{blob: blob, diffID: diffID, mt: mt})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// layerOf builds a sound layer of ms, compressed with c.
func layerOf(t testing.TB, ms []member, c compression) v1.Layer {
	t.Helper()
	raw := tarOf(t, ms)
	return newLayer(t, compress(t, raw, c), sha(raw), mediaType(c))
}

func imageOf(t testing.TB, ls ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// writeLayout writes img as an OCI layout and returns its argument.
func writeLayout(t testing.TB, img v1.Image) (arg, dir string) {
	t.Helper()
	dir = t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir, dir
}

// writeOCIArchive writes img as an OCI layout inside a tar.
func writeOCIArchive(t testing.TB, img v1.Image) string {
	t.Helper()
	_, dir := writeLayout(t, img)
	out := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return "oci-archive:" + out
}

// writeDockerArchive writes img as `docker save` would (go-containerregistry
// stores each layer's blob as is: an uncompressed layer stays uncompressed).
func writeDockerArchive(t testing.TB, img v1.Image) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.NewTag("example.com/test:latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return "docker-archive:" + p
}

// testRegistry is an in-process registry that counts the requests for
// layer blobs.
type testRegistry struct {
	srv  *httptest.Server
	reg  *testutil.Registry
	host string

	mu         sync.Mutex
	blobGets   int
	stallBlobs bool
}

func newRegistry(t testing.TB) *testRegistry {
	t.Helper()
	r := &testRegistry{reg: testutil.NewRegistry()}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/blobs/sha256:") && req.Method == http.MethodGet {
			r.mu.Lock()
			r.blobGets++
			stall := r.stallBlobs
			r.mu.Unlock()
			if stall {
				// Send a little, then hang until the client gives up.
				w.WriteHeader(http.StatusOK)
				w.Write([]byte{0x1f, 0x8b, 8, 0})
				w.(http.Flusher).Flush()
				<-req.Context().Done()
				return
			}
		}
		r.reg.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	u, _ := url.Parse(r.srv.URL)
	r.host = u.Host
	return r
}

// push writes img under repo:tag and returns its argument.
func (r *testRegistry) push(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	ref, err := name.ParseReference(r.host + "/test:" + tag)
	if err != nil {
		t.Fatal(err)
	}
	r.reg.Preload(t, img) // not uploaded: see testutil.Registry
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	r.resetCount()
	return "docker://" + ref.String()
}

// layerGets returns the blob GETs since the last reset. Source.Open reads
// the config with one; tests count around Read only.
func (r *testRegistry) layerGets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets
}

func (r *testRegistry) resetCount() {
	r.mu.Lock()
	r.blobGets = 0
	r.mu.Unlock()
}

func open(t testing.TB, arg string) *source.Image {
	t.Helper()
	src, err := source.Open(context.Background(), arg, source.Options{})
	if err != nil {
		t.Fatalf("source.Open(%s): %v", arg, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// read opens arg and reads its files.
func read(t testing.TB, arg string, opts files.Options) ([]files.Layer, error) {
	t.Helper()
	return files.Read(context.Background(), open(t, arg), opts)
}

// pseudoRandom returns n deterministic bytes that do not compress.
// ChaCha8 fills b in bulk; a generator call per byte took half a second
// for the 16 MiB of the cancellation test under -race.
func pseudoRandom(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// countingProgress sums what Options.Progress reports.
type countingProgress struct {
	mu sync.Mutex
	n  int64
}

func (p *countingProgress) add(n int64) {
	p.mu.Lock()
	p.n += n
	p.mu.Unlock()
}

func (p *countingProgress) total() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
