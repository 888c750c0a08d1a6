package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// readIndex reads a layout's index.json with encoding/json.
func readIndex(t testing.TB, dir string) v1.IndexManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func writeJSON(t testing.TB, path string, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func blobPath(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", h.Algorithm, h.Hex) }

// editManifest rewrites the first image manifest of the layout at dir,
// stores it as a new blob and points index.json at it, so that only the
// edit (not a digest) is wrong.
func editManifest(t testing.TB, dir string, edit func(*v1.Manifest)) {
	t.Helper()
	idx := readIndex(t, dir)
	b, err := os.ReadFile(blobPath(dir, idx.Manifests[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	nb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256Hash(nb)
	if err := os.WriteFile(blobPath(dir, h), nb, 0o644); err != nil {
		t.Fatal(err)
	}
	idx.Manifests[0].Digest, idx.Manifests[0].Size = h, int64(len(nb))
	writeJSON(t, filepath.Join(dir, "index.json"), idx)
}

// badBase is the image every damaged layout is written from, made once:
// TestOpenBadInput writes it a few dozen times.
var badBase struct {
	once sync.Once
	img  v1.Image
}

// badLayout writes a one-image layout (tag v1) and lets spoil damage it.
// It returns the facts of the image so spoil can find its blobs.
func badLayout(t testing.TB, dir string, spoil func(dir string, f imageFacts)) {
	t.Helper()
	badBase.once.Do(func() { badBase.img = genOCIImage(t, 60, 2, 700, linuxAmd64) })
	img := badBase.img
	if img == nil {
		t.Fatal("making the base image failed (see the first test to try)")
	}
	p := writeLayout(t, dir)
	if err := p.AppendImage(img, tagged("v1")); err != nil {
		t.Fatal(err)
	}
	spoil(dir, factsOf(t, img))
}

// TestOpenBadInput: every damaged or wrong input fails with the error kind
// that maps to the right exit code and a message saying what is wrong.
// Layout damage is tried both as a directory and as an oci-archive of it.
func TestOpenBadInput(t *testing.T) {
	t.Parallel()
	legacy := factsOf(t, genImage(t, 61, 2, 3000, &linuxAmd64))
	type input struct {
		name string
		// make writes the input under dir and returns the argument.
		make      func(t *testing.T, dir string) string
		wantErr   error
		fragments []string
	}
	layoutCase := func(name string, wantErr error, fragments []string, spoil func(t *testing.T, dir string, f imageFacts)) []input {
		return []input{
			{name: name + " (oci dir)", wantErr: wantErr, fragments: fragments, make: func(t *testing.T, dir string) string {
				l := filepath.Join(dir, "layout")
				badLayout(t, l, func(d string, f imageFacts) { spoil(t, d, f) })
				return "oci:" + l
			}},
			{name: name + " (oci-archive)", wantErr: wantErr, fragments: fragments, make: func(t *testing.T, dir string) string {
				l := filepath.Join(dir, "layout")
				badLayout(t, l, func(d string, f imageFacts) { spoil(t, d, f) })
				tarDir(t, l, l+".tar")
				return "oci-archive:" + l + ".tar"
			}},
		}
	}
	dockerCase := func(name string, wantErr error, fragments []string, entries func(t *testing.T) []tarEntry) input {
		return input{name: name, wantErr: wantErr, fragments: fragments, make: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "save.tar")
			writeTar(t, p, entries(t))
			return "docker-archive:" + p
		}}
	}
	// path names a file under the test's directory without creating it.
	path := func(prefix, name string) func(*testing.T, string) string {
		return func(_ *testing.T, dir string) string { return prefix + filepath.Join(dir, name) }
	}
	// file writes b under the test's directory.
	file := func(prefix, name string, b []byte) func(*testing.T, string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return prefix + p
		}
	}
	legacyTar := func(t *testing.T, dir string) string {
		p := filepath.Join(dir, "save.tar")
		writeTar(t, p, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: legacy}))
		return p
	}
	notImage := tarBytes(t, []tarEntry{{name: "README.md", body: []byte("# hello\n")}})
	// A non-tar file: bytes that are neither tar, gzip nor zstd.
	garbage := bytes.Repeat([]byte("this is not an archive\n"), 100)
	// A gzip member header (magic, deflate, no flags, mtime, xfl, OS) followed
	// by bytes that are not a deflate stream.
	badGzip := append([]byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03}, bytes.Repeat([]byte{0xff}, 500)...)
	// A zstd frame magic followed by garbage.
	badZstd := append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0xff}, 500)...)

	cases := []input{
		// Missing inputs.
		{"missing docker-archive", path("docker-archive:", "nope.tar"), errdefs.ErrNotFound, []string{"nope.tar", "no such file"}},
		{"missing oci-archive", path("oci-archive:", "nope.tar"), errdefs.ErrNotFound, []string{"nope.tar", "no such file"}},
		{"missing oci dir", path("oci:", "nope"), errdefs.ErrNotFound, []string{"nope", "no such file"}},
		{"missing oci dir with tag", path("oci:", "nope:v1"), errdefs.ErrNotFound, []string{"nope", "no such file"}},
		{"missing bare path", path("", "nope.tar"), errdefs.ErrNotFound, []string{"nope.tar", "no such file"}},
		{"missing relative path", func(*testing.T, string) string { return "./no-such-image.tar" }, errdefs.ErrNotFound, []string{"no-such-image.tar", "no such file"}},
		{"directory that is not a layout", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			return "oci:" + filepath.Join(dir, "empty")
		}, errdefs.ErrUnsupported, []string{"empty is not an OCI image layout"}},

		// Files that are not images.
		{"plain tar as docker-archive", file("docker-archive:", "readme.tar", notImage), errdefs.ErrUnsupported, []string{"not an image archive"}},
		{"plain tar as oci-archive", file("oci-archive:", "readme.tar", notImage), errdefs.ErrUnsupported, []string{"not an OCI archive"}},
		{"plain tar detected", file("", "readme.tar", notImage), errdefs.ErrUnsupported, []string{"not an image archive"}},
		{"non-tar file detected", file("", "garbage.tar", garbage), errdefs.ErrUnsupported, []string{"not a tar archive"}},
		{"non-tar file as docker-archive", file("docker-archive:", "garbage", garbage), errdefs.ErrUnsupported, []string{"not a tar archive"}},
		{"short non-tar file", file("", "short.tar", []byte("hello")), errdefs.ErrUnsupported, []string{"not a tar archive"}},
		{"empty file", file("", "empty.tar", nil), errdefs.ErrUnsupported, []string{"empty or not a tar archive"}},
		{"oci-archive given a docker-archive", func(t *testing.T, dir string) string {
			return "oci-archive:" + legacyTar(t, dir)
		}, errdefs.ErrUnsupported, []string{"no index.json"}},

		// Truncated and corrupt compressed archives.
		{"truncated docker-archive", func(t *testing.T, dir string) string {
			return "docker-archive:" + truncatedArchive(t, dir, legacy)
		}, errdefs.ErrCorrupt, []string{"truncated"}},
		{"truncated docker-archive detected", func(t *testing.T, dir string) string {
			return truncatedArchive(t, dir, legacy)
		}, errdefs.ErrCorrupt, []string{"truncated"}},
		{"truncated oci-archive", func(t *testing.T, dir string) string {
			l := filepath.Join(dir, "layout")
			badLayout(t, l, func(string, imageFacts) {})
			tarDir(t, l, l+".tar")
			b, err := os.ReadFile(l + ".tar")
			if err != nil {
				t.Fatal(err)
			}
			return file("oci-archive:", "cut.tar", b[:len(b)/2])(t, dir)
		}, errdefs.ErrCorrupt, []string{"truncated"}},
		{"gzip header then garbage", file("", "bad.tar.gz", badGzip), errdefs.ErrCorrupt, []string{"decompressing"}},
		{"gzip header then garbage as docker-archive", file("docker-archive:", "bad.tar.gz", badGzip), errdefs.ErrCorrupt, []string{"decompressing"}},
		{"truncated gzip", func(t *testing.T, dir string) string {
			p := legacyTar(t, dir)
			gzipFile(t, p, p+".gz")
			b, err := os.ReadFile(p + ".gz")
			if err != nil {
				t.Fatal(err)
			}
			return file("", "cut.tar.gz", b[:len(b)*2/3])(t, dir)
		}, errdefs.ErrCorrupt, []string{"decompressing"}},
		{"zstd magic then garbage", file("", "bad.tar.zst", badZstd), errdefs.ErrCorrupt, []string{"decompressing"}},

		// Malformed metadata.
		dockerCase("malformed manifest.json", errdefs.ErrCorrupt, []string{"parsing manifest.json"}, func(*testing.T) []tarEntry {
			return []tarEntry{{name: "manifest.json", body: []byte(`[{"Config": `)}}
		}),
		dockerCase("manifest.json of the wrong shape", errdefs.ErrCorrupt, []string{"parsing manifest.json"}, func(*testing.T) []tarEntry {
			return []tarEntry{{name: "manifest.json", body: []byte(`{"Config":"x"}`)}}
		}),
		dockerCase("manifest.json listing no image", errdefs.ErrNotFound, []string{"no image"}, func(*testing.T) []tarEntry {
			return []tarEntry{{name: "manifest.json", body: []byte(`[]`)}}
		}),
		dockerCase("config missing from docker-archive", errdefs.ErrNotFound, []string{"config", "missing.json"}, func(*testing.T) []tarEntry {
			return []tarEntry{{name: "manifest.json", body: []byte(`[{"Config":"missing.json","RepoTags":["app:v1"],"Layers":[]}]`)}}
		}),
		dockerCase("malformed config in docker-archive", errdefs.ErrCorrupt, []string{"parsing config"}, func(*testing.T) []tarEntry {
			return []tarEntry{
				{name: "c.json", body: []byte(`{"rootfs": [`)},
				{name: "manifest.json", body: []byte(`[{"Config":"c.json","RepoTags":["app:v1"],"Layers":[]}]`)},
			}
		}),
		dockerCase("layer missing from docker-archive", errdefs.ErrNotFound, []string{"gone/layer.tar"}, func(t *testing.T) []tarEntry {
			return editLegacyManifest(t, legacy, func(layers []string) []string { return append(layers[:1], "gone/layer.tar") })
		}),
		dockerCase("diff_ids and layers disagree", errdefs.ErrCorrupt, []string{"2 diff_ids", "1 layers"}, func(t *testing.T) []tarEntry {
			return editLegacyManifest(t, legacy, func(layers []string) []string { return layers[:1] })
		}),
	}
	cases = append(cases, layoutCase("malformed index.json", errdefs.ErrCorrupt, []string{"parsing index.json"}, func(t *testing.T, dir string, _ imageFacts) {
		if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"manifests": [`), 0o644); err != nil {
			t.Fatal(err)
		}
	})...)
	cases = append(cases, layoutCase("manifest blob does not match its digest", errdefs.ErrCorrupt, []string{"digest mismatch"}, func(t *testing.T, dir string, _ imageFacts) {
		d := readIndex(t, dir).Manifests[0].Digest
		b, err := os.ReadFile(blobPath(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		// Same length, one byte changed: only the digest can tell.
		b = bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1)
		if err := os.WriteFile(blobPath(dir, d), b, 0o644); err != nil {
			t.Fatal(err)
		}
	})...)
	cases = append(cases, layoutCase("manifest descriptor of the wrong size", errdefs.ErrCorrupt, []string{"size mismatch"}, func(t *testing.T, dir string, _ imageFacts) {
		idx := readIndex(t, dir)
		idx.Manifests[0].Size++
		writeJSON(t, filepath.Join(dir, "index.json"), idx)
	})...)
	cases = append(cases, layoutCase("malformed manifest blob", errdefs.ErrCorrupt, []string{"parsing manifest"}, func(t *testing.T, dir string, _ imageFacts) {
		b := []byte(`{"layers": "nope"}`)
		h := sha256Hash(b)
		if err := os.WriteFile(blobPath(dir, h), b, 0o644); err != nil {
			t.Fatal(err)
		}
		idx := readIndex(t, dir)
		idx.Manifests[0].Digest, idx.Manifests[0].Size = h, int64(len(b))
		writeJSON(t, filepath.Join(dir, "index.json"), idx)
	})...)
	cases = append(cases, layoutCase("manifest blob missing", errdefs.ErrNotFound, []string{"missing"}, func(t *testing.T, dir string, _ imageFacts) {
		if err := os.Remove(blobPath(dir, readIndex(t, dir).Manifests[0].Digest)); err != nil {
			t.Fatal(err)
		}
	})...)
	cases = append(cases, layoutCase("config blob does not match its digest", errdefs.ErrCorrupt, []string{"digest mismatch"}, func(t *testing.T, dir string, f imageFacts) {
		if err := os.WriteFile(blobPath(dir, f.configDgt), bytes.ToUpper(f.config), 0o644); err != nil {
			t.Fatal(err)
		}
	})...)
	cases = append(cases, layoutCase("layer blob missing", errdefs.ErrNotFound, []string{"missing from"}, func(t *testing.T, dir string, f imageFacts) {
		if err := os.Remove(blobPath(dir, f.layers[1].desc.Digest)); err != nil {
			t.Fatal(err)
		}
	})...)
	cases = append(cases, layoutCase("layer blob of the wrong size", errdefs.ErrCorrupt, []string{"bytes, manifest says"}, func(t *testing.T, dir string, f imageFacts) {
		fh, err := os.OpenFile(blobPath(dir, f.layers[0].desc.Digest), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fh.Write([]byte("extra"))
		fh.Close()
	})...)
	cases = append(cases, layoutCase("unknown layer media type", errdefs.ErrUnsupported, []string{"application/vnd.example.unknown"}, func(t *testing.T, dir string, _ imageFacts) {
		editManifest(t, dir, func(m *v1.Manifest) { m.Layers[1].MediaType = "application/vnd.example.unknown" })
	})...)
	cases = append(cases, layoutCase("unknown manifest media type", errdefs.ErrUnsupported, []string{"application/vnd.example.thing"}, func(t *testing.T, dir string, _ imageFacts) {
		idx := readIndex(t, dir)
		idx.Manifests[0].MediaType = "application/vnd.example.thing"
		writeJSON(t, filepath.Join(dir, "index.json"), idx)
	})...)
	cases = append(cases, layoutCase("empty index", errdefs.ErrNotFound, []string{"no image"}, func(t *testing.T, dir string, _ imageFacts) {
		writeJSON(t, filepath.Join(dir, "index.json"), v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex})
	})...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			arg := c.make(t, dir)
			img, err := source.Open(context.Background(), arg, source.Options{})
			if err == nil {
				img.Close()
			}
			checkErr(t, err, c.wantErr, c.fragments...)
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			t.Logf("%s", err)
		})
	}
}

// editLegacyManifest returns a legacy docker-archive of f whose
// manifest.json lists the layer paths edit returns.
func editLegacyManifest(t *testing.T, f imageFacts, edit func([]string) []string) []tarEntry {
	t.Helper()
	entries := legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f})
	for i, e := range entries {
		if e.name != "manifest.json" {
			continue
		}
		var m []struct {
			Config           string
			RepoTags, Layers []string
		}
		if err := json.Unmarshal(e.body, &m); err != nil {
			t.Fatal(err)
		}
		m[0].Layers = edit(m[0].Layers)
		entries[i].body, _ = json.Marshal(m)
	}
	return entries
}

// truncatedArchive writes a legacy docker-archive and cuts it in the middle
// of the body of its first layer, found by searching the file for the
// layer's bytes.
func truncatedArchive(t *testing.T, dir string, f imageFacts) string {
	t.Helper()
	p := filepath.Join(dir, "save.tar")
	writeTar(t, p, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, f.layers[0].raw)
	if at < 0 {
		t.Fatal("layer body not found in archive")
	}
	cut := filepath.Join(dir, "cut.tar")
	if err := os.WriteFile(cut, b[:at+len(f.layers[0].raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return cut
}

// TestOpenBadArgument: arguments wrong in themselves are usage errors
// (exit 2), found without touching the filesystem or the network.
func TestOpenBadArgument(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		arg       string
		fragments []string
	}{
		{"", []string{"empty"}},
		{"foo:/x", []string{`unknown transport "foo"`}},
		{"foo://x", []string{`unknown transport "foo"`}},
		{"containers-storage:x", []string{`"containers-storage"`, "not supported"}},
		{"containers-storage:app:v1", []string{`"containers-storage"`, "not supported"}},
		{"ostree:x", []string{`"ostree"`, "not supported"}},
		{"dir:", []string{"missing path", "dir:"}},
		{"oci:", []string{"missing path", "oci:"}},
		{"oci-archive:", []string{"missing path", "oci-archive:"}},
		{"docker-archive:", []string{"missing path", "docker-archive:"}},
		{"docker:app:v1", []string{"docker://"}},
		{"docker://", []string{"invalid image reference"}},
		{"docker://UPPER/case:v1", []string{"invalid image reference"}},
		{"Not A Reference", []string{"invalid image reference"}},
	} {
		t.Run(c.arg, func(t *testing.T) {
			img, err := source.Open(context.Background(), c.arg, source.Options{})
			if err == nil {
				img.Close()
			}
			checkErr(t, err, errdefs.ErrUsage, c.fragments...)
		})
	}
}

// TestCloseRemovesTemporaryCopy: a compressed archive is decompressed into
// a temporary file; Close removes it, and so does a failed Open.
func TestCloseRemovesTemporaryCopy(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if os.TempDir() != tmp {
		t.Fatalf("os.TempDir() = %q after setting TMPDIR=%q", os.TempDir(), tmp)
	}
	dir := t.TempDir()
	f := factsOf(t, genImage(t, 70, 1, 2000, &linuxAmd64))
	plain := filepath.Join(dir, "save.tar")
	writeTar(t, plain, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: f}))
	gzipFile(t, plain, plain+".gz")
	bad := filepath.Join(dir, "bad.tar.gz")
	b, err := os.ReadFile(plain + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := filepath.Join(dir, "readme.tar")
	writeTar(t, notImage, []tarEntry{{name: "README.md", body: []byte("hi")}})
	gzipFile(t, notImage, notImage+".gz")
	notTar := filepath.Join(dir, "text")
	if err := os.WriteFile(notTar, bytes.Repeat([]byte("not a tar\n"), 200), 0o644); err != nil {
		t.Fatal(err)
	}
	gzipFile(t, notTar, notTar+".gz")

	for _, arg := range []string{"docker-archive:" + plain + ".gz", plain + ".gz"} {
		img, err := source.Open(context.Background(), arg, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Reading a layer works from the temporary copy.
		checkLayers(t, img.Image, f.wantUncompressedLayers(), f.diffIDs())
		if got := listTempArchives(t, tmp); len(got) != 1 {
			t.Errorf("while open: temporary copies %v, want exactly one", got)
		}
		if err := img.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if got := listTempArchives(t, tmp); len(got) != 0 {
			t.Errorf("after Close: temporary copies left: %v", got)
		}
	}
	for _, arg := range []string{bad, "oci-archive:" + notImage + ".gz", notImage + ".gz", notTar + ".gz"} {
		img, err := source.Open(context.Background(), arg, source.Options{})
		if err == nil {
			img.Close()
			t.Fatalf("Open(%q) succeeded", arg)
		}
		if got := listTempArchives(t, tmp); len(got) != 0 {
			t.Errorf("after failed Open(%q): temporary copies left: %v", arg, got)
		}
	}
}
