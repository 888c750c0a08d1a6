package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestHTMLPageSize measures the files page of an image of 50,000 files:
// the page carries the report's top entries, not the filesystem, so it
// stays small whatever the image holds.
func TestHTMLPageSize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and reads an image of 50,000 files")
	}
	t.Parallel()
	// An uncompressed layer, read by the binary, not this race-instrumented
	// process: the page's size is the point, and gzipping and reading
	// 50,000 entries here took seconds. Streamed to its blob: built in a
	// bytes.Buffer and written through go-containerregistry's layout, its
	// 51 MB were copied often enough to cost seconds more.
	l := newHostileLayout(t)
	layer := l.stream(types.OCIUncompressedLayer, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for i := range 50_000 {
			body := fmt.Appendf(nil, "file %d\n", i)
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("srv/d%03d/f%05d.txt", i%500, i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(body); err != nil {
				return err
			}
		}
		return tw.Close()
	})
	// Uncompressed, the blob is its own diff.
	l.index(l.image("", []hostileLayer{{stored: &layer, diffID: layer.Digest, mt: layer.MediaType, tarLen: layer.Size}}))
	page := filepath.Join(t.TempDir(), "files.html")
	if r := imgsize(t, nil, "files", "-f", "html", "-o", page, "--no-cache", "oci:"+l.dir); r.code != 0 {
		t.Fatalf("files -f html: exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("files page of a 50,000-file image: %d bytes", len(b))
	if len(b) > 100<<10 || !strings.Contains(string(b), `"entries":50`) {
		t.Errorf("the page is %d bytes (want at most 100 KiB) or lacks the filesystem's count", len(b))
	}
}
