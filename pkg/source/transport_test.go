package source_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/source"
)

// archiveKind is one way of storing the generated image on disk.
type archiveKind struct {
	name string
	// write stores the image under dir and returns the path to open.
	write func(t *testing.T, dir string, img imageFacts) string
	// transport is the explicit prefix, and what auto-detection must pick
	// for the bare path unless detectedAs says otherwise.
	transport source.Transport
	// wantDigest: the stored manifest digest (nil: manifest is synthetic).
	wantDigest func(t *testing.T, f imageFacts) *v1.Hash
	wantLayers func(f imageFacts) []v1.Descriptor
	// tag, when set, is also tried as PATH:TAG.
	tag string
	// detectedAs is what auto-detection picks when it differs from
	// transport: a Docker 25 archive holds both manifest.json and
	// index.json and is read as a docker-archive, as docker load would.
	detectedAs source.Transport
}

func (k archiveKind) detected() source.Transport {
	if k.detectedAs != "" {
		return k.detectedAs
	}
	return k.transport
}

func generatorDigest(_ *testing.T, f imageFacts) *v1.Hash { return &f.digest }

// TestOpenTransports stores one generated image in every format the
// package reads and opens it with the explicit transport, by
// auto-detection, and with :TAG. Digests, config bytes, layer descriptors
// and the bytes served for each layer must be the generator's (for a
// docker-archive: the uncompressed tar named by its diffID).
func TestOpenTransports(t *testing.T) {
	t.Parallel()
	base := genOCIImage(t, 1, 3, 1500, linuxAmd64)
	facts := factsOf(t, base)

	var docker25Digest v1.Hash
	kinds := []archiveKind{
		{
			name:      "oci dir",
			transport: source.OCI,
			tag:       "v1",
			write: func(t *testing.T, dir string, _ imageFacts) string {
				p := writeLayout(t, filepath.Join(dir, "layout"))
				if err := p.AppendImage(base, tagged("v1"), layout.WithPlatform(linuxAmd64)); err != nil {
					t.Fatal(err)
				}
				return string(p)
			},
			wantDigest: generatorDigest,
			wantLayers: imageFacts.wantLayers,
		},
		{
			name:      "oci-archive",
			transport: source.OCIArchive,
			tag:       "v1",
			write: func(t *testing.T, dir string, _ imageFacts) string {
				p := writeLayout(t, filepath.Join(dir, "layout"))
				if err := p.AppendImage(base, tagged("v1")); err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(dir, "image.oci.tar")
				tarDir(t, string(p), dst)
				return dst
			},
			wantDigest: generatorDigest,
			wantLayers: imageFacts.wantLayers,
		},
		{
			name:      "oci-archive gzipped",
			transport: source.OCIArchive,
			write: func(t *testing.T, dir string, _ imageFacts) string {
				p := writeLayout(t, filepath.Join(dir, "layout"))
				if err := p.AppendImage(base, tagged("v1")); err != nil {
					t.Fatal(err)
				}
				plain := filepath.Join(dir, "image.oci.tar")
				tarDir(t, string(p), plain)
				dst := plain + ".gz"
				gzipFile(t, plain, dst)
				return dst
			},
			wantDigest: generatorDigest,
			wantLayers: imageFacts.wantLayers,
		},
		{
			name:      "docker-archive gzipped layers (tarball.Write)",
			transport: source.DockerArchive,
			tag:       "app:v1",
			write: func(t *testing.T, dir string, _ imageFacts) string {
				dst := filepath.Join(dir, "crane.tar")
				writeTarball(t, dst, map[string]v1.Image{"app:v1": base})
				return dst
			},
			// The stored layers are the generator's gzip blobs, byte for byte.
			wantLayers: func(f imageFacts) []v1.Descriptor {
				out := f.wantLayers()
				for i := range out {
					out[i].MediaType = types.OCILayer
				}
				return out
			},
		},
		{
			name:      "docker-archive legacy uncompressed (hand-made docker save)",
			transport: source.DockerArchive,
			tag:       "app:v1",
			write: func(t *testing.T, dir string, f imageFacts) string {
				dst := filepath.Join(dir, "save.tar")
				writeTar(t, dst, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
				return dst
			},
			wantLayers: imageFacts.wantUncompressedLayers,
		},
		{
			name:      "docker-archive legacy gzipped as a whole (docker save | gzip)",
			transport: source.DockerArchive,
			write: func(t *testing.T, dir string, f imageFacts) string {
				plain := filepath.Join(dir, "save.tar")
				writeTar(t, plain, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
				dst := plain + ".gz"
				gzipFile(t, plain, dst)
				return dst
			},
			wantLayers: imageFacts.wantUncompressedLayers,
		},
		{
			name:      "docker-archive legacy zstd as a whole",
			transport: source.DockerArchive,
			write: func(t *testing.T, dir string, f imageFacts) string {
				needTool(t, "zstd")
				plain := filepath.Join(dir, "save.tar")
				writeTar(t, plain, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
				dst := plain + ".zst"
				if out, err := exec.Command("zstd", "-q", "-o", dst, plain).CombinedOutput(); err != nil {
					t.Fatalf("zstd: %v\n%s", err, out)
				}
				return dst
			},
			wantLayers: imageFacts.wantUncompressedLayers,
		},
		{
			name:      "docker-archive Docker 25 (manifest.json into blobs/)",
			transport: source.DockerArchive,
			tag:       "app:v1",
			write: func(t *testing.T, dir string, f imageFacts) string {
				dst := filepath.Join(dir, "save25.tar")
				entries, _ := docker25Entries(t, f, "app:v1", false)
				writeTar(t, dst, entries)
				return dst
			},
			wantLayers: imageFacts.wantUncompressedLayers,
		},
		{
			name:      "docker-archive Docker 25 (manifest.json via layer.tar symlinks)",
			transport: source.DockerArchive,
			write: func(t *testing.T, dir string, f imageFacts) string {
				dst := filepath.Join(dir, "save25.tar")
				entries, _ := docker25Entries(t, f, "app:v1", true)
				writeTar(t, dst, entries)
				return dst
			},
			wantLayers: imageFacts.wantUncompressedLayers,
		},
		{
			// The same Docker 25 archive is also a valid OCI layout; read
			// that way its stored manifest is the one docker25Entries wrote.
			name:       "Docker 25 archive read as oci-archive",
			transport:  source.OCIArchive,
			detectedAs: source.DockerArchive,
			tag:        "v1",
			write: func(t *testing.T, dir string, f imageFacts) string {
				dst := filepath.Join(dir, "save25.tar")
				var entries []tarEntry
				entries, docker25Digest = docker25Entries(t, f, "app:v1", false)
				writeTar(t, dst, entries)
				return dst
			},
			wantDigest: func(*testing.T, imageFacts) *v1.Hash { return &docker25Digest },
			wantLayers: imageFacts.wantUncompressedLayers,
		},
	}

	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			path := k.write(t, dir, facts)
			args := []struct {
				name, arg string
				transport source.Transport
			}{
				{"explicit", string(k.transport) + ":" + path, k.transport},
				{"detected", path, k.detected()},
			}
			if k.tag != "" {
				args = append(args, struct {
					name, arg string
					transport source.Transport
				}{"explicit with tag", string(k.transport) + ":" + path + ":" + k.tag, k.transport})
			}
			for _, a := range args {
				t.Run(a.name, func(t *testing.T) {
					img := open(t, a.arg, source.Options{})
					if img.Transport != a.transport {
						t.Errorf("Transport = %q, want %q", img.Transport, a.transport)
					}
					if img.Arg != a.arg {
						t.Errorf("Arg = %q, want %q", img.Arg, a.arg)
					}
					// Only a docker-archive has no stored manifest.
					if want := a.transport == source.DockerArchive; img.SyntheticManifest != want {
						t.Errorf("SyntheticManifest = %v, want %v", img.SyntheticManifest, want)
					}
					if img.Remote {
						t.Error("Remote = true for a local image")
					}
					if k.wantDigest != nil {
						got, err := img.Image.Digest()
						if err != nil {
							t.Fatal(err)
						}
						if want := k.wantDigest(t, facts); got != *want {
							t.Errorf("digest = %s, want %s", got, want)
						}
					}
					cfg, err := img.Image.ConfigName()
					if err != nil {
						t.Fatal(err)
					}
					if cfg != facts.configDgt {
						t.Errorf("config digest = %s, want %s", cfg, facts.configDgt)
					}
					raw, err := img.Image.RawConfigFile()
					if err != nil {
						t.Fatal(err)
					}
					if string(raw) != string(facts.config) {
						t.Errorf("config bytes differ from the generator's")
					}
					checkLayers(t, img.Image, k.wantLayers(facts), facts.diffIDs())
				})
			}
		})
	}
}

// TestOpenSkopeoDockerArchive reads a docker-archive written by skopeo (an
// independent implementation of the format), which stores the layers
// uncompressed: their digests must be the generator's diffIDs and their
// sizes what `gzip -dc BLOB | wc -c` counts.
func TestOpenSkopeoDockerArchive(t *testing.T) {
	t.Parallel()
	needTool(t, "skopeo")
	needTool(t, "gzip")
	base := genOCIImage(t, 2, 2, 4000, linuxAmd64)
	facts := factsOf(t, base)
	dir := t.TempDir()
	p := writeLayout(t, filepath.Join(dir, "layout"))
	if err := p.AppendImage(base, tagged("v1")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "skopeo.tar")
	cmd := exec.Command("skopeo", "--insecure-policy", "copy", "-q", "oci:"+string(p)+":v1", "docker-archive:"+dst+":app:v1")
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	var want []v1.Descriptor
	for _, l := range facts.layers {
		n := testutil.ShellCount(t, "gzip -dc "+filepath.Join(string(p), "blobs", "sha256", l.desc.Digest.Hex)+" | wc -c")
		want = append(want, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: n, Digest: l.diffID})
	}
	for _, arg := range []string{"docker-archive:" + dst, "docker-archive:" + dst + ":app:v1", dst} {
		t.Run(relArg(arg, dir), func(t *testing.T) {
			img := open(t, arg, source.Options{})
			if img.Transport != source.DockerArchive || !img.SyntheticManifest {
				t.Errorf("Transport, SyntheticManifest = %q, %v; want %q, true", img.Transport, img.SyntheticManifest, source.DockerArchive)
			}
			cfg, err := img.Image.ConfigName()
			if err != nil {
				t.Fatal(err)
			}
			if cfg != facts.configDgt {
				t.Errorf("config digest = %s, want %s", cfg, facts.configDgt)
			}
			checkLayers(t, img.Image, want, facts.diffIDs())
		})
	}
}
