// Package testindex builds small multi-platform images for tests: an
// index of two platform images that share their base layer, each with a
// BuildKit-style attestation manifest, in OCI or Docker media types, and
// the figures a test expects of it, computed from go-containerregistry's
// own view of the manifests (not from imgsize's code).
package testindex

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testutil"
)

// Spec says what to build.
type Spec struct {
	// Docker uses Docker media types (a manifest list of schema 2
	// manifests, gzip layers); else OCI.
	Docker bool
	// Platforms are the images' platforms, "os/arch[/variant]"; default
	// linux/amd64 and linux/arm64.
	Platforms []string
	// Extra adds, per platform (by position), a further layer of this
	// many bytes of content; 0 adds none.
	Extra []int
	// Seed varies the platform-specific content, so two builds with
	// different seeds share only the base layer.
	Seed byte
	// NoAttestations leaves the attestation manifests out.
	NoAttestations bool
}

// Built is an index and what a test expects of it.
type Built struct {
	Index v1.ImageIndex
	// Platforms are the platform images in index order.
	Platforms []v1.Image
	// PlatformNames are their platforms as given in Spec.
	PlatformNames []string
	// Compressed is each platform's sum of layer sizes, from its manifest.
	Compressed []int64
	// Uncompressed is each platform's sum of uncompressed layer sizes,
	// counted by reading the layers.
	Uncompressed []int64
	// Stored is the index's raw manifest and every distinct blob it
	// reaches (manifests, configs, layers), each once.
	Stored int64
	// Attestations is how many attestation manifests the index lists, and
	// AttestationBytes what each costs (manifest, config and layers).
	Attestations     int
	AttestationBytes []int64
	// Shared is the digest of the base layer every platform shares.
	Shared v1.Hash
}

// Build builds the index spec describes.
func Build(t testing.TB, spec Spec) *Built {
	t.Helper()
	if len(spec.Platforms) == 0 {
		spec.Platforms = []string{"linux/amd64", "linux/arm64"}
	}
	layerType, manifestType, indexType := types.OCILayer, types.OCIManifestSchema1, types.OCIImageIndex
	configType := types.OCIConfigJSON
	if spec.Docker {
		layerType, manifestType, indexType, configType = types.DockerLayer, types.DockerManifestSchema2, types.DockerManifestList, types.DockerConfigJSON
	}
	layer := func(files map[string][]byte) v1.Layer {
		t.Helper()
		return testutil.GzipLayer(t, tarOf(t, files), layerType)
	}
	base := layer(map[string][]byte{"etc/os-release": []byte("ID=testindex\n"), "bin/sh": bytes.Repeat([]byte("base"), 4096)})
	b := &Built{PlatformNames: spec.Platforms}
	var err error
	if b.Shared, err = base.Digest(); err != nil {
		t.Fatal(err)
	}
	idx := mutate.IndexMediaType(empty.Index, indexType)
	var adds []mutate.IndexAddendum
	for i, name := range spec.Platforms {
		p, err := v1.ParsePlatform(name)
		if err != nil {
			t.Fatal(err)
		}
		content := map[string][]byte{"app/" + name + "/bin": bytes.Repeat([]byte{spec.Seed, byte(i), 'x'}, 1000*(i+1))}
		ls := []v1.Layer{base, layer(content)}
		if i < len(spec.Extra) && spec.Extra[i] > 0 {
			ls = append(ls, layer(map[string][]byte{"extra/blob": bytes.Repeat([]byte{spec.Seed, byte(i), 'e'}, spec.Extra[i]/3+1)}))
		}
		img := mutate.MediaType(empty.Image, manifestType)
		img = mutate.ConfigMediaType(img, configType)
		if img, err = mutate.AppendLayers(img, ls...); err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		b.Platforms = append(b.Platforms, img)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: manifestType, Platform: p}})
		var c, u int64
		for _, l := range ls {
			n, err := l.Size()
			if err != nil {
				t.Fatal(err)
			}
			c += n
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			m, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			u += m
		}
		b.Compressed = append(b.Compressed, c)
		b.Uncompressed = append(b.Uncompressed, u)
	}
	if !spec.NoAttestations {
		for i, img := range b.Platforms {
			d, err := img.Digest()
			if err != nil {
				t.Fatal(err)
			}
			statement := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"digest":{"sha256":"` + d.Hex + `"}}],"seed":` + string(rune('0'+i)) + `}`)
			att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
			att = mutate.ConfigMediaType(att, types.OCIConfigJSON)
			if att, err = mutate.Append(att, mutate.Addendum{Layer: static.NewLayer(statement, "application/vnd.in-toto+json"), MediaType: "application/vnd.in-toto+json"}); err != nil {
				t.Fatal(err)
			}
			adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
				MediaType: types.OCIManifestSchema1,
				Platform:  &v1.Platform{OS: "unknown", Architecture: "unknown"},
				Annotations: map[string]string{
					"vnd.docker.reference.type":   "attestation-manifest",
					"vnd.docker.reference.digest": d.String(),
				},
			}})
			b.Attestations++
			m, err := att.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := att.RawManifest()
			if err != nil {
				t.Fatal(err)
			}
			n := int64(len(raw)) + m.Config.Size
			for _, l := range m.Layers {
				n += l.Size
			}
			b.AttestationBytes = append(b.AttestationBytes, n)
		}
	}
	b.Index = mutate.AppendManifests(idx, adds...)
	b.Stored = stored(t, b.Index)
	return b
}

// stored sums the index's raw manifest and every distinct blob below it.
func stored(t testing.TB, idx v1.ImageIndex) int64 {
	t.Helper()
	raw, err := idx.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	total := int64(len(raw))
	seen := map[v1.Hash]bool{}
	add := func(d v1.Descriptor) {
		if !seen[d.Digest] {
			seen[d.Digest] = true
			total += d.Size
		}
	}
	for _, d := range im.Manifests {
		add(d)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		add(m.Config)
		for _, l := range m.Layers {
			add(l)
		}
	}
	return total
}

// WriteLayout writes the index as an OCI layout in dir, tagged tag.
func WriteLayout(t testing.TB, dir string, idx v1.ImageIndex, tag string) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
}

// WriteArchive writes the index as an oci-archive (a tar of a layout) at
// path, tagged tag.
func WriteArchive(t testing.TB, path string, idx v1.ImageIndex, tag string) {
	t.Helper()
	dir := t.TempDir()
	WriteLayout(t, dir, idx, tag)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func tarOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// Sorted, so the layer (and its digest) is the same every build.
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
