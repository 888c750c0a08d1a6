package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// dockerManifest builds a one-image manifest.json.
func dockerManifest(config string, layers ...string) []byte {
	b, _ := json.Marshal([]map[string]any{{"Config": config, "RepoTags": []string{"app:v1"}, "Layers": layers}})
	return b
}

// TestArchiveLinks: docker save deduplicates identical layers with
// symlinks (`<id2>/layer.tar -> ../<id1>/layer.tar`) and some writers use
// hard links. Links resolve relative to their own directory, chains are
// followed, and loops or escapes fail cleanly instead of hanging or
// reading outside the archive.
func TestArchiveLinks(t *testing.T) {
	t.Parallel()
	f := factsOf(t, genImage(t, 90, 1, 700, &linuxAmd64))
	layer := f.layers[0]
	cfg := f.configDgt.Hex + ".json"
	// The config lists the same diffID twice: two identical layers.
	var cf map[string]any
	if err := json.Unmarshal(f.config, &cf); err != nil {
		t.Fatal(err)
	}
	cf["rootfs"] = map[string]any{"type": "layers", "diff_ids": []string{layer.diffID.String(), layer.diffID.String()}}
	twice, _ := json.Marshal(cf)
	want := []v1.Descriptor{
		{MediaType: types.OCIUncompressedLayer, Size: int64(len(layer.raw)), Digest: layer.diffID},
		{MediaType: types.OCIUncompressedLayer, Size: int64(len(layer.raw)), Digest: layer.diffID},
	}

	for _, c := range []struct {
		name    string
		entries []tarEntry
		wantErr error
		frag    string
	}{
		{name: "symlink to sibling directory", entries: []tarEntry{
			{name: "a/layer.tar", body: layer.raw},
			{name: "b/layer.tar", link: "../a/layer.tar"},
			{name: "manifest.json", body: dockerManifest(cfg, "a/layer.tar", "b/layer.tar")},
		}},
		{name: "relative symlink in a nested directory", entries: []tarEntry{
			{name: "x/data/layer.bin", body: layer.raw},
			{name: "x/y/layer.tar", link: "../data/layer.bin"},
			{name: "manifest.json", body: dockerManifest(cfg, "x/data/layer.bin", "x/y/layer.tar")},
		}},
		{name: "chain of symlinks", entries: []tarEntry{
			{name: "a/layer.tar", body: layer.raw},
			{name: "b/layer.tar", link: "../a/layer.tar"},
			{name: "c/layer.tar", link: "../b/layer.tar"},
			{name: "manifest.json", body: dockerManifest(cfg, "a/layer.tar", "c/layer.tar")},
		}},
		{name: "hard link", entries: []tarEntry{
			{name: "a/layer.tar", body: layer.raw},
			{name: "b/layer.tar", link: "a/layer.tar", hard: true},
			{name: "manifest.json", body: dockerManifest(cfg, "a/layer.tar", "b/layer.tar")},
		}},
		{name: "symlink loop", wantErr: errdefs.ErrNotFound, frag: "b/layer.tar", entries: []tarEntry{
			{name: "a/layer.tar", body: layer.raw},
			{name: "b/layer.tar", link: "../c/layer.tar"},
			{name: "c/layer.tar", link: "../b/layer.tar"},
			{name: "manifest.json", body: dockerManifest(cfg, "a/layer.tar", "b/layer.tar")},
		}},
		{name: "symlink escaping the archive", wantErr: errdefs.ErrNotFound, frag: "b/layer.tar", entries: []tarEntry{
			{name: "a/layer.tar", body: layer.raw},
			{name: "b/layer.tar", link: "../../../../etc/passwd"},
			{name: "manifest.json", body: dockerManifest(cfg, "a/layer.tar", "b/layer.tar")},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "save.tar")
			writeTar(t, p, append([]tarEntry{{name: cfg, body: twice}}, c.entries...))
			img, err := source.Open(context.Background(), "docker-archive:"+p, source.Options{})
			if c.wantErr != nil {
				if err == nil {
					img.Close()
				}
				checkErr(t, err, c.wantErr, c.frag)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			checkLayers(t, img.Image, want, []v1.Hash{layer.diffID, layer.diffID})
		})
	}
}

// TestDockerArchiveCheapOpen: opening a docker-archive reads metadata only.
// An uncompressed layer's digest is its diffID from the config and a
// compressed layer named <hex>.tar.gz (crane, kaniko) is taken at its
// name, without hashing the body; the bytes are checked when a later step
// reads them (pkg/layers hashes while counting). The test proves it with
// bodies that do not match those claims: had Open hashed them, the
// digests would differ.
func TestDockerArchiveCheapOpen(t *testing.T) {
	t.Parallel()
	f := factsOf(t, genImage(t, 91, 2, 500, &linuxAmd64))
	claimedGz := sha256Hash([]byte("claimed")).Hex
	gzBody := gzipBytes(t, f.layers[1].raw)
	wrongRaw := bytes.Repeat([]byte{0}, len(f.layers[0].raw))
	cfg := f.configDgt.Hex + ".json"
	p := filepath.Join(t.TempDir(), "save.tar")
	writeTar(t, p, []tarEntry{
		{name: cfg, body: f.config},
		{name: "l0/layer.tar", body: wrongRaw},
		{name: claimedGz + ".tar.gz", body: gzBody},
		{name: "manifest.json", body: dockerManifest(cfg, "l0/layer.tar", claimedGz+".tar.gz")},
	})
	img := open(t, "docker-archive:"+p, source.Options{})
	m, err := img.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	want := []v1.Descriptor{
		{MediaType: types.OCIUncompressedLayer, Size: int64(len(wrongRaw)), Digest: f.layers[0].diffID},
		{MediaType: types.OCILayer, Size: int64(len(gzBody)), Digest: v1.Hash{Algorithm: "sha256", Hex: claimedGz}},
	}
	var got []v1.Descriptor
	for _, l := range m.Layers {
		got = append(got, v1.Descriptor{MediaType: l.MediaType, Size: l.Size, Digest: l.Digest})
	}
	if d := descDiff(got, want); d != "" {
		t.Errorf("synthetic layers:\n%s", d)
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	gzipFile(t, filepath.Join(dir, "x"), filepath.Join(dir, "x.gz"))
	out, err := os.ReadFile(filepath.Join(dir, "x.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConcurrentLayerReads: later steps read layers in parallel (errgroup),
// all through one opened image. Run under -race, every reader must get
// its own layer's bytes.
func TestConcurrentLayerReads(t *testing.T) {
	t.Parallel()
	img := genOCIImage(t, 92, 4, 3000, linuxAmd64)
	f := factsOf(t, img)
	dir := t.TempDir()
	p := writeLayout(t, filepath.Join(dir, "layout"))
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	tarDir(t, string(p), filepath.Join(dir, "oci.tar"))
	writeTar(t, filepath.Join(dir, "save.tar"), legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
	gzipFile(t, filepath.Join(dir, "save.tar"), filepath.Join(dir, "save.tar.gz"))
	for _, c := range []struct {
		arg  string
		want []v1.Descriptor
	}{
		{"oci:" + string(p), f.wantLayers()},
		{"oci-archive:" + filepath.Join(dir, "oci.tar"), f.wantLayers()},
		{"docker-archive:" + filepath.Join(dir, "save.tar"), f.wantUncompressedLayers()},
		{"docker-archive:" + filepath.Join(dir, "save.tar.gz"), f.wantUncompressedLayers()},
	} {
		t.Run(relArg(c.arg, dir), func(t *testing.T) {
			src := open(t, c.arg, source.Options{})
			ls, err := src.Image.Layers()
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 4*len(ls))
			var wg sync.WaitGroup
			for range 4 {
				for i, l := range ls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rc, err := l.Compressed()
						if err != nil {
							errs <- err
							return
						}
						defer rc.Close()
						b, err := io.ReadAll(rc)
						if err != nil {
							errs <- err
							return
						}
						if got := sha256Hash(b); got != c.want[i].Digest {
							errs <- fmt.Errorf("layer %d read as %s, want %s", i, got, c.want[i].Digest)
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
