package packages

import (
	"cmp"
	"slices"
	"strings"
)

// Input is what Read needs of a filesystem: the content of the files
// Wanted chose (as the final filesystem shows them, by clean relative
// path; for a Go binary, what KeepGo kept), and the paths of its regular
// files.
type Input struct {
	Files map[string][]byte
	Paths []string
}

// Read reads every database in. It does not fail: a database it cannot
// make sense of is listed with a note, and its files stay unowned.
func Read(in Input) Result {
	var r Result
	readDpkg(in, &r)
	readApk(in, &r)
	readRpm(in, &r)
	readPython(in, &r)
	readNpm(in, &r)
	readGo(in, &r)
	readJava(in, &r)
	// Notes quote what the databases hold (a value, a name).
	for i := range r.Databases {
		r.Databases[i].Note = cleanText(r.Databases[i].Note)
	}
	for i, n := range r.Notes {
		r.Notes[i] = cleanText(n)
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		p.Name, p.Version = Clean(p.Name), Clean(p.Version)
		p.GoVersion = Clean(p.GoVersion)
		for j, m := range p.Modules {
			p.Modules[j] = Clean(m)
		}
	}
	slices.SortStableFunc(r.Packages, func(a, b Package) int {
		return cmp.Or(cmp.Compare(a.Kind.Rank(), b.Kind.Rank()), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version), strings.Compare(a.Database, b.Database))
	})
	slices.SortStableFunc(r.Databases, func(a, b Database) int {
		return cmp.Or(cmp.Compare(a.Kind.Rank(), b.Kind.Rank()), strings.Compare(a.Path, b.Path))
	})
	return r
}

// sortedKeys returns the paths of in.Files that pass keep, sorted, so that
// what Read returns does not depend on map order.
func sortedKeys(in Input, keep func(string) bool) []string {
	var out []string
	for p := range in.Files {
		if keep(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
