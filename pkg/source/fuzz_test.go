package source_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/source"
)

// FuzzOpenArchive feeds arbitrary bytes to the archive readers as a
// docker-archive and as an oci-archive. Whatever the bytes, Open must not
// panic, must mark any error with an errdefs kind (so the exit code is
// right), and an image it accepts must be walkable: manifest, config and
// every layer's bytes.
//
// The normal test run executes only the seeds; fuzz with
//
//	go test -run XXX -fuzz FuzzOpenArchive -fuzztime 20s ./pkg/source/
func FuzzOpenArchive(f *testing.F) {
	// Small seeds: the fuzzer minimises every new interesting input, and
	// the time that takes grows with the input.
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
	for _, seed := range [][]byte{
		docker, docker[:len(docker)/2], docker[:len(docker)-1024],
		tarBytes(f, docker25),
		oci, oci[:len(oci)/2],
		ociGz, ociGz[:len(ociGz)/2],
		nil, []byte("not a tar"),
	} {
		f.Add(seed)
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
				continue
			}
			walk(t, img.Image)
			if err := img.Close(); err != nil {
				t.Errorf("%s: Close: %v", tr, err)
			}
		}
	})
}

// walk touches everything a later step reads. Errors are fine (the bytes
// are arbitrary); panics are not.
func walk(t *testing.T, img v1.Image) {
	t.Helper()
	if _, err := img.Manifest(); err != nil {
		return
	}
	if _, err := img.ConfigFile(); err != nil {
		return
	}
	ls, err := img.Layers()
	if err != nil {
		return
	}
	for _, l := range ls {
		l.Digest()
		l.DiffID()
		l.Size()
		l.MediaType()
		if rc, err := l.Compressed(); err == nil {
			io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
		}
		if rc, err := l.Uncompressed(); err == nil {
			io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
		}
	}
}
