package packages

import (
	"path"
	"strconv"
	"strings"
)

// dpkg's database: the status file (or, as distroless writes it, one file
// a package under status.d, with NAME.md5sums beside it), and the files
// each package installed in info/NAME.list (NAME:ARCH.list for Multi-Arch:
// same packages).
const (
	dpkgStatus   = "var/lib/dpkg/status"
	dpkgStatusD  = "var/lib/dpkg/status.d/"
	dpkgInfo     = "var/lib/dpkg/info/"
	dpkgMaxSizeK = 1 << 40 // KiB: an Installed-Size beyond 1 EiB is nonsense
)

// stanza is one paragraph of a Debian control file: field → value, the
// continuation lines of a value dropped (none of the fields read has any).
type stanza map[string]string

// stanzas parses the paragraphs of a control file.
func stanzas(b []byte) []stanza {
	var out []stanza
	cur := stanza{}
	lines(b, func(line string) {
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = stanza{}
			}
		case line[0] == ' ' || line[0] == '\t':
			// A continuation line (Description, Conffiles…).
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	})
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// installed says whether a status stanza's package has files on disk: its
// Status's last word is neither not-installed nor config-files. A stanza
// without Status (status.d) is installed.
func (s stanza) installed() bool {
	st, ok := s["status"]
	if !ok {
		return true
	}
	f := strings.Fields(st)
	if len(f) == 0 {
		return false
	}
	switch f[len(f)-1] {
	case "not-installed", "config-files":
		return false
	}
	return true
}

func (s stanza) declaredKiB() int64 {
	n, err := strconv.ParseInt(s["installed-size"], 10, 64)
	if err != nil || n < 0 || n > dpkgMaxSizeK {
		return -1
	}
	return n * 1024
}

func readDpkg(in Input, r *Result) {
	if b, ok := in.Files[dpkgStatus]; ok {
		db := Database{Kind: Dpkg, Path: dpkgStatus, Read: true}
		for _, s := range stanzas(b) {
			if s["package"] == "" || !s.installed() {
				continue
			}
			p := dpkgPackage(s, dpkgStatus)
			p.Files = dpkgFiles(in, s["package"], s["architecture"], "")
			r.Packages = append(r.Packages, p)
			db.Packages++
		}
		r.Databases = append(r.Databases, db)
	}
	dir := Database{Kind: Dpkg, Path: strings.TrimSuffix(dpkgStatusD, "/"), Read: true}
	for _, f := range sortedKeys(in, func(p string) bool {
		return strings.HasPrefix(p, dpkgStatusD) && !strings.HasSuffix(p, ".md5sums") && !strings.Contains(p[len(dpkgStatusD):], "/")
	}) {
		for _, s := range stanzas(in.Files[f]) {
			name := s["package"]
			if name == "" || !s.installed() {
				continue
			}
			p := dpkgPackage(s, f)
			p.Files = dpkgFiles(in, name, s["architecture"], f)
			r.Packages = append(r.Packages, p)
			dir.Packages++
		}
	}
	if dir.Packages > 0 {
		r.Databases = append(r.Databases, dir)
	}
}

func dpkgPackage(s stanza, db string) Package {
	return Package{Kind: Dpkg, Name: s["package"], Version: s["version"], Declared: s.declaredKiB(), Database: db}
}

// dpkgFiles returns the paths a package installed: from info/NAME.list
// (or NAME:ARCH.list), or else from the md5sums distroless writes beside
// its status.d file (statusFile), which list regular files only.
func dpkgFiles(in Input, name, arch, statusFile string) []string {
	for _, l := range []string{dpkgInfo + name + ".list", dpkgInfo + name + ":" + arch + ".list"} {
		if b, ok := in.Files[l]; ok {
			var out []string
			lines(b, func(line string) {
				if p := cleanPath(line); p != "" {
					out = append(out, p)
				}
			})
			return out
		}
	}
	var sums []string
	if statusFile != "" {
		sums = append(sums, statusFile+".md5sums", path.Join(path.Dir(statusFile), name+".md5sums"))
	}
	for _, m := range sums {
		if b, ok := in.Files[m]; ok {
			return md5sumsPaths(b)
		}
	}
	return nil
}

// md5sumsPaths reads "HASH  PATH" lines.
func md5sumsPaths(b []byte) []string {
	var out []string
	lines(b, func(line string) {
		_, p, ok := strings.Cut(line, " ")
		if !ok {
			return
		}
		if p = cleanPath(strings.TrimLeft(p, " *")); p != "" {
			out = append(out, p)
		}
	})
	return out
}

// apk's database: paragraphs of "X:value" lines; P name, V version, I
// installed size in bytes, F a directory (relative to the root) and the R
// lines after it the files in it.
const apkInstalled = "lib/apk/db/installed"

func readApk(in Input, r *Result) {
	b, ok := in.Files[apkInstalled]
	if !ok {
		return
	}
	db := Database{Kind: Apk, Path: apkInstalled, Read: true}
	var cur *Package
	dir := ""
	flush := func() {
		if cur != nil && cur.Name != "" {
			r.Packages = append(r.Packages, *cur)
			db.Packages++
		}
		cur, dir = nil, ""
	}
	lines(b, func(line string) {
		if strings.TrimSpace(line) == "" {
			flush()
			return
		}
		if len(line) < 2 || line[1] != ':' {
			return
		}
		if cur == nil {
			cur = &Package{Kind: Apk, Declared: -1, Database: apkInstalled}
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'I':
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				cur.Declared = n
			}
		case 'F':
			dir = cleanPath(v)
			if dir != "" {
				cur.Files = append(cur.Files, dir)
			}
		case 'R':
			if p := cleanPath(path.Join(dir, v)); p != "" {
				cur.Files = append(cur.Files, p)
			}
		}
	})
	flush()
	r.Databases = append(r.Databases, db)
}
