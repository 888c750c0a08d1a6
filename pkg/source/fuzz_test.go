package source_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/source"
)

// maxArchiveSeed is the largest fixture archive taken whole as a seed: the
// fuzzer mutates and minimises inputs of about a seed's size, at a cost in
// proportion. The OCI fixtures (11-19 KB) fit; docker's and kaniko's
// (0.8-1.5 MB) do not, and their shape is covered by generated seeds.
const maxArchiveSeed = 32 << 10

// FuzzOpenArchive feeds arbitrary bytes to the archive readers as a
// docker-archive and as an oci-archive. Whatever the bytes, Open must not
// panic and must mark any error with an errdefs kind (so the exit code is
// right), in one line; an image it accepts must be walkable and
// consistent: as many layers as its manifest lists, each with the
// manifest's digest and exactly its stated size of stored bytes.
//
// Seeds: small generated archives (docker legacy and 25+, OCI plain,
// gzipped and zstd-compressed, halves of them) and the small OCI archives
// made by BuildKit among the shared fixtures, when present. Setup happens
// once, outside the fuzz function; each input costs one file write and
// two Opens. Run it with bench/fuzz.sh, or
//
//	go test -run XXX -fuzz '^FuzzOpenArchive$' -fuzztime 30s -fuzzminimizetime 100x ./pkg/source/
func FuzzOpenArchive(f *testing.F) {
	facts := factsOf(f, genImage(f, 80, 1, 16, &linuxAmd64))
	docker := tarBytes(f, legacyEntries(legacyImage{tags: []string{"app:v1"}, facts: facts}))
	docker25, _ := docker25Entries(f, facts, "app:v1", true)

	dir := f.TempDir()
	p := writeLayout(f, filepath.Join(dir, "layout"))
	if err := p.AppendImage(genOCIImage(f, 81, 1, 16, linuxAmd64), tagged("v1")); err != nil {
		f.Fatal(err)
	}
	tarDir(f, string(p), filepath.Join(dir, "oci.tar"))
	oci, err := os.ReadFile(filepath.Join(dir, "oci.tar"))
	if err != nil {
		f.Fatal(err)
	}
	gzipFile(f, filepath.Join(dir, "oci.tar"), filepath.Join(dir, "oci.tar.gz"))
	ociGz, err := os.ReadFile(filepath.Join(dir, "oci.tar.gz"))
	if err != nil {
		f.Fatal(err)
	}
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	ociZst := zw.EncodeAll(oci, nil)
	zw.Close()
	for _, seed := range [][]byte{
		docker, docker[:len(docker)/2], docker[:len(docker)-1024],
		tarBytes(f, docker25),
		oci, oci[:len(oci)/2],
		ociGz, ociGz[:len(ociGz)/2],
		ociZst,
		nil, []byte("not a tar"),
	} {
		f.Add(seed)
	}
	if fx, ok := testutil.FixturesIfPresent(f); ok {
		names, _ := filepath.Glob(filepath.Join(fx, "*.tar"))
		for _, name := range names {
			if fi, err := os.Stat(name); err != nil || fi.Size() > maxArchiveSeed {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}

	// One file per worker process, rewritten for every input: cheaper
	// than a directory per input.
	path := filepath.Join(f.TempDir(), "in.tar")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tr := range []string{"docker-archive:", "oci-archive:"} {
			img, err := source.Open(context.Background(), tr+path, source.Options{})
			if err != nil {
				if len(kindsOf(err)) == 0 {
					t.Errorf("%s: error carries no errdefs kind: %v", tr, err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: error %q is more than one line", tr, err)
				}
				continue
			}
			walk(t, img.Image)
			if err := img.Close(); err != nil {
				t.Errorf("%s: Close: %v", tr, err)
			}
		}
	})
}

// walk touches everything a later step reads and checks it against the
// manifest. Errors are fine (the bytes are arbitrary); panics and
// inconsistencies are not.
func walk(t *testing.T, img v1.Image) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		return
	}
	if _, err := img.ConfigFile(); err != nil {
		return
	}
	ls, err := img.Layers()
	if err != nil {
		return
	}
	if len(ls) != len(m.Layers) {
		t.Fatalf("%d layers, manifest lists %d", len(ls), len(m.Layers))
	}
	for i, l := range ls {
		if d, err := l.Digest(); err == nil && d != m.Layers[i].Digest {
			t.Errorf("layer %d: digest %s, manifest says %s", i, d, m.Layers[i].Digest)
		}
		l.DiffID()
		l.MediaType()
		size, err := l.Size()
		if err == nil && size != m.Layers[i].Size {
			t.Errorf("layer %d: size %d, manifest says %d", i, size, m.Layers[i].Size)
		}
		if rc, err := l.Compressed(); err == nil {
			n, err := io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
			if err == nil && size < 1<<20 && n != size {
				t.Errorf("layer %d: %d stored bytes, its size says %d", i, n, size)
			}
		}
		if rc, err := l.Uncompressed(); err == nil {
			io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
		}
	}
}
