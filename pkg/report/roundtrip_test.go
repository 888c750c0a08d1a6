package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// loadRecorded reads image i of the report at path back as a source, the
// way `imgsize compare report.json IMAGE` does.
func loadRecorded(t *testing.T, path string, i int) (*layers.Image, error) {
	t.Helper()
	src, err := source.Open(context.Background(), "report:"+path+":"+strconv.Itoa(i), source.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return layers.Load(context.Background(), src, layers.Options{})
}

// A saved report is a source: every figure read back is the figure
// written, provenances and reasons included.
func TestReportRoundTrip(t *testing.T) {
	imgs := []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage(), archiveImage()}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	var buf bytes.Buffer
	if err := Inspect(&buf, imgs, Options{Format: JSON, Version: "v1.2.3", Time: goldenTime}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, want := range imgs {
		t.Run(want.Ref, func(t *testing.T) {
			got, err := loadRecorded(t, path, i)
			if err != nil {
				t.Fatal(err)
			}
			// Only the raw manifest and config bytes are not recorded;
			// their sizes are, except a synthetic manifest's, which
			// means nothing (the fixtures give one anyway).
			if want.SyntheticManifest {
				want.ManifestSize = 0
			}
			if d := cmp.Diff(want, got, cmpopts.IgnoreFields(layers.Image{}, "Ref", "Recorded", "Manifest", "Config"), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("read back differs (-written +read):\n%s", d)
			}
			wantRec := &layers.Recorded{Path: path, Ref: want.Ref, Generator: "imgsize", Version: "v1.2.3", Time: goldenTime}
			if d := cmp.Diff(wantRec, got.Recorded); d != "" {
				t.Errorf("Recorded (-want +got):\n%s", d)
			}
			if got.Ref != "report:"+path+":"+strconv.Itoa(i) {
				t.Errorf("Ref = %q, want the argument that named the report", got.Ref)
			}

			// Written again, the record is the same but for where it came from.
			var again bytes.Buffer
			if err := Inspect(&again, []*layers.Image{got}, Options{Format: JSON, Version: "v1.2.3", Time: goldenTime}); err != nil {
				t.Fatal(err)
			}
			var first, second struct{ Images []map[string]any }
			if err := json.Unmarshal(buf.Bytes(), &first); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again.Bytes(), &second); err != nil {
				t.Fatal(err)
			}
			rec := second.Images[0]
			if rec["recorded"] == nil {
				t.Error("a re-written recorded image does not say it was recorded")
			}
			delete(rec, "recorded")
			delete(rec, "ref")
			orig := first.Images[i]
			delete(orig, "ref")
			if d := cmp.Diff(orig, rec); d != "" {
				t.Errorf("re-written record differs (-first +second):\n%s", d)
			}
		})
	}
}

// A comparison against a recorded baseline gives the figures of the
// comparison against the image itself.
func TestCompareAgainstRecorded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baseline.json")
	var buf bytes.Buffer
	if err := Inspect(&buf, []*layers.Image{singleImage(), archiveImage()}, Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, base := range []*layers.Image{singleImage(), archiveImage()} {
		recorded, err := loadRecorded(t, path, i)
		if err != nil {
			t.Fatal(err)
		}
		live := analysis.Compare(base, multiImage(), sharedImage())
		fromReport := analysis.Compare(recorded, multiImage(), sharedImage())
		for r := range live.Rows {
			a, b := live.Rows[r], fromReport.Rows[r]
			opts := cmp.Options{cmpopts.IgnoreFields(analysis.Row{}, "Image"), cmpopts.EquateEmpty()}
			if r == 0 {
				continue // the baseline's own row names a different argument
			}
			if d := cmp.Diff(a, b, opts); d != "" {
				t.Errorf("baseline %d row %d differs (-live +recorded):\n%s", i, r, d)
			}
			if a.Compressed != b.Compressed || a.Uncompressed != b.Uncompressed {
				t.Errorf("baseline %d row %d deltas differ: %+v vs %+v", i, r, a.Compressed, b.Compressed)
			}
		}
	}
}

// A report edited by hand so that its totals no longer add up is refused
// rather than trusted.
func TestRecordedTotalsChecked(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := Inspect(&buf, []*layers.Image{singleImage()}, Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	// The first "bytes" in the document is the image's compressed total.
	edited := strings.Replace(buf.String(), `"bytes": 401001000`, `"bytes": 1000`, 1)
	if edited == buf.String() {
		t.Fatal("fixture changed: the compressed total is not 401001000")
	}
	path := filepath.Join(dir, "edited.json")
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadRecorded(t, path, 0)
	if err == nil || !strings.Contains(err.Error(), "layers add up to 401001000 B") {
		t.Fatalf("err = %v, want the totals' disagreement", err)
	}
	if !errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt", err)
	}
}

// Layer sizes that overflow int64 cannot make a recorded total agree.
func TestRecordedOverflowRefused(t *testing.T) {
	big := layers.Size{Bytes: 1 << 62, Provenance: layers.Exact}
	ls := []layers.Layer{layer("a", big, big, ""), layer("b", big, big, ""), layer("c", big, big, ""), layer("d", big, big, "")}
	img := image("app", "app", "e", 10, 10, ls...)
	// What the writer's own sum says (wrapped to 0) is what an attacker
	// would record.
	var buf bytes.Buffer
	if err := Inspect(&buf, []*layers.Image{img}, Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "overflow.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRecorded(t, path, 0); err == nil || !errors.Is(err, errdefs.ErrCorrupt) || !strings.Contains(err.Error(), "8 EiB") {
		t.Errorf("err = %v, want the overflow refused as corrupt", err)
	}
}
