package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
)

func TestDecodeJSONRoundTrip(t *testing.T) {
	opts := Options{Format: JSON, Version: "v1.2.3"}
	all := []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage()}
	c := analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  *Document
	}{
		{"inspect", func(b *bytes.Buffer) error { return Inspect(b, all, opts) }, inspectDocument(all, opts)},
		{"compare", func(b *bytes.Buffer) error { return Compare(b, c, opts) }, compareDocument(c, opts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeJSON(&buf)
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
	doc, err := DecodeJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Generator != (Generator{Name: "imgsize", Version: "v1.2.3"}) {
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

func TestDecodeJSONErrors(t *testing.T) {
	valid := func(edit func(string) string) string {
		var buf bytes.Buffer
		if err := Inspect(&buf, []*layers.Image{unknownImage()}, Options{Format: JSON}); err != nil {
			t.Fatal(err)
		}
		return edit(buf.String())
	}
	same := func(s string) string { return s }
	tests := []struct {
		name string
		in   string
		kind error
	}{
		{"newer schema", valid(func(s string) string { return strings.Replace(s, `"schemaVersion": 1`, `"schemaVersion": 2`, 1) }), errdefs.ErrUnsupported},
		{"no schema", `{"kind":"inspect","images":[]}`, errdefs.ErrCorrupt},
		{"not JSON", "IMAGE  COMPRESSED\n", errdefs.ErrCorrupt},
		{"trailing data", valid(same) + "{}", errdefs.ErrCorrupt},
		{"unknown kind", valid(func(s string) string { return strings.Replace(s, `"kind": "inspect"`, `"kind": "files"`, 1) }), errdefs.ErrCorrupt},
		{"compare without comparison", valid(func(s string) string { return strings.Replace(s, `"kind": "inspect"`, `"kind": "compare"`, 1) }), errdefs.ErrCorrupt},
		{"unknown with bytes", valid(func(s string) string { return strings.Replace(s, `"bytes": null`, `"bytes": 0`, 1) }), errdefs.ErrCorrupt},
		{"exact without bytes", valid(func(s string) string { return strings.Replace(s, `"bytes": 30123456`, `"bytes": null`, 1) }), errdefs.ErrCorrupt},
		{"bad provenance", valid(func(s string) string { return strings.Replace(s, `"provenance": "exact"`, `"provenance": "guess"`, 1) }), errdefs.ErrCorrupt},
		{"bad baseline", `{"schemaVersion":1,"kind":"compare","images":[],"comparison":{"baseline":0,"rows":[]}}`, errdefs.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSON(strings.NewReader(tt.in))
			if !errors.Is(err, tt.kind) {
				t.Errorf("error = %v, want one wrapping %v", err, tt.kind)
			}
		})
	}
	if _, err := DecodeJSON(strings.NewReader(valid(same) + "\n\n")); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}
}
