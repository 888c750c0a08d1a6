package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
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
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := range 50_000 {
		body := []byte(fmt.Sprintf("file %d\n", i))
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("srv/d%03d/f%05d.txt", i%500, i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	stream := buf.Bytes()
	// An uncompressed layer, read by the binary, not this race-instrumented
	// process: the page's size is the point, and gzipping and reading
	// 50,000 entries here took seconds.
	l := static.NewLayer(stream, types.OCIUncompressedLayer)
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "files.html")
	if r := imgsize(t, nil, "files", "-f", "html", "-o", page, "--no-cache", "oci:"+dir); r.code != 0 {
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
