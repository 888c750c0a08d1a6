package analysis_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
)

// entryKit makes layer entries for test literals, as files.Read would
// give them: whiteouts and opaque markers already decoded.
type entryKit struct{}

var ent entryKit

func (entryKit) file(p string, size int64) files.Entry {
	return files.Entry{Path: p, Type: files.Regular, Size: size, Mode: 0o644}
}

// fileD is a regular file with a content digest (files.Options.Content).
func (entryKit) fileD(p string, size int64, digest string) files.Entry {
	return files.Entry{Path: p, Type: files.Regular, Size: size, Mode: 0o644, Digest: digest}
}

func (entryKit) dir(p string) files.Entry {
	return files.Entry{Path: p, Type: files.Dir, Mode: 0o755}
}

func (entryKit) hardlink(p, target string) files.Entry {
	return files.Entry{Path: p, Type: files.Hardlink, Linkname: target, Mode: 0o644}
}

func (entryKit) symlink(p, target string) files.Entry {
	return files.Entry{Path: p, Type: files.Symlink, Linkname: target, Mode: 0o777}
}

// whiteout is a ".wh.NAME" entry deleting p.
func (entryKit) whiteout(p string) files.Entry {
	return files.Entry{Path: p, Type: files.Other, Whiteout: true}
}

// opaque is a ".wh..wh..opq" entry in directory p ("." for the root).
func (entryKit) opaque(p string) files.Entry {
	return files.Entry{Path: p, Type: files.Dir, Opaque: true}
}

// layers turns entry lists into layers.
func (entryKit) layers(ls ...[]files.Entry) []files.Layer {
	out := make([]files.Layer, len(ls))
	for i, es := range ls {
		out[i].Entries = es
	}
	return out
}

// image is a model image with n layers, each created by "step i".
func (entryKit) image(n int) *layers.Image {
	img := &layers.Image{Ref: "test"}
	for i := range n {
		img.Layers = append(img.Layers, layers.Layer{CreatedBy: fmt.Sprintf("step %d", i)})
	}
	return img
}

// walked lists a filesystem's entries compactly, in Walk's order:
// "path type size L<layer>", plus "->target" for links and the mode of
// directories.
func walked(fs *analysis.Filesystem) []string {
	var out []string
	fs.Walk(func(fi analysis.FileInfo) {
		s := fmt.Sprintf("%s %s %d L%d", fi.Path, fi.Type, fi.Size, fi.Layer)
		switch fi.Type {
		case files.Symlink, files.Hardlink:
			s += " ->" + fi.Linkname
		case files.Dir:
			s += fmt.Sprintf(" %o", fi.Mode)
		}
		out = append(out, s)
	})
	return out
}

func TestFilesystem(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]files.Entry
		want   []string
		// totals: entries and regular-file bytes of the final filesystem.
		total analysis.Count
	}{
		{
			name: "overwritten file: the later copy is what remains",
			layers: [][]files.Entry{
				{ent.dir("a"), ent.file("a/x", 10)},
				{ent.file("a/x", 20)},
			},
			want:  []string{"a dir 0 L0 755", "a/x file 20 L1"},
			total: analysis.Count{Files: 2, Bytes: 20},
		},
		{
			name: "deleted file",
			layers: [][]files.Entry{
				{ent.file("a/x", 10), ent.file("a/y", 5)},
				{ent.whiteout("a/x")},
			},
			// a was never given an entry: implied by layer 0, mode 0.
			want:  []string{"a dir 0 L0 0", "a/y file 5 L0"},
			total: analysis.Count{Files: 2, Bytes: 5},
		},
		{
			name: "deleted directory takes its nested files with it",
			layers: [][]files.Entry{
				{ent.dir("a"), ent.dir("a/b"), ent.file("a/b/c", 3), ent.file("a/b/d/e", 4), ent.file("a/f", 1)},
				{ent.whiteout("a/b")},
			},
			want:  []string{"a dir 0 L0 755", "a/f file 1 L0"},
			total: analysis.Count{Files: 2, Bytes: 1},
		},
		{
			name: "opaque directory hides what lower layers put there, not what its own layer adds",
			layers: [][]files.Entry{
				{ent.dir("a"), ent.file("a/x", 1), ent.file("a/y/z", 2), ent.file("b", 4)},
				// The new file comes before the marker in the tar: markers
				// apply first all the same.
				{ent.file("a/new", 5), ent.opaque("a")},
			},
			want:  []string{"a dir 0 L0 755", "a/new file 5 L1", "b file 4 L0"},
			total: analysis.Count{Files: 3, Bytes: 9},
		},
		{
			name: "opaque root",
			layers: [][]files.Entry{
				{ent.file("a", 1), ent.dir("d")},
				{ent.opaque("."), ent.file("b", 2)},
			},
			want:  []string{"b file 2 L1"},
			total: analysis.Count{Files: 1, Bytes: 2},
		},
		{
			name: "opaque marker of a new directory implies it",
			layers: [][]files.Entry{
				{ent.opaque("n/m")},
			},
			want:  []string{"n dir 0 L0 0", "n/m dir 0 L0 0"},
			total: analysis.Count{Files: 2},
		},
		{
			name: "hard link holds no bytes of its own",
			layers: [][]files.Entry{
				{ent.file("a", 10), ent.hardlink("b", "a")},
			},
			want:  []string{"a file 10 L0", "b hardlink 0 L0 ->a"},
			total: analysis.Count{Files: 2, Bytes: 10},
		},
		{
			name: "symlink",
			layers: [][]files.Entry{
				{ent.symlink("l", "/usr/bin/env")},
			},
			want:  []string{"l symlink 0 L0 ->/usr/bin/env"},
			total: analysis.Count{Files: 1},
		},
		{
			name: "file replaced by a directory",
			layers: [][]files.Entry{
				{ent.file("a", 10)},
				{ent.dir("a"), ent.file("a/b", 2)},
			},
			want:  []string{"a dir 0 L1 755", "a/b file 2 L1"},
			total: analysis.Count{Files: 2, Bytes: 2},
		},
		{
			name: "directory replaced by a file drops the directory's subtree",
			layers: [][]files.Entry{
				{ent.dir("a"), ent.file("a/b", 2), ent.file("a/c/d", 3)},
				{ent.file("a", 7)},
			},
			want:  []string{"a file 7 L1"},
			total: analysis.Count{Files: 1, Bytes: 7},
		},
		{
			name: "directory over a directory keeps the children",
			layers: [][]files.Entry{
				{ent.dir("a"), ent.file("a/b", 2)},
				{files.Entry{Path: "a", Type: files.Dir, Mode: 0o700}},
			},
			want:  []string{"a dir 0 L1 700", "a/b file 2 L0"},
			total: analysis.Count{Files: 2, Bytes: 2},
		},
		{
			name: "re-added after deletion",
			layers: [][]files.Entry{
				{ent.file("f", 1)},
				{ent.whiteout("f")},
				{ent.file("f", 2)},
			},
			want:  []string{"f file 2 L2"},
			total: analysis.Count{Files: 1, Bytes: 2},
		},
		{
			name: "whiteout and new entry at one path in one layer: the whiteout applies first",
			layers: [][]files.Entry{
				{ent.file("f", 1)},
				{ent.file("f", 3), ent.whiteout("f")},
			},
			want:  []string{"f file 3 L1"},
			total: analysis.Count{Files: 1, Bytes: 3},
		},
		{
			name: "whiteout of a path that is not there changes nothing",
			layers: [][]files.Entry{
				{ent.file("f", 1)},
				{ent.whiteout("g"), ent.whiteout("f/x"), ent.whiteout("nodir/x")},
			},
			want:  []string{"f file 1 L0"},
			total: analysis.Count{Files: 1, Bytes: 1},
		},
		{
			name: "implied parents belong to the layer that first implied them, until given an entry",
			layers: [][]files.Entry{
				{ent.file("x/y/z", 1)},
				{ent.file("x/y/w", 2)},
				{ent.dir("x")},
			},
			want:  []string{"x dir 0 L2 755", "x/y dir 0 L0 0", "x/y/w file 2 L1", "x/y/z file 1 L0"},
			total: analysis.Count{Files: 4, Bytes: 3},
		},
		{
			name: "a path under a file makes the file an implied directory",
			layers: [][]files.Entry{
				{ent.file("a", 5)},
				{ent.file("a/b", 1)},
			},
			want:  []string{"a dir 0 L1 0", "a/b file 1 L1"},
			total: analysis.Count{Files: 2, Bytes: 1},
		},
		{
			name: "walk order is string order: a, a-b, a/c",
			layers: [][]files.Entry{
				{ent.file("a/c", 1), ent.file("a-b", 1)},
			},
			want:  []string{"a dir 0 L0 0", "a-b file 1 L0", "a/c file 1 L0"},
			total: analysis.Count{Files: 3, Bytes: 2},
		},
		{
			name: "the root entry is not an entry",
			layers: [][]files.Entry{
				{ent.dir(""), ent.dir("."), ent.file("f", 1)},
			},
			want:  []string{"f file 1 L0"},
			total: analysis.Count{Files: 1, Bytes: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := analysis.NewFilesystem(ent.layers(tt.layers...))
			if diff := cmp.Diff(tt.want, walked(fs)); diff != "" {
				t.Errorf("Walk (-want +got):\n%s", diff)
			}
			if got := fs.Totals(); got != tt.total {
				t.Errorf("Totals() = %+v, want %+v", got, tt.total)
			}
		})
	}
}

func TestFilesystemLookup(t *testing.T) {
	fs := analysis.NewFilesystem(ent.layers(
		[]files.Entry{ent.file("usr/bin/env", 7), ent.symlink("bin", "usr/bin")},
		[]files.Entry{ent.file("usr/bin/env", 9)},
	))
	tests := []struct {
		path string
		want analysis.FileInfo
		ok   bool
	}{
		{"usr/bin/env", analysis.FileInfo{Entry: ent.file("usr/bin/env", 9), Layer: 1}, true},
		{"/usr/bin/env", analysis.FileInfo{Entry: ent.file("usr/bin/env", 9), Layer: 1}, true},
		{"usr/bin/", analysis.FileInfo{Entry: files.Entry{Path: "usr/bin", Type: files.Dir}, Layer: 0}, true},
		{"bin", analysis.FileInfo{Entry: ent.symlink("bin", "usr/bin"), Layer: 0}, true},
		// Lookup does not follow symlinks.
		{"bin/env", analysis.FileInfo{}, false},
		{"usr/bin/env/x", analysis.FileInfo{}, false},
		{"", analysis.FileInfo{}, false},
		{"/", analysis.FileInfo{}, false},
		{"nope", analysis.FileInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := fs.Lookup(tt.path)
		if ok != tt.ok {
			t.Errorf("Lookup(%q) found %v, want %v", tt.path, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Lookup(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestFilesystemEmpty(t *testing.T) {
	fs := analysis.NewFilesystem(nil)
	if got := walked(fs); len(got) != 0 {
		t.Errorf("empty filesystem walks %q", got)
	}
	if got := fs.Totals(); got != (analysis.Count{}) {
		t.Errorf("Totals() = %+v", got)
	}
}

func ExampleNewFilesystem() {
	fs := analysis.NewFilesystem([]files.Layer{
		{Entries: []files.Entry{
			{Path: "app/main", Type: files.Regular, Size: 100},
			{Path: "tmp/build.log", Type: files.Regular, Size: 50},
		}},
		{Entries: []files.Entry{{Path: "tmp/build.log", Whiteout: true}}},
	})
	fs.Walk(func(fi analysis.FileInfo) { fmt.Println(fi.Path, fi.Type, fi.Size, fi.Layer) })
	fmt.Printf("%+v\n", fs.Totals())
	// Output:
	// app dir 0 0
	// app/main file 100 0
	// tmp dir 0 0
	// {Files:3 Bytes:100}
}

func ExampleFiles() {
	img := &layers.Image{Layers: []layers.Layer{{CreatedBy: "COPY . /app"}, {CreatedBy: "RUN rm /app/build.log"}}}
	r, err := analysis.Files(img, []files.Layer{
		{Entries: []files.Entry{
			{Path: "app/main", Type: files.Regular, Size: 100},
			{Path: "app/build.log", Type: files.Regular, Size: 50},
		}},
		{Entries: []files.Entry{{Path: "app/build.log", Whiteout: true}}},
	}, analysis.FilesOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("files %d bytes, reclaimable %d, dive efficiency %.3f\n", r.Files.Bytes, r.Reclaimable, r.Dive.Efficiency)
	for _, h := range r.Hints {
		fmt.Printf("%s: %d bytes at %v, added by %q\n", h.ID, h.Bytes, h.Paths, img.Layers[h.Layers[0]].CreatedBy)
	}
	// dive: app/main 100 once; app/build.log 50, then its whiteout 0:
	// efficiency (100 + 0) / (100 + 50).

	// Output:
	// files 100 bytes, reclaimable 50, dive efficiency 0.667
	// deleted-in-later-layer: 50 bytes at [app/build.log], added by "COPY . /app"
}

// A hard link keeps its content when the file it linked to is deleted or
// rewritten (a chmod, an upgrade): those bytes stay in the filesystem, on
// the link, and are not reclaimable. Found in review, against GNU tar
// extracting the layers in order.
func TestHardLinkOutlivesTarget(t *testing.T) {
	ls := ent.layers(
		[]files.Entry{ent.file("tool", 1000), ent.hardlink("tool2", "tool"), ent.hardlink("tool3", "tool")},
		// Rewritten: the old content lives on in tool2 and tool3.
		[]files.Entry{ent.file("tool", 1000)},
		// tool2 deleted: tool3 still holds the old content.
		[]files.Entry{ent.whiteout("tool2")},
	)
	fr, err := analysis.Files(ent.image(3), ls, analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// New tool 1000 + old content 1000 (on tool3, the one link left).
	if fr.Files.Bytes != 2000 {
		t.Errorf("files %d bytes, want 2000", fr.Files.Bytes)
	}
	if fr.Reclaimable != 0 || len(fr.ReclaimItems) != 0 {
		t.Errorf("reclaimable %d %+v, want none: a link keeps the bytes", fr.Reclaimable, fr.ReclaimItems)
	}
	if d := cmp.Diff([]string{"tool file 1000 L1", "tool3 hardlink 1000 L0 ->tool"}, walked(analysis.NewFilesystem(ls))); d != "" {
		t.Errorf("walk (-want +got):\n%s", d)
	}
	// Deleting the last link frees the content.
	ls = append(ls, files.Layer{Entries: []files.Entry{ent.whiteout("tool3")}})
	fr, err = analysis.Files(ent.image(4), ls, analysis.FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fr.Files.Bytes != 1000 || fr.Reclaimable != 1000 || fr.ReclaimItems[0].By != 3 {
		t.Errorf("after the last link goes: files %d, reclaimable %d %+v; want 1000, 1000 by layer 3", fr.Files.Bytes, fr.Reclaimable, fr.ReclaimItems)
	}
}
