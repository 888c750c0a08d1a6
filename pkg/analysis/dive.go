package analysis

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/files"
)

// This file computes dive's figures exactly as dive v0.13.1 does
// (dive/filetree/efficiency.go, file_tree.go, file_node.go and
// dive/image/docker/image_archive.go), working from files.Layer entries,
// whose whiteouts are already decoded: it rebuilds the tree dive builds
// from each layer's tar and walks it as dive does. The facts it mirrors:
//
//   - dive builds one tree per layer from the layer's own tar entries,
//     their names cleaned and "." skipped. A path's missing parents become
//     nodes with an empty payload (not a directory, size 0) until an entry
//     of their own sets it. A whiteout ".wh.NAME" is a node named so; an
//     opaque marker ".wh..wh..opq" is no node at all, but the directories
//     above it are made as for any path.
//   - A layer's size is the sum of its tar entries' header sizes
//     (whiteouts and markers included, "." not).
//   - Efficiency visits each layer's tree depth-first, children before
//     parents, siblings by name, and only its leaves. A leaf's path is
//     its names joined, ".wh." dropped from its own name. Its size is its
//     header size; a whiteout's is the total size of every node beneath
//     and at that path in the layers below stacked (see diveStack) if the
//     node there is a directory, else 0. If that path is not in the layers
//     below, dive's visitor fails and the rest of that layer's walk is
//     skipped.
//   - Per path dive sums the sizes seen (cumulative) and keeps the least;
//     a path seen twice or more is an inefficiency worth its cumulative
//     size, the copy kept included (dive#684). Efficiency is Σ least ÷ Σ
//     cumulative over every path seen (1 when that is 0).
//   - The layers below are stacked as dive's StackTreeRange(trees, 0,
//     i-1) does: a copy of the first layer's tree, then each layer from
//     the first to i-1 grafted on (so the first twice).
//   - dive records a leaf's path before sizing it: a whiteout whose path
//     the layers below lack leaves its path recorded with no size seen and
//     a least size of -1, which counts in Σ least unless a later leaf at
//     that path sets it.
//
//   - Grafting sets a path's payload from every node of the upper tree,
//     an implied parent's empty one included: a directory that a later
//     layer only implies is no longer a directory to dive, and its
//     whiteout weighs 0.
//
// Dive does not honour opaque markers when stacking, and keeps a
// directory's children when a file replaces it; this file does the same.
// The stack grows by one layer at a time instead of being rebuilt for
// every whiteout, so the cost stays near-linear in the entries.
//
// What files.Read does not keep, this cannot see: a header size on a
// non-regular entry (files.Entry.Size is 0 there; tar writers set none)
// and AUFS's ".wh..wh.*" bookkeeping entries, which dive counts as
// files. On images with either, dive's figures may differ.

const (
	diveWhiteoutPrefix       = ".wh."
	diveDoubleWhiteoutPrefix = ".wh..wh.."
	diveOpaqueName           = ".wh..wh..opq"
)

// diveNode is a node of one of dive's trees.
type diveNode struct {
	children map[string]*diveNode
	size     int64
	isDir    bool
}

// errDiveMissing: a whiteout names a path the layers below lack, on which
// dive's walk of a layer stops.
var errDiveMissing = errors.New("whiteout of a path the layers below lack")

// diveTarPath is the tar name dive saw for e, cleaned and relative ("" for
// the root, which dive skips). e.Path is already clean, and is used as it
// is, as dive uses the name (a "../x" stays one).
func diveTarPath(e files.Entry) string {
	p := e.Path
	if p == "." {
		p = ""
	}
	switch {
	case e.Opaque:
		if p == "" {
			return diveOpaqueName
		}
		return p + "/" + diveOpaqueName
	case e.Whiteout:
		dir, name := splitPath(p)
		if dir == "" {
			return diveWhiteoutPrefix + name
		}
		return dir + "/" + diveWhiteoutPrefix + name
	}
	return p
}

// diveLayerTree is the tree dive builds for layer l, and the layer's size.
func diveLayerTree(l files.Layer) (*diveNode, int64) {
	root := &diveNode{}
	var size int64
	for _, e := range l.Entries {
		p := diveTarPath(e)
		if p == "" {
			continue // dive skips "."
		}
		size += e.Size
		root.addPath(p, e.Size, e.Type == files.Dir)
	}
	return root, size
}

// addPath is dive's FileTree.AddPath: missing parents get an empty
// payload; a missing name starting ".wh..wh.." ends the walk unadded; the
// payload goes to the last name.
func (t *diveNode) addPath(p string, size int64, isDir bool) {
	n := t
	// Name by name without splitting p: a slice of names for every path
	// was a tenth of what a file analysis allocated.
	for rest, more := p, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, "/")
		if name == "" {
			continue
		}
		c := n.children[name]
		if c == nil {
			if strings.HasPrefix(name, diveDoubleWhiteoutPrefix) {
				return
			}
			c = &diveNode{}
			if n.children == nil {
				n.children = map[string]*diveNode{}
			}
			n.children[name] = c
		}
		n = c
		if !more {
			n.size, n.isDir = size, isDir
		}
	}
}

func (t *diveNode) get(p string) *diveNode {
	n := t
	for name := range strings.SplitSeq(p, "/") {
		if name == "" {
			continue
		}
		if n = n.children[name]; n == nil {
			return nil
		}
	}
	return n
}

func (t *diveNode) removePath(p string) {
	dir, name := splitPath(p)
	if d := t.get(dir); d != nil {
		delete(d.children, name)
	}
}

// subtreeSize is the sum of the sizes of n and every node beneath it.
func (n *diveNode) subtreeSize() int64 {
	s := n.size
	for _, c := range n.children {
		s += c.subtreeSize()
	}
	return s
}

// visit walks the tree under n as dive's VisitDepthChildFirst does:
// siblings by name, children before their parent, the root never. fn gets
// the node's path (".wh." dropped from its own name, as dive's Path does)
// and whether it is a whiteout; an error from fn ends the walk.
func (n *diveNode) visit(dir string, fn func(p string, whiteout bool, n *diveNode) error) error {
	for _, name := range slices.Sorted(maps.Keys(n.children)) {
		c := n.children[name]
		raw := name
		if dir != "" {
			raw = dir + "/" + name
		}
		if err := c.visit(raw, fn); err != nil {
			return err
		}
		whiteout := strings.HasPrefix(name, diveWhiteoutPrefix)
		p := raw
		if whiteout {
			p = strings.TrimSuffix(raw, name) + strings.TrimPrefix(name, diveWhiteoutPrefix)
		}
		if err := fn(p, whiteout, c); err != nil {
			return err
		}
	}
	return nil
}

// diveStack grafts upper onto lower as dive's FileTree.Stack does: every
// node of upper, children first; a whiteout removes its path, anything
// else is added with its payload (implied parents' empty one included).
func diveStack(lower, upper *diveNode) {
	_ = upper.visit("", func(p string, whiteout bool, n *diveNode) error {
		if whiteout {
			lower.removePath(p)
		} else {
			lower.addPath(p, n.size, n.isDir)
		}
		return nil
	})
}

// diveStats computes dive's figures for layers ls and returns each
// layer's size as dive counts it.
func diveStats(ls []files.Layer) (DiveStats, []int64) {
	type seen struct {
		cumulative, least int64
		count             int
	}
	paths := map[string]*seen{}
	sizes := make([]int64, len(ls))
	var st DiveStats
	var below *diveNode
	for i, l := range ls {
		tree, size := diveLayerTree(l)
		sizes[i] = size
		st.SizeBytes += size
		if i > 0 {
			st.UserSizeBytes += size
		}
		if i == 0 {
			// StackTreeRange(trees, 0, -1): a copy of the first tree.
			below, _ = diveLayerTree(l)
		}
		// The error only ends this layer's walk, as in dive.
		_ = tree.visit("", func(p string, whiteout bool, n *diveNode) error {
			if len(n.children) > 0 {
				return nil // dive visits leaves only
			}
			// dive records the path before it sizes a whiteout, so a
			// path whose whiteout fails stays recorded with nothing seen
			// and a least size of -1.
			s := paths[p]
			if s == nil {
				s = &seen{least: -1}
				paths[p] = s
			}
			size := n.size
			if whiteout {
				prev := below.get(p)
				if prev == nil {
					return errDiveMissing
				}
				size = 0
				if prev.isDir {
					size = prev.subtreeSize()
				}
			}
			s.cumulative += size
			if s.least < 0 || size < s.least {
				s.least = size
			}
			s.count++
			return nil
		})
		diveStack(below, tree)
	}

	var least, cumulative int64
	for p, s := range paths {
		least += s.least
		cumulative += s.cumulative
		if s.count >= 2 {
			st.Inefficiencies = append(st.Inefficiencies, Inefficiency{Path: p, Count: s.count, Bytes: s.cumulative})
			st.WastedBytes += s.cumulative
		}
	}
	st.Efficiency = 1
	if cumulative != 0 {
		st.Efficiency = float64(least) / float64(cumulative)
	}
	if st.UserSizeBytes != 0 {
		st.UserWastedPercent = float64(st.WastedBytes) / float64(st.UserSizeBytes)
	}
	slices.SortFunc(st.Inefficiencies, func(a, b Inefficiency) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path))
	})
	return st, sizes
}
