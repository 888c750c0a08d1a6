package analysis

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
)

// FileInfo is one entry of a final filesystem and the layer (its index in
// the image) that last wrote it.
type FileInfo struct {
	files.Entry
	Layer int
}

// Count is a number of entries and the bytes of the regular files among
// them.
type Count struct {
	Files int
	Bytes int64
}

// LayerFiles is what one layer did to the filesystem below it.
type LayerFiles struct {
	Index     int
	Digest    v1.Hash
	CreatedBy string
	// Added are paths the layer creates, Changed paths it writes again
	// (any entry over an existing one, even with equal content), Deleted
	// paths it removes by whiteout or opaque marker (Bytes: what the
	// deleted regular files held). Directories count as entries, with 0
	// bytes.
	Added, Changed, Deleted Count
	// TarBytes is the sum of the layer's tar entry sizes: dive's layer
	// size.
	TarBytes int64
}

// PathSize is a file or directory of the final filesystem and its bytes.
type PathSize struct {
	Path  string
	Bytes int64
	// Files is the number of regular files under a directory (1 for a
	// file); Layer the layer that wrote a file (-1 for a directory).
	Files int
	Layer int
}

// Inefficiency is one of dive's inefficient paths: a path found in more
// than one layer.
type Inefficiency struct {
	Path string
	// Count is the number of layers the path appears in; Bytes dive's
	// cumulative size over all of them, the copy kept included (dive#684).
	Count int
	Bytes int64
}

// DiveStats are dive's figures, defined exactly as dive defines them
// (filetree/efficiency.go and image/analysis.go), so they can be set
// against dive's and its CI rules carried over.
type DiveStats struct {
	// Efficiency is the sum over paths of the smallest size seen ÷ the sum
	// of all sizes seen (1 when nothing was seen).
	Efficiency float64
	// WastedBytes is the sum of Inefficiencies' Bytes.
	WastedBytes int64
	// SizeBytes is the sum of all layers' TarBytes; UserSizeBytes the same
	// without the first layer.
	SizeBytes, UserSizeBytes int64
	// UserWastedPercent is WastedBytes ÷ UserSizeBytes, a fraction as in
	// dive (0.2 is 20%); 0 when UserSizeBytes is 0.
	UserWastedPercent float64
	// Inefficiencies, largest first.
	Inefficiencies []Inefficiency
}

// The reasons bytes are reclaimable (Reclaim.Why).
const (
	// Superseded: a later layer wrote the same path again.
	Superseded = "superseded"
	// Deleted: a later layer deleted the path.
	Deleted = "deleted"
)

// Reclaim is bytes a layer added that the final filesystem does not show:
// a better build would not ship them.
type Reclaim struct {
	Path  string
	Bytes int64
	// Layer added the bytes; By is the later layer that superseded or
	// deleted them.
	Layer, By int
	Why       string
}

// Hint is a recognised pattern of bloat, what it costs and how to fix it.
type Hint struct {
	// ID is stable, for tools: one of the Hint* constants
	// ("toolchain-in-runtime", "package-manager-cache",
	// "deleted-in-later-layer", "superseded-in-later-layer",
	// "duplicate-content").
	ID    string
	Title string
	// Bytes is what following the hint would save.
	Bytes int64
	// Paths are the paths concerned, largest first (a few, for display).
	Paths []string
	// Layers are the indexes of the layers responsible.
	Layers []int
	// Fix is the concrete change to make.
	Fix string
}

// FilesOptions bound what Files lists.
type FilesOptions struct {
	// Top is how many files and directories to list; 0 means 10.
	Top int
	// Depth limits the directories listed to that many path components
	// (1: "usr"; 2: "usr/local"); 0 means 3.
	Depth int
}

// FileReport is the file-level analysis of one image.
type FileReport struct {
	Image *layers.Image
	// Files is the final filesystem: its entries, and the bytes of its
	// regular files (the `files` size of DESIGN.md; hard links count once).
	Files   Count
	Layers  []LayerFiles
	Largest []PathSize
	Dirs    []PathSize
	Dive    DiveStats
	// Reclaimable is the sum of ReclaimItems' Bytes.
	Reclaimable  int64
	ReclaimItems []Reclaim
	Hints        []Hint
}

// The kinds of difference between two filesystems (DiffEntry.Change).
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// DiffEntry is a path that differs between two final filesystems.
//
// A directory added or removed whole is listed once, for everything under
// it: its Subtree counts the paths beneath it (itself not included) and
// the bytes of their regular files, and its Delta is those bytes (negative
// when removed). The paths beneath are not listed on their own, though
// FileDiff's totals and Dirs count each of them.
type DiffEntry struct {
	Path   string
	Change string
	// A and B are the path's entries in each; nil where absent.
	A, B *FileInfo
	// Delta is B's bytes − A's bytes (regular files; a directory added or
	// removed whole: its subtree's).
	Delta int64
	// Fields names what differs for a changed path: "type", "size",
	// "mode", "link", "content" (with DiffOptions.Content, for regular
	// files of equal size).
	Fields []string
	// Subtree is what lies beneath a directory added or removed whole;
	// zero otherwise.
	Subtree Count
}

// DiffDir rolls differences up to a directory. Each path belongs to one
// row: that of the directory holding it, cut to DiffOptions.Depth
// components ("" is the root, for paths at the top). So with depth 2,
// "usr/local/go/bin/go" and "usr/local/x" are under "usr/local", "usr/y"
// under "usr" and "etc" under "": the rows do not overlap, and their
// Deltas add up to the difference of the two filesystems' bytes. Only
// rows with a difference are listed.
type DiffDir struct {
	Path string
	// Added, Removed and Changed count the row's differences, every path
	// (directories too) on its own.
	Added, Removed, Changed int
	// BytesA and BytesB are the regular-file bytes of the row's paths (all
	// of them, not only those that differ) in each filesystem: the whole
	// subtree for a directory at the depth limit, the files directly in
	// it for a shallower one. Delta is BytesB − BytesA.
	BytesA, BytesB, Delta int64
}

// DiffOptions bound what Diff lists.
type DiffOptions struct {
	// Depth of the directory roll-up; 0 means 2.
	Depth int
	// Top limits entries and directories listed; 0 means 20.
	Top int
	// Content compares content digests (the layers must have been read
	// with files.Options.Content).
	Content bool
}

// FileDiff is what differs between the final filesystems of A and B.
type FileDiff struct {
	A, B *layers.Image
	// FilesA and FilesB are the two final filesystems' totals.
	FilesA, FilesB Count
	// Added, Removed, Changed count every difference (not only those
	// listed) with the bytes involved (B's for added and changed, A's for
	// removed).
	Added, Removed, Changed Count
	// Entries are the differences with the largest |Delta| first, then by
	// path (Top of them), a directory added or removed whole listed once
	// for all beneath it (see DiffEntry); Dirs the roll-up (see DiffDir),
	// ordered the same way, Top of them.
	Entries []DiffEntry
	Dirs    []DiffDir
	Content bool
	// Packages is what differs between the two images' packages, when
	// the caller compared them (DiffPackages); nil otherwise.
	Packages *PackageDiff
}
