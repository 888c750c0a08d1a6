package source

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/ctxio"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// maxMetadata bounds what is read into memory for manifests, configs and
// indexes, so a hostile archive cannot make imgsize allocate gigabytes.
const maxMetadata = 64 << 20

// tarFile is a tar archive indexed once by its headers. Entry contents are
// served as sections of the file, so nothing is extracted and file bodies
// are seeked past, not read.
type tarFile struct {
	f       *os.File
	size    int64
	entries map[string]tarEntry
	tmp     string // decompressed copy of a compressed archive, removed on Close
}

type tarEntry struct {
	offset, size int64
	link         string // symlink or hardlink target, already cleaned
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// openTar indexes the tar at p. A gzip- or zstd-compressed archive (as in
// `docker save | gzip`) is first decompressed once into a temporary file:
// a compressed stream cannot be seeked, and the model needs random access
// to configs and layers.
func openTar(ctx context.Context, p string) (*tarFile, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errdefs.Wrap(errdefs.ErrNotFound, err)
		}
		return nil, err
	}
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	magic = magic[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	t := &tarFile{f: f}
	if IsCompressed(magic) {
		if err := t.spool(ctx, f, magic); err != nil {
			t.Close()
			return nil, err
		}
	}
	if err := t.index(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// openTarStream indexes a tar read once from r (standard input), which
// cannot be seeked: it is spooled, decompressed if need be, into a
// temporary file by the same means as a compressed archive on disk.
func openTarStream(ctx context.Context, r io.Reader) (*tarFile, error) {
	// A pipe whose writer stalls would block a plain Read past Ctrl-C and
	// --timeout, leaving the partial spool behind.
	br := bufio.NewReaderSize(&ctxio.BlockingReader{Ctx: ctx, R: r}, 1<<20)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(magic) == 0 {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("empty: no archive was piped in"))
	}
	t := &tarFile{}
	if err := t.spool(ctx, br, magic); err != nil {
		t.Close()
		return nil, err
	}
	if err := t.index(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// IsCompressed says whether a stream starting with magic is gzip or zstd,
// the compressions imgsize reads.
func IsCompressed(magic []byte) bool {
	return bytes.HasPrefix(magic, gzipMagic) || bytes.HasPrefix(magic, zstdMagic)
}

// spool copies src, whose first bytes are magic, into a temporary file
// that t then reads and removes on Close: decompressed when magic says
// gzip or zstd, as is otherwise (a stream that cannot be seeked).
func (t *tarFile) spool(ctx context.Context, src io.Reader, magic []byte) error {
	r := src
	what := "reading archive"
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(bufio.NewReaderSize(src, 1<<20))
		if err != nil {
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading gzip header: %w", err))
		}
		defer zr.Close()
		r, what = zr, "decompressing archive"
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(bufio.NewReaderSize(src, 1<<20))
		if err != nil {
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading zstd header: %w", err))
		}
		defer zr.Close()
		r, what = zr, "decompressing archive"
	}
	tmp, err := os.CreateTemp("", "imgsize-archive-*.tar")
	if err != nil {
		return fmt.Errorf("creating temporary file for the archive: %w", err)
	}
	t.tmp = tmp.Name()
	if _, err := io.Copy(tmp, ctxio.Reader{Ctx: ctx, R: r}); err != nil {
		tmp.Close()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s: %w", what, err))
	}
	if t.f != nil {
		t.f.Close()
	}
	t.f = tmp
	return nil
}

// positionReader reports where the tar reader is, and lets archive/tar seek
// past entry bodies instead of reading them.
type positionReader struct {
	f   *os.File
	pos int64
}

func (p *positionReader) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *positionReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.f.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

func (t *tarFile) index(ctx context.Context) error {
	fi, err := t.f.Stat()
	if err != nil {
		return err
	}
	t.size = fi.Size()
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	t.entries = map[string]tarEntry{}
	pr := &positionReader{f: t.f}
	tr := tar.NewReader(pr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(t.entries) == 0 {
				return errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("not a tar archive: %w", err))
			}
			return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading tar: %w", err))
		}
		name := cleanName(h.Name)
		switch h.Typeflag {
		case tar.TypeReg:
			// Seeking lets archive/tar skip a truncated body without
			// noticing; checking the end against the file size does.
			if pr.pos+h.Size > t.size {
				return errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("truncated tar: entry %s needs %d bytes at offset %d, file has %d", name, h.Size, pr.pos, t.size))
			}
			t.entries[name] = tarEntry{offset: pr.pos, size: h.Size}
		case tar.TypeSymlink:
			t.entries[name] = tarEntry{link: cleanName(path.Join(path.Dir(name), h.Linkname))}
		case tar.TypeLink:
			t.entries[name] = tarEntry{link: cleanName(h.Linkname)}
		}
	}
	if len(t.entries) == 0 {
		return errdefs.Wrap(errdefs.ErrUnsupported, errors.New("empty or not a tar archive"))
	}
	return nil
}

func cleanName(n string) string {
	n = path.Clean("/" + n)
	return strings.TrimPrefix(n, "/")
}

func (t *tarFile) lookup(name string) (tarEntry, bool) {
	name = cleanName(name)
	for range 16 { // bound symlink chains
		e, ok := t.entries[name]
		if !ok {
			return tarEntry{}, false
		}
		if e.link == "" {
			return e, true
		}
		name = e.link
	}
	return tarEntry{}, false
}

func (t *tarFile) has(name string) bool {
	_, ok := t.lookup(name)
	return ok
}

// section returns the body of an entry without copying it.
func (t *tarFile) section(name string) (*io.SectionReader, error) {
	e, ok := t.lookup(name)
	if !ok {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("%s not in archive", name))
	}
	return io.NewSectionReader(t.f, e.offset, e.size), nil
}

func (t *tarFile) readAll(name string) ([]byte, error) {
	s, err := t.section(name)
	if err != nil {
		return nil, err
	}
	if s.Size() > maxMetadata {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s is %d bytes, larger than any manifest or config should be", name, s.Size()))
	}
	return io.ReadAll(s)
}

func (t *tarFile) Close() error {
	var err error
	if t.f != nil {
		err = t.f.Close()
	}
	if t.tmp != "" {
		os.Remove(t.tmp)
	}
	return err
}
