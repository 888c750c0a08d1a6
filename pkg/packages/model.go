package packages

// Kind is the kind of database a package was read from.
type Kind string

// The databases read, in order of precedence: when two claim the same
// file, the first kind here owns it (the OS package manager installed it;
// a language's metadata or a binary's build information describe it).
const (
	Dpkg   Kind = "dpkg"
	Apk    Kind = "apk"
	Rpm    Kind = "rpm"
	Python Kind = "python"
	Npm    Kind = "npm"
	Go     Kind = "go"
	Java   Kind = "java"
)

// Kinds lists every kind in order of precedence.
var Kinds = []Kind{Dpkg, Apk, Rpm, Python, Npm, Go, Java}

// Rank is k's place in Kinds: lower owns a file first.
func (k Kind) Rank() int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}

// Package is one installed package as its database describes it.
type Package struct {
	Kind    Kind
	Name    string
	Version string
	// Declared is the size the database states, in bytes (dpkg's
	// Installed-Size, which is KiB, times 1024; apk's I:); -1 when it
	// states none.
	Declared int64
	// Files are the paths the database says the package installed: clean,
	// relative to the root ("usr/bin/env"), directories included.
	Files []string
	// Dir, when set, is a directory the package owns whole (an npm
	// package's node_modules/NAME), except what lies in a node_modules
	// directory beneath it.
	Dir string
	// Database is the path of the file it was read from.
	Database string
	// GoVersion and Modules: for a Go binary, the toolchain that built it
	// and the modules linked in (path@version), main module excluded.
	GoVersion string
	Modules   []string
}

// Database is one package database found in the filesystem.
type Database struct {
	Kind Kind
	// Path is where it is ("var/lib/dpkg/status").
	Path string
	// Read is false when it was found but not read; Note says why.
	Read bool
	Note string
	// Packages counts the packages read from it.
	Packages int
}

// Result is what the databases of one filesystem say.
type Result struct {
	Packages  []Package
	Databases []Database
	// Notes tell what was not read, or was read with a caveat.
	Notes []string
}
