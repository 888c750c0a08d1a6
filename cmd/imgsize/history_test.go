package main

import (
	"archive/tar"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgsize/imgsize/internal/testengine"
	"github.com/imgsize/imgsize/internal/testutil"
)

// inspect --history lists every step of the config's history, the empty
// ones (ENV, CMD) with 0 B and no layer, the others tied in order to the
// layers they made; checked against the config's history as written.
func TestInspectHistory(t *testing.T) {
	t.Parallel()
	img := testengine.Image(t, 11, 3)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	arg := "oci:" + dir + ":v1"

	d := decodeDoc(t, imgsize(t, nil, "inspect", "-f", "json", "--no-cache", arg))
	h := d.Images[0].History
	if len(h) != len(cf.History) || len(h) <= len(d.Images[0].Layers) {
		t.Fatalf("%d steps for a history of %d with %d layers", len(h), len(cf.History), len(d.Images[0].Layers))
	}
	layer, empties := 0, 0
	for i, s := range h {
		want := cf.History[i]
		if s.CreatedBy != want.CreatedBy || s.EmptyLayer != want.EmptyLayer {
			t.Errorf("step %d: %q empty %v, config says %q empty %v", i, s.CreatedBy, s.EmptyLayer, want.CreatedBy, want.EmptyLayer)
		}
		switch {
		case want.EmptyLayer:
			empties++
			if s.Layer != nil {
				t.Errorf("empty step %d names layer %d", i, *s.Layer)
			}
		case s.Layer == nil || *s.Layer != layer:
			t.Errorf("step %d names layer %v, want %d", i, s.Layer, layer)
			layer++
		default:
			layer++
		}
	}

	// The table shows one row per step; each empty one with 0 B twice.
	r := imgsize(t, nil, "inspect", "--history", "--no-cache", arg)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	zeroRows := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Count(l, " 0 B ") == 2 {
			zeroRows++
		}
	}
	if zeroRows != empties || !strings.Contains(r.stdout, "empty step") {
		t.Errorf("%d rows with 0 B, want %d empty steps, and the legend:\n%s", zeroRows, empties, r.stdout)
	}
	// A saved report keeps the history: the same table from report:.
	saved := filepath.Join(t.TempDir(), "r.json")
	if r := imgsize(t, nil, "inspect", "-f", "json", "-o", saved, "--no-cache", arg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if rr := imgsize(t, nil, "inspect", "--history", "report:"+saved); rr.code != 0 || strings.Count(rr.stdout, " 0 B ") != 2*empties {
		t.Errorf("from the saved report: exit %d, want %d empty steps\n%s%s", rr.code, empties, rr.stdout, rr.stderr)
	}
	r = imgsize(t, nil, "inspect", "--history", "-f", "csv", "--no-cache", arg)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != len(cf.History)+1 {
		t.Fatalf("CSV: %v, %d rows, want a header and %d steps", err, len(rows), len(cf.History))
	}
	for i, row := range rows[1:] {
		if cf.History[i].EmptyLayer && (row[4] != "true" || row[7] != "0" || row[9] != "0") {
			t.Errorf("CSV step %d: %v, want an empty step of 0 bytes", i, row)
		}
	}
}

// On docker's own archive the steps are the config's history, counted
// here from the archive with archive/tar and encoding/json.
func TestInspectHistoryFixture(t *testing.T) {
	t.Parallel()
	fx, ok := testutil.FixturesIfPresent(t)
	if !ok {
		return
	}
	path := filepath.Join(fx, "test-docker-image.tar")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(hdr.Name, ".json") {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = b
		}
	}
	var manifest []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	var config struct {
		History []struct {
			EmptyLayer bool `json:"empty_layer"`
		}
	}
	if err := json.Unmarshal(files[manifest[0].Config], &config); err != nil {
		t.Fatal(err)
	}
	d := decodeDoc(t, imgsize(t, nil, "inspect", "-f", "json", "--no-cache", "docker-archive:"+path))
	if got := len(d.Images[0].History); got != len(config.History) || got == 0 {
		t.Errorf("%d steps, the archive's config has %d", got, len(config.History))
	}
	for i, s := range d.Images[0].History {
		if s.EmptyLayer != config.History[i].EmptyLayer {
			t.Errorf("step %d empty %v, config %v", i, s.EmptyLayer, config.History[i].EmptyLayer)
		}
	}
}
