package main

// Issue 5's first acceptance test, end to end: images whose every tar
// header is written by hand here, so that each figure `imgsize files`,
// `imgsize diff` and `imgsize check --max-reclaimable` print can be worked
// out on paper. The expected values below are derived in the comments from
// the layer contents and the definitions (pkg/analysis/filetypes.go,
// filesystem.go, files.go, hints.go, diff.go, dive.go, and dive v0.13.1's
// filetree/efficiency.go and image/analysis.go); none was copied from the
// tool's output. The same image is written as an OCI layout (gzip layers)
// and as a docker-archive (uncompressed layers); both must give the same
// figures, and dive, where installed, must agree on its own three.

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testutil"
)

// knownEntry is one tar header of a hand-built layer.
type knownEntry struct {
	name     string
	typeflag byte
	size     int64
	mode     int64
	linkname string
}

func knownDir(name string) knownEntry {
	return knownEntry{name: name, typeflag: tar.TypeDir, mode: 0o755}
}

func knownFile(name string, size, mode int64) knownEntry {
	return knownEntry{name: name, typeflag: tar.TypeReg, size: size, mode: mode}
}

func knownSymlink(name, target string) knownEntry {
	return knownEntry{name: name, typeflag: tar.TypeSymlink, mode: 0o777, linkname: target}
}

func knownHardlink(name, target string) knownEntry {
	return knownEntry{name: name, typeflag: tar.TypeLink, mode: 0o755, linkname: target}
}

// knownWhiteout is an empty regular file, as Docker and BuildKit write
// whiteouts and opaque markers.
func knownWhiteout(name string) knownEntry {
	return knownEntry{name: name, typeflag: tar.TypeReg}
}

// knownLayer is a layer's history command and its tar headers, in order.
type knownLayer struct {
	createdBy string
	entries   []knownEntry
}

// knownLayers are the layers of image A; image B is A plus knownLayerB.
//
// What each holds, and the sums the comments below lean on (regular-file
// bytes; directories, links and whiteouts hold 0):
//
//	L0  12 entries: 7 dirs, tool 1000, t → tool, tool2 ⇒ usr/bin/tool,
//	    conf 100, lists/big 5000.                    tar bytes 6100
//	L1  7 entries: etc/, conf 150, data/, a 2000, b 3000, sub/, sub/c 400.
//	                                                 tar bytes 5550
//	L2  data/, whiteout data/b, usr/, usr/bin/, tool 1000 (chmod 0755).
//	                                                 tar bytes 1000
//	L3  whiteout of the directory data.              tar bytes 0
//	L4  var/, var/lib/, var/lib/apt/, lists/, opaque marker in lists,
//	    lists/small 10.                              tar bytes 10
//	L5  data/, data/a 2500.                          tar bytes 2500
var knownLayers = []knownLayer{
	{"ADD rootfs.tar /", []knownEntry{
		knownDir("usr/"),
		knownDir("usr/bin/"),
		knownFile("usr/bin/tool", 1000, 0o644),
		knownSymlink("usr/bin/t", "tool"),
		knownHardlink("usr/bin/tool2", "usr/bin/tool"),
		knownDir("etc/"),
		knownFile("etc/conf", 100, 0o644),
		knownDir("var/"),
		knownDir("var/lib/"),
		knownDir("var/lib/apt/"),
		knownDir("var/lib/apt/lists/"),
		knownFile("var/lib/apt/lists/big", 5000, 0o644),
	}},
	{"RUN write /etc/conf and /data", []knownEntry{
		knownDir("etc/"),
		knownFile("etc/conf", 150, 0o644),
		knownDir("data/"),
		knownFile("data/a", 2000, 0o644),
		knownFile("data/b", 3000, 0o644),
		knownDir("data/sub/"),
		knownFile("data/sub/c", 400, 0o644),
	}},
	{"RUN rm /data/b && chmod 755 /usr/bin/tool", []knownEntry{
		knownDir("data/"),
		knownWhiteout("data/.wh.b"),
		knownDir("usr/"),
		knownDir("usr/bin/"),
		knownFile("usr/bin/tool", 1000, 0o755),
	}},
	{"RUN rm -rf /data", []knownEntry{
		knownWhiteout(".wh.data"),
	}},
	{"RUN rm -rf /var/lib/apt/lists/* && touch /var/lib/apt/lists/small", []knownEntry{
		knownDir("var/"),
		knownDir("var/lib/"),
		knownDir("var/lib/apt/"),
		knownDir("var/lib/apt/lists/"),
		knownWhiteout("var/lib/apt/lists/.wh..wh..opq"),
		knownFile("var/lib/apt/lists/small", 10, 0o644),
	}},
	{"COPY a /data/a", []knownEntry{
		knownDir("data/"),
		knownFile("data/a", 2500, 0o644),
	}},
}

// knownLayerB is the layer image B adds on top of A: conf grows to 180,
// data/a is rewritten at its size with mode 0600, the symlink t is
// deleted, and /opt/app arrives with 7000 + 3000 bytes.
var knownLayerB = knownLayer{"RUN install app", []knownEntry{
	knownDir("etc/"),
	knownFile("etc/conf", 180, 0o644),
	knownDir("usr/"),
	knownDir("usr/bin/"),
	knownWhiteout("usr/bin/.wh.t"),
	knownDir("data/"),
	knownFile("data/a", 2500, 0o600),
	knownDir("opt/"),
	knownDir("opt/app/"),
	knownDir("opt/app/bin/"),
	knownFile("opt/app/bin/app", 7000, 0o755),
	knownDir("opt/app/lib/"),
	knownFile("opt/app/lib/libx.so", 3000, 0o644),
}}

// knownTar writes l's headers exactly as listed, regular files filled with
// a letter per layer.
func knownTar(t *testing.T, l knownLayer, fill byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range l.entries {
		h := &tar.Header{
			Name: e.name, Typeflag: e.typeflag, Size: e.size, Mode: e.mode, Linkname: e.linkname,
			ModTime: time.Unix(1_700_000_000, 0), Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.size > 0 {
			if _, err := tw.Write(bytes.Repeat([]byte{fill}, int(e.size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// knownImage builds an image of ls: OCI media types and gzip layers when
// oci, else Docker media types and uncompressed layers (as docker save
// stores them). Each layer gets one history entry with its command.
func knownImage(t *testing.T, ls []knownLayer, oci bool) v1.Image {
	t.Helper()
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if oci {
		base = mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	var adds []mutate.Addendum
	for i, l := range ls {
		b := knownTar(t, l, byte('a'+i))
		var layer v1.Layer
		if oci {
			layer = testutil.GzipLayer(t, b, types.OCILayer)
		} else {
			layer = static.NewLayer(b, types.DockerUncompressedLayer)
		}
		adds = append(adds, mutate.Addendum{Layer: layer, History: v1.History{
			CreatedBy: l.createdBy, Created: v1.Time{Time: time.Unix(1_700_000_000+int64(i), 0).UTC()},
		}})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// knownImages writes A (knownLayers) and B (A + knownLayerB) as an OCI
// layout with tags "a" and "b", and each as a docker-archive; it returns
// the four references.
func knownImages(t *testing.T) (ociA, ociB, archA, archB string) {
	t.Helper()
	dir := t.TempDir()
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	withB := append(append([]knownLayer{}, knownLayers...), knownLayerB)
	for _, im := range []struct {
		tag string
		ls  []knownLayer
	}{{"a", knownLayers}, {"b", withB}} {
		if err := p.AppendImage(knownImage(t, im.ls, true), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": im.tag})); err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference("known/" + im.tag + ":latest")
		if err != nil {
			t.Fatal(err)
		}
		if err := tarball.WriteToFile(filepath.Join(dir, im.tag+".tar"), ref, knownImage(t, im.ls, false)); err != nil {
			t.Fatal(err)
		}
	}
	return "oci:" + lay + ":a", "oci:" + lay + ":b",
		"docker-archive:" + filepath.Join(dir, "a.tar"), "docker-archive:" + filepath.Join(dir, "b.tar")
}

// The parts of the JSON report these tests read, decoded independently of
// the schema package's types.
type (
	knownCount struct {
		Entries int   `json:"entries"`
		Bytes   int64 `json:"bytes"`
	}
	knownLayerFiles struct {
		Index    int        `json:"index"`
		Digest   string     `json:"digest"`
		Added    knownCount `json:"added"`
		Changed  knownCount `json:"changed"`
		Deleted  knownCount `json:"deleted"`
		TarBytes int64      `json:"tarBytes"`
	}
	knownFileSize struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
		Layer int    `json:"layer"`
	}
	knownDirSize struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
		Files int    `json:"files"`
	}
	knownInefficiency struct {
		Path  string `json:"path"`
		Count int    `json:"count"`
		Bytes int64  `json:"bytes"`
	}
	knownReclaim struct {
		Path    string `json:"path"`
		Bytes   int64  `json:"bytes"`
		Layer   int    `json:"layer"`
		ByLayer int    `json:"byLayer"`
		Why     string `json:"why"`
	}
	knownHint struct {
		ID     string   `json:"id"`
		Bytes  int64    `json:"bytes"`
		Paths  []string `json:"paths"`
		Layers []int    `json:"layers"`
		Fix    string   `json:"fix"`
	}
	knownDive struct {
		Efficiency        float64             `json:"efficiency"`
		WastedBytes       int64               `json:"wastedBytes"`
		SizeBytes         int64               `json:"sizeBytes"`
		UserSizeBytes     int64               `json:"userSizeBytes"`
		UserWastedPercent *float64            `json:"userWastedPercent"`
		Inefficiencies    []knownInefficiency `json:"inefficiencies"`
	}
	knownFilesDoc struct {
		Kind   string `json:"kind"`
		Images []struct {
			Layers []struct {
				Digest    string `json:"digest"`
				CreatedBy string `json:"createdBy"`
			} `json:"layers"`
		} `json:"images"`
		Files struct {
			Image            int               `json:"image"`
			Filesystem       knownCount        `json:"filesystem"`
			Layers           []knownLayerFiles `json:"layers"`
			Largest          []knownFileSize   `json:"largest"`
			Dirs             []knownDirSize    `json:"dirs"`
			Dive             knownDive         `json:"dive"`
			ReclaimableBytes int64             `json:"reclaimableBytes"`
			Reclaimable      []knownReclaim    `json:"reclaimable"`
			Hints            []knownHint       `json:"hints"`
		} `json:"files"`
	}
)

// knownFilesRecord is the "files" record of a files report with the
// fields that name the image's blobs (the layer digests: gzip blobs in the
// layout, tars in the archive) removed, for comparing two sources.
func knownFilesRecord(t *testing.T, out string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("files JSON: %v", err)
	}
	rec, ok := doc["files"].(map[string]any)
	if !ok {
		t.Fatalf("no files record:\n%s", out)
	}
	for _, l := range rec["layers"].([]any) {
		delete(l.(map[string]any), "digest")
	}
	return rec
}

// Image A's figures, each worked out by hand from knownLayers.
//
// Applying the layers (OCI "Applying changesets": a layer's opaque markers
// and whiteouts first, then its entries in order; an entry over an
// existing path is a change, even a directory over a directory):
//
//	L0 adds its 12 entries: 6100 bytes (tool 1000 + conf 100 + big 5000;
//	   the symlink and the hard link hold 0). Filesystem: 12 entries, 6100.
//	L1 changes etc/ (0) and etc/conf (now 150: the layer's changed bytes
//	   are the new copy's, 150); adds data/, a 2000, b 3000, sub/,
//	   sub/c 400: 5 entries, 5400 bytes. conf's old 100 bytes (L0) are
//	   superseded by L1. Filesystem: 17 entries, 6100 + 5400 + 50 = 11550.
//	L2 deletes data/b by whiteout: 1 entry, 3000 bytes (L1's, deleted by
//	   L2). Then changes data/, usr/, usr/bin/ and tool (1000): 4 entries,
//	   1000 bytes; tool's L0 copy (1000) is superseded by L2 (a chmod
//	   copies the whole file). Filesystem: 16 entries, 11550 - 3000 = 8550.
//	L3 deletes data with all beneath it: data/, a (2000), sub/, sub/c
//	   (400): 4 entries, 2400 bytes, both files L1's, deleted by L3.
//	   Filesystem: 12 entries, 8550 - 2400 = 6150.
//	L4 makes var/lib/apt/lists opaque: lists/big (5000, L0) is deleted by
//	   L4 (1 entry, 5000 bytes); lists itself stays. Then changes var/,
//	   var/lib/, var/lib/apt/, lists/ (4 entries, 0 bytes); the marker
//	   names an existing directory (nothing to count); adds lists/small:
//	   1 entry, 10 bytes. Filesystem: 12 entries, 6150 - 5000 + 10 = 1160.
//	L5 adds data/ and data/a (2500): 2 entries, 2500 bytes (data was
//	   deleted in L3, so both are new). Filesystem: 14 entries, 3660 + the
//	   1000 bytes the hard link keeps (below) = 4660.
//
// The final filesystem, 14 entries: usr/ (L2), usr/bin/ (L2),
// usr/bin/tool 1000 (L2), usr/bin/t (symlink, L0), usr/bin/tool2 (hard
// link, L0), etc/ (L1), etc/conf 150 (L1), var/, var/lib/, var/lib/apt/,
// var/lib/apt/lists/ (L4), lists/small 10 (L4), data/ (L5), data/a 2500
// (L5). Bytes: 1000 + 150 + 10 + 2500 = 3660, plus 1000: L2 rewrote tool
// (chmod), but the hard link tool2 still names L0's content, as GNU tar
// extracting the layers in order shows (two inodes of 1000 bytes), so
// those bytes ship: 4660, shown on tool2. (Check: 12 + 5 - 1 - 4 + 0 + 2 =
// 14 entries.)
//
// Reclaimable, every copy a later layer superseded or deleted: big 5000
// (L0 by L4, deleted), b 3000 (L1 by L2, deleted), a 2000 (L1 by L3,
// deleted), sub/c 400 (L1 by L3, deleted), conf 100 (L0 by L1,
// superseded): 5000 + 3000 + 2000 + 400 + 100 = 10500. L0's tool is not
// reclaimable: tool2 keeps it. (Check: every regular byte ever written,
// 6100 + 5550 + 1000 + 0 + 10 + 2500 = 15160, minus the 4660 shipped, is
// 10500.)
func knownWantFiles() knownFilesDoc {
	var w knownFilesDoc
	f := &w.Files
	f.Filesystem = knownCount{14, 4660}
	f.Layers = []knownLayerFiles{
		{Index: 0, Added: knownCount{12, 6100}, TarBytes: 6100},
		{Index: 1, Added: knownCount{5, 5400}, Changed: knownCount{2, 150}, TarBytes: 5550},
		{Index: 2, Changed: knownCount{4, 1000}, Deleted: knownCount{1, 3000}, TarBytes: 1000},
		{Index: 3, Deleted: knownCount{4, 2400}, TarBytes: 0},
		{Index: 4, Added: knownCount{1, 10}, Changed: knownCount{4, 0}, Deleted: knownCount{1, 5000}, TarBytes: 10},
		{Index: 5, Added: knownCount{2, 2500}, TarBytes: 2500},
	}
	// The final filesystem's files, largest first (ties by path): the four
	// regular files and the hard link tool2, which holds L0's content.
	f.Largest = []knownFileSize{
		{"/data/a", 2500, 5},
		{"/usr/bin/tool", 1000, 2},
		{"/usr/bin/tool2", 1000, 0},
		{"/etc/conf", 150, 1},
		{"/var/lib/apt/lists/small", 10, 4},
	}
	// Directories of at most 3 components (--depth 3; var/lib/apt/lists
	// has 4), with the regular files beneath at any depth; ties by path.
	f.Dirs = []knownDirSize{
		{"/data", 2500, 1},
		{"/usr", 2000, 2},
		{"/usr/bin", 2000, 2},
		{"/etc", 150, 1},
		{"/var", 10, 1},
		{"/var/lib", 10, 1},
		{"/var/lib/apt", 10, 1},
	}
	f.ReclaimableBytes = 10500
	f.Reclaimable = []knownReclaim{
		{"/var/lib/apt/lists/big", 5000, 0, 4, "deleted"},
		{"/data/b", 3000, 1, 2, "deleted"},
		{"/data/a", 2000, 1, 3, "deleted"},
		{"/data/sub/c", 400, 1, 3, "deleted"},
		{"/etc/conf", 100, 0, 1, "superseded"},
	}
	// Hints, largest first:
	//   deleted-in-later-layer: 5000 + 3000 + 2000 + 400 = 10400, rolled up
	//     by what deleted them: the opaque lists (5000), the whiteout of
	//     data/b (3000), the whiteout of data (2000 + 400 = 2400); added
	//     by layers 0 (big) and 1 (b, a, c).
	//   superseded-in-later-layer: conf's 100, added by layer 0 (tool's
	//     old copy is kept by its hard link).
	//   package-manager-cache: /var/lib/apt/lists still holds small, 10
	//     bytes, written by layer 4.
	// No toolchain (no bin/go, javac, rustc, cc1), no duplicate-content
	// (no content digests without --content).
	f.Hints = []knownHint{
		{ID: "deleted-in-later-layer", Bytes: 10400, Paths: []string{"/var/lib/apt/lists", "/data/b", "/data"}, Layers: []int{0, 1}},
		{ID: "superseded-in-later-layer", Bytes: 100, Paths: []string{"/etc/conf"}, Layers: []int{0}},
		{ID: "package-manager-cache", Bytes: 10, Paths: []string{"/var/lib/apt/lists"}, Layers: []int{4}},
	}
	f.Dive = knownWantDive()
	return w
}

// knownWantDive walks dive's algorithm over knownLayers by hand.
//
// dive builds a tree per layer from its own tar entries and visits only
// its leaves (children before parents, siblings by name). A leaf's size is
// its header size; a whiteout's is 0 for a file and, for a directory, the
// sum of the sizes of it and everything beneath it in the layers below
// stacked. The opaque marker is no node at all (dive ignores opaque
// markers). Per path dive sums every size seen (cumulative) and keeps the
// least; a path seen in 2 or more layers is an inefficiency worth its
// cumulative size, the kept copy included.
//
//	L0 leaves: usr/bin/t 0, usr/bin/tool 1000, usr/bin/tool2 0 (a hard
//	   link's header size), etc/conf 100, var/lib/apt/lists/big 5000.
//	L1 leaves: data/a 2000, data/b 3000, data/sub/c 400, etc/conf 150.
//	L2 leaves: data/.wh.b, a whiteout of data/b, a file in the stack
//	   below (L0, L1): 0; usr/bin/tool 1000. (data/ and usr/bin/ have
//	   children: not leaves.)
//	L3 leaf: .wh.data, a whiteout of data, which in the stack below (L0,
//	   L1, L2: b removed by L2's whiteout; L2's own data/ entry keeps it
//	   a directory) holds data 0 + a 2000 + sub 0 + sub/c 400 = 2400.
//	L4 leaf: var/lib/apt/lists/small 10 (the marker adds no node).
//	L5 leaf: data/a 2500.
//
//	path                     seen in  cumulative  least
//	usr/bin/t                L0                0      0
//	usr/bin/tool             L0, L2         2000   1000
//	usr/bin/tool2            L0                0      0
//	etc/conf                 L0, L1          250    100
//	var/lib/apt/lists/big    L0             5000   5000
//	data/a                   L1, L5         4500   2000
//	data/b                   L1, L2         3000      0
//	data/sub/c               L1              400    400
//	data                     L3             2400   2400
//	var/lib/apt/lists/small  L4               10     10
//	sum                                    17560  10910
//
// efficiency = 10910 / 17560; wasted = the four paths seen twice: 4500 +
// 3000 + 2000 + 250 = 9750. Size is the layers' header sizes summed,
// 6100 + 5550 + 1000 + 0 + 10 + 2500 = 15160; the user size leaves out
// the first layer: 15160 - 6100 = 9060; user-wasted = 9750 / 9060 (above
// 1: dive's wasted counts the kept copies too, dive#684).
func knownWantDive() knownDive {
	uwp := float64(9750) / float64(9060)
	return knownDive{
		Efficiency:        float64(10910) / float64(17560),
		WastedBytes:       9750,
		SizeBytes:         15160,
		UserSizeBytes:     9060,
		UserWastedPercent: &uwp,
		Inefficiencies: []knownInefficiency{
			{"/data/a", 2, 4500},
			{"/data/b", 2, 3000},
			{"/usr/bin/tool", 2, 2000},
			{"/etc/conf", 2, 250},
		},
	}
}

func TestKnownImageFiles(t *testing.T) {
	t.Parallel()
	ociA, _, archA, _ := knownImages(t)
	want := knownWantFiles()

	records := map[string]map[string]any{}
	for _, ref := range []string{ociA, archA} {
		src := strings.SplitN(ref, ":", 2)[0]
		t.Run(src, func(t *testing.T) {
			// The binary, as a user runs it; its JSON is held to the schema.
			r := imgsize(t, nil, "files", "-f", "json", "--no-cache", "--top", "50", "--depth", "3", ref)
			if r.code != 0 {
				t.Fatalf("files: exit %d: %s", r.code, r.stderr)
			}
			records[src] = knownFilesRecord(t, r.stdout)
			var got knownFilesDoc
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("files JSON: %v\n%s", err, r.stdout)
			}
			if got.Kind != "files" || len(got.Images) != 1 || got.Files.Image != 0 {
				t.Fatalf("kind %q, %d images, files.image %d", got.Kind, len(got.Images), got.Files.Image)
			}
			g, w := &got.Files, &want.Files

			if g.Filesystem != w.Filesystem {
				t.Errorf("filesystem %+v, want %+v", g.Filesystem, w.Filesystem)
			}
			// Each layer record names its image layer, whose createdBy is
			// the command given.
			img := got.Images[0]
			if len(img.Layers) != len(knownLayers) {
				t.Fatalf("%d image layers, want %d", len(img.Layers), len(knownLayers))
			}
			for i, l := range g.Layers {
				if i < len(img.Layers) && (l.Digest != img.Layers[i].Digest || l.Digest == "") {
					t.Errorf("layer %d: files digest %q, image digest %q", i, l.Digest, img.Layers[i].Digest)
				}
				g.Layers[i].Digest = ""
			}
			for i, l := range img.Layers {
				if l.CreatedBy != knownLayers[i].createdBy {
					t.Errorf("layer %d createdBy %q, want %q", i, l.CreatedBy, knownLayers[i].createdBy)
				}
			}
			if d := cmp.Diff(w.Layers, g.Layers); d != "" {
				t.Errorf("per-layer added/changed/deleted/tarBytes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(w.Largest, g.Largest); d != "" {
				t.Errorf("largest files (-want +got):\n%s", d)
			}
			if d := cmp.Diff(w.Dirs, g.Dirs); d != "" {
				t.Errorf("largest directories (-want +got):\n%s", d)
			}
			if g.ReclaimableBytes != w.ReclaimableBytes {
				t.Errorf("reclaimableBytes %d, want %d", g.ReclaimableBytes, w.ReclaimableBytes)
			}
			if d := cmp.Diff(w.Reclaimable, g.Reclaimable); d != "" {
				t.Errorf("reclaimable items (-want +got):\n%s", d)
			}
			for i := range g.Hints {
				if g.Hints[i].Fix == "" {
					t.Errorf("hint %s has no fix", g.Hints[i].ID)
				}
				g.Hints[i].Fix = ""
			}
			if d := cmp.Diff(w.Hints, g.Hints); d != "" {
				t.Errorf("hints (-want +got):\n%s", d)
			}
			if d := cmp.Diff(w.Dive, g.Dive); d != "" {
				t.Errorf("dive figures (-want +got):\n%s", d)
			}
		})
	}

	// The two sources hold the same tars: the same file-level figures,
	// whatever the layers' compression.
	if len(records) == 2 {
		if d := cmp.Diff(records["oci"], records["docker-archive"]); d != "" {
			t.Errorf("OCI layout and docker-archive disagree (-oci +docker-archive):\n%s", d)
		}
	}

	// dive itself, reading the docker-archive, gives the same three figures
	// and the same per-layer sizes and inefficient paths.
	dive := diveBinary(t)
	if dive == "" {
		return
	}
	out := filepath.Join(t.TempDir(), "dive.json")
	cmd := exec.Command(dive, "docker-archive://"+strings.TrimPrefix(archA, "docker-archive:"), "--ci", "--json", out)
	cmd.Env = append(os.Environ(), "CI=true")
	dr := runCmd(t, cmd)
	var dj struct {
		Layer []struct {
			SizeBytes int64 `json:"sizeBytes"`
		} `json:"layer"`
		Image struct {
			SizeBytes        int64   `json:"sizeBytes"`
			InefficientBytes int64   `json:"inefficientBytes"`
			EfficiencyScore  float64 `json:"efficiencyScore"`
			Files            []struct {
				Count     int    `json:"count"`
				SizeBytes int64  `json:"sizeBytes"`
				File      string `json:"file"`
			} `json:"fileReference"`
		} `json:"image"`
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("dive wrote no JSON (exit %d): %v\n%s%s", dr.code, err, dr.stdout, dr.stderr)
	}
	if err := json.Unmarshal(b, &dj); err != nil {
		t.Fatalf("dive JSON: %v\n%s", err, b)
	}
	wd := want.Files.Dive
	if dj.Image.EfficiencyScore != wd.Efficiency || dj.Image.InefficientBytes != wd.WastedBytes || dj.Image.SizeBytes != wd.SizeBytes {
		t.Errorf("dive: efficiency %v, inefficient %d, size %d; by hand (as imgsize): %v, %d, %d",
			dj.Image.EfficiencyScore, dj.Image.InefficientBytes, dj.Image.SizeBytes, wd.Efficiency, wd.WastedBytes, wd.SizeBytes)
	}
	var diveLayers []int64
	for _, l := range dj.Layer {
		diveLayers = append(diveLayers, l.SizeBytes)
	}
	var wantLayers []int64
	for _, l := range want.Files.Layers {
		wantLayers = append(wantLayers, l.TarBytes)
	}
	if d := cmp.Diff(wantLayers, diveLayers); d != "" {
		t.Errorf("dive's layer sizes against tarBytes (-want +dive):\n%s", d)
	}
	var diveIneff []knownInefficiency
	for _, f := range dj.Image.Files {
		diveIneff = append(diveIneff, knownInefficiency{"/" + strings.TrimPrefix(f.File, "/"), f.Count, f.SizeBytes})
	}
	if d := cmp.Diff(wd.Inefficiencies, diveIneff); d != "" {
		t.Errorf("dive's inefficient files (-want +dive):\n%s", d)
	}
	// With --json dive exports and stops; run alone, its default CI rules
	// (lowest efficiency 0.9, user-wasted 0.1) fail an image at 0.62 and
	// 1.08, as imgsize check --dive-ci with an empty file does.
	cmd = exec.Command(dive, "docker-archive://"+strings.TrimPrefix(archA, "docker-archive:"), "--ci")
	cmd.Env = append(os.Environ(), "CI=true")
	if dr := runCmd(t, cmd); dr.code != 1 {
		t.Errorf("dive --ci: exit %d on an image of efficiency %.2f, want 1:\n%s", dr.code, wd.Efficiency, dr.stdout)
	}
	defaults := filepath.Join(t.TempDir(), "defaults.dive-ci")
	if err := os.WriteFile(defaults, []byte("# dive's defaults\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runInProcess(t, "check", "--no-cache", "--dive-ci", defaults, archA); r.code != 1 {
		t.Errorf("imgsize check --dive-ci (defaults): exit %d, want 1, as dive:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A against B (A plus knownLayerB), rolled up to depth 2.
//
// B's final filesystem: A's 14 entries, less usr/bin/t (whiteout), plus
// opt/, opt/app/, opt/app/bin/, opt/app/bin/app 7000, opt/app/lib/,
// opt/app/lib/libx.so 3000: 19 entries; bytes 4660 + (180 - 150) + 7000
// + 3000 = 14690.
//
//	added:   the 6 opt paths, 7000 + 3000 = 10000 bytes (B's);
//	removed: usr/bin/t, a symlink: 1 entry, 0 bytes;
//	changed: etc/conf (size 150 → 180) and data/a (mode 0644 → 0600,
//	         same 2500 bytes): 2 entries, B's bytes 180 + 2500 = 2680.
//
// The directories B's layer lists again (etc/, usr/, usr/bin/, data/) have
// the same type and mode 0755 on both sides: no difference.
//
// Rows (each path in its directory cut to 2 components): opt → "/"
// (added 1); opt/app → /opt (added 1); opt/app/bin, opt/app/lib, and the
// two files below them → /opt/app (added 4; bytes A 0, B 7000 + 3000 =
// 10000); etc/conf → /etc (changed 1; 150 → 180, +30); data/a → /data
// (changed 1; 2500 both); usr/bin/t → /usr/bin (removed 1; the row's
// files, tool and tool2 (which keeps L0's content), 2000 on both sides).
// By |delta| then path: /opt/app +10000, /etc +30, then the zero rows /,
// /data, /opt, /usr/bin. The deltas add up to 14690 - 4660 = 10030.
//
// Entries: /opt added whole (5 paths beneath, 10000 bytes, listed once),
// /etc/conf +30, then /data/a and /usr/bin/t at 0, by path.
func TestKnownImageDiff(t *testing.T) {
	t.Parallel()
	ociA, ociB, archA, archB := knownImages(t)
	type dirRow struct {
		Path                    string
		BytesA, BytesB, Delta   int64
		Added, Removed, Changed int
	}
	type entry struct {
		Path, Change string
		Delta        int64
		Fields       []string
		Subtree      *knownCount
	}
	wantDirs := []dirRow{
		{"/opt/app", 0, 10000, 10000, 4, 0, 0},
		{"/etc", 150, 180, 30, 0, 0, 1},
		{"/", 0, 0, 0, 1, 0, 0},
		{"/data", 2500, 2500, 0, 0, 0, 1},
		{"/opt", 0, 0, 0, 1, 0, 0},
		{"/usr/bin", 2000, 2000, 0, 0, 1, 0},
	}
	wantEntries := []entry{
		{"/opt", "added", 10000, []string{}, &knownCount{5, 10000}},
		{"/etc/conf", "changed", 30, []string{"size"}, nil},
		{"/data/a", "changed", 0, []string{"mode"}, nil},
		{"/usr/bin/t", "removed", 0, []string{}, nil},
	}
	var records []map[string]any
	for _, pair := range [][2]string{{ociA, ociB}, {archA, archB}} {
		r := runInProcess(t, "diff", "-f", "json", "--no-cache", "--depth", "2", "--top", "50", pair[0], pair[1])
		if r.code != 0 {
			t.Fatalf("diff %s %s: exit %d: %s", pair[0], pair[1], r.code, r.stderr)
		}
		var d struct {
			Diff struct {
				FilesystemA knownCount `json:"filesystemA"`
				FilesystemB knownCount `json:"filesystemB"`
				Added       knownCount `json:"added"`
				Removed     knownCount `json:"removed"`
				Changed     knownCount `json:"changed"`
				Dirs        []struct {
					Path       string `json:"path"`
					BytesA     int64  `json:"bytesA"`
					BytesB     int64  `json:"bytesB"`
					DeltaBytes int64  `json:"deltaBytes"`
					Added      int    `json:"added"`
					Removed    int    `json:"removed"`
					Changed    int    `json:"changed"`
				} `json:"dirs"`
				Entries []struct {
					Path       string      `json:"path"`
					Change     string      `json:"change"`
					DeltaBytes int64       `json:"deltaBytes"`
					Fields     []string    `json:"fields"`
					Subtree    *knownCount `json:"subtree"`
				} `json:"entries"`
			} `json:"diff"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("diff JSON: %v\n%s", err, r.stdout)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		records = append(records, doc["diff"].(map[string]any))

		x := d.Diff
		for _, c := range []struct {
			what      string
			got, want knownCount
		}{
			{"filesystem A", x.FilesystemA, knownCount{14, 4660}},
			{"filesystem B", x.FilesystemB, knownCount{19, 14690}},
			{"added", x.Added, knownCount{6, 10000}},
			{"removed", x.Removed, knownCount{1, 0}},
			{"changed", x.Changed, knownCount{2, 2680}},
		} {
			if c.got != c.want {
				t.Errorf("%s: %+v, want %+v", c.what, c.got, c.want)
			}
		}
		var gotDirs []dirRow
		for _, r := range x.Dirs {
			gotDirs = append(gotDirs, dirRow{r.Path, r.BytesA, r.BytesB, r.DeltaBytes, r.Added, r.Removed, r.Changed})
		}
		if d := cmp.Diff(wantDirs, gotDirs); d != "" {
			t.Errorf("directory roll-up (-want +got):\n%s", d)
		}
		var gotEntries []entry
		for _, e := range x.Entries {
			gotEntries = append(gotEntries, entry{e.Path, e.Change, e.DeltaBytes, e.Fields, e.Subtree})
		}
		if d := cmp.Diff(wantEntries, gotEntries); d != "" {
			t.Errorf("entries (-want +got):\n%s", d)
		}
	}
	// Apart from the images' indices, which are the same, the layout's
	// diff and the archives' are one record.
	if len(records) == 2 {
		if d := cmp.Diff(records[0], records[1]); d != "" {
			t.Errorf("diff of the layouts and of the archives disagree (-oci +docker-archive):\n%s", d)
		}
	}
}

// check --max-reclaimable holds at exactly the 10500 bytes worked out in
// knownWantFiles and fails a byte below, from either source.
func TestKnownImageCheckReclaimable(t *testing.T) {
	t.Parallel()
	ociA, _, archA, _ := knownImages(t)
	for _, ref := range []string{ociA, archA} {
		for _, c := range []struct {
			limit int64
			code  int
		}{{10500, 0}, {10499, 1}} {
			r := imgsize(t, nil, "check", "-f", "json", "--no-cache", "--max-reclaimable", strconv.FormatInt(c.limit, 10), ref)
			if r.code != c.code {
				t.Errorf("%s --max-reclaimable %d: exit %d, want %d; %s\n%s", ref, c.limit, r.code, c.code, r.stderr, r.stdout)
				continue
			}
			var doc struct {
				Check struct {
					Results []struct {
						Budgets []struct {
							Budget string   `json:"budget"`
							Limit  float64  `json:"limit"`
							Actual *float64 `json:"actual"`
							Margin *float64 `json:"margin"`
							Status string   `json:"status"`
						} `json:"budgets"`
					} `json:"results"`
				} `json:"check"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("check JSON: %v\n%s", err, r.stdout)
			}
			if len(doc.Check.Results) != 1 || len(doc.Check.Results[0].Budgets) != 1 {
				t.Fatalf("want one result with one budget:\n%s", r.stdout)
			}
			b := doc.Check.Results[0].Budgets[0]
			wantStatus := map[int]string{0: "pass", 1: "fail"}[c.code]
			if b.Budget != "max-reclaimable" || b.Limit != float64(c.limit) || b.Actual == nil || *b.Actual != 10500 ||
				b.Margin == nil || *b.Margin != float64(c.limit-10500) || b.Status != wantStatus {
				t.Errorf("%s --max-reclaimable %d: budget %+v (actual %v, margin %v); want actual 10500, margin %d, %s",
					ref, c.limit, b, knownDeref(b.Actual), knownDeref(b.Margin), c.limit-10500, wantStatus)
			}
		}
	}
}

func knownDeref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
