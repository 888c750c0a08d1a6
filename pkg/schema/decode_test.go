package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Decode reads the stream itself, field by field and element by element;
// it must read every report exactly as encoding/json would.
func TestDecodeMatchesUnmarshal(t *testing.T) {
	files, err := filepath.Glob(goldenGlob)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{"checkDoc": checkDoc, "filesDoc": filesDoc, "diffDoc": diffDoc}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = string(data)
	}
	// encoding/json's own rules: keys match case-insensitively, the last
	// of a repeated key wins, unknown keys are skipped, null leaves a
	// struct alone and empties a pointer or a list.
	docs["keys in other cases"] = strings.Replace(strings.Replace(checkDoc, `"images"`, `"IMAGES"`, 1), `"schemaVersion"`, `"SchemaVersion"`, 1)
	docs["repeated and unknown keys"] = strings.Replace(checkDoc, `"kind": "check",`,
		`"kind": "inspect", "kind": "check", "future": {"a": [1, {"b": null}]}, "more": [[]],`, 1)
	docs["nulls"] = strings.Replace(checkDoc, `"generator": {"name": "imgsize", "version": "v1.4.0"},`,
		`"generator": null, "comparison": null, "files": null,`, 1)
	if len(docs) < 3+minGoldens+3 {
		t.Fatalf("%d documents, want at least %d", len(docs), 3+minGoldens+3)
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			got, err := schema.Decode(strings.NewReader(data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var want schema.Document
			if err := json.Unmarshal([]byte(data), &want); err != nil {
				t.Fatal(err)
			}
			if want.Comparison != nil {
				for i := range want.Comparison.Rows {
					if want.Comparison.Rows[i].MatchedBy == "" {
						want.Comparison.Rows[i].MatchedBy = schema.MatchDigest
					}
				}
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Decode differs from json.Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

// The schema version is judged first: only a version above this package's
// is "newer"; a missing, zero, negative or non-integer one is no imgsize
// report at all.
func TestDecodeSchemaVersion(t *testing.T) {
	withVersion := func(v string) string {
		return strings.Replace(checkDoc, `"schemaVersion": 1,`, v, 1)
	}
	tests := []struct {
		name      string
		doc       string
		want      error
		fragments []string
		not       []string
	}{
		{"negative", withVersion(`"schemaVersion": -1,`), errdefs.ErrCorrupt, []string{"invalid schema version -1"}, []string{"newer"}},
		{"zero", withVersion(`"schemaVersion": 0,`), errdefs.ErrCorrupt, []string{"invalid schema version 0"}, []string{"newer"}},
		{"missing", withVersion(``), errdefs.ErrCorrupt, []string{"invalid schema version (missing)", "not an imgsize report"}, []string{"newer"}},
		{"null", withVersion(`"schemaVersion": null,`), errdefs.ErrCorrupt, []string{"invalid schema version null"}, []string{"newer"}},
		{"a string", withVersion(`"schemaVersion": "1",`), errdefs.ErrCorrupt, []string{`invalid schema version "1"`}, []string{"newer"}},
		{"a fraction", withVersion(`"schemaVersion": 1.5,`), errdefs.ErrCorrupt, []string{"invalid schema version 1.5"}, []string{"newer"}},
		{"an object over lines", withVersion(`"schemaVersion": {"v":` + "\n" + `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]},`), errdefs.ErrCorrupt,
			[]string{`invalid schema version {"v":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,1…`}, []string{"newer"}},
		{"newer", withVersion(`"schemaVersion": 3,`), errdefs.ErrUnsupported, []string{"schema version 3 is not supported", "newer imgsize"}, nil},
		{"far newer", withVersion(`"schemaVersion": 123456789012345678901234567890,`), errdefs.ErrUnsupported, []string{"schema version 123456789012345678901234567890 is not supported"}, nil},
		// A newer version may change a field's type; that is "newer", not
		// corrupt, wherever the version stands.
		{"newer, reshaped, version last", strings.Replace(withVersion(``), `"kind": "check",`, `"kind": "check", "images": {"a": 1}, "check": [1], "generator": "x", "schemaVersion": 3,`, 1),
			errdefs.ErrUnsupported, []string{"schema version 3 is not supported"}, []string{"cannot unmarshal"}},
		{"current version, reshaped", strings.Replace(checkDoc, `"kind": "check",`, `"kind": "check", "check": [1],`, 1),
			errdefs.ErrCorrupt, []string{"cannot unmarshal an array", "check"}, nil},
		{"current version, wrong type in an element", strings.Replace(checkDoc, `"passed": false,`, `"passed": "no",`, 1),
			errdefs.ErrCorrupt, []string{"cannot unmarshal string"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.Decode(strings.NewReader(tt.doc))
			checkDecodeErr(t, err, tt.want, tt.fragments, tt.not)
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		fragments []string
	}{
		{"empty", "", []string{"unexpected end of JSON input"}},
		{"truncated", checkDoc[:len(checkDoc)/2], []string{"unexpected end of JSON input"}},
		{"truncated after a key", `{"schemaVersion": 1, "images": [`, []string{"unexpected end of JSON input"}},
		{"not an object", `[1, 2]`, []string{"not a JSON object"}},
		{"null", `null`, []string{"not a JSON object"}},
		{"trailing data", checkDoc + `{}`, []string{"unexpected data after the document"}},
		{"trailing garbage", checkDoc + `x`, []string{"unexpected data after the document"}},
		{"syntax error", strings.Replace(checkDoc, `"kind": "check",`, `"kind" "check",`, 1), []string{"expected colon after object key"}},
		{"bad time", strings.Replace(checkDoc, `"2026-11-27T12:00:00Z"`, `"yesterday"`, 1), []string{"yesterday"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.Decode(strings.NewReader(tt.doc))
			checkDecodeErr(t, err, errdefs.ErrCorrupt, tt.fragments, nil)
		})
	}
}

// A reader that fails says why, with its own kind: a size limit is not
// corrupt JSON.
func TestDecodeReaderError(t *testing.T) {
	limit := errdefs.Wrap(errdefs.ErrUnsupported, errors.New("report larger than 64 MiB"))
	r := io.MultiReader(strings.NewReader(checkDoc[:100]), &failingReader{err: limit})
	_, err := schema.Decode(r)
	if !errors.Is(err, limit) {
		t.Fatalf("Decode error = %v, want one wrapping the reader's", err)
	}
	if errors.Is(err, errdefs.ErrCorrupt) {
		t.Errorf("Decode error %v wraps ErrCorrupt; the reader's error is not corrupt JSON", err)
	}
	if !strings.HasPrefix(err.Error(), "reading JSON report: ") {
		t.Errorf("Decode error = %q, want it to say what was being read", err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

// Decode reads a list element by element, so the JSON decoder's buffer
// holds one element, not the whole report. The decoder reads into the free
// end of its buffer, and bufio passes a read that large straight through:
// a decoder buffering all of a 6 MB report (as one Decode of the document
// does) shows as reads of megabytes; a streaming one reads 64 KiB at a time.
func TestDecodeStreams(t *testing.T) {
	const n = 20000
	// Each image is the same but for its ref: appended, not formatted,
	// to a buffer of its final size (fmt and a growing builder cost a
	// fifth of the test under -race).
	const head = `{"schemaVersion": 1, "kind": "inspect", "generator": {"name": "imgsize", "version": "v1"}, "time": "2026-01-02T03:04:05Z", "images": [`
	before, after := `{"ref": "r`, `", "name": "n", "transport": "oci", "configDigest": "sha256:`+strings.Repeat("a", 64)+`", "configBytes": 1, "compressed": {"bytes": 1, "provenance": "exact"}, "uncompressed": {"bytes": 1, "provenance": "exact"}, "layers": []}`
	b := make([]byte, 0, len(head)+n*(len(before)+len(after)+6)+2)
	b = append(b, head...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, before...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, after...)
	}
	b = append(b, "]}"...)
	data := string(b)
	r := &peakReader{r: strings.NewReader(data)}
	doc, err := schema.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != n || doc.Images[n-1].Ref != fmt.Sprintf("r%d", n-1) {
		t.Fatalf("decoded %d images, the last %q", len(doc.Images), doc.Images[len(doc.Images)-1].Ref)
	}
	if r.read != int64(len(data)) {
		t.Errorf("read %d bytes, want all %d", r.read, len(data))
	}
	if r.largest > 64<<10 {
		t.Errorf("largest read %d bytes, want at most 64 KiB", r.largest)
	}
}

type peakReader struct {
	r             io.Reader
	read, largest int64
}

func (p *peakReader) Read(b []byte) (int, error) {
	p.largest = max(p.largest, int64(len(b)))
	n, err := p.r.Read(b)
	p.read += int64(n)
	return n, err
}

func checkDecodeErr(t *testing.T, err, want error, fragments, not []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Decode succeeded, want an error wrapping %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("Decode error = %v, want one wrapping %v", err, want)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("Decode error = %q, want it to contain %q", err, f)
		}
	}
	for _, f := range not {
		if strings.Contains(err.Error(), f) {
			t.Errorf("Decode error = %q, want it not to contain %q", err, f)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("Decode error %q is not one line", err)
	}
}
