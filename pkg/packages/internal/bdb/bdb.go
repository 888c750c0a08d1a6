// Package bdb reads the records of a Berkeley DB hash database from the
// bytes of its file, read-only: what imgsize needs to read the rpm
// database of RHEL 8, CentOS 7 and Amazon Linux 2 (/var/lib/rpm/Packages),
// each record an installed package's header. It knows the hash access
// method's pages only as far as listing key/data pairs goes (bucket pages,
// with their data inline or on overflow pages); there are no duplicates,
// no btree, no queue and no environment.
//
// The bytes come from an image and may be hostile: every page number,
// offset and length is checked against the file, each overflow page is
// read at most once a scan (in a sound database every overflow page
// belongs to one item, so items sharing a chain cannot multiply the
// work), a file shorter than its metadata says is refused rather than
// read in part, and a malformed file is an ErrFormat error, never a panic
// or a loop.
package bdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error about the file's content.
var ErrFormat = errors.New("not a well-formed Berkeley DB hash database")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// Page types (db_page.h) and item types on hash pages.
const (
	pageHashUnsorted = 2
	pageOverflow     = 7
	pageHash         = 13

	itemKeyData = 1
	itemOffPage = 3

	hashMagic  = 0x061561
	pageHeader = 26
)

// DB is a hash database file held in memory.
type DB struct {
	b        []byte
	order    binary.ByteOrder
	pageSize int
	pages    int
}

// Open checks b's metadata page and returns the database it holds. Berkeley
// DB writes its pages in the byte order of the machine that made them; the
// magic number says which.
func Open(b []byte) (*DB, error) {
	if len(b) < 512 {
		return nil, errorf("%d bytes, shorter than a metadata page", len(b))
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(b[12:]) == hashMagic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(b[12:]) == hashMagic:
		order = binary.BigEndian
	default:
		return nil, errorf("no hash magic number")
	}
	ps := int(order.Uint32(b[20:]))
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return nil, errorf("page size %d", ps)
	}
	// Encrypted pages, and pages with checksums, have a longer header
	// than the one read here.
	if b[24] != 0 {
		return nil, errorf("encrypted (algorithm %d)", b[24])
	}
	if b[26]&0x01 != 0 {
		return nil, errorf("pages carry checksums, which are not read")
	}
	// Every page up to the last the metadata names must be there: the
	// scan reads pages in turn, and a file cut short would just have
	// fewer records.
	pages := int64(order.Uint32(b[32:])) + 1
	if pages*int64(ps) > int64(len(b)) {
		return nil, errorf("%d bytes, shorter than its %d pages of %d bytes", len(b), pages, ps)
	}
	return &DB{b: b, order: order, pageSize: ps, pages: int(pages)}, nil
}

// Uint32 reads a 4-byte integer in the database's byte order, as rpm's
// keys are written.
func (db *DB) Uint32(b []byte) uint32 { return db.order.Uint32(b) }

func (db *DB) page(n uint32) ([]byte, error) {
	if int64(n) >= int64(db.pages) {
		return nil, errorf("page %d out of range (0–%d)", n, db.pages-1)
	}
	off := int(n) * db.pageSize
	return db.b[off : off+db.pageSize], nil
}

// Records calls fn with each key and data pair in the file, page by page,
// stopping at fn's first error. Data on overflow pages is gathered into a
// new slice; inline keys and data alias the file's bytes.
func (db *DB) Records(fn func(key, data []byte) error) error {
	seen := map[uint32]bool{}
	for n := 1; n < db.pages; n++ {
		p, _ := db.page(uint32(n))
		if t := p[25]; t != pageHash && t != pageHashUnsorted {
			continue
		}
		entries := int(db.order.Uint16(p[20:]))
		if entries%2 != 0 || pageHeader+2*entries > len(p) {
			return errorf("page %d: %d entries", n, entries)
		}
		// Items are stored from the end of the page down, in index
		// order: an item ends where the one before it starts.
		end := len(p)
		item := func(i int) ([]byte, error) {
			off := int(db.order.Uint16(p[pageHeader+2*i:]))
			if off < pageHeader+2*entries || off >= end {
				return nil, errorf("page %d: item %d at offset %d", n, i, off)
			}
			it := p[off:end]
			end = off
			return it, nil
		}
		for i := 0; i < entries; i += 2 {
			key, err := item(i)
			if err != nil {
				return err
			}
			data, err := item(i + 1)
			if err != nil {
				return err
			}
			if key[0] != itemKeyData {
				return errorf("page %d: key %d is of type %d, not inline", n, i/2, key[0])
			}
			value, err := db.value(data, seen)
			if err != nil {
				return fmt.Errorf("page %d, record %d: %w", n, i/2, err)
			}
			if err := fn(key[1:], value); err != nil {
				return err
			}
		}
	}
	return nil
}

// value returns a data item's bytes: inline, or gathered from the chain
// of overflow pages it points to (its page number and total length), none
// of which the scan has read before (seen).
func (db *DB) value(it []byte, seen map[uint32]bool) ([]byte, error) {
	switch it[0] {
	case itemKeyData:
		return it[1:], nil
	case itemOffPage:
	default:
		return nil, errorf("data item of type %d (duplicates are not read)", it[0])
	}
	if len(it) < 12 {
		return nil, errorf("off-page item of %d bytes", len(it))
	}
	next, total := db.order.Uint32(it[4:]), db.order.Uint32(it[8:])
	if int64(total) > int64(len(db.b)) {
		return nil, errorf("an off-page value of %d bytes in a file of %d", total, len(db.b))
	}
	out := make([]byte, 0, total)
	for len(out) < int(total) {
		if next == 0 {
			return nil, errorf("overflow chain ends %d bytes short", int(total)-len(out))
		}
		if seen[next] {
			return nil, errorf("overflow page %d is reached twice (a loop, or two items sharing it)", next)
		}
		seen[next] = true
		p, err := db.page(next)
		if err != nil {
			return nil, err
		}
		if p[25] != pageOverflow {
			return nil, errorf("page %d in an overflow chain is of type %d", next, p[25])
		}
		// An overflow page's hf_offset is the number of bytes it holds.
		n := int(db.order.Uint16(p[22:]))
		if n > len(p)-pageHeader || n > int(total)-len(out) {
			return nil, errorf("overflow page %d holds %d bytes", next, n)
		}
		if n == 0 {
			return nil, errorf("overflow page %d is empty", next)
		}
		out = append(out, p[pageHeader:pageHeader+n]...)
		next = db.order.Uint32(p[16:])
	}
	return out, nil
}
