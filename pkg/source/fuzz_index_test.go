package source

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// memStore is an OCI layout in memory: index.json and blobs by digest.
type memStore struct {
	index []byte
	blobs map[v1.Hash][]byte
}

func (m memStore) readFile(name string) ([]byte, error) {
	if name != "index.json" {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("%s not in layout", name))
	}
	return m.index, nil
}

func (m memStore) blob(h v1.Hash) (io.ReadSeeker, int64, io.Closer, error) {
	b, ok := m.blobs[h]
	if !ok {
		return nil, 0, nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("blob %s missing from layout", h))
	}
	return bytes.NewReader(b), int64(len(b)), io.NopCloser(nil), nil
}

func fuzzHash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// fuzzLayer is the one layer blob of the fuzzed layouts: a small tar.
var fuzzLayer = func() []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("a"))
	tw.Close()
	return buf.Bytes()
}()

// The placeholders a fuzzed layout's documents name each other by, replaced
// with the real digest (hex) and size before the blobs are stored, so a
// mutated manifest is still the blob the index names.
const (
	phLayer, phLayerSize       = "@LD", "@LS"
	phConfig, phConfigSize     = "@CD", "@CS"
	phManifest, phManifestSize = "@MD", "@MS"
	phNested, phNestedSize     = "@ND", "@NS"
)

// fuzzLayout stores the documents, resolving placeholders: the config and
// the manifest name the layer, the manifest names the config, the nested
// index names the manifest, and index.json names the manifest and the
// nested index. It returns the manifest and config as stored.
func fuzzLayout(index, manifest, config, nested []byte) (s memStore, m, c []byte) {
	ref := func(b []byte, pairs ...string) []byte {
		return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
	}
	refTo := func(digest, size string, blob []byte) []string {
		return []string{digest, fuzzHash(blob).Hex, size, strconv.Itoa(len(blob))}
	}
	config = ref(config, refTo(phLayer, phLayerSize, fuzzLayer)...)
	manifest = ref(manifest, slices.Concat(refTo(phLayer, phLayerSize, fuzzLayer), refTo(phConfig, phConfigSize, config))...)
	nested = ref(nested, refTo(phManifest, phManifestSize, manifest)...)
	index = ref(index, slices.Concat(refTo(phManifest, phManifestSize, manifest), refTo(phNested, phNestedSize, nested))...)
	s = memStore{index: index, blobs: map[v1.Hash][]byte{}}
	for _, b := range [][]byte{fuzzLayer, config, manifest, nested} {
		s.blobs[fuzzHash(b)] = b
	}
	return s, manifest, config
}

// FuzzIndex resolves fuzzed OCI layouts as pkg/source reads them
// (resolveOCI, the path of both oci: and oci-archive:): an index.json, an
// image manifest, its config and a nested index, which name each other by
// placeholder so each can be mutated alone and still be found; the
// platform and tag asked for are fuzzed too. Whatever they hold:
//   - a platform ParsePlatform refuses is a usage error;
//   - resolving fails with an errdefs kind and a one-line message,
//     or returns the one image manifest stored, with its config, whose
//     image walks (manifest, config file, layers) consistently;
//   - a tag asked for and found is one an index descriptor carries.
func FuzzIndex(f *testing.F) {
	const (
		manifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:@CD","size":@CS},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:@LD","size":@LS}]}`
		config   = `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:@LD"]},"config":{}}`
		one      = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD","size":@MS,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`
		two      = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD","size":@MS,"platform":{"os":"linux","architecture":"amd64"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD","size":@MS,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD","size":@MS,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`
		nesting  = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:@ND","size":@NS,"annotations":{"io.containerd.image.name":"docker.io/library/app:v2"}}]}`
		noPlat   = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD"},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:@MD","size":@MS}]}`
	)
	for _, s := range []struct{ index, nested, platform, tag string }{
		{one, two, "linux/amd64", ""},
		{one, two, "linux/amd64", "v1"},
		{two, one, "linux/arm64", ""},
		{two, one, "linux/arm64/v8", ""},
		{two, one, "linux/arm/v7", ""},
		{nesting, two, "linux/arm64", "v2"},
		{nesting, nesting, "linux/amd64", ""},
		{noPlat, one, "linux/amd64", ""},
		{"{}", "", "", ""},
		{"not json", "", "windows/amd64", "latest"},
	} {
		f.Add([]byte(s.index), []byte(manifest), []byte(config), []byte(s.nested), s.platform, s.tag)
	}
	f.Fuzz(func(t *testing.T, index, manifest, config, nested []byte, platform, tag string) {
		want := v1.Platform{OS: "linux", Architecture: "amd64"}
		if platform != "" {
			p, err := ParsePlatform(platform)
			if err != nil {
				if !errors.Is(err, errdefs.ErrUsage) {
					t.Errorf("ParsePlatform(%q) = %v, want a usage error", platform, err)
				}
				return
			}
			want = p
		}
		s, manifest, config := fuzzLayout(index, manifest, config, nested)
		img, err := resolveOCI(context.Background(), s, tag, want)
		if err != nil {
			if !hasKind(err) {
				t.Errorf("error carries no errdefs kind: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			return
		}
		raw, err := img.RawManifest()
		if err != nil || !bytes.Equal(raw, manifest) {
			t.Fatalf("RawManifest = %q, %v; want the stored manifest %q", raw, err, manifest)
		}
		if cfg, err := img.RawConfigFile(); err != nil || !bytes.Equal(cfg, config) {
			t.Errorf("RawConfigFile = %q, %v; want the stored config %q", cfg, err, config)
		}
		if d, err := img.Digest(); err != nil || d != fuzzHash(manifest) {
			t.Errorf("Digest = %v, %v; want the manifest's %v", d, err, fuzzHash(manifest))
		}
		if tag != "" && !tagInIndex(s, tag) {
			t.Errorf("tag %q found, but no descriptor carries it", tag)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatalf("Manifest of a resolved image: %v", err)
		}
		ls, err := img.Layers()
		if err != nil {
			return
		}
		if len(ls) != len(m.Layers) {
			t.Errorf("%d layers, manifest lists %d", len(ls), len(m.Layers))
		}
		for i, l := range ls {
			if d, err := l.Digest(); err == nil && d != m.Layers[i].Digest {
				t.Errorf("layer %d: digest %s, manifest says %s", i, d, m.Layers[i].Digest)
			}
			if rc, err := l.Compressed(); err == nil {
				io.Copy(io.Discard, rc)
				rc.Close()
			}
		}
	})
}

// hasKind reports whether err carries one of the errdefs sentinels.
func hasKind(err error) bool {
	for _, k := range []error{errdefs.ErrUsage, errdefs.ErrNotFound, errdefs.ErrUnauthorized, errdefs.ErrCorrupt, errdefs.ErrUnsupported} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// tagInIndex reports whether a descriptor of index.json or of the nested
// index names tag, as the ref.name or containerd annotation says it.
func tagInIndex(s memStore, tag string) bool {
	var descs []v1.Descriptor
	for _, b := range append([][]byte{s.index}, blobsOf(s)...) {
		var idx v1.IndexManifest
		if json.Unmarshal(b, &idx) == nil {
			descs = append(descs, idx.Manifests...)
		}
	}
	for _, d := range descs {
		if d.Annotations[annotationRefName] == tag {
			return true
		}
		if n := d.Annotations[annotationContainerdRef]; n == tag || strings.HasSuffix(n, ":"+tag) {
			return true
		}
	}
	return false
}

func blobsOf(s memStore) [][]byte {
	var out [][]byte
	for _, b := range s.blobs {
		out = append(out, b)
	}
	return out
}

// FuzzPlatform: ParsePlatform and platform matching over an index of
// fuzzed platforms ("os/arch[/variant]" separated by ";", "-" for a
// descriptor stating none). ParsePlatform fails with a usage error or
// returns what String writes back; matchPlatform returns, in index order,
// only descriptors whose os and architecture are those asked for (and
// variant, normalised, when one is asked for), fails with ErrNotFound
// exactly when none has them, and with a usage error only when the
// matches differ in variant.
func FuzzPlatform(f *testing.F) {
	for _, s := range [][2]string{
		{"linux/amd64;linux/arm64/v8;linux/arm/v7;-", "linux/arm64"},
		{"linux/arm/v6;linux/arm/v7", "linux/arm"},
		{"linux/arm/v6;linux/arm/v8", "linux/arm"},
		{"linux/amd64/v1;linux/amd64/v3;linux/amd64", "linux/amd64"},
		{"windows/amd64;unknown/unknown", "linux/amd64/v2"},
		{"", "linux"},
		{"a/b/c/d", "a/b/c/d"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, index, platform string) {
		want, err := ParsePlatform(platform)
		if err != nil {
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("ParsePlatform(%q) = %v, want a usage error", platform, err)
			}
			return
		}
		if again, err := ParsePlatform(want.String()); err != nil || !again.Equals(want) {
			t.Errorf("ParsePlatform(%q) = %+v, but ParsePlatform(String()) = %+v, %v", platform, want, again, err)
		}
		var descs []v1.Descriptor
		var plats []*v1.Platform
		for i, s := range strings.Split(index, ";") {
			var p *v1.Platform
			if s != "-" {
				parts := strings.SplitN(s, "/", 3)
				p = &v1.Platform{OS: parts[0]}
				if len(parts) > 1 {
					p.Architecture = parts[1]
				}
				if len(parts) > 2 {
					p.Variant = parts[2]
				}
			}
			descs = append(descs, v1.Descriptor{Size: int64(i)})
			plats = append(plats, p)
		}
		platformOf := func(d v1.Descriptor) (*v1.Platform, error) { return plats[d.Size], nil }
		sameArch := func(p *v1.Platform) bool {
			return p != nil && p.OS == want.OS && p.Architecture == want.Architecture
		}
		matches := func(p *v1.Platform) bool {
			return sameArch(p) && (want.Variant == "" || normVariant(p.Architecture, p.Variant) == normVariant(want.Architecture, want.Variant))
		}
		var candidates []int64
		variants := map[string]bool{}
		for i, p := range plats {
			if matches(p) {
				candidates = append(candidates, int64(i))
				variants[normVariant(p.Architecture, p.Variant)] = true
			}
		}
		out, err := matchPlatform(descs, want, platformOf)
		switch {
		case len(candidates) == 0:
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("no descriptor is %s, matchPlatform = %v, %v; want ErrNotFound", want, out, err)
			}
			return
		case err != nil:
			if !errors.Is(err, errdefs.ErrUsage) || len(variants) < 2 {
				t.Errorf("matchPlatform = %v, want matches among %v (variants %v)", err, candidates, variants)
			}
			return
		case len(out) == 0:
			t.Fatalf("matchPlatform returned nothing and no error")
		}
		prev := int64(-1)
		for _, d := range out {
			if !slices.Contains(candidates, d.Size) {
				t.Errorf("descriptor %d (%v) returned for %s", d.Size, plats[d.Size], want)
			}
			if d.Size <= prev {
				t.Errorf("descriptors out of index order: %v", out)
			}
			prev = d.Size
		}
		if len(out) < len(candidates) && len(variants) < 2 {
			t.Errorf("matchPlatform dropped matches: got %d of %v", len(out), candidates)
		}
	})
}
