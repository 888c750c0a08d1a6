package bdb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
)

// load writes pairs into a new hash database with db5.3_load, Berkeley
// DB's own loader (db5.3-util; the test is skipped without it, failed
// under CI=true), with the page size and byte order given, and returns
// the file's bytes.
func load(t testing.TB, pairs map[string][]byte, pageSize int, bigEndian bool) []byte {
	t.Helper()
	testutil.RequireTool(t, "db5.3_load")
	const header, footer = "VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n", "DATA=END\n"
	// Sized up front and appended to: the input runs to tens of MB, and
	// fmt and a growing builder cost seconds of it under -race.
	size := len(header) + len(footer)
	for k, v := range pairs {
		size += 2*len(k) + 2*len(v) + 4
	}
	in := make([]byte, 0, size)
	in = append(in, header...)
	for k, v := range pairs {
		in = append(in, ' ')
		in = hex.AppendEncode(in, []byte(k))
		in = append(in, '\n', ' ')
		in = hex.AppendEncode(in, v)
		in = append(in, '\n')
	}
	in = append(in, footer...)
	file := filepath.Join(t.TempDir(), "Packages")
	lorder := "1234"
	if bigEndian {
		lorder = "4321"
	}
	cmd := exec.Command("db5.3_load", "-c", fmt.Sprintf("db_pagesize=%d", pageSize), "-c", "db_lorder="+lorder, file)
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("db5.3_load: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pairs makes n records whose values run from empty to many pages long,
// as rpm's headers do, keyed by 4-byte numbers as rpm keys them.
func pairs(n, longest int) map[string][]byte {
	out := map[string][]byte{}
	for i := range n {
		k := binary.LittleEndian.AppendUint32(nil, uint32(i))
		size := (i * i * 7919) % (longest + 1)
		v := make([]byte, size)
		// Byte j is i*31+j*7 mod 256, which repeats every 256 bytes:
		// one period is written and then copied, as byte-by-byte
		// writes of tens of MB are slow under -race.
		for j := range min(size, 256) {
			v[j] = byte(i*31 + j*7)
		}
		for done := min(size, 256); done < size; done *= 2 {
			copy(v[done:], v[:done])
		}
		out[string(k)] = v
	}
	return out
}

// TestRecordsAgreeWithBerkeleyDB reads databases Berkeley DB's own loader
// wrote, in page sizes from 512 to 65536 and both byte orders, with values
// inline and on chains of overflow pages, and finds exactly the pairs that
// were loaded.
func TestRecordsAgreeWithBerkeleyDB(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pageSize, n, longest int
		bigEndian            bool
	}{
		{512, 800, 3000, false},
		{4096, 300, 60_000, false},
		{4096, 300, 60_000, true},
		{65536, 40, 300_000, false},
	} {
		t.Run(fmt.Sprintf("page%d_n%d_be%v", c.pageSize, c.n, c.bigEndian), func(t *testing.T) {
			t.Parallel()
			want := pairs(c.n, c.longest)
			db, err := Open(load(t, want, c.pageSize, c.bigEndian))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			if err := db.Records(func(k, v []byte) error {
				if _, dup := got[string(k)]; dup {
					t.Errorf("key %x read twice", k)
				}
				got[string(k)] = bytes.Clone(v)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records read, %d loaded", len(got), len(want))
			}
			for k, v := range want {
				if !bytes.Equal(got[k], v) {
					t.Fatalf("key %x: %d bytes read, %d loaded (or other bytes)", k, len(got[k]), len(v))
				}
			}
		})
	}
}

// TestHostile holds the reader to an error, never a panic or a loop, on
// databases damaged where a hostile image would.
func TestHostile(t *testing.T) {
	t.Parallel()
	const ps = 512
	good := load(t, pairs(60, 2000), ps, false)
	// The pages of each type, found the way the reader finds them.
	var hashPages, overflowPages []int
	for n := 1; (n+1)*ps <= len(good); n++ {
		switch good[n*ps+25] {
		case pageHash, pageHashUnsorted:
			hashPages = append(hashPages, n)
		case pageOverflow:
			overflowPages = append(overflowPages, n)
		}
	}
	if len(hashPages) == 0 || len(overflowPages) < 2 {
		t.Fatalf("%d hash and %d overflow pages: the database does not test the reader", len(hashPages), len(overflowPages))
	}
	mutate := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	h, o := hashPages[0]*ps, overflowPages[0]*ps
	cases := map[string][]byte{
		"empty":       {},
		"bad magic":   mutate(func(b []byte) { b[12] ^= 0xff }),
		"page size 3": mutate(func(b []byte) { binary.LittleEndian.PutUint32(b[20:], 3) }),
		"truncated":   good[:len(good)-ps/2-ps*(len(good)/ps/2)],
		// Values all inline, over many bucket pages, cut at a page
		// boundary: the pages left parse, and would give fewer records.
		"cut at a page": func() []byte {
			small := load(t, pairs(400, 40), ps, false)
			return small[:len(small)/ps/2*ps]
		}(),
		"encrypted":   mutate(func(b []byte) { b[24] = 1 }),
		"checksummed": mutate(func(b []byte) { b[26] |= 1 }),
		"shared overflow": mutate(func(b []byte) {
			// Every off-page item of the first hash page names the
			// same chain.
			first := -1
			entries := int(binary.LittleEndian.Uint16(b[h+20:]))
			for i := 1; i < entries; i += 2 {
				off := h + int(binary.LittleEndian.Uint16(b[h+pageHeader+2*i:]))
				if b[off] != itemOffPage {
					continue
				}
				if first < 0 {
					first = off
					continue
				}
				copy(b[off+4:off+12], b[first+4:first+12])
			}
		}),
		"odd entries": mutate(func(b []byte) { binary.LittleEndian.PutUint16(b[h+20:], 3) }),
		"too many entries": mutate(func(b []byte) {
			binary.LittleEndian.PutUint16(b[h+20:], 0xfffe)
		}),
		"item outside": mutate(func(b []byte) { binary.LittleEndian.PutUint16(b[h+pageHeader:], 0xffff) }),
		"overflow loops": mutate(func(b []byte) {
			for _, n := range overflowPages {
				binary.LittleEndian.PutUint32(b[n*ps+16:], uint32(n))
			}
		}),
		"overflow out of range": mutate(func(b []byte) {
			for _, n := range overflowPages {
				binary.LittleEndian.PutUint32(b[n*ps+16:], 0xfffffff0)
			}
		}),
		"overflow overfull": mutate(func(b []byte) { binary.LittleEndian.PutUint16(b[o+22:], 0xffff) }),
		"overflow empty": mutate(func(b []byte) {
			for _, n := range overflowPages {
				binary.LittleEndian.PutUint16(b[n*ps+22:], 0)
			}
		}),
		"overflow of another type": mutate(func(b []byte) {
			for _, n := range overflowPages {
				b[n*ps+25] = 5
			}
		}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			db, err := Open(b)
			if err == nil {
				err = db.Records(func(k, v []byte) error { return nil })
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// FuzzRecords runs damaged databases through Open and Records: an error
// or records, never a panic, a loop or a value larger than the input.
func FuzzRecords(f *testing.F) {
	if _, err := exec.LookPath("db5.3_load"); err == nil {
		f.Add(load(f, pairs(20, 1500), 512, false))
		f.Add(load(f, pairs(5, 100), 512, true))
	}
	f.Add(make([]byte, 512))
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := Open(b)
		if err != nil {
			return
		}
		// Over the whole scan: items sharing a chain must not multiply
		// the input.
		total := 0
		_ = db.Records(func(k, v []byte) error {
			if total += len(v); total > len(b) {
				t.Fatalf("values of %d bytes from %d of input", total, len(b))
			}
			return nil
		})
	})
}
