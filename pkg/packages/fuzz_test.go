package packages_test

import (
	"archive/zip"
	"bytes"
	"path"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/imgsize/imgsize/pkg/packages"
)

// checkClean holds what Read returns to its promise: names and versions
// fit for a report, paths clean and relative.
func checkClean(t *testing.T, r packages.Result) {
	t.Helper()
	notes := slices.Clone(r.Notes)
	for _, d := range r.Databases {
		notes = append(notes, d.Note)
	}
	for _, n := range notes {
		for _, c := range n {
			if c != ' ' && !unicode.IsPrint(c) {
				t.Fatalf("note %q holds %U", n, c)
			}
		}
	}
	for _, p := range r.Packages {
		for _, s := range append([]string{p.Name, p.Version, p.GoVersion}, p.Modules...) {
			if len(s) > 256 {
				t.Fatalf("a field of %d bytes: %.40q…", len(s), s)
			}
			for _, c := range s {
				if c != ' ' && !unicode.IsPrint(c) {
					t.Fatalf("field %q holds %U", s, c)
				}
			}
		}
		for _, f := range p.Files {
			if f == "" || f[0] == '/' || f == ".." || bytes.HasPrefix([]byte(f), []byte("../")) {
				t.Fatalf("file path %q is not clean and relative", f)
			}
		}
	}
}

// One target a parser: each gets the fuzzer's bytes as its database.
func fuzzDatabase(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{path: b}}))
	})
}

func FuzzDpkgStatus(f *testing.F) {
	fuzzDatabase(f, "var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVersion: 1\nInstalled-Size: 9\n\n", "Package:\n \n\x00")
}

func FuzzDpkgStatusD(f *testing.F) {
	for _, s := range []string{"Package: libc6\nVersion: 2\n", "Package: \xff\x1b\n"} {
		f.Add([]byte(s), []byte("abc  lib/x\nbad\n0  /../../etc\n"))
	}
	f.Fuzz(func(t *testing.T, status, sums []byte) {
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{
			"var/lib/dpkg/status.d/p": status, "var/lib/dpkg/status.d/p.md5sums": sums,
		}}))
	})
}

func FuzzDpkgList(f *testing.F) {
	for _, s := range []string{"/.\n/usr\n/usr/bin/x\n", "../../x\n\x00\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{
			"var/lib/dpkg/status":      []byte("Package: p\nVersion: 1\n"),
			"var/lib/dpkg/info/p.list": b,
		}}))
	})
}

func FuzzApk(f *testing.F) {
	fuzzDatabase(f, "lib/apk/db/installed", "P:musl\nV:1\nI:9\nF:lib\nR:a\n\nP:b\n", "F:../..\nR:../x\nI:-1\n")
}

func FuzzPythonRecord(f *testing.F) {
	for _, s := range []string{"a/b.py,sha256=x,1\n\"q,\"\"\",,\n", "../../../../x,,\n\"unterminated"} {
		f.Add([]byte("Name: x\nVersion: 1\n"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, meta, record []byte) {
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{
			"usr/lib/p/x.dist-info/METADATA": meta, "usr/lib/p/x.dist-info/RECORD": record,
		}}))
	})
}

func FuzzEggInfo(f *testing.F) {
	for _, s := range []string{"../x.py\nPKG-INFO\n", "\x00\n/abs\n"} {
		f.Add([]byte("Name: x\nVersion: 1\n"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, info, installed []byte) {
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{
			"p/x.egg-info/PKG-INFO": info, "p/x.egg-info/installed-files.txt": installed,
		}}))
	})
}

func FuzzNpm(f *testing.F) {
	fuzzDatabase(f, "app/node_modules/x/package.json", `{"name":"x","version":"1"}`, `{"name":"\u001b[31m","version":7}`, `[`)
}

// FuzzKeepGo: KeepGo reads any file without failing but on a short read,
// and what it keeps parses.
func FuzzKeepGo(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("MZ\x90\x00"))
	f.Add(append([]byte("\x7fELF"), bytes.Repeat([]byte("\xff Go buildinf:\x08\x02"), 8)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		kept, err := packages.KeepGo(int64(len(b)), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("KeepGo: %v", err)
		}
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{"usr/bin/x": kept}}))
	})
}

// FuzzJar: a Java archive is outside input. Whatever its bytes, what
// KeepJar keeps and Read makes of it is clean; zip seeds with a pom and a
// manifest start the fuzzer inside the format.
func FuzzJar(f *testing.F) {
	for _, entries := range [][][2]string{
		{{"META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\nversion=1\n"}},
		{{"META-INF/MANIFEST.MF", "Implementation-Title: t\n x\nImplementation-Version: \x1b[31m2\n"}},
		{{"META-INF/MANIFEST.MF", "Bundle-SymbolicName: ;\n"}},
	} {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, e := range entries {
			w, _ := zw.Create(e[0])
			w.Write([]byte(e[1]))
		}
		zw.Close()
		f.Add(b.Bytes(), "lib/a-1.0.jar")
	}
	f.Add([]byte("PK\x05\x06"+strings.Repeat("\x00", 18)), "x.war")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		p := path.Clean("srv/" + name)
		if !packages.Wanted(p, int64(len(b)), 0o644) {
			return
		}
		kept, err := packages.Keep(p, int64(len(b)), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Keep: %v", err)
		}
		checkClean(t, packages.Read(packages.Input{Files: map[string][]byte{p: kept}, Paths: []string{p}}))
	})
}
