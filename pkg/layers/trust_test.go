package layers_test

// Tests that no size figure comes from metadata that could be wrong: zstd
// frame headers of multi-frame blobs, gzip trailers claiming more than
// deflate can hold, trailers that may have wrapped (under the gate), a
// config's diffID that does not match the content read, and totals that
// would overflow. Each failed on the code before these checks.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// zstdFrames compresses each part as a frame of its own that states its
// content size, and concatenates them: what zstd:chunked writes.
func zstdFrames(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	var out []byte
	for _, p := range parts {
		out = append(out, rlZstd(t, p, true)...)
	}
	return out
}

// TestRemoteZstdMultiFrame: a zstd layer of several frames, each stating
// its content size, is counted whole (not sized from the first frame),
// whether it carries the zstd:chunked annotations of podman 4.x, of
// containers/storage, or none; and what is cached is the count.
func TestRemoteZstdMultiFrame(t *testing.T) {
	t.Parallel()
	// Half-random files: the first frame's size (whole tar blocks, and
	// above what the compressed size requires) passed every check of the
	// header path.
	tarA := rlTar(t, 90, 300_000)
	tarB := rlTar(t, 91, 300_000)
	tarC := rlTar(t, 92, 300_000)
	const cut = 400 * 512
	podman := map[string]string{
		"io.containers.zstd-chunked.manifest-checksum": "sha256:" + strings.Repeat("2", 64),
		"io.containers.zstd-chunked.manifest-position": "100:200:300:1",
		"io.containers.zstd-chunked.tarsplit-position": "300:10:20",
	}
	github := map[string]string{"io.github.containers.zstd-chunked.manifest-checksum": "sha256:" + strings.Repeat("3", 64)}
	ls := []rlLayer{
		{name: "podman zstd:chunked", blob: zstdFrames(t, tarA[:cut], tarA[cut:]), mt: types.OCILayerZStd, ann: podman, why: "io.containers.zstd-chunked."},
		{name: "containers/storage zstd:chunked", blob: zstdFrames(t, tarB[:cut], tarB[cut:]), mt: types.OCILayerZStd, ann: github, why: "io.github.containers.zstd-chunked."},
		{name: "two frames, no annotation", blob: zstdFrames(t, tarC[:cut], tarC[cut:]), mt: types.OCILayerZStd, why: "a layer may hold several"},
	}
	for i, tarball := range [][]byte{tarA, tarB, tarC} {
		ls[i].count = int64(len(tarball))
		ls[i].cheap = layers.Exact
		if n := len(ls[i].blob); n < 64<<10 {
			t.Fatalf("%s: blob of %d bytes, want over 64 KiB", ls[i].name, n)
		}
	}
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")
	c := cache.New(t.TempDir())
	got := e.load("v1", nil, layers.Options{Cache: c})
	checkFigures(t, got, ls, func(l rlLayer) (layers.Provenance, string) { return layers.Exact, l.why })
	for _, l := range ls {
		if tr := e.of(l.digest()); tr.full != 1 || tr.ranged != 0 {
			t.Errorf("%s: %d full, %d ranged requests; want one full read", l.name, tr.full, tr.ranged)
		}
		ent, ok := c.Get(l.digest())
		if !ok || ent.Provenance != string(layers.Exact) || ent.Uncompressed != l.count {
			t.Errorf("%s: cache entry %+v (present %v), want %d exact", l.name, ent, ok, l.count)
		}
	}
}

// TestRemoteCacheIgnoresUnsafeDerived: entries an earlier version wrote
// from a zstd frame header, or from a trailer no check refused then, are
// not believed: the layer is counted and the entry replaced.
func TestRemoteCacheIgnoresUnsafeDerived(t *testing.T) {
	t.Parallel()
	tarZ, tarG := rlTar(t, 93, 100_000), rlTar(t, 94, 3000)
	ls := []rlLayer{
		{name: "zstd", blob: rlZstd(t, tarZ, true), mt: types.OCILayerZStd, count: int64(len(tarZ))},
		{name: "gzip", blob: rlGzip(t, tarG), mt: types.OCILayer, count: int64(len(tarG))},
	}
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")
	c := cache.New(t.TempDir())
	for _, w := range []struct {
		i int
		e cache.Entry
	}{
		{0, cache.Entry{Uncompressed: 1024, Provenance: string(layers.ZstdHeader)}},
		{1, cache.Entry{Uncompressed: 1<<32 - 512, Provenance: string(layers.GzipTrailer)}},
	} {
		if err := c.Put(ls[w.i].digest(), w.e); err != nil {
			t.Fatal(err)
		}
	}
	got := e.load("v1", nil, layers.Options{Cache: c})
	checkFigures(t, got, ls, func(l rlLayer) (layers.Provenance, string) {
		if l.mt == types.OCILayer {
			return layers.GzipTrailer, "" // its true trailer, probed again
		}
		return layers.Exact, ""
	})
	for _, l := range ls {
		if tr := e.of(l.digest()); tr.full+tr.ranged != 1 {
			t.Errorf("%s: %d full, %d ranged requests; want the layer measured again", l.name, tr.full, tr.ranged)
		}
		if ent, _ := c.Get(l.digest()); ent.Uncompressed != l.count {
			t.Errorf("%s: cache entry %+v not replaced by the measured %d", l.name, ent, l.count)
		}
	}
}

// TestRemoteTrailerClaimsTooMuch: a registry (or a man in the middle)
// answering the trailer's Range request with 4 bytes claiming 4 GiB for a
// 4 kB blob is not believed: the layer is counted, and the count, not the
// claim, is what the cache keeps.
func TestRemoteTrailerClaimsTooMuch(t *testing.T) {
	t.Parallel()
	tarball := tarOfRandom(t, 95, 3500)
	l := rlLayer{name: "gzip", blob: rlGzip(t, tarball), mt: types.OCILayer, count: int64(len(tarball))}
	if n := len(l.blob); n < 2048 || n > 8192 {
		t.Fatalf("blob of %d bytes, want about 4 kB", n)
	}
	e := newRLEnv(t, modeLieISIZE)
	e.push(rlImage(t, []rlLayer{l}), "v1")
	c := cache.New(t.TempDir())
	got := e.load("v1", nil, layers.Options{Cache: c})
	checkFigures(t, got, []rlLayer{l}, func(rlLayer) (layers.Provenance, string) { return layers.Exact, "1032:1" })
	if tr := e.of(l.digest()); tr.ranged != 1 || tr.full != 1 {
		t.Errorf("%d ranged, %d full requests; want the probe, then one full read", tr.ranged, tr.full)
	}
	ent, ok := c.Get(l.digest())
	if !ok || ent.Uncompressed != l.count || ent.Provenance != string(layers.Exact) {
		t.Errorf("cache entry %+v (present %v), want %d exact", ent, ok, l.count)
	}
}

// tarOfRandom is a tar of one incompressible file of n bytes.
func tarOfRandom(t *testing.T, seed byte, n int) []byte {
	t.Helper()
	b := rlTar(t, seed, n)
	// rlTar makes half of each file text; undo that for incompressibility.
	copy(b[512:512+n/2], rlRandom(seed+100, n/2))
	return b
}

// storedGzip gzips b without compression, so the blob is as large as the
// content: a fast way to a blob of a chosen size.
func storedGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRemoteCountWrappable: with the gate's option, a gzip layer just
// over 2^32/1032 bytes (which could hold 4 GiB or more, so its trailer
// could have wrapped) is counted, with the reason; one just under is
// still sized from its trailer. A cached trailer figure does not satisfy
// the gate; a cached count does.
func TestRemoteCountWrappable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: makes layers of 4 MB of random bytes")
	}
	t.Parallel()
	const threshold = 1<<32/1032 + 18
	over, under := tarOfRandom(t, 96, threshold+20_000), tarOfRandom(t, 97, threshold-40_000)
	ls := []rlLayer{
		{name: "over", blob: storedGzip(t, over), mt: types.OCILayer, count: int64(len(over))},
		{name: "under", blob: storedGzip(t, under), mt: types.OCILayer, count: int64(len(under))},
	}
	if len(ls[0].blob) <= threshold+1 || len(ls[1].blob) >= threshold-1 {
		t.Fatalf("blobs of %d and %d bytes do not straddle %d", len(ls[0].blob), len(ls[1].blob), threshold)
	}
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")
	c := cache.New(t.TempDir())

	// Without the option both are sized from their (true) trailers,
	// which fills the cache with trailer figures.
	plain := e.load("v1", nil, layers.Options{Cache: c})
	checkFigures(t, plain, ls, func(rlLayer) (layers.Provenance, string) { return layers.GzipTrailer, "" })

	for _, run := range []struct {
		name     string
		wantFull int
	}{
		{"cached trailer does not satisfy the gate", 1},
		{"cached count does", 0},
	} {
		t.Run(run.name, func(t *testing.T) {
			e.reset()
			got := e.load("v1", nil, layers.Options{Cache: c, CountWrappable: true})
			checkFigures(t, got, ls, func(l rlLayer) (layers.Provenance, string) {
				if l.name == "over" {
					return layers.Exact, "counted: a gzip trailer is the size mod 4 GiB and this blob could hold more"
				}
				return layers.GzipTrailer, ""
			})
			if tr := e.of(ls[0].digest()); tr.full != run.wantFull || tr.ranged != 0 {
				t.Errorf("over: %d full, %d ranged requests; want %d full, 0 ranged", tr.full, tr.ranged, run.wantFull)
			}
			if tr := e.of(ls[1].digest()); tr.full != 0 {
				t.Errorf("under: %d full reads; its cached trailer satisfies the gate", tr.full)
			}
		})
	}
}

// TestLoadChecksDiffID: a layer read whole is checked against the
// config's diff_id, as pkg/files does: an OCI layout with gzip layers
// always, a registry image with Exact, an uncompressed layer with Exact.
// Layers not read (a registry's trailer path, an uncompressed local layer
// without Exact) are not.
func TestLoadChecksDiffID(t *testing.T) {
	t.Parallel()
	gz := rlGzip(t, rlTar(t, 98, 20_000))
	_, raw := tarLayer(t, map[string]int{"a": 30_000})
	wrongDiffID := func(blob []byte, mt types.MediaType) v1.Image {
		img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: rlNewLayer(t, blob, mt)})
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.RootFS.DiffIDs[0] = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("d", 64)}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		return img
	}
	gzImg, rawImg := wrongDiffID(gz, types.OCILayer), wrongDiffID(raw, types.OCIUncompressedLayer)
	gzDir, _ := writeLayout(t, gzImg)
	rawDir, _ := writeLayout(t, rawImg)
	e := newRLEnv(t, modePlain)
	e.push(gzImg, "gz")

	remote := func(tag string, opts layers.Options) (*layers.Image, error) { return e.loadErr(tag, nil, opts) }
	local := func(dir string) func(string, layers.Options) (*layers.Image, error) {
		return func(_ string, opts layers.Options) (*layers.Image, error) { return load(t, "oci:"+dir, opts) }
	}
	for _, tt := range []struct {
		name     string
		load     func(string, layers.Options) (*layers.Image, error)
		exact    bool
		mismatch bool
	}{
		{"layout, gzip", local(gzDir), false, true},
		{"layout, gzip, exact", local(gzDir), true, true},
		{"layout, uncompressed, not read", local(rawDir), false, false},
		{"layout, uncompressed, exact", local(rawDir), true, true},
		{"registry, trailer, not read", remote, false, false},
		{"registry, exact", remote, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.load("gz", layers.Options{Exact: tt.exact})
			if !tt.mismatch {
				if err != nil {
					t.Errorf("err = %v, want none (no layer read whole)", err)
				}
				return
			}
			if err == nil || !errors.Is(err, errdefs.ErrCorrupt) ||
				!strings.Contains(err.Error(), "diff_id mismatch: config says sha256:"+strings.Repeat("d", 64)+", uncompressed content is sha256:") {
				t.Errorf("err = %v, want ErrCorrupt naming the diff_id mismatch", err)
			}
		})
	}
}

// TestTotalBounds: a sum cannot wrap negative, and a figure no layer can
// have is not believed; the total is then unknown and says why.
func TestTotalBounds(t *testing.T) {
	t.Parallel()
	ex := func(n int64) layers.Size { return layers.Size{Bytes: n, Provenance: layers.Exact} }
	many := make([]layers.Size, 8192)
	for i := range many {
		many[i] = ex(1 << 50)
	}
	for _, tt := range []struct {
		name  string
		in    []layers.Size
		bytes int64
		prov  layers.Provenance
		why   string
	}{
		{"two halves of int64", []layers.Size{ex(math.MaxInt64/2 + 1), ex(math.MaxInt64/2 + 1)}, 0, layers.Unknown, "not believed"},
		{"1 PiB is believed", []layers.Size{ex(1 << 50), ex(1)}, 1<<50 + 1, layers.Exact, ""},
		{"over 1 PiB is not", []layers.Size{ex(1<<50 + 1), ex(1)}, 0, layers.Unknown, "not believed"},
		{"negative", []layers.Size{ex(-5), ex(10)}, 0, layers.Unknown, "not believed"},
		{"8192 layers of 1 PiB add up past int64", many, 0, layers.Unknown, "8 EiB"},
		{"8191 of them do not", many[1:], 8191 << 50, layers.Exact, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := layers.Total(tt.in)
			if got.Bytes != tt.bytes || got.Provenance != tt.prov || !strings.Contains(got.Reason, tt.why) {
				t.Errorf("Total = %d %s (%q), want %d %s (%q)", got.Bytes, got.Provenance, got.Reason, tt.bytes, tt.prov, tt.why)
			}
		})
	}
}

// TestLoadHugeManifestSize: a manifest stating an absurd layer size gets
// an unknown compressed figure, not one that sums to a negative total.
func TestLoadHugeManifestSize(t *testing.T) {
	t.Parallel()
	src := &source.Image{Image: newHugeImage(t), Arg: "huge"}
	got, err := layers.Load(context.Background(), src, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got.Layers {
		if l.Compressed.Known() {
			t.Errorf("layer %d: compressed %+v believed", i, l.Compressed)
		}
	}
	if got.Compressed.Known() || got.Compressed.Bytes < 0 {
		t.Errorf("total compressed %+v, want unknown", got.Compressed)
	}
}

// hugeImage is a two-layer uncompressed image whose manifest states each
// layer at 2^62 bytes: local, so Load sizes the layers from the manifest
// without reading them.
type hugeImage struct{ v1.Image }

func newHugeImage(t *testing.T) hugeImage {
	t.Helper()
	_, raw := tarLayer(t, map[string]int{"a": 100})
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: rlNewLayer(t, raw, types.OCIUncompressedLayer)},
		mutate.Addendum{Layer: rlNewLayer(t, append(raw[:0:0], raw...), types.OCIUncompressedLayer)})
	if err != nil {
		t.Fatal(err)
	}
	return hugeImage{img}
}

func (h hugeImage) Manifest() (*v1.Manifest, error) {
	m, err := h.Image.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	for i := range m.Layers {
		m.Layers[i].Size = 1 << 62
	}
	return m, nil
}

// TestGateTrustsNoClaim: under the gate, neither a manifest annotation
// nor a cache entry claiming less than the blob must hold decides a
// layer's size; without the gate an annotation is still taken, labelled.
func TestGateTrustsNoClaim(t *testing.T) {
	t.Parallel()
	tr := rlTar(t, 99, 60_000)
	blob := rlGzip(t, tr)
	// A plausible understatement: a whole number of tar blocks, more
	// than the compressed size, far less than the content.
	claim := (int64(len(blob))/512 + 1) * 512
	if claim >= int64(len(tr)) {
		t.Fatalf("claim %d is not an understatement of %d", claim, len(tr))
	}
	ls := []rlLayer{{name: "claimed", blob: blob, mt: types.OCILayer, count: int64(len(tr)),
		ann: map[string]string{"io.containers.estargz.uncompressed-size": fmt.Sprint(claim)}}}
	e := newRLEnv(t, modePlain)
	e.push(rlImage(t, ls), "v1")

	got := e.load("v1", nil, layers.Options{})
	if l := got.Layers[0].Uncompressed; l.Bytes != claim || l.Provenance != layers.Annotation {
		t.Fatalf("without the gate: %d (%s), want the annotation's %d", l.Bytes, l.Provenance, claim)
	}
	gated := e.load("v1", nil, layers.Options{CountWrappable: true})
	// The blob is too small to have wrapped, so its (true) trailer serves.
	checkFigures(t, gated, ls, func(rlLayer) (layers.Provenance, string) { return layers.GzipTrailer, "" })

	// A cache entry with a valid checksum but an impossible count (less
	// than a blob of this size must hold) is not used, gate or not.
	c := cache.New(t.TempDir())
	if err := c.Put(ls[0].digest(), cache.Entry{Uncompressed: 512, Provenance: string(layers.Exact)}); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []layers.Options{{Cache: c}, {Cache: c, CountWrappable: true}, {Cache: c, Exact: true}} {
		got := e.load("v1", nil, opts)
		if l := got.Layers[0].Uncompressed; l.Bytes == 512 {
			t.Errorf("%+v: the forged cache entry's 512 was used", opts)
		}
	}
}
