package packages

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"

	"github.com/imgsize/imgsize/pkg/packages/internal/bdb"
	"github.com/imgsize/imgsize/pkg/packages/internal/sqlite"
)

// The rpm databases: SQLite (rpm 4.16+: Fedora 33+, RHEL 9, Amazon Linux
// 2023) and Berkeley DB (RHEL 7 and 8, CentOS, Amazon Linux 2), both
// read; ndb (SUSE), found but not read.
var (
	rpmSQLite = []string{"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"}
	rpmBDB    = []string{"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"}
	rpmNDB    = []string{"var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"}
)

// RpmNote says why an rpm database in the ndb format is not read.
const RpmNote = "rpm databases in the ndb format (SUSE) are not read (no maintained pure-Go reader exists): the files rpm installed are counted as unowned"

// rpmFiles are the files Read needs the content of: the SQLite databases,
// their write-ahead logs (which hold the transactions not yet copied into
// them), and the Berkeley DB databases. Wanted asks of every regular file
// of every layer.
var rpmFiles = []string{
	rpmSQLite[0], rpmSQLite[0] + "-wal", rpmSQLite[1], rpmSQLite[1] + "-wal",
	rpmBDB[0], rpmBDB[1],
}

func isRpmFile(p string) bool { return slices.Contains(rpmFiles, p) }

func readRpm(in Input, r *Result) {
	// Which rpm files the filesystem holds, in one pass over its paths.
	present := map[string]bool{}
	for _, p := range in.Paths {
		if isRpmFile(p) || slices.Contains(rpmNDB, p) {
			present[p] = true
		}
	}
	// rpm reads one database, its configured backend's. A SQLite one read
	// here makes an older format's file beside it a leftover of the
	// conversion (rpm --rebuilddb keeps none, but an image may): listed,
	// with no packages and nothing unseen.
	sqliteRead := map[string]bool{}
	leftover := func(p string) bool {
		if !sqliteRead[path.Dir(p)] {
			return false
		}
		db := Database{Kind: Rpm, Path: p, Read: true,
			Note: "a leftover of an older rpm: rpm reads rpmdb.sqlite beside it instead, and so does imgsize"}
		r.Databases = append(r.Databases, db)
		r.Notes = append(r.Notes, fmt.Sprintf("/%s: not read: %s", p, db.Note))
		return true
	}
	type format struct {
		path string
		// wal names the SQLite database's log, which Read must have too.
		wal     string
		headers func(b, wal []byte, fn func(id int64, blob []byte) error) error
	}
	var formats []format
	for _, p := range rpmSQLite {
		formats = append(formats, format{p, p + "-wal", sqliteHeaders})
	}
	for _, p := range rpmBDB {
		formats = append(formats, format{p, "", bdbHeaders})
	}
	for _, f := range formats {
		db := Database{Kind: Rpm, Path: f.path}
		b, ok := in.Files[f.path]
		wal, walOK := in.Files[f.wal]
		switch {
		case !ok && !present[f.path]:
			continue
		case f.wal == "" && leftover(f.path):
			continue
		case !ok || f.wal != "" && !walOK && present[f.wal]:
			// Without its log, a database misses its last transactions.
			db.Note = "its content (or its -wal log's) was not captured; the files rpm installed are counted as unowned"
			r.Databases = append(r.Databases, db)
			r.Notes = append(r.Notes, fmt.Sprintf("/%s: not read: %s", f.path, db.Note))
			continue
		}
		// One bound on the paths of the whole database: many small
		// headers, each within a bound of its own, could still multiply
		// the file's size.
		budget := rpmPathBudget(len(b) + len(wal))
		var pkgs []Package
		err := f.headers(b, wal, func(id int64, blob []byte) error {
			h, err := parseRpmHeader(blob)
			if err == nil {
				var p Package
				if p, err = h.pkg(f.path, &budget); err == nil {
					pkgs = append(pkgs, p)
				}
			}
			if err != nil {
				return fmt.Errorf("package %d: %w", id, err)
			}
			return nil
		})
		if err != nil {
			db.Note = fmt.Sprintf("%v; the files rpm installed are counted as unowned", err)
			r.Databases = append(r.Databases, db)
			r.Notes = append(r.Notes, fmt.Sprintf("/%s: not read: %s", f.path, db.Note))
			continue
		}
		db.Read, db.Packages = true, len(pkgs)
		r.Packages = append(r.Packages, pkgs...)
		r.Databases = append(r.Databases, db)
		if f.wal != "" {
			sqliteRead[path.Dir(f.path)] = true
		}
	}
	for _, p := range rpmNDB {
		if present[p] && !leftover(p) {
			r.Databases = append(r.Databases, Database{Kind: Rpm, Path: p, Note: RpmNote})
			r.Notes = append(r.Notes, fmt.Sprintf("/%s: %s", p, RpmNote))
		}
	}
}

// sqliteHeaders calls fn with each header in the Packages table of the
// SQLite database b (with its log wal): rpm keeps each installed package's
// header there whole, keyed by an integer.
func sqliteHeaders(b, wal []byte, fn func(id int64, blob []byte) error) error {
	db, err := sqlite.Open(b, wal)
	if err != nil {
		return err
	}
	return db.Table("Packages", func(row sqlite.Row) error {
		if len(row.Cols) < 2 {
			return fmt.Errorf("package %d: %d columns, want hnum and blob", row.ID, len(row.Cols))
		}
		blob, ok := row.Cols[1].([]byte)
		if !ok {
			return fmt.Errorf("package %d: the header is a %T, not a blob", row.ID, row.Cols[1])
		}
		return fn(row.ID, blob)
	})
}

// bdbHeaders calls fn with each header in the Berkeley DB hash database
// b: keyed by a 4-byte integer in the writer's byte order, key 0 holding
// not a header but the highest number given out so far.
func bdbHeaders(b, _ []byte, fn func(id int64, blob []byte) error) error {
	db, err := bdb.Open(b)
	if err != nil {
		return err
	}
	return db.Records(func(key, data []byte) error {
		if len(key) != 4 {
			return fmt.Errorf("a key of %d bytes, not a package number", len(key))
		}
		if bytes.Equal(key, []byte{0, 0, 0, 0}) {
			return nil
		}
		return fn(int64(db.Uint32(key)), data)
	})
}

// The header tags read (rpmtag.h).
const (
	rpmTagName         = 1000
	rpmTagVersion      = 1001
	rpmTagRelease      = 1002
	rpmTagEpoch        = 1003
	rpmTagSize         = 1009
	rpmTagOldFilenames = 1027
	rpmTagDirIndexes   = 1116
	rpmTagBasenames    = 1117
	rpmTagDirNames     = 1118
	rpmTagLongSize     = 5009
)

// The header data types read.
const (
	rpmInt32       = 4
	rpmInt64       = 5
	rpmString      = 6
	rpmStringArray = 8
	rpmI18NString  = 9
)

// Bounds rpm itself sets on a header (header.c).
const (
	rpmMaxTags = 0xffff
	rpmMaxData = 0x0fffffff
)

var errRpmHeader = errors.New("malformed rpm header")

// rpmEntry is one index entry of a header: a tag's type, where its data
// starts in the data store, and how many values it has.
type rpmEntry struct {
	typ, count uint32
	off        int
}

// rpmHeader is a header as rpm stores it in its database: the index entry
// count and data length (big-endian), the entries, then the data store.
type rpmHeader struct {
	entries map[uint32]rpmEntry
	data    []byte
}

func parseRpmHeader(b []byte) (*rpmHeader, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes", errRpmHeader, len(b))
	}
	il, dl := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if il > rpmMaxTags || dl > rpmMaxData || 8+16*int64(il)+int64(dl) > int64(len(b)) {
		return nil, fmt.Errorf("%w: %d entries and %d data bytes in %d bytes", errRpmHeader, il, dl, len(b))
	}
	h := &rpmHeader{entries: make(map[uint32]rpmEntry, il), data: b[8+16*il : 8+16*il+dl]}
	for i := range il {
		e := b[8+16*i:]
		tag, off := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[8:])
		if off > dl {
			return nil, fmt.Errorf("%w: tag %d at offset %d past its %d data bytes", errRpmHeader, tag, off, dl)
		}
		// A tag written twice (a legacy header's "dribble" entries after
		// its region) takes its last value, as rpm does.
		h.entries[tag] = rpmEntry{typ: binary.BigEndian.Uint32(e[4:]), off: int(off), count: binary.BigEndian.Uint32(e[12:])}
	}
	return h, nil
}

// strings returns the values of a string or string-array tag; none when
// the header lacks it.
func (h *rpmHeader) strings(tag uint32) ([]string, error) {
	e, ok := h.entries[tag]
	if !ok {
		return nil, nil
	}
	n := e.count
	switch e.typ {
	case rpmString, rpmI18NString:
		// An I18N string holds one value per language; the first is the
		// default.
		n = 1
	case rpmStringArray:
	default:
		return nil, fmt.Errorf("%w: tag %d is of type %d, not a string", errRpmHeader, tag, e.typ)
	}
	// Each string takes at least its terminating NUL.
	if int64(n) > int64(len(h.data)-e.off) {
		return nil, fmt.Errorf("%w: tag %d claims %d strings in %d bytes", errRpmHeader, tag, n, len(h.data)-e.off)
	}
	out := make([]string, 0, n)
	d := h.data[e.off:]
	for range n {
		end := bytes.IndexByte(d, 0)
		if end < 0 {
			return nil, fmt.Errorf("%w: tag %d: a string runs past the data", errRpmHeader, tag)
		}
		out = append(out, string(d[:end]))
		d = d[end+1:]
	}
	return out, nil
}

func (h *rpmHeader) str(tag uint32) (string, error) {
	s, err := h.strings(tag)
	if err != nil || len(s) == 0 {
		return "", err
	}
	return s[0], nil
}

// ints returns the values of an INT32 or INT64 tag; none when the header
// lacks it.
func (h *rpmHeader) ints(tag uint32) ([]int64, error) {
	e, ok := h.entries[tag]
	if !ok {
		return nil, nil
	}
	size := 4
	switch e.typ {
	case rpmInt32:
	case rpmInt64:
		size = 8
	default:
		return nil, fmt.Errorf("%w: tag %d is of type %d, not an integer", errRpmHeader, tag, e.typ)
	}
	if int64(e.count)*int64(size) > int64(len(h.data)-e.off) {
		return nil, fmt.Errorf("%w: tag %d claims %d values in %d bytes", errRpmHeader, tag, e.count, len(h.data)-e.off)
	}
	out := make([]int64, e.count)
	for i := range out {
		v := h.data[e.off+i*size:]
		if size == 4 {
			out[i] = int64(binary.BigEndian.Uint32(v))
		} else {
			out[i] = int64(binary.BigEndian.Uint64(v))
		}
	}
	return out, nil
}

// pkg turns a header into a Package: name, [epoch:]version-release, the
// size rpm records (the sum of its files' sizes), and its paths.
func (h *rpmHeader) pkg(db string, budget *int) (Package, error) {
	p := Package{Kind: Rpm, Declared: -1, Database: db}
	var err error
	if p.Name, err = h.str(rpmTagName); err != nil {
		return p, err
	}
	if p.Name == "" {
		return p, fmt.Errorf("%w: no name", errRpmHeader)
	}
	v, err := h.str(rpmTagVersion)
	if err != nil {
		return p, err
	}
	rel, err := h.str(rpmTagRelease)
	if err != nil {
		return p, err
	}
	p.Version = v
	if rel != "" {
		p.Version += "-" + rel
	}
	epoch, err := h.ints(rpmTagEpoch)
	if err != nil {
		return p, err
	}
	if len(epoch) > 0 {
		p.Version = strconv.FormatInt(epoch[0], 10) + ":" + p.Version
	}
	for _, tag := range []uint32{rpmTagLongSize, rpmTagSize} {
		s, err := h.ints(tag)
		if err != nil {
			return p, err
		}
		if len(s) > 0 && s[0] >= 0 {
			p.Declared = s[0]
			break
		}
	}
	p.Files, err = h.files(budget)
	return p, err
}

// files joins each file's base name to its directory (rpm 4.x's
// compressed file list), or reads the whole names of an older header,
// taking their bytes from budget, the database's allowance.
func (h *rpmHeader) files(budget *int) ([]string, error) {
	base, err := h.strings(rpmTagBasenames)
	if err != nil {
		return nil, err
	}
	if len(base) == 0 {
		old, err := h.strings(rpmTagOldFilenames)
		return rpmPaths(old), err
	}
	dirs, err := h.strings(rpmTagDirNames)
	if err != nil {
		return nil, err
	}
	idx, err := h.ints(rpmTagDirIndexes)
	if err != nil {
		return nil, err
	}
	if len(idx) != len(base) {
		return nil, fmt.Errorf("%w: %d base names but %d directory indexes", errRpmHeader, len(base), len(idx))
	}
	// Directory names are shared, so the joined paths may outgrow the
	// headers; but each file also costs its header its digest, mode,
	// size, owner and flags, so a sound database never approaches the
	// budget, while one long directory named by thousands of files would
	// be gigabytes.
	full := make([]string, len(base))
	for i, b := range base {
		if idx[i] < 0 || idx[i] >= int64(len(dirs)) {
			return nil, fmt.Errorf("%w: file %d in directory %d of %d", errRpmHeader, i, idx[i], len(dirs))
		}
		n := len(dirs[idx[i]]) + len(b)
		if n > rpmMaxPath {
			return nil, fmt.Errorf("%w: file %d's path is %d bytes long", errRpmHeader, i, n)
		}
		if *budget -= n; *budget < 0 {
			return nil, fmt.Errorf("%w: its paths outgrow the database (more than 8 times its size in all)", errRpmHeader)
		}
		full[i] = dirs[idx[i]] + b
	}
	return rpmPaths(full), nil
}

// rpmMaxPath is the longest path read (Linux's PATH_MAX).
const rpmMaxPath = 4096

// rpmPathBudget is the most bytes the joined paths of a database of size
// bytes may add up to: eight times its size, and 64 KiB more for a small
// one.
func rpmPathBudget(data int) int { return 8*data + 64<<10 }

// rpmPaths makes absolute paths relative to the root, as the filesystem
// lists them; rpm's names are exact, so nothing is trimmed.
func rpmPaths(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if c := path.Clean("/" + p)[1:]; c != "" {
			out = append(out, c)
		}
	}
	return out
}
