package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgsize/imgsize/internal/testutil"
)

// TestInspectDirMatchesOCI: the same image read from a "dir" directory (as
// skopeo copy … dir: writes it) and from an OCI layout reports the same
// figures; only the argument, name and transport differ.
func TestInspectDirMatchesOCI(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	img := testutil.RandomImage(t, 5_000, 3)
	lay := filepath.Join(tmp, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}

	// Written by hand: manifest.json, version, blobs named by hex digest.
	dir := filepath.Join(tmp, "dir")
	testutil.WriteDirImage(t, dir, img, "")

	want, _ := inspectFigures(t, "oci:"+lay)
	args := []string{"dir:" + dir, dir}
	if _, err := exec.LookPath("skopeo"); err == nil {
		sk := filepath.Join(tmp, "skopeo")
		cmd := exec.Command("skopeo", "--insecure-policy", "copy", "-q", "oci:"+lay, "dir:"+sk)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy: %v\n%s", err, out)
		}
		args = append(args, "dir:"+sk)
	}
	for _, arg := range args {
		got, transport := inspectFigures(t, arg)
		if transport != "dir" {
			t.Errorf("%s: transport = %v, want dir", arg, transport)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", "  ")
			w, _ := json.MarshalIndent(want, "", "  ")
			t.Errorf("inspect %s figures differ from the OCI layout's:\ngot  %s\nwant %s", arg, g, w)
		}
	}
}

// inspectFigures runs inspect -f json on arg and returns its one image
// without the fields naming where it came from, and its transport.
func inspectFigures(t *testing.T, arg string) (map[string]any, any) {
	t.Helper()
	r := runInProcess(t, "inspect", "-f", "json", arg)
	if r.code != 0 {
		t.Fatalf("inspect %s: exit %d\n%s", arg, r.code, r.stderr)
	}
	var doc struct {
		Images []map[string]any `json:"images"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("inspect %s: %v", arg, err)
	}
	if len(doc.Images) != 1 {
		t.Fatalf("inspect %s: %d images, want 1", arg, len(doc.Images))
	}
	img := doc.Images[0]
	transport := img["transport"]
	for _, k := range []string{"ref", "name", "transport"} {
		delete(img, k)
	}
	return img, transport
}
