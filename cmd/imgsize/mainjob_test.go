package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
)

// readmeMainJob is the README's first command; the test below runs the
// same thing into a temporary directory.
const readmeMainJob = "go run ./examples/build && go run ./cmd/imgsize compare oci:examples/out:single-stage oci:examples/out:multistage"

func TestReadmeMainJob(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), readmeMainJob) {
		t.Fatalf("README no longer shows the main job as %q; update this test with it", readmeMainJob)
	}
	// examples/build into a temporary directory, once for the package.
	single, multi, out := examples(t)

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
	// Markdown and CSV carry the same comparison: CSV's figures equal the
	// JSON's, and the example's one shared layer (the binary, identical in
	// both builds, as the README says) is reported as shared.
	var cmp struct {
		Comparison struct {
			Rows []struct {
				SharedLayers int `json:"sharedLayers"`
			} `json:"rows"`
		} `json:"comparison"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cmp); err != nil {
		t.Fatal(err)
	}
	if rows := cmp.Comparison.Rows; len(rows) != 2 || rows[1].SharedLayers != 1 {
		t.Errorf("comparison rows %+v: want the multistage image to share its one layer", rows)
	}
	// Markdown renders the JSON run's comparison, saved: it checks the
	// layout, and reading the 250 MB image once more would measure
	// nothing new. CSV measures again, so that two live runs must agree.
	saved := filepath.Join(t.TempDir(), "compare.json")
	if err := os.WriteFile(saved, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	base, other := "report:"+saved+":0", "report:"+saved+":1"
	md := imgsize(t, nil, "compare", "-f", "markdown", base, other)
	if md.code != 0 || !strings.Contains(md.stdout, "| "+base+" (baseline)") || !strings.Contains(md.stdout, "× smaller") {
		t.Errorf("markdown comparison lacks the baseline row or the ratio:\n%s", md.stdout)
	}
	c := imgsize(t, nil, "compare", "-f", "csv", single, multi)
	recs, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv: %v, %d records:\n%s", err, len(recs), c.stdout)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, img := range rep.Images {
		if got := recs[i+1][col["uncompressed_bytes"]]; got != strconv.FormatInt(*img.Uncompressed.Bytes, 10) {
			t.Errorf("csv row %d uncompressed_bytes %s, json %d", i, got, *img.Uncompressed.Bytes)
		}
	}

	// The point of the example: the toolchain dwarfs the binary.
	if s, m := *rep.Images[0].Uncompressed.Bytes, *rep.Images[1].Uncompressed.Bytes; s < 20*m {
		t.Errorf("single-stage %d B is not much larger than multistage %d B", s, m)
	}
}
