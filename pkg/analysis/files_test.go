package analysis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
)

// threeLayers is an image whose every figure is derived by hand below.
var threeLayers = [][]files.Entry{
	// Layer 0: a base.
	{
		ent.dir("etc"), ent.file("etc/os", 100),
		ent.dir("usr"), ent.dir("usr/bin"), ent.file("usr/bin/sh", 1000),
		ent.file("usr/bin/busybox", 800), ent.hardlink("usr/bin/ash", "usr/bin/busybox"),
		ent.symlink("bin", "usr/bin"),
		ent.file("tmp/big", 5000), // tmp implied
		ent.dir("var/cache"),      // var implied
		ent.file("var/cache/c1", 300), ent.file("var/cache/c2", 200),
	},
	// Layer 1: rewrites etc/os, adds an app, deletes tmp/big.
	{
		ent.file("etc/os", 120),
		ent.file("app/main", 2000), // app implied
		ent.whiteout("tmp/big"),
	},
	// Layer 2: deletes var/cache, rewrites usr/bin and usr/bin/sh (as a
	// chmod would), and makes app opaque while writing app/main anew.
	{
		ent.whiteout("var/cache"),
		ent.dir("usr/bin"), ent.file("usr/bin/sh", 1000),
		ent.opaque("app"), ent.file("app/main", 2100),
	},
}

func TestFilesLayers(t *testing.T) {
	r, err := analysis.Files(ent.image(3), ent.layers(threeLayers...), analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []analysis.LayerFiles{
		{
			Index: 0, CreatedBy: "step 0",
			// etc, etc/os, usr, usr/bin, usr/bin/sh, usr/bin/busybox,
			// usr/bin/ash, bin, tmp (implied), tmp/big, var (implied),
			// var/cache, c1, c2: 14 entries; regular bytes 100 + 1000 +
			// 800 + 5000 + 300 + 200 = 7400 (the hard link holds none).
			Added: analysis.Count{Files: 14, Bytes: 7400},
			// The tar: the same sizes, links and directories 0.
			TarBytes: 7400,
		},
		{
			Index: 1, CreatedBy: "step 1",
			// app (implied) and app/main 2000.
			Added: analysis.Count{Files: 2, Bytes: 2000},
			// etc/os, now 120 bytes.
			Changed: analysis.Count{Files: 1, Bytes: 120},
			// tmp/big, 5000 bytes.
			Deleted:  analysis.Count{Files: 1, Bytes: 5000},
			TarBytes: 120 + 2000,
		},
		{
			Index: 2, CreatedBy: "step 2",
			// app/main again: the opaque marker removed layer 1's copy
			// before the layer's entries went on, so it is new.
			Added: analysis.Count{Files: 1, Bytes: 2100},
			// usr/bin (0 bytes) and usr/bin/sh (1000).
			Changed: analysis.Count{Files: 2, Bytes: 1000},
			// var/cache, c1 and c2 (300 + 200) and, by the opaque marker,
			// layer 1's app/main (2000): 4 entries, 2500 bytes.
			Deleted:  analysis.Count{Files: 4, Bytes: 2500},
			TarBytes: 1000 + 2100,
		},
	}
	if diff := cmp.Diff(want, r.Layers); diff != "" {
		t.Errorf("Layers (-want +got):\n%s", diff)
	}
	// Final: etc, etc/os 120, usr, usr/bin, usr/bin/sh 1000,
	// usr/bin/busybox 800, usr/bin/ash, bin, tmp, var, app, app/main 2100:
	// 12 entries, 120 + 1000 + 800 + 2100 = 4020 bytes.
	if want := (analysis.Count{Files: 12, Bytes: 4020}); r.Files != want {
		t.Errorf("Files = %+v, want %+v", r.Files, want)
	}
}

func TestFilesReclaim(t *testing.T) {
	r, err := analysis.Files(ent.image(3), ent.layers(threeLayers...), analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every copy a later layer hid, with the layer that added it and the
	// one that hid it; the copies kept (etc/os 120, usr/bin/sh from layer
	// 2, app/main 2100) are not counted.
	want := []analysis.Reclaim{
		{Path: "tmp/big", Bytes: 5000, Layer: 0, By: 1, Why: analysis.Deleted},
		{Path: "app/main", Bytes: 2000, Layer: 1, By: 2, Why: analysis.Deleted}, // opaque app
		{Path: "usr/bin/sh", Bytes: 1000, Layer: 0, By: 2, Why: analysis.Superseded},
		{Path: "var/cache/c1", Bytes: 300, Layer: 0, By: 2, Why: analysis.Deleted}, // under var/cache
		{Path: "var/cache/c2", Bytes: 200, Layer: 0, By: 2, Why: analysis.Deleted},
		{Path: "etc/os", Bytes: 100, Layer: 0, By: 1, Why: analysis.Superseded},
	}
	if diff := cmp.Diff(want, r.ReclaimItems); diff != "" {
		t.Errorf("ReclaimItems (-want +got):\n%s", diff)
	}
	// 5000 + 2000 + 1000 + 300 + 200 + 100.
	if r.Reclaimable != 8600 {
		t.Errorf("Reclaimable = %d, want 8600", r.Reclaimable)
	}
}

// typeChanges replaces a file by a directory and a directory by a file.
var typeChanges = [][]files.Entry{
	{ent.file("f", 10), ent.dir("d"), ent.file("d/x", 20), ent.file("d/y/z", 30), ent.file("e", 0)},
	// f becomes a directory, d a file: d/x and d/y/z go with d.
	{ent.dir("f"), ent.file("d", 1), ent.file("e", 5)},
	// The same path written twice in one layer: the first copy is hidden
	// by its own layer.
	{ent.file("g", 7), ent.file("g", 8)},
}

func TestFilesReclaimTypeChanges(t *testing.T) {
	ls := ent.layers(typeChanges...)
	r, err := analysis.Files(ent.image(3), ls, analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []analysis.Reclaim{
		{Path: "d/y/z", Bytes: 30, Layer: 0, By: 1, Why: analysis.Superseded},
		{Path: "d/x", Bytes: 20, Layer: 0, By: 1, Why: analysis.Superseded},
		{Path: "f", Bytes: 10, Layer: 0, By: 1, Why: analysis.Superseded},
		{Path: "g", Bytes: 7, Layer: 2, By: 2, Why: analysis.Superseded},
		// e held 0 bytes: nothing to reclaim, not listed.
	}
	if diff := cmp.Diff(want, r.ReclaimItems); diff != "" {
		t.Errorf("ReclaimItems (-want +got):\n%s", diff)
	}
	// Layer 1 changed f (to a dir), d (to a 1-byte file) and e (5 bytes):
	// 3 paths, 6 bytes. Layer 2 added g once, its last size 8.
	if want := (analysis.Count{Files: 3, Bytes: 6}); r.Layers[1].Changed != want {
		t.Errorf("layer 1 Changed = %+v, want %+v", r.Layers[1].Changed, want)
	}
	if want := (analysis.Count{Files: 1, Bytes: 8}); r.Layers[2].Added != want {
		t.Errorf("layer 2 Added = %+v, want %+v", r.Layers[2].Added, want)
	}
	// A replaced subtree is not deleted by a marker.
	if r.Layers[1].Deleted != (analysis.Count{}) {
		t.Errorf("layer 1 Deleted = %+v, want none", r.Layers[1].Deleted)
	}
}

func TestFilesLargestAndDirs(t *testing.T) {
	ls := ent.layers(
		[]files.Entry{ent.file("a/b/c/big", 500), ent.file("a/b/small", 10), ent.file("z", 50)},
		[]files.Entry{ent.file("a/x", 100), ent.file("d/e/f/g/h", 70), ent.hardlink("a/link", "a/b/c/big")},
	)
	// Directory totals by hand: a/b/c 500; a/b 500 + 10 = 510; a 510 + 100
	// = 610 (the hard link adds nothing); d, d/e, d/e/f, d/e/f/g 70 each.
	tests := []struct {
		name        string
		opts        analysis.FilesOptions
		files, dirs []analysis.PathSize
	}{
		{
			name: "defaults: top 10, depth 3",
			files: []analysis.PathSize{
				{Path: "a/b/c/big", Bytes: 500, Files: 1, Layer: 0},
				{Path: "a/x", Bytes: 100, Files: 1, Layer: 1},
				{Path: "d/e/f/g/h", Bytes: 70, Files: 1, Layer: 1},
				{Path: "z", Bytes: 50, Files: 1, Layer: 0},
				{Path: "a/b/small", Bytes: 10, Files: 1, Layer: 0},
			},
			// d/e/f/g is 4 deep: not listed.
			dirs: []analysis.PathSize{
				{Path: "a", Bytes: 610, Files: 3, Layer: -1},
				{Path: "a/b", Bytes: 510, Files: 2, Layer: -1},
				{Path: "a/b/c", Bytes: 500, Files: 1, Layer: -1},
				{Path: "d", Bytes: 70, Files: 1, Layer: -1},
				{Path: "d/e", Bytes: 70, Files: 1, Layer: -1},
				{Path: "d/e/f", Bytes: 70, Files: 1, Layer: -1},
			},
		},
		{
			name: "top 2, depth 1",
			opts: analysis.FilesOptions{Top: 2, Depth: 1},
			files: []analysis.PathSize{
				{Path: "a/b/c/big", Bytes: 500, Files: 1, Layer: 0},
				{Path: "a/x", Bytes: 100, Files: 1, Layer: 1},
			},
			dirs: []analysis.PathSize{
				{Path: "a", Bytes: 610, Files: 3, Layer: -1},
				{Path: "d", Bytes: 70, Files: 1, Layer: -1},
			},
		},
		{
			name: "top 3, depth 2: a directory and its parent both listed, ties by path",
			opts: analysis.FilesOptions{Top: 3, Depth: 2},
			files: []analysis.PathSize{
				{Path: "a/b/c/big", Bytes: 500, Files: 1, Layer: 0},
				{Path: "a/x", Bytes: 100, Files: 1, Layer: 1},
				{Path: "d/e/f/g/h", Bytes: 70, Files: 1, Layer: 1},
			},
			// d and d/e both hold 70: d sorts first.
			dirs: []analysis.PathSize{
				{Path: "a", Bytes: 610, Files: 3, Layer: -1},
				{Path: "a/b", Bytes: 510, Files: 2, Layer: -1},
				{Path: "d", Bytes: 70, Files: 1, Layer: -1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := analysis.Files(ent.image(2), ls, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.files, r.Largest); diff != "" {
				t.Errorf("Largest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.dirs, r.Dirs); diff != "" {
				t.Errorf("Dirs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilesLargestManyFiles(t *testing.T) {
	// More files than the few times Top that Largest holds at once: file
	// i holds i bytes, so the top 3 of 100 are 99, 98 and 97.
	var es []files.Entry
	for i := range 100 {
		es = append(es, ent.file("f/"+strings.Repeat("x", i+1), int64(i)))
	}
	r, err := analysis.Files(ent.image(1), ent.layers(es), analysis.FilesOptions{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, p := range r.Largest {
		got = append(got, p.Bytes)
	}
	if diff := cmp.Diff([]int64{99, 98, 97}, got); diff != "" {
		t.Errorf("Largest bytes (-want +got):\n%s", diff)
	}
}

func TestFilesReportBasics(t *testing.T) {
	img := ent.image(2)
	img.Layers[0].Digest.Algorithm, img.Layers[0].Digest.Hex = "sha256", strings.Repeat("a", 64)
	ls := ent.layers([]files.Entry{ent.file("a", 1)}, nil)
	ls[1].Digest.Algorithm, ls[1].Digest.Hex = "sha256", strings.Repeat("b", 64)
	r, err := analysis.Files(img, ls, analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Image != img {
		t.Error("Image is not the image given")
	}
	// The image's digest, else the file list's.
	if got := r.Layers[0].Digest.Hex; got != strings.Repeat("a", 64) {
		t.Errorf("layer 0 digest %s", got)
	}
	if got := r.Layers[1].Digest.Hex; got != strings.Repeat("b", 64) {
		t.Errorf("layer 1 digest %s", got)
	}
	if len(r.Hints) != 0 || len(r.ReclaimItems) != 0 || r.Reclaimable != 0 {
		t.Errorf("a one-file image has hints %v, reclaimable %d", r.Hints, r.Reclaimable)
	}
}

func TestFilesLayerCountMismatch(t *testing.T) {
	_, err := analysis.Files(ent.image(2), ent.layers(nil), analysis.FilesOptions{})
	if err == nil || !strings.Contains(err.Error(), "2 layers but 1 file lists") {
		t.Errorf("err = %v, want one naming 2 layers and 1 file list", err)
	}
	if _, err := analysis.Files(nil, nil, analysis.FilesOptions{}); err == nil {
		t.Error("no error for a nil image")
	}
}

// BenchmarkFiles analyses a generated image of 60,000 files in 4 layers:
// a base of 40,000, 10,000 more, 10,000 of the base rewritten, and a
// directory of 10,000 deleted.
func BenchmarkFiles(b *testing.B) {
	var base, more, rewrite []files.Entry
	for i := range 40_000 {
		base = append(base, ent.file(fmt.Sprintf("usr/lib/d%03d/f%05d", i%400, i), int64(1000+i)))
	}
	for i := range 10_000 {
		more = append(more, ent.file(fmt.Sprintf("app/d%02d/f%05d", i%100, i), 2000))
		rewrite = append(rewrite, base[i*4])
	}
	ls := ent.layers(base, more, rewrite, []files.Entry{ent.whiteout("app")})
	img := ent.image(len(ls))
	b.ReportAllocs()
	for b.Loop() {
		r, err := analysis.Files(img, ls, analysis.FilesOptions{})
		if err != nil {
			b.Fatal(err)
		}
		// 40,000 files and 400 directories under usr/lib, and usr, lib.
		if r.Files.Files != 40_402 {
			b.Fatalf("%d entries, want 40402", r.Files.Files)
		}
	}
}
