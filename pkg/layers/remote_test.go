package layers_test

// End-to-end tests of Load on registry images: go-containerregistry's
// in-process registry behind a proxy that may ignore Range or redirect
// blobs to object storage on another host. The image holds one layer of
// each kind the cheap paths treat differently, made here from real
// compressors; every uncompressed figure is checked against
// `gzip -dc | wc -c` (or zstd, or cat) of the blob, and the proxy's log of
// what it sent per blob proves what was fetched, and how often.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgsize/imgsize/internal/testutil"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// Proxy behaviours.
const (
	modePlain       = "plain"
	modeRedirect    = "redirect"     // blob GETs: 307 to storage on another host
	modeIgnore      = "ignore-range" // Range answered 200; waits for a hang-up before the body
	modeIgnoreBlast = "ignore-range, blast"
	// Range answers whose last 4 bytes claim 4 GiB − 512: a gzip trailer
	// no 4 kB blob can have.
	modeLieISIZE = "lie-isize"
)

// blobTraffic is what the servers sent for one blob.
type blobTraffic struct {
	ranged, full int   // requests with and without Range that got bytes
	bytes        int64 // body bytes written successfully
	storageAuth  int   // storage requests that carried credentials
	notHungUp    int   // ignored-Range answers the client kept reading
	blasted      int   // ignored-Range answers written at once
}

type rlEnv struct {
	t       *testing.T
	reg     *testutil.Registry
	proxy   *httptest.Server
	storage *httptest.Server
	host    string
	mode    string
	basic   bool // require basic auth at the proxy

	mu      sync.Mutex
	traffic map[string]*blobTraffic // by digest hex
	// inflight counts handlers still running: a client may have its
	// whole answer before the handler has returned and noted it.
	inflight atomic.Int64
}

const rlUser, rlPass = "ci", "p4ss"

func newRLEnv(t *testing.T, mode string) *rlEnv {
	t.Helper()
	e := &rlEnv{t: t, mode: mode, reg: testutil.NewRegistry(), traffic: map[string]*blobTraffic{}}
	e.proxy = httptest.NewServer(http.HandlerFunc(e.serveProxy))
	t.Cleanup(e.proxy.Close)
	e.storage = httptest.NewServer(http.HandlerFunc(e.serveStorage))
	t.Cleanup(e.storage.Close)
	e.host = strings.TrimPrefix(e.proxy.URL, "http://")
	return e
}

// countingRW counts body bytes written.
type countingRW struct {
	http.ResponseWriter
	n int64
}

func (w *countingRW) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingRW) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (e *rlEnv) note(hex string, f func(*blobTraffic)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	bt := e.traffic[hex]
	if bt == nil {
		bt = &blobTraffic{}
		e.traffic[hex] = bt
	}
	f(bt)
}

// of returns what was sent for blob h, once every handler has finished.
func (e *rlEnv) of(h v1.Hash) blobTraffic {
	e.quiesce()
	e.mu.Lock()
	defer e.mu.Unlock()
	if bt := e.traffic[h.Hex]; bt != nil {
		return *bt
	}
	return blobTraffic{}
}

func (e *rlEnv) reset() {
	e.quiesce()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.traffic = map[string]*blobTraffic{}
}

func (e *rlEnv) serveProxy(w http.ResponseWriter, r *http.Request) {
	e.inflight.Add(1)
	defer e.inflight.Add(-1)
	if e.basic && r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(rlUser+":"+rlPass)) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	i := strings.LastIndex(r.URL.Path, "/blobs/sha256:")
	if i < 0 || r.Method != http.MethodGet {
		e.reg.ServeHTTP(w, r)
		return
	}
	hex := r.URL.Path[i+len("/blobs/sha256:"):]
	switch e.mode {
	case modeRedirect:
		w.Header().Set("Location", strings.Replace(e.storage.URL, "127.0.0.1", "localhost", 1)+
			"/docker/registry/v2/blobs/sha256/"+hex[:2]+"/"+hex+"/data")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	case modeIgnore, modeIgnoreBlast:
		if r.Header.Get("Range") != "" {
			e.ignoreRange(w, r, hex)
			return
		}
	case modeLieISIZE:
		if r.Header.Get("Range") != "" {
			rec := httptest.NewRecorder()
			e.serveBlob(rec, r, hex)
			body := rec.Body.Bytes()
			if len(body) >= 4 {
				binary.LittleEndian.PutUint32(body[len(body)-4:], 1<<32-512)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
			return
		}
	}
	e.serveBlob(w, r, hex)
}

// serveBlob answers from the registry and accounts for it.
func (e *rlEnv) serveBlob(w http.ResponseWriter, r *http.Request, hex string) {
	cw := &countingRW{ResponseWriter: w}
	in := r.Clone(r.Context())
	in.URL.Path = "/v2/repo/blobs/sha256:" + hex
	in.Header.Del("Authorization")
	e.reg.ServeHTTP(cw, in)
	e.note(hex, func(bt *blobTraffic) {
		if r.Header.Get("Range") != "" {
			bt.ranged++
		} else {
			bt.full++
		}
		bt.bytes += cw.n
	})
}

// ignoreRange answers 200 with the whole blob. In modeIgnore it sends the
// headers and waits up to 2 s for the client to hang up before sending
// the body, so bytes counts only what a client that keeps reading gets;
// in modeIgnoreBlast it writes at once, as most servers do.
func (e *rlEnv) ignoreRange(w http.ResponseWriter, r *http.Request, hex string) {
	in := r.Clone(r.Context())
	in.Header.Del("Range")
	in.Header.Del("Authorization")
	in.URL.Path = "/v2/repo/blobs/sha256:" + hex
	if e.mode == modeIgnoreBlast {
		// What reaches the socket before the hang-up depends on kernel
		// buffers: only the count of such answers is kept.
		e.reg.ServeHTTP(w, in)
		e.note(hex, func(bt *blobTraffic) { bt.blasted++ })
		return
	}
	rec := httptest.NewRecorder()
	e.reg.ServeHTTP(rec, in)
	w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	select {
	case <-r.Context().Done():
	case <-time.After(2 * time.Second):
		n, _ := w.Write(rec.Body.Bytes())
		e.note(hex, func(bt *blobTraffic) { bt.notHungUp++; bt.bytes += int64(n) })
	}
}

func (e *rlEnv) serveStorage(w http.ResponseWriter, r *http.Request) {
	e.inflight.Add(1)
	defer e.inflight.Add(-1)
	parts := strings.Split(r.URL.Path, "/")
	if len(parts) < 2 || parts[len(parts)-1] != "data" {
		http.NotFound(w, r)
		return
	}
	hex := parts[len(parts)-2]
	if r.Header.Get("Authorization") != "" {
		e.note(hex, func(bt *blobTraffic) { bt.storageAuth++ })
	}
	e.serveBlob(w, r, hex)
}

// push stores img at repo:tag in the registry, bypassing the proxy. Its
// layers are preloaded rather than uploaded (see testutil.Registry).
func (e *rlEnv) push(img v1.Image, tag string) {
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

type rlKeychain struct{ basic bool }

func (k rlKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	if !k.basic {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: rlUser, Password: rlPass}), nil
}

// load opens tag through the proxy and loads it; st may be nil.
func (e *rlEnv) load(tag string, st *source.Stats, opts layers.Options) *layers.Image {
	e.t.Helper()
	img, err := e.loadErr(tag, st, opts)
	if err != nil {
		e.t.Fatalf("loading %s: %v", tag, err)
	}
	return img
}

func (e *rlEnv) loadErr(tag string, st *source.Stats, opts layers.Options) (*layers.Image, error) {
	ctx := context.Background()
	src, err := source.Open(ctx, e.host+"/repo:"+tag, source.Options{
		Keychain:     rlKeychain{basic: e.basic},
		Stats:        st,
		RetryBackoff: &remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3},
	})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return layers.Load(ctx, src, opts)
}

// rlLayer is one layer of the test image and what must be learned of it.
type rlLayer struct {
	name string
	blob []byte
	mt   types.MediaType
	ann  map[string]string
	tool string // decompresses the blob for the independent count
	// cheap is the provenance the cheap path must give (Exact: it must
	// fall back); why is a fragment of the fallback's reason.
	cheap layers.Provenance
	why   string
	// ranged: the cheap path makes one ranged request for this layer.
	ranged bool
	// count is the independent count, filled in by rlImage.
	count int64
}

func (l rlLayer) digest() v1.Hash {
	h, _, err := v1.SHA256(bytes.NewReader(l.blob))
	if err != nil {
		panic(err)
	}
	return h
}

func rlRandom(seed byte, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func rlTar(t *testing.T, seed byte, sizes ...int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, n := range sizes {
		// Half random, half text: some compression, not all.
		body := rlRandom(seed+byte(i), n)
		for j := 0; j < n/2; j++ {
			body[j] = "imgsize "[j%8]
		}
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rlGzip(t *testing.T, members ...[]byte) []byte {
	t.Helper()
	var out []byte
	for _, m := range members {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(m)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes()...)
	}
	return out
}

func rlZstd(t *testing.T, b []byte, withSize bool) []byte {
	t.Helper()
	if withSize {
		e, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.EncodeAll(b, nil)
	}
	// A streaming writer fed in pieces writes no content size, as
	// containers/image's does.
	var buf bytes.Buffer
	e, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for p := b; len(p) > 0; p = p[min(len(p), 64<<10):] {
		e.Write(p[:min(len(p), 64<<10)])
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rlCount is the independent count: what `TOOL blob | wc -c` prints
// (see outputSize).
func rlCount(t *testing.T, tool string, blob []byte) int64 {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return outputSize(t, append(strings.Fields(tool), p)...)
}

// outputSize runs a command and returns the length of what it writes,
// as `CMD | wc -c` prints it: the size of the file it writes to. The
// command runs by itself: a shell and wc for each of the many layers
// counted cost more CPU than the decompressing.
func outputSize(t *testing.T, cmdline ...string) int64 {
	t.Helper()
	testutil.RequireTool(t, cmdline[0])
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(cmdline[0], cmdline[1:]...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(cmdline, " "), err, stderr.Bytes())
	}
	fi, err := out.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// rlLayers makes one layer of each kind; seed varies the bytes so that
// images can share some layers and not others.
func rlLayers(t *testing.T, seed byte) []rlLayer {
	t.Helper()
	return rlFirstLayers(t, seed, len(rlKinds))
}

// rlFirstLayers makes the first n layers rlLayers makes, for a test that
// uses no more: each costs a Go gzip (slow under -race) and a tool's
// decompression.
func rlFirstLayers(t *testing.T, seed byte, n int) []rlLayer {
	t.Helper()
	var ls []rlLayer
	for _, kind := range rlKinds[:n] {
		l := kind(t, seed)
		l.count = rlCount(t, l.tool, l.blob)
		ls = append(ls, l)
	}
	return ls
}

// rlKinds makes each kind of layer of rlLayers from a seed.
var rlKinds = []func(t *testing.T, seed byte) rlLayer{
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{name: "gzip", blob: rlGzip(t, rlTar(t, seed, 150_000, 30_000)), mt: types.OCILayer, tool: "gzip -dc", cheap: layers.GzipTrailer, ranged: true}
	},
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{name: "docker gzip", blob: rlGzip(t, rlTar(t, seed+30, 70_000)), mt: types.DockerLayer, tool: "gzip -dc", cheap: layers.GzipTrailer, ranged: true}
	},
	// zstd is always counted, with or without a content size in its
	// frame header: the header describes one frame, and nothing says
	// the blob holds only one (see probe.go). The first was sized from
	// its header before; the figure is the same, now counted.
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{name: "zstd with content size", blob: rlZstd(t, rlTar(t, seed+40, 200_000), true), mt: types.OCILayerZStd, tool: "zstd -dc", cheap: layers.Exact, why: "a frame header describes one frame"}
	},
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{name: "zstd without content size", blob: rlZstd(t, rlTar(t, seed+50, 300_000), false), mt: types.OCILayerZStd, tool: "zstd -dc", cheap: layers.Exact, why: "a layer may hold several"}
	},
	func(t *testing.T, seed byte) rlLayer {
		multi := rlTar(t, seed+10, 120_000)
		return rlLayer{
			name: "multi-member gzip, small last member", blob: rlGzip(t, multi[:len(multi)-1000], multi[len(multi)-1000:]),
			mt: types.OCILayer, tool: "gzip -dc", cheap: layers.Exact, why: "tar blocks", ranged: true,
		}
	},
	func(t *testing.T, seed byte) rlLayer {
		estargz := rlTar(t, seed+20, 90_000)
		return rlLayer{
			name: "eStargz-like with annotation", blob: rlGzip(t, estargz, nil), mt: types.OCILayer, tool: "gzip -dc",
			ann:   map[string]string{"io.containers.estargz.uncompressed-size": strconv.Itoa(len(estargz)), "containerd.io/snapshot/stargz/toc.digest": "sha256:" + strings.Repeat("0", 64)},
			cheap: layers.Annotation,
		}
	},
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{
			name: "eStargz-like without annotation", blob: rlGzip(t, rlTar(t, seed+60, 40_000), nil), mt: types.OCILayer, tool: "gzip -dc",
			ann:   map[string]string{"containerd.io/snapshot/stargz/toc.digest": "sha256:" + strings.Repeat("1", 64)},
			cheap: layers.Exact, why: "eStargz",
		}
	},
	func(t *testing.T, seed byte) rlLayer {
		l := rlLayer{name: "small", blob: rlGzip(t, rlTar(t, seed+70, 10)), mt: types.OCILayer, tool: "gzip -dc", cheap: layers.Exact, why: "1 KiB or less"}
		if n := len(l.blob); n > 1024 {
			t.Fatalf("the small layer is %d bytes", n)
		}
		return l
	},
	func(t *testing.T, seed byte) rlLayer {
		return rlLayer{name: "uncompressed", blob: rlTar(t, seed+80, 5000), mt: types.OCIUncompressedLayer, tool: "cat", cheap: layers.Exact}
	},
}

func rlImage(t *testing.T, ls []rlLayer) v1.Image {
	t.Helper()
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	var adds []mutate.Addendum
	for _, l := range ls {
		adds = append(adds, mutate.Addendum{Layer: rlNewLayer(t, l.blob, l.mt), Annotations: l.ann, History: v1.History{CreatedBy: l.name}})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// rlDiffLayer is a static layer with its true diffID: static.NewLayer
// gives the blob's digest, which Load, checking the diffID of every layer
// it reads, rightly refuses for a compressed blob.
type rlDiffLayer struct {
	v1.Layer
	diffID v1.Hash
}

func (l rlDiffLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// rlNewLayer decompresses blob (gzip, every member; zstd, every frame; or
// as is) to find its diffID.
func rlNewLayer(t *testing.T, blob []byte, mt types.MediaType) v1.Layer {
	t.Helper()
	var r io.Reader = bytes.NewReader(blob)
	switch {
	case bytes.HasPrefix(blob, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case bytes.HasPrefix(blob, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	h, _, err := v1.SHA256(r)
	if err != nil {
		t.Fatal(err)
	}
	return rlDiffLayer{Layer: static.NewLayer(blob, mt), diffID: h}
}

// checkFigures compares every layer's uncompressed size with the
// independent count and the expected provenance.
func checkFigures(t *testing.T, got *layers.Image, ls []rlLayer, prov func(rlLayer) (layers.Provenance, string)) {
	t.Helper()
	if len(got.Layers) != len(ls) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(ls))
	}
	var sum int64
	for i, l := range ls {
		g := got.Layers[i]
		wantProv, why := prov(l)
		if g.Digest != l.digest() {
			t.Errorf("%s: digest %s, want %s", l.name, g.Digest, l.digest())
		}
		if g.Uncompressed.Bytes != l.count || g.Uncompressed.Provenance != wantProv {
			t.Errorf("%s: uncompressed %d (%s), want %d (%s) as `%s | wc -c` says", l.name, g.Uncompressed.Bytes, g.Uncompressed.Provenance, l.count, wantProv, l.tool)
		}
		if why != "" && !strings.Contains(g.Uncompressed.Reason, why) {
			t.Errorf("%s: reason %q does not mention %q", l.name, g.Uncompressed.Reason, why)
		}
		if g.Compressed.Bytes != int64(len(l.blob)) || g.Compressed.Provenance != layers.Exact {
			t.Errorf("%s: compressed %+v, want %d exact", l.name, g.Compressed, len(l.blob))
		}
		sum += l.count
	}
	if got.Uncompressed.Bytes != sum {
		t.Errorf("uncompressed total %d, want %d", got.Uncompressed.Bytes, sum)
	}
}

// TestRemoteCheapPaths: through a plain registry and one redirecting blobs
// to storage (with basic auth at the registry), each layer gets the
// cheapest trustworthy figure; the servers sent each layer's bytes at
// most once, and only what the cheap path needed for the others.
func TestRemoteCheapPaths(t *testing.T) {
	t.Parallel()
	ls := rlLayers(t, 1)
	img := rlImage(t, ls)
	for _, mode := range []string{modePlain, modeRedirect} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newRLEnv(t, mode)
			e.basic = mode == modeRedirect
			e.push(img, "v1")
			var st source.Stats
			got := e.load("v1", &st, layers.Options{Jobs: 4})
			checkFigures(t, got, ls, func(l rlLayer) (layers.Provenance, string) { return l.cheap, l.why })

			var wantBytes int64
			for _, l := range ls {
				tr := e.of(l.digest())
				wantRanged, wantFull := 0, 0
				if l.ranged {
					wantRanged = 1
				}
				if l.cheap == layers.Exact && l.mt != types.OCIUncompressedLayer {
					wantFull = 1 // counted: read whole, once
				}
				if tr.ranged != wantRanged || tr.full != wantFull {
					t.Errorf("%s: %d ranged and %d full requests, want %d and %d", l.name, tr.ranged, tr.full, wantRanged, wantFull)
				}
				if tr.storageAuth != 0 {
					t.Errorf("%s: storage received credentials %d times", l.name, tr.storageAuth)
				}
				wantBytes += tr.bytes
				// What a ranged probe fetched: 4 bytes of gzip trailer
				// (18 leaves room for a Range answer's slack).
				if wantFull == 0 && wantRanged == 1 && tr.bytes > 18 {
					t.Errorf("%s: the cheap path fetched %d bytes", l.name, tr.bytes)
				}
			}
			reqs, n := st.Counts(source.KindLayer)
			t.Logf("%s: %d layer requests, %d layer bytes", mode, reqs, n)
			if n != wantBytes {
				t.Errorf("Stats: %d layer bytes, the servers sent %d", n, wantBytes)
			}
		})
	}
}

// TestRemoteRangeIgnored: a registry that ignores Range costs one full
// read per layer, never two: every compressed layer is counted exactly,
// with a reason naming the ignored Range.
func TestRemoteRangeIgnored(t *testing.T) {
	t.Parallel()
	ls := rlLayers(t, 2)
	img := rlImage(t, ls)
	for _, mode := range []string{modeIgnore, modeIgnoreBlast} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newRLEnv(t, mode)
			e.push(img, "v1")
			var st source.Stats
			got := e.load("v1", &st, layers.Options{Jobs: 4})
			checkFigures(t, got, ls, func(l rlLayer) (layers.Provenance, string) {
				if l.ranged {
					return layers.Exact, "ignored the Range"
				}
				return l.cheap, l.why
			})
			var sum int64
			for _, l := range ls {
				tr := e.of(l.digest())
				size := int64(len(l.blob))
				wantFull := 0
				if l.cheap == layers.Exact && l.mt != types.OCIUncompressedLayer || l.ranged {
					wantFull = 1
					sum += size
				}
				if tr.full != wantFull || tr.notHungUp != 0 {
					t.Errorf("%s: %d full reads, %d ignored-Range answers read on; want %d and 0", l.name, tr.full, tr.notHungUp, wantFull)
				}
				// The waiting server proves the client sends nothing for
				// the hung-up answer: the blob crosses once.
				if mode == modeIgnore && tr.bytes > int64(wantFull)*size {
					t.Errorf("%s: the server sent %d bytes of a %d-byte blob", l.name, tr.bytes, size)
				}
			}
			if _, n := st.Counts(source.KindLayer); n > sum+64<<10 {
				t.Errorf("the client read %d layer bytes; the blobs read whole weigh %d", n, sum)
			}
		})
	}
}

// cacheEntries lists the entry files under dir.
func cacheEntries(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{} // digest hex -> path
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			out[strings.TrimSuffix(filepath.Base(p), ".json")] = p
		}
		return nil
	})
	return out
}

type figure struct {
	bytes int64
	prov  layers.Provenance
}

func figuresOf(img *layers.Image) []figure {
	var out []figure
	for _, l := range img.Layers {
		out = append(out, figure{l.Uncompressed.Bytes, l.Uncompressed.Provenance})
	}
	return append(out, figure{img.Uncompressed.Bytes, img.Uncompressed.Provenance})
}

// TestRemoteCache: a second run with the cache fetches no layer bytes and
// gives the same figures; deleting the cache changes none; damaged
// entries are ignored and rewritten.
func TestRemoteCache(t *testing.T) {
	t.Parallel()
	ls := rlLayers(t, 3)
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")
	dir := filepath.Join(t.TempDir(), "cache")
	c := cache.New(dir)

	var st1 source.Stats
	first := e.load("v1", &st1, layers.Options{Cache: c})
	checkFigures(t, first, ls, func(l rlLayer) (layers.Provenance, string) { return l.cheap, l.why })
	if r, _ := st1.Counts(source.KindLayer); r == 0 {
		t.Fatal("the first run made no layer request")
	}
	entries := cacheEntries(t, dir)
	for _, l := range ls {
		_, ok := entries[l.digest().Hex]
		// Annotations state a manifest's view, not a blob fact: not cached.
		if want := l.mt != types.OCIUncompressedLayer && l.cheap != layers.Annotation; ok != want {
			t.Errorf("%s: cache entry present %v, want %v", l.name, ok, want)
		}
	}

	t.Run("second run fetches no layer bytes", func(t *testing.T) {
		e.reset()
		var st source.Stats
		second := e.load("v1", &st, layers.Options{Cache: c})
		if r, n := st.Counts(source.KindLayer); r != 0 || n != 0 {
			t.Errorf("second run: %d layer requests, %d bytes; want none", r, n)
		}
		if a, b := figuresOf(first), figuresOf(second); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("figures differ:\nfirst  %v\nsecond %v", a, b)
		}
	})

	t.Run("deleting the cache changes no figure", func(t *testing.T) {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		var st source.Stats
		third := e.load("v1", &st, layers.Options{Cache: c})
		if r, _ := st.Counts(source.KindLayer); r == 0 {
			t.Error("no layer request after deleting the cache")
		}
		if a, b := figuresOf(first), figuresOf(third); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("figures differ:\nwith cache    %v\ncache deleted %v", a, b)
		}
		noCache := e.load("v1", nil, layers.Options{})
		if a, b := figuresOf(first), figuresOf(noCache); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("figures differ:\nwith cache %v\nno cache   %v", a, b)
		}
	})

	t.Run("damaged entries are ignored and rewritten", func(t *testing.T) {
		entries := cacheEntries(t, dir)
		damaged := map[v1.Hash]string{}
		for i, content := range map[int]func(string) []byte{
			0: func(string) []byte { return []byte("{{{ not json") }, // gzip, cheap path
			3: func(p string) []byte { // zstd without size, counted
				b, _ := os.ReadFile(p)
				return b[:len(b)/2]
			},
		} {
			h := ls[i].digest()
			p := entries[h.Hex]
			if p == "" {
				t.Fatalf("no cache entry for %s", ls[i].name)
			}
			if err := os.WriteFile(p, content(p), 0o644); err != nil {
				t.Fatal(err)
			}
			damaged[h] = p
		}
		e.reset()
		var st source.Stats
		got := e.load("v1", &st, layers.Options{Cache: c})
		if a, b := figuresOf(first), figuresOf(got); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("figures differ:\nfirst           %v\ndamaged entries %v", a, b)
		}
		for _, l := range ls {
			tr := e.of(l.digest())
			_, isDamaged := damaged[l.digest()]
			if fetched := tr.ranged+tr.full > 0; fetched != isDamaged {
				t.Errorf("%s: fetched %v, want %v (only damaged entries are refetched)", l.name, fetched, isDamaged)
			}
		}
		for h, p := range damaged {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Uncompressed int64  `json:"uncompressed"`
				Provenance   string `json:"provenance"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("entry for %s not rewritten: %q", h, b)
				continue
			}
			var want rlLayer
			for _, l := range ls {
				if l.digest() == h {
					want = l
				}
			}
			if m.Uncompressed != want.count || m.Provenance != string(want.cheap) {
				t.Errorf("rewritten entry for %s: %s, want %d %s", want.name, b, want.count, want.cheap)
			}
		}
	})
}

// TestRemoteExactIgnoresDerivedCache: with Exact, cache entries from a
// cheap path are not trusted: those layers are counted, and the entries
// upgraded; counted entries are reused.
func TestRemoteExactIgnoresDerivedCache(t *testing.T) {
	t.Parallel()
	ls := rlLayers(t, 4)
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")
	c := cache.New(t.TempDir())
	e.load("v1", nil, layers.Options{Cache: c})

	e.reset()
	var st source.Stats
	exact := e.load("v1", &st, layers.Options{Cache: c, Exact: true})
	checkFigures(t, exact, ls, func(rlLayer) (layers.Provenance, string) { return layers.Exact, "" })
	for _, l := range ls {
		tr := e.of(l.digest())
		wantFull := 0
		if l.cheap != layers.Exact {
			wantFull = 1 // its cached figure was derived
		}
		if l.mt == types.OCIUncompressedLayer {
			wantFull = 1 // sized for free before, read and digest-checked now
		}
		if tr.full != wantFull || tr.ranged != 0 {
			t.Errorf("%s: %d full, %d ranged requests; want %d full, 0 ranged", l.name, tr.full, tr.ranged, wantFull)
		}
	}

	e.reset()
	var st2 source.Stats
	again := e.load("v1", &st2, layers.Options{Cache: c, Exact: true})
	if r, n := st2.Counts(source.KindLayer); r != 0 || n != 0 {
		t.Errorf("second exact run: %d layer requests, %d bytes; want none", r, n)
	}
	if a, b := figuresOf(exact), figuresOf(again); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("figures differ:\nfirst  %v\nsecond %v", a, b)
	}
}

// TestRemoteSharedLayersProbedOnce: two images sharing layers, loaded at
// once in one run with one Memo: each shared layer is probed once.
// Without the Memo, the same run probes them twice (the control).
func TestRemoteSharedLayersProbedOnce(t *testing.T) {
	t.Parallel()
	shared := rlFirstLayers(t, 5, 4)
	a := append(append([]rlLayer{}, shared...), rlFirstLayers(t, 6, 1)...)
	b := append(rlFirstLayers(t, 7, 1), shared...)
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, a), "a")
	e.push(rlImage(t, b), "b")

	run := func(memo *layers.Memo) {
		t.Helper()
		var g errgroup.Group
		for _, tag := range []string{"a", "b"} {
			g.Go(func() error {
				_, err := e.loadErr(tag, nil, layers.Options{Memo: memo, Jobs: 2})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	}

	// A layer is probed (one ranged request) or counted (one full read),
	// once per run with the Memo and once per image without.
	run(&layers.Memo{})
	for _, l := range shared {
		tr := e.of(l.digest())
		wantRanged := 0
		if l.ranged {
			wantRanged = 1
		}
		if tr.ranged != wantRanged || tr.full > 1 || tr.ranged+tr.full == 0 {
			t.Errorf("shared %s: %d ranged, %d full requests; want %d ranged, at most 1 full", l.name, tr.ranged, tr.full, wantRanged)
		}
	}

	e.reset()
	run(nil)
	for _, l := range shared {
		if tr := e.of(l.digest()); tr.ranged+tr.full != 2 {
			t.Errorf("control without a shared Memo: shared %s fetched %d times (%d ranged), want 2", l.name, tr.ranged+tr.full, tr.ranged)
		}
	}
}

// quiesce waits for the handlers still running to finish (a client that
// hung up is noticed by its handler a little later).
func (e *rlEnv) quiesce() {
	for deadline := time.Now().Add(5 * time.Second); e.inflight.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d requests still being answered after 5 s", e.inflight.Load())
		}
	}
}
