package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/testengine"
)

// The same image stored as gzip and as zstd, and as a docker save archive:
// compare reports every layer as recompressed (same diffID, another blob),
// none as unique, added or removed, and the recompressed bytes are the
// image's own blob sizes, summed here from the blobs themselves.
func TestCompareRecompressedCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var gz, zs v1.Image = mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	var zstdBytes, streamBytes int64
	var zstdDigests []string
	for seed := range uint64(2) {
		stream := encTar(t, encFiles(seed+40))
		zblob := enc.EncodeAll(stream, nil)
		gl, zl := encNewLayer(encGzip(t, stream), stream, types.OCILayer), encNewLayer(zblob, stream, types.OCILayerZStd)
		if gz, err = mutate.AppendLayers(gz, gl); err != nil {
			t.Fatal(err)
		}
		if zs, err = mutate.AppendLayers(zs, zl); err != nil {
			t.Fatal(err)
		}
		zstdBytes += int64(len(zblob))
		streamBytes += int64(len(stream))
		zstdDigests = append(zstdDigests, zl.digest.String())
	}
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, tagged := range []struct {
		tag string
		img v1.Image
	}{{"gzip", gz}, {"zstd", zs}} {
		if err := p.AppendImage(tagged.img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tagged.tag})); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(dir, "app.tar")
	testengine.WriteArchive(t, arch, "localhost/recompressed:v1", gz)

	d := decodeDoc(t, imgsize(t, nil, "compare", "-f", "json", "--no-cache", "oci:"+lay+":gzip", "oci:"+lay+":zstd", "docker-archive:"+arch))
	rows := d.Comparison.Rows
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	z, a := rows[1], rows[2]
	if z.Recompressed == nil || !slices.Equal(z.RecompressedLayers, zstdDigests) {
		t.Fatalf("zstd row: recompressed layers %v, want %v", z.RecompressedLayers, zstdDigests)
	}
	if got := z.Recompressed.Compressed.Bytes; got == nil || *got != zstdBytes {
		t.Errorf("zstd row: recompressed compressed %v, want the zstd blobs' %d bytes", got, zstdBytes)
	}
	if got := z.Recompressed.Uncompressed.Bytes; got == nil || *got != streamBytes {
		t.Errorf("zstd row: recompressed uncompressed %v, want the tar streams' %d bytes", got, streamBytes)
	}
	for name, row := range map[string]struct {
		shared, added, removed int
		unique                 *int64
	}{
		"zstd":           {z.SharedLayers, len(z.AddedLayers), len(z.RemovedLayers), z.Unique.Uncompressed.Bytes},
		"docker-archive": {a.SharedLayers, len(a.AddedLayers), len(a.RemovedLayers), a.Unique.Uncompressed.Bytes},
	} {
		if row.shared != 0 || row.added != 0 || row.removed != 0 || row.unique == nil || *row.unique != 0 {
			t.Errorf("%s row: %d shared, %d added, %d removed, unique %v; want 0, 0, 0, 0 B", name, row.shared, row.added, row.removed, row.unique)
		}
	}
	// The archive stores its layers uncompressed: the same content, its
	// compressed size unknown rather than 0.
	if len(a.RecompressedLayers) != 2 || a.Recompressed.Compressed.Bytes != nil || *a.Recompressed.Uncompressed.Bytes != streamBytes {
		t.Errorf("docker-archive row: %d recompressed, compressed %v, uncompressed %v; want 2, unknown, %d", len(a.RecompressedLayers), a.Recompressed.Compressed.Bytes, a.Recompressed.Uncompressed.Bytes, streamBytes)
	}

	r := imgsize(t, nil, "compare", "--no-cache", "oci:"+lay+":gzip", "oci:"+lay+":zstd")
	if r.code != 0 || !strings.Contains(r.stdout, "2 recompressed") || !strings.Contains(r.stdout, "2 layers hold the same content") {
		t.Errorf("table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
