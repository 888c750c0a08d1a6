package analysis

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
)

// The defaults of DiffOptions.
const (
	defaultDiffTop   = 20
	defaultDiffDepth = 2
)

// Diff compares the final filesystems of a and b; la and lb are what their
// layers hold, in the same order as a.Layers and b.Layers (Diff fails when
// they differ in length).
//
// The two filesystems are walked together in path order. A path only in b
// is added, one only in a removed, and one in both is changed when its
// type, size, mode or link target differs or, with opts.Content, when two
// regular files of equal size have different content digests (Content
// then needs the digests: a regular file of equal size on both sides
// without one is an error). A directory is an entry of its own: added or
// removed with 0 bytes, changed only in its own type or mode, never by
// what it holds. An implied directory (one the layers never described,
// Mode 0) has no mode to compare.
//
// See FileDiff, DiffEntry and DiffDir for what is counted, listed and
// rolled up.
func Diff(a, b *layers.Image, la, lb []files.Layer, opts DiffOptions) (*FileDiff, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("file diff: no image")
	}
	for _, s := range []struct {
		img *layers.Image
		ls  []files.Layer
	}{{a, la}, {b, lb}} {
		if len(s.img.Layers) != len(s.ls) {
			return nil, fmt.Errorf("file diff of %s: the image has %d layers but %d file lists were given", imageName(s.img), len(s.img.Layers), len(s.ls))
		}
	}
	top, depth := opts.Top, opts.Depth
	if top <= 0 {
		top = defaultDiffTop
	}
	if depth <= 0 {
		depth = defaultDiffDepth
	}

	fsA, fsB := NewFilesystem(la), NewFilesystem(lb)
	x := &differ{
		d:       &FileDiff{A: a, B: b, FilesA: fsA.Totals(), FilesB: fsB.Totals(), Content: opts.Content},
		depth:   depth,
		content: opts.Content,
		rolled:  map[string]int{},
		dirs:    map[string]*DiffDir{},
		bytesA:  map[string]int64{},
		bytesB:  map[string]int64{},
	}
	nextA, stopA := iter.Pull(walk(fsA))
	defer stopA()
	nextB, stopB := iter.Pull(walk(fsB))
	defer stopB()
	ea, okA := nextA()
	eb, okB := nextB()
	for okA || okB {
		// Walk orders paths as strings compare, so < merges the two.
		switch {
		case okA && (!okB || ea.Path < eb.Path):
			x.bytesA[x.dirOf(ea.Path)] += regularBytes(ea.Entry)
			x.one(Removed, ea)
			ea, okA = nextA()
		case okB && (!okA || eb.Path < ea.Path):
			x.bytesB[x.dirOf(eb.Path)] += regularBytes(eb.Entry)
			x.one(Added, eb)
			eb, okB = nextB()
		default:
			x.bytesA[x.dirOf(ea.Path)] += regularBytes(ea.Entry)
			x.bytesB[x.dirOf(eb.Path)] += regularBytes(eb.Entry)
			if err := x.both(ea, eb); err != nil {
				return nil, err
			}
			ea, okA = nextA()
			eb, okB = nextB()
		}
	}
	return x.finish(top), nil
}

// walk is fs.Walk as an iterator.
func walk(fs *Filesystem) iter.Seq[FileInfo] {
	return func(yield func(FileInfo) bool) {
		more := true
		fs.Walk(func(fi FileInfo) {
			more = more && yield(fi)
		})
	}
}

// differ accumulates a FileDiff while two walks are merged.
type differ struct {
	d       *FileDiff
	depth   int
	content bool
	// entries are the differences to list, before ordering and trimming.
	entries []DiffEntry
	// rolled maps each directory added or removed whole to the index in
	// entries of the outermost such directory it lies in (itself, at the
	// top), which stands for every path beneath.
	rolled map[string]int
	// dirs are the roll-up rows by directory; bytesA and bytesB the
	// regular-file bytes each row covers in each filesystem (kept for
	// every row, whether it has differences or not).
	dirs           map[string]*DiffDir
	bytesA, bytesB map[string]int64
}

// one records fi, a path present on one side only: added (in B) or
// removed (in A).
func (x *differ) one(change string, fi FileInfo) {
	n := regularBytes(fi.Entry)
	total, sign := &x.d.Added, int64(1)
	if change == Removed {
		total, sign = &x.d.Removed, -1
	}
	total.Files++
	total.Bytes += n
	x.row(fi.Path).count(change)

	parent := ""
	if j := strings.LastIndexByte(fi.Path, '/'); j >= 0 {
		parent = fi.Path[:j]
	}
	// A parent comes before its children, so a directory added or removed
	// whole is in rolled before anything under it is seen. (The root is
	// not an entry: parent "" is never in rolled.)
	if i, ok := x.rolled[parent]; ok {
		e := &x.entries[i]
		e.Subtree.Files++
		e.Subtree.Bytes += n
		e.Delta += sign * n
		if fi.Type == files.Dir {
			x.rolled[fi.Path] = i
		}
		return
	}
	e := DiffEntry{Path: fi.Path, Change: change, Delta: sign * n}
	if change == Removed {
		e.A = &fi
	} else {
		e.B = &fi
	}
	if fi.Type == files.Dir {
		x.rolled[fi.Path] = len(x.entries)
	}
	x.entries = append(x.entries, e)
}

// both records the path of a and b (equal) when it changed.
func (x *differ) both(a, b FileInfo) error {
	fields, err := changes(a.Entry, b.Entry, x.content)
	if err != nil || len(fields) == 0 {
		return err
	}
	nb := regularBytes(b.Entry)
	x.d.Changed.Files++
	x.d.Changed.Bytes += nb
	x.row(a.Path).count(Changed)
	x.entries = append(x.entries, DiffEntry{
		Path: a.Path, Change: Changed, A: &a, B: &b,
		Delta: nb - regularBytes(a.Entry), Fields: fields,
	})
	return nil
}

// changes names the fields in which a and b, entries at one path, differ.
func changes(a, b files.Entry, content bool) ([]string, error) {
	var fields []string
	if a.Type != b.Type {
		fields = append(fields, "type")
	}
	if a.Size != b.Size {
		fields = append(fields, "size")
	}
	if a.Mode != b.Mode && !implied(a) && !implied(b) {
		fields = append(fields, "mode")
	}
	if a.Linkname != b.Linkname {
		fields = append(fields, "link")
	}
	// Content is compared where the size cannot tell: two regular files of
	// equal size (an empty file has one content).
	if content && a.Type == files.Regular && b.Type == files.Regular && a.Size == b.Size && a.Size > 0 {
		for _, e := range []files.Entry{a, b} {
			if e.Digest == "" {
				return nil, fmt.Errorf("file diff: comparing the content of %s: no content digest (the layers were read without content digests)", e.Path)
			}
		}
		if a.Digest != b.Digest {
			fields = append(fields, "content")
		}
	}
	return fields, nil
}

// implied reports whether e is a directory no layer described, which
// Filesystem gives Mode 0.
func implied(e files.Entry) bool { return e.Type == files.Dir && e.Mode == 0 }

// dirOf returns the directory path p rolls up to: the directory holding
// it, cut to the first x.depth components ("" is the root).
func (x *differ) dirOf(p string) string {
	j := strings.LastIndexByte(p, '/')
	if j < 0 {
		return ""
	}
	dir := p[:j]
	n := 0
	for i := 0; i < len(dir); i++ {
		if dir[i] == '/' {
			if n++; n == x.depth {
				return dir[:i]
			}
		}
	}
	return dir
}

// row returns the roll-up row of path p's directory.
func (x *differ) row(p string) *DiffDir {
	dir := x.dirOf(p)
	r := x.dirs[dir]
	if r == nil {
		r = &DiffDir{Path: dir}
		x.dirs[dir] = r
	}
	return r
}

func (r *DiffDir) count(change string) {
	switch change {
	case Added:
		r.Added++
	case Removed:
		r.Removed++
	case Changed:
		r.Changed++
	}
}

// finish orders and trims the entries and rows.
func (x *differ) finish(top int) *FileDiff {
	d := x.d
	slices.SortFunc(x.entries, func(a, b DiffEntry) int { return byDelta(a.Delta, b.Delta, a.Path, b.Path) })
	if len(x.entries) > 0 {
		// A copy, so the differences not listed are not kept alive.
		d.Entries = slices.Clone(x.entries[:min(top, len(x.entries))])
	}
	for _, r := range x.dirs {
		r.BytesA, r.BytesB = x.bytesA[r.Path], x.bytesB[r.Path]
		r.Delta = r.BytesB - r.BytesA
		d.Dirs = append(d.Dirs, *r)
	}
	slices.SortFunc(d.Dirs, func(a, b DiffDir) int { return byDelta(a.Delta, b.Delta, a.Path, b.Path) })
	if len(d.Dirs) > top {
		d.Dirs = slices.Clone(d.Dirs[:top])
	}
	return d
}

// byDelta orders the largest |delta| first, then by path.
func byDelta(da, db int64, pa, pb string) int {
	return cmp.Or(cmp.Compare(abs(db), abs(da)), strings.Compare(pa, pb))
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
