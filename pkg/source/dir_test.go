package source_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// checkDirImage asserts that a "dir" image shows the generator's figures.
func checkDirImage(t testing.TB, img *source.Image, facts imageFacts) {
	t.Helper()
	if img.Transport != source.Dir || img.Remote || img.SyntheticManifest {
		t.Errorf("Transport, Remote, SyntheticManifest = %q, %v, %v; want %q, false, false", img.Transport, img.Remote, img.SyntheticManifest, source.Dir)
	}
	d, err := img.Image.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d != facts.digest {
		t.Errorf("manifest digest = %s, want %s", d, facts.digest)
	}
	cfg, err := img.Image.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if cfg != facts.configDgt {
		t.Errorf("config digest = %s, want %s", cfg, facts.configDgt)
	}
	checkLayers(t, img.Image, facts.wantLayers(), facts.diffIDs())
}

// TestOpenDir reads generated images in the "dir" layout, Docker and OCI
// manifests, blobs named as versions 1.1 and 1.0 name them, through the
// transport and detected from a bare path.
func TestOpenDir(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		img    v1.Image
		suffix string
	}{
		{"docker", genImage(t, 1, 3, 3000, &linuxAmd64), ""},
		{"oci", genOCIImage(t, 2, 2, 3000, linuxArm64), ""},
		{"version 1.0", genImage(t, 3, 2, 2000, nil), ".tar"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "img")
			testutil.WriteDirImage(t, dir, c.img, c.suffix)
			facts := factsOf(t, c.img)
			for _, arg := range []string{"dir:" + dir, dir} {
				t.Run(relArg(arg, filepath.Dir(dir)), func(t *testing.T) {
					checkDirImage(t, open(t, arg, source.Options{}), facts)
				})
			}
		})
	}
}

// TestOpenDirWithIndexIsOCI: a bare directory holding index.json is an OCI
// layout, even when it also holds manifest.json and version.
func TestOpenDirWithIndexIsOCI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := genImage(t, 4, 1, 1000, nil)
	if err := writeLayout(t, dir).AppendImage(img); err != nil {
		t.Fatal(err)
	}
	testutil.WriteDirImage(t, dir, img, "")
	if got := open(t, dir, source.Options{}).Transport; got != source.OCI {
		t.Errorf("Transport = %q, want %q", got, source.OCI)
	}
}

// TestOpenSkopeoDir reads a "dir" directory written by skopeo from an OCI
// layout: its figures must be the layout's.
func TestOpenSkopeoDir(t *testing.T) {
	t.Parallel()
	needTool(t, "skopeo")
	for _, c := range []struct {
		name string
		img  v1.Image
	}{
		{"docker", genImage(t, 5, 2, 4000, &linuxAmd64)},
		{"oci", genOCIImage(t, 6, 2, 4000, linuxAmd64)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			p := writeLayout(t, filepath.Join(tmp, "layout"))
			if err := p.AppendImage(c.img); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(tmp, "dir")
			cmd := exec.Command("skopeo", "--insecure-policy", "copy", "-q", "oci:"+string(p), "dir:"+dst)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("skopeo copy: %v\n%s", err, out)
			}
			layoutFacts := factsOf(t, open(t, "oci:"+string(p), source.Options{}).Image)
			if want := factsOf(t, c.img); layoutFacts.digest != want.digest {
				t.Fatalf("layout manifest digest = %s, want %s", layoutFacts.digest, want.digest)
			}
			for _, arg := range []string{"dir:" + dst, dst} {
				t.Run(relArg(arg, tmp), func(t *testing.T) {
					checkDirImage(t, open(t, arg, source.Options{}), layoutFacts)
				})
			}
		})
	}
}

// TestOpenDirBadInput: a "dir" directory missing a file, or whose files are
// not what the manifest says, is one error of one kind (exit 3).
func TestOpenDirBadInput(t *testing.T) {
	t.Parallel()
	img := genImage(t, 7, 2, 2000, nil)
	facts := factsOf(t, img)
	layer := func(dir string) string { return filepath.Join(dir, facts.layers[1].desc.Digest.Hex) }
	config := func(dir string) string { return filepath.Join(dir, facts.configDgt.Hex) }
	for _, c := range []struct {
		name      string
		arg       func(dir string) string
		mutate    func(t *testing.T, dir string)
		want      error
		fragments []string
	}{
		{"missing directory", func(dir string) string { return "dir:" + filepath.Join(dir, "nope") }, nil, errdefs.ErrNotFound, []string{"nope"}},
		{"missing manifest", nil, func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "manifest.json")) }, errdefs.ErrNotFound, []string{"manifest.json"}},
		{"malformed manifest", nil, func(t *testing.T, dir string) { overwrite(t, filepath.Join(dir, "manifest.json"), []byte("{not json")) }, errdefs.ErrCorrupt, []string{"parsing manifest.json"}},
		{"manifest without config", nil, func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "manifest.json"), []byte(`{"schemaVersion":2}`))
		}, errdefs.ErrCorrupt, []string{"no config"}},
		{"manifest list", nil, func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "manifest.json"), []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
		}, errdefs.ErrUnsupported, []string{"manifest list"}},
		{"missing config", nil, func(t *testing.T, dir string) { remove(t, config(dir)) }, errdefs.ErrNotFound, []string{facts.configDgt.String(), "missing"}},
		{"config digest mismatch", nil, func(t *testing.T, dir string) {
			overwrite(t, config(dir), append([]byte(" "), facts.config[1:]...))
		}, errdefs.ErrCorrupt, []string{"digest mismatch"}},
		{"missing layer", nil, func(t *testing.T, dir string) { remove(t, layer(dir)) }, errdefs.ErrNotFound, []string{facts.layers[1].desc.Digest.String(), "missing"}},
		{"truncated layer", nil, func(t *testing.T, dir string) {
			overwrite(t, layer(dir), []byte("short"))
		}, errdefs.ErrCorrupt, []string{"5 bytes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "img")
			testutil.WriteDirImage(t, dir, img, "")
			if c.mutate != nil {
				c.mutate(t, dir)
			}
			arg := "dir:" + dir
			if c.arg != nil {
				arg = c.arg(dir)
			}
			got, err := source.Open(context.Background(), arg, source.Options{})
			if err == nil {
				got.Close()
			}
			checkErr(t, err, c.want, c.fragments...)
		})
	}
}

// FuzzOpenDir feeds arbitrary bytes to a "dir" directory's manifest.json,
// beside the blobs of a generated image. Open must not panic, must mark any
// error with an errdefs kind in one line, and an image it accepts must be
// walkable and consistent with its manifest. Run it with
//
//	go test -run XXX -fuzz '^FuzzOpenDir$' -fuzztime 30s -fuzzminimizetime 100x ./pkg/source/
func FuzzOpenDir(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "img")
	for i, img := range []v1.Image{genImage(f, 90, 2, 16, &linuxAmd64), genOCIImage(f, 91, 1, 16, linuxAmd64)} {
		testutil.WriteDirImage(f, dir, img, "")
		raw, err := img.RawManifest()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		if i == 0 {
			f.Add(raw[:len(raw)/2])
		}
	}
	for _, seed := range []string{"", "{}", `{"schemaVersion":2}`, `{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`} {
		f.Add([]byte(seed))
	}
	manifest := filepath.Join(dir, "manifest.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(manifest, data, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := source.Open(context.Background(), "dir:"+dir, source.Options{})
		if err != nil {
			if len(kindsOf(err)) == 0 {
				t.Errorf("error carries no errdefs kind: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			return
		}
		walk(t, img.Image)
		if err := img.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDirHostileFiles: a manifest.json that is a device or huge is refused
// before it is read, and a dir: path holding '@' is a path, not
// credentials.
func TestDirHostileFiles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		make func(t *testing.T, dir string)
	}{
		{"manifest.json links to /dev/zero", func(t *testing.T, dir string) {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "manifest.json")); err != nil {
				t.Fatal(err)
			}
		}},
		{"manifest.json over the limit", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(65 << 20); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a@b")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "version"), []byte("Directory Transport Version: 1.1\n"), 0o644)
			c.make(t, dir)
			_, err := source.Open(context.Background(), "dir:"+dir, source.Options{})
			if !errors.Is(err, errdefs.ErrCorrupt) {
				t.Errorf("err %v, want a corrupt-image error", err)
			}
		})
	}
}
