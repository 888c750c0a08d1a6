package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
)

// shell runs script in the sqlite3 shell, SQLite's own reader and writer,
// on the database at db and returns what it printed; the test is skipped
// without sqlite3 (failed under CI=true, where .ci/run installs it).
func shell(t testing.TB, db, script string) string {
	t.Helper()
	testutil.RequireTool(t, "sqlite3")
	// The output (tens of MB of hex for the large tables) goes to a file
	// read back in one piece: through a pipe into a growing buffer it
	// cost seconds of CPU under -race.
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("sqlite3", "-batch", "-bail", db)
	cmd.Stdin = strings.NewReader(script)
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	b, rerr := os.ReadFile(out.Name())
	if err != nil || rerr != nil {
		t.Fatalf("sqlite3: %v\n%s", errors.Join(err, rerr), b)
	}
	return string(b)
}

// fill makes table t of n rows whose values cover every serial type: small
// and large, negative and positive integers, reals, text (some long enough
// to overflow), blobs from none to many pages, and NULL.
func fill(n, blob int) string {
	return fmt.Sprintf(`CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, z);
WITH RECURSIVE x(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM x WHERE k < %d)
INSERT INTO t SELECT k*3, (k %% 9 - 4) * (1 << (k %% 61)), k / 7.0, printf('%%.*c', (k * 131) %% 3000, 'x') || k,
  CASE WHEN k %% 5 = 0 THEN NULL ELSE randomblob((k * k * 97) %% %d) END, CASE WHEN k %% 2 = 0 THEN 0 ELSE 1 END FROM x;
CREATE TABLE other(a TEXT);
INSERT INTO other VALUES ('not read');
`, n, blob)
}

// expected asks sqlite3 for table t's rows, one line each.
const expected = `.mode list
.separator |
SELECT id, i, printf('%!.17g', r), hex(s), hex(b), typeof(b), z FROM t ORDER BY id;
`

// rowLine prints a row read by Table the way expected prints one.
func rowLine(t *testing.T, r Row) string {
	t.Helper()
	if len(r.Cols) != 6 || r.Cols[0] != nil {
		t.Fatalf("row %d: columns %v, want 6 with the rowid alias NULL", r.ID, r.Cols)
	}
	i, ok1 := r.Cols[1].(int64)
	// SQLite stores a REAL with a whole value as an integer.
	if n, ok := r.Cols[2].(int64); ok {
		r.Cols[2] = float64(n)
	}
	f, ok2 := r.Cols[2].(float64)
	s, ok3 := r.Cols[3].(string)
	z, ok4 := r.Cols[5].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		t.Fatalf("row %d: column types %T %T %T %T", r.ID, r.Cols[1], r.Cols[2], r.Cols[3], r.Cols[5])
	}
	b, kind := []byte(nil), "null"
	if v, ok := r.Cols[4].([]byte); ok {
		b, kind = v, "blob"
	}
	// Appended to a line sized up front rather than formatted: the rows
	// hold tens of MB, and fmt, hex and ToUpper in turn cost seconds of
	// CPU under -race.
	line := make([]byte, 0, 2*(len(s)+len(b))+128)
	line = strconv.AppendInt(line, r.ID, 10)
	line = append(line, '|')
	line = strconv.AppendInt(line, i, 10)
	line = append(line, '|')
	line = strconv.AppendFloat(line, f, 'g', 17, 64)
	line = append(line, '|')
	line = upperHex(line, []byte(s))
	line = append(line, '|')
	line = upperHex(line, b)
	line = append(line, '|')
	line = append(line, kind...)
	line = append(line, '|')
	line = strconv.AppendInt(line, z, 10)
	return string(line)
}

// upperHex appends b in hex as sqlite3's hex() writes it, upper case.
func upperHex(dst, b []byte) []byte {
	const digits = "0123456789ABCDEF"
	n := len(dst)
	dst = append(dst, make([]byte, 2*len(b))...)
	for i, c := range b {
		dst[n+2*i], dst[n+2*i+1] = digits[c>>4], digits[c&15]
	}
	return dst
}

// TestTableAgreesWithSQLite reads databases sqlite3 wrote, in every page
// size, some deep enough for interior pages and some with blobs spilling
// over long overflow chains, and holds each row to what sqlite3 itself
// reads from the file.
func TestTableAgreesWithSQLite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pageSize, rows, blob int
	}{
		{512, 3000, 700},
		{1024, 40, 300_000},
		{4096, 2000, 9000},
		{65536, 60, 200_000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("page%d_rows%d", c.pageSize, c.rows), func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "db.sqlite")
			shell(t, file, fmt.Sprintf("PRAGMA page_size=%d;\n%s", c.pageSize, fill(c.rows, c.blob)))
			want := strings.Split(strings.TrimSpace(shell(t, file, expected)), "\n")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := db.Table("t", func(r Row) error {
				got = append(got, rowLine(t, r))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, sqlite3 reads %d", len(got), len(want))
			}
			for i := range want {
				// printf('%!.17g') and Go agree on digits but not on
				// the form of exponents and trailing zeros: compare
				// the reals as numbers.
				if !sameRow(got[i], want[i]) {
					t.Fatalf("row %d:\n got %.200s\nwant %.200s", i, got[i], want[i])
				}
			}
			if db.pages <= 2 {
				t.Errorf("only %d pages: the case does not test a b-tree", db.pages)
			}
			var other []any
			if err := db.Table("other", func(r Row) error { other = r.Cols; return nil }); err != nil || len(other) != 1 || other[0] != "not read" {
				t.Errorf("table other = %v, %v", other, err)
			}
			if err := db.Table("missing", func(Row) error { return nil }); !errors.Is(err, ErrNoTable) {
				t.Errorf("a missing table: %v, want ErrNoTable", err)
			}
		})
	}
}

func sameRow(got, want string) bool {
	g, w := strings.Split(got, "|"), strings.Split(want, "|")
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if i == 2 {
			gf, err1 := strconv.ParseFloat(g[i], 64)
			wf, err2 := strconv.ParseFloat(w[i], 64)
			if err1 != nil || err2 != nil || gf != wf {
				return false
			}
			continue
		}
		if g[i] != w[i] {
			return false
		}
	}
	return true
}

// TestWAL reads a database whose last transactions are only in its
// write-ahead log: sqlite3 copies the file and its log while it holds them
// open, before any checkpoint. Every committed row is read; a log cut in
// the middle of a transaction, or with a frame altered, gives the rows of
// the transactions committed before the damage, as SQLite recovers it.
func TestWAL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "db.sqlite")
	copyTo := func(name string) string {
		return fmt.Sprintf(".shell cp %s %s && cp %s-wal %s-wal\n", file, filepath.Join(dir, name), file, filepath.Join(dir, name))
	}
	// 10 rows in the file; then, in the log only, 3 transactions of 10
	// rows each, the last of blobs of several pages.
	script := "PRAGMA page_size=1024;\nCREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);\n" +
		"WITH RECURSIVE x(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM x WHERE k < 10) INSERT INTO t SELECT k, zeroblob(10) FROM x;\n" +
		"PRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\n"
	for tx := 1; tx <= 3; tx++ {
		script += fmt.Sprintf("WITH RECURSIVE x(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM x WHERE k < 10) INSERT INTO t SELECT %d*100+k, randomblob(%d) FROM x;\n", tx, tx*1500)
	}
	script += copyTo("copy.sqlite")
	shell(t, file, script)
	b, err := os.ReadFile(filepath.Join(dir, "copy.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(filepath.Join(dir, "copy.sqlite-wal"))
	if err != nil {
		t.Fatal(err)
	}
	count := func(t *testing.T, b, wal []byte) (int, int64) {
		t.Helper()
		db, err := Open(b, wal)
		if err != nil {
			t.Fatal(err)
		}
		n, last := 0, int64(0)
		if err := db.Table("t", func(r Row) error { n++; last = r.ID; return nil }); err != nil {
			t.Fatal(err)
		}
		return n, last
	}
	if n, _ := count(t, b, nil); n != 10 {
		t.Errorf("without its log: %d rows, want the file's 10", n)
	}
	if n, last := count(t, b, wal); n != 40 || last != 310 {
		t.Errorf("with its log: %d rows up to id %d, want 40 up to 310", n, last)
	}
	// Commit frames: the frames whose "database size" field is set.
	frame := 24 + 1024
	var commits []int
	for off := 32; off+frame <= len(wal); off += frame {
		if binary.BigEndian.Uint32(wal[off+4:]) > 0 {
			commits = append(commits, off)
		}
	}
	if len(commits) != 3 {
		t.Fatalf("%d commit frames in the log, want 3", len(commits))
	}
	// Cut just before the last commit frame ends: two transactions stay.
	if n, last := count(t, b, wal[:commits[2]+frame-1]); n != 30 || last != 210 {
		t.Errorf("log cut in the third transaction: %d rows up to %d, want 30 up to 210", n, last)
	}
	// A flipped byte in the second transaction's commit frame voids it
	// and all after it.
	bad := bytes.Clone(wal)
	bad[commits[1]+24+500] ^= 0xff
	if n, last := count(t, b, bad); n != 20 || last != 110 {
		t.Errorf("log damaged in the second transaction: %d rows up to %d, want 20 up to 110", n, last)
	}
	// A log whose header fails its checksum is void.
	bad = bytes.Clone(wal)
	bad[12] ^= 1
	if n, _ := count(t, b, bad); n != 10 {
		t.Errorf("log with a bad header: %d rows, want the file's 10", n)
	}
	if _, err := Open(b, []byte("not a log, but long enough for a header")); !errors.Is(err, ErrFormat) {
		t.Errorf("a log of another format: %v, want ErrFormat", err)
	}
}

// TestHostile holds the reader to an error, never a panic or a loop, on
// databases damaged where a hostile image would: a truncated file, pages
// pointing outside it or at themselves, payload sizes larger than it, and
// overflow chains that loop.
func TestHostile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "db.sqlite")
	shell(t, file, "PRAGMA page_size=512;\n"+fill(400, 3000))
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	root, err := db.root("t")
	if err != nil {
		t.Fatal(err)
	}
	ps := 512
	rootOff := int(root-1) * ps
	if good[rootOff] != interiorTable {
		t.Fatalf("the root page of t is of type %#x, want an interior page", good[rootOff])
	}
	// Each case is the good file with one thing broken.
	mutate := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	cases := map[string][]byte{
		"empty":        {},
		"header only":  good[:100],
		"bad magic":    mutate(func(b []byte) { b[0] = 'X' }),
		"page size 3":  mutate(func(b []byte) { binary.BigEndian.PutUint16(b[16:], 3) }),
		"read version": mutate(func(b []byte) { b[19] = 3 }),
		"utf-16":       mutate(func(b []byte) { binary.BigEndian.PutUint32(b[56:], 2) }),
		"truncated":    good[:len(good)/2],
		"root loops":   mutate(func(b []byte) { binary.BigEndian.PutUint32(b[rootOff+8:], root) }),
		"child out of range": mutate(func(b []byte) {
			binary.BigEndian.PutUint32(b[rootOff+8:], math.MaxUint32)
		}),
		"cell count too large": mutate(func(b []byte) { binary.BigEndian.PutUint16(b[rootOff+3:], 0xffff) }),
		"cell pointer outside": mutate(func(b []byte) { binary.BigEndian.PutUint16(b[rootOff+12:], 0xfff0) }),
		"unknown page type":    mutate(func(b []byte) { b[rootOff] = 0x07 }),
	}
	// Every leaf cell's payload size set past the file's end, and every
	// overflow chain turned back on its own first page.
	cases["huge payload"] = mutate(func(b []byte) { everyLeafCell(b, ps, func(c []byte) { copy(c, []byte{0xff, 0xff, 0xff, 0x7f}) }) })
	cases["overflow loops"] = mutate(func(b []byte) {
		for p := 2; p*ps <= len(b); p++ {
			pg := b[(p-1)*ps : p*ps]
			// An overflow page's next pointer, where it is followed by
			// data: point every chain link back at itself.
			if pg[0] != leafTable && pg[0] != interiorTable && binary.BigEndian.Uint32(pg) != 0 {
				binary.BigEndian.PutUint32(pg, uint32(p))
			}
		}
	})
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			db, err := Open(b, nil)
			if err == nil {
				err = db.Table("t", func(Row) error { return nil })
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// TestSharedPayload: a leaf page whose cell pointers all name one cell
// with a long overflow chain would make a small file yield its payload
// over and over (100 copies of 50 kB from a 60 kB file); the scan refuses
// once the rows hold more payload than the database has bytes.
func TestSharedPayload(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "db.sqlite")
	shell(t, file, "PRAGMA page_size=512;\nCREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);\nINSERT INTO t VALUES (1, randomblob(50000));\n")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 512
	b := bytes.Clone(good)
	found := false
	for p := 2; p*ps <= len(b) && !found; p++ {
		pg := b[(p-1)*ps : p*ps]
		if pg[0] != leafTable || binary.BigEndian.Uint16(pg[3:]) != 1 {
			continue
		}
		cell := binary.BigEndian.Uint16(pg[8:])
		const copies = 100
		if int(cell) < 8+2*copies {
			t.Fatalf("the cell is at %d, inside the pointers a test would write", cell)
		}
		binary.BigEndian.PutUint16(pg[3:], copies)
		for i := range copies {
			binary.BigEndian.PutUint16(pg[8+2*i:], cell)
		}
		found = true
	}
	if !found {
		t.Fatal("no leaf page of one cell")
	}
	rows := 0
	db, err := Open(b, nil)
	if err == nil {
		err = db.Table("t", func(Row) error { rows++; return nil })
	}
	if !errors.Is(err, ErrFormat) {
		t.Errorf("%d rows and %v; want ErrFormat before the payload outgrows the file", rows, err)
	}
}

// everyLeafCell calls f with the bytes at each cell of each table leaf
// page of b.
func everyLeafCell(b []byte, ps int, f func(cell []byte)) {
	for p := 2; p*ps <= len(b); p++ {
		pg := b[(p-1)*ps : p*ps]
		if pg[0] != leafTable {
			continue
		}
		n := int(binary.BigEndian.Uint16(pg[3:]))
		for i := range n {
			if off := int(binary.BigEndian.Uint16(pg[8+2*i:])); off+4 < ps {
				f(pg[off:])
			}
		}
	}
}

// TestRecordColumns: a record header of zeros (each a NULL column) is
// refused past SQLite's 32767 columns, not turned into millions of
// values; one at the limit is read.
func TestRecordColumns(t *testing.T) {
	rec := func(n int) []byte {
		hlen := n + 3
		b := []byte{byte(hlen>>14) | 0x80, byte(hlen>>7) | 0x80, byte(hlen) & 0x7f}
		return append(b, make([]byte, n)...)
	}
	if cols, err := record(rec(maxColumns)); err != nil || len(cols) != maxColumns {
		t.Errorf("%d columns: %d read, %v", maxColumns, len(cols), err)
	}
	if _, err := record(rec(1 << 20)); !errors.Is(err, ErrFormat) {
		t.Errorf("a million columns: %v, want ErrFormat", err)
	}
}

func TestVarint(t *testing.T) {
	cases := []struct {
		in   []byte
		want uint64
		n    int
	}{
		{[]byte{0x7f}, 127, 1},
		{[]byte{0x81, 0x00}, 128, 2},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, math.MaxUint64, 9},
		{[]byte{0x81}, 0, 0},
		{nil, 0, 0},
	}
	for _, c := range cases {
		if got, n := varint(c.in); got != c.want || n != c.n {
			t.Errorf("varint(% x) = %d, %d; want %d, %d", c.in, got, n, c.want, c.n)
		}
	}
}

// FuzzOpen runs damaged databases and logs through Open and Table: an
// error or rows, never a panic, a loop or an allocation beyond the input.
func FuzzOpen(f *testing.F) {
	if p, err := exec.LookPath("sqlite3"); err == nil {
		dir := f.TempDir()
		file := filepath.Join(dir, "db.sqlite")
		cmd := exec.Command(p, "-batch", file)
		cmd.Stdin = strings.NewReader("PRAGMA page_size=512;\n" + fill(30, 1500) +
			"PRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\nINSERT INTO t(id, b) VALUES (1000, randomblob(900));\n" +
			fmt.Sprintf(".shell cp %s %s.c && cp %s-wal %s.c-wal\n", file, file, file, file))
		if out, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("sqlite3: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(file + ".c")
		wal, _ := os.ReadFile(file + ".c-wal")
		f.Add(b, wal)
		f.Add(b, []byte{})
	}
	f.Add([]byte(magic+strings.Repeat("\x00", 84)), []byte{})
	f.Fuzz(func(t *testing.T, b, wal []byte) {
		db, err := Open(b, wal)
		if err != nil {
			return
		}
		for _, name := range []string{"t", "other"} {
			// Over a whole table, not only one value: rows sharing cells
			// or chains must not multiply the input.
			total := 0
			_ = db.Table(name, func(r Row) error {
				for _, c := range r.Cols {
					switch v := c.(type) {
					case []byte:
						total += len(v)
					case string:
						total += len(v)
					}
				}
				if total > len(b)+len(wal) {
					t.Fatalf("values of %d bytes from %d of input", total, len(b)+len(wal))
				}
				return nil
			})
		}
	})
}
