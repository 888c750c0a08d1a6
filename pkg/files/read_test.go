package files_test

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// longName needs a PAX header: its last component alone is over 100 bytes,
// so it cannot be split into USTAR's prefix and name.
var longName = "opt/" + strings.Repeat("d", 40) + "/" + strings.Repeat("n", 120) + ".txt"

var (
	hostsV1 = []byte("127.0.0.1 localhost\n")
	hostsV2 = []byte("127.0.0.1 localhost\n::1 localhost\n")
	tool    = pseudoRandom(1, 10_000)
	deb     = pseudoRandom(2, 3_000)
	big     = pseudoRandom(3, 1<<20)
)

// knownImage is three layers, gzip, zstd and uncompressed, holding every
// kind of entry and name Read must understand, and the entries it must
// return for them, written out by hand.
func knownImage(t testing.TB) (v1.Image, [][]files.Entry) {
	pax := reg(longName, 0o600, []byte("long\n"))
	pax.hdr.Format = tar.FormatPAX
	l1 := []member{
		dir("./", 0o755), // the root: no entry
		dir("./etc/", 0o755),
		reg("./etc/hosts", 0o644, hostsV1),
		dir("/usr/", 0o755),
		dir("/usr/bin/", 0o755),
		reg("/usr/bin/tool", 0o4755, tool),
		symlink("usr/bin/sh", "tool"),
		hardlink("usr/bin/tool2", "/usr/bin/tool", 0o4755),
		reg("var/cache/apt/pkg.deb", 0o644, deb),
		pax,
		{hdr: tar.Header{Name: "dev/null0", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{hdr: tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
	}
	want1 := []files.Entry{
		{Path: "etc", Type: files.Dir, Mode: 0o755},
		{Path: "etc/hosts", Type: files.Regular, Size: int64(len(hostsV1)), Mode: 0o644},
		{Path: "usr", Type: files.Dir, Mode: 0o755},
		{Path: "usr/bin", Type: files.Dir, Mode: 0o755},
		{Path: "usr/bin/tool", Type: files.Regular, Size: int64(len(tool)), Mode: 0o4755},
		{Path: "usr/bin/sh", Type: files.Symlink, Mode: 0o777, Linkname: "tool"},
		{Path: "usr/bin/tool2", Type: files.Hardlink, Mode: 0o4755, Linkname: "usr/bin/tool"},
		{Path: "var/cache/apt/pkg.deb", Type: files.Regular, Size: int64(len(deb)), Mode: 0o644},
		{Path: longName, Type: files.Regular, Size: 5, Mode: 0o600},
		{Path: "dev/null0", Type: files.Other, Mode: 0o666},
		{Path: "run/fifo", Type: files.Other, Mode: 0o600},
	}
	l2 := []member{
		reg("etc/hosts", 0o644, hostsV2),
		reg("var/cache/apt/.wh..wh..opq", 0o644, nil),
		reg("usr/bin/.wh.sh", 0o644, nil),
		dir(".wh..wh.plnk/", 0o700), // AUFS bookkeeping: no entries
		reg(".wh..wh.plnk/1234.5678", 0o644, []byte("x")),
		reg(".wh..wh.aufs", 0o644, nil),
		reg("../escape", 0o644, []byte("e")),
		reg("a//b/../c", 0o644, []byte("c")),
	}
	want2 := []files.Entry{
		{Path: "etc/hosts", Type: files.Regular, Size: int64(len(hostsV2)), Mode: 0o644},
		{Path: "var/cache/apt", Type: files.Dir, Opaque: true},
		{Path: "usr/bin/sh", Type: files.Other, Whiteout: true},
		{Path: "../escape", Type: files.Regular, Size: 1, Mode: 0o644},
		{Path: "a/c", Type: files.Regular, Size: 1, Mode: 0o644},
	}
	l3 := []member{
		reg("./opt/big", 0o644, big),
		reg("./.wh.etc", 0o644, nil),
		dir("tmp/", 0o1777),
		reg("./opt/small", 0o644, []byte("s")),
	}
	want3 := []files.Entry{
		{Path: "opt/big", Type: files.Regular, Size: 1 << 20, Mode: 0o644},
		{Path: "etc", Type: files.Other, Whiteout: true},
		{Path: "tmp", Type: files.Dir, Mode: 0o1777},
		{Path: "opt/small", Type: files.Regular, Size: 1, Mode: 0o644},
	}
	img := imageOf(t, layerOf(t, l1, gz), layerOf(t, l2, zst), layerOf(t, l3, none))
	return img, [][]files.Entry{want1, want2, want3}
}

// contentDigests are the sha256 of what knownImage's regular files hold.
var contentDigests = map[string][]byte{
	"usr/bin/tool":          tool,
	"var/cache/apt/pkg.deb": deb,
	longName:                []byte("long\n"),
	"../escape":             []byte("e"),
	"a/c":                   []byte("c"),
	"opt/big":               big,
	"opt/small":             []byte("s"),
}

func withDigests(layers [][]files.Entry) [][]files.Entry {
	out := make([][]files.Entry, len(layers))
	for i, es := range layers {
		out[i] = append([]files.Entry(nil), es...)
		for j, e := range out[i] {
			if e.Type != files.Regular {
				continue
			}
			b, ok := contentDigests[e.Path]
			if e.Path == "etc/hosts" {
				b, ok = hostsV1, true
				if i == 1 {
					b = hostsV2
				}
			}
			if !ok {
				panic("no content for " + e.Path)
			}
			sum := sha256.Sum256(b)
			out[i][j].Digest = "sha256:" + hex.EncodeToString(sum[:])
		}
	}
	return out
}

// wantLayers pairs the expected entries with img's digests and diff_ids.
func wantLayers(t testing.TB, img v1.Image, entries [][]files.Entry) []files.Layer {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]files.Layer, len(entries))
	for i := range entries {
		out[i] = files.Layer{Digest: m.Layers[i].Digest, DiffID: cf.RootFS.DiffIDs[i], Entries: entries[i]}
	}
	return out
}

// TestReadKnownImage reads the same image from every transport, with and
// without content digests, in parallel and one layer at a time.
func TestReadKnownImage(t *testing.T) {
	img, entries := knownImage(t)
	reg := newRegistry(t)
	args := map[string]string{
		"oci":            func() string { a, _ := writeLayout(t, img); return a }(),
		"oci-archive":    writeOCIArchive(t, img),
		"docker-archive": writeDockerArchive(t, img),
		"registry":       reg.push(t, img, "known"),
	}
	for transport, arg := range args {
		for _, content := range []bool{false, true} {
			for _, jobs := range []int{0, 1} {
				want := entries
				if content {
					want = withDigests(entries)
				}
				t.Run(caseName(transport, content, jobs), func(t *testing.T) {
					var progress countingProgress
					got, err := read(t, arg, files.Options{Content: content, Jobs: jobs, Progress: progress.add})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(wantLayers(t, img, want), got, ignoreCount); diff != "" {
						t.Errorf("Read (-want +got):\n%s", diff)
					}
					// A layer read whole has its tar stream counted; one
					// listed by seeking (a local blob stored uncompressed,
					// without content digests) has not.
					stored := storedCompressed(t, open(t, arg).Image)
					for i, n := range uncompressedLengths(t, img) {
						want := n
						if transport != "registry" && !content && !stored[i] {
							want = 0
						}
						if got[i].Uncompressed != want {
							t.Errorf("layer %d: Uncompressed %d, want %d", i, got[i].Uncompressed, want)
						}
					}
					// Over a whole read, progress adds up to the stored sizes.
					var total int64
					m, _ := open(t, arg).Image.Manifest()
					for _, l := range m.Layers {
						total += l.Size
					}
					if n := progress.total(); n != total {
						t.Errorf("progress reported %d bytes, want the layers' %d", n, total)
					}
				})
			}
		}
	}
}

func caseName(transport string, content bool, jobs int) string {
	s := transport
	if content {
		s += "/content"
	}
	if jobs == 1 {
		s += "/jobs=1"
	}
	return s
}

func TestReadRecordedReport(t *testing.T) {
	_, err := files.Read(context.Background(), &source.Image{Transport: source.Report, Recorded: &source.Recorded{}}, files.Options{})
	if !errors.Is(err, errdefs.ErrUnsupported) {
		t.Fatalf("Read of a saved report = %v, want ErrUnsupported", err)
	}
	if !strings.Contains(err.Error(), "name the image itself") {
		t.Errorf("error %q does not say what to do", err)
	}
}

// TestReadEmptyAndEmptyLayers: an image without layers, and a layer whose
// tar holds nothing (or is zero bytes long).
func TestReadEmptyLayers(t *testing.T) {
	empty := tarOf(t, nil)
	img := imageOf(t,
		layerOf(t, nil, gz),
		newLayer(t, nil, sha(nil), mediaType(none)),
		newLayer(t, empty, sha(empty), mediaType(none)),
	)
	arg, _ := writeLayout(t, img)
	for _, content := range []bool{false, true} {
		got, err := read(t, arg, files.Options{Content: content})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantLayers(t, img, [][]files.Entry{nil, nil, nil}), got, ignoreCount); diff != "" {
			t.Errorf("Content=%v (-want +got):\n%s", content, diff)
		}
	}
	arg, _ = writeLayout(t, imageOf(t))
	got, err := read(t, arg, files.Options{})
	if err != nil || len(got) != 0 {
		t.Errorf("Read of an image without layers = %v, %v", got, err)
	}
}

// ignoreCount leaves Layer.Uncompressed out of comparisons of entries; the
// tests that mean it check it on its own.
var ignoreCount = cmpopts.IgnoreFields(files.Layer{}, "Uncompressed")

// uncompressedLengths are the lengths of img's layers' tar streams, as
// go-containerregistry decompresses them.
func uncompressedLengths(t *testing.T, img v1.Image) []int64 {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(ls))
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}

// storedCompressed says, per layer, whether the blob as the source stores
// it starts with gzip's or zstd's magic bytes.
func storedCompressed(t *testing.T, img v1.Image) []bool {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]bool, len(ls))
	for i, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		magic := make([]byte, 4)
		n, _ := io.ReadFull(rc, magic)
		rc.Close()
		m := magic[:n]
		out[i] = len(m) >= 2 && m[0] == 0x1f && m[1] == 0x8b || len(m) == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd
	}
	return out
}
