package analysis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
)

// Entries for Diff's tests: files 0644, directories 0755, symlinks 0777.

func dfFile(p string, size int64) files.Entry {
	return files.Entry{Path: p, Type: files.Regular, Size: size, Mode: 0o644}
}

func dfDir(p string) files.Entry { return files.Entry{Path: p, Type: files.Dir, Mode: 0o755} }

func dfSymlink(p, target string) files.Entry {
	return files.Entry{Path: p, Type: files.Symlink, Mode: 0o777, Linkname: target}
}

func dfHardlink(p, target string) files.Entry {
	return files.Entry{Path: p, Type: files.Hardlink, Mode: 0o644, Linkname: target}
}

func dfWhiteout(p string) files.Entry { return files.Entry{Path: p, Whiteout: true} }

func dfMode(e files.Entry, mode int64) files.Entry { e.Mode = mode; return e }

func dfDigest(e files.Entry, d string) files.Entry { e.Digest = d; return e }

// dfImage is an image of one layer per entry list, and what they hold.
func dfImage(ref string, ls ...[]files.Entry) (*layers.Image, []files.Layer) {
	img := &layers.Image{Ref: ref, Layers: make([]layers.Layer, len(ls))}
	fls := make([]files.Layer, len(ls))
	for i, es := range ls {
		fls[i] = files.Layer{Entries: es}
	}
	return img, fls
}

// ignoreSides leaves DiffEntry.A and B (checked in TestDiffEntrySides)
// and the images out of a comparison.
var ignoreSides = cmp.Options{
	cmpopts.IgnoreFields(analysis.FileDiff{}, "A", "B"),
	cmpopts.IgnoreFields(analysis.DiffEntry{}, "A", "B"),
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b [][]files.Entry
		opts analysis.DiffOptions
		want analysis.FileDiff
	}{{
		name: "added, removed and changed files",
		a: [][]files.Entry{{
			dfDir("etc"), dfFile("etc/passwd", 100), dfFile("etc/motd", 40),
			dfDir("app"), dfFile("app/server", 1000),
		}},
		b: [][]files.Entry{{
			dfDir("etc"), dfFile("etc/passwd", 120),
			dfDir("app"), dfFile("app/server", 1000), dfFile("app/config.json", 30),
		}},
		want: analysis.FileDiff{
			// A: 5 entries; 100 + 40 + 1000. B: 5 entries; 120 + 1000 + 30.
			FilesA: analysis.Count{Files: 5, Bytes: 1140},
			FilesB: analysis.Count{Files: 5, Bytes: 1150},
			// app/config.json (B's 30); etc/motd (A's 40); etc/passwd (B's 120).
			Added:   analysis.Count{Files: 1, Bytes: 30},
			Removed: analysis.Count{Files: 1, Bytes: 40},
			Changed: analysis.Count{Files: 1, Bytes: 120},
			Entries: []analysis.DiffEntry{
				{Path: "etc/motd", Change: analysis.Removed, Delta: -40},
				{Path: "app/config.json", Change: analysis.Added, Delta: 30},
				{Path: "etc/passwd", Change: analysis.Changed, Delta: 120 - 100, Fields: []string{"size"}},
			},
			Dirs: []analysis.DiffDir{
				// app: 1000 → 1000 + 30.
				{Path: "app", Added: 1, BytesA: 1000, BytesB: 1030, Delta: 30},
				// etc: 100 + 40 → 120.
				{Path: "etc", Removed: 1, Changed: 1, BytesA: 140, BytesB: 120, Delta: -20},
			},
		},
	}, {
		name: "file becomes a symlink",
		a:    [][]files.Entry{{dfDir("lib"), dfFile("lib/libz.so", 500)}},
		b:    [][]files.Entry{{dfDir("lib"), dfSymlink("lib/libz.so", "libz.so.1"), dfFile("lib/libz.so.1", 500)}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 2, Bytes: 500},
			FilesB: analysis.Count{Files: 3, Bytes: 500},
			Added:  analysis.Count{Files: 1, Bytes: 500},
			// A symlink holds no bytes.
			Changed: analysis.Count{Files: 1, Bytes: 0},
			Entries: []analysis.DiffEntry{
				// |Delta| 500 both: by path.
				{Path: "lib/libz.so", Change: analysis.Changed, Delta: -500, Fields: []string{"type", "size", "mode", "link"}},
				{Path: "lib/libz.so.1", Change: analysis.Added, Delta: 500},
			},
			Dirs: []analysis.DiffDir{{Path: "lib", Added: 1, Changed: 1, BytesA: 500, BytesB: 500}},
		},
	}, {
		name: "directory becomes a file",
		a:    [][]files.Entry{{dfDir("opt"), dfDir("opt/data"), dfFile("opt/data/a", 50), dfFile("opt/data/b", 70)}},
		b:    [][]files.Entry{{dfDir("opt"), dfFile("opt/data", 200)}},
		want: analysis.FileDiff{
			FilesA:  analysis.Count{Files: 4, Bytes: 120},
			FilesB:  analysis.Count{Files: 2, Bytes: 200},
			Removed: analysis.Count{Files: 2, Bytes: 50 + 70},
			Changed: analysis.Count{Files: 1, Bytes: 200},
			Entries: []analysis.DiffEntry{
				// A's directory holds 0 bytes itself.
				{Path: "opt/data", Change: analysis.Changed, Delta: 200, Fields: []string{"type", "size", "mode"}},
				// Not rolled up: opt/data was not removed, it changed.
				{Path: "opt/data/b", Change: analysis.Removed, Delta: -70},
				{Path: "opt/data/a", Change: analysis.Removed, Delta: -50},
			},
			Dirs: []analysis.DiffDir{
				// opt/data is in opt: a directory in A (0), 200 in B.
				{Path: "opt", Changed: 1, BytesA: 0, BytesB: 200, Delta: 200},
				{Path: "opt/data", Removed: 2, BytesA: 120, BytesB: 0, Delta: -120},
			},
		},
	}, {
		name: "mode only, of a file and a directory",
		a:    [][]files.Entry{{dfDir("bin"), dfMode(dfFile("bin/tool", 300), 0o755), dfDir("data")}},
		b:    [][]files.Entry{{dfDir("bin"), dfMode(dfFile("bin/tool", 300), 0o700), dfMode(dfDir("data"), 0o700)}},
		want: analysis.FileDiff{
			FilesA:  analysis.Count{Files: 3, Bytes: 300},
			FilesB:  analysis.Count{Files: 3, Bytes: 300},
			Changed: analysis.Count{Files: 2, Bytes: 300},
			Entries: []analysis.DiffEntry{
				{Path: "bin/tool", Change: analysis.Changed, Fields: []string{"mode"}},
				{Path: "data", Change: analysis.Changed, Fields: []string{"mode"}},
			},
			Dirs: []analysis.DiffDir{
				// data is at the top: the root's row, "".
				{Path: "", Changed: 1},
				{Path: "bin", Changed: 1, BytesA: 300, BytesB: 300},
			},
		},
	}, {
		name: "symlink target",
		a:    [][]files.Entry{{dfDir("etc"), dfSymlink("etc/localtime", "/usr/share/zoneinfo/UTC")}},
		b:    [][]files.Entry{{dfDir("etc"), dfSymlink("etc/localtime", "/usr/share/zoneinfo/Europe/Paris")}},
		want: analysis.FileDiff{
			FilesA:  analysis.Count{Files: 2},
			FilesB:  analysis.Count{Files: 2},
			Changed: analysis.Count{Files: 1},
			Entries: []analysis.DiffEntry{{Path: "etc/localtime", Change: analysis.Changed, Fields: []string{"link"}}},
			Dirs:    []analysis.DiffDir{{Path: "etc", Changed: 1}},
		},
	}, {
		name: "content only, not compared",
		a:    [][]files.Entry{{dfDir("app"), dfDigest(dfFile("app/main.js", 800), "sha256:aa")}},
		b:    [][]files.Entry{{dfDir("app"), dfDigest(dfFile("app/main.js", 800), "sha256:bb")}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 2, Bytes: 800},
			FilesB: analysis.Count{Files: 2, Bytes: 800},
		},
	}, {
		name: "content only, compared",
		a: [][]files.Entry{{
			dfDir("app"), dfDigest(dfFile("app/main.js", 800), "sha256:aa"),
			dfDigest(dfFile("app/same.js", 60), "sha256:cc"),
			// Empty on both sides: one content, no digest needed.
			dfFile("app/empty", 0),
		}},
		b: [][]files.Entry{{
			dfDir("app"), dfDigest(dfFile("app/main.js", 800), "sha256:bb"),
			dfDigest(dfFile("app/same.js", 60), "sha256:cc"),
			dfFile("app/empty", 0),
		}},
		opts: analysis.DiffOptions{Content: true},
		want: analysis.FileDiff{
			FilesA:  analysis.Count{Files: 4, Bytes: 860},
			FilesB:  analysis.Count{Files: 4, Bytes: 860},
			Changed: analysis.Count{Files: 1, Bytes: 800},
			Entries: []analysis.DiffEntry{{Path: "app/main.js", Change: analysis.Changed, Fields: []string{"content"}}},
			Dirs:    []analysis.DiffDir{{Path: "app", Changed: 1, BytesA: 860, BytesB: 860}},
			Content: true,
		},
	}, {
		name: "a whole directory added",
		a:    [][]files.Entry{{dfDir("usr"), dfFile("usr/a", 10)}},
		b: [][]files.Entry{{
			dfDir("usr"), dfFile("usr/a", 10),
			// usr/share/doc, doc/x and doc/y are implied.
			dfDir("usr/share"),
			dfFile("usr/share/doc/x/README", 1000), dfFile("usr/share/doc/x/LICENSE", 2000),
			dfFile("usr/share/doc/y/README", 500),
			// Sorts between usr/share and usr/share/doc ('-' < '/'), and
			// is not in usr/share.
			dfFile("usr/share-extra", 5),
		}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 2, Bytes: 10},
			// usr, usr/a, usr/share, doc, doc/x, x/README, x/LICENSE,
			// doc/y, y/README, usr/share-extra: 10; 10 + 1000 + 2000 +
			// 500 + 5.
			FilesB: analysis.Count{Files: 10, Bytes: 3515},
			// All but usr and usr/a: 8 paths, 3505 bytes.
			Added: analysis.Count{Files: 8, Bytes: 3505},
			Entries: []analysis.DiffEntry{
				// Under usr/share: doc, doc/x, 2 files, doc/y, 1 file;
				// 1000 + 2000 + 500.
				{Path: "usr/share", Change: analysis.Added, Delta: 3500, Subtree: analysis.Count{Files: 6, Bytes: 3500}},
				{Path: "usr/share-extra", Change: analysis.Added, Delta: 5},
			},
			Dirs: []analysis.DiffDir{
				// Depth 2: all 6 beneath usr/share roll into it.
				{Path: "usr/share", Added: 6, BytesB: 3500, Delta: 3500},
				// usr/share itself and usr/share-extra; usr/a is 10 in both.
				{Path: "usr", Added: 2, BytesA: 10, BytesB: 15, Delta: 5},
			},
		},
	}, {
		name: "deleted by whiteouts in a later layer",
		a: [][]files.Entry{{
			dfDir("var"), dfDir("var/cache"), dfDir("var/cache/apt"),
			dfFile("var/cache/apt/pkgcache.bin", 4000), dfFile("var/cache/apt/srcpkgcache.bin", 3000),
			dfDir("tmp"), dfFile("tmp/build.log", 250),
		}},
		b: [][]files.Entry{{
			dfDir("var"), dfDir("var/cache"), dfDir("var/cache/apt"),
			dfFile("var/cache/apt/pkgcache.bin", 4000), dfFile("var/cache/apt/srcpkgcache.bin", 3000),
			dfDir("tmp"), dfFile("tmp/build.log", 250),
		}, {
			dfWhiteout("var/cache/apt"), dfWhiteout("tmp/build.log"),
		}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 7, Bytes: 7250},
			// var, var/cache, tmp.
			FilesB: analysis.Count{Files: 3, Bytes: 0},
			// var/cache/apt, its 2 files, tmp/build.log; 4000 + 3000 + 250.
			Removed: analysis.Count{Files: 4, Bytes: 7250},
			Entries: []analysis.DiffEntry{
				{Path: "var/cache/apt", Change: analysis.Removed, Delta: -7000, Subtree: analysis.Count{Files: 2, Bytes: 7000}},
				{Path: "tmp/build.log", Change: analysis.Removed, Delta: -250},
			},
			Dirs: []analysis.DiffDir{
				// var/cache/apt and its 2 files, cut to depth 2.
				{Path: "var/cache", Removed: 3, BytesA: 7000, Delta: -7000},
				{Path: "tmp", Removed: 1, BytesA: 250, Delta: -250},
			},
		},
	}, {
		name: "hard links hold no bytes",
		a:    [][]files.Entry{{dfDir("bin"), dfFile("bin/busybox", 900_000), dfHardlink("bin/cat", "bin/busybox")}},
		b: [][]files.Entry{{
			dfDir("bin"), dfFile("bin/busybox", 900_000), dfHardlink("bin/cat", "bin/toybox"),
			dfFile("bin/toybox", 700_000), dfHardlink("bin/sh", "bin/busybox"),
		}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 3, Bytes: 900_000},
			// bin, busybox, cat, toybox, sh; 900,000 + 700,000.
			FilesB: analysis.Count{Files: 5, Bytes: 1_600_000},
			// bin/toybox 700,000 and bin/sh 0.
			Added:   analysis.Count{Files: 2, Bytes: 700_000},
			Changed: analysis.Count{Files: 1, Bytes: 0},
			Entries: []analysis.DiffEntry{
				{Path: "bin/toybox", Change: analysis.Added, Delta: 700_000},
				{Path: "bin/cat", Change: analysis.Changed, Fields: []string{"link"}},
				{Path: "bin/sh", Change: analysis.Added},
			},
			Dirs: []analysis.DiffDir{{Path: "bin", Added: 2, Changed: 1, BytesA: 900_000, BytesB: 1_600_000, Delta: 700_000}},
		},
	}, {
		name: "identical",
		a:    [][]files.Entry{{dfDir("etc"), dfFile("etc/passwd", 100)}, {dfDir("app"), dfFile("app/server", 1000)}},
		b:    [][]files.Entry{{dfDir("etc"), dfFile("etc/passwd", 100)}, {dfDir("app"), dfFile("app/server", 1000)}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 4, Bytes: 1100},
			FilesB: analysis.Count{Files: 4, Bytes: 1100},
		},
	}, {
		name: "the same files from other layers are identical",
		a:    [][]files.Entry{{dfDir("etc"), dfFile("etc/passwd", 100)}},
		b:    [][]files.Entry{{dfDir("etc"), dfFile("etc/passwd", 50)}, {dfDir("etc"), dfFile("etc/passwd", 100)}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 2, Bytes: 100},
			FilesB: analysis.Count{Files: 2, Bytes: 100},
		},
	}, {
		name: "an implied directory has no mode to compare",
		a:    [][]files.Entry{{dfDir("srv"), dfFile("srv/x", 1)}},
		b:    [][]files.Entry{{dfFile("srv/x", 1)}},
		want: analysis.FileDiff{
			FilesA: analysis.Count{Files: 2, Bytes: 1},
			FilesB: analysis.Count{Files: 2, Bytes: 1},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, la := dfImage("a", tt.a...)
			b, lb := dfImage("b", tt.b...)
			got, err := analysis.Diff(a, b, la, lb, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got, ignoreSides); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffDepthAndTop rolls one difference up at depths 1 to 3 and trims
// what is listed.
func TestDiffDepthAndTop(t *testing.T) {
	// srv/www, srv/www/img and srv/api are implied on both sides.
	a, la := dfImage("a", []files.Entry{
		dfDir("srv"), dfFile("srv/www/index.html", 100), dfFile("srv/www/img/logo.png", 2000),
		dfFile("srv/api/app", 5000), dfFile("README", 10),
	})
	b, lb := dfImage("b", []files.Entry{
		dfDir("srv"), dfFile("srv/www/index.html", 150), dfFile("srv/www/img/banner.png", 3000),
		dfFile("srv/api/app", 4000), dfFile("README", 10), dfFile("NOTES", 20),
	})
	// A: srv, srv/www, index.html, srv/www/img, logo.png, srv/api, app,
	// README: 8 entries; 100 + 2000 + 5000 + 10 = 7110.
	// B: the same with banner.png for logo.png, and NOTES: 9 entries;
	// 150 + 3000 + 4000 + 10 + 20 = 7180.
	// Differences: banner.png +3000 and NOTES +20 added; logo.png −2000
	// removed; app 5000 → 4000 (−1000) and index.html 100 → 150 (+50)
	// changed.
	totals := analysis.FileDiff{
		FilesA:  analysis.Count{Files: 8, Bytes: 7110},
		FilesB:  analysis.Count{Files: 9, Bytes: 7180},
		Added:   analysis.Count{Files: 2, Bytes: 3020},
		Removed: analysis.Count{Files: 1, Bytes: 2000},
		// B's 4000 + 150.
		Changed: analysis.Count{Files: 2, Bytes: 4150},
	}
	entries := []analysis.DiffEntry{
		{Path: "srv/www/img/banner.png", Change: analysis.Added, Delta: 3000},
		{Path: "srv/www/img/logo.png", Change: analysis.Removed, Delta: -2000},
		{Path: "srv/api/app", Change: analysis.Changed, Delta: -1000, Fields: []string{"size"}},
		{Path: "srv/www/index.html", Change: analysis.Changed, Delta: 50, Fields: []string{"size"}},
		{Path: "NOTES", Change: analysis.Added, Delta: 20},
	}
	// The root's row: README 10 in both, NOTES 20 in B.
	root := analysis.DiffDir{Path: "", Added: 1, BytesA: 10, BytesB: 30, Delta: 20}
	tests := []struct {
		name    string
		opts    analysis.DiffOptions
		entries []analysis.DiffEntry
		dirs    []analysis.DiffDir
	}{{
		name:    "depth 1",
		opts:    analysis.DiffOptions{Depth: 1},
		entries: entries,
		dirs: []analysis.DiffDir{
			// 100 + 2000 + 5000 → 150 + 3000 + 4000.
			{Path: "srv", Added: 1, Removed: 1, Changed: 2, BytesA: 7100, BytesB: 7150, Delta: 50},
			root,
		},
	}, {
		name:    "depth 2 (the default)",
		entries: entries,
		dirs: []analysis.DiffDir{
			// 100 + 2000 → 150 + 3000.
			{Path: "srv/www", Added: 1, Removed: 1, Changed: 1, BytesA: 2100, BytesB: 3150, Delta: 1050},
			{Path: "srv/api", Changed: 1, BytesA: 5000, BytesB: 4000, Delta: -1000},
			root,
		},
	}, {
		name:    "depth 3",
		opts:    analysis.DiffOptions{Depth: 3},
		entries: entries,
		dirs: []analysis.DiffDir{
			// |Delta| 1000 both: by path.
			{Path: "srv/api", Changed: 1, BytesA: 5000, BytesB: 4000, Delta: -1000},
			{Path: "srv/www/img", Added: 1, Removed: 1, BytesA: 2000, BytesB: 3000, Delta: 1000},
			{Path: "srv/www", Changed: 1, BytesA: 100, BytesB: 150, Delta: 50},
			root,
		},
	}, {
		name:    "top 2",
		opts:    analysis.DiffOptions{Top: 2},
		entries: entries[:2],
		dirs: []analysis.DiffDir{
			{Path: "srv/www", Added: 1, Removed: 1, Changed: 1, BytesA: 2100, BytesB: 3150, Delta: 1050},
			{Path: "srv/api", Changed: 1, BytesA: 5000, BytesB: 4000, Delta: -1000},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := analysis.Diff(a, b, la, lb, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := totals
			want.Entries, want.Dirs = tt.entries, tt.dirs
			if diff := cmp.Diff(&want, got, ignoreSides); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffEntrySides checks the entries each difference carries, and the
// layer that wrote them.
func TestDiffEntrySides(t *testing.T) {
	a, la := dfImage("a", []files.Entry{
		dfDir("etc"), dfFile("etc/hosts", 10), dfDir("old"), dfFile("old/f", 5),
	})
	b, lb := dfImage("b", []files.Entry{
		dfDir("etc"), dfFile("etc/hosts", 10),
	}, []files.Entry{
		dfFile("etc/hosts", 30), dfFile("new", 7),
	})
	got, err := analysis.Diff(a, b, la, lb, analysis.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info := func(e files.Entry, layer int) *analysis.FileInfo { return &analysis.FileInfo{Entry: e, Layer: layer} }
	want := []analysis.DiffEntry{{
		Path: "etc/hosts", Change: analysis.Changed, Delta: 20, Fields: []string{"size"},
		A: info(dfFile("etc/hosts", 10), 0), B: info(dfFile("etc/hosts", 30), 1),
	}, {
		Path: "new", Change: analysis.Added, Delta: 7, B: info(dfFile("new", 7), 1),
	}, {
		Path: "old", Change: analysis.Removed, Delta: -5, Subtree: analysis.Count{Files: 1, Bytes: 5},
		A: info(dfDir("old"), 0),
	}}
	if diff := cmp.Diff(want, got.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if got.A != a || got.B != b {
		t.Errorf("images %p, %p; want %p, %p", got.A, got.B, a, b)
	}
}

// TestDiffGoToolchain is "what made B bigger": B is A, a small runtime
// image, with a Go toolchain in usr/local/go, a CA bundle and a larger
// server.
func TestDiffGoToolchain(t *testing.T) {
	base := []files.Entry{
		dfDir("bin"), dfFile("bin/busybox", 800_000),
		dfDir("etc"), dfFile("etc/passwd", 1200), dfFile("etc/group", 600),
		dfDir("lib"), dfFile("lib/ld-musl-x86_64.so.1", 600_000),
		dfDir("usr"), dfDir("usr/bin"), dfDir("usr/local"), dfDir("usr/local/bin"),
	}
	a, la := dfImage("runtime", base, []files.Entry{dfDir("app"), dfFile("app/server", 12_000_000)})

	goroot := []files.Entry{
		dfDir("usr/local/go"), dfFile("usr/local/go/VERSION", 40),
		dfFile("usr/local/go/bin/go", 14_000_000), dfFile("usr/local/go/bin/gofmt", 3_000_000),
		dfFile("usr/local/go/pkg/tool/linux_amd64/compile", 24_000_000),
		dfFile("usr/local/go/pkg/tool/linux_amd64/link", 8_000_000),
		dfFile("usr/local/go/pkg/tool/linux_amd64/asm", 4_000_000),
		dfFile("usr/local/go/pkg/tool/linux_amd64/vet", 9_000_000),
	}
	for i := range 100 {
		for j := range 3 {
			goroot = append(goroot, dfFile(fmt.Sprintf("usr/local/go/src/pkg%03d/f%d.go", i, j), 10_000))
		}
	}
	b, lb := dfImage("toolchain", base, goroot,
		[]files.Entry{dfFile("etc/ssl/certs/ca-certificates.crt", 200_000)},
		[]files.Entry{dfDir("app"), dfFile("app/server", 12_500_000)})

	// Beneath usr/local/go: directories bin, pkg, pkg/tool,
	// pkg/tool/linux_amd64, src and 100 src/pkgNNN (implied): 105; files
	// VERSION, 2 in bin, 4 in linux_amd64, 100 × 3 in src: 307. 412 paths.
	// Bytes: 40 + 14M + 3M + (24M + 8M + 4M + 9M) + 300 × 10,000 =
	// 40 + 17M + 45M + 3M = 65,000,040.
	const goFiles, goBytes = 412, 65_000_040
	want := analysis.FileDiff{
		// A: 11 entries in base, app, app/server: 13; 800,000 + 1200 +
		// 600 + 600,000 + 12,000,000.
		FilesA: analysis.Count{Files: 13, Bytes: 13_401_800},
		// B: 13 + usr/local/go and its 412 + etc/ssl, etc/ssl/certs and
		// the bundle: 429; A's bytes + 65,000,040 + 200,000 + 500,000.
		FilesB: analysis.Count{Files: 429, Bytes: 79_101_840},
		// 1 + 412 + 3 paths; 65,000,040 + 200,000.
		Added:   analysis.Count{Files: 416, Bytes: 65_200_040},
		Changed: analysis.Count{Files: 1, Bytes: 12_500_000},
		Entries: []analysis.DiffEntry{
			{Path: "usr/local/go", Change: analysis.Added, Delta: goBytes, Subtree: analysis.Count{Files: goFiles, Bytes: goBytes}},
			{Path: "app/server", Change: analysis.Changed, Delta: 500_000, Fields: []string{"size"}},
			{Path: "etc/ssl", Change: analysis.Added, Delta: 200_000, Subtree: analysis.Count{Files: 2, Bytes: 200_000}},
		},
		Dirs: []analysis.DiffDir{
			{Path: "usr/local/go", Added: goFiles, BytesB: goBytes, Delta: goBytes},
			{Path: "app", Changed: 1, BytesA: 12_000_000, BytesB: 12_500_000, Delta: 500_000},
			{Path: "etc/ssl/certs", Added: 1, BytesB: 200_000, Delta: 200_000},
			// etc/ssl itself; etc/passwd and etc/group, 1800 in both.
			{Path: "etc", Added: 1, BytesA: 1800, BytesB: 1800},
			// etc/ssl/certs itself.
			{Path: "etc/ssl", Added: 1},
			// usr/local/go itself.
			{Path: "usr/local", Added: 1},
		},
	}
	got, err := analysis.Diff(a, b, la, lb, analysis.DiffOptions{Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got, ignoreSides); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}

func TestDiffErrors(t *testing.T) {
	a, la := dfImage("a", []files.Entry{dfDigest(dfFile("f", 3), "sha256:aa")})
	b, lb := dfImage("b", []files.Entry{dfFile("f", 3)})
	tests := []struct {
		name   string
		a, b   *layers.Image
		la, lb []files.Layer
		opts   analysis.DiffOptions
		want   string
	}{
		{"no image", nil, b, nil, lb, analysis.DiffOptions{}, "no image"},
		{"A's layers", a, b, nil, lb, analysis.DiffOptions{}, "file diff of a: the image has 1 layers but 0 file lists were given"},
		{"B's layers", a, b, la, append(lb, files.Layer{}), analysis.DiffOptions{}, "file diff of b: the image has 1 layers but 2 file lists were given"},
		{"content without a digest", a, b, la, lb, analysis.DiffOptions{Content: true}, "comparing the content of f: no content digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := analysis.Diff(tt.a, tt.b, tt.la, tt.lb, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Diff = %v, %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
	// Without Content, the missing digest does not matter.
	if _, err := analysis.Diff(a, b, la, lb, analysis.DiffOptions{}); err != nil {
		t.Errorf("without Content: %v", err)
	}
}
