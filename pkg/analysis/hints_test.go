package analysis_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
)

// hintsOf returns the hints Files gives for ls.
func hintsOf(t *testing.T, ls ...[]files.Entry) []analysis.Hint {
	t.Helper()
	r, err := analysis.Files(ent.image(len(ls)), ent.layers(ls...), analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hints {
		if h.Title == "" || h.Fix == "" {
			t.Errorf("hint %s has no title or fix: %+v", h.ID, h)
		}
	}
	return r.Hints
}

// ignoreText compares hints by what they measure, not their wording.
var ignoreText = cmpopts.IgnoreFields(analysis.Hint{}, "Title", "Fix")

func TestHintToolchain(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]files.Entry
		want   []analysis.Hint
	}{
		{
			name: "Go in /usr/local/go",
			layers: [][]files.Entry{
				{ent.file("etc/os", 1)},
				{ent.file("usr/local/go/bin/go", 100), ent.file("usr/local/go/pkg/tool/linux_amd64/compile", 200), ent.file("usr/local/go/src/x.go", 50)},
			},
			// 100 + 200 + 50 under usr/local/go, all from layer 1.
			want: []analysis.Hint{{ID: analysis.HintToolchain, Bytes: 350, Paths: []string{"usr/local/go"}, Layers: []int{1}}},
		},
		{
			name: "Go elsewhere: bin/go beside pkg/tool",
			layers: [][]files.Entry{
				{ent.file("usr/lib/go-1.19/bin/go", 10), ent.file("usr/lib/go-1.19/pkg/tool/linux_amd64/link", 20), ent.symlink("usr/bin/go", "../lib/go-1.19/bin/go")},
			},
			want: []analysis.Hint{{ID: analysis.HintToolchain, Bytes: 30, Paths: []string{"usr/lib/go-1.19"}, Layers: []int{0}}},
		},
		{
			name: "a program called go is not a toolchain without pkg/tool; nor is one in usr/bin",
			layers: [][]files.Entry{
				{ent.file("app/bin/go", 10), ent.file("usr/bin/go", 10), ent.file("usr/local/bin/go", 10), ent.dir("app/pkg")},
			},
		},
		{
			name: "gcc's cc1 under usr/libexec/gcc",
			layers: [][]files.Entry{
				{ent.file("usr/libexec/gcc/x86_64-alpine-linux-musl/12/cc1", 300), ent.file("usr/libexec/gcc/x86_64-alpine-linux-musl/12/lto1", 10)},
			},
			want: []analysis.Hint{{ID: analysis.HintToolchain, Bytes: 310, Paths: []string{"usr/libexec/gcc"}, Layers: []int{0}}},
		},
		{
			name: "usr/lib/gcc holding only runtime libraries is no compiler",
			layers: [][]files.Entry{
				{ent.file("usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a", 300)},
			},
		},
		{
			name: "a JDK's bin/javac; the usr/bin/javac symlink is not a root",
			layers: [][]files.Entry{
				{ent.file("opt/java/openjdk/bin/javac", 5), ent.file("opt/java/openjdk/lib/modules", 1000), ent.symlink("usr/bin/javac", "/opt/java/openjdk/bin/javac")},
			},
			want: []analysis.Hint{{ID: analysis.HintToolchain, Bytes: 1005, Paths: []string{"opt/java/openjdk"}, Layers: []int{0}}},
		},
		{
			name: "a JRE has no javac",
			layers: [][]files.Entry{
				{ent.file("opt/java/openjdk/bin/java", 5), ent.file("opt/java/openjdk/lib/modules", 1000)},
			},
		},
		{
			name: "several toolchains add up; a root inside another counts once",
			layers: [][]files.Entry{
				{ent.file("usr/local/go/bin/go", 100)},
				// bin/rustc inside .rustup's toolchain is within .rustup.
				{ent.file("root/.rustup/toolchains/x/bin/rustc", 20), ent.file("root/.rustup/toolchains/x/lib/librustc.so", 700)},
				{ent.hardlink("usr/local/cargo/bin/rustc", "usr/local/cargo/bin/rustup"), ent.file("usr/local/cargo/bin/rustup", 40)},
			},
			// root/.rustup 720 (layer 1), usr/local/go 100 (layer 0),
			// usr/local/cargo 40 (layer 2): 860, largest first.
			want: []analysis.Hint{{
				ID: analysis.HintToolchain, Bytes: 860,
				Paths:  []string{"root/.rustup", "usr/local/go", "usr/local/cargo"},
				Layers: []int{0, 1, 2},
			}},
		},
		{
			name: "a toolchain deleted by a later layer is not in the final filesystem",
			layers: [][]files.Entry{
				{ent.file("usr/local/go/bin/go", 100)},
				{ent.whiteout("usr/local/go")},
			},
			// What remains is the deleted-in-later-layer hint.
			want: []analysis.Hint{{ID: analysis.HintDeleted, Bytes: 100, Paths: []string{"usr/local/go"}, Layers: []int{0}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hintsOf(t, tt.layers...)
			if diff := cmp.Diff(tt.want, got, ignoreText); diff != "" {
				t.Errorf("Hints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHintToolchainText(t *testing.T) {
	hs := hintsOf(t, []files.Entry{ent.file("usr/local/go/bin/go", 100), ent.file("usr/libexec/gcc/x/cc1", 5)})
	if len(hs) != 1 {
		t.Fatalf("hints %+v, want one", hs)
	}
	if want := "Compiler toolchain in the final image (gcc, Go)"; hs[0].Title != want {
		t.Errorf("Title %q, want %q", hs[0].Title, want)
	}
	if !strings.Contains(hs[0].Fix, "multistage build") {
		t.Errorf("Fix %q does not say multistage build", hs[0].Fix)
	}
}

func TestHintPackageCache(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]files.Entry
		want   []analysis.Hint
		fix    []string
	}{
		{
			name: "caches of several managers",
			layers: [][]files.Entry{
				{ent.file("etc/os", 1)},
				{ent.file("var/lib/apt/lists/deb.debian.org_InRelease", 400), ent.file("root/.cache/go-build/ab/cd", 30)},
				{ent.file("var/cache/apk/APKINDEX.tar.gz", 100), ent.file("home/u/.cache/pip/http/x", 50)},
			},
			// 400 + 100 + 50 + 30, from layers 1 and 2.
			want: []analysis.Hint{{
				ID: analysis.HintPackageCache, Bytes: 580,
				Paths:  []string{"var/lib/apt/lists", "var/cache/apk", "home/u/.cache/pip", "root/.cache/go-build"},
				Layers: []int{1, 2},
			}},
			fix: []string{"rm -rf /var/lib/apt/lists/*", "apk add --no-cache", "pip install --no-cache-dir", "go build with a cache mount"},
		},
		{
			name: "npm and yarn",
			layers: [][]files.Entry{
				{ent.file("root/.npm/_cacache/x", 10), ent.file("usr/local/share/.cache/yarn/v6/y", 20)},
			},
			want: []analysis.Hint{{
				ID: analysis.HintPackageCache, Bytes: 30,
				Paths:  []string{"usr/local/share/.cache/yarn", "root/.npm"},
				Layers: []int{0},
			}},
			fix: []string{"npm ci && npm cache clean --force", "yarn cache clean"},
		},
		{
			name: "empty lists (what apt leaves after rm -rf lists/*) cost nothing",
			layers: [][]files.Entry{
				{ent.dir("var/lib/apt/lists"), ent.file("var/lib/apt/lists/lock", 0), ent.dir("var/lib/apt/lists/partial"), ent.dir("var/cache/apt")},
			},
		},
		{
			name: "lists removed in the same layer are not in the final filesystem",
			layers: [][]files.Entry{
				{ent.file("usr/bin/curl", 10)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hintsOf(t, tt.layers...)
			if diff := cmp.Diff(tt.want, got, ignoreText); diff != "" {
				t.Errorf("Hints (-want +got):\n%s", diff)
			}
			for _, f := range tt.fix {
				if len(got) == 0 || !strings.Contains(got[0].Fix, f) {
					t.Errorf("Fix of %+v does not say %q", got, f)
				}
			}
		})
	}
}

func TestHintDeletedAndSuperseded(t *testing.T) {
	got := hintsOf(t, threeLayers...)
	// From TestFilesReclaim's items. Deleted: tmp/big 5000 (layer 0),
	// app/main 2000 by the opaque marker of app (layer 1), var/cache's c1
	// 300 and c2 200 (layer 0), rolled up by what deleted them: tmp/big
	// 5000, app 2000, var/cache 500; 7500 in all. Superseded: usr/bin/sh
	// 1000 and etc/os 100, both from layer 0; 1100.
	want := []analysis.Hint{
		{ID: analysis.HintDeleted, Bytes: 7500, Paths: []string{"tmp/big", "app", "var/cache"}, Layers: []int{0, 1}},
		{ID: analysis.HintSuperseded, Bytes: 1100, Paths: []string{"usr/bin/sh", "etc/os"}, Layers: []int{0}},
	}
	if diff := cmp.Diff(want, got, ignoreText); diff != "" {
		t.Errorf("Hints (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[0].Fix, "same RUN step") || !strings.Contains(got[1].Fix, "COPY --chmod") {
		t.Errorf("fixes: %q, %q", got[0].Fix, got[1].Fix)
	}

	// Nothing deleted or written twice: neither hint.
	if got := hintsOf(t, []files.Entry{ent.file("a", 1)}, []files.Entry{ent.file("b", 2), ent.whiteout("nothing")}); len(got) != 0 {
		t.Errorf("hints %+v, want none", got)
	}
}

func TestHintDuplicateContent(t *testing.T) {
	layers := [][]files.Entry{
		{ent.fileD("a", 100, "sha256:1"), ent.fileD("d", 50, "sha256:2"), ent.fileD("e", 50, "sha256:3"), ent.fileD("empty1", 0, "sha256:e"), ent.fileD("empty2", 0, "sha256:e")},
		{ent.fileD("c", 100, "sha256:1"), ent.fileD("b", 100, "sha256:1"), ent.hardlink("a2", "a")},
	}
	// sha256:1 is at a (layer 0, kept), b and c (layer 1): 200 bytes more
	// than one copy. d and e differ; the empty files hold nothing; a hard
	// link is the fix, not a copy.
	want := []analysis.Hint{{ID: analysis.HintDuplicate, Bytes: 200, Paths: []string{"b", "c"}, Layers: []int{1}}}
	if diff := cmp.Diff(want, hintsOf(t, layers...), ignoreText); diff != "" {
		t.Errorf("Hints (-want +got):\n%s", diff)
	}

	// Without content digests duplicates cannot be told: no hint.
	noDigests := [][]files.Entry{{ent.file("a", 100)}, {ent.file("b", 100), ent.file("c", 100)}}
	if got := hintsOf(t, noDigests...); len(got) != 0 {
		t.Errorf("hints without digests: %+v", got)
	}
}

func TestHintsOrder(t *testing.T) {
	got := hintsOf(t,
		[]files.Entry{ent.file("usr/local/go/bin/go", 10), ent.file("tmp/x", 30), ent.fileD("p", 5, "sha256:1"), ent.fileD("q", 5, "sha256:1")},
		[]files.Entry{ent.file("var/cache/apk/i", 20), ent.whiteout("tmp/x")},
	)
	var ids []string
	var bytes []int64
	for _, h := range got {
		ids = append(ids, h.ID)
		bytes = append(bytes, h.Bytes)
	}
	// deleted 30, cache 20, toolchain 10, duplicate 5: largest first.
	if diff := cmp.Diff([]string{analysis.HintDeleted, analysis.HintPackageCache, analysis.HintToolchain, analysis.HintDuplicate}, ids); diff != "" {
		t.Errorf("hint order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{30, 20, 10, 5}, bytes); diff != "" {
		t.Errorf("hint bytes (-want +got):\n%s", diff)
	}
}

func TestHintPathsAtMostFive(t *testing.T) {
	var es []files.Entry
	for i, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		es = append(es, ent.file(name, int64(10+i)))
	}
	var wh []files.Entry
	for _, e := range es {
		wh = append(wh, ent.whiteout(e.Path))
	}
	got := hintsOf(t, es, wh)
	// 10 + 11 + … + 16 = 91; the five largest: g 16, f 15, e 14, d 13, c 12.
	want := []analysis.Hint{{ID: analysis.HintDeleted, Bytes: 91, Paths: []string{"g", "f", "e", "d", "c"}, Layers: []int{0}}}
	if diff := cmp.Diff(want, got, ignoreText); diff != "" {
		t.Errorf("Hints (-want +got):\n%s", diff)
	}
}
