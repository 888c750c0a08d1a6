package files_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// TestLocalBlobsSeek: the blob readers pkg/source hands out for local
// images are found to be seekable, so header-only reads of uncompressed
// layers skip contents. If this fails, Read still works, but reads every
// byte of such layers: see seeker.
func TestLocalBlobsSeek(t *testing.T) {
	img, _ := knownImage(t)
	for transport, arg := range map[string]string{
		"oci":            func() string { a, _ := writeLayout(t, img); return a }(),
		"oci-archive":    writeOCIArchive(t, img),
		"docker-archive": writeDockerArchive(t, img),
	} {
		src := open(t, arg)
		m, err := src.Image.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range m.Layers {
			l, err := src.Image.LayerByDigest(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			rs, ok := files.Seeker(rc)
			if !ok {
				t.Errorf("%s: the blob reader of layer %s (%T) hides its Seek", transport, d.Digest, rc)
				rc.Close()
				continue
			}
			// The reader found reads the same bytes.
			if n, err := io.Copy(io.Discard, rs); err != nil || n != d.Size {
				t.Errorf("%s: read %d bytes (%v) through the seeker, want %d", transport, n, err, d.Size)
			}
			rc.Close()
		}
	}
	// Wrappers that might do more than forward Read are left alone.
	type wrapped struct{ io.Reader }
	for _, rc := range []io.ReadCloser{
		struct {
			io.Reader
			io.Closer
		}{&bytes.Buffer{}, io.NopCloser(nil)},
		io.NopCloser(wrapped{bytes.NewReader(nil)}),
	} {
		if _, ok := files.Seeker(rc); ok {
			t.Errorf("Seeker(%T) found a seeker where there is none", rc)
		}
	}
}

// countingBlob counts the bytes read (not skipped) from a seekable blob.
type countingBlob struct {
	*bytes.Reader
	read *int64
}

func (c countingBlob) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	*c.read += int64(n)
	return n, err
}

func (countingBlob) Close() error { return nil }

type seekableLayer struct {
	blobLayer
	read *int64
}

func (l seekableLayer) Compressed() (io.ReadCloser, error) {
	return countingBlob{bytes.NewReader(l.blob), l.read}, nil
}

// TestHeaderOnlyReadSeeks: without Content an uncompressed layer whose
// reader can seek is listed from its headers, reading a small part of it;
// with Content every byte is read. The entries are the same.
func TestHeaderOnlyReadSeeks(t *testing.T) {
	var ms []member
	for i := range 20 {
		ms = append(ms, reg(string(rune('a'+i)), 0o644, pseudoRandom(uint64(i), 100_000)))
	}
	raw := tarOf(t, ms)
	var read int64
	l, err := partial.CompressedToLayer(seekableLayer{blobLayer{blob: raw, diffID: sha(raw), mt: types.OCIUncompressedLayer}, &read})
	if err != nil {
		t.Fatal(err)
	}
	img := imageOf(t, l)
	var byMode [2][]files.Layer
	for i, content := range []bool{false, true} {
		read = 0
		got, err := files.Read(t.Context(), &source.Image{Transport: source.OCI, Image: img}, files.Options{Content: content})
		if err != nil {
			t.Fatal(err)
		}
		byMode[i] = got
		if content && read != int64(len(raw)) {
			t.Errorf("with Content: read %d bytes, want all %d", read, len(raw))
		}
		// 20 headers, a byte at the end of each content, the end blocks:
		// one read of the source each, of at most a read-ahead buffer.
		if !content && read > int64(len(ms)+2)*files.SeekBuffer {
			t.Errorf("header-only: read %d of %d bytes, want headers only", read, len(raw))
		}
		t.Logf("Content=%v: read %d of %d bytes", content, read, len(raw))
	}
	for i := range byMode[1][0].Entries {
		byMode[1][0].Entries[i].Digest = ""
	}
	if diff := cmp.Diff(byMode[1], byMode[0], ignoreCount); diff != "" {
		t.Errorf("header-only entries differ from a full read's (-full +header-only):\n%s", diff)
	}
}
