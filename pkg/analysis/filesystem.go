package analysis

import (
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/imgsize/imgsize/pkg/files"
)

// Filesystem is an image's final filesystem: its layers applied in order,
// whiteouts and opaque markers honoured, as the OCI image spec's "Applying
// changesets" says. For each layer, first its opaque markers (which remove
// everything the layers below put under a directory; the directory stays)
// and its whiteouts (which remove a path and everything under it), then its
// entries in tar order: an entry at an existing path replaces it; a
// non-directory replacing a directory removes the directory's subtree; a
// directory over a directory keeps the children. A path whose parent is
// missing, or is not a directory, gets an implied directory there.
//
// A Filesystem is immutable once made and safe for concurrent use.
type Filesystem struct {
	root *fsNode
	// entries and bytes: the totals of the whole tree.
	total Count

	sortOnce sync.Once
	sorted   []*fsNode
}

// fsNode is one path of a Filesystem. Deleting a subtree is dropping one
// map entry (and, when recording, visiting what it held), never a scan of
// all paths.
type fsNode struct {
	info FileInfo
	// children is non-nil exactly for directories.
	children map[string]*fsNode
	// counted is 1 + the layer that last counted this path in its Added or
	// Changed (so a path written twice in one layer counts once); added
	// says in which of the two.
	counted int
	added   bool
	// bytes and files are a directory's totals of regular files beneath
	// it, set when the filesystem is complete.
	bytes int64
	files int
	// ino is the content a regular file or hard link names: the bytes are
	// the filesystem's until the last path naming them goes.
	ino *inode
}

// inode is one regular file's content, shared by its hard links.
type inode struct {
	bytes int64
	refs  int
	// paths name it, for finish to put the bytes on a surviving one.
	paths map[*fsNode]bool
}

func (a *applier) link(n *fsNode) {
	switch n.info.Type {
	case files.Regular:
		n.ino = &inode{bytes: n.info.Size, paths: map[*fsNode]bool{}}
	case files.Hardlink:
		// A hard link names an entry of its own layer's tar; the content
		// is that entry's, whichever path keeps it later.
		t := a.fs.node(cleanPath(n.info.Linkname))
		if t == nil || t.ino == nil {
			return
		}
		n.ino = t.ino
	default:
		return
	}
	n.ino.refs++
	n.ino.paths[n] = true
}

// unlink drops n's name for its content and reports the bytes freed: all
// of them when n was the last name, none while another link keeps them.
func (a *applier) unlink(n *fsNode) int64 {
	if n.ino == nil {
		return 0
	}
	ino := n.ino
	n.ino = nil
	delete(ino.paths, n)
	ino.refs--
	if ino.refs > 0 {
		return 0
	}
	return ino.bytes
}

// NewFilesystem applies ls in order and returns the final filesystem.
func NewFilesystem(ls []files.Layer) *Filesystem {
	a := newApplier(nil)
	for i, l := range ls {
		a.apply(i, l)
	}
	return a.finish()
}

// Walk calls fn for every entry of the final filesystem in lexical order of
// their paths, as strings compare ("a" < "a-b" < "a/c"), so a parent comes
// before its children and two walks can be merged by comparing paths with
// <. Directories implied by a deeper path but never given an entry of their
// own appear with Type files.Dir, Mode 0, and Layer the layer that first
// implied them. The root itself is not an entry.
func (fs *Filesystem) Walk(fn func(FileInfo)) {
	fs.sortOnce.Do(func() {
		fs.sorted = make([]*fsNode, 0, fs.total.Files)
		var collect func(n *fsNode)
		collect = func(n *fsNode) {
			for _, c := range n.children {
				fs.sorted = append(fs.sorted, c)
				collect(c)
			}
		}
		collect(fs.root)
		slices.SortFunc(fs.sorted, func(a, b *fsNode) int { return strings.Compare(a.info.Path, b.info.Path) })
	})
	for _, n := range fs.sorted {
		fn(n.info)
	}
}

// Lookup returns the entry at path ("usr/bin/env"; a leading "/" is
// ignored). The root is not an entry.
func (fs *Filesystem) Lookup(path string) (FileInfo, bool) {
	n := fs.node(cleanPath(path))
	if n == nil || n == fs.root {
		return FileInfo{}, false
	}
	return n.info, true
}

// Totals returns the number of entries of the final filesystem and the
// bytes of its regular files (a hard link counts 0: its target holds them).
func (fs *Filesystem) Totals() Count { return fs.total }

// node returns the node at p (clean, relative; "" is the root), or nil.
func (fs *Filesystem) node(p string) *fsNode {
	n := fs.root
	if p == "" {
		return n
	}
	for name := range strings.SplitSeq(p, "/") {
		if n = n.children[name]; n == nil {
			return nil
		}
	}
	return n
}

// dirTotals returns the regular-file bytes and count beneath p, a
// directory of the filesystem; zero when p is not one.
func (fs *Filesystem) dirTotals(p string) (int64, int) {
	n := fs.node(p)
	if n == nil || n.children == nil {
		return 0, 0
	}
	return n.bytes, n.files
}

// cleanPath makes p relative and clean: "/usr//bin/" is "usr/bin", "/"
// and "." are "" (the root).
func cleanPath(p string) string {
	p = path.Clean("/" + p)
	return p[1:]
}

// regularBytes is what an entry holds: a regular file's size, 0 for
// anything else. A hard link's bytes belong to its target; when the target
// is gone and a link keeps the content, finish gives the link the bytes
// (its Size), so it counts them then.
func regularBytes(e files.Entry) int64 {
	if e.Type == files.Regular || e.Type == files.Hardlink {
		return e.Size
	}
	return 0
}

// reclaimCause is a Reclaim with the path whose whiteout, opaque marker or
// new entry caused it (a deleted directory, not each file in it), which
// hints roll up by.
type reclaimCause struct {
	Reclaim
	cause string
}

// recorder collects, while layers are applied, what each did: the counts
// of LayerFiles and the copies a later layer superseded or deleted.
type recorder struct {
	layers   []LayerFiles
	reclaims []reclaimCause
}

// applier applies layers to a Filesystem, recording into rec when set.
type applier struct {
	fs  *Filesystem
	rec *recorder
}

func newApplier(rec *recorder) *applier {
	return &applier{fs: &Filesystem{root: &fsNode{children: map[string]*fsNode{}}}, rec: rec}
}

// apply applies layer i: its opaque markers and whiteouts first, then its
// entries in order.
func (a *applier) apply(i int, l files.Layer) {
	for _, e := range l.Entries {
		if !e.Opaque {
			continue
		}
		p := cleanPath(e.Path)
		d := a.fs.node(p)
		if d == nil || d.children == nil {
			continue
		}
		for name := range d.children {
			a.remove(d, name, i, Deleted, p)
		}
	}
	for _, e := range l.Entries {
		if !e.Whiteout || e.Opaque {
			continue
		}
		p := cleanPath(e.Path)
		if p == "" {
			continue
		}
		dir, name := splitPath(p)
		if d := a.fs.node(dir); d != nil && d.children[name] != nil {
			a.remove(d, name, i, Deleted, p)
		}
	}
	for _, e := range l.Entries {
		p := cleanPath(e.Path)
		switch {
		case e.Opaque:
			// The marker lives in its directory: the directory exists.
			a.mkdirs(p, i)
		case e.Whiteout, p == "":
			// The root is not an entry.
		default:
			a.put(p, e, i)
		}
	}
}

// splitPath splits a clean relative path into its directory ("" for the
// root) and base name.
func splitPath(p string) (dir, name string) {
	if j := strings.LastIndexByte(p, '/'); j >= 0 {
		return p[:j], p[j+1:]
	}
	return "", p
}

// put writes entry e of layer i at p.
func (a *applier) put(p string, e files.Entry, i int) {
	dir, name := splitPath(p)
	parent := a.mkdirs(dir, i)
	e.Path = p
	info := FileInfo{Entry: e, Layer: i}
	old := parent.children[name]
	if old == nil {
		n := &fsNode{info: info}
		if e.Type == files.Dir {
			n.children = map[string]*fsNode{}
		}
		parent.children[name] = n
		a.link(n)
		a.fs.total.Files++
		a.fs.total.Bytes += regularBytes(e)
		a.countAdded(n, i)
		return
	}
	a.replace(old, info, i, p)
}

// replace overwrites node n with info, written by layer i (cause is the
// path written).
func (a *applier) replace(n *fsNode, info FileInfo, i int, cause string) {
	newDir := info.Type == files.Dir
	if n.children != nil && !newDir {
		for name := range n.children {
			a.remove(n, name, i, Superseded, cause)
		}
		n.children = nil
	}
	freed := a.unlink(n)
	a.reclaimBytes(n.info, freed, i, Superseded, cause)
	oldBytes, newBytes := regularBytes(n.info.Entry), regularBytes(info.Entry)
	a.fs.total.Bytes += newBytes - freed
	n.info = info
	a.link(n)
	if newDir && n.children == nil {
		n.children = map[string]*fsNode{}
	}
	if a.rec == nil {
		return
	}
	lf := &a.rec.layers[i]
	switch {
	case n.counted == i+1 && n.added:
		lf.Added.Bytes += newBytes - oldBytes
	case n.counted == i+1:
		lf.Changed.Bytes += newBytes - oldBytes
	default:
		n.counted, n.added = i+1, false
		lf.Changed.Files++
		lf.Changed.Bytes += newBytes
	}
}

// mkdirs returns the directory at p, making it and its parents where
// missing (or not directories) as implied directories of layer i.
func (a *applier) mkdirs(p string, i int) *fsNode {
	n := a.fs.root
	if p == "" {
		return n
	}
	end := 0
	for end < len(p) {
		next := strings.IndexByte(p[end:], '/')
		if next < 0 {
			next = len(p)
		} else {
			next += end
		}
		name, sub := p[end:next], p[:next]
		end = next + 1
		c := n.children[name]
		switch {
		case c == nil:
			c = &fsNode{info: impliedDir(sub, i), children: map[string]*fsNode{}}
			n.children[name] = c
			a.fs.total.Files++
			a.countAdded(c, i)
		case c.children == nil:
			a.replace(c, impliedDir(sub, i), i, sub)
		}
		n = c
	}
	return n
}

func impliedDir(p string, i int) FileInfo {
	return FileInfo{Entry: files.Entry{Path: p, Type: files.Dir}, Layer: i}
}

func (a *applier) countAdded(n *fsNode, i int) {
	if a.rec == nil {
		return
	}
	n.counted, n.added = i+1, true
	lf := &a.rec.layers[i]
	lf.Added.Files++
	lf.Added.Bytes += regularBytes(n.info.Entry)
}

// remove takes parent's child name and everything under it out of the
// filesystem, removed by layer i for why (Deleted: a whiteout or opaque
// marker at cause; Superseded: an entry written at cause).
func (a *applier) remove(parent *fsNode, name string, i int, why, cause string) {
	n := parent.children[name]
	delete(parent.children, name)
	var drop func(n *fsNode)
	drop = func(n *fsNode) {
		for _, c := range n.children {
			drop(c)
		}
		// Bytes a hard link still names stay in the filesystem.
		b := a.unlink(n)
		a.fs.total.Files--
		a.fs.total.Bytes -= b
		if a.rec != nil && why == Deleted {
			lf := &a.rec.layers[i]
			lf.Deleted.Files++
			lf.Deleted.Bytes += b
		}
		a.reclaimBytes(n.info, b, i, why, cause)
	}
	drop(n)
}

// reclaimBytes records that layer i hid b bytes of info's content (0 when
// a hard link still names it).
func (a *applier) reclaimBytes(info FileInfo, b int64, i int, why, cause string) {
	if a.rec == nil || b == 0 {
		return
	}
	a.rec.reclaims = append(a.rec.reclaims, reclaimCause{
		Reclaim: Reclaim{Path: info.Path, Bytes: b, Layer: info.Layer, By: i, Why: why},
		cause:   cause,
	})
}

// finish completes the filesystem: content whose file is gone but which a
// hard link keeps is put on one surviving link (the first by path), then
// each directory's totals.
func (a *applier) finish() *Filesystem {
	var relink func(n *fsNode)
	relink = func(n *fsNode) {
		for _, c := range n.children {
			relink(c)
		}
		if n.ino == nil || n.info.Type != files.Hardlink || n.ino.bytes == 0 {
			return
		}
		for p := range n.ino.paths {
			if p.info.Type == files.Regular || p.info.Size > 0 {
				return // a file, or a link chosen already, holds the bytes
			}
		}
		first := n
		for p := range n.ino.paths {
			if p.info.Path < first.info.Path {
				first = p
			}
		}
		first.info.Size = n.ino.bytes
	}
	relink(a.fs.root)
	var sum func(n *fsNode)
	sum = func(n *fsNode) {
		n.bytes, n.files = 0, 0
		for _, c := range n.children {
			if c.children != nil {
				sum(c)
				n.bytes += c.bytes
				n.files += c.files
			} else if b := regularBytes(c.info.Entry); c.info.Type == files.Regular || b > 0 {
				n.bytes += b
				n.files++
			}
		}
	}
	sum(a.fs.root)
	return a.fs
}
