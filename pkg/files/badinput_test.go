package files_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// sampleTar is a small layer with contents worth truncating.
func sampleTar(t testing.TB) []byte {
	return tarOf(t, []member{
		dir("app/", 0o755),
		reg("app/one", 0o644, pseudoRandom(10, 40_000)),
		reg("app/two", 0o644, bytes.Repeat([]byte("two "), 10_000)),
	})
}

// TestReadCorruptLayers: every way a layer's bytes can be wrong is
// ErrCorrupt naming the layer, from whichever reader finds it.
func TestReadCorruptLayers(t *testing.T) {
	raw := sampleTar(t)
	gzBlob := compress(t, raw, gz)
	zstBlob := compress(t, raw, zst)
	truncatedTar := raw[:len(raw)/2]

	flipped := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0xff
		return c
	}
	cases := []struct {
		name  string
		layer v1.Layer
		// tamper, when set, replaces the blob in the layout after writing:
		// the manifest keeps the digest of the sound blob.
		tamper []byte
		// contentOnly: found only when every byte is read (an uncompressed
		// layer read header by header is not checked against its digest).
		contentOnly bool
		want        string
	}{
		{name: "truncated gzip", layer: newLayer(t, gzBlob[:len(gzBlob)/2], sha(raw), mediaType(gz)), want: "unexpected EOF"},
		{name: "gzip cut inside its trailer", layer: newLayer(t, gzBlob[:len(gzBlob)-3], sha(raw), mediaType(gz)), want: "unexpected EOF"},
		{name: "gzip with a bad CRC", layer: newLayer(t, flipped(gzBlob, len(gzBlob)-6), sha(raw), mediaType(gz)), want: "checksum"},
		{name: "gzip with damaged data", layer: newLayer(t, flipped(gzBlob, len(gzBlob)/2), sha(raw), mediaType(gz)), want: "layer"},
		{name: "gzip with trailing garbage", layer: newLayer(t, append(bytes.Clone(gzBlob), "garbage"...), sha(raw), mediaType(gz)), want: "after the tar's end"},
		{name: "corrupt zstd", layer: newLayer(t, flipped(zstBlob, len(zstBlob)/2), sha(raw), mediaType(zst)), want: "layer"},
		{name: "truncated zstd", layer: newLayer(t, zstBlob[:len(zstBlob)-10], sha(raw), mediaType(zst)), want: "layer"},
		{name: "truncated tar in gzip", layer: newLayer(t, compress(t, truncatedTar, gz), sha(truncatedTar), mediaType(gz)), want: "reading tar: unexpected EOF"},
		{name: "truncated tar in zstd", layer: newLayer(t, compress(t, truncatedTar, zst), sha(truncatedTar), mediaType(zst)), want: "reading tar: unexpected EOF"},
		{name: "truncated uncompressed tar", layer: newLayer(t, truncatedTar, sha(truncatedTar), mediaType(none)), want: "reading tar: unexpected EOF"},
		{name: "not a tar", layer: newLayer(t, compress(t, bytes.Repeat([]byte("not a tar "), 100), gz), sha(bytes.Repeat([]byte("not a tar "), 100)), mediaType(gz)), want: "reading tar"},
		{name: "diff_id mismatch", layer: newLayer(t, gzBlob, sha([]byte("other")), mediaType(gz)), want: "diff_id mismatch"},
		{name: "uncompressed diff_id mismatch", layer: newLayer(t, raw, sha([]byte("other")), mediaType(none)), contentOnly: true, want: "diff_id mismatch"},
		// A different gzip header time: still a sound gzip of the same
		// tar, but not the blob the manifest names.
		{name: "wrong digest (gzip)", layer: newLayer(t, gzBlob, sha(raw), mediaType(gz)), tamper: flipped(gzBlob, 5), want: "digest mismatch"},
		{name: "wrong digest (uncompressed)", layer: newLayer(t, raw, sha(raw), mediaType(none)), tamper: flipped(raw, len(raw)-2000), contentOnly: true, want: "digest mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := imageOf(t, layerOf(t, []member{reg("sound", 0o644, []byte("x"))}, gz), tc.layer)
			arg, dir := writeLayout(t, img)
			d, _ := tc.layer.Digest()
			if tc.tamper != nil {
				if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), tc.tamper, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, content := range []bool{false, true} {
				_, err := read(t, arg, files.Options{Content: content})
				if !content && tc.contentOnly {
					if err != nil {
						t.Errorf("header-only read: %v, want no check of the digest", err)
					}
					continue
				}
				if !errors.Is(err, errdefs.ErrCorrupt) {
					t.Fatalf("Content=%v: Read = %v, want ErrCorrupt", content, err)
				}
				if !strings.HasPrefix(err.Error(), "layer "+d.String()+": ") {
					t.Errorf("error %q does not start by naming layer %s", err, d)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not say %q", err, tc.want)
				}
			}
		})
	}
}

// TestReadTruncatedArchiveLayer: a header-only read of a docker-archive's
// uncompressed layer seeks past contents, and still finds a layer cut
// short inside one.
func TestReadTruncatedArchiveLayer(t *testing.T) {
	raw := sampleTar(t)
	cut := raw[:len(raw)-1500] // inside app/two, before the end blocks
	img := imageOf(t, newLayer(t, cut, sha(cut), mediaType(none)))
	arg := writeDockerArchive(t, img)
	for _, content := range []bool{false, true} {
		_, err := read(t, arg, files.Options{Content: content})
		if !errors.Is(err, errdefs.ErrCorrupt) || !strings.Contains(err.Error(), "layer "+sha(cut).String()) {
			t.Errorf("Content=%v: Read = %v, want ErrCorrupt naming the layer", content, err)
		}
	}
}

// TestReadMissingBlob: a blob absent from a layout is not a corrupt layer
// but a missing one, and says which.
func TestReadMissingBlob(t *testing.T) {
	l := layerOf(t, []member{reg("a", 0o644, []byte("a"))}, gz)
	arg, dir := writeLayout(t, imageOf(t, l))
	src := open(t, arg)
	d, _ := l.Digest()
	if err := os.Remove(filepath.Join(dir, "blobs", "sha256", d.Hex)); err != nil {
		t.Fatal(err)
	}
	_, err := files.Read(t.Context(), src, files.Options{})
	if err == nil || errors.Is(err, errdefs.ErrCorrupt) || !strings.Contains(err.Error(), d.String()) {
		t.Errorf("Read with a missing blob = %v, want an error naming %s, not ErrCorrupt", err, d)
	}
}

// rawBlock is a USTAR header block written by hand, for headers
// archive/tar's writer refuses to make.
func rawBlock(name string, typeflag byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:], name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typeflag
	copy(b[257:], "ustar\x0000")
	copy(b[148:], "        ")
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func padBlock(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

// sparseBomb is a PAX (GNU 1.0) sparse file claiming a petabyte of holes
// in a layer of 2 KiB.
func sparseBomb() []byte {
	var recs string
	for _, kv := range []string{"GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=hole", "GNU.sparse.realsize=1000000000000000"} {
		n := len(kv) + 3
		for len(fmt.Sprintf("%d %s\n", n, kv)) != n {
			n++
		}
		recs += fmt.Sprintf("%d %s\n", n, kv)
	}
	var b []byte
	b = append(b, rawBlock("PaxHeaders/hole", 'x', int64(len(recs)))...)
	b = append(b, padBlock([]byte(recs))...)
	b = append(b, rawBlock("hole", '0', 512)...)
	b = append(b, padBlock([]byte("0\n"))...) // a sparse map of no data
	return append(b, make([]byte, 1024)...)
}

// TestReadSparseBomb: a sparse file is listed with the size it claims,
// at once; hashing its holes (Content) takes as long as they are long,
// but stops with the context.
func TestReadSparseBomb(t *testing.T) {
	raw := sparseBomb()
	img := imageOf(t, newLayer(t, compress(t, raw, gz), sha(raw), mediaType(gz)))
	src := &source.Image{Transport: source.OCI, Image: img}
	ls, err := files.Read(t.Context(), src, files.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []files.Entry{{Path: "hole", Type: files.Regular, Size: 1e15, Mode: 0o644}}
	if diff := cmp.Diff(want, ls[0].Entries); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := files.Read(ctx, src, files.Options{Content: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read with Content = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Read with Content took %v after its deadline", d)
	}
}
