package analysis_test

import (
	"archive/tar"
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gcmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// How dive v0.13.1 computes its figures, which the expected values below
// follow by hand (dive/filetree/efficiency.go, file_tree.go, file_node.go,
// dive/image/docker/image_archive.go):
//
//  1. Each layer becomes a tree of its own tar entries. A missing parent
//     becomes a node with an empty payload: not a directory, size 0. A
//     whiteout ".wh.X" is a node so named; an opaque marker is no node.
//     The layer's size is the sum of its tar header sizes.
//  2. For each layer in order, dive visits the leaves of its tree
//     (siblings by name, children first). A leaf's path drops ".wh." from
//     its own name. Its size is its header size, or, for a whiteout, the
//     sum of the sizes at and beneath that path in the layers below
//     stacked (the first layer's tree, then layers 0…i-1 grafted on: a
//     whiteout removes its path, anything else sets its payload, opaque
//     markers do nothing) when the node there is a directory, else 0. If
//     the path is not there, the rest of the layer is not visited, and
//     the path stays recorded with a least size of -1.
//  3. Per path: cumulative = Σ sizes seen, least = the smallest. A path
//     seen in two or more leaves is an inefficiency worth its cumulative
//     size. Efficiency = Σ least ÷ Σ cumulative (1 if that is 0); wasted =
//     Σ inefficiencies; user size = Σ layer sizes but the first; user
//     wasted percent = wasted ÷ user size.
var diveCases = []struct {
	name   string
	layers [][]files.Entry
	want   analysis.DiveStats
}{
	{
		name: "overwritten file",
		layers: [][]files.Entry{
			{ent.dir("etc"), ent.file("etc/a", 100), ent.file("etc/b", 50)},
			{ent.file("etc/a", 30)},
		},
		// Leaves: layer 0 etc/a 100, etc/b 50; layer 1 etc/a 30.
		// etc/a: cumulative 130, least 30, twice; etc/b: 50, 50.
		// Efficiency (30+50)/(130+50); wasted 130; sizes 150 and 30.
		want: analysis.DiveStats{
			Efficiency: 80.0 / 180, WastedBytes: 130,
			SizeBytes: 180, UserSizeBytes: 30, UserWastedPercent: 130.0 / 30,
			Inefficiencies: []analysis.Inefficiency{{Path: "etc/a", Count: 2, Bytes: 130}},
		},
	},
	{
		name: "whiteouts of a file and of a directory",
		layers: [][]files.Entry{
			{ent.dir("d"), ent.file("d/x", 10), ent.file("d/y/z", 20), ent.file("f", 40)},
			{ent.whiteout("f"), ent.whiteout("d")},
			{ent.file("f", 5)},
		},
		// Layer 0 leaves: d/x 10, d/y/z 20, f 40.
		// Layer 1 (".wh.d" before ".wh.f"): d was a directory below, so
		// its whiteout weighs 0 (d) + 10 + 0 (implied y) + 20 = 30; f was
		// a file, so its whiteout weighs 0.
		// Layer 2: f 5.
		// d/x 10/10, d/y/z 20/20, d 30/30, f 40+0+5 = 45 with least 0,
		// seen 3 times. Efficiency (10+20+30+0)/(10+20+30+45); wasted
		// 45; sizes 70, 0, 5.
		want: analysis.DiveStats{
			Efficiency: 60.0 / 105, WastedBytes: 45,
			SizeBytes: 75, UserSizeBytes: 5, UserWastedPercent: 45.0 / 5,
			Inefficiencies: []analysis.Inefficiency{{Path: "f", Count: 3, Bytes: 45}},
		},
	},
	{
		name: "whiteout of a directory that had no entry of its own weighs 0",
		layers: [][]files.Entry{
			{ent.file("a/b", 10)},
			{ent.whiteout("a")},
		},
		// a is implied in layer 0: not a directory to dive. a/b 10/10, a
		// 0/0: efficiency 10/10.
		want: analysis.DiveStats{Efficiency: 1, SizeBytes: 10},
	},
	{
		name: "a later layer implying a directory takes away its directoryness",
		layers: [][]files.Entry{
			{ent.dir("a"), ent.file("a/x", 10)},
			{ent.file("a/y", 5)},
			{ent.whiteout("a")},
		},
		// Stacking layer 1 sets a's payload to layer 1's empty one, so at
		// layer 2 a is not a directory and its whiteout weighs 0: a/x
		// 10/10, a/y 5/5, a 0/0.
		want: analysis.DiveStats{Efficiency: 1, SizeBytes: 15, UserSizeBytes: 5},
	},
	{
		name: "dive ignores opaque markers when stacking",
		layers: [][]files.Entry{
			{ent.dir("a"), ent.file("a/x", 10)},
			{ent.dir("a"), ent.opaque("a"), ent.file("a/n", 3)},
			{ent.whiteout("a")},
			{ent.file("a", 1)},
		},
		// Leaves: a/x 10; a/n 3 (the marker is no node); whiteout a
		// weighs a (0) + a/x 10 (still there to dive) + a/n 3 = 13; then
		// a 1. a: cumulative 14, least 1, twice. Efficiency
		// (10+3+1)/(10+3+14); wasted 14; sizes 10, 3, 0, 1.
		want: analysis.DiveStats{
			Efficiency: 14.0 / 27, WastedBytes: 14,
			SizeBytes: 14, UserSizeBytes: 4, UserWastedPercent: 14.0 / 4,
			Inefficiencies: []analysis.Inefficiency{{Path: "a", Count: 2, Bytes: 14}},
		},
	},
	{
		name: "a whiteout of a path not below ends the layer's walk",
		layers: [][]files.Entry{
			{ent.file("a", 10)},
			{ent.whiteout("b"), ent.file("c", 20)},
			{ent.file("c", 20)},
		},
		// Layer 1: ".wh.b" sorts before "c"; b is not below, so dive's
		// visitor fails: b stays recorded with least -1 and nothing seen,
		// and c is not visited. Layer 2: c 20, seen once.
		// a 10/10, b -1/0, c 20/20. Efficiency (10-1+20)/(10+0+20); no
		// inefficiency; sizes 10, 20, 20.
		want: analysis.DiveStats{Efficiency: 29.0 / 30, SizeBytes: 50, UserSizeBytes: 40},
	},
	{
		name: "a whiteout in the first layer looks in the first layer itself",
		layers: [][]files.Entry{
			{ent.whiteout("x"), ent.file("y", 5)},
			{ent.file("y", 5)},
		},
		// Layer 0: x is not in layer 0's own tree: x -1/0 and y is not
		// visited. Layer 1: y 5. Efficiency (-1+5)/5.
		want: analysis.DiveStats{Efficiency: 4.0 / 5, SizeBytes: 10, UserSizeBytes: 5},
	},
	{
		name: "empty directories are leaves; hard links and the root weigh nothing",
		layers: [][]files.Entry{
			{ent.dir("tmp"), ent.file("bin/sh", 100), ent.hardlink("bin/ash", "bin/sh")},
			{ent.dir("."), ent.dir("tmp")},
		},
		// tmp is a leaf in both layers: 0 bytes, twice, an inefficiency
		// worth 0. bin/sh 100, bin/ash 0. Efficiency 100/100.
		want: analysis.DiveStats{
			Efficiency: 1, SizeBytes: 100,
			Inefficiencies: []analysis.Inefficiency{{Path: "tmp", Count: 2, Bytes: 0}},
		},
	},
	{
		name: "same path twice in one layer, and a whiteout beside a new entry",
		layers: [][]files.Entry{
			{ent.file("p", 7), ent.file("q", 3)},
			{ent.file("p", 2), ent.file("p", 4), ent.whiteout("q"), ent.file("q", 1)},
		},
		// Layer 1's tree: p holds the last payload, 4; ".wh.q" and "q" are
		// two leaves with the path q. p: 7+4 = 11, least 4, twice. q: 3 +
		// 0 (q was a file) + 1 = 4, least 0, three times. Efficiency
		// (4+0)/(11+4); wasted 15; sizes 10, 2+4+1 = 7.
		want: analysis.DiveStats{
			Efficiency: 4.0 / 15, WastedBytes: 15,
			SizeBytes: 17, UserSizeBytes: 7, UserWastedPercent: 15.0 / 7,
			Inefficiencies: []analysis.Inefficiency{{Path: "p", Count: 2, Bytes: 11}, {Path: "q", Count: 3, Bytes: 4}},
		},
	},
	{
		name: "nothing seen",
		layers: [][]files.Entry{
			{},
		},
		want: analysis.DiveStats{Efficiency: 1},
	},
}

func TestDiveHandComputed(t *testing.T) {
	for _, tt := range diveCases {
		t.Run(tt.name, func(t *testing.T) {
			r, err := analysis.Files(ent.image(len(tt.layers)), ent.layers(tt.layers...), analysis.FilesOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := gcmp.Diff(tt.want, r.Dive); diff != "" {
				t.Errorf("Dive (-want +got):\n%s", diff)
			}
			// Dive's layer size is the report's TarBytes.
			for i, l := range r.Layers {
				var sum int64
				for _, e := range tt.layers[i] {
					sum += e.Size
				}
				if l.TarBytes != sum {
					t.Errorf("layer %d TarBytes %d, want %d", i, l.TarBytes, sum)
				}
			}
		})
	}
}

// readImage opens arg with imgsize's own readers.
func readImage(t *testing.T, arg string) (*layers.Image, []files.Layer) {
	t.Helper()
	src, err := source.Open(t.Context(), arg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	img, err := layers.Load(t.Context(), src, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := files.Read(t.Context(), src, files.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return img, ls
}

// TestDiveFixture checks the figures dive's own test suite asserts for
// this exact file (dive v0.13.1,
// dive/image/docker/image_archive_analysis_test.go, "docker-image"):
// efficiency 0.9844212134184309, sizeBytes 1220598, userSizeBytes 66237,
// wastedBytes 32025, userWastedPercent 0.4834911001404049.
func TestDiveFixture(t *testing.T) {
	dir := testutil.Fixtures(t)
	img, ls := readImage(t, "docker-archive:"+filepath.Join(dir, "test-docker-image.tar"))
	r, err := analysis.Files(img, ls, analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Dive
	if got.Efficiency != 0.9844212134184309 {
		t.Errorf("efficiency %v, want 0.9844212134184309", got.Efficiency)
	}
	if got.SizeBytes != 1220598 {
		t.Errorf("sizeBytes %d, want 1220598", got.SizeBytes)
	}
	if got.UserSizeBytes != 66237 {
		t.Errorf("userSizeBytes %d, want 66237", got.UserSizeBytes)
	}
	if got.WastedBytes != 32025 {
		t.Errorf("wastedBytes %d, want 32025", got.WastedBytes)
	}
	if got.UserWastedPercent != 0.4834911001404049 {
		t.Errorf("userWastedPercent %v, want 0.4834911001404049", got.UserWastedPercent)
	}
}

// diveBinary finds dive for cross-checks: on PATH, at $IMGSIZE_DIVE
// (where .ci/run installs it) or /tmp/divebin/dive; it skips the test when
// dive is absent, and fails it under CI=true.
func diveBinary(t *testing.T) string {
	t.Helper()
	p := testutil.Dive(t)
	if p == "" {
		t.Skip("dive not installed")
	}
	return p
}

// diveJSON is what dive --json writes (runtime/export).
type diveJSON struct {
	Layer []struct {
		SizeBytes int64 `json:"sizeBytes"`
	} `json:"layer"`
	Image struct {
		SizeBytes        int64   `json:"sizeBytes"`
		InefficientBytes int64   `json:"inefficientBytes"`
		EfficiencyScore  float64 `json:"efficiencyScore"`
		FileReference    []struct {
			Count     int    `json:"count"`
			SizeBytes int64  `json:"sizeBytes"`
			File      string `json:"file"`
		} `json:"fileReference"`
	} `json:"image"`
}

// runDive runs dive on a docker-archive and returns what it exported. It
// runs in an empty directory with an empty home, so no .dive-ci or
// configuration of the machine's changes it.
func runDive(t *testing.T, dive, archive string) diveJSON {
	t.Helper()
	work := t.TempDir()
	out := filepath.Join(work, "out.json")
	cmd := exec.CommandContext(t.Context(), dive, "docker-archive://"+archive, "--ci", "--json", out)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CI=true", "HOME="+work, "XDG_CONFIG_HOME="+work)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dive could not read %s: %v\n%s", archive, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var d diveJSON
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dive's JSON: %v", err)
	}
	return d
}

// compareWithDive checks r against what dive exported for the same image:
// efficiency, wasted bytes, image and layer sizes, and the inefficient
// files (dive's paths start with "/", and it orders ties at random).
func compareWithDive(t *testing.T, d diveJSON, r *analysis.FileReport) {
	t.Helper()
	t.Logf("dive: efficiency %v, wasted %d, size %d, %d inefficient files", d.Image.EfficiencyScore, d.Image.InefficientBytes, d.Image.SizeBytes, len(d.Image.FileReference))
	if d.Image.EfficiencyScore != r.Dive.Efficiency {
		t.Errorf("efficiency: dive %v, imgsize %v", d.Image.EfficiencyScore, r.Dive.Efficiency)
	}
	if d.Image.InefficientBytes != r.Dive.WastedBytes {
		t.Errorf("wasted bytes: dive %d, imgsize %d", d.Image.InefficientBytes, r.Dive.WastedBytes)
	}
	if d.Image.SizeBytes != r.Dive.SizeBytes {
		t.Errorf("size: dive %d, imgsize %d", d.Image.SizeBytes, r.Dive.SizeBytes)
	}
	var dl, il []int64
	for _, l := range d.Layer {
		dl = append(dl, l.SizeBytes)
	}
	for _, l := range r.Layers {
		il = append(il, l.TarBytes)
	}
	if diff := gcmp.Diff(dl, il); diff != "" {
		t.Errorf("layer sizes (-dive +imgsize):\n%s", diff)
	}
	var refs []analysis.Inefficiency
	for _, f := range d.Image.FileReference {
		refs = append(refs, analysis.Inefficiency{Path: strings.TrimPrefix(f.File, "/"), Count: f.Count, Bytes: f.SizeBytes})
	}
	slices.SortFunc(refs, func(a, b analysis.Inefficiency) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path))
	})
	if diff := gcmp.Diff(refs, r.Dive.Inefficiencies); diff != "" {
		t.Errorf("inefficient files (-dive +imgsize):\n%s", diff)
	}
}

// layerTar writes es as a layer tar, as a build tool would: whiteouts as
// ".wh." files, opaque markers as ".wh..wh..opq", directories with a
// trailing "/", regular files with Size bytes of content.
func layerTar(t *testing.T, es []files.Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.Path, Mode: e.Mode, Typeflag: tar.TypeReg}
		dir, base := path.Split(e.Path)
		switch {
		case e.Opaque:
			h.Name = path.Join(e.Path, ".wh..wh..opq")
		case e.Whiteout:
			h.Name = dir + ".wh." + base
		case e.Type == files.Dir:
			h.Typeflag, h.Name = tar.TypeDir, e.Path+"/"
		case e.Type == files.Symlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.Linkname
		case e.Type == files.Hardlink:
			h.Typeflag, h.Linkname = tar.TypeLink, e.Linkname
		default:
			h.Size = e.Size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeArchive writes a docker-archive (as docker save does, with
// go-containerregistry's tarball.Write) holding one layer per entry list.
func writeArchive(t *testing.T, ls [][]files.Entry) string {
	t.Helper()
	img := empty.Image
	for _, es := range ls {
		b := layerTar(t, es)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := name.NewTag("imgsize.test/dive:case")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tarball.Write(ref, img, f); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDiveAgainstDive runs dive itself on the fixtures it can read and on
// archives of every hand-computed case (and of other tests' layers), and
// checks imgsize's figures, read from the same archives, against dive's.
func TestDiveAgainstDive(t *testing.T) {
	dive := diveBinary(t)
	for _, f := range []struct{ file, transport string }{
		{"test-docker-image.tar", "docker-archive:"},
		{"test-kaniko-image.tar", "docker-archive:"}, // gzipped layers
		{"test-oci-uncompressed-image.tar", "oci-archive:"},
		{"test-oci-gzip-image.tar", "oci-archive:"},
		{"test-oci-zstd-image.tar", "oci-archive:"},
		{"test-oci-estargz-image.tar", "oci-archive:"},
	} {
		t.Run(f.file, func(t *testing.T) {
			archive := filepath.Join(testutil.Fixtures(t), f.file)
			img, ls := readImage(t, f.transport+archive)
			r, err := analysis.Files(img, ls, analysis.FilesOptions{})
			if err != nil {
				t.Fatal(err)
			}
			compareWithDive(t, runDive(t, dive, archive), r)
		})
	}
	// want: the hand-computed figures, where there are some.
	type crossCase struct {
		name   string
		layers [][]files.Entry
		want   *analysis.DiveStats
	}
	cases := []crossCase{
		{name: "TestFilesLayers' three layers", layers: threeLayers},
		{name: "types replaced", layers: typeChanges},
	}
	for _, c := range diveCases {
		cases = append(cases, crossCase{c.name, c.layers, &c.want})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			archive := writeArchive(t, tt.layers)
			img, ls := readImage(t, "docker-archive:"+archive)
			r, err := analysis.Files(img, ls, analysis.FilesOptions{})
			if err != nil {
				t.Fatal(err)
			}
			compareWithDive(t, runDive(t, dive, archive), r)
			// And the archive, read back, gives the hand-computed figures.
			if tt.want != nil {
				if diff := gcmp.Diff(*tt.want, r.Dive); diff != "" {
					t.Errorf("Dive from the archive (-want +got):\n%s", diff)
				}
			}
		})
	}
}
