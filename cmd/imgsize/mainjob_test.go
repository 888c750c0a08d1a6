package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
)

// readmeMainJob is the README's first command; the test below runs the
// same thing into a temporary directory.
const readmeMainJob = "go run ./examples/build && go run ./cmd/imgsize compare oci:examples/out:single-stage oci:examples/out:multistage"

func TestReadmeMainJob(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), readmeMainJob) {
		t.Fatalf("README no longer shows the main job as %q; update this test with it", readmeMainJob)
	}
	out := filepath.Join(t.TempDir(), "out")
	build := exec.Command("go", "run", "./examples/build", "-o", out)
	build.Dir = "../.."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("examples/build: %v\n%s", err, b)
	}
	single, multi := "oci:"+out+":single-stage", "oci:"+out+":multistage"

	r := imgsize(t, nil, "compare", single, multi)
	if r.code != 0 {
		t.Fatalf("compare: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "smaller") || !strings.Contains(r.stdout, "(baseline)") {
		t.Errorf("comparison lacks a ratio or baseline:\n%s", r.stdout)
	}

	// Cross-check the uncompressed totals with gzip over the layout's blobs.
	r = imgsize(t, nil, "compare", "-f", "json", single, multi)
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, img := range rep.Images {
		var sum int64
		for _, l := range img.Layers {
			blob := filepath.Join(out, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:"))
			sum += testutil.ShellCount(t, "gzip -dc "+blob+" | wc -c")
		}
		if img.Uncompressed.Bytes == nil || *img.Uncompressed.Bytes != sum {
			t.Errorf("%s: uncompressed %v, gzip -dc | wc -c sums to %d", img.Ref, img.Uncompressed.Bytes, sum)
		}
	}
	// The point of the example: the toolchain dwarfs the binary.
	if s, m := *rep.Images[0].Uncompressed.Bytes, *rep.Images[1].Uncompressed.Bytes; s < 20*m {
		t.Errorf("single-stage %d B is not much larger than multistage %d B", s, m)
	}
}
