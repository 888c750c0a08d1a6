package main

// Tests of issue 3 against a real registry: every layer encoding a registry
// may hold, each uncompressed figure checked against what gzip, zstd and wc
// say about the blob fetched independently with curl, the provenance of each
// figure (cheap path where it is valid, counted where it is not), and the
// registry traffic that --stats reports.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	endian "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/testregistry"
)

// Annotations written by eStargz tools.
const (
	encAnnEstargzSize = "io.containers.estargz.uncompressed-size"
	encAnnStargzTOC   = "containerd.io/snapshot/stargz/toc.digest"
)

// encCase is one layer of the encodings image and what imgsize must say
// about it.
type encCase struct {
	key   string // short name, also the layer's history entry
	layer v1.Layer
	mt    types.MediaType
	ann   map[string]string
	// decompress is the shell command that turns the blob (its last
	// argument) into the layer's tar stream.
	decompress string
	// wantProv is the provenance of the uncompressed size without --exact.
	wantProv string
	// wantReason, when set, must occur in the reason of a fallback.
	wantReason string
	// rangeBytes is what the cheap path reads of the blob with Range
	// requests; full says the blob is then read whole, once.
	rangeBytes int64
	full       bool
}

// TestEncodingsAgainstRealRegistry pushes one image holding a layer of each
// encoding and checks every uncompressed figure against the blob as the
// standard tools decompress it, by the cheap path where that is valid and by
// counting where it is not.
func TestEncodingsAgainstRealRegistry(t *testing.T) {
	t.Parallel()
	encNeedTools(t, "curl", "gzip", "zstd", "sha256sum", "wc")
	reg := testregistry.Start(t, testregistry.Options{})

	cases := encodingCases(t)
	ref := encPush(t, reg, "enc/all:v1", cases)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	cacheDir := t.TempDir()

	r := imgsize(t, env, "inspect", "-f", "json", "--stats", "--cache-dir", cacheDir, ref)
	if r.code != 0 {
		t.Fatalf("inspect: exit %d: %s", r.code, r.stderr)
	}
	rep := encDecode(t, r.stdout)
	if len(rep.Images) != 1 || len(rep.Images[0].Layers) != len(cases) {
		t.Fatalf("report has %d images; want 1 with %d layers:\n%s", len(rep.Images), len(cases), r.stdout)
	}
	img := rep.Images[0]

	blobDir := t.TempDir()
	var sum, wantRangeBytes, wantRangeReqs, wantFullBytes, wantFullReqs int64
	for i, c := range cases {
		l := img.Layers[i]
		d, err := c.layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if l.Digest != d.String() || l.MediaType != string(c.mt) {
			t.Fatalf("layer %d (%s): report has %s %s, pushed %s %s", i, c.key, l.Digest, l.MediaType, d, c.mt)
		}

		// The blob as an independent client fetches it.
		blob := encFetchBlob(t, reg, "enc/all", d, filepath.Join(blobDir, c.key))
		size, stream, diffID := encMeasure(t, c.decompress, blob)
		if size <= encSmallBlob {
			t.Fatalf("layer %s is %d bytes: too small to take a cheap path", c.key, size)
		}
		if diffID != l.DiffID {
			t.Errorf("layer %s: %s | sha256sum gives %s, the config's diffID is %s (test image is malformed)", c.key, c.decompress, diffID, l.DiffID)
		}
		if l.Compressed.Bytes == nil || *l.Compressed.Bytes != size || l.Compressed.Provenance != "exact" {
			t.Errorf("layer %s: compressed %s, the blob is %d bytes", c.key, l.Compressed, size)
		}
		if l.Uncompressed.Bytes == nil || *l.Uncompressed.Bytes != stream {
			t.Errorf("layer %s: uncompressed %s, but %s | wc -c gives %d", c.key, l.Uncompressed, c.decompress, stream)
		}
		if l.Uncompressed.Provenance != c.wantProv {
			t.Errorf("layer %s: provenance %q (reason %q), want %q", c.key, l.Uncompressed.Provenance, l.Uncompressed.Reason, c.wantProv)
		}
		if c.wantReason != "" && !strings.Contains(l.Uncompressed.Reason, c.wantReason) {
			t.Errorf("layer %s: reason %q does not say %q", c.key, l.Uncompressed.Reason, c.wantReason)
		}
		if c.wantProv != "exact" && l.Uncompressed.Reason != "" {
			t.Errorf("layer %s: cheap path %s has a fallback reason %q", c.key, c.wantProv, l.Uncompressed.Reason)
		}
		t.Logf("layer %-14s blob %7d B  tar %7d B  %-12s %s", c.key, size, stream, l.Uncompressed.Provenance, l.Uncompressed.Reason)

		sum += stream
		wantRangeBytes += c.rangeBytes
		if c.rangeBytes > 0 {
			wantRangeReqs++
		}
		if c.full {
			wantFullBytes += size
			wantFullReqs++
		}

		// The zstd layers differ only in their frame header: prove that
		// they do, with the reference implementation.
		if c.mt == types.OCILayerZStd {
			lv := encShell(t, "zstd -lv "+blob)
			hasFCS := strings.Contains(lv, "Decompressed Size:")
			if wantFCS := c.key == "zstd-fcs"; hasFCS != wantFCS {
				t.Errorf("layer %s: zstd -lv shows a content size: %v, want %v:\n%s", c.key, hasFCS, wantFCS, lv)
			}
			if hasFCS && !strings.Contains(lv, fmt.Sprintf("(%d B)", stream)) {
				t.Errorf("layer %s: zstd -lv does not state %d B:\n%s", c.key, stream, lv)
			}
		}
	}
	if img.Uncompressed.Bytes == nil || *img.Uncompressed.Bytes != sum {
		t.Errorf("image uncompressed %s, the layers decompress to %d", img.Uncompressed, sum)
	}
	if img.Uncompressed.Provenance == "exact" || img.Uncompressed.Provenance == "unknown" {
		t.Errorf("image uncompressed provenance %q: the total mixes derived and counted figures", img.Uncompressed.Provenance)
	}

	// The traffic is exactly the ranged reads plus one full read of each
	// fallback layer: no blob is read twice, and no layer whose size is
	// annotated or stored uncompressed is touched.
	st := encParseStats(t, r.stderr)
	t.Logf("cheap run: layer traffic %d requests, %d B (ranged %d B in %d requests, whole blobs %d B in %d requests)",
		st["layer"].requests, st["layer"].bytes, wantRangeBytes, wantRangeReqs, wantFullBytes, wantFullReqs)
	if got := st["layer"]; got.bytes != wantRangeBytes+wantFullBytes || got.requests != wantRangeReqs+wantFullReqs {
		t.Errorf("layer traffic %d requests, %d B; want %d requests, %d B", got.requests, got.bytes, wantRangeReqs+wantFullReqs, wantRangeBytes+wantFullBytes)
	}

	// A second run answers from the cache: no layer traffic, same figures
	// and provenances.
	r2 := imgsize(t, env, "inspect", "-f", "json", "--stats", "--cache-dir", cacheDir, ref)
	if r2.code != 0 {
		t.Fatalf("cached inspect: exit %d: %s", r2.code, r2.stderr)
	}
	if got := encParseStats(t, r2.stderr)["layer"]; got.requests != 0 || got.bytes != 0 {
		t.Errorf("cached run: layer traffic %d requests, %d B; want none", got.requests, got.bytes)
	}
	encSameFigures(t, img, encDecode(t, r2.stdout).Images[0], true)

	// --exact counts every compressed layer, once, and finds the same
	// numbers.
	r3 := imgsize(t, env, "inspect", "-f", "json", "--stats", "--exact", "--no-cache", ref)
	if r3.code != 0 {
		t.Fatalf("--exact: exit %d: %s", r3.code, r3.stderr)
	}
	ex := encDecode(t, r3.stdout).Images[0]
	encSameFigures(t, img, ex, false)
	var compressedBlobs int64
	var nCompressed int64
	for i, l := range ex.Layers {
		if l.Uncompressed.Provenance != "exact" {
			t.Errorf("--exact: layer %s provenance %q", cases[i].key, l.Uncompressed.Provenance)
		}
		// --exact reads every blob once, the uncompressed one too (to
		// check its digest).
		if l.Compressed.Bytes != nil {
			compressedBlobs += *l.Compressed.Bytes
			nCompressed++
		}
	}
	if ex.Uncompressed.Provenance != "exact" {
		t.Errorf("--exact: image provenance %q", ex.Uncompressed.Provenance)
	}
	if got := encParseStats(t, r3.stderr)["layer"]; got.bytes != compressedBlobs || got.requests != nCompressed {
		t.Errorf("--exact: layer traffic %d requests, %d B; want each blob once: %d requests, %d B", got.requests, got.bytes, nCompressed, compressedBlobs)
	}
}

// encSmallBlob mirrors the size under which imgsize reads a layer whole
// (pkg/layers smallBlob); the encodings test needs every layer above it.
const encSmallBlob = 1024

// encodingCases builds the layers of the encodings image. Each holds a few
// hundred KiB of tar built from pseudo-random text and binary files, so that
// compression behaves as on real layers.
func encodingCases(t *testing.T) []encCase {
	t.Helper()
	var cs []encCase

	// (a) gzip, one member, as go-containerregistry writes it.
	tarA := encTar(t, encFiles(1))
	la, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarA)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, encCase{key: "gzip", layer: la, mt: types.OCILayer, decompress: "gzip -dc",
		wantProv: "gzip-trailer", rangeBytes: 4})

	// (b) zstd with the frame content size, as BuildKit writes it. It is
	// counted all the same, exactly as (c): a frame header describes one
	// frame, and nothing in it says the blob holds no other (zstd:chunked
	// blobs are many frames, and are not always annotated), so no byte is
	// probed and the figure is exact, digest- and diffID-checked.
	tarB := encTar(t, encFiles(2))
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	blobB := zenc.EncodeAll(tarB, nil)
	zenc.Close()
	cs = append(cs, encCase{key: "zstd-fcs", layer: encNewLayer(blobB, tarB, types.OCILayerZStd), mt: types.OCILayerZStd,
		decompress: "zstd -dc", wantProv: "exact", wantReason: "a frame header describes one frame", full: true})

	// (c) zstd without it, as containers/image writes it.
	tarC := encTar(t, encFiles(3))
	cmd := exec.Command("zstd", "-q", "-c", "--no-content-size")
	cmd.Stdin = bytes.NewReader(tarC)
	blobC, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd --no-content-size: %v", err)
	}
	cs = append(cs, encCase{key: "zstd-nofcs", layer: encNewLayer(blobC, tarC, types.OCILayerZStd), mt: types.OCILayerZStd,
		decompress: "zstd -dc", wantProv: "exact", wantReason: "a layer may hold several", full: true})

	// (d) eStargz with its uncompressed-size annotation.
	blobD, streamD, tocD := encEstargz(t, encFiles(4))
	cs = append(cs, encCase{key: "estargz", layer: encNewLayer(blobD, streamD, types.OCILayer), mt: types.OCILayer,
		ann:        map[string]string{encAnnStargzTOC: tocD, encAnnEstargzSize: strconv.Itoa(len(streamD))},
		decompress: "gzip -dc", wantProv: "annotation"})

	// (e) an uncompressed tar: the manifest states its size.
	tarE := encTar(t, encFiles(5))
	cs = append(cs, encCase{key: "tar", layer: encNewLayer(tarE, tarE, types.OCIUncompressedLayer), mt: types.OCIUncompressedLayer,
		decompress: "cat", wantProv: "exact"})

	// (f) two gzip members, the last holding the final 700 bytes: its
	// trailer says 700, not a whole number of tar blocks.
	tarF := encTar(t, encFiles(6))
	cut := len(tarF) - 700
	blobF := append(encGzip(t, tarF[:cut]), encGzip(t, tarF[cut:])...)
	cs = append(cs, encCase{key: "multi-odd", layer: encNewLayer(blobF, tarF, types.OCILayer), mt: types.OCILayer,
		decompress: "gzip -dc", wantProv: "exact", wantReason: "trailer", rangeBytes: 4, full: true})

	// (g) two gzip members, the last holding only the tar's end-of-archive
	// blocks: its trailer, 1024, is whole tar blocks but less than the
	// compressed size could hold.
	tarG := encTar(t, encFiles(7))
	cut = len(tarG) - 1024
	blobG := append(encGzip(t, tarG[:cut]), encGzip(t, tarG[cut:])...)
	cs = append(cs, encCase{key: "multi-eof", layer: encNewLayer(blobG, tarG, types.OCILayer), mt: types.OCILayer,
		decompress: "gzip -dc", wantProv: "exact", wantReason: "trailer", rangeBytes: 4, full: true})

	// (h) eStargz with only its TOC digest annotation (older writers): the
	// trailer is its empty footer member's, so the layer is counted.
	blobH, streamH, tocH := encEstargz(t, encFiles(8))
	cs = append(cs, encCase{key: "estargz-noann", layer: encNewLayer(blobH, streamH, types.OCILayer), mt: types.OCILayer,
		ann:        map[string]string{encAnnStargzTOC: tocH},
		decompress: "gzip -dc", wantProv: "exact", wantReason: "Stargz", full: true})

	// Self-checks of the test data, so a failure below is imgsize's.
	for _, c := range cs {
		if c.key == "multi-odd" || c.key == "multi-eof" || strings.HasPrefix(c.key, "estargz") {
			rc, err := c.layer.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			isize := endian.LittleEndian.Uint32(b[len(b)-4:])
			if c.key == "multi-odd" && isize != 700 || c.key == "multi-eof" && isize != 1024 || strings.HasPrefix(c.key, "estargz") && isize != 0 {
				t.Fatalf("test data: %s has gzip trailer %d", c.key, isize)
			}
		}
	}
	return cs
}

// TestStatsExampleSingleStage pushes the README's single-stage example
// image and shows with --stats that the cheap path fetches under 1 KiB per
// layer, that a second run fetches nothing, and that --exact reads each
// blob exactly once.
func TestStatsExampleSingleStage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: pushes and reads the 250 MB example image")
	}
	t.Parallel()
	encNeedTools(t, "skopeo")
	reg := testregistry.Start(t, testregistry.Options{})

	start := time.Now()
	_, _, out := examples(t)
	t.Logf("examples/build: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	ref := reg.Addr + "/ex:single"
	// A policy of its own, so that the machine's /etc/containers/policy.json
	// (or its absence) does not matter.
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	copyCmd := exec.Command("skopeo", "--policy", policy, "copy", "--quiet", "--dest-tls-verify=false", "oci:"+out+":single-stage", "docker://"+ref)
	if b, err := copyCmd.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, b)
	}
	t.Logf("skopeo copy: %v", time.Since(start).Round(time.Millisecond))
	compressed := skopeoLayerTotal(t, reg, ref)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	cacheDir := t.TempDir()

	r := imgsize(t, env, "inspect", "-f", "json", "--stats", "--cache-dir", cacheDir, ref)
	if r.code != 0 {
		t.Fatalf("inspect: exit %d: %s", r.code, r.stderr)
	}
	cheap := encDecode(t, r.stdout).Images[0]
	n := int64(len(cheap.Layers))
	st := encParseStats(t, r.stderr)
	t.Logf("single-stage, %d layers, %d B compressed, uncompressed %s", n, compressed, cheap.Uncompressed)
	for _, l := range cheap.Layers {
		t.Logf("  %s  compressed %s  uncompressed %s", l.Digest, l.Compressed, l.Uncompressed)
	}
	t.Logf("cheap run: %s", st)
	if n == 0 {
		t.Fatal("the example image has no layers")
	}
	if got := st["layer"]; got.bytes >= 1024*n || got.requests > n {
		t.Errorf("cheap run fetched %d B of layers in %d requests; want under 1 KiB per layer (%d B), at most one request each", got.bytes, got.requests, 1024*n)
	}

	r2 := imgsize(t, env, "inspect", "-f", "json", "--stats", "--cache-dir", cacheDir, ref)
	if r2.code != 0 {
		t.Fatalf("second inspect: exit %d: %s", r2.code, r2.stderr)
	}
	st2 := encParseStats(t, r2.stderr)
	t.Logf("cached run: %s", st2)
	if got := st2["layer"]; got.requests != 0 || got.bytes != 0 {
		t.Errorf("second run with the same cache fetched %d B of layers in %d requests; want none", got.bytes, got.requests)
	}
	encSameFigures(t, cheap, encDecode(t, r2.stdout).Images[0], true)

	r3 := imgsize(t, env, "inspect", "-f", "json", "--stats", "--no-cache", "--exact", ref)
	if r3.code != 0 {
		t.Fatalf("--exact: exit %d: %s", r3.code, r3.stderr)
	}
	st3 := encParseStats(t, r3.stderr)
	t.Logf("--no-cache --exact run: %s", st3)
	if got := st3["layer"]; got.bytes != compressed || got.requests != n {
		t.Errorf("--exact fetched %d B of layers in %d requests; want every blob once: %d B in %d requests", got.bytes, got.requests, compressed, n)
	}
	encSameFigures(t, cheap, encDecode(t, r3.stdout).Images[0], false)
}

// TestSharedLayersFetchedOnce compares two images that share layers and
// shows that each distinct blob is read once per command, by --exact and
// by the cheap path alike.
func TestSharedLayersFetchedOnce(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	gz := func(seed uint64) encCase {
		tr := encTar(t, encFiles(seed))
		return encCase{key: fmt.Sprintf("gzip-%d", seed), layer: encNewLayer(encGzip(t, tr), tr, types.OCILayer), mt: types.OCILayer}
	}
	base, onlyA, onlyB := gz(11), gz(12), gz(13)
	refA := encPush(t, reg, "shared/a:v1", []encCase{base, onlyA})
	refB := encPush(t, reg, "shared/b:v1", []encCase{base, onlyB, onlyA})
	var distinct int64
	for _, c := range []encCase{base, onlyA, onlyB} {
		n, err := c.layer.Size()
		if err != nil {
			t.Fatal(err)
		}
		distinct += n
	}
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}

	r := imgsize(t, env, "compare", "-f", "json", "--stats", "--no-cache", "--exact", refA, refB)
	if r.code != 0 {
		t.Fatalf("compare --exact: exit %d: %s", r.code, r.stderr)
	}
	st := encParseStats(t, r.stderr)
	t.Logf("compare --exact: %s; distinct blobs %d B", st, distinct)
	if got := st["layer"]; got.bytes != distinct || got.requests != 3 {
		t.Errorf("compare --exact fetched %d B of layers in %d requests; want the 3 distinct blobs once: %d B", got.bytes, got.requests, distinct)
	}
	rep := encDecode(t, r.stdout)
	if len(rep.Images) != 2 || len(rep.Images[1].Layers) != 3 {
		t.Fatalf("compare report: %d images", len(rep.Images))
	}
	// A layer read once must still be reported in both images.
	for _, i := range []int{0, 1} {
		if a, b := rep.Images[0].Layers[i], rep.Images[1].Layers[2*i]; a.Digest != b.Digest || a.Uncompressed.Bytes == nil || b.Uncompressed.Bytes == nil ||
			*a.Uncompressed.Bytes != *b.Uncompressed.Bytes || a.Uncompressed.Provenance != "exact" || b.Uncompressed.Provenance != "exact" {
			t.Errorf("shared layer %s: %s in A, %s in B", a.Digest, a.Uncompressed, b.Uncompressed)
		}
	}

	r = imgsize(t, env, "compare", "-f", "json", "--stats", "--no-cache", refA, refB)
	if r.code != 0 {
		t.Fatalf("compare: exit %d: %s", r.code, r.stderr)
	}
	st = encParseStats(t, r.stderr)
	t.Logf("compare (cheap): %s", st)
	if got := st["layer"]; got.bytes != 3*4 || got.requests != 3 {
		t.Errorf("compare fetched %d B of layers in %d requests; want one 4-byte trailer per distinct layer: 12 B in 3 requests", got.bytes, got.requests)
	}
}

// encSameFigures checks that two reports of one image agree on every
// uncompressed figure, and, when sameProv, on how each was obtained.
func encSameFigures(t *testing.T, want, got encImage, sameProv bool) {
	t.Helper()
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for i, w := range want.Layers {
		g := got.Layers[i]
		if g.Digest != w.Digest || g.Uncompressed.Bytes == nil || w.Uncompressed.Bytes == nil || *g.Uncompressed.Bytes != *w.Uncompressed.Bytes {
			t.Errorf("layer %d %s: uncompressed %s, first run said %s", i, w.Digest, g.Uncompressed, w.Uncompressed)
		}
		if sameProv && g.Uncompressed.Provenance != w.Uncompressed.Provenance {
			t.Errorf("layer %d %s: provenance %q, first run said %q", i, w.Digest, g.Uncompressed.Provenance, w.Uncompressed.Provenance)
		}
	}
	if got.Uncompressed.Bytes == nil || want.Uncompressed.Bytes == nil || *got.Uncompressed.Bytes != *want.Uncompressed.Bytes {
		t.Errorf("image uncompressed %s, first run said %s", got.Uncompressed, want.Uncompressed)
	}
}

// encNeedTools skips the test when command-line tools it compares against
// are missing, or fails it on CI, where that is a broken image.
func encNeedTools(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "needs " + strings.Join(missing, ", ") + " on PATH"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so this is an error rather than a skip")
	}
	t.Skip(msg)
}

// --- test images -----------------------------------------------------------

type encFile struct {
	name string
	dir  bool
	body []byte
}

var encWords = strings.Fields(`layer image registry manifest config digest blob tar gzip zstd
	request range header trailer cache build stage binary toolchain module package vendor
	error warning info debug started finished pulled pushed mounted extracted bytes files`)

// encFiles returns a directory tree that compresses like real content:
// log-like text (about 3:1) and some incompressible binary files.
func encFiles(seed uint64) []encFile {
	rng := rand.New(rand.NewPCG(seed, 0x1ae7))
	dir := fmt.Sprintf("opt/app%d", seed)
	files := []encFile{{name: "opt/", dir: true}, {name: dir + "/", dir: true}, {name: dir + "/log/", dir: true}}
	for i := range 5 {
		var b bytes.Buffer
		for b.Len() < 25_000+rng.IntN(20_000) {
			fmt.Fprintf(&b, "2024-%02d-%02dT%02d:%02d:%02dZ level=%s msg=%q id=%08x n=%d\n",
				1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
				encWords[rng.IntN(len(encWords))],
				encWords[rng.IntN(len(encWords))]+" "+encWords[rng.IntN(len(encWords))]+" "+encWords[rng.IntN(len(encWords))],
				rng.Uint32(), rng.IntN(1_000_000))
		}
		files = append(files, encFile{name: fmt.Sprintf("%s/log/app-%d.log", dir, i), body: b.Bytes()})
	}
	for i := range 2 {
		b := make([]byte, 8_000+rng.IntN(12_000))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		files = append(files, encFile{name: fmt.Sprintf("%s/lib%d.so", dir, i), body: b})
	}
	files = append(files, encFile{name: dir + "/app.conf", body: fmt.Appendf(nil, "seed = %d\nworkers = %d\n", seed, 1+rng.IntN(16))})
	return files
}

var encModTime = time.Unix(1_700_000_000, 0)

// encWriteEntries writes files to tw, calling after each entry is complete
// (padding included).
func encWriteEntries(t *testing.T, tw *tar.Writer, files []encFile, after func(f encFile)) {
	t.Helper()
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: encModTime, Format: tar.FormatPAX}
		if f.dir {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		after(f)
	}
}

func encTar(t *testing.T, files []encFile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	encWriteEntries(t, tw, files, func(encFile) {})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encGzipWriters keeps encGzip's writers for reuse: under -race a new
// one (its ~1 MB of tables allocated and cleared) cost 9 ms of CPU, and
// the eStargz layers take one per entry.
var encGzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// encGzip gzips b at the fastest level, as go-containerregistry does:
// what these tests check holds at any level, and the default level cost
// the race-instrumented test process 4 times the CPU.
func encGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := encGzipWriters.Get().(*gzip.Writer)
	defer encGzipWriters.Put(zw)
	zw.Reset(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// encEstargz writes an eStargz blob the way the estargz package lays it
// out: a landmark file, one gzip member per entry, the TOC
// (stargz.index.json, with the tar's end blocks) in a member of its own,
// and a 51-byte empty footer member whose extra field holds the TOC's
// offset. It returns the blob, its decompressed stream and the TOC digest.
func encEstargz(t *testing.T, files []encFile) (blob, stream []byte, tocDigest string) {
	t.Helper()
	type tocEntry struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Size   int64  `json:"size,omitempty"`
		Mode   int64  `json:"mode"`
		Offset int64  `json:"offset,omitempty"`
		Digest string `json:"digest,omitempty"`
	}
	var out, str, raw bytes.Buffer
	member := func() {
		str.Write(raw.Bytes())
		out.Write(encGzip(t, raw.Bytes()))
		raw.Reset()
	}
	tw := tar.NewWriter(&raw)
	var entries []tocEntry
	files = append([]encFile{{name: ".no.prefetch.landmark", body: []byte{0xf}}}, files...)
	encWriteEntries(t, tw, files, func(f encFile) {
		e := tocEntry{Name: strings.TrimSuffix(f.name, "/"), Type: "reg", Size: int64(len(f.body)), Mode: 0o644, Offset: int64(out.Len())}
		if f.dir {
			e.Type, e.Mode, e.Size, e.Offset = "dir", 0o755, 0, 0
		} else {
			e.Digest = fmt.Sprintf("sha256:%x", sha256.Sum256(f.body))
		}
		entries = append(entries, e)
		member()
	})
	toc, err := json.Marshal(map[string]any{"version": 1, "entries": entries})
	if err != nil {
		t.Fatal(err)
	}
	tocOff := out.Len()
	if err := tw.WriteHeader(&tar.Header{Name: "stargz.index.json", Mode: 0o644, Size: int64(len(toc)), Typeflag: tar.TypeReg, ModTime: encModTime, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(toc); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	member()

	var footer bytes.Buffer
	zw, err := gzip.NewWriterLevel(&footer, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	sub := fmt.Sprintf("%016xSTARGZ", tocOff)
	zw.Extra = endian.LittleEndian.AppendUint16([]byte{'S', 'G'}, uint16(len(sub)))
	zw.Extra = append(zw.Extra, sub...)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if footer.Len() != 51 {
		t.Fatalf("eStargz footer is %d bytes, want 51", footer.Len())
	}
	out.Write(footer.Bytes())
	return out.Bytes(), str.Bytes(), fmt.Sprintf("sha256:%x", sha256.Sum256(toc))
}

// encLayer is a layer given as its blob and the stream it decompresses to.
type encLayer struct {
	blob, stream   []byte
	mt             types.MediaType
	digest, diffID v1.Hash
}

func encNewLayer(blob, stream []byte, mt types.MediaType) *encLayer {
	h := func(b []byte) v1.Hash {
		s := sha256.Sum256(b)
		return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
	}
	return &encLayer{blob: blob, stream: stream, mt: mt, digest: h(blob), diffID: h(stream)}
}

func (l *encLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *encLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *encLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *encLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.stream)), nil
}
func (l *encLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *encLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

// encPush writes an OCI image of the cases' layers to the registry.
func encPush(t *testing.T, reg *testregistry.Registry, repoTag string, cases []encCase) string {
	t.Helper()
	img := ociLinuxBase(t)
	adds := make([]mutate.Addendum, 0, len(cases))
	for _, c := range cases {
		adds = append(adds, mutate.Addendum{Layer: c.layer, MediaType: c.mt, Annotations: c.ann,
			History: v1.History{CreatedBy: "encodings test: " + c.key, Created: v1.Time{Time: encModTime}}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Addr + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(reg.Transport())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref.String()
}

// encFetchBlob downloads a blob with curl, an HTTP client independent of
// imgsize, and checks it against its digest with sha256sum.
func encFetchBlob(t *testing.T, reg *testregistry.Registry, repo string, d v1.Hash, dst string) string {
	t.Helper()
	u := fmt.Sprintf("%s/v2/%s/blobs/%s", reg.URL(), repo, d)
	if out, err := exec.Command("curl", "-sSfL", "--noproxy", "*", "-o", dst, u).CombinedOutput(); err != nil {
		t.Fatalf("curl %s: %v\n%s", u, err, out)
	}
	// sha256sum without a shell: each bash costs ~10 ms of CPU.
	out, err := exec.Command("sha256sum", dst).Output()
	if err != nil {
		t.Fatalf("sha256sum %s: %v", dst, err)
	}
	if got, _, _ := strings.Cut(string(out), " "); got != d.Hex {
		t.Fatalf("blob %s fetched with curl has sha256 %s", d, got)
	}
	return dst
}

// encMeasure gives, as wc and sha256sum see them, the blob's size and the
// length and digest of the stream decompress makes of it: one shell for
// the three, as each bash costs ~10 ms of CPU.
func encMeasure(t *testing.T, decompress, blob string) (size, stream int64, diffID string) {
	t.Helper()
	script := fmt.Sprintf("wc -c < %[2]s; %[1]s %[2]s | wc -c; %[1]s %[2]s | sha256sum", decompress, blob)
	f := strings.Fields(encShell(t, script))
	if len(f) != 4 {
		t.Fatalf("%s printed %q, want two counts and a digest", script, f)
	}
	var err error
	if size, err = strconv.ParseInt(f[0], 10, 64); err == nil {
		stream, err = strconv.ParseInt(f[1], 10, 64)
	}
	if err != nil {
		t.Fatalf("%s printed %q", script, f)
	}
	return size, stream, "sha256:" + f[2]
}

func encShell(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("bash", "-o", "pipefail", "-c", script).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s: %v\n%s", script, err, stderr)
	}
	return string(out)
}

// encShellWord returns the first word a script prints.
func encShellWord(t *testing.T, script string) string {
	t.Helper()
	f := strings.Fields(encShell(t, script))
	if len(f) == 0 {
		t.Fatalf("%s printed nothing", script)
	}
	return f[0]
}

func encShellInt(t *testing.T, script string) int64 {
	t.Helper()
	w := encShellWord(t, script)
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		t.Fatalf("%s printed %q", script, w)
	}
	return n
}

// --- reports ---------------------------------------------------------------

// encReport is the part of the JSON report these tests read, decoded
// independently of the report package's types.
type encReport struct {
	Images []encImage `json:"images"`
}

type encImage struct {
	Digest       string  `json:"digest"`
	Compressed   encSize `json:"compressed"`
	Uncompressed encSize `json:"uncompressed"`
	Layers       []struct {
		Digest       string            `json:"digest"`
		DiffID       string            `json:"diffID"`
		MediaType    string            `json:"mediaType"`
		Compressed   encSize           `json:"compressed"`
		Uncompressed encSize           `json:"uncompressed"`
		CreatedBy    string            `json:"createdBy"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"layers"`
}

type encSize struct {
	Bytes      *int64 `json:"bytes"`
	Provenance string `json:"provenance"`
	Reason     string `json:"reason"`
}

func (s encSize) String() string {
	b := "null"
	if s.Bytes != nil {
		b = strconv.FormatInt(*s.Bytes, 10)
	}
	if s.Reason != "" {
		return fmt.Sprintf("%s B (%s: %s)", b, s.Provenance, s.Reason)
	}
	return fmt.Sprintf("%s B (%s)", b, s.Provenance)
}

func encDecode(t *testing.T, s string) encReport {
	t.Helper()
	var r encReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	if len(r.Images) == 0 {
		t.Fatalf("report has no images:\n%s", s)
	}
	return r
}

type encTraffic struct{ requests, bytes int64 }

type encStats map[string]encTraffic

func (s encStats) String() string {
	var parts []string
	for _, k := range []string{"manifest", "config", "layer", "other"} {
		parts = append(parts, fmt.Sprintf("%s %d req %d B", k, s[k].requests, s[k].bytes))
	}
	return strings.Join(parts, ", ")
}

// encStatsLine matches a line of the --stats block printed by printStats
// (progress.go): "  layer       3 requests     12 B  (12 B)".
var encStatsLine = regexp.MustCompile(`(?m)^\s+(manifest|config|layer|other)\s+(\d+) requests?\s.*\((\d+) B\)\s*$`)

// encParseStats reads the --stats block from stderr; every kind must be
// present.
func encParseStats(t *testing.T, stderr string) encStats {
	t.Helper()
	if !strings.Contains(stderr, "registry traffic") {
		t.Fatalf("no --stats block on stderr:\n%s", stderr)
	}
	s := encStats{}
	for _, m := range encStatsLine.FindAllStringSubmatch(stderr, -1) {
		req, _ := strconv.ParseInt(m[2], 10, 64)
		b, _ := strconv.ParseInt(m[3], 10, 64)
		s[m[1]] = encTraffic{req, b}
	}
	for _, k := range []string{"manifest", "config", "layer", "other"} {
		if _, ok := s[k]; !ok {
			t.Fatalf("--stats block lacks %q:\n%s", k, stderr)
		}
	}
	return s
}
