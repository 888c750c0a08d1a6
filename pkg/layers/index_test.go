package layers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testindex"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// TestLoadIndex reads two-platform indexes (OCI and Docker media types,
// each with attestations) from a layout, an oci-archive and a registry,
// and holds every figure to what go-containerregistry says of the same
// manifests.
func TestLoadIndex(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, docker := range []bool{false, true} {
		b := testindex.Build(t, testindex.Spec{Docker: docker, Extra: []int{0, 5000}})
		kind := "oci"
		if docker {
			kind = "docker"
		}
		dir := filepath.Join(t.TempDir(), "layout")
		testindex.WriteLayout(t, dir, b.Index, "multi")
		archive := filepath.Join(t.TempDir(), "multi.tar")
		testindex.WriteArchive(t, archive, b.Index, "multi")
		ref, err := name.ParseReference(host + "/multi/" + kind + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, b.Index); err != nil {
			t.Fatal(err)
		}
		for _, arg := range []string{"oci:" + dir + ":multi", "oci-archive:" + archive, ref.String()} {
			t.Run(kind+"/"+strings.SplitN(arg, ":", 2)[0], func(t *testing.T) {
				t.Parallel()
				x := loadIndex(t, arg, source.Platforms{All: true})
				if len(x.Platforms) != 2 {
					t.Fatalf("%d platforms, want 2", len(x.Platforms))
				}
				for i, img := range x.Platforms {
					if got := layers.PlatformKey(img.Platform); got != b.PlatformNames[i] {
						t.Errorf("platform %d is %s, want %s", i, got, b.PlatformNames[i])
					}
					if img.Compressed.Bytes != b.Compressed[i] || !img.Compressed.Known() {
						t.Errorf("%s compressed %+v, want %d", b.PlatformNames[i], img.Compressed, b.Compressed[i])
					}
					if img.Uncompressed.Bytes != b.Uncompressed[i] || !img.Uncompressed.Known() {
						t.Errorf("%s uncompressed %+v, want %d", b.PlatformNames[i], img.Uncompressed, b.Uncompressed[i])
					}
					d, _ := b.Platforms[i].Digest()
					if img.Digest != d {
						t.Errorf("%s digest %s, want %s", b.PlatformNames[i], img.Digest, d)
					}
				}
				if x.Stored.Bytes != b.Stored || x.Stored.Provenance != layers.Exact {
					t.Errorf("stored %+v, want exactly %d", x.Stored, b.Stored)
				}
				if naive := b.Compressed[0] + b.Compressed[1]; x.Stored.Bytes >= naive+sum(b.AttestationBytes)+4096 {
					t.Errorf("stored %d does not count the shared layer once (platforms alone sum to %d)", x.Stored.Bytes, naive)
				}
				if at := x.SharedLayers[b.Shared]; len(at) != 2 || len(x.SharedLayers) != 1 {
					t.Errorf("shared layers %v, want only %s in both platforms", x.SharedLayers, b.Shared)
				}
				if len(x.Artifacts) != 2 {
					t.Fatalf("%d artifacts, want the 2 attestations", len(x.Artifacts))
				}
				for i, a := range x.Artifacts {
					d, _ := b.Platforms[i].Digest()
					if a.Kind != source.EntryAttestation || a.Subject != d || a.Bytes.Bytes != b.AttestationBytes[i] {
						t.Errorf("artifact %d: %s of %s, %d bytes; want attestation of %s, %d bytes", i, a.Kind, a.Subject, a.Bytes.Bytes, d, b.AttestationBytes[i])
					}
				}
			})
		}
	}
}

// TestLoadIndexList selects by list: a default variant matches the
// platform written without it, an absent platform is Missing, and the
// bytes of the platform not selected still count in Stored.
func TestLoadIndexList(t *testing.T) {
	t.Parallel()
	b := testindex.Build(t, testindex.Spec{Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v6"}})
	dir := t.TempDir()
	testindex.WriteLayout(t, dir, b.Index, "multi")
	arm64, _ := source.ParsePlatform("linux/arm64/v8")
	s390x, _ := source.ParsePlatform("linux/s390x")
	x := loadIndex(t, "oci:"+dir, source.Platforms{List: []v1.Platform{arm64, s390x}})
	if len(x.Platforms) != 1 || layers.PlatformKey(x.Platforms[0].Platform) != "linux/arm64" {
		t.Fatalf("platforms %v, want linux/arm64 alone", x.Platforms)
	}
	if len(x.Missing) != 1 || x.Missing[0].Architecture != "s390x" {
		t.Errorf("missing %v, want linux/s390x", x.Missing)
	}
	if x.Unselected != 2 || x.Stored.Bytes != b.Stored {
		t.Errorf("unselected %d, stored %d; want 2 and the whole index's %d", x.Unselected, x.Stored.Bytes, b.Stored)
	}
}

// TestLoadIndexLies refuses an index whose platform its config denies.
func TestLoadIndexLies(t *testing.T) {
	t.Parallel()
	b := testindex.Build(t, testindex.Spec{NoAttestations: true})
	// A copy of the amd64 image (another manifest, the same config)
	// listed as s390x.
	amd := mutate.Annotations(b.Platforms[0], map[string]string{"copy": "1"}).(v1.Image)
	lying := mutate.AppendManifests(b.Index, mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}})
	dir := t.TempDir()
	testindex.WriteLayout(t, dir, lying, "x")
	_, err := openIndex(t, "oci:"+dir, source.Platforms{All: true})
	if !errors.Is(err, errdefs.ErrCorrupt) || !strings.Contains(err.Error(), "linux/s390x") {
		t.Fatalf("err = %v, want a corrupt-image error naming linux/s390x", err)
	}
}

func TestPlatformKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"linux/amd64": "linux/amd64", "linux/amd64/v1": "linux/amd64", "linux/amd64/v3": "linux/amd64/v3",
		"linux/arm64": "linux/arm64", "linux/arm64/v8": "linux/arm64",
		"linux/arm": "linux/arm/v7", "linux/arm/v7": "linux/arm/v7", "linux/arm/v6": "linux/arm/v6",
		"windows/amd64:10.0.20348.2113": "windows/amd64:10.0.20348.2113",
	} {
		p, err := v1.ParsePlatform(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := layers.PlatformKey(p); got != want {
			t.Errorf("PlatformKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := layers.PlatformKey(nil); got != "unknown" {
		t.Errorf("PlatformKey(nil) = %s", got)
	}
}

func openIndex(t *testing.T, arg string, sel source.Platforms) (*source.Index, error) {
	t.Helper()
	x, err := source.OpenIndex(context.Background(), arg, source.Options{}, sel)
	if err == nil {
		t.Cleanup(func() { x.Close() })
	}
	return x, err
}

func loadIndex(t *testing.T, arg string, sel source.Platforms) *layers.Index {
	t.Helper()
	src, err := openIndex(t, arg, sel)
	if err != nil {
		t.Fatal(err)
	}
	x, err := layers.LoadIndex(context.Background(), src, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func sum(ns []int64) int64 {
	var t int64
	for _, n := range ns {
		t += n
	}
	return t
}

// TestLoadIndexArtifacts classifies a notation signature (an artifactType
// and a subject) and an SBOM artifact as what they are, never platforms,
// and counts their bytes in Stored.
func TestLoadIndexArtifacts(t *testing.T) {
	t.Parallel()
	b := testindex.Build(t, testindex.Spec{NoAttestations: true})
	d0, err := b.Platforms[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	desc0, err := partial.Descriptor(b.Platforms[0])
	if err != nil {
		t.Fatal(err)
	}
	artifact := func(configType types.MediaType, content string) v1.Image {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, configType)
		img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer([]byte(content), "application/octet-stream"), MediaType: "application/octet-stream"})
		if err != nil {
			t.Fatal(err)
		}
		return mutate.Subject(img, *desc0).(v1.Image)
	}
	sig := artifact("application/vnd.cncf.notary.signature", "signature bytes")
	sbom := artifact("application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	idx := mutate.AppendManifests(b.Index, mutate.IndexAddendum{Add: sig}, mutate.IndexAddendum{Add: sbom})
	dir := t.TempDir()
	testindex.WriteLayout(t, dir, idx, "x")
	x := loadIndex(t, "oci:"+dir, source.Platforms{All: true})
	if len(x.Platforms) != 2 || len(x.Artifacts) != 2 {
		t.Fatalf("%d platforms, %d artifacts; want 2 and 2", len(x.Platforms), len(x.Artifacts))
	}
	want := []source.EntryKind{source.EntrySignature, source.EntryArtifact}
	var extra int64
	seen := map[v1.Hash]bool{}
	for i, img := range []v1.Image{sig, sbom} {
		a := x.Artifacts[i]
		m, _ := img.Manifest()
		raw, _ := img.RawManifest()
		n := int64(len(raw)) + m.Config.Size + m.Layers[0].Size
		extra += int64(len(raw))
		for _, d := range []v1.Descriptor{m.Config, m.Layers[0]} {
			if !seen[d.Digest] {
				seen[d.Digest] = true
				extra += d.Size
			}
		}
		if a.Kind != want[i] || a.Subject != d0 || a.Bytes.Bytes != n {
			t.Errorf("artifact %d: %s of %s, %d bytes; want %s of %s, %d", i, a.Kind, a.Subject, a.Bytes.Bytes, want[i], d0, n)
		}
	}
	raw, _ := idx.RawManifest()
	oldRaw, _ := b.Index.RawManifest()
	// The two artifacts' configs are the same blob, counted once.
	if wantStored := b.Stored - int64(len(oldRaw)) + int64(len(raw)) + extra; x.Stored.Bytes != wantStored {
		t.Errorf("stored %d, want %d", x.Stored.Bytes, wantStored)
	}
}

// TestOpenIndexBadInput: a missing or altered platform manifest, an index
// that is not JSON, and a manifest a registry no longer has are each a
// clear error of the right kind, naming the manifest.
func TestOpenIndexBadInput(t *testing.T) {
	t.Parallel()
	b := testindex.Build(t, testindex.Spec{})
	arm, err := b.Platforms[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	layoutWith := func(t *testing.T, change func(dir string)) string {
		dir := t.TempDir()
		testindex.WriteLayout(t, dir, b.Index, "x")
		change(dir)
		return "oci:" + dir
	}
	blob := func(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", h.Algorithm, h.Hex) }
	for _, tc := range []struct {
		name   string
		arg    func(t *testing.T) string
		kind   error
		saying string
	}{
		{"missing manifest", func(t *testing.T) string {
			return layoutWith(t, func(dir string) { os.Remove(blob(dir, arm)) })
		}, errdefs.ErrNotFound, arm.String()},
		{"altered manifest", func(t *testing.T) string {
			return layoutWith(t, func(dir string) { os.WriteFile(blob(dir, arm), []byte(`{"schemaVersion":2}`), 0o644) })
		}, errdefs.ErrCorrupt, arm.String()},
		{"index not JSON", func(t *testing.T) string {
			dir := t.TempDir()
			testindex.WriteLayout(t, dir, b.Index, "x")
			bad := []byte("not json")
			sum := sha256.Sum256(bad)
			h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
			os.WriteFile(blob(dir, h), bad, 0o644)
			os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"`+h.String()+`","size":8}]}`), 0o644)
			return "oci:" + dir
		}, errdefs.ErrCorrupt, "parsing index"},
		{"registry lost a manifest", func(t *testing.T) string {
			srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
			t.Cleanup(srv.Close)
			ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/lost:v1")
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.WriteIndex(ref, b.Index); err != nil {
				t.Fatal(err)
			}
			if err := remote.Delete(ref.Context().Digest(arm.String())); err != nil {
				t.Fatal(err)
			}
			return ref.String()
		}, errdefs.ErrNotFound, arm.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := openIndex(t, tc.arg(t), source.Platforms{All: true})
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.saying) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v; want one line wrapping %v and saying %q", err, tc.kind, tc.saying)
			}
		})
	}
}
