package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/packages"
)

// Limits of the capture PackageCapture asks for: the largest file read
// (a Go binary up to packages.MaxGoBinary, a Java archive up to
// packages.MaxJar, the same) and the most bytes kept.
const (
	packageCaptureFile  = packages.MaxGoBinary
	packageCaptureTotal = 512 << 20
)

// PackageCapture is the files.Capture that Packages needs: the package
// databases, the build information of Go binaries and what Java archives
// say of themselves, bounded.
func PackageCapture() *files.Capture {
	return &files.Capture{
		Match: func(e files.Entry) bool { return packages.Wanted(e.Path, e.Size, e.Mode) },
		Keep: func(e files.Entry, r io.Reader) ([]byte, error) {
			return packages.Keep(e.Path, e.Size, r)
		},
		MaxFile:  packageCaptureFile,
		MaxTotal: packageCaptureTotal,
	}
}

// PackageUsage is one package and the bytes of the final filesystem it
// owns.
type PackageUsage struct {
	packages.Package
	// Owned are the regular files attributed to the package and their
	// bytes (a hard-linked content once).
	Owned Count
	// Layers splits Owned by the layer that wrote each file, in layer
	// order, layers with no file left out.
	Layers []LayerCount
	// Disagrees is set when the database's Declared size differs from
	// Owned.Bytes by more than its rounding explains (see Packages).
	Disagrees bool
}

// LayerCount is a Count of one layer.
type LayerCount struct {
	Layer int
	Count
}

// PackageReport attributes every regular-file byte of an image's final
// filesystem to the package that installed it, or to no package.
type PackageReport struct {
	Image *layers.Image
	// Total is the final filesystem's regular files; the Owned counts of
	// Packages and Unowned add up to it exactly.
	Total    Count
	Packages []PackageUsage
	// Unowned are the regular files no database claims.
	Unowned       Count
	UnownedLayers []LayerCount
	Databases     []packages.Database
	Notes         []string
	Hints         []Hint
}

// notRead says that database d was not read, and why.
func notRead(d packages.Database) string {
	return fmt.Sprintf("the %s database at /%s was not read: %s", d.Kind, d.Path, d.Note)
}

// Readable reports whether every package database found was read: a
// verdict on packages is only trustworthy then.
func (r *PackageReport) Readable() error {
	for _, d := range r.Databases {
		if !d.Read {
			return errors.New(notRead(d))
		}
	}
	return nil
}

// Packages reads the package databases of the final filesystem of ls
// (read with PackageCapture, in the order of img's layers) and attributes
// each regular file's bytes to one package, or to none (Unowned), so that
// the packages' bytes and the unowned bytes add up to the filesystem's.
//
// A database's content is taken only from the layer whose entry the final
// filesystem shows at its path: a copy a later layer overwrote or deleted
// is never read. A path is resolved through symlinked directories of the
// final filesystem ("bin/ls" where bin links to usr/bin is usr/bin/ls). A
// file two databases claim belongs to the first kind in packages.Kinds (the
// OS package manager, then Python, npm, then a Go binary's main module);
// two packages of one kind, to the first by name. A hard-linked content
// counts once, on the path the filesystem puts its bytes on.
//
// Declared sizes are compared with what is owned: a package Disagrees
// when they differ by more than 1 KiB a listed path (dpkg rounds each file
// up to a KiB) plus a tenth.
func Packages(img *layers.Image, ls []files.Layer) (*PackageReport, error) {
	if img == nil {
		return nil, fmt.Errorf("package analysis: no image")
	}
	if len(img.Layers) != len(ls) {
		return nil, fmt.Errorf("package analysis of %s: the image has %d layers but %d file lists were given", imageName(img), len(img.Layers), len(ls))
	}
	fs := NewFilesystem(ls)
	in := packages.Input{Files: map[string][]byte{}}
	fs.Walk(func(fi FileInfo) {
		if fi.Type != files.Regular {
			return
		}
		in.Paths = append(in.Paths, fi.Path)
		if b, ok := ls[fi.Layer].Captured[fi.Path]; ok {
			in.Files[fi.Path] = b
		}
	})
	res := packages.Read(in)
	r := &PackageReport{Image: img, Databases: res.Databases, Notes: res.Notes}
	r.Packages = make([]PackageUsage, len(res.Packages))
	// Owners by resolved path, and by directory, the first claim kept:
	// packages come in order of precedence.
	fileOwner := map[string]int{}
	dirOwner := map[string]int{}
	for i, p := range res.Packages {
		r.Packages[i].Package = p
		for _, f := range p.Files {
			rp := fs.resolve(f)
			if _, ok := fileOwner[rp]; !ok {
				fileOwner[rp] = i
			}
		}
		if p.Dir != "" {
			rp := fs.resolve(p.Dir)
			if _, ok := dirOwner[rp]; !ok {
				dirOwner[rp] = i
			}
		}
		r.Packages[i].Files = nil
	}
	owner := func(p string) int {
		best := -1
		if i, ok := fileOwner[p]; ok {
			best = i
		}
		if i := ownerDir(dirOwner, p); i >= 0 && (best < 0 || res.Packages[i].Kind.Rank() < res.Packages[best].Kind.Rank()) {
			best = i
		}
		return best
	}
	fs.Walk(func(fi FileInfo) {
		// A hard link is a path of a regular file: it counts as a file,
		// its bytes once, on the path that holds them.
		if fi.Type != files.Regular && fi.Type != files.Hardlink {
			return
		}
		b := regularBytes(fi.Entry)
		r.Total.Files++
		r.Total.Bytes += b
		if i := owner(fi.Path); i >= 0 {
			u := &r.Packages[i]
			u.Owned.Files++
			u.Owned.Bytes += b
			u.Layers = addLayer(u.Layers, fi.Layer, b)
			return
		}
		r.Unowned.Files++
		r.Unowned.Bytes += b
		r.UnownedLayers = addLayer(r.UnownedLayers, fi.Layer, b)
	})
	for i := range r.Packages {
		u := &r.Packages[i]
		slices.SortFunc(u.Layers, func(a, b LayerCount) int { return cmp.Compare(a.Layer, b.Layer) })
		if u.Declared >= 0 {
			slack := 1024*int64(len(res.Packages[i].Files)+1) + max(u.Declared, u.Owned.Bytes)/10
			u.Disagrees = abs64(u.Declared-u.Owned.Bytes) > slack
		}
	}
	slices.SortFunc(r.UnownedLayers, func(a, b LayerCount) int { return cmp.Compare(a.Layer, b.Layer) })
	slices.SortStableFunc(r.Packages, func(a, b PackageUsage) int {
		return cmp.Or(cmp.Compare(b.Owned.Bytes, a.Owned.Bytes), strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name))
	})
	for _, h := range []*Hint{toolchainPackageHint(r), toolchainHint(fs)} {
		if h != nil && h.Bytes > 0 {
			r.Hints = append(r.Hints, *h)
		}
	}
	return r, nil
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func addLayer(ls []LayerCount, layer int, b int64) []LayerCount {
	for i := range ls {
		if ls[i].Layer == layer {
			ls[i].Files++
			ls[i].Bytes += b
			return ls
		}
	}
	return append(ls, LayerCount{Layer: layer, Count: Count{Files: 1, Bytes: b}})
}

// ownerDir returns the package owning the deepest directory above p, or
// -1; a file in a node_modules directory beneath that directory (a nested
// package's, or none's) is not its.
func ownerDir(dirs map[string]int, p string) int {
	if len(dirs) == 0 {
		return -1
	}
	nested := false
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if i, ok := dirs[d]; ok {
			if nested {
				return -1
			}
			return i
		}
		if path.Base(d) == "node_modules" {
			nested = true
		}
	}
	return -1
}

// resolve returns p (clean, relative) with each directory of it that is a
// symlink in fs replaced by its target, as the kernel resolves a path: a
// database lists "bin/ls" where bin is a link to usr/bin. The last
// component is not resolved; after 40 links p is returned as it stands.
func (fs *Filesystem) resolve(p string) string {
	p = cleanPath(p)
	for hops := 0; hops < 40; hops++ {
		changed := false
		end := 0
		for end < len(p) {
			next := strings.IndexByte(p[end:], '/')
			if next < 0 {
				break // the last component
			}
			next += end
			n := fs.node(p[:next])
			if n == nil {
				return p
			}
			if n.info.Type == files.Symlink {
				target := n.info.Linkname
				if !path.IsAbs(target) {
					target = path.Join(path.Dir(p[:next]), target)
				}
				p = cleanPath(target + p[next:])
				changed = true
				break
			}
			end = next + 1
		}
		if !changed {
			return p
		}
	}
	return p
}

// The toolchain packages: a runtime image needs none of them.
var toolchainPackages = []string{
	"gcc", "gcc-*", "g++", "g++-*", "cpp", "cpp-*", "clang", "clang-*", "llvm", "llvm-*",
	"build-essential", "build-base", "make", "binutils", "binutils-*",
	"golang", "golang-*", "go", "rustc", "rustc-*", "cargo", "openjdk-*-jdk", "openjdk-*-jdk-headless", "musl-dev", "libc6-dev", "libc-dev",
}

// HintToolchainPackage: an OS package of a compiler toolchain is installed.
const HintToolchainPackage = "toolchain-package"

// IsToolchainPackage says whether a package name is a compiler
// toolchain's (gcc, g++, golang-*, build-essential, make, …).
func IsToolchainPackage(name string) bool {
	for _, g := range toolchainPackages {
		if MatchGlob(g, name) {
			return true
		}
	}
	return false
}

func toolchainPackageHint(r *PackageReport) *Hint {
	h := &Hint{
		ID:    HintToolchainPackage,
		Title: "Compiler toolchain packages in the final image",
		Fix:   "install compilers and build tools in a build stage only (multistage build), or remove them in the same RUN step that uses them (apt-get purge, apk del); imgsize check --forbid-package 'gcc*,make,golang*' keeps them out",
	}
	var ws []weighted
	set := map[int]bool{}
	for _, p := range r.Packages {
		switch p.Kind {
		case packages.Dpkg, packages.Apk, packages.Rpm:
		default:
			continue
		}
		if !IsToolchainPackage(p.Name) {
			continue
		}
		h.Bytes += p.Owned.Bytes
		ws = append(ws, weighted{p.Name, p.Owned.Bytes})
		for _, l := range p.Layers {
			set[l.Layer] = true
		}
	}
	if len(ws) == 0 {
		return nil
	}
	// The hint names packages, not paths: its title lists them.
	names := topPaths(ws)
	if len(ws) > len(names) {
		names = append(names, fmt.Sprintf("%d more", len(ws)-len(names)))
	}
	h.Title += " (" + strings.Join(names, ", ") + ")"
	h.Layers = sortedLayers(set)
	return h
}

// MatchGlob reports whether name matches pattern, in which * matches any
// run of characters ("/" included, for npm scopes and Go module paths) and
// ? any one character; everything else matches itself.
func MatchGlob(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := 0, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextNx = px, nx+1
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if nextNx > 0 && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}
