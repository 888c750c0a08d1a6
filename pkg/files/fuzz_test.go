package files_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// Codecs of a fuzzed layer: the fuzzer's byte picks one (modulo 3).
const (
	codecNone = iota
	codecGzip
	codecZstd
	codecs
)

// maxHashed bounds the content bytes one input may ask Read to hash. A
// few bytes of sparse map can claim exabytes of holes (TestReadSparseBomb);
// hashing them only stops at the deadline, and inputs that take a second
// each starve the fuzzer (it once managed 9 execs in a minute). Above the
// bound the input is read without Content: its headers are still fuzzed.
const maxHashed = 1 << 20

// maxSeed is the largest layer tar taken from the fixtures as a seed: the
// fuzzer mutates and minimises inputs of about a seed's size, and both
// cost time in proportion.
const maxSeed = 16 << 10

// FuzzRead: a layer of arbitrary bytes, stored as they are, gzipped or
// zstd-compressed, is read without panic, with or without content
// digests, and Read agrees with an independent listing of the same bytes
// (archive/tar and EntryOf, contents hashed by hand):
//   - it fails exactly when the listing fails, and then with ErrCorrupt;
//   - otherwise its entries are the listing's, in order, each a clean
//     relative path with a sane size, a digest for regular files only
//     and only with Content, and the right digest;
//   - the layer's Uncompressed count is the tar stream's length.
//
// Per-input work is bounded (maxHashed, and a deadline as a backstop);
// encoders are made once, outside the fuzz function.
func FuzzRead(f *testing.F) {
	for _, s := range readSeeds(f) {
		f.Add(s, uint8(codecNone), false)
		f.Add(s, uint8(codecGzip), true)
	}
	small := tarOf(f, []member{reg("a", 0o644, []byte("a")), dir("./b/", 0o755), symlink("c", "/a")})
	f.Add(small, uint8(codecZstd), true)
	f.Add(small, uint8(codecNone), true)
	f.Add(sparseBomb(), uint8(codecNone), false)
	f.Add(sparseBomb(), uint8(codecGzip), true)
	f.Add([]byte("not a tar"), uint8(codecNone), true)
	f.Add([]byte{}, uint8(codecGzip), true)

	enc := newEncoders(f)
	f.Fuzz(func(t *testing.T, b []byte, codec uint8, content bool) {
		codec %= codecs
		want, wantErr := listTar(b, content)
		if errors.Is(wantErr, errTooCostly) {
			content = false
			want, wantErr = listTar(b, false)
		}
		blob, mt := enc.encode(t, b, codec)
		img := imageOf(t, newLayer(t, blob, sha(b), mt))
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		ls, err := files.Read(ctx, &source.Image{Transport: source.OCI, Image: img}, files.Options{Content: content, Jobs: 1})
		if errors.Is(err, context.DeadlineExceeded) {
			// A loaded machine; the work is bounded, so not the input's fault.
			t.Skipf("Read ran past its deadline (%d bytes, codec %d, content %v)", len(b), codec, content)
		}
		// A raw blob that itself starts like gzip or zstd is decompressed
		// by Read (tools mislabel media types) but listed as a tar here:
		// the two are not comparable, only the invariants hold.
		comparable := codec != codecNone || !(bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}))
		if err != nil {
			if !errors.Is(err, errdefs.ErrCorrupt) {
				t.Fatalf("Read = %v, want nil or ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			if comparable && wantErr == nil {
				t.Fatalf("Read = %v, but archive/tar lists the layer without error (%d entries)", err, len(want))
			}
			return
		}
		if len(ls) != 1 {
			t.Fatalf("Read returned %d layers, want 1", len(ls))
		}
		got := ls[0]
		for _, e := range got.Entries {
			if e.Path == "" || strings.HasPrefix(e.Path, "/") || path.Clean(e.Path) != e.Path {
				t.Errorf("entry path %q is not clean and relative", e.Path)
			}
			if e.Size < 0 || (e.Type != files.Regular && e.Size != 0) {
				t.Errorf("entry %+v has a bad size", e)
			}
			if (content && e.Type == files.Regular) != (e.Digest != "") {
				t.Errorf("entry %+v: a digest for regular files only, with Content", e)
			}
		}
		if !comparable {
			return
		}
		if got.Uncompressed != int64(len(b)) {
			t.Errorf("Uncompressed = %d, want the tar stream's %d bytes", got.Uncompressed, len(b))
		}
		if wantErr != nil {
			t.Fatalf("Read succeeded with %d entries, but archive/tar fails: %v", len(got.Entries), wantErr)
		}
		if diff := cmp.Diff(want, got.Entries); diff != "" {
			t.Errorf("entries differ from archive/tar's listing (-want +got):\n%s", diff)
		}
	})
}

// errTooCostly: the input asks for more than maxHashed bytes of hashing.
var errTooCostly = errors.New("too costly to hash")

// listTar is the independent listing: archive/tar over a plain reader,
// EntryOf for each header, the same name bound as Read, and each regular
// file's content hashed when content is set.
func listTar(b []byte, content bool) ([]files.Entry, error) {
	tr := tar.NewReader(struct{ io.Reader }{bytes.NewReader(b)})
	var es []files.Entry
	var hashed int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return nil, err
		}
		if len(h.Name) > 4096 {
			return nil, fmt.Errorf("name of %d bytes", len(h.Name))
		}
		e, ok := files.EntryOf(h)
		if !ok {
			continue
		}
		if content && e.Type == files.Regular {
			if hashed += h.Size; hashed > maxHashed || h.Size < 0 {
				return nil, errTooCostly
			}
			d := sha256.New()
			if _, err := io.Copy(d, tr); err != nil {
				return nil, err
			}
			e.Digest = "sha256:" + hex.EncodeToString(d.Sum(nil))
		}
		es = append(es, e)
	}
}

// encoders compress fuzzed layers. They are made once: a zstd encoder
// costs more to set up than most inputs cost to read.
type encoders struct {
	mu   sync.Mutex
	gz   *gzip.Writer
	zstd *zstd.Encoder
}

func newEncoders(t testing.TB) *encoders {
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	return &encoders{gz: gw, zstd: zw}
}

func (e *encoders) encode(t testing.TB, b []byte, codec uint8) ([]byte, types.MediaType) {
	switch codec {
	case codecGzip:
		e.mu.Lock()
		defer e.mu.Unlock()
		var buf bytes.Buffer
		e.gz.Reset(&buf)
		e.gz.Write(b)
		if err := e.gz.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), types.OCILayer
	case codecZstd:
		return e.zstd.EncodeAll(b, nil), types.OCILayerZStd
	}
	return b, types.OCIUncompressedLayer
}

// readSeeds returns small layer tars: those of the fixtures made by real
// tools (docker, kaniko, BuildKit; decompressed), when present, each at
// most maxSeed bytes, and the first maxSeed bytes of larger ones (a
// truncated tar); and generated ones covering every entry type, PAX and
// GNU long names, whiteouts and an opaque marker.
func readSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		tarOf(f, []member{
			dir("./etc/", 0o755), reg("etc/passwd", 0o644, []byte("root:x:0:0")),
			hardlink("etc/passwd2", "./etc/passwd", 0o644), symlink("bin", "usr/bin"),
			reg("a/.wh.b", 0o644, nil), reg("c/.wh..wh..opq", 0o644, nil),
			{hdr: tar.Header{Name: strings.Repeat("long/", 30) + "f", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}},
			{hdr: tar.Header{Name: strings.Repeat("gnu/", 40) + "g", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatGNU}},
			{hdr: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		}),
		tarOf(f, []member{reg("x/.wh..wh..opq", 0o644, nil), reg("/y/.wh.z", 0o644, nil)}),
	}
	dir, ok := testutil.FixturesIfPresent(f)
	if !ok {
		return seeds
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		tr := tar.NewReader(bytes.NewReader(b))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			body, err := decompressed(tr)
			if err != nil || len(body) < 1024 || !isTar(body) {
				continue
			}
			seeds = append(seeds, body[:min(len(body), maxSeed)])
		}
	}
	return seeds
}

// decompressed reads r, gunzipping or unzstding it by its magic bytes, up
// to 4*maxSeed bytes.
func decompressed(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var zr io.Reader = bytes.NewReader(raw)
	switch {
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		g, err := gzip.NewReader(zr)
		if err != nil {
			return nil, err
		}
		zr = g
	case bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(zr)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		zr = z
	}
	return io.ReadAll(io.LimitReader(zr, 4*maxSeed))
}

func isTar(b []byte) bool {
	_, err := tar.NewReader(bytes.NewReader(b)).Next()
	return err == nil
}
