package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imgsize/imgsize/internal/testlayer"
	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/schema"
)

// dpkgStatus writes a status file of the packages given as name, version
// and Installed-Size (KiB), each installed.
func dpkgStatus(pkgs ...[3]string) []byte {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\nInstalled-Size: %s\nDescription: test\n a continuation line\n\n", p[0], p[1], p[2])
	}
	// A package removed but for its configuration owns nothing.
	b.WriteString("Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n")
	return []byte(b.String())
}

func list(paths ...string) []byte { return []byte(strings.Join(paths, "\n") + "\n") }

// dpkgImage is a two-layer Debian-like image with known sizes:
//
//	layer 0: base-files (etc/os-release 100, etc/shared 50), coreutils
//	(bin/ls via the usr-merge link bin → usr/bin: 3000; usr/bin/cp 2000
//	with a hard link cp2; etc/shared too, which base-files claims first),
//	gcc-12 (usr/bin/gcc-12 5000), an unowned tmp/junk 777, and a
//	status that layer 1 replaces;
//	layer 1: usr/bin/ls rewritten (4000), etc/os-release deleted, a new
//	status adding "extra" (usr/share/extra 10) and an unowned opt/app 1234.
func dpkgImage(t *testing.T) v1.Image {
	t.Helper()
	l0 := testlayer.Layer(t,
		testlayer.Dir("usr/bin"),
		testlayer.Symlink("bin", "usr/bin"),
		testlayer.File("var/lib/dpkg/status", dpkgStatus([3]string{"base-files", "12", "1"}, [3]string{"coreutils", "9.1", "5"}, [3]string{"gcc-12", "12.2", "5"})),
		testlayer.File("var/lib/dpkg/info/base-files.list", list("/.", "/etc", "/etc/os-release", "/etc/shared")),
		testlayer.File("var/lib/dpkg/info/coreutils.list", list("/bin", "/bin/ls", "/usr/bin/cp", "/usr/bin/cp2", "/etc/shared")),
		testlayer.File("var/lib/dpkg/info/gcc-12:amd64.list", list("/usr/bin/gcc-12")),
		testlayer.Sized("etc/os-release", 100),
		testlayer.Sized("etc/shared", 50),
		testlayer.Sized("usr/bin/ls", 3000),
		testlayer.Sized("usr/bin/cp", 2000),
		testlayer.Hardlink("usr/bin/cp2", "usr/bin/cp"),
		testlayer.Sized("usr/bin/gcc-12", 5000),
		testlayer.Sized("tmp/junk", 777),
	)
	l1 := testlayer.Layer(t,
		testlayer.Sized("usr/bin/ls", 4000),
		testlayer.Whiteout("etc", "os-release"),
		testlayer.File("var/lib/dpkg/status", dpkgStatus([3]string{"base-files", "12", "1"}, [3]string{"coreutils", "9.1", "5"}, [3]string{"gcc-12", "12.2", "5"}, [3]string{"extra", "1.0", "1"})),
		testlayer.File("var/lib/dpkg/info/extra.list", list("/usr/share/extra")),
		testlayer.Sized("usr/share/extra", 10),
		testlayer.Sized("opt/app", 1234),
	)
	return testlayer.Image(t, l0, l1)
}

// mergedRegularBytes is the final filesystem's regular-file bytes,
// computed apart from imgsize: each layer extracted with GNU tar over the
// ones below after its whiteouts are applied, then the tree walked, each
// inode once (hard links share one).
func mergedRegularBytes(t *testing.T, img v1.Image) (files int, bytes int64) {
	t.Helper()
	root := t.TempDir()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		blob := filepath.Join(t.TempDir(), fmt.Sprintf("layer%d.tar", i))
		f, err := os.Create(blob)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, rc); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rc.Close()
		names, err := exec.Command("tar", "-tf", blob).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range strings.Split(strings.TrimSpace(string(names)), "\n") {
			dir, base := filepath.Split(n)
			if rest, ok := strings.CutPrefix(base, ".wh."); ok {
				if err := os.RemoveAll(filepath.Join(root, dir, rest)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if out, err := exec.Command("tar", "-xf", blob, "-C", root, "--exclude=.wh.*", "--exclude=*/.wh.*").CombinedOutput(); err != nil {
			t.Fatalf("tar -x: %v\n%s", err, out)
		}
	}
	seen := map[uint64]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		files++
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if !seen[ino] {
			seen[ino] = true
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

func packagesJSON(t *testing.T, args ...string) *schema.PackagesRecord {
	t.Helper()
	r := imgsize(t, nil, append([]string{"packages", "-f", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("imgsize packages: exit %d\n%s", r.code, r.stderr)
	}
	var d schema.Document
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	return d.Packages
}

func byName(p *schema.PackagesRecord) map[string]schema.PackageRecord {
	m := map[string]schema.PackageRecord{}
	for _, r := range p.Packages {
		m[r.Kind+":"+r.Name] = r
	}
	return m
}

// everyByteOnce checks that the packages and unowned add up to the
// final filesystem, counted apart from imgsize.
func everyByteOnce(t *testing.T, img v1.Image, p *schema.PackagesRecord) {
	t.Helper()
	n, want := mergedRegularBytes(t, img)
	if p.Total.Bytes != want || p.Total.Files != n {
		t.Errorf("total = %d bytes in %d files, want %d in %d (GNU tar's extraction)", p.Total.Bytes, p.Total.Files, want, n)
	}
	sum := p.Unowned.Bytes
	for _, r := range p.Packages {
		sum += r.Bytes
		var layers int64
		for _, l := range r.Layers {
			layers += l.Bytes
		}
		if layers != r.Bytes {
			t.Errorf("%s: layers add up to %d, bytes %d", r.Name, layers, r.Bytes)
		}
	}
	if sum != want {
		t.Errorf("packages + unowned = %d bytes, want the filesystem's %d", sum, want)
	}
}

func TestPackagesDpkg(t *testing.T) {
	t.Parallel()
	img := dpkgImage(t)
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"deb": img})
	p := packagesJSON(t, "oci:"+dir+":deb")
	everyByteOnce(t, img, p)
	got := byName(p)
	for name, want := range map[string]struct {
		bytes    int64
		files    int
		declared int64
		layers   []schema.LayerCountRecord
	}{
		// etc/os-release was deleted; etc/shared is base-files' (first).
		"dpkg:base-files": {50, 1, 1024, []schema.LayerCountRecord{{Layer: 0, Files: 1, Bytes: 50}}},
		// bin/ls resolves to usr/bin/ls, rewritten by layer 1; cp2 holds
		// no bytes of its own.
		"dpkg:coreutils": {6000, 3, 5120, []schema.LayerCountRecord{{Layer: 0, Files: 2, Bytes: 2000}, {Layer: 1, Files: 1, Bytes: 4000}}},
		"dpkg:gcc-12":    {5000, 1, 5120, []schema.LayerCountRecord{{Layer: 0, Files: 1, Bytes: 5000}}},
		// Only the status of layer 1 lists it.
		"dpkg:extra": {10, 1, 1024, []schema.LayerCountRecord{{Layer: 1, Files: 1, Bytes: 10}}},
	} {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: not reported; got %v", name, got)
			continue
		}
		if r.Bytes != want.bytes || r.Files != want.files || r.DeclaredBytes == nil || *r.DeclaredBytes != want.declared {
			t.Errorf("%s: %d bytes in %d files, declared %v; want %d in %d, declared %d", name, r.Bytes, r.Files, r.DeclaredBytes, want.bytes, want.files, want.declared)
		}
		if fmt.Sprint(r.Layers) != fmt.Sprint(want.layers) {
			t.Errorf("%s: layers %v, want %v", name, r.Layers, want.layers)
		}
	}
	if _, ok := got["dpkg:gone"]; ok {
		t.Error("a package in state config-files is reported")
	}
	if len(p.Packages) != 4 {
		t.Errorf("%d packages, want 4", len(p.Packages))
	}
	// tmp/junk, opt/app and the database files themselves.
	if p.Unowned.Files != 7 {
		t.Errorf("unowned: %d files, want 7", p.Unowned.Files)
	}
	if len(p.Hints) == 0 || p.Hints[0].ID != "toolchain-package" || p.Hints[0].Bytes != 5000 {
		t.Errorf("hints = %+v, want toolchain-package of 5000 bytes", p.Hints)
	}
}

// goBinary builds a tiny program that links golang.org/x/sync, with the
// module cache only (no network).
func goBinary(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(sum), "\n") {
		if strings.HasPrefix(l, "golang.org/x/sync ") {
			keep = append(keep, l)
		}
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/tiny\n\ngo 1.26\n\nrequire golang.org/x/sync v0.25.0\n")
	write("go.sum", strings.Join(keep, "\n")+"\n")
	write("main.go", "package main\n\nimport \"golang.org/x/sync/errgroup\"\n\nfunc main() { var g errgroup.Group; _ = g.Wait() }\n")
	cmd := exec.Command("go", "build", "-o", "tiny", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goVersionM is `go version -m`'s reading of a binary: main module, Go
// version and deps (path@version).
func goVersionM(t *testing.T, bin []byte) (main, goVersion string, deps []string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "version", "-m", p).Output()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		switch {
		case i == 0 && len(f) == 2:
			goVersion = f[1]
		case len(f) >= 3 && f[0] == "mod":
			main = f[1]
		case len(f) >= 3 && f[0] == "dep":
			deps = append(deps, f[1]+"@"+f[2])
		}
	}
	return main, goVersion, deps
}

// TestPackagesLanguages: apk, pip (dist-info and egg-info), npm (nested
// and scoped) and a Go binary, on one generated image, each package's
// bytes known; a Go binary dpkg lists is dpkg's.
func TestPackagesLanguages(t *testing.T) {
	t.Parallel()
	bin := goBinary(t)
	wantMain, wantGo, wantDeps := goVersionM(t, bin)
	if wantMain != "example.com/tiny" || len(wantDeps) == 0 {
		t.Fatalf("go version -m: main %q, deps %q", wantMain, wantDeps)
	}
	sp := "usr/lib/python3.12/site-packages/"
	l0 := testlayer.Layer(t,
		testlayer.File("lib/apk/db/installed", []byte("P:musl\nV:1.2.5-r0\nI:700000\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r29\nI:900000\nF:bin\nR:busybox\nF:usr/bin\nR:owned-by-go-too\n")),
		testlayer.Sized("lib/ld-musl-x86_64.so.1", 650_000),
		testlayer.Exec("bin/busybox", bytes900k(), 0o755),
		// Both busybox's (apk) and a Go binary: apk owns it.
		testlayer.Exec("usr/bin/owned-by-go-too", bin, 0o755),
	)
	l1 := testlayer.Layer(t,
		testlayer.File(sp+"requests-2.31.0.dist-info/METADATA", []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n")),
		testlayer.File(sp+"requests-2.31.0.dist-info/RECORD", []byte("requests/__init__.py,,\nrequests/api.py,,\nrequests-2.31.0.dist-info/METADATA,,\nrequests-2.31.0.dist-info/RECORD,,\n")),
		testlayer.Sized(sp+"requests/__init__.py", 500),
		testlayer.Sized(sp+"requests/api.py", 7000),
		testlayer.File(sp+"six-1.16.0.egg-info/PKG-INFO", []byte("Name: six\nVersion: 1.16.0\n")),
		testlayer.File(sp+"six-1.16.0.egg-info/installed-files.txt", []byte("../six.py\nPKG-INFO\ninstalled-files.txt\n")),
		testlayer.Sized(sp+"six.py", 34_000),
		testlayer.File("app/node_modules/left-pad/package.json", []byte(`{"name":"left-pad","version":"1.3.0"}`)),
		testlayer.Sized("app/node_modules/left-pad/index.js", 600),
		testlayer.File("app/node_modules/left-pad/node_modules/tiny/package.json", []byte(`{"name":"tiny","version":"0.0.1"}`)),
		testlayer.Sized("app/node_modules/left-pad/node_modules/tiny/t.js", 40),
		testlayer.File("app/node_modules/@scope/pkg/package.json", []byte(`{"name":"@scope/pkg","version":"2.0.0"}`)),
		testlayer.Sized("app/node_modules/.package-lock.json", 300),
		testlayer.Exec("usr/local/bin/tiny", bin, 0o755),
		testlayer.Exec("usr/local/bin/script", []byte("#!/bin/sh\necho hello, this is not a Go binary at all\n"), 0o755),
	)
	img := testlayer.Image(t, l0, l1)
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"lang": img})
	p := packagesJSON(t, "oci:"+dir+":lang")
	everyByteOnce(t, img, p)
	got := byName(p)
	metaReq := int64(len("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"))
	recReq := int64(len("requests/__init__.py,,\nrequests/api.py,,\nrequests-2.31.0.dist-info/METADATA,,\nrequests-2.31.0.dist-info/RECORD,,\n"))
	pkgJSON := int64(len(`{"name":"left-pad","version":"1.3.0"}`))
	checkVersionBytes(t, got, map[string]versionBytes{
		"apk:musl":            {"1.2.5-r0", 650_000},
		"apk:busybox":         {"1.36.1-r29", 900_000 + int64(len(bin))},
		"python:requests":     {"2.31.0", 500 + 7000 + metaReq + recReq},
		"python:six":          {"1.16.0", 34_000 + int64(len("Name: six\nVersion: 1.16.0\n")) + int64(len("../six.py\nPKG-INFO\ninstalled-files.txt\n"))},
		"npm:left-pad":        {"1.3.0", 600 + pkgJSON},
		"npm:tiny":            {"0.0.1", 40 + int64(len(`{"name":"tiny","version":"0.0.1"}`))},
		"npm:@scope/pkg":      {"2.0.0", int64(len(`{"name":"@scope/pkg","version":"2.0.0"}`))},
		"go:example.com/tiny": {"(devel)", int64(len(bin))},
	})
	g := got["go:example.com/tiny"]
	if g.GoVersion != wantGo || fmt.Sprint(g.Modules) != fmt.Sprint(wantDeps) {
		t.Errorf("Go binary: %s %q, want go version -m's %s %q", g.GoVersion, g.Modules, wantGo, wantDeps)
	}
	if g.Files != 1 {
		t.Errorf("the Go module owns %d files, want 1: apk owns the binary it lists", g.Files)
	}
	// musl declares 700,000 for 650,000 on disk: within a tenth.
	if m := got["apk:musl"]; m.DeclaredBytes == nil || *m.DeclaredBytes != 700_000 || m.Disagrees {
		t.Errorf("musl: declared %v, disagrees %v", m.DeclaredBytes, m.Disagrees)
	}
}

func bytes900k() []byte { return []byte(strings.Repeat("b", 900_000)) }

// TestDiffPackagesAndGate: diff --packages and the package rules of
// check, end to end, with their exit codes.
func TestDiffPackagesAndGate(t *testing.T) {
	t.Parallel()
	a := dpkgImage(t)
	b := withoutGcc(t, a)
	rpm := corruptRpmImage(t)
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"a": a, "b": b, "rpm": rpm})
	A, B, R := "oci:"+dir+":a", "oci:"+dir+":b", "oci:"+dir+":rpm"

	r := imgsize(t, nil, "diff", "--packages", "-f", "json", A, B)
	if r.code != 0 {
		t.Fatalf("diff --packages: exit %d\n%s", r.code, r.stderr)
	}
	var d schema.Document
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range d.Diff.Packages.Changes {
		got = append(got, fmt.Sprintf("%s %s %s→%s %+d", c.Change, c.Name, c.OldVersion, c.NewVersion, c.DeltaBytes))
	}
	want := []string{
		"removed gcc-12 12.2→ -5000",
		"upgraded coreutils 9.1→9.4 +3000",
		"added curl →8.5 +300",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("package changes = %q, want %q (largest |delta| first)", got, want)
	}
	if r := imgsize(t, nil, "diff", "--packages", A, B); r.code != 0 || !strings.Contains(r.stdout, "9.1 → 9.4") {
		t.Errorf("diff --packages table: exit %d, lacks the upgrade:\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"forbidden compiler", []string{"check", A, "--forbid-package", "gcc*,make"}, 1, "gcc-12 12.2 (dpkg)"},
		{"none forbidden", []string{"check", B, "--forbid-package", "gcc*,make,golang*"}, 0, "forbid-package gcc*"},
		{"package too big", []string{"check", B, "--max-package-bytes", "coreutils=8kB", "--max-package-bytes", "curl=1kB"}, 1, "max-package-bytes coreutils"},
		{"package within", []string{"check", B, "--max-package-bytes", "coreutils=9kB"}, 0, "max-package-bytes coreutils"},
		{"bad size", []string{"check", B, "--max-package-bytes", "coreutils=lots"}, 2, ""},
		{"no name", []string{"check", B, "--max-package-bytes", "=1MB"}, 2, ""},
		{"corrupt rpm database", []string{"check", R, "--forbid-package", "gcc*"}, 3, ""},
		{"rpm image, no package rule", []string{"check", R, "--max-layers", "5"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := imgsize(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.out) {
				t.Errorf("output lacks %q:\n%s", tc.out, r.stdout)
			}
			if tc.code == 3 && !strings.Contains(r.stderr, "rpm database") {
				t.Errorf("stderr does not say why: %s", r.stderr)
			}
		})
	}

	// The same rules from imgsize.yaml; JSON carries subject and matches.
	cfg := filepath.Join(t.TempDir(), "imgsize.yaml")
	if err := os.WriteFile(cfg, []byte("defaults:\n  forbid-package: [gcc*, make]\n  max-package-bytes:\n    coreutils: 10kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = imgsize(t, nil, "check", "--config", cfg, A, "-f", "json")
	if r.code != 1 {
		t.Fatalf("check with imgsize.yaml: exit %d, want 1\n%s", r.code, r.stderr)
	}
	d = schema.Document{}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	var budgets []string
	for _, b := range d.Check.Results[0].Budgets {
		budgets = append(budgets, fmt.Sprintf("%s %s %s %q", b.Budget, b.Subject, b.Status, b.Matches))
	}
	wantB := []string{`forbid-package gcc* fail ["gcc-12 12.2 (dpkg)"]`, `forbid-package make pass []`, `max-package-bytes coreutils pass []`}
	if fmt.Sprint(budgets) != fmt.Sprint(wantB) {
		t.Errorf("budgets = %q, want %q", budgets, wantB)
	}
	// JUnit and Markdown name the forbidden package.
	junit := filepath.Join(t.TempDir(), "j.xml")
	r = imgsize(t, nil, "check", A, "--forbid-package", "gcc*", "-f", "markdown", "--junit", junit)
	jb, _ := os.ReadFile(junit)
	if r.code != 1 || !strings.Contains(r.stdout, "gcc-12") || !strings.Contains(string(jb), "forbidden packages installed (gcc*): gcc-12 12.2 (dpkg)") {
		t.Errorf("markdown and junit: exit %d\n%s\n%s", r.code, r.stdout, jb)
	}
}

// withoutGcc is dpkgImage with gcc-12 removed (its list and binary
// deleted, its stanza gone), coreutils upgraded and grown, and a new
// package, curl.
func withoutGcc(t *testing.T, a v1.Image) v1.Image {
	t.Helper()
	return testlayer.Image(t, append(mustLayers(t, a), testlayer.Layer(t,
		testlayer.Whiteout("usr/bin", "gcc-12"),
		testlayer.Whiteout("var/lib/dpkg/info", "gcc-12:amd64.list"),
		testlayer.File("var/lib/dpkg/status", dpkgStatus([3]string{"base-files", "12", "1"}, [3]string{"coreutils", "9.4", "9"}, [3]string{"extra", "1.0", "1"}, [3]string{"curl", "8.5", "1"})),
		testlayer.File("var/lib/dpkg/info/curl.list", list("/usr/bin/curl")),
		testlayer.Sized("usr/bin/curl", 300),
		testlayer.Sized("usr/bin/ls", 7000),
	))...)
}

// corruptRpmImage holds an rpm database that is not one.
func corruptRpmImage(t *testing.T) v1.Image {
	t.Helper()
	return testlayer.Image(t, testlayer.Layer(t, testlayer.Sized("var/lib/rpm/rpmdb.sqlite", 4096), testlayer.Sized("usr/bin/bash", 1000)))
}

// TestComparePackages: compare --packages sets each image's packages
// against the baseline's in every format that has room for them, the
// same changes diff --packages finds for the pair, and the PR comment made
// from its saved report names the package that moved most.
func TestComparePackages(t *testing.T) {
	t.Parallel()
	a := dpkgImage(t)
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"a": a, "b": withoutGcc(t, a)})
	A, B := "oci:"+dir+":a", "oci:"+dir+":b"
	saved := filepath.Join(t.TempDir(), "compare.json")
	r := imgsize(t, nil, "compare", "--packages", "-f", "json", "-o", saved, A, B, A)
	if r.code != 0 {
		t.Fatalf("compare --packages: exit %d\n%s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	testutil.ValidateReport(t, raw)
	var d schema.Document
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	rows := d.Comparison.Rows
	if len(rows) != 3 || rows[0].Packages != nil || rows[1].Packages == nil || rows[2].Packages == nil {
		t.Fatalf("rows %+v: want the baseline without packages, the two others with", rows)
	}
	var got []string
	for _, c := range rows[1].Packages.Changes {
		got = append(got, fmt.Sprintf("%s %s %s→%s %+d", c.Change, c.Name, c.OldVersion, c.NewVersion, c.DeltaBytes))
	}
	// As TestDiffPackagesAndGate derives them for the same pair.
	want := []string{"removed gcc-12 12.2→ -5000", "upgraded coreutils 9.1→9.4 +3000", "added curl →8.5 +300"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("package changes = %q, want %q", got, want)
	}
	if n := len(rows[2].Packages.Changes); n != 0 || rows[2].Packages.UnownedDeltaBytes != 0 {
		t.Errorf("the baseline against itself: %d changes, unowned %+d; want none", n, rows[2].Packages.UnownedDeltaBytes)
	}

	if len(rows[1].Packages.Notes) != 0 {
		t.Errorf("notes %q where every database was read", rows[1].Packages.Notes)
	}
	// A side whose database was not read says so: its packages would
	// otherwise look removed.
	R := "oci:" + testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"rpm": corruptRpmImage(t)}) + ":rpm"
	for _, args := range [][]string{{"compare", "--packages", "-f", "json", A, R}, {"diff", "--packages", "-f", "json", A, R}} {
		r := imgsize(t, nil, args...)
		var d schema.Document
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != 0 {
			t.Fatalf("%q: exit %d, %v\n%s", args, r.code, err, r.stderr)
		}
		var pk *schema.PackageDiffRecord
		switch {
		case d.Comparison != nil:
			pk = d.Comparison.Rows[1].Packages
		case d.Diff != nil:
			pk = d.Diff.Packages
		}
		if pk == nil || len(pk.Notes) != 1 || !strings.HasPrefix(pk.Notes[0], "in B, the rpm database at /var/lib/rpm/rpmdb.sqlite was not read") {
			t.Errorf("%q: notes %v, want B's rpm database not read", args, pk)
		}
	}

	if r := imgsize(t, nil, "diff", "--packages", "-f", "csv", A, R); r.code != 0 || !strings.Contains(r.stdout, "package-note,") || !strings.Contains(r.stdout, "the rpm database at /var/lib/rpm/rpmdb.sqlite was not read") {
		t.Errorf("diff --packages -f csv: exit %d, no package-note row for B's unread database:\n%s%s", r.code, r.stdout, r.stderr)
	}

	md := imgsize(t, nil, "compare", "--packages", "-f", "markdown", A, B)
	if md.code != 0 || !strings.Contains(md.stdout, "### Packages from baseline") || !strings.Contains(md.stdout, "| removed | dpkg | `gcc-12` | `12.2` |") {
		t.Errorf("compare --packages -f markdown: exit %d, no package section:\n%s%s", md.code, md.stdout, md.stderr)
	}
	c := imgsize(t, nil, "comment", "--dry-run", saved)
	if c.code != 0 || !strings.Contains(c.stdout, "- -5.00 kB removed `gcc-12` `12.2` (dpkg)") {
		t.Errorf("comment --dry-run of the saved report: exit %d, lacks the package that moved most:\n%s%s", c.code, c.stdout, c.stderr)
	}
	for _, args := range [][]string{
		{"compare", "--packages", "-f", "csv", A, B},
		{"compare", "--packages", "--platform", "all", A, B},
	} {
		if r := imgsize(t, nil, args...); r.code != exitUsage || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%q: exit %d, want %d with a one-line error:\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
}

// TestPackageRulesPerPlatform: package rules judge each platform of a
// multi-platform image on its own packages: the platform that ships the
// compiler fails, the one without passes, and the one whose database
// cannot be read is an error (exit 3), never a pass.
func TestPackageRulesPerPlatform(t *testing.T) {
	t.Parallel()
	a := dpkgImage(t)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: a, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: withoutGcc(t, a), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: corruptRpmImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}},
	)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		t.Fatal(err)
	}
	ref := "oci:" + dir + ":multi"
	verdicts := func(t *testing.T, args ...string) (int, map[string]string) {
		t.Helper()
		r := imgsize(t, nil, append([]string{"check", "-f", "json", ref}, args...)...)
		var d schema.Document
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("exit %d: %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		out := map[string]string{}
		for _, res := range d.Check.Results {
			v := res.Error
			for _, b := range res.Budgets {
				v += fmt.Sprintf("%s %s %q;", b.Budget, b.Status, b.Matches)
			}
			out[res.Platform] = v
		}
		return r.code, out
	}
	code, got := verdicts(t, "--platform", "linux/amd64,linux/arm64", "--forbid-package", "gcc*", "--max-package-bytes", "coreutils=8kB")
	want := map[string]string{
		"linux/amd64": `forbid-package fail ["gcc-12 12.2 (dpkg)"];max-package-bytes pass [];`,
		"linux/arm64": `forbid-package pass [];max-package-bytes fail [];`,
	}
	if code != exitBudget || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("two platforms: exit %d, verdicts %q; want %d, %q", code, got, exitBudget, want)
	}
	code, got = verdicts(t, "--platform", "all", "--forbid-package", "gcc*")
	if code != exitImage || len(got) != 3 || !strings.Contains(got["linux/s390x"], "rpm database") || !strings.Contains(got["linux/amd64"], "fail") || !strings.Contains(got["linux/arm64"], "pass") {
		t.Errorf("all platforms: exit %d, verdicts %q; want %d, s390x unreadable (rpm database), amd64 failing, arm64 passing", code, got, exitImage)
	}
}

func mustLayers(t *testing.T, img v1.Image) []v1.Layer {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// versionBytes is what a test expects of a package: its version and the
// bytes of the final filesystem it owns.
type versionBytes struct {
	version string
	bytes   int64
}

// checkVersionBytes holds the packages reported (by "kind:name") to want.
func checkVersionBytes(t *testing.T, got map[string]schema.PackageRecord, want map[string]versionBytes) {
	t.Helper()
	for name, w := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: not reported; got %v", name, got)
			continue
		}
		if r.Version != w.version || r.Bytes != w.bytes {
			t.Errorf("%s: %s, %d bytes; want %s, %d", name, r.Version, r.Bytes, w.version, w.bytes)
		}
	}
}

// jarOf is a zip archive of the named entries, as a jar is.
func jarOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPackagesJava: each Java archive is a package owning its own bytes,
// named by its Maven coordinates (its own pom, not a shaded one's), its
// manifest or its file name; copies are one package; a .jar that is not a
// zip archive stays unowned.
func TestPackagesJava(t *testing.T) {
	t.Parallel()
	app := jarOf(t,
		[2]string{"META-INF/maven/com.example/app/pom.properties", "#Generated by Maven\ngroupId=com.example\nartifactId=app\nversion=1.4.2\n"},
		[2]string{"META-INF/maven/org.dep/dep/pom.properties", "groupId=org.dep\nartifactId=dep\nversion=0.1\n"},
		[2]string{"com/example/App.class", strings.Repeat("\xca\xfe\xba\xbe", 5000)})
	// Its own pom is the longest artifactId that starts its name, though
	// the bundled guice's sorts (and starts the name) first.
	starter := jarOf(t,
		[2]string{"META-INF/maven/com.google.inject/guice/pom.properties", "groupId=com.google.inject\nartifactId=guice\nversion=4.0\n"},
		[2]string{"META-INF/maven/org.example/guiceberry/pom.properties", "groupId=org.example\nartifactId=guiceberry\nversion=3.3.1\n"})
	guava := jarOf(t, [2]string{"com/google/common/base/Strings.class", strings.Repeat("x", 3000)})
	bundle := jarOf(t, [2]string{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.osgi.thing;singleton:=true\r\nBundle-Version: 2.0.0\r\n\r\nName: x\r\nImplementation-Title: not the main section\r\n"})
	impl := jarOf(t, [2]string{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: long-na\n me\nImplementation-Version: 3\n"})
	notZip := []byte(strings.Repeat("not a zip archive ", 100))
	img := testlayer.Image(t, testlayer.Layer(t,
		testlayer.File("srv/app-1.4.2.jar", app),
		testlayer.File("srv/lib/guava-31.1-jre.jar", guava),
		testlayer.File("srv/lib/guiceberry-3.3.1.jar", starter),
		testlayer.File("opt/other/guava-31.1-jre.jar", guava),
		testlayer.File("srv/lib/bundle.jar", bundle),
		testlayer.File("srv/lib/impl.war", impl),
		testlayer.File("srv/lib/broken.jar", notZip),
	))
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{"java": img})
	p := packagesJSON(t, "oci:"+dir+":java")
	everyByteOnce(t, img, p)
	got := byName(p)
	checkVersionBytes(t, got, map[string]versionBytes{
		"java:com.example:app":        {"1.4.2", int64(len(app))},
		"java:guava":                  {"31.1-jre", 2 * int64(len(guava))},
		"java:org.osgi.thing":         {"2.0.0", int64(len(bundle))},
		"java:long-name":              {"3", int64(len(impl))},
		"java:org.example:guiceberry": {"3.3.1", int64(len(starter))},
	})
	if len(p.Packages) != 5 {
		t.Errorf("%d packages, want 5 (the shaded deps and the broken jar are none): %v", len(p.Packages), got)
	}
	if p.Unowned.Bytes != int64(len(notZip)) {
		t.Errorf("unowned %d bytes, want the broken jar's %d", p.Unowned.Bytes, len(notZip))
	}
}
