package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgsize/imgsize/internal/testutil"
)

// imgsizeStdin runs the binary with stdin fed from in and TMPDIR at tmp.
func imgsizeStdin(t *testing.T, tmp string, in []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stdin = bytes.NewReader(in)
	r := runCmd(t, cmd)
	validateJSONOutput(t, "", args, r)
	return r
}

// TestStdinArchive: `docker save app | imgsize inspect -` reports what
// the same archive read from a file does, gzipped too, and leaves no
// spooled copy behind; stdin is read by one argument at most.
func TestStdinArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := testutil.RandomImage(t, 50_000, 3)
	tag, err := name.NewTag("app:v1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.tar")
	if err := tarball.MultiWriteToFile(path, map[name.Tag]v1.Image{tag: img}); err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(archive)
	zw.Close()

	want := imgsize(t, nil, "inspect", "-f", "json", "docker-archive:"+path)
	if want.code != 0 {
		t.Fatalf("from the file: exit %d: %s", want.code, want.stderr)
	}
	wantImg := decode(t, want.stdout).Images[0]

	for _, tt := range []struct {
		name string
		in   []byte
		args []string
	}{
		{"bare", archive, []string{"inspect", "-f", "json", "-"}},
		{"docker-archive", archive, []string{"inspect", "-f", "json", "docker-archive:-"}},
		{"gzipped", gz.Bytes(), []string{"inspect", "-f", "json", "-"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			r := imgsizeStdin(t, tmp, tt.in, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := decode(t, r.stdout).Images[0]
			got.Ref = wantImg.Ref
			if g, w := mustJSON(t, got), mustJSON(t, wantImg); g != w {
				t.Errorf("piped in:\n%s\nfrom the file:\n%s", g, w)
			}
			if left := archiveTemps(t, tmp); len(left) != 0 {
				t.Errorf("temporary copies left: %v", left)
			}
		})
	}

	for _, tt := range []struct {
		name     string
		in       []byte
		args     []string
		code     int
		fragment []string
	}{
		{"empty", nil, []string{"inspect", "-"}, exitImage, []string{"imgsize: -: standard input:", "empty"}},
		{"garbage", bytes.Repeat([]byte("not a tar\n"), 200), []string{"inspect", "docker-archive:-"}, exitImage, []string{"docker-archive:-: standard input:", "not a tar archive"}},
		{"twice", archive, []string{"compare", "-", "docker-archive:-"}, exitUsage, []string{"only one argument may be -"}},
		{"twice in diff", archive, []string{"diff", "-", "-"}, exitUsage, []string{"only one argument may be -"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			r := imgsizeStdin(t, tmp, tt.in, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			for _, f := range tt.fragment {
				if !strings.Contains(r.stderr, f) {
					t.Errorf("stderr %q does not mention %q", r.stderr, f)
				}
			}
			if left := archiveTemps(t, tmp); len(left) != 0 {
				t.Errorf("temporary copies left: %v", left)
			}
		})
	}
}
