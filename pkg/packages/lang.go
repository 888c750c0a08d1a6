package packages

import (
	"bytes"
	"debug/buildinfo"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path"
	"runtime/debug"
	"strings"
)

// Python: a wheel's NAME.dist-info holds METADATA (Name, Version) and
// RECORD (a CSV of the files installed, relative to the directory holding
// the dist-info); an egg's NAME.egg-info holds PKG-INFO and, when pip
// installed it, installed-files.txt (relative to the egg-info). An
// .egg-info that is a file is a PKG-INFO of its own.
func readPython(in Input, r *Result) {
	n := 0
	for _, f := range sortedKeys(in, func(p string) bool { return strings.HasSuffix(p, ".dist-info/METADATA") }) {
		dir := path.Dir(f)
		p := Package{Kind: Python, Declared: -1, Database: dir}
		p.Name, p.Version = pkgInfo(in.Files[f])
		if p.Name == "" {
			continue
		}
		p.Files = []string{f}
		if rec, ok := in.Files[dir+"/RECORD"]; ok {
			p.Files = append(p.Files, recordPaths(path.Dir(dir), rec)...)
		}
		r.Packages = append(r.Packages, p)
		n++
	}
	for _, f := range sortedKeys(in, func(p string) bool {
		return strings.HasSuffix(p, ".egg-info/PKG-INFO") || strings.HasSuffix(p, ".egg-info")
	}) {
		dir := f
		if strings.HasSuffix(f, "/PKG-INFO") {
			dir = path.Dir(f)
		}
		p := Package{Kind: Python, Declared: -1, Database: dir, Files: []string{f}}
		p.Name, p.Version = pkgInfo(in.Files[f])
		if p.Name == "" {
			continue
		}
		if dir != f {
			// The egg-info's own files, then what pip recorded.
			p.Dir = dir
			if b, ok := in.Files[dir+"/installed-files.txt"]; ok {
				lines(b, func(line string) {
					if line = strings.TrimSpace(line); line != "" {
						p.Files = append(p.Files, cleanPath(path.Join(dir, line)))
					}
				})
			}
		}
		r.Packages = append(r.Packages, p)
		n++
	}
	if n > 0 {
		r.Databases = append(r.Databases, Database{Kind: Python, Path: "*.dist-info, *.egg-info", Read: true, Packages: n})
	}
}

// pkgInfo reads Name and Version from the RFC 822 header of METADATA or
// PKG-INFO (the body, after a blank line, is the description).
func pkgInfo(b []byte) (name, version string) {
	done := false
	lines(b, func(line string) {
		if done {
			return
		}
		if strings.TrimSpace(line) == "" {
			done = true
			return
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			if name == "" {
				name = strings.TrimSpace(v)
			}
		case "version":
			if version == "" {
				version = strings.TrimSpace(v)
			}
		}
	})
	return name, version
}

// recordPaths reads a RECORD: CSV rows of path, hash, size; paths relative
// to base (they may climb out of it: "../../bin/tool").
func recordPaths(base string, b []byte) []string {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var out []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
				continue
			}
			return out
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if p := cleanPath(path.Join(base, rec[0])); p != "" {
			out = append(out, p)
		}
	}
}

// npm: each node_modules/NAME/package.json (or node_modules/@SCOPE/NAME/)
// is a package, owning its directory but for the node_modules nested in
// it.
func readNpm(in Input, r *Result) {
	n := 0
	for _, f := range sortedKeys(in, isNpmManifest) {
		var m struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		if err := json.Unmarshal(in.Files[f], &m); err != nil {
			r.Notes = append(r.Notes, "/"+f+": not valid JSON; its directory is unowned")
			continue
		}
		dir := path.Dir(f)
		if m.Name == "" {
			m.Name = npmDirName(dir)
		}
		r.Packages = append(r.Packages, Package{Kind: Npm, Name: m.Name, Version: m.Version, Declared: -1, Dir: dir, Database: f})
		n++
	}
	if n > 0 {
		r.Databases = append(r.Databases, Database{Kind: Npm, Path: "node_modules/*/package.json", Read: true, Packages: n})
	}
}

// isNpmManifest says whether p is node_modules/NAME/package.json or
// node_modules/@SCOPE/NAME/package.json.
func isNpmManifest(p string) bool {
	dir, base := path.Split(p)
	if base != "package.json" {
		return false
	}
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	n := len(parts)
	switch {
	case n >= 2 && parts[n-2] == "node_modules" && !strings.HasPrefix(parts[n-1], "@") && !strings.HasPrefix(parts[n-1], "."):
		return true
	case n >= 3 && parts[n-3] == "node_modules" && strings.HasPrefix(parts[n-2], "@"):
		return true
	}
	return false
}

func npmDirName(dir string) string {
	parent, name := path.Split(dir)
	if s := path.Base(parent); strings.HasPrefix(s, "@") {
		return s + "/" + name
	}
	return name
}

// Go binaries: KeepGo keeps a binary's build information as `go version
// -m` prints it; readGo makes each main module a package owning the
// binaries built from it.
func readGo(in Input, r *Result) {
	byMain := map[string]int{}
	n := 0
	for _, f := range sortedKeys(in, func(p string) bool { return bytes.HasPrefix(in.Files[p], goInfoPrefix) }) {
		text := string(in.Files[f][len(goInfoPrefix):])
		bi, err := debug.ParseBuildInfo(text)
		if err != nil {
			continue
		}
		// ParseBuildInfo skips the "go\tVERSION" line BuildInfo.String
		// starts with.
		if v, ok := strings.CutPrefix(text, "go\t"); ok {
			bi.GoVersion, _, _ = strings.Cut(v, "\n")
		}
		name, version := bi.Main.Path, bi.Main.Version
		if name == "" {
			name = bi.Path
		}
		if name == "" {
			name = "command-line-arguments"
		}
		key := name + "@" + version + "@" + bi.GoVersion
		if i, ok := byMain[key]; ok {
			r.Packages[i].Files = append(r.Packages[i].Files, f)
			continue
		}
		p := Package{Kind: Go, Name: name, Version: version, Declared: -1, Files: []string{f}, Database: f, GoVersion: bi.GoVersion}
		for _, d := range bi.Deps {
			m := d
			if d.Replace != nil {
				m = d.Replace
			}
			p.Modules = append(p.Modules, m.Path+"@"+m.Version)
		}
		byMain[key] = len(r.Packages)
		r.Packages = append(r.Packages, p)
		n++
	}
	if n > 0 {
		r.Databases = append(r.Databases, Database{Kind: Go, Path: "Go binaries' build information", Read: true, Packages: n})
	}
}

// goInfoPrefix starts what KeepGo keeps, so a Go binary's build
// information is never taken for a database file's content.
var goInfoPrefix = []byte("imgsize-go-buildinfo\n")

// MaxGoBinary is the largest file whose Go build information is read.
const MaxGoBinary = 256 << 20

var execMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xce, 0xfa, 0xed, 0xfe}, // Mach-O 32
	{0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64
	{'M', 'Z'}, // PE
}

// KeepGo reads a file that may be a Go binary, once: nothing is kept unless
// it is an ELF, Mach-O or PE file of at most MaxGoBinary bytes with Go
// build information, of which the text `go version -m` prints is kept
// (without the file's path).
func KeepGo(size int64, r io.Reader) ([]byte, error) {
	if size > MaxGoBinary || size < 64 {
		return nil, nil
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	exec := false
	for _, m := range execMagic {
		if bytes.HasPrefix(head, m) {
			exec = true
		}
	}
	if !exec {
		return nil, nil
	}
	b := make([]byte, size)
	copy(b, head)
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		return nil, err
	}
	bi, err := buildinfo.Read(bytes.NewReader(b))
	if err != nil {
		// Not a Go binary, or one without build information.
		return nil, nil
	}
	return append(bytes.Clone(goInfoPrefix), bi.String()...), nil
}
