package readpool

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// gz compresses s with the standard library's gzip, not the inflater's own.
func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A reused inflater reads each stream as a new one would: after a stream
// read halfway, after a header it refused, and across two members.
func TestGzipReuse(t *testing.T) {
	two := append(gz(t, "first member, "), gz(t, "second member")...)
	// sync.Pool may hand out a new inflater; 20 rounds make a reused one
	// all but certain.
	for range 20 {
		zr, err := Gzip(bytes.NewReader(gz(t, strings.Repeat("x", 100_000))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, zr, 10); err != nil {
			t.Fatal(err)
		}
		PutGzip(zr)

		zr, err = Gzip(strings.NewReader("not gzip at all"))
		if err == nil {
			t.Fatal("a stream without a gzip header was accepted")
		}
		PutGzip(zr)

		zr, err = Gzip(bytes.NewReader(two))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		PutGzip(zr)
		if err != nil || string(got) != "first member, second member" {
			t.Fatalf("read %q, %v; want both members", got, err)
		}
	}
}

// A reader given back holds nothing of the stream it buffered: the next
// one reads only its own bytes, even when the last was left unread.
func TestBuffersReuse(t *testing.T) {
	b := NewBuffers(16)
	br := b.Get(strings.NewReader("left unread in the buffer"))
	if _, err := br.Peek(4); err != nil {
		t.Fatal(err)
	}
	b.Put(br)
	// Put forgets the stream: a pooled reader must not keep a blob, and
	// what it had buffered, reachable.
	if n := br.Buffered(); n != 0 {
		t.Errorf("a reader given back still buffers %d bytes", n)
	}
	for range 20 {
		br = b.Get(strings.NewReader("mine"))
		got, err := io.ReadAll(br)
		b.Put(br)
		if err != nil || string(got) != "mine" {
			t.Fatalf("read %q, %v; want only this stream's bytes", got, err)
		}
	}
}
