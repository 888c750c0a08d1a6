package packages_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/packages"
)

func read(files map[string]string, paths ...string) packages.Result {
	in := packages.Input{Files: map[string][]byte{}, Paths: paths}
	for p, c := range files {
		in.Files[p] = []byte(c)
	}
	return packages.Read(in)
}

type pkg struct {
	Kind     packages.Kind
	Name     string
	Version  string
	Declared int64
	Files    []string
	Dir      string
}

func project(r packages.Result) []pkg {
	var out []pkg
	for _, p := range r.Packages {
		out = append(out, pkg{p.Kind, p.Name, p.Version, p.Declared, p.Files, p.Dir})
	}
	return out
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		paths []string
		want  []pkg
		notes int
	}{{
		name: "distroless status.d with md5sums",
		files: map[string]string{
			"var/lib/dpkg/status.d/libc6":         "Package: libc6\nVersion: 2.36\nInstalled-Size: 12\n",
			"var/lib/dpkg/status.d/libc6.md5sums": "0123  lib/x86_64-linux-gnu/libc.so.6\nabcd  usr/share/doc/libc6/copyright\n",
			"var/lib/dpkg/status.d/tzdata":        "Package: tzdata\nVersion: 2024a\n",
		},
		want: []pkg{
			{packages.Dpkg, "libc6", "2.36", 12 << 10, []string{"lib/x86_64-linux-gnu/libc.so.6", "usr/share/doc/libc6/copyright"}, ""},
			{packages.Dpkg, "tzdata", "2024a", -1, nil, ""},
		},
	}, {
		name: "apk",
		files: map[string]string{
			"lib/apk/db/installed": "C:Q1abc=\nP:musl\nV:1.2.4-r2\nI:622592\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36\nF:bin\nR:busybox\nF:etc\nR:securetty\n",
		},
		want: []pkg{
			{packages.Apk, "busybox", "1.36", -1, []string{"bin", "bin/busybox", "etc", "etc/securetty"}, ""},
			{packages.Apk, "musl", "1.2.4-r2", 622592, []string{"lib", "lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"}, ""},
		},
	}, {
		name: "python dist-info and egg-info",
		files: map[string]string{
			"usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA":    "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\nName: not this\n",
			"usr/lib/python3/site-packages/requests-2.31.0.dist-info/RECORD":      "requests/__init__.py,sha256=x,100\n\"requests/a,b.py\",,\n../../../bin/req,,\n",
			"usr/lib/python3/site-packages/six-1.16.egg-info/PKG-INFO":            "Name: six\nVersion: 1.16.0\n",
			"usr/lib/python3/site-packages/six-1.16.egg-info/installed-files.txt": "../six.py\nPKG-INFO\n",
			"usr/lib/python3/dist-packages/old-1.0.egg-info":                      "Name: old\nVersion: 1.0\n",
		},
		want: []pkg{
			{packages.Python, "old", "1.0", -1, []string{"usr/lib/python3/dist-packages/old-1.0.egg-info"}, ""},
			{packages.Python, "requests", "2.31.0", -1, []string{"usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA", "usr/lib/python3/site-packages/requests/__init__.py", "usr/lib/python3/site-packages/requests/a,b.py", "usr/bin/req"}, ""},
			{packages.Python, "six", "1.16.0", -1, []string{"usr/lib/python3/site-packages/six-1.16.egg-info/PKG-INFO", "usr/lib/python3/site-packages/six.py", "usr/lib/python3/site-packages/six-1.16.egg-info/PKG-INFO"}, "usr/lib/python3/site-packages/six-1.16.egg-info"},
		},
	}, {
		name: "npm, scoped and nested, one broken",
		files: map[string]string{
			"app/node_modules/lodash/package.json":                `{"name":"lodash","version":"4.17.21"}`,
			"app/node_modules/@types/node/package.json":           `{"name":"@types/node","version":"20.1.0"}`,
			"app/node_modules/a/node_modules/lodash/package.json": `{"name":"lodash","version":"3.0.0"}`,
			"app/node_modules/broken/package.json":                `{`,
		},
		want: []pkg{
			{packages.Npm, "@types/node", "20.1.0", -1, nil, "app/node_modules/@types/node"},
			{packages.Npm, "lodash", "3.0.0", -1, nil, "app/node_modules/a/node_modules/lodash"},
			{packages.Npm, "lodash", "4.17.21", -1, nil, "app/node_modules/lodash"},
		},
		notes: 1,
	}, {
		name:  "rpm database not captured",
		paths: []string{"var/lib/rpm/rpmdb.sqlite", "usr/bin/bash"},
		notes: 1,
	}, {
		name: "hostile names are cleaned",
		files: map[string]string{
			"var/lib/dpkg/status": "Package: evil\x1b[2J\nStatus: install ok installed\nVersion: 1\u202e2\n",
		},
		want: []pkg{{packages.Dpkg, "evil[2J", "12", -1, nil, ""}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := read(tc.files, tc.paths...)
			if diff := cmp.Diff(tc.want, project(r)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(r.Notes) != tc.notes {
				t.Errorf("notes = %q, want %d", r.Notes, tc.notes)
			}
		})
	}
}

func TestWanted(t *testing.T) {
	for p, want := range map[string]bool{
		"var/lib/dpkg/status":                 true,
		"var/lib/dpkg/status.d/libc6":         true,
		"var/lib/dpkg/status.d/libc6.md5sums": true,
		"var/lib/dpkg/info/bash.list":         true,
		"var/lib/dpkg/info/bash.md5sums":      false,
		"lib/apk/db/installed":                true,
		"var/lib/rpm/rpmdb.sqlite":            true,
		"var/lib/rpm/rpmdb.sqlite-wal":        true,
		"var/lib/rpm/rpmdb.sqlite-shm":        false,
		"usr/lib/sysimage/rpm/rpmdb.sqlite":   true,
		"x/y.dist-info/RECORD":                true,
		"x/y.dist-info/LICENSE":               false,
		"a/node_modules/b/package.json":       true,
		"a/node_modules/@s/b/package.json":    true,
		"a/node_modules/b/lib/package.json":   false,
		"a/package.json":                      false,
		"etc/passwd":                          false,
	} {
		if got := packages.Wanted(p, 100, 0o644); got != want {
			t.Errorf("Wanted(%q) = %v, want %v", p, got, want)
		}
	}
	if !packages.Wanted("usr/bin/tool", 1000, 0o755) || packages.Wanted("usr/bin/tool", packages.MaxGoBinary+1, 0o755) {
		t.Error("an executable is wanted up to MaxGoBinary and not beyond")
	}
}

// TestJarIdentityCleaned: a Java archive named only by its file name,
// which a tar path may give a newline, is kept as one clean name and
// version (it was split into a name "evil" and a version "name").
func TestJarIdentityCleaned(t *testing.T) {
	jar := func(manifest string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		if manifest != "" {
			w, _ := zw.Create("META-INF/MANIFEST.MF")
			w.Write([]byte(manifest))
		} else {
			w, _ := zw.Create("a.class")
			w.Write([]byte("x"))
		}
		zw.Close()
		return b.Bytes()
	}
	read := func(p string, b []byte) []pkg {
		kept, err := packages.KeepJar(p, int64(len(b)), bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return project(packages.Read(packages.Input{Files: map[string][]byte{p: kept}, Paths: []string{p}}))
	}
	got := read("app/evil\nname-1.0.jar", jar(""))
	if len(got) != 1 || got[0].Name != "evilname" || got[0].Version != "1.0" {
		t.Errorf("a file name with a newline: %+v, want one package evilname 1.0", got)
	}
}
