package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testregistry"
)

// imgsize's own image, built without a container engine from a binary
// with the release's flags, pushed to a real registry, is inspected by
// imgsize (its total equal to skopeo's sum of the manifest's layers) and
// checked against the budgets in the repository's own imgsize.yaml.
func TestOwnImage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and pushes an image of the binary")
	}
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	// The binary under test is TestMain's, built with the release's
	// flags, so its size is the release binary's (with
	// IMGSIZE_TEST_BINARY, it is that build, whatever its flags). The release's own tool builds and pushes the
	// image: it is the real
	// path, and gzipping the binary there costs a fraction of what it
	// costs in this race-instrumented process.
	ref := reg.Addr + "/imgsize:own-test"
	push := exec.Command("go", "run", "./release/ownimage", "-binary", binary, "-push", ref)
	push.Dir = filepath.Join("..", "..")
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("release/ownimage -push: %v\n%s", err, out)
	}

	doc := decodeDoc(t, imgsize(t, nil, "inspect", "-f", "json", "--no-cache", "docker://"+ref))
	if len(doc.Images) != 1 || doc.Images[0].Compressed.Bytes == nil {
		t.Fatalf("inspect: %+v", doc.Images)
	}
	if got, want := *doc.Images[0].Compressed.Bytes, skopeoLayerTotal(t, reg, ref); got != want {
		t.Errorf("compressed total %d, skopeo's manifest says %d", got, want)
	}

	// The repository's imgsize.yaml, read from the repository root as a
	// user there would, names the image through ${IMGSIZE_OWN_IMAGE}.
	cmd := exec.Command(binary, "check", "--no-cache", "-f", "json")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "IMGSIZE_OWN_IMAGE=docker://"+ref)
	res := runCmd(t, cmd)
	if res.code != 0 {
		t.Fatalf("check against imgsize.yaml: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	d := decodeCheck(t, res.stdout)
	if len(d.Check.Results) != 1 || d.Check.Results[0].Ref != "docker://"+ref || d.Check.Budgets != 3 {
		t.Fatalf("check: want one image, %s, with the file's 3 budgets: %s", ref, res.stdout)
	}
	if !strings.Contains(res.stdout, `"max-compressed"`) {
		t.Errorf("no max-compressed budget in %s", res.stdout)
	}
}
