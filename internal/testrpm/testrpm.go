// Package testrpm builds a filesystem root whose packages rpm itself
// installed: rpmbuild makes packages of known files from one spec, and
// rpm installs them under the root, writing its SQLite database at
// var/lib/rpm/rpmdb.sqlite. The package readers' rpm tests read that
// database and hold what they find to what rpm's own queries say.
package testrpm

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
)

// Spec is the spec file rpmbuild builds: "hello" (with an epoch, a
// symlink and a hard link), "hello-big" (ManyFiles files, whose header
// spills over several database pages), "gcc-fake" (a compiler by name)
// and "hello-meta" (no files at all). Their files share directories, and
// hello-big also lists a documentation file that is not installed (as
// dnf's tsflags=nodocs leaves out), so the database declares more than
// the filesystem holds.
const Spec = `Name: hello
Epoch: 2
Version: 1.2
Release: 3
Summary: hello
License: MIT
BuildArch: noarch
%description
hello

%package big
Summary: many files
%description big
many files

%package -n gcc-fake
Version: 13.2
Release: 1
Summary: a compiler by name
%description -n gcc-fake
a compiler by name

%package -n hello-meta
Summary: no files
%description -n hello-meta
no files

%install
mkdir -p %{buildroot}/usr/share/hello %{buildroot}/usr/bin %{buildroot}/usr/share/big %{buildroot}/usr/libexec/gcc %{buildroot}/usr/share/doc/hello-big
head -c 12345 /dev/zero | tr '\0' h > %{buildroot}/usr/share/hello/data
printf '#!/bin/sh\necho hello\n' > %{buildroot}/usr/bin/hello
ln -s hello %{buildroot}/usr/bin/hi
ln %{buildroot}/usr/share/hello/data %{buildroot}/usr/share/hello/data.link
for i in $(seq 1 ManyFiles); do printf 'file %d\n' $i > %{buildroot}/usr/share/big/file-$i.txt; done
head -c 70000 /dev/zero | tr '\0' g > %{buildroot}/usr/libexec/gcc/cc1
head -c 5000 /dev/zero | tr '\0' d > %{buildroot}/usr/share/doc/hello-big/README

%files
/usr/share/hello
/usr/bin/hello
/usr/bin/hi

%files big
/usr/share/big
%doc /usr/share/doc/hello-big/README

%files -n gcc-fake
/usr/libexec/gcc

%files -n hello-meta
`

// ManyFiles is how many files hello-big holds.
const ManyFiles = 600

// Tools requires rpm and rpmbuild, and the other tools named (sqlite3,
// db5.3_load), as testutil.RequireTool does: skipped without them, failed
// under CI=true.
func Tools(t testing.TB, more ...string) {
	t.Helper()
	for _, name := range append([]string{"rpm", "rpmbuild"}, more...) {
		testutil.RequireTool(t, name)
	}
}

// BerkeleyDB returns the packages of root's SQLite database as the
// Berkeley DB hash database (Packages) that rpm 4.15 and older (RHEL 7
// and 8) keep: the header blobs as sqlite3 reads them, each under its
// package number as a 4-byte little-endian key, and key 0 holding the
// highest number, loaded by Berkeley DB's own db5.3_load with 4 KiB pages.
// rpm's bdb_ro backend reads the result (Query does).
func BerkeleyDB(root string) ([]byte, error) {
	// immutable: sqlite3 creates, truncates and removes no -wal or -shm
	// file beside a database that tests running at the same time read.
	out, err := run("sqlite3", "file:"+filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")+"?immutable=1", "SELECT hnum, hex(blob) FROM Packages")
	if err != nil {
		return nil, err
	}
	var dump strings.Builder
	dump.WriteString("VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n")
	key := func(n uint32) string {
		return fmt.Sprintf(" %02x%02x%02x%02x\n", byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	var highest uint32
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		num, blob, ok := strings.Cut(line, "|")
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("sqlite3 printed %q", line)
		}
		highest = max(highest, uint32(n))
		dump.WriteString(key(uint32(n)) + " " + strings.ToLower(blob) + "\n")
	}
	dump.WriteString(key(0) + key(highest) + "DATA=END\n")
	dir, err := os.MkdirTemp("", "imgsize-bdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "Packages")
	cmd := exec.Command("db5.3_load", "-c", "db_pagesize=4096", file)
	cmd.Stdin = strings.NewReader(dump.String())
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("db5.3_load: %v\n%s", err, b)
	}
	return os.ReadFile(file)
}

// Build builds the packages of Spec and installs them, documentation
// excluded, into a new root under dir; it returns the root. Tests that
// share one root call it once (Root is for a test of its own).
func Build(dir string) (string, error) {
	top := filepath.Join(dir, "rpmbuild")
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(top, "SPECS"), 0o755); err != nil {
		return "", err
	}
	spec := filepath.Join(top, "SPECS", "hello.spec")
	if err := os.WriteFile(spec, []byte(strings.ReplaceAll(Spec, "ManyFiles", strconv.Itoa(ManyFiles))), 0o644); err != nil {
		return "", err
	}
	if _, err := run("rpmbuild", "--define", "_topdir "+top, "--define", "__os_install_post %{nil}", "--define", "debug_package %{nil}",
		"--define", "_build_id_links none", "-bb", spec); err != nil {
		return "", err
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "noarch", "*.rpm"))
	if err != nil || len(rpms) != 4 {
		return "", fmt.Errorf("rpmbuild made %d packages, want 4 (%v)", len(rpms), err)
	}
	if _, err := run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb"); err != nil {
		return "", err
	}
	if _, err := run(append([]string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts", "--nosignature", "--ignorearch", "--ignoreos", "--excludedocs"}, rpms...)...); err != nil {
		return "", err
	}
	return root, nil
}

// Root is Build for one test, in a directory of its own.
func Root(t testing.TB) string {
	t.Helper()
	Tools(t)
	root, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs a command and returns its standard output (rpm's warnings go
// to its standard error, shown only when it fails).
func run(args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out), nil
}

// Package is what rpm's own query says of an installed package.
type Package struct {
	Name, Version string
	// Size is rpm's %{SIZE}: the sum of its files' sizes.
	Size int64
	// Files are its paths, relative to the root.
	Files []string
}

// Query asks rpm for every package installed under root, with its files
// (what rpm -ql lists: %{FILENAMES}), in one rpm -qa: from
// var/lib/rpm/rpmdb.sqlite, or from a Berkeley DB var/lib/rpm/Packages
// with rpm's bdb_ro backend (which has no name index for rpm -ql NAME).
func Query(t testing.TB, root string) map[string]Package {
	t.Helper()
	// rpm opens its database for writing even to query it (creating and
	// removing rpmdb.sqlite-shm and -wal): it queries a copy, so that the
	// root stays as built for tests reading it at the same time.
	root = dbCopy(t, root)
	args := []string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm"}
	if _, err := os.Stat(filepath.Join(root, "var/lib/rpm/Packages")); err == nil {
		args = append(args, "--define", "_db_backend bdb_ro")
	}
	q, err := run(append(args, "-qa", "--qf", "PKG %{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{SIZE}\n[FILE %{FILENAMES}\n]")...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Package{}
	var cur *Package
	sc := bufio.NewScanner(strings.NewReader(q))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "FILE /"); ok && cur != nil {
			cur.Files = append(cur.Files, f)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "PKG" {
			t.Fatalf("rpm -qa printed %q", line)
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Fatalf("rpm -qa: %q", line)
		}
		if cur != nil {
			out[cur.Name] = *cur
		}
		cur = &Package{Name: f[1], Version: f[2], Size: size}
	}
	if cur != nil {
		out[cur.Name] = *cur
	}
	if len(out) == 0 {
		t.Fatalf("rpm -qa lists nothing:\n%s", q)
	}
	return out
}

// dbCopy copies root's var/lib/rpm (its files, not subdirectories) into
// a new root and returns that root.
func dbCopy(t testing.TB, root string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join(root, "var/lib/rpm")
	if err := os.MkdirAll(filepath.Join(dst, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a -wal or -shm another reader just removed
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "var/lib/rpm", e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Describe is a one-line summary for failure messages.
func (p Package) Describe() string {
	return fmt.Sprintf("%s %s (%d bytes, %d paths)", p.Name, p.Version, p.Size, len(p.Files))
}
