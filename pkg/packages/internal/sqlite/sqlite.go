// Package sqlite reads the rows of a table from the bytes of an SQLite 3
// database file, read-only and without cgo: what imgsize needs to read an
// rpm database (rpmdb.sqlite) out of an image's filesystem. It follows the
// file format (https://www.sqlite.org/fileformat2.html) only as far as
// walking a rowid table's b-tree, records and overflow chains goes, with
// the committed pages of a write-ahead log laid over the file's; there is
// no SQL, no index and no rollback journal.
//
// The bytes come from an image and may be hostile: every page number,
// offset and length is checked against the file, each b-tree page is
// entered at most once, the payload a scan gathers is bounded by the
// database's size (cells that overlap or share an overflow chain cannot
// multiply it), and a malformed file is an error, never a panic or a loop.
package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrFormat is wrapped by every error about the file's content.
var ErrFormat = errors.New("not a well-formed SQLite 3 database")

const magic = "SQLite format 3\x00"

// Page types of the b-tree pages read.
const (
	interiorTable = 0x05
	leafTable     = 0x0d
)

// DB is a database file held in memory.
type DB struct {
	b        []byte
	pageSize int
	usable   int
	pages    int
	// wal holds the pages the write-ahead log committed, by number.
	wal map[uint32][]byte
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// Open checks b's header and returns the database it holds, with the
// transactions committed in wal (the -wal file beside it, empty when there
// is none) applied. Only UTF-8 databases are read: rpm writes no other,
// and the schema's text must be compared.
func Open(b, wal []byte) (*DB, error) {
	if len(b) < 100 || string(b[:16]) != magic {
		return nil, errorf("no SQLite 3 header")
	}
	ps := int(binary.BigEndian.Uint16(b[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, errorf("page size %d", ps)
	}
	// The read version: 1 legacy, 2 WAL; a later one may change the format.
	if b[19] > 2 {
		return nil, errorf("file format read version %d", b[19])
	}
	reserved := int(b[20])
	if ps-reserved < 480 {
		return nil, errorf("%d reserved bytes in a page of %d", reserved, ps)
	}
	if enc := binary.BigEndian.Uint32(b[56:]); enc != 1 && enc != 0 {
		return nil, errorf("text encoding %d is not UTF-8", enc)
	}
	// The header's page count is valid when its change counter matches
	// version-valid-for; else the file's size says it. Pages past the end
	// of b are never read.
	pages := len(b) / ps
	if n := int(binary.BigEndian.Uint32(b[28:])); n > 0 && binary.BigEndian.Uint32(b[24:]) == binary.BigEndian.Uint32(b[92:]) && n < pages {
		pages = n
	}
	if pages < 1 {
		return nil, errorf("shorter than one page of %d bytes", ps)
	}
	db := &DB{b: b, pageSize: ps, usable: ps - reserved, pages: pages}
	if len(wal) > 0 {
		if err := db.applyWAL(wal); err != nil {
			return nil, fmt.Errorf("write-ahead log: %w", err)
		}
	}
	return db, nil
}

// applyWAL lays the pages of wal's committed transactions over the file's:
// the frames whose salts match its header and whose running checksum
// holds, up to the last commit frame among them; the others were never
// committed, or belong to a log since reset.
func (db *DB) applyWAL(wal []byte) error {
	const hdr, frameHdr = 32, 24
	if len(wal) < hdr {
		return errorf("%d bytes, shorter than its header", len(wal))
	}
	m := binary.BigEndian.Uint32(wal)
	if m&^1 != 0x377f0682 {
		return errorf("magic %#x", m)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m&1 == 1 {
		order = binary.BigEndian
	}
	if v := binary.BigEndian.Uint32(wal[4:]); v != 3007000 {
		return errorf("log format version %d", v)
	}
	if ps := int(binary.BigEndian.Uint32(wal[8:])); ps != db.pageSize {
		return errorf("page size %d, the database's is %d", ps, db.pageSize)
	}
	s0, s1 := walChecksum(order, wal[:24], 0, 0)
	if s0 != binary.BigEndian.Uint32(wal[24:]) || s1 != binary.BigEndian.Uint32(wal[28:]) {
		// A header that fails its checksum makes the whole log void, as
		// SQLite treats it.
		return nil
	}
	salt := wal[16:24]
	pending := map[uint32][]byte{}
	for off := hdr; off+frameHdr+db.pageSize <= len(wal); off += frameHdr + db.pageSize {
		f := wal[off : off+frameHdr]
		page := wal[off+frameHdr : off+frameHdr+db.pageSize]
		if !bytes.Equal(f[8:16], salt) {
			break
		}
		s0, s1 = walChecksum(order, f[:8], s0, s1)
		s0, s1 = walChecksum(order, page, s0, s1)
		if s0 != binary.BigEndian.Uint32(f[16:]) || s1 != binary.BigEndian.Uint32(f[20:]) {
			break
		}
		n := binary.BigEndian.Uint32(f)
		if n == 0 {
			break
		}
		pending[n] = page[:db.usable]
		if size := binary.BigEndian.Uint32(f[4:]); size > 0 {
			if db.wal == nil {
				db.wal = map[uint32][]byte{}
			}
			for k, v := range pending {
				db.wal[k] = v
			}
			clear(pending)
			db.pages = int(size)
		}
	}
	return nil
}

// walChecksum continues SQLite's WAL checksum (s0, s1) over b, read as
// pairs of 32-bit words in order.
func walChecksum(order binary.ByteOrder, b []byte, s0, s1 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}

// page returns page n (1-based) and where its b-tree header starts.
func (db *DB) page(n uint32) ([]byte, int, error) {
	if n < 1 || int64(n) > int64(db.pages) {
		return nil, 0, errorf("page %d out of range (1–%d)", n, db.pages)
	}
	hdr := 0
	if n == 1 {
		hdr = 100
	}
	if p, ok := db.wal[n]; ok {
		return p, hdr, nil
	}
	off := (int(n) - 1) * db.pageSize
	if off+db.pageSize > len(db.b) {
		return nil, 0, errorf("page %d is past the end of the file and not in its log", n)
	}
	return db.b[off : off+db.usable], hdr, nil
}

// Row is one row of a table: its rowid and its columns' values, each nil,
// int64, float64, string (TEXT) or []byte (BLOB). A column an INTEGER
// PRIMARY KEY aliases is nil here; the rowid is its value. Text and blob
// values alias the database's bytes unless they spilled to overflow pages.
type Row struct {
	ID   int64
	Cols []any
}

// Table calls fn with each row of the rowid table named name, in rowid
// order, stopping at fn's first error.
func (db *DB) Table(name string, fn func(Row) error) error {
	root, err := db.root(name)
	if err != nil {
		return err
	}
	return db.scan(root, fn)
}

// root finds a table's root page in the schema table (page 1), whose
// columns are type, name, tbl_name, rootpage, sql.
func (db *DB) root(name string) (uint32, error) {
	var root uint32
	found := false
	err := db.scan(1, func(r Row) error {
		if len(r.Cols) < 4 || r.Cols[0] != "table" || r.Cols[1] != name {
			return nil
		}
		n, ok := r.Cols[3].(int64)
		if !ok || n < 1 || n > math.MaxUint32 {
			// The value itself is the file's: its type says enough.
			return errorf("table %s has a root page of type %T", name, r.Cols[3])
		}
		root, found = uint32(n), true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, fmt.Errorf("reading the schema: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("%w: no table %s", ErrNoTable, name)
	}
	return root, nil
}

// ErrNoTable is wrapped by Table's error when the schema has no such table.
var ErrNoTable = errors.New("no such table")

var errStop = errors.New("stop")

// scan walks the table b-tree rooted at page root depth first, left to
// right, which is rowid order. Each page is entered once: a page met
// twice means a cycle.
func (db *DB) scan(root uint32, fn func(Row) error) error {
	seen := map[uint32]bool{}
	// A sound database stores each payload byte once: rows that add up to
	// more than it holds share cells or overflow chains, and reading them
	// would cost without bound.
	budget := int64(len(db.b)) + int64(len(db.wal))*int64(db.pageSize)
	var walk func(n uint32, depth int) error
	walk = func(n uint32, depth int) error {
		if seen[n] {
			return errorf("page %d is reached twice in a b-tree", n)
		}
		seen[n] = true
		// A b-tree of 2^32 pages is at most about 32 levels deep even
		// with the smallest fan-out that can hold a rowid cell.
		if depth > 64 {
			return errorf("b-tree deeper than 64 levels")
		}
		p, h, err := db.page(n)
		if err != nil {
			return err
		}
		if h+8 > len(p) {
			return errorf("page %d has no room for its header", n)
		}
		kind := p[h]
		cells := int(binary.BigEndian.Uint16(p[h+3:]))
		ptrs := h + 8
		if kind == interiorTable {
			ptrs = h + 12
		}
		if ptrs+2*cells > len(p) {
			return errorf("page %d: %d cells do not fit", n, cells)
		}
		cell := func(i int) (int, error) {
			off := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
			if off < ptrs+2*cells || off >= len(p) {
				return 0, errorf("page %d: cell %d at offset %d", n, i, off)
			}
			return off, nil
		}
		switch kind {
		case leafTable:
			for i := range cells {
				off, err := cell(i)
				if err != nil {
					return err
				}
				r, size, err := db.leafCell(p, off, budget)
				if err != nil {
					return fmt.Errorf("page %d, cell %d: %w", n, i, err)
				}
				budget -= size
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		case interiorTable:
			for i := range cells {
				off, err := cell(i)
				if err != nil {
					return err
				}
				if off+4 > len(p) {
					return errorf("page %d: cell %d is cut", n, i)
				}
				if err := walk(binary.BigEndian.Uint32(p[off:]), depth+1); err != nil {
					return err
				}
			}
			return walk(binary.BigEndian.Uint32(p[h+8:]), depth+1)
		}
		return errorf("page %d is of type %#x, not a rowid table's", n, kind)
	}
	return walk(root, 0)
}

// leafCell reads the table leaf cell at off of page p: the payload's size,
// the rowid, and the payload, with the rest of it from overflow pages when
// it does not fit; it returns the row and its payload's size, which may
// not exceed budget.
func (db *DB) leafCell(p []byte, off int, budget int64) (Row, int64, error) {
	size, n := varint(p[off:])
	if n == 0 {
		return Row{}, 0, errorf("cut payload size")
	}
	off += n
	id, n := varint(p[off:])
	if n == 0 {
		return Row{}, 0, errorf("cut rowid")
	}
	off += n
	if size > uint64(budget) {
		return Row{}, 0, errorf("a payload of %d bytes where the database has %d left to hold (cells overlap or share pages)", size, budget)
	}
	total := int(size)
	local := db.local(total)
	if off+local > len(p) {
		return Row{}, 0, errorf("payload runs past its page")
	}
	payload := p[off : off+local]
	if local < total {
		if off+local+4 > len(p) {
			return Row{}, 0, errorf("overflow pointer runs past its page")
		}
		var err error
		if payload, err = db.overflow(payload, total, binary.BigEndian.Uint32(p[off+local:])); err != nil {
			return Row{}, 0, err
		}
	}
	cols, err := record(payload)
	if err != nil {
		return Row{}, 0, err
	}
	return Row{ID: int64(id), Cols: cols}, int64(total), nil
}

// local is how many of a table leaf cell's payload bytes are on its page
// (the file format's "X", "M" and "K").
func (db *DB) local(total int) int {
	u := db.usable
	x := u - 35
	if total <= x {
		return total
	}
	m := (u-12)*32/255 - 23
	k := m + (total-m)%(u-4)
	if k <= x {
		return k
	}
	return m
}

// overflow follows the chain starting at page next until total bytes are
// read. Each overflow page holds the next page's number and u-4 bytes.
func (db *DB) overflow(first []byte, total int, next uint32) ([]byte, error) {
	out := make([]byte, 0, total)
	out = append(out, first...)
	seen := map[uint32]bool{}
	for len(out) < total {
		if next == 0 {
			return nil, errorf("overflow chain ends %d bytes short", total-len(out))
		}
		if seen[next] {
			return nil, errorf("overflow page %d is reached twice", next)
		}
		seen[next] = true
		p, _, err := db.page(next)
		if err != nil {
			return nil, err
		}
		// An overflow page has no b-tree header, also on page 1 (which
		// is never one: it holds the schema).
		if next == 1 {
			return nil, errorf("overflow chain reaches page 1")
		}
		n := min(total-len(out), db.usable-4)
		out = append(out, p[4:4+n]...)
		next = binary.BigEndian.Uint32(p)
	}
	return out, nil
}

// record decodes a record: a header (its own length, then one serial type
// per column) and the values.
func record(b []byte) ([]any, error) {
	hlen, n := varint(b)
	if n == 0 || hlen < uint64(n) || hlen > uint64(len(b)) {
		return nil, errorf("record header of %d bytes in a record of %d", hlen, len(b))
	}
	types := b[n:hlen]
	body := b[hlen:]
	var cols []any
	for len(types) > 0 {
		// SQLite's hard limit: beyond it a header of zeros would make
		// 16 bytes of values of each of its bytes.
		if len(cols) == maxColumns {
			return nil, errorf("a record of more than %d columns", maxColumns)
		}
		t, n := varint(types)
		if n == 0 {
			return nil, errorf("cut serial type")
		}
		types = types[n:]
		size, err := serialSize(t)
		if err != nil {
			return nil, err
		}
		if size > uint64(len(body)) {
			return nil, errorf("column %d of %d bytes runs past its record", len(cols), size)
		}
		v := body[:size]
		body = body[size:]
		switch {
		case t == 0:
			cols = append(cols, nil)
		case t >= 1 && t <= 6:
			cols = append(cols, bigInt(v))
		case t == 7:
			cols = append(cols, math.Float64frombits(binary.BigEndian.Uint64(v)))
		case t == 8 || t == 9:
			cols = append(cols, int64(t-8))
		case t%2 == 0:
			cols = append(cols, v)
		default:
			cols = append(cols, string(v))
		}
	}
	return cols, nil
}

// maxColumns is SQLite's most columns a table can have (SQLITE_MAX_COLUMN
// can be raised to no more).
const maxColumns = 32767

// serialSize is the size of a value of serial type t.
func serialSize(t uint64) (uint64, error) {
	switch {
	case t <= 4:
		return t, nil
	case t == 5:
		return 6, nil
	case t == 6, t == 7:
		return 8, nil
	case t == 8, t == 9:
		return 0, nil
	case t == 10, t == 11:
		return 0, errorf("reserved serial type %d", t)
	}
	return (t - 12) / 2, nil
}

// bigInt is the big-endian two's-complement integer in v (1–8 bytes).
func bigInt(v []byte) int64 {
	var x int64
	if len(v) > 0 && v[0]&0x80 != 0 {
		x = -1
	}
	for _, c := range v {
		x = x<<8 | int64(c)
	}
	return x
}

// varint decodes SQLite's variable-length integer (1–9 bytes, big-endian,
// seven bits a byte but all eight in the ninth) and returns it and its
// length, or a length of 0 when b ends first.
func varint(b []byte) (uint64, int) {
	var x uint64
	for i := range min(len(b), 9) {
		if i == 8 {
			return x<<8 | uint64(b[i]), 9
		}
		x = x<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return x, i + 1
		}
	}
	return 0, 0
}
