package source_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStdin: "-" reads an archive piped in, detected by its content as a
// path is, compressed or not. The spooled copy lives in $TMPDIR while the
// image is open and goes with Close; a failed open leaves none behind.
func TestStdin(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()

	dockerPath := filepath.Join(dir, "app.tar")
	writeTarball(t, dockerPath, map[string]v1.Image{"app:v1": genImage(t, 1, 2, 1000, &linuxAmd64)})
	ociDir := filepath.Join(dir, "layout")
	if err := writeLayout(t, ociDir).AppendImage(genOCIImage(t, 2, 2, 1000, linuxAmd64), tagged("v1")); err != nil {
		t.Fatal(err)
	}
	ociPath := filepath.Join(dir, "oci.tar")
	tarDir(t, ociDir, ociPath)
	docker, oci := readFile(t, dockerPath), readFile(t, ociPath)

	// The figures piped in must be those of the same archive read from
	// its path.
	digestOf := func(arg string) v1.Hash {
		img := open(t, arg, source.Options{})
		d, err := img.Image.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	dockerDigest, ociDigest := digestOf("docker-archive:"+dockerPath), digestOf("oci-archive:"+ociPath)

	for _, tt := range []struct {
		name, arg string
		in        []byte
		transport source.Transport
		digest    v1.Hash
	}{
		{"docker-archive", "-", docker, source.DockerArchive, dockerDigest},
		{"docker-archive with ref", "-:app:v1", docker, source.DockerArchive, dockerDigest},
		{"docker-archive explicit", "docker-archive:-", docker, source.DockerArchive, dockerDigest},
		{"oci-archive", "-", oci, source.OCIArchive, ociDigest},
		{"oci-archive explicit with tag", "oci-archive:-:v1", oci, source.OCIArchive, ociDigest},
		{"gzipped", "-", gzipBytes(t, docker), source.DockerArchive, dockerDigest},
		{"zstd", "-", zstdBytes(t, oci), source.OCIArchive, ociDigest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !source.IsStdin(tt.arg) {
				t.Errorf("IsStdin(%q) = false", tt.arg)
			}
			img, err := source.Open(context.Background(), tt.arg, source.Options{Stdin: bytes.NewReader(tt.in)})
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.arg, err)
			}
			if img.Transport != tt.transport {
				t.Errorf("transport %q, want %q", img.Transport, tt.transport)
			}
			if got, err := img.Image.Digest(); err != nil || got != tt.digest {
				t.Errorf("digest %v (%v), want %v", got, err, tt.digest)
			}
			ls, err := img.Image.Layers()
			if err != nil || len(ls) != 2 {
				t.Fatalf("layers: %d, %v; want 2", len(ls), err)
			}
			// Layer bytes are served from the spooled copy.
			if _, err := ls[1].Digest(); err != nil {
				t.Errorf("layer digest: %v", err)
			}
			if got := listTempArchives(t, tmp); len(got) != 1 {
				t.Errorf("while open: temporary copies %v, want exactly one", got)
			}
			if err := img.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if got := listTempArchives(t, tmp); len(got) != 0 {
				t.Errorf("after Close: temporary copies left: %v", got)
			}
		})
	}

	for _, tt := range []struct {
		name, arg string
		in        []byte
		nilStdin  bool
		want      error
		fragments []string
	}{
		{"empty", "-", nil, false, errdefs.ErrUnsupported, []string{"standard input", "empty"}},
		{"garbage", "-", bytes.Repeat([]byte("not a tar\n"), 200), false, errdefs.ErrUnsupported, []string{"standard input", "not a tar archive"}},
		{"gzipped garbage", "-", gzipBytes(t, bytes.Repeat([]byte("not a tar\n"), 200)), false, errdefs.ErrUnsupported, []string{"standard input", "not a tar archive"}},
		{"truncated gzip", "-", gzipBytes(t, docker)[:500], false, errdefs.ErrCorrupt, []string{"standard input", "decompressing"}},
		{"docker archive as oci-archive", "oci-archive:-", docker, false, errdefs.ErrUnsupported, []string{"standard input", "not an OCI archive"}},
		{"oci archive as docker-archive", "docker-archive:-", oci, false, errdefs.ErrUnsupported, []string{"standard input", "oci-archive"}},
		{"no stdin", "-", nil, true, errdefs.ErrUsage, []string{"standard input", "no standard input"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := source.Options{Stdin: bytes.NewReader(tt.in)}
			if tt.nilStdin {
				opts.Stdin = nil
			}
			img, err := source.Open(context.Background(), tt.arg, opts)
			if err == nil {
				img.Close()
				t.Fatalf("Open(%q) succeeded", tt.arg)
			}
			checkErr(t, err, tt.want, tt.fragments...)
			if got := listTempArchives(t, tmp); len(got) != 0 {
				t.Errorf("after failed Open: temporary copies left: %v", got)
			}
		})
	}
}

func TestIsStdin(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]bool{
		"-": true, "-:app": true, "docker-archive:-": true, "oci-archive:-:v1": true,
		"--": false, "-x": false, "./-": false, "oci:-": false, "alpine": false, "docker-archive:-x": false,
	} {
		if got := source.IsStdin(arg); got != want {
			t.Errorf("IsStdin(%q) = %v, want %v", arg, got, want)
		}
	}
}

// TestStdinStalledPipe: a pipe whose writer sends a few bytes and then
// nothing must not hold the run past its context, nor leave the partial
// spool in $TMPDIR.
func TestStdinStalledPipe(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("abcdefgh")) // then silence: the writer never closes
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		img, err := source.Open(ctx, "-", source.Options{Stdin: pr})
		if err == nil {
			img.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want the context's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open still blocked on the stalled pipe 10 s after its context ended")
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left in TMPDIR: %v", ents)
	}
}
