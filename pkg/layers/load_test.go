package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

func load(t *testing.T, arg string, opts layers.Options) (*layers.Image, error) {
	t.Helper()
	src, err := source.Open(context.Background(), arg, source.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return layers.Load(context.Background(), src, opts)
}

// tarLayer builds a layer whose tar stream is known byte for byte.
func tarLayer(t *testing.T, files map[string]int) (v1.Layer, []byte) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, size := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(bytes.Repeat([]byte{'x'}, size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l, raw
}

func TestLoadLayoutCountsUncompressedExactly(t *testing.T) {
	l1, raw1 := tarLayer(t, map[string]int{"a": 100_000, "b": 3})
	l2, raw2 := tarLayer(t, map[string]int{"big": 1 << 20})
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: l1, History: v1.History{CreatedBy: "COPY a b /"}},
		mutate.Addendum{History: v1.History{CreatedBy: "ENV X=1", EmptyLayer: true}},
		mutate.Addendum{Layer: l2, History: v1.History{CreatedBy: "RUN make big"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	got, err := load(t, "oci:"+dir, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	wantCreated := []string{"COPY a b /", "RUN make big"}
	wantUncompressed := []int64{int64(len(raw1)), int64(len(raw2))}
	if len(got.Layers) != 2 {
		t.Fatalf("got %d layers, want 2", len(got.Layers))
	}
	var sumC int64
	for i, l := range got.Layers {
		if l.Digest != m.Layers[i].Digest {
			t.Errorf("layer %d digest %s, want %s", i, l.Digest, m.Layers[i].Digest)
		}
		if l.Compressed != (layers.Size{Bytes: m.Layers[i].Size, Provenance: layers.Exact}) {
			t.Errorf("layer %d compressed %+v, want %d exact", i, l.Compressed, m.Layers[i].Size)
		}
		if l.Uncompressed != (layers.Size{Bytes: wantUncompressed[i], Provenance: layers.Exact}) {
			t.Errorf("layer %d uncompressed %+v, want %d exact", i, l.Uncompressed, wantUncompressed[i])
		}
		if l.CreatedBy != wantCreated[i] {
			t.Errorf("layer %d created by %q, want %q (empty_layer entries must be skipped)", i, l.CreatedBy, wantCreated[i])
		}
		// Independent cross-check: gzip itself counts the blob.
		blob := filepath.Join(dir, "blobs", "sha256", l.Digest.Hex)
		if n := testutil.ShellCount(t, "gzip -dc "+blob+" | wc -c"); n != l.Uncompressed.Bytes {
			t.Errorf("layer %d: gzip -dc | wc -c = %d, model %d", i, n, l.Uncompressed.Bytes)
		}
		sumC += m.Layers[i].Size
	}
	if got.Compressed.Bytes != sumC || got.Compressed.Provenance != layers.Exact {
		t.Errorf("compressed total %+v, want %d exact", got.Compressed, sumC)
	}
	if want := int64(len(raw1) + len(raw2)); got.Uncompressed.Bytes != want {
		t.Errorf("uncompressed total %d, want %d", got.Uncompressed.Bytes, want)
	}
}

func TestLoadDetectsTamperedLayer(t *testing.T) {
	img, err := random.Image(4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir, blob := writeLayout(t, img)
	// Same length, different bytes: only reading the blob can notice.
	flipByte(t, blob)
	_, err = load(t, "oci:"+dir, layers.Options{})
	if !errors.Is(err, errdefs.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

// servedRandomImage pushes a random image to an in-process registry that
// lives as long as the test, and returns its reference.
func servedRandomImage(t *testing.T, size int64, n int) (string, v1.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	img, err := random.Image(size, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(u.Host + "/app:v1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return ref.String(), img
}

func TestLoadRegistryCheapPathAgreesWithExact(t *testing.T) {
	ref, img := servedRandomImage(t, 10_000, 3)
	cheap, err := load(t, ref, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cheap.Uncompressed.Provenance != layers.GzipTrailer {
		t.Errorf("remote uncompressed = %+v, want it from the gzip trailer", cheap.Uncompressed)
	}
	m, _ := img.Manifest()
	var want int64
	for _, l := range m.Layers {
		want += l.Size
	}
	if cheap.Compressed.Bytes != want || cheap.Compressed.Provenance != layers.Exact {
		t.Errorf("compressed %+v, want %d exact", cheap.Compressed, want)
	}

	exact, err := load(t, "docker://"+ref, layers.Options{Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	var wantU int64
	for _, l := range ls {
		rc, _ := l.Uncompressed()
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		wantU += n
	}
	if exact.Uncompressed.Bytes != wantU || exact.Uncompressed.Provenance != layers.Exact {
		t.Errorf("--exact uncompressed %+v, want %d exact", exact.Uncompressed, wantU)
	}
	if cheap.Uncompressed.Bytes != wantU {
		t.Errorf("cheap path says %d, counting says %d", cheap.Uncompressed.Bytes, wantU)
	}
}

// countingImage counts how often layer bytes are opened.
type countingImage struct {
	v1.Image
	opens *atomic.Int32
}

func (c countingImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := c.Image.LayerByDigest(h)
	return countingLayer{l, c.opens}, err
}

type countingLayer struct {
	v1.Layer
	opens *atomic.Int32
}

func (c countingLayer) Compressed() (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Layer.Compressed()
}

func TestMemoReadsSharedLayerOnce(t *testing.T) {
	base, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := random.Layer(1024, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	child, err := mutate.AppendLayers(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	// Registry images share what was read of a layer...
	var opens atomic.Int32
	memo := &layers.Memo{}
	for _, img := range []v1.Image{base, child} {
		src := &source.Image{Image: countingImage{img, &opens}, Transport: source.Registry, Remote: true}
		if _, err := layers.Load(context.Background(), src, layers.Options{Memo: memo, Jobs: 2, Exact: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := opens.Load(); got != 3 {
		t.Errorf("registry layer bytes opened %d times, want 3 (2 shared layers once, 1 new)", got)
	}
	// ...local images each read their own copy, which is what checks it.
	opens.Store(0)
	memo = &layers.Memo{}
	for _, img := range []v1.Image{base, child} {
		src := &source.Image{Image: countingImage{img, &opens}, Transport: source.OCI}
		if _, err := layers.Load(context.Background(), src, layers.Options{Memo: memo, Jobs: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if got := opens.Load(); got != 5 {
		t.Errorf("local layer bytes opened %d times, want 5 (every copy read)", got)
	}
}

func TestTotalProvenance(t *testing.T) {
	ex := func(n int64) layers.Size { return layers.Size{Bytes: n, Provenance: layers.Exact} }
	tests := []struct {
		name  string
		in    []layers.Size
		bytes int64
		prov  layers.Provenance
	}{
		{"empty", nil, 0, layers.Exact},
		{"all exact", []layers.Size{ex(1), ex(2)}, 3, layers.Exact},
		{"one unknown hides the sum", []layers.Size{ex(1), {Provenance: layers.Unknown}}, 0, layers.Unknown},
		{"estimate wins over exact", []layers.Size{ex(1), {Bytes: 5, Provenance: layers.Estimated}}, 6, layers.Estimated},
		{"same derived", []layers.Size{{Bytes: 2, Provenance: layers.GzipTrailer}, {Bytes: 3, Provenance: layers.GzipTrailer}}, 5, layers.GzipTrailer},
		{"exact and derived", []layers.Size{ex(1), {Bytes: 3, Provenance: layers.GzipTrailer}}, 4, layers.Mixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := layers.Total(tt.in)
			if got.Bytes != tt.bytes || got.Provenance != tt.prov {
				t.Errorf("Total = %d %s, want %d %s", got.Bytes, got.Provenance, tt.bytes, tt.prov)
			}
		})
	}
}

// TestFixtures checks every image made by a real tool against an
// independent count by tar, gzip and zstd.
func TestFixtures(t *testing.T) {
	fixtures := testutil.Fixtures(t)
	for _, tool := range []string{"tar", "gzip", "zstd"} {
		testutil.RequireTool(t, tool)
	}
	tests := []struct {
		file       string
		layers     int
		compressed layers.Provenance
		// blobPath names the tar entry holding layer i.
		decompress string
	}{
		{"test-docker-image.tar", 14, layers.Unknown, "cat"},
		{"test-kaniko-image.tar", 14, layers.Exact, "gzip -dc"},
		{"test-oci-uncompressed-image.tar", 1, layers.Exact, "cat"},
		{"test-oci-gzip-image.tar", 1, layers.Exact, "gzip -dc"},
		{"test-oci-zstd-image.tar", 1, layers.Exact, "zstd -dc"},
		{"test-oci-estargz-image.tar", 1, layers.Exact, "gzip -dc"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(fixtures, tt.file)
			img, err := load(t, path, layers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(img.Layers) != tt.layers {
				t.Fatalf("%d layers, want %d", len(img.Layers), tt.layers)
			}
			entries := layerEntries(t, path, img)
			dir := extract(t, path)
			var sum int64
			for i, l := range img.Layers {
				if l.Compressed.Provenance != tt.compressed {
					t.Errorf("layer %d compressed provenance %s, want %s", i, l.Compressed.Provenance, tt.compressed)
				}
				n := outputSize(t, append(strings.Fields(tt.decompress), filepath.Join(dir, entries[i]))...)
				if l.Uncompressed.Bytes != n || l.Uncompressed.Provenance != layers.Exact {
					t.Errorf("layer %d uncompressed %+v, independent count %d", i, l.Uncompressed, n)
				}
				sum += n
			}
			if img.Uncompressed.Bytes != sum {
				t.Errorf("uncompressed total %d, independent sum %d", img.Uncompressed.Bytes, sum)
			}
		})
	}
}

// layerEntries finds each layer's tar entry from the archive's own index,
// read with the tar tool rather than through the code under test.
// extract unpacks the archive at path with tar, for the independent
// counts to read its entries as files: one tar for the archive rather
// than a tar -xO per layer.
func extract(t *testing.T, path string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xf", path, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xf %s: %v\n%s", path, err, out)
	}
	return dir
}

func layerEntries(t *testing.T, path string, img *layers.Image) []string {
	t.Helper()
	var res []string
	if img.Transport == string(source.OCIArchive) {
		for _, l := range img.Layers {
			res = append(res, "blobs/sha256/"+l.Digest.Hex)
		}
		return res
	}
	mf, err := exec.Command("tar", "-xOf", path, "manifest.json").Output()
	if err != nil {
		t.Fatal(err)
	}
	// manifest.json lists layer paths in order; pull them out with a
	// minimal scan so the test does not depend on the code under test.
	s := string(mf)
	i := strings.Index(s, `"Layers":[`)
	if i < 0 {
		t.Fatalf("no Layers in manifest.json")
	}
	list := s[i+len(`"Layers":[`):]
	list = list[:strings.Index(list, "]")]
	for _, q := range strings.Split(list, ",") {
		res = append(res, strings.Trim(q, `" `))
	}
	return res
}

// TestDockerArchiveHasNoManifestDigest: docker save stores no manifest, so
// the model must not present the one the reader made as the image's; the
// image ID is the config digest, checked with sha256sum.
func TestDockerArchiveHasNoManifestDigest(t *testing.T) {
	path := filepath.Join(testutil.Fixtures(t), "test-docker-image.tar")
	img, err := load(t, path, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !img.SyntheticManifest || img.Digest != (v1.Hash{}) || img.MediaType != "" {
		t.Errorf("synthetic %v, digest %q, media type %q: want a synthetic manifest with no digest or type", img.SyntheticManifest, img.Digest, img.MediaType)
	}
	out, err := exec.Command("bash", "-o", "pipefail", "-c",
		"tar -xOf "+path+" manifest.json | grep -o '\"Config\":\"[^\"]*\"' | cut -d'\"' -f4 | xargs -I{} tar -xOf "+path+" {} | sha256sum").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Fields(string(out))[0]; img.ConfigDigest.Hex != want {
		t.Errorf("image ID %s, sha256sum of the config %s", img.ConfigDigest.Hex, want)
	}
}

// TestEstimateCompressed: asked for, a docker-archive's uncompressed layers
// get a compressed size marked Estimated, close to what GNU gzip makes of
// the same bytes (the two compressors differ by a few percent).
func TestEstimateCompressed(t *testing.T) {
	path := filepath.Join(testutil.Fixtures(t), "test-docker-image.tar")
	plain, err := load(t, path, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Compressed.Known() {
		t.Fatalf("without the option the compressed size must stay unknown: %+v", plain.Compressed)
	}
	est, err := load(t, path, layers.Options{EstimateCompressed: true})
	if err != nil {
		t.Fatal(err)
	}
	if est.Compressed.Provenance != layers.Estimated {
		t.Fatalf("total provenance %s, want estimated", est.Compressed.Provenance)
	}
	entries := layerEntries(t, path, est)
	dir := extract(t, path)
	for i, l := range est.Layers {
		if l.Compressed.Provenance != layers.Estimated || l.Compressed.Reason == "" {
			t.Errorf("layer %d: %+v, want estimated with a reason", i, l.Compressed)
		}
		gz := outputSize(t, "gzip", "-6", "-n", "-c", filepath.Join(dir, entries[i])) // -n: no name, as from a pipe
		if d := float64(l.Compressed.Bytes-gz) / float64(gz); d > 0.15 || d < -0.15 {
			t.Errorf("layer %d: estimate %d B, gzip -6 makes %d B (%.0f%% apart)", i, l.Compressed.Bytes, gz, d*100)
		}
		if l.Uncompressed != plain.Layers[i].Uncompressed {
			t.Errorf("layer %d: estimating changed the uncompressed size", i)
		}
	}
}

// Sizes already counted from the image's blobs stand in for reading them:
// the counted figure is used, exact, and no layer byte is read again.
func TestLoadUsesCounted(t *testing.T) {
	l1, raw1 := tarLayer(t, map[string]int{"a": 5_000})
	l2, raw2 := tarLayer(t, map[string]int{"b": 7_000})
	img, err := mutate.AppendLayers(empty.Image, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d1, _ := l1.Digest()
	var read int64
	// Only the first layer was counted: the second is still read.
	got, err := load(t, "oci:"+dir, layers.Options{
		Counted:  map[v1.Hash]int64{d1: int64(len(raw1))},
		Progress: func(n int64) { read += n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Layers[0].Uncompressed != (layers.Size{Bytes: int64(len(raw1)), Provenance: layers.Exact}) ||
		got.Layers[1].Uncompressed != (layers.Size{Bytes: int64(len(raw2)), Provenance: layers.Exact}) {
		t.Errorf("uncompressed %+v, %+v; want %d and %d exact", got.Layers[0].Uncompressed, got.Layers[1].Uncompressed, len(raw1), len(raw2))
	}
	m, _ := img.Manifest()
	if read != m.Layers[1].Size {
		t.Errorf("read %d stored bytes, want only the second layer's %d", read, m.Layers[1].Size)
	}
}
