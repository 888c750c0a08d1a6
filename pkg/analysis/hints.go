package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/files"
)

// The hints Files gives (Hint.ID). IDs are stable: tools may key on them.
const (
	// HintToolchain: a compiler toolchain (Go, gcc, a JDK, Rust) in the
	// final filesystem.
	HintToolchain = "toolchain-in-runtime"
	// HintPackageCache: package managers' caches and lists (apt, apk,
	// yum, dnf, pip, npm, yarn, the Go build cache) in the final
	// filesystem.
	HintPackageCache = "package-manager-cache"
	// HintDeleted: bytes a later layer deleted, shipped all the same.
	HintDeleted = "deleted-in-later-layer"
	// HintSuperseded: copies a later layer wrote over.
	HintSuperseded = "superseded-in-later-layer"
	// HintDuplicate: the same content at several paths of the final
	// filesystem (only with content digests).
	HintDuplicate = "duplicate-content"
)

// hintPaths is how many paths a hint lists.
const hintPaths = 5

// hints recognises bloat in fs and in what later layers hid (rcs), largest
// first. A hint that would save nothing is not given.
func hints(fs *Filesystem, rcs []reclaimCause) []Hint {
	var hs []Hint
	for _, h := range []*Hint{
		toolchainHint(fs),
		packageCacheHint(fs),
		reclaimHint(rcs, Deleted, HintDeleted, "Files deleted in a later layer are still shipped",
			"delete files in the same RUN step that creates them (or use a multistage build); a later layer's delete hides files but still ships them"),
		reclaimHint(rcs, Superseded, HintSuperseded, "Files overwritten in a later layer are shipped twice",
			"write the file once, in its final form; chmod/chown in a later layer copies the whole file (use COPY --chmod/--chown)"),
		duplicateHint(fs),
	} {
		if h != nil && h.Bytes > 0 {
			hs = append(hs, *h)
		}
	}
	slices.SortStableFunc(hs, func(a, b Hint) int { return cmp.Compare(b.Bytes, a.Bytes) })
	return hs
}

// weighted is a path and its bytes, for listing the largest first.
type weighted struct {
	path  string
	bytes int64
}

// topPaths returns the paths of ws, largest first (then by path), at most
// hintPaths of them.
func topPaths(ws []weighted) []string {
	slices.SortFunc(ws, func(a, b weighted) int {
		return cmp.Or(cmp.Compare(b.bytes, a.bytes), strings.Compare(a.path, b.path))
	})
	var ps []string
	for _, w := range ws[:min(hintPaths, len(ws))] {
		ps = append(ps, w.path)
	}
	return ps
}

// sortedLayers returns the set's layer indexes in order.
func sortedLayers(set map[int]bool) []int { return slices.Sorted(maps.Keys(set)) }

// subtreeLayers adds to set the layers that wrote the regular files, with
// bytes, under directory p of fs.
func (fs *Filesystem) subtreeLayers(p string, set map[int]bool) {
	var walk func(n *fsNode)
	walk = func(n *fsNode) {
		for _, c := range n.children {
			if c.children != nil {
				walk(c)
			} else if regularBytes(c.info.Entry) > 0 {
				set[c.info.Layer] = true
			}
		}
	}
	if n := fs.node(p); n != nil && n.children != nil {
		walk(n)
	}
}

// toolchain is a compiler toolchain's root directory and what it is.
type toolchain struct {
	root, kind string
}

// toolchainBinaries names, for each compiler executable found at DIR/bin/NAME
// (a regular file or hard link: a symlink such as /usr/bin/javac points at
// the real one), the kind of toolchain DIR is.
var toolchainBinaries = map[string]string{"go": "Go", "javac": "JDK", "rustc": "Rust"}

// gccRoots are where gcc keeps its compilers proper (cc1, cc1plus).
var gccRoots = []string{"usr/lib/gcc", "usr/libexec/gcc"}

// findToolchains returns the outermost toolchain roots of fs. A Go root is
// usr/local/go with bin/go, or any directory holding bin/go and pkg/tool;
// a JDK any directory with bin/javac; Rust any with bin/rustc, and any
// .rustup directory; gcc usr/lib/gcc or usr/libexec/gcc when a cc1 or
// cc1plus is beneath. The root, usr and usr/local are never roots: a
// compiler there is not a toolchain directory that could be dropped whole.
func findToolchains(fs *Filesystem) []toolchain {
	found := map[string]string{}
	fs.Walk(func(fi FileInfo) {
		dir, name := splitPath(fi.Path)
		if fi.Type == files.Dir && name == ".rustup" {
			found[fi.Path] = "Rust"
			return
		}
		if fi.Type != files.Regular && fi.Type != files.Hardlink {
			return
		}
		if name == "cc1" || name == "cc1plus" {
			for _, r := range gccRoots {
				if strings.HasPrefix(fi.Path, r+"/") {
					found[r] = "gcc"
				}
			}
			return
		}
		kind, ok := toolchainBinaries[name]
		if !ok || path.Base(dir) != "bin" {
			return
		}
		root, _ := splitPath(dir)
		if root == "" || root == "usr" || root == "usr/local" {
			return
		}
		if kind == "Go" && root != "usr/local/go" {
			if n := fs.node(root + "/pkg/tool"); n == nil || n.children == nil {
				return
			}
		}
		found[root] = kind
	})
	var ts []toolchain
	for _, root := range slices.Sorted(maps.Keys(found)) {
		// Sorted, an enclosing root comes just before what it encloses.
		if len(ts) > 0 && strings.HasPrefix(root, ts[len(ts)-1].root+"/") {
			continue
		}
		ts = append(ts, toolchain{root: root, kind: found[root]})
	}
	return ts
}

func toolchainHint(fs *Filesystem) *Hint {
	ts := findToolchains(fs)
	if len(ts) == 0 {
		return nil
	}
	h := &Hint{
		ID:  HintToolchain,
		Fix: "build in a separate stage (multistage build) and copy only the built artifacts into a runtime base such as distroless/static, alpine or scratch",
	}
	var ws []weighted
	var kinds []string
	set := map[int]bool{}
	for _, t := range ts {
		b, _ := fs.dirTotals(t.root)
		h.Bytes += b
		ws = append(ws, weighted{t.root, b})
		if !slices.Contains(kinds, t.kind) {
			kinds = append(kinds, t.kind)
		}
		fs.subtreeLayers(t.root, set)
	}
	h.Title = fmt.Sprintf("Compiler toolchain in the final image (%s)", strings.Join(kinds, ", "))
	h.Paths = topPaths(ws)
	h.Layers = sortedLayers(set)
	return h
}

// packageCache is a package manager's cache or list directory.
type packageCache struct {
	// path is under the root, or with home set under each home/USER.
	path string
	home bool
	// manager names the manager; fix is how to not ship its cache.
	manager, fix string
}

var packageCaches = []packageCache{
	{path: "var/lib/apt/lists", manager: "apt", fix: "rm -rf /var/lib/apt/lists/* in the same RUN as apt-get install"},
	{path: "var/cache/apt", manager: "apt", fix: "apt-get clean in the same RUN as apt-get install, or a cache mount (RUN --mount=type=cache,target=/var/cache/apt)"},
	{path: "var/cache/apk", manager: "apk", fix: "apk add --no-cache"},
	{path: "var/cache/yum", manager: "yum", fix: "yum clean all && rm -rf /var/cache/yum in the same RUN as yum install"},
	{path: "var/cache/dnf", manager: "dnf", fix: "dnf clean all in the same RUN as dnf install"},
	{path: "root/.cache/pip", manager: "pip", fix: "pip install --no-cache-dir"},
	{path: ".cache/pip", home: true, manager: "pip", fix: "pip install --no-cache-dir"},
	{path: "root/.npm", manager: "npm", fix: "npm ci && npm cache clean --force"},
	{path: ".npm", home: true, manager: "npm", fix: "npm ci && npm cache clean --force"},
	{path: "usr/local/share/.cache/yarn", manager: "yarn", fix: "yarn install && yarn cache clean in the same RUN"},
	{path: "root/.cache/yarn", manager: "yarn", fix: "yarn install && yarn cache clean in the same RUN"},
	{path: ".cache/yarn", home: true, manager: "yarn", fix: "yarn install && yarn cache clean in the same RUN"},
	{path: "root/.cache/go-build", manager: "go", fix: "go build with a cache mount (RUN --mount=type=cache,target=/root/.cache/go-build) or clear /root/.cache/go-build in the same RUN"},
	{path: ".cache/go-build", home: true, manager: "go", fix: "go build with a cache mount (RUN --mount=type=cache,target=/root/.cache/go-build) or clear the build cache in the same RUN"},
}

func packageCacheHint(fs *Filesystem) *Hint {
	type hit struct {
		path  string
		bytes int64
		fix   string
	}
	var hits []hit
	for _, c := range packageCaches {
		ps := []string{c.path}
		if c.home {
			ps = nil
			if home := fs.node("home"); home != nil {
				for _, user := range slices.Sorted(maps.Keys(home.children)) {
					ps = append(ps, "home/"+user+"/"+c.path)
				}
			}
		}
		for _, p := range ps {
			if b, _ := fs.dirTotals(p); b > 0 {
				hits = append(hits, hit{p, b, c.fix})
			}
		}
	}
	if len(hits) == 0 {
		return nil
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.bytes, a.bytes) })
	h := &Hint{ID: HintPackageCache, Title: "Package-manager caches and lists in the final image"}
	var ws []weighted
	var fixes []string
	set := map[int]bool{}
	for _, x := range hits {
		h.Bytes += x.bytes
		ws = append(ws, weighted{x.path, x.bytes})
		if !slices.Contains(fixes, x.fix) {
			fixes = append(fixes, x.fix)
		}
		fs.subtreeLayers(x.path, set)
	}
	h.Paths = topPaths(ws)
	h.Layers = sortedLayers(set)
	h.Fix = strings.Join(fixes, "; ")
	return h
}

// reclaimHint rolls the reclaimable copies of one kind up by the path
// that caused them (a deleted directory, not each file in it).
func reclaimHint(rcs []reclaimCause, why, id, title, fix string) *Hint {
	h := &Hint{ID: id, Title: title, Fix: fix}
	byCause := map[string]int64{}
	set := map[int]bool{}
	for _, rc := range rcs {
		if rc.Why != why {
			continue
		}
		h.Bytes += rc.Bytes
		byCause[rc.cause] += rc.Bytes
		set[rc.Layer] = true
	}
	var ws []weighted
	for p, b := range byCause {
		ws = append(ws, weighted{p, b})
	}
	h.Paths = topPaths(ws)
	h.Layers = sortedLayers(set)
	return h
}

// duplicateHint finds regular files of fs with equal content digests. Of
// each set of copies the one written by the lowest layer (then the first
// path) is kept; the others are what the hint saves.
func duplicateHint(fs *Filesystem) *Hint {
	byDigest := map[string][]FileInfo{}
	fs.Walk(func(fi FileInfo) {
		if fi.Type == files.Regular && fi.Digest != "" && fi.Size > 0 {
			byDigest[fi.Digest] = append(byDigest[fi.Digest], fi)
		}
	})
	h := &Hint{ID: HintDuplicate, Title: "The same content at several paths", Fix: "keep one copy and link or reference it"}
	var ws []weighted
	set := map[int]bool{}
	for _, copies := range byDigest {
		if len(copies) < 2 {
			continue
		}
		// Walk gave them in path order; keep the lowest layer's first.
		lowest := slices.MinFunc(copies, func(a, b FileInfo) int { return cmp.Compare(a.Layer, b.Layer) }).Layer
		keep := slices.IndexFunc(copies, func(fi FileInfo) bool { return fi.Layer == lowest })
		for i, fi := range copies {
			if i == keep {
				continue
			}
			h.Bytes += fi.Size
			ws = append(ws, weighted{fi.Path, fi.Size})
			set[fi.Layer] = true
		}
	}
	h.Paths = topPaths(ws)
	h.Layers = sortedLayers(set)
	return h
}
