package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

func TestDecodeJSONRoundTrip(t *testing.T) {
	opts := Options{Format: JSON, Version: "v1.2.3"}
	all := []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage()}
	c := analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
	archive := analysis.Compare(archiveImage(), singleImage(), estimatedImage())
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  *schema.Document
	}{
		{"inspect", func(b *bytes.Buffer) error { return Inspect(b, all, opts) }, inspectDocument(all, opts)},
		{"compare", func(b *bytes.Buffer) error { return Compare(b, c, opts) }, compareDocument(c, opts)},
		{"compare archive", func(b *bytes.Buffer) error { return Compare(b, archive, opts) }, compareDocument(archive, opts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			got, err := schema.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// Encoding the decoded document gives the same bytes.
			var again bytes.Buffer
			if err := writeJSON(&again, got); err != nil {
				t.Fatal(err)
			}
			var first bytes.Buffer
			_ = tt.write(&first)
			if first.String() != again.String() {
				t.Error("re-encoded document differs from the original")
			}
		})
	}

	// Spot-check decoded values against the fixtures.
	var buf bytes.Buffer
	if err := Compare(&buf, c, opts); err != nil {
		t.Fatal(err)
	}
	doc, err := schema.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Generator != (schema.Generator{Name: "imgsize", Version: "v1.2.3"}) {
		t.Errorf("generator = %+v", doc.Generator)
	}
	if got := doc.Images[3].Uncompressed.Bytes; got != nil {
		t.Errorf("remote uncompressed bytes = %d, want nil", *got)
	}
	if got := *doc.Images[0].Uncompressed.Bytes; got != 1_002_002_000 {
		t.Errorf("single uncompressed = %d, want 1002002000", got)
	}
	row := doc.Comparison.Rows[2] // shared
	if row.SharedLayers != 1 || len(row.AddedLayers) != 1 || len(row.RemovedLayers) != 2 {
		t.Errorf("shared row layers = %d shared, %v added, %v removed", row.SharedLayers, row.AddedLayers, row.RemovedLayers)
	}
	if got := *row.Shared.Compressed.Bytes; got != 400_000_000 {
		t.Errorf("shared compressed = %d, want 400000000", got)
	}
	if doc.Comparison.RatioBasis != "compressed" {
		t.Errorf("ratio basis = %q, want compressed", doc.Comparison.RatioBasis)
	}
}

// A docker-archive's manifest is one imgsize made: the JSON leaves out its
// digest, media type and size, and reads back the same.
func TestDecodeJSONSyntheticManifest(t *testing.T) {
	opts := Options{Format: JSON, Version: "v1.2.3"}
	c := analysis.Compare(singleImage(), archiveImage())
	var buf bytes.Buffer
	if err := Compare(&buf, c, opts); err != nil {
		t.Fatal(err)
	}
	written := buf.String()

	var raw struct {
		Images     []map[string]any `json:"images"`
		Comparison struct {
			Rows []map[string]any `json:"rows"`
		} `json:"comparison"`
	}
	if err := json.Unmarshal([]byte(written), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"digest", "mediaType", "manifestBytes"} {
		if v, ok := raw.Images[1][key]; ok {
			t.Errorf("synthetic manifest: %s = %v, want it omitted", key, v)
		}
		if _, ok := raw.Images[0][key]; !ok {
			t.Errorf("real manifest: %s omitted", key)
		}
	}
	if got, want := raw.Images[1]["configDigest"], hash("1c").String(); got != want {
		t.Errorf("archive configDigest = %v, want %s", got, want)
	}
	if raw.Images[1]["syntheticManifest"] != true {
		t.Errorf("syntheticManifest = %v, want true", raw.Images[1]["syntheticManifest"])
	}
	if got := raw.Comparison.Rows[1]["matchedBy"]; got != "digest+diffID" {
		t.Errorf("matchedBy = %v, want digest+diffID", got)
	}

	doc, err := schema.Decode(strings.NewReader(written))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(compareDocument(c, opts), doc); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	img := doc.Images[1]
	if !img.SyntheticManifest || img.Digest != "" || img.MediaType != "" || img.ManifestBytes != nil {
		t.Errorf("decoded archive image = %+v", img)
	}
	row := doc.Comparison.Rows[1]
	// The archive's layers are single's content stored uncompressed:
	// recompressed, in sizes of which the compressed one is unknown.
	if row.MatchedBy != schema.MatchDigestDiffID || row.SharedLayers != 0 || len(row.RecompressedLayers) != 3 || row.Recompressed == nil ||
		row.Recompressed.Compressed.Bytes != nil || *row.Recompressed.Uncompressed.Bytes != 1_002_002_000 || *row.Unique.Uncompressed.Bytes != 0 {
		t.Errorf("decoded archive row = %+v", row)
	}
	var again bytes.Buffer
	if err := writeJSON(&again, doc); err != nil {
		t.Fatal(err)
	}
	if again.String() != written {
		t.Errorf("re-encoded document differs:\n%s\nwant:\n%s", again.String(), written)
	}
}

// A report written before rows carried matchedBy matched layers by digest,
// and had no recompressed figures.
func TestDecodeJSONWithoutMatchedBy(t *testing.T) {
	var buf bytes.Buffer
	if err := Compare(&buf, analysis.Compare(singleImage(), multiImage()), Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	old := strings.ReplaceAll(buf.String(), `"matchedBy": "digest+diffID",`, "")
	old = regexp.MustCompile(`(?s)"recompressed": \{.*?\n        \},\n\s*`).ReplaceAllString(old, "")
	old = regexp.MustCompile(`"recompressedLayers": \[\],\n\s*`).ReplaceAllString(old, "")
	if old == buf.String() || strings.Contains(old, "ecompressed") || strings.Contains(old, "matchedBy") {
		t.Fatalf("matchedBy and recompressed not removed:\n%s", old)
	}
	doc, err := schema.Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range doc.Comparison.Rows {
		if r.MatchedBy != "digest" || r.Recompressed != nil || r.RecompressedLayers != nil {
			t.Errorf("row %d matchedBy = %q, recompressed %v %v; want digest and none", i, r.MatchedBy, r.Recompressed, r.RecompressedLayers)
		}
	}
	// Both values written before recompressed layers were told apart
	// still read.
	for _, m := range []string{schema.MatchDigest, schema.MatchDiffID} {
		if _, err := schema.Decode(strings.NewReader(strings.ReplaceAll(buf.String(), schema.MatchDigestDiffID, m))); err != nil {
			t.Errorf("matchedBy %q: %v", m, err)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	valid := func(edit func(string) string) string {
		var buf bytes.Buffer
		if err := Inspect(&buf, []*layers.Image{unknownImage()}, Options{Format: JSON}); err != nil {
			t.Fatal(err)
		}
		return edit(buf.String())
	}
	same := func(s string) string { return s }
	archive := func(edit func(string) string) string {
		var buf bytes.Buffer
		if err := Compare(&buf, analysis.Compare(singleImage(), archiveImage()), Options{Format: JSON}); err != nil {
			t.Fatal(err)
		}
		out := edit(buf.String())
		if out == buf.String() {
			t.Fatal("edit changed nothing")
		}
		if _, err := schema.Decode(strings.NewReader(buf.String())); err != nil {
			t.Fatalf("unedited document: %v", err)
		}
		return out
	}
	tests := []struct {
		name string
		in   string
		kind error
	}{
		{"newer schema", valid(func(s string) string { return strings.Replace(s, `"schemaVersion": 2`, `"schemaVersion": 3`, 1) }), errdefs.ErrUnsupported},
		{"no schema", `{"kind":"inspect","images":[]}`, errdefs.ErrCorrupt},
		{"not JSON", "IMAGE  COMPRESSED\n", errdefs.ErrCorrupt},
		{"trailing data", valid(same) + "{}", errdefs.ErrCorrupt},
		{"unknown kind", valid(func(s string) string { return strings.Replace(s, `"kind": "inspect"`, `"kind": "files"`, 1) }), errdefs.ErrCorrupt},
		{"compare without comparison", valid(func(s string) string { return strings.Replace(s, `"kind": "inspect"`, `"kind": "compare"`, 1) }), errdefs.ErrCorrupt},
		{"unknown with bytes", valid(func(s string) string { return strings.Replace(s, `"bytes": null`, `"bytes": 0`, 1) }), errdefs.ErrCorrupt},
		{"exact without bytes", valid(func(s string) string { return strings.Replace(s, `"bytes": 30123456`, `"bytes": null`, 1) }), errdefs.ErrCorrupt},
		{"bad provenance", valid(func(s string) string { return strings.Replace(s, `"provenance": "exact"`, `"provenance": "guess"`, 1) }), errdefs.ErrCorrupt},
		{"synthetic manifest with a digest", archive(func(s string) string {
			return strings.Replace(s, `"syntheticManifest": true,`, `"syntheticManifest": true, "digest": "sha256:`+strings.Repeat("0", 64)+`",`, 1)
		}), errdefs.ErrCorrupt},
		{"synthetic manifest with a size", archive(func(s string) string {
			return strings.Replace(s, `"syntheticManifest": true,`, `"syntheticManifest": true, "manifestBytes": 400,`, 1)
		}), errdefs.ErrCorrupt},
		{"unknown matchedBy", archive(func(s string) string {
			return strings.Replace(s, `"matchedBy": "digest+diffID"`, `"matchedBy": "name"`, 1)
		}), errdefs.ErrCorrupt},
		{"recompressed unknown with bytes", archive(func(s string) string {
			return strings.Replace(s, `"recompressed": {
          "compressed": {
            "bytes": null`, `"recompressed": {
          "compressed": {
            "bytes": 0`, 1)
		}), errdefs.ErrCorrupt},
		{"bad baseline", `{"schemaVersion":1,"kind":"compare","images":[],"comparison":{"baseline":0,"rows":[]}}`, errdefs.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.Decode(strings.NewReader(tt.in))
			if !errors.Is(err, tt.kind) {
				t.Errorf("error = %v, want one wrapping %v", err, tt.kind)
			}
		})
	}
	if _, err := schema.Decode(strings.NewReader(valid(same) + "\n\n")); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}
}
