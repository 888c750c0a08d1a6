package source_test

// Helpers shared by the source tests: image generators, writers for every
// on-disk format the package reads, and assertions. Expected values always
// come from the generator (go-containerregistry's own view of the image it
// made) or from an outside tool run through exec, never from package source.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

const refNameAnnotation = "org.opencontainers.image.ref.name"

var (
	linuxAmd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	linuxArm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// tagged is the layout option naming a manifest with a tag.
func tagged(tag string) layout.Option {
	return layout.WithAnnotations(map[string]string{refNameAnnotation: tag})
}

// genImage makes a reproducible random image of n gzip layers of size bytes
// each. A non-nil platform is written into the config, as real builders do.
func genImage(t testing.TB, seed int64, n int, size int64, p *v1.Platform) v1.Image {
	t.Helper()
	img := testutil.RandomImage(t, size, n, random.WithSource(rand.NewSource(seed)))
	if p != nil {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// genOCIImage makes a reproducible random image with OCI media types
// (manifest, config and gzip layers), as BuildKit and skopeo write them.
func genOCIImage(t testing.TB, seed int64, n int, size int64, p v1.Platform) v1.Image {
	t.Helper()
	src := rand.NewSource(seed)
	var ls []v1.Layer
	for range n {
		ls = append(ls, testutil.RandomLayer(t, size, types.OCILayer, random.WithSource(src)))
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, ls...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// layerFacts is the generator's view of one layer.
type layerFacts struct {
	desc   v1.Descriptor // as the generator's manifest lists it
	diffID v1.Hash
	raw    []byte // the uncompressed tar stream
}

// imageFacts is the generator's view of an image.
type imageFacts struct {
	digest    v1.Hash
	config    []byte
	configDgt v1.Hash
	layers    []layerFacts
}

func factsOf(t testing.TB, img v1.Image) imageFacts {
	t.Helper()
	var f imageFacts
	var err error
	if f.digest, err = img.Digest(); err != nil {
		t.Fatal(err)
	}
	if f.config, err = img.RawConfigFile(); err != nil {
		t.Fatal(err)
	}
	if f.configDgt, err = img.ConfigName(); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		f.layers = append(f.layers, layerFacts{desc: m.Layers[i], diffID: d, raw: raw})
	}
	return f
}

// wantLayers is what an image stored with its registry blobs must show.
func (f imageFacts) wantLayers() []v1.Descriptor {
	var out []v1.Descriptor
	for _, l := range f.layers {
		out = append(out, v1.Descriptor{MediaType: l.desc.MediaType, Size: l.desc.Size, Digest: l.desc.Digest})
	}
	return out
}

// wantUncompressedLayers is what a synthetic manifest over uncompressed
// layers must show: the tar stream itself, named by its diffID.
func (f imageFacts) wantUncompressedLayers() []v1.Descriptor {
	var out []v1.Descriptor
	for _, l := range f.layers {
		out = append(out, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: int64(len(l.raw)), Digest: l.diffID})
	}
	return out
}

func (f imageFacts) diffIDs() []v1.Hash {
	var out []v1.Hash
	for _, l := range f.layers {
		out = append(out, l.diffID)
	}
	return out
}

func sha256Hash(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// writeLayout writes an empty OCI layout at dir and returns its path.
func writeLayout(t testing.TB, dir string) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tarEntry is one member of an archive written by writeTar.
type tarEntry struct {
	name string
	body []byte
	link string // non-empty: a symlink to link (a hard link when hard)
	hard bool
	dir  bool
}

func writeTar(t testing.TB, path string, entries []tarEntry) {
	t.Helper()
	if err := os.WriteFile(path, tarBytes(t, entries), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tarBytes(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			h = &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeDir}
		case e.link != "" && e.hard:
			h = &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeLink, Linkname: e.link}
		case e.link != "":
			h = &tar.Header{Name: e.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: e.link}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarDir archives the tree at dir (an OCI layout) into dst, as
// `tar -C dir -cf dst .` would, with names relative to dir.
func tarDir(t testing.TB, dir, dst string) {
	t.Helper()
	var entries []tarEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			entries = append(entries, tarEntry{name: rel + "/", dir: true})
			return nil
		}
		b, err := os.ReadFile(p)
		entries = append(entries, tarEntry{name: rel, body: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	writeTar(t, dst, entries)
}

// writeTarball writes a docker-save style archive with go-containerregistry's
// tarball writer: layers stay gzipped, named <digest-hex>.tar.gz.
func writeTarball(t testing.TB, path string, imgs map[string]v1.Image) {
	t.Helper()
	m := map[name.Tag]v1.Image{}
	for tag, img := range imgs {
		tg, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		m[tg] = img
	}
	if err := tarball.MultiWriteToFile(path, m); err != nil {
		t.Fatal(err)
	}
}

// legacyImage is one image of a hand-made `docker save` archive.
type legacyImage struct {
	tags  []string
	facts imageFacts
}

// legacyEntries lays images out as `docker save` before Docker 25 did:
// manifest.json, <config-hex>.json, <layer-id>/{VERSION,json,layer.tar} with
// the layer stored uncompressed, and a repositories file.
func legacyEntries(imgs ...legacyImage) []tarEntry {
	type mEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []mEntry
	var entries []tarEntry
	repos := map[string]map[string]string{}
	for _, img := range imgs {
		cfgName := img.facts.configDgt.Hex + ".json"
		entries = append(entries, tarEntry{name: cfgName, body: img.facts.config})
		var layerPaths []string
		parent := ""
		for _, l := range img.facts.layers {
			id := sha256Hash([]byte(parent + l.diffID.String())).Hex
			entries = append(entries,
				tarEntry{name: id + "/", dir: true},
				tarEntry{name: id + "/VERSION", body: []byte("1.0")},
				tarEntry{name: id + "/json", body: []byte(`{"id":"` + id + `"}`)},
				tarEntry{name: id + "/layer.tar", body: l.raw},
			)
			layerPaths = append(layerPaths, id+"/layer.tar")
			parent = id
		}
		for _, tag := range img.tags {
			repo, tg, _ := strings.Cut(tag, ":")
			if repos[repo] == nil {
				repos[repo] = map[string]string{}
			}
			repos[repo][tg] = parent
		}
		manifest = append(manifest, mEntry{Config: cfgName, RepoTags: img.tags, Layers: layerPaths})
	}
	mj, _ := json.Marshal(manifest)
	rj, _ := json.Marshal(repos)
	return append(entries,
		tarEntry{name: "repositories", body: rj},
		tarEntry{name: "manifest.json", body: mj},
	)
}

// docker25Entries lays one image out as Docker 25+ `docker save` does: an
// OCI layout (index.json, oci-layout, blobs/sha256/… with uncompressed
// layers) plus a manifest.json for older readers and legacy <id>/layer.tar
// symlinks into blobs/. With viaSymlinks, manifest.json names the layers by
// their legacy symlink instead of the blob path. It returns the entries and
// the digest of the OCI manifest it wrote.
func docker25Entries(t testing.TB, f imageFacts, tag string, viaSymlinks bool) ([]tarEntry, v1.Hash) {
	t.Helper()
	blob := func(h v1.Hash) string { return "blobs/sha256/" + h.Hex }
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(f.config)), Digest: f.configDgt},
	}
	entries := []tarEntry{
		{name: "blobs/", dir: true},
		{name: "blobs/sha256/", dir: true},
		{name: blob(f.configDgt), body: f.config},
	}
	var layerPaths []string
	for _, l := range f.layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: int64(len(l.raw)), Digest: l.diffID})
		entries = append(entries, tarEntry{name: blob(l.diffID), body: l.raw})
		id := sha256Hash([]byte("legacy" + l.diffID.String())).Hex
		entries = append(entries,
			tarEntry{name: id + "/", dir: true},
			tarEntry{name: id + "/layer.tar", link: "../" + blob(l.diffID)},
		)
		if viaSymlinks {
			layerPaths = append(layerPaths, id+"/layer.tar")
		} else {
			layerPaths = append(layerPaths, blob(l.diffID))
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	md := sha256Hash(mb)
	idx := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: types.OCIManifestSchema1, Size: int64(len(mb)), Digest: md,
			Annotations: map[string]string{
				"io.containerd.image.name": "docker.io/library/" + tag,
				refNameAnnotation:          tag[strings.LastIndex(tag, ":")+1:],
			},
		}},
	}
	ib, _ := json.Marshal(idx)
	mj, _ := json.Marshal([]map[string]any{{"Config": blob(f.configDgt), "RepoTags": []string{tag}, "Layers": layerPaths}})
	entries = append(entries,
		tarEntry{name: blob(md), body: mb},
		tarEntry{name: "index.json", body: ib},
		tarEntry{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		tarEntry{name: "manifest.json", body: mj},
	)
	return entries, md
}

// gzipFile compresses src into dst with the gzip tool (Go's gzip when the
// tool is absent, so the test still runs).
func gzipFile(t testing.TB, src, dst string) {
	t.Helper()
	if _, err := exec.LookPath("gzip"); err == nil {
		out, err := exec.Command("gzip", "-c", src).Output()
		if err != nil {
			t.Fatalf("gzip -c %s: %v", src, err)
		}
		if err := os.WriteFile(dst, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// needTool skips the test when an outside tool it relies on is missing.
func needTool(t testing.TB, tool string) {
	t.Helper()
	testutil.RequireTool(t, tool)
}

// tarListing returns each regular entry of an archive with its size, as
// `tar -tvf` prints them: an outside view of the archive.
func tarListing(t testing.TB, path string) map[string]int64 {
	t.Helper()
	needTool(t, "tar")
	out, err := exec.Command("tar", "--numeric-owner", "-tvf", path).Output()
	if err != nil {
		t.Fatalf("tar -tvf %s: %v", path, err)
	}
	got := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// -rw-r--r-- 0/0  3 2018-12-28 20:44 NAME
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "-") {
			continue
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("tar listing line %q: %v", line, err)
		}
		got[strings.Join(f[5:], " ")] = n
	}
	return got
}

func open(t testing.TB, arg string, opts source.Options) *source.Image {
	t.Helper()
	img, err := source.Open(context.Background(), arg, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", arg, err)
	}
	t.Cleanup(func() {
		if err := img.Close(); err != nil {
			t.Errorf("Close(%q): %v", arg, err)
		}
	})
	return img
}

var kinds = []struct {
	name string
	err  error
}{
	{"ErrUsage", errdefs.ErrUsage},
	{"ErrNotFound", errdefs.ErrNotFound},
	{"ErrUnauthorized", errdefs.ErrUnauthorized},
	{"ErrCorrupt", errdefs.ErrCorrupt},
	{"ErrUnsupported", errdefs.ErrUnsupported},
}

// kindsOf names the errdefs sentinels err carries.
func kindsOf(err error) []string {
	var out []string
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			out = append(out, k.name)
		}
	}
	return out
}

// checkErr asserts that err carries exactly the sentinel want (so it maps to
// one exit code) and that its message contains every fragment.
func checkErr(t testing.TB, err, want error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	got := kindsOf(err)
	wantName := ""
	for _, k := range kinds {
		if k.err == want {
			wantName = k.name
		}
	}
	if len(got) != 1 || got[0] != wantName {
		t.Errorf("error %q has kinds %v, want exactly [%s]", err, got, wantName)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// checkLayers compares the opened image's manifest layers with want, then
// reads every layer's stored bytes back and checks them against their
// descriptor: this proves the reader serves the right section of a file.
func checkLayers(t testing.TB, img v1.Image, want []v1.Descriptor, wantDiffIDs []v1.Hash) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	var got []v1.Descriptor
	for _, d := range m.Layers {
		got = append(got, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest})
	}
	if diff := descDiff(got, want); diff != "" {
		t.Errorf("manifest layers differ:\n%s", diff)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("ConfigFile: %v", err)
	}
	if fmt.Sprint(cf.RootFS.DiffIDs) != fmt.Sprint(wantDiffIDs) {
		t.Errorf("diff_ids = %v, want %v", cf.RootFS.DiffIDs, wantDiffIDs)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatalf("Layers: %v", err)
	}
	if len(ls) != len(want) {
		t.Fatalf("%d layers, want %d", len(ls), len(want))
	}
	for i, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer %d Compressed: %v", i, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("layer %d: reading: %v", i, err)
		}
		if got := sha256Hash(b); got != want[i].Digest || int64(len(b)) != want[i].Size {
			t.Errorf("layer %d bytes: %d bytes hashing to %s, want %d bytes hashing to %s", i, len(b), got, want[i].Size, want[i].Digest)
		}
	}
}

func descDiff(got, want []v1.Descriptor) string {
	var sb strings.Builder
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = fmt.Sprintf("%s %d %s", got[i].MediaType, got[i].Size, got[i].Digest)
		}
		if i < len(want) {
			w = fmt.Sprintf("%s %d %s", want[i].MediaType, want[i].Size, want[i].Digest)
		}
		if g != w {
			fmt.Fprintf(&sb, "  [%d] got  %s\n      want %s\n", i, g, w)
		}
	}
	return sb.String()
}

// listTempArchives lists the decompressed copies Open leaves in dir.
func listTempArchives(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "imgsize-archive-*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// relArg names a subtest after an argument, without its temporary dir.
func relArg(arg, dir string) string { return strings.ReplaceAll(arg, dir, "DIR") }
