package source_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// fixture returns the path of an image made by a real tool (docker,
// kaniko, BuildKit), read in place from the shared fixtures.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(testutil.Fixtures(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s not available (%v); it lives in /work/shared/fixtures/dive", name, err)
	}
	return p
}

// tarOutput runs `tar -xOf archive member` and returns the member's bytes.
func tarOutput(t *testing.T, archive, member string) []byte {
	t.Helper()
	needTool(t, "tar")
	out, err := exec.Command("tar", "-xOf", archive, member).Output()
	if err != nil {
		t.Fatalf("tar -xOf %s %s: %v", archive, member, err)
	}
	return out
}

// TestFixtures opens every image fixture, with its transport and by
// auto-detection, and checks the layers against what tar itself lists:
// how many, their stored sizes, and for OCI archives their blob names
// and the platform index.json states.
func TestFixtures(t *testing.T) {
	t.Parallel()
	fixture(t, ".")
	all, err := filepath.Glob(filepath.Join(testutil.Fixtures(t), "*.tar"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]struct {
		transport source.Transport
		layers    int // counted independently below as well
		mediaType types.MediaType
	}{
		"test-docker-image.tar":           {source.DockerArchive, 14, types.OCIUncompressedLayer},
		"test-kaniko-image.tar":           {source.DockerArchive, 14, types.OCILayer},
		"test-oci-uncompressed-image.tar": {source.OCIArchive, 1, types.OCIUncompressedLayer},
		"test-oci-gzip-image.tar":         {source.OCIArchive, 1, types.OCILayer},
		"test-oci-zstd-image.tar":         {source.OCIArchive, 1, types.OCILayerZStd},
		"test-oci-estargz-image.tar":      {source.OCIArchive, 1, types.OCILayer},
	}
	seen := 0
	for _, path := range all {
		base := filepath.Base(path)
		if base == "test-gzip-image.tar" {
			continue // not an image; see TestFixtureNotAnImage
		}
		k, ok := known[base]
		if !ok {
			t.Errorf("new fixture %s: add it to this table", base)
			continue
		}
		seen++
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			listing := tarListing(t, path)
			layerEntries := independentLayers(t, path, k.transport, listing)
			if len(layerEntries) != k.layers {
				t.Fatalf("tar lists %d layers, table says %d", len(layerEntries), k.layers)
			}
			for _, arg := range []string{string(k.transport) + ":" + path, path} {
				img := open(t, arg, source.Options{})
				if img.Transport != k.transport {
					t.Errorf("%s: Transport = %q, want %q", arg, img.Transport, k.transport)
				}
				m, err := img.Image.Manifest()
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Layers) != len(layerEntries) {
					t.Fatalf("%s: %d layers, tar lists %d", arg, len(m.Layers), len(layerEntries))
				}
				for i, l := range m.Layers {
					e := layerEntries[i]
					if l.Size != e.size {
						t.Errorf("%s: layer %d (%s) is %d bytes, tar lists %d", arg, i, e.name, l.Size, e.size)
					}
					if e.digest != (v1.Hash{}) && l.Digest != e.digest {
						t.Errorf("%s: layer %d digest %s, want %s", arg, i, l.Digest, e.digest)
					}
					if l.MediaType != k.mediaType {
						t.Errorf("%s: layer %d media type %s, want %s", arg, i, l.MediaType, k.mediaType)
					}
				}
				if k.transport == source.OCIArchive {
					// BuildKit made these for linux/arm64: a single image is
					// read under the default linux/amd64 all the same.
					want := indexPlatform(t, path)
					cf, err := img.Image.ConfigFile()
					if err != nil {
						t.Fatal(err)
					}
					if want != "linux/arm64" || cf.Platform().String() != want {
						t.Errorf("%s: config platform %s, index.json says %s, want linux/arm64", arg, cf.Platform(), want)
					}
				}
			}
		})
	}
	if seen != len(known) {
		t.Errorf("found %d of the %d known image fixtures", seen, len(known))
	}
}

type fixtureLayer struct {
	name   string
	size   int64
	digest v1.Hash // known from the blob name, or zero
}

// independentLayers lists an archive's layers in order, from its own
// metadata read with tar, and sizes from `tar -tvf`.
func independentLayers(t *testing.T, path string, tr source.Transport, listing map[string]int64) []fixtureLayer {
	t.Helper()
	var out []fixtureLayer
	if tr == source.DockerArchive {
		var m []struct{ Layers []string }
		if err := json.Unmarshal(tarOutput(t, path, "manifest.json"), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 {
			t.Fatalf("manifest.json lists %d images", len(m))
		}
		// Count the layer files tar lists, independently of manifest.json.
		n := 0
		for name := range listing {
			if strings.HasSuffix(name, "/layer.tar") || strings.HasSuffix(name, ".tar.gz") {
				n++
			}
		}
		if n != len(m[0].Layers) {
			t.Fatalf("tar lists %d layer files, manifest.json %d", n, len(m[0].Layers))
		}
		for _, l := range m[0].Layers {
			size, ok := listing[l]
			if !ok {
				t.Fatalf("manifest.json names %s, which tar does not list", l)
			}
			out = append(out, fixtureLayer{name: l, size: size})
		}
		return out
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(tarOutput(t, path, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(tarOutput(t, path, "blobs/sha256/"+idx.Manifests[0].Digest.Hex), &m); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		name := "blobs/sha256/" + l.Digest.Hex
		size, ok := listing[name]
		if !ok {
			t.Fatalf("manifest names %s, which tar does not list", name)
		}
		out = append(out, fixtureLayer{name: name, size: size, digest: l.Digest})
	}
	return out
}

func indexPlatform(t *testing.T, path string) string {
	t.Helper()
	var idx v1.IndexManifest
	if err := json.Unmarshal(tarOutput(t, path, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].Platform == nil {
		t.Fatalf("index.json: want one manifest with a platform, got %+v", idx.Manifests)
	}
	return idx.Manifests[0].Platform.String()
}

// TestFixtureDockerLayerDigests: each synthetic layer digest of a
// docker-archive is the sha256 of the stored layer file, computed here with
// tar and sha256sum: docker save stores layers uncompressed (digest =
// diffID), kaniko stores them gzipped and names them by that digest.
func TestFixtureDockerLayerDigests(t *testing.T) {
	t.Parallel()
	needTool(t, "sha256sum")
	for _, name := range []string{"test-docker-image.tar", "test-kaniko-image.tar"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := fixture(t, name)
			img := open(t, path, source.Options{})
			m, err := img.Image.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			var entries []struct{ Layers []string }
			if err := json.Unmarshal(tarOutput(t, path, "manifest.json"), &entries); err != nil {
				t.Fatal(err)
			}
			if len(m.Layers) != len(entries[0].Layers) {
				t.Fatalf("%d layers, manifest.json lists %d", len(m.Layers), len(entries[0].Layers))
			}
			// One tar -x and one sha256sum of every layer file, rather
			// than a shell, tar and sha256sum for each layer.
			dir := t.TempDir()
			if out, err := exec.Command("tar", "-xf", path, "-C", dir).CombinedOutput(); err != nil {
				t.Fatalf("tar -xf %s: %v\n%s", path, err, out)
			}
			var files []string
			for _, name := range entries[0].Layers {
				files = append(files, filepath.Join(dir, name))
			}
			out, err := exec.Command("sha256sum", files...).Output()
			if err != nil {
				t.Fatal(err)
			}
			sums := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(sums) != len(files) {
				t.Fatalf("sha256sum printed %d lines for %d layers", len(sums), len(files))
			}
			for i, name := range entries[0].Layers {
				want := "sha256:" + strings.Fields(sums[i])[0]
				if got := m.Layers[i].Digest.String(); got != want {
					t.Errorf("layer %d (%s): digest %s, sha256sum says %s", i, name, got, want)
				}
			}
		})
	}
}

// TestFixtureNotAnImage: a plain tar holding a README is not an image.
func TestFixtureNotAnImage(t *testing.T) {
	t.Parallel()
	path := fixture(t, "test-gzip-image.tar")
	for _, c := range []struct {
		arg      string
		fragment string
	}{
		{path, "not an image archive"},
		{"docker-archive:" + path, "not an image archive"},
		{"oci-archive:" + path, "not an OCI archive"},
	} {
		img, err := source.Open(t.Context(), c.arg, source.Options{})
		if err == nil {
			img.Close()
		}
		checkErr(t, err, errdefs.ErrUnsupported, c.fragment)
	}
}
