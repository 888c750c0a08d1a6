package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// TestCheckCountedLayersNote: a check with an uncompressed budget lists,
// per image, the layers counted instead of sized cheaply, with the
// reason, in table and Markdown; the JSON carries the reason per layer;
// a check on compressed size alone lists none.
func TestCheckCountedLayersNote(t *testing.T) {
	t.Parallel()
	const why = "counted: a gzip trailer is the size mod 4 GiB and this blob could hold more"
	counted := v1.Hash{Algorithm: "sha256", Hex: "abcdef0123456789" + strings.Repeat("0", 48)}
	trailer := v1.Hash{Algorithm: "sha256", Hex: "fedcba9876543210" + strings.Repeat("0", 48)}
	img := &layers.Image{
		Ref: "reg.example/app:1",
		Layers: []layers.Layer{
			{Digest: counted, Compressed: layers.Size{Bytes: 5 << 20, Provenance: layers.Exact}, Uncompressed: layers.Size{Bytes: 5 << 30, Provenance: layers.Exact, Reason: why}},
			{Digest: trailer, Compressed: layers.Size{Bytes: 100, Provenance: layers.Exact}, Uncompressed: layers.Size{Bytes: 1024, Provenance: layers.GzipTrailer}},
		},
	}
	img.Compressed = layers.Total([]layers.Size{img.Layers[0].Compressed, img.Layers[1].Compressed})
	img.Uncompressed = layers.Total([]layers.Size{img.Layers[0].Uncompressed, img.Layers[1].Uncompressed})
	limit := int64(100 << 20)
	runWith := func(b analysis.Budgets) *analysis.CheckRun {
		ic := analysis.ImageCheck{Arg: img.Ref, Image: img, Budgets: b}
		ic.Judge(nil)
		return &analysis.CheckRun{Images: []analysis.ImageCheck{ic}}
	}
	render := func(run *analysis.CheckRun, f Format) string {
		t.Helper()
		var buf bytes.Buffer
		if err := Check(&buf, run, Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	uncompressed := runWith(analysis.Budgets{MaxUncompressed: &limit})
	for _, f := range []Format{Table, Markdown} {
		out := render(uncompressed, f)
		if !strings.Contains(out, "sha256:abcdef012345") || !strings.Contains(out, "this blob could hold more") {
			t.Errorf("%s: no note naming the counted layer and why:\n%s", f, out)
		}
		if strings.Contains(out, "sha256:fedcba987654") {
			t.Errorf("%s: the trailer-sized layer is listed as counted:\n%s", f, out)
		}
	}
	if out := render(runWith(analysis.Budgets{MaxCompressed: &limit}), Table); strings.Contains(out, "counted") {
		t.Errorf("compressed budget only: the note appears:\n%s", out)
	}

	var doc struct {
		Images []struct {
			Layers []struct {
				Uncompressed struct {
					Reason string `json:"reason"`
				} `json:"uncompressed"`
			} `json:"layers"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(render(uncompressed, JSON)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 1 || len(doc.Images[0].Layers) != 2 || doc.Images[0].Layers[0].Uncompressed.Reason != why {
		t.Errorf("JSON does not carry the counted layer's reason: %+v", doc)
	}
}
