package packages

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imgsize/imgsize/internal/testmain"
	"github.com/imgsize/imgsize/internal/testrpm"
	"github.com/imgsize/imgsize/pkg/packages/internal/sqlite"
)

// rpmRoot is the root testrpm builds, made once for the package's tests
// (TestMain removes it).
var rpmRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "imgsize-rpm-")
	if err != nil {
		return "", err
	}
	rpmDir = dir
	return testrpm.Build(dir)
})

var rpmDir string

// bdbCopy is the shared root's packages as a Berkeley DB (testrpm.BerkeleyDB),
// made once for the tests that read that format.
var bdbCopy = sync.OnceValues(func() ([]byte, error) {
	root, err := rpmRoot()
	if err != nil {
		return nil, err
	}
	return testrpm.BerkeleyDB(root)
})

// queryOnce and queried: what rpm -qa says of the shared root, asked by
// the first test that needs it.
var (
	queryOnce sync.Once
	queried   map[string]testrpm.Package
)

func rootQuery(t *testing.T) map[string]testrpm.Package {
	t.Helper()
	queryOnce.Do(func() { queried = testrpm.Query(t, builtRoot(t)) })
	if queried == nil {
		t.Fatal("rpm -qa of the shared rpm root failed (see the first test that asked)")
	}
	return queried
}

func builtBDB(t *testing.T) []byte {
	t.Helper()
	testrpm.Tools(t, "sqlite3", "db5.3_load")
	b, err := bdbCopy()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rpmDir != "" {
		_ = os.RemoveAll(rpmDir)
	}
	testmain.Exit(code)
}

// rpmInput is what Read gets of an rpm root: its database, its log, and
// its regular files' paths.
func rpmInput(t *testing.T, root string) Input {
	t.Helper()
	in := Input{Files: map[string][]byte{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		in.Paths = append(in.Paths, rel)
		if isRpmFile(rel) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			in.Files[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func builtRoot(t *testing.T) string {
	t.Helper()
	testrpm.Tools(t)
	root, err := rpmRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRpmAgreesWithRpm reads the database rpm wrote and holds every
// package to what rpm's own queries (rpm -qa, rpm -ql) say of it: name,
// [epoch:]version-release, declared size and every path, directories and
// the documentation left uninstalled included.
func TestRpmAgreesWithRpm(t *testing.T) {
	t.Parallel()
	root := builtRoot(t)
	in := rpmInput(t, root)
	if _, ok := in.Files["var/lib/rpm/rpmdb.sqlite"]; !ok {
		t.Fatalf("no database at var/lib/rpm/rpmdb.sqlite; files: %v", in.Paths)
	}
	agreesWithRpm(t, Read(in), rootQuery(t), "var/lib/rpm/rpmdb.sqlite")
}

// TestRpmBerkeleyDBAgreesWithRpm: the same packages in the Berkeley DB
// format of RHEL 7 and 8, as Berkeley DB's own loader writes it, read as
// rpm's bdb_ro backend reads them.
func TestRpmBerkeleyDBAgreesWithRpm(t *testing.T) {
	t.Parallel()
	root := builtRoot(t)
	b := builtBDB(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "var/lib/rpm/Packages"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	want := testrpm.Query(t, dir)
	if sq := rootQuery(t); fmt.Sprint(sq) != fmt.Sprint(want) {
		t.Fatalf("rpm reads other packages from the Berkeley DB copy:\n%v\nthan from the SQLite database:\n%v", want, sq)
	}
	in := rpmInput(t, root)
	in.Paths = slices.DeleteFunc(in.Paths, func(p string) bool { return strings.Contains(p, "rpmdb.sqlite") })
	in.Paths = append(in.Paths, "var/lib/rpm/Packages")
	in.Files = map[string][]byte{"var/lib/rpm/Packages": b}
	agreesWithRpm(t, Read(in), want, "var/lib/rpm/Packages")
}

// agreesWithRpm holds what Read found in the one rpm database at db to
// what rpm's queries said (want).
func agreesWithRpm(t *testing.T, r Result, want map[string]testrpm.Package, db string) {
	t.Helper()
	if len(r.Databases) != 1 || !r.Databases[0].Read || r.Databases[0].Path != db || r.Databases[0].Packages != len(want) {
		t.Fatalf("databases = %+v, want %s read, with %d packages", r.Databases, db, len(want))
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes: %q", r.Notes)
	}
	got := map[string]Package{}
	for _, p := range r.Packages {
		got[p.Name] = p
	}
	if len(got) != len(want) {
		t.Errorf("%d packages read, rpm lists %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not read", w.Describe())
			continue
		}
		if g.Kind != Rpm || g.Version != w.Version || g.Declared != w.Size || g.Database != db {
			t.Errorf("%s: read %s %q, %d bytes declared, from %s", w.Describe(), g.Kind, g.Version, g.Declared, g.Database)
		}
		gf, wf := slices.Sorted(slices.Values(g.Files)), slices.Sorted(slices.Values(w.Files))
		if !slices.Equal(gf, wf) {
			t.Errorf("%s: %d paths read, rpm -ql lists %d:\n got %.10q…\nwant %.10q…", name, len(gf), len(wf), gf, wf)
		}
	}
	// The spec's own numbers, so that a query that went wrong the same way
	// cannot pass: the epoch, the file count, and the empty package.
	if got["hello"].Version != "2:1.2-3" || len(got["hello-big"].Files) < testrpm.ManyFiles || len(got["hello-meta"].Files) != 0 {
		t.Errorf("hello %q, hello-big %d paths, hello-meta %d paths; want 2:1.2-3, at least %d, none",
			got["hello"].Version, len(got["hello-big"].Files), len(got["hello-meta"].Files), testrpm.ManyFiles)
	}
}

// TestRpmDatabaseShape makes sure the database read above is one that
// tests the reader: hello-big's header spills over overflow pages and the
// table is more than one page.
func TestRpmDatabaseShape(t *testing.T) {
	t.Parallel()
	root := builtRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(b[16:]))
	largest := 0
	if err := db.Table("Packages", func(r sqlite.Row) error {
		largest = max(largest, len(r.Cols[1].([]byte)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if largest <= pageSize {
		t.Errorf("the largest header is %d bytes, not more than a page of %d: no overflow chain is read", largest, pageSize)
	}
}

// TestRpmUnread: a database that cannot be read is listed as not read,
// with the reason, and its packages' files stay unowned; the ndb format is
// found and not read.
func TestRpmUnread(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]Input{
		"corrupt":                  {Files: map[string][]byte{"var/lib/rpm/rpmdb.sqlite": []byte("SQLite format 3\x00 but nothing else")}, Paths: []string{"var/lib/rpm/rpmdb.sqlite"}},
		"not captured":             {Files: map[string][]byte{}, Paths: []string{"usr/lib/sysimage/rpm/rpmdb.sqlite"}},
		"berkeley db not captured": {Files: map[string][]byte{}, Paths: []string{"var/lib/rpm/Packages"}},
		"berkeley db corrupt":      {Files: map[string][]byte{"var/lib/rpm/Packages": make([]byte, 4096)}, Paths: []string{"var/lib/rpm/Packages"}},
		"ndb":                      {Files: map[string][]byte{}, Paths: []string{"usr/lib/sysimage/rpm/Packages.db"}},
	} {
		r := Read(in)
		if len(r.Databases) != 1 || r.Databases[0].Read || r.Databases[0].Note == "" || len(r.Notes) != 1 || len(r.Packages) != 0 {
			t.Errorf("%s: databases %+v, notes %q, %d packages; want one database not read, with its reason", name, r.Databases, r.Notes, len(r.Packages))
		}
	}
}

// TestRpmLogNotCaptured: rpm's database with a last transaction only in
// its -wal log (sqlite3 adds a package, a copy of the first, and the file
// and its log are copied while sqlite3 holds them open) is read with the
// log's package; without a log at all, without it; with the log in the
// filesystem but not captured, not at all (it would miss that package).
func TestRpmLogNotCaptured(t *testing.T) {
	t.Parallel()
	testrpm.Tools(t, "sqlite3")
	root := builtRoot(t)
	const db, wal = "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite-wal"
	dir := t.TempDir()
	work, snap := filepath.Join(dir, "work.sqlite"), filepath.Join(dir, "snap.sqlite")
	orig, err := os.ReadFile(filepath.Join(root, db))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(work, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sqlite3", "-batch", "-bail", work)
	cmd.Stdin = strings.NewReader("PRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\n" +
		"INSERT INTO Packages(blob) SELECT blob FROM Packages ORDER BY hnum LIMIT 1;\n" +
		fmt.Sprintf(".shell cp %s %s && cp %s-wal %s-wal\n", work, snap, work, snap))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	file, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(snap + "-wal")
	if err != nil || len(log) == 0 {
		t.Fatalf("no log with the new package: %d bytes, %v", len(log), err)
	}
	read := func(files map[string][]byte, paths ...string) Result {
		return Read(Input{Files: files, Paths: paths})
	}
	want := len(rootQuery(t))
	if r := read(map[string][]byte{db: file, wal: log}, db, wal); len(r.Databases) != 1 || !r.Databases[0].Read || len(r.Packages) != want+1 {
		t.Errorf("with its log: %+v, %d packages; want read, %d (the log's one more)", r.Databases, len(r.Packages), want+1)
	}
	if r := read(map[string][]byte{db: file}, db); len(r.Databases) != 1 || !r.Databases[0].Read || len(r.Packages) != want {
		t.Errorf("with no log at all: %+v, %d packages; want read, %d", r.Databases, len(r.Packages), want)
	}
	r := read(map[string][]byte{db: file}, db, wal)
	if len(r.Databases) != 1 || r.Databases[0].Read || !strings.Contains(r.Databases[0].Note, "-wal") || len(r.Packages) != 0 {
		t.Errorf("log listed, not captured: %+v; want %s not read, naming its -wal log", r.Databases, db)
	}
}

// TestRpmLeftovers: an older format's database beside a SQLite one that
// was read is a leftover rpm ignores: listed as read, with no packages,
// so that neither are packages counted twice nor is the image refused.
// Beside a SQLite database that could not be read, it is read (or, for
// ndb, refused) as it would be alone.
func TestRpmLeftovers(t *testing.T) {
	t.Parallel()
	root := builtRoot(t)
	bdbFile := builtBDB(t)
	in := rpmInput(t, root)
	in.Files["var/lib/rpm/Packages"] = bdbFile
	in.Paths = append(in.Paths, "var/lib/rpm/Packages", "var/lib/rpm/Packages.db")
	r := Read(in)
	read := map[string]Database{}
	for _, d := range r.Databases {
		read[d.Path] = d
	}
	want := len(rootQuery(t))
	if d := read["var/lib/rpm/rpmdb.sqlite"]; !d.Read || d.Packages != want {
		t.Errorf("rpmdb.sqlite: %+v, want read with %d packages", d, want)
	}
	for _, p := range []string{"var/lib/rpm/Packages", "var/lib/rpm/Packages.db"} {
		if d := read[p]; !d.Read || d.Packages != 0 || !strings.Contains(d.Note, "leftover") {
			t.Errorf("%s: %+v, want a leftover, read with no packages", p, d)
		}
	}
	if len(r.Packages) != want || len(r.Notes) != 2 || !strings.Contains(r.Notes[0], "leftover") {
		t.Errorf("%d packages and notes %q, want %d and a note for each leftover", len(r.Packages), r.Notes, want)
	}
	// The SQLite database damaged: the Berkeley DB is read, ndb refused.
	in.Files["var/lib/rpm/rpmdb.sqlite"] = []byte("SQLite format 3\x00 but nothing else")
	r = Read(in)
	read = map[string]Database{}
	for _, d := range r.Databases {
		read[d.Path] = d
	}
	if read["var/lib/rpm/rpmdb.sqlite"].Read || !read["var/lib/rpm/Packages"].Read || read["var/lib/rpm/Packages"].Packages != want || read["var/lib/rpm/Packages.db"].Read {
		t.Errorf("with a damaged rpmdb.sqlite: %+v; want it and Packages.db not read, Packages read with %d packages", r.Databases, want)
	}
}

// TestRpmHostileHeaders: headers whose counts and offsets point outside
// themselves are errors, not panics or huge allocations.
func TestRpmHostileHeaders(t *testing.T) {
	name := entry(rpmTagName, rpmString, 0, 1)
	for desc, b := range map[string][]byte{
		"short":                  {0, 0, 0},
		"counts past the end":    binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0xffff), 0x0fffffff),
		"offset past data":       header([]byte("x\x00"), entry(rpmTagName, rpmString, 9, 1)),
		"string without NUL":     header([]byte("hello"), name),
		"no name":                header([]byte("\x00"), name),
		"billions of strings":    header([]byte("a\x00b\x00"), name, entry(rpmTagBasenames, rpmStringArray, 0, 0xffffffff)),
		"billions of ints":       header([]byte("a\x00\x00\x00"), name, entry(rpmTagDirIndexes, rpmInt32, 0, 0xffffffff), entry(rpmTagBasenames, rpmStringArray, 0, 1)),
		"directory index":        header([]byte("a\x00\x00\x00\x00\x07"), name, entry(rpmTagBasenames, rpmStringArray, 0, 1), entry(rpmTagDirIndexes, rpmInt32, 2, 1), entry(rpmTagDirNames, rpmStringArray, 0, 1)),
		"name of the wrong type": header([]byte("a\x00"), entry(rpmTagName, rpmInt32, 0, 1)),
		// One long directory named by thousands of one-byte files: 185
		// kB of header, gigabytes of paths.
		"paths outgrow the header": manyFiles(4000, 20_000),
		"a path too long":          manyFiles(5000, 1),
	} {
		h, err := parseRpmHeader(b)
		if err == nil {
			budget := rpmPathBudget(len(b))
			_, err = h.pkg("db", &budget)
		}
		if !errors.Is(err, errRpmHeader) {
			t.Errorf("%s: %v, want a malformed header", desc, err)
		}
	}
}

// TestRpmPathsBoundedPerDatabase: thousands of small headers, each
// within any bound of its own (110 one-byte files in a 680-byte
// directory, 75 kB of paths from 1.4 kB), cannot multiply the database
// into gigabytes of paths: the bound is the whole database's.
func TestRpmPathsBoundedPerDatabase(t *testing.T) {
	t.Parallel()
	testrpm.Tools(t, "sqlite3")
	header := manyFiles(680, 110)
	if n := 110 * 681; n <= rpmPathBudget(len(header))-64<<10 {
		t.Fatalf("a header's %d path bytes are within 8 times its %d bytes: the test needs headers that outgrow themselves", n, len(header))
	}
	file := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	cmd := exec.Command("sqlite3", "-batch", "-bail", file)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);\n"+
		"WITH RECURSIVE x(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM x WHERE k < 2000) INSERT INTO Packages(blob) SELECT X'%x' FROM x;\n", header))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := Read(Input{Files: map[string][]byte{"var/lib/rpm/rpmdb.sqlite": b}, Paths: []string{"var/lib/rpm/rpmdb.sqlite"}})
	paths := 0
	for _, p := range r.Packages {
		paths += len(p.Files)
	}
	if len(r.Databases) != 1 || r.Databases[0].Read || !strings.Contains(r.Databases[0].Note, "outgrow the database") {
		t.Errorf("databases %+v (%d paths read); want the database refused, its paths outgrowing it", r.Databases, paths)
	}
}

// entry is an rpm header index entry: tag, type, offset, count.
func entry(tag, typ, off, count uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, tag), typ), off), count)
}

// header is an rpm header blob: the entry count and data length, the
// entries, the data.
func header(data []byte, entries ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(len(entries))), uint32(len(data)))
	for _, e := range entries {
		b = append(b, e...)
	}
	return append(b, data...)
}

// manyFiles is a header naming n one-byte files in one directory of
// dirLen bytes.
func manyFiles(dirLen, n int) []byte {
	data := []byte("a\x00")
	dirOff := len(data)
	data = append(append(data, strings.Repeat("d", dirLen)...), 0)
	baseOff := len(data)
	data = append(data, strings.Repeat("f\x00", n)...)
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	idxOff := len(data)
	data = append(data, make([]byte, 4*n)...)
	return header(data,
		entry(rpmTagName, rpmString, 0, 1),
		entry(rpmTagDirNames, rpmStringArray, uint32(dirOff), 1),
		entry(rpmTagBasenames, rpmStringArray, uint32(baseOff), uint32(n)),
		entry(rpmTagDirIndexes, rpmInt32, uint32(idxOff), uint32(n)))
}

// FuzzRpmHeader runs damaged headers through the parser, seeded with the
// headers rpm wrote when rpmbuild and rpm are installed.
func FuzzRpmHeader(f *testing.F) {
	if root, err := rpmRoot(); err == nil {
		if b, err := os.ReadFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")); err == nil {
			if db, err := sqlite.Open(b, nil); err == nil {
				_ = db.Table("Packages", func(r sqlite.Row) error {
					if h, ok := r.Cols[1].([]byte); ok && len(h) < 8192 {
						f.Add(h)
					}
					return nil
				})
			}
		}
	}
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 3, 0xe8, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseRpmHeader(b)
		if err != nil {
			return
		}
		budget := rpmPathBudget(len(b))
		p, err := h.pkg("db", &budget)
		if err != nil {
			return
		}
		n := 0
		for _, f := range p.Files {
			n += len(f)
		}
		if len(p.Files) > len(b) || n > rpmPathBudget(len(b)) {
			t.Fatalf("%d paths of %d bytes from %d bytes", len(p.Files), n, len(b))
		}
	})
}
