package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
)

const (
	schemaID    = "https://imgsize.dev/schema/report/v1.json"
	metaSchema  = "https://json-schema.org/draft/2020-12/schema"
	goldenGlob  = "../report/testdata/*.json.golden"
	minGoldens  = 5
	sha256Zeros = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
)

// rawSchema is report.schema.json as plain JSON.
func rawSchema(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(schema.JSONSchema, &doc); err != nil {
		t.Fatalf("report.schema.json is not JSON: %v", err)
	}
	return doc
}

func TestJSONSchemaCompiles(t *testing.T) {
	doc := rawSchema(t)
	if got := doc["$id"]; got != schemaID {
		t.Errorf("$id = %v, want %s", got, schemaID)
	}
	if got := doc["$schema"]; got != metaSchema {
		t.Errorf("$schema = %v, want %s", got, metaSchema)
	}
	if testutil.ReportSchemaID != schemaID {
		t.Errorf("testutil.ReportSchemaID = %s, want %s", testutil.ReportSchemaID, schemaID)
	}
	// Compiling checks the schema against the draft 2020-12 metaschema.
	if _, err := testutil.ReportSchema(); err != nil {
		t.Fatal(err)
	}
}

// The schema's enums are the strings this package writes and Decode checks.
func TestJSONSchemaEnums(t *testing.T) {
	doc := rawSchema(t)
	defs := doc["$defs"].(map[string]any)
	prop := func(def, name string) map[string]any {
		t.Helper()
		d := doc
		if def != "" {
			d = defs[def].(map[string]any)
		}
		p, ok := d["properties"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("no property %s in %q", name, def)
		}
		return p
	}
	strs := func(v any) []string {
		var out []string
		for _, s := range v.([]any) {
			out = append(out, s.(string))
		}
		return out
	}
	tests := []struct {
		name string
		got  any
		want []string
	}{
		{"provenance", defs["provenance"].(map[string]any)["enum"], schema.Provenances},
		{"kind", prop("", "kind")["enum"], []string{schema.KindInspect, schema.KindCompare, schema.KindCheck}},
		{"matchedBy", prop("row", "matchedBy")["enum"], []string{schema.MatchDigest, schema.MatchDiffID}},
		{"status", prop("budget", "status")["enum"], []string{schema.StatusPass, schema.StatusFail, schema.StatusUnknown}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, strs(tt.got)); diff != "" {
			t.Errorf("%s enum (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := prop("", "schemaVersion")["const"]; got != float64(schema.Version) {
		t.Errorf("schemaVersion const = %v, want %d", got, schema.Version)
	}
}

// Every property, at every level, says what it means: the schema is the
// format's documentation for those who read reports.
func TestJSONSchemaDescribesEveryProperty(t *testing.T) {
	doc := rawSchema(t)
	var walk func(where string, node map[string]any)
	walk = func(where string, node map[string]any) {
		props, _ := node["properties"].(map[string]any)
		for name, p := range props {
			p, ok := p.(map[string]any)
			if !ok {
				t.Errorf("%s.%s is not a schema object", where, name)
				continue
			}
			if d, _ := p["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", where, name)
			}
			walk(where+"."+name, p)
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(where+"[]", items)
		}
		defs, _ := node["$defs"].(map[string]any)
		for name, d := range defs {
			d := d.(map[string]any)
			if s, _ := d["description"].(string); s == "" {
				t.Errorf("$defs.%s has no description", name)
			}
			walk("$defs."+name, d)
		}
	}
	walk("", doc)
	// Forward compatibility: no object forbids fields it does not know.
	if bytes.Contains(schema.JSONSchema, []byte(`"additionalProperties": false`)) ||
		bytes.Contains(schema.JSONSchema, []byte(`"unevaluatedProperties"`)) {
		t.Error("the schema forbids additional properties; new fields may appear within a version")
	}
}

func TestGoldenReportsValidate(t *testing.T) {
	files, err := filepath.Glob(goldenGlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minGoldens {
		t.Fatalf("%s matched %d files, want at least %d", goldenGlob, len(files), minGoldens)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			testutil.ValidateReport(t, data)
			if _, err := schema.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("Decode: %v", err)
			}
		})
	}
}

// checkDoc is a check report written by hand from the type comments. It
// checks two images read from a registry and a docker-archive, and one that
// could not be read.
//
//   - result 0, example.com/app:new (image 0) against example.com/app:old
//     (image 2): max-compressed passes, max-uncompressed is unknown (a
//     registry states no uncompressed sizes), max-layers fails, max-growth in
//     percent passes with its growth record;
//   - result 1, docker-archive:missing.tar: not read (image null, error);
//   - result 2, docker-archive:small.tar (image 1, synthetic manifest):
//     max-compressed passes near its limit, on an estimated size.
//
// Images are those read, then the baseline: 5 budgets, 2 failed (the
// exceeded and the unknown), 1 near, 1 error.
const checkDoc = `{
  "schemaVersion": 1,
  "kind": "check",
  "generator": {"name": "imgsize", "version": "v1.4.0"},
  "time": "2026-11-27T12:00:00Z",
  "images": [
    {
      "ref": "example.com/app:new",
      "name": "example.com/app:new",
      "transport": "docker",
      "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "configDigest": "sha256:1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "platform": "linux/arm64/v8",
      "manifestBytes": 1200,
      "configBytes": 1500,
      "compressed": {"bytes": 6000, "provenance": "exact"},
      "uncompressed": {"bytes": null, "provenance": "unknown", "reason": "a registry states only compressed sizes; use --exact to read the layers"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "diffID": "sha256:afafafafafafafafafafafafafafafafafafafafafafafafafafafafafafafaf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 1000, "provenance": "exact"},
          "uncompressed": {"bytes": null, "provenance": "unknown", "reason": "a registry states only compressed sizes; use --exact to read the layers"},
          "createdBy": "ADD rootfs.tar.xz / # buildkit"
        },
        {
          "index": 1,
          "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
          "diffID": "sha256:bfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
          "compressed": {"bytes": 2000, "provenance": "exact"},
          "uncompressed": {"bytes": null, "provenance": "unknown"},
          "createdBy": "RUN /bin/sh -c make install # buildkit",
          "annotations": {"org.opencontainers.image.title": "app"}
        },
        {
          "index": 2,
          "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
          "diffID": "sha256:cfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 3000, "provenance": "exact"},
          "uncompressed": {"bytes": null, "provenance": "unknown"},
          "createdBy": ""
        }
      ]
    },
    {
      "ref": "docker-archive:small.tar",
      "name": "app:small",
      "transport": "docker-archive",
      "configDigest": "sha256:2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c",
      "syntheticManifest": true,
      "configBytes": 800,
      "compressed": {"bytes": 950, "provenance": "estimated", "reason": "estimated by compressing the layer with gzip"},
      "uncompressed": {"bytes": 2048, "provenance": "exact"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
          "diffID": "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
          "mediaType": "application/vnd.docker.image.rootfs.diff.tar",
          "compressed": {"bytes": 950, "provenance": "estimated", "reason": "estimated by compressing the layer with gzip"},
          "uncompressed": {"bytes": 2048, "provenance": "exact"},
          "createdBy": "COPY /out/app /app # buildkit"
        }
      ]
    },
    {
      "ref": "example.com/app:old",
      "name": "example.com/app:old",
      "transport": "docker",
      "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
      "configDigest": "sha256:3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c",
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "manifestBytes": 500,
      "configBytes": 900,
      "compressed": {"bytes": 1200, "provenance": "exact"},
      "uncompressed": {"bytes": 4096, "provenance": "exact"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
          "diffID": "",
          "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
          "compressed": {"bytes": 1200, "provenance": "exact"},
          "uncompressed": {"bytes": 4096, "provenance": "exact"},
          "createdBy": ""
        }
      ],
      "recorded": {
        "path": "old.json",
        "ref": "example.com/app:old",
        "generator": {"name": "imgsize", "version": "v1.3.0"},
        "time": "2026-11-20T08:30:00Z"
      }
    }
  ],
  "check": {
    "passed": false,
    "budgets": 5,
    "failed": 2,
    "near": 1,
    "errors": 1,
    "results": [
      {
        "ref": "example.com/app:new",
        "image": 0,
        "baselineRef": "example.com/app:old",
        "baseline": 2,
        "growthBasis": "compressed",
        "warnAt": 0.9,
        "passed": false,
        "budgets": [
          {
            "budget": "max-compressed", "basis": "compressed", "unit": "bytes",
            "limit": 10000, "actual": 6000, "margin": 4000,
            "status": "pass", "near": false, "provenance": "exact"
          },
          {
            "budget": "max-uncompressed", "basis": "uncompressed", "unit": "bytes",
            "limit": 50000, "actual": null, "margin": null,
            "status": "unknown", "near": false, "provenance": "unknown",
            "reason": "the uncompressed size is not known: a registry states only compressed sizes; use --exact to read the layers"
          },
          {
            "budget": "max-layers", "unit": "layers",
            "limit": 2, "actual": 3, "margin": -1,
            "status": "fail", "near": false, "provenance": "exact"
          },
          {
            "budget": "max-growth", "basis": "compressed", "unit": "percent",
            "limit": 450.5, "actual": 400, "margin": 50.5,
            "status": "pass", "near": false, "provenance": "exact",
            "growth": {"deltaBytes": 4800, "deltaPercent": 400, "ratio": 0.2, "provenance": "exact"}
          }
        ]
      },
      {
        "ref": "docker-archive:missing.tar",
        "image": null,
        "warnAt": 0.9,
        "passed": false,
        "error": "opening docker-archive:missing.tar: open missing.tar: no such file or directory",
        "budgets": []
      },
      {
        "ref": "docker-archive:small.tar",
        "image": 1,
        "warnAt": 0.9,
        "passed": true,
        "budgets": [
          {
            "budget": "max-compressed", "basis": "compressed", "unit": "bytes",
            "limit": 1000, "actual": 950, "margin": 50,
            "status": "pass", "near": true, "provenance": "estimated"
          }
        ]
      }
    ]
  }
}`

func TestCheckDocument(t *testing.T) {
	testutil.ValidateReport(t, []byte(checkDoc))

	doc, err := schema.Decode(strings.NewReader(checkDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if doc.Kind != schema.KindCheck || doc.Check == nil || doc.Comparison != nil {
		t.Fatalf("kind %q, check %v, comparison %v", doc.Kind, doc.Check, doc.Comparison)
	}
	c := doc.Check
	if c.Passed || c.Budgets != 5 || c.Failed != 2 || c.Near != 1 || c.Errors != 1 {
		t.Errorf("check = %+v", *c)
	}
	if len(c.Results) != 3 {
		t.Fatalf("%d results, want 3", len(c.Results))
	}
	var statuses []string
	for _, b := range c.Results[0].Budgets {
		statuses = append(statuses, b.Status)
	}
	if want := []string{"pass", "unknown", "fail", "pass"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %q, want %q", statuses, want)
	}
	if b := c.Results[0].Budgets[1]; b.Actual != nil || b.Margin != nil {
		t.Errorf("unknown budget: actual %v, margin %v, want nil", b.Actual, b.Margin)
	}
	g := c.Results[0].Budgets[3].Growth
	if g == nil || g.DeltaBytes != 4800 || g.Ratio == nil || *g.Ratio != 0.2 {
		t.Errorf("growth = %+v", g)
	}
	if r := c.Results[1]; r.Image != nil || r.Error == "" || r.Passed {
		t.Errorf("unread image: image %v, error %q, passed %v", r.Image, r.Error, r.Passed)
	}
	if r := c.Results[2]; r.Image == nil || *r.Image != 1 || !r.Passed || !r.Budgets[0].Near {
		t.Errorf("small image: %+v", r)
	}
	if img := doc.Images[1]; !img.SyntheticManifest || img.Digest != "" || img.ManifestBytes != nil {
		t.Errorf("synthetic image = %+v", img)
	}
	if got := doc.Images[2].Layers[0].DiffID; got != "" {
		t.Errorf("unknown diffID = %q, want empty", got)
	}
}

// parse reads a JSON document as plain values, numbers kept as written.
func parse(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// at follows path (object keys and array indices) from v to an object.
func at(t *testing.T, v any, path ...any) map[string]any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			o, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: %q is not in an object", path, k)
			}
			v = o[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	o, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", path)
	}
	return o
}

// mutation is a named edit of checkDoc.
type mutation struct {
	name string
	edit func(t *testing.T, doc map[string]any)
}

// inspectOf turns the check document into a valid inspect document: its
// images without the check.
func inspectOf(t *testing.T, doc map[string]any) {
	t.Helper()
	doc["kind"] = schema.KindInspect
	delete(doc, "check")
}

// schemaOnly lists the mutations below that only the schema rejects, and
// why Decode accepts them. Decode checks what it must to use a document:
// kinds, schema version, provenance against bytes, statuses, indices. It
// does not check the syntax of strings it passes through (digests), nor
// rules that only describe how imgsize writes (UTC times, whole numbers
// of bytes in a float field, which fields a record carries).
var schemaOnly = map[string]string{
	"missing images":                     "Decode reads an absent array as empty",
	"bad digest":                         "Decode does not check digest syntax",
	"bad diffID":                         "Decode does not check digest syntax",
	"bad added layer":                    "Decode does not check digest syntax",
	"time not UTC":                       "Decode reads any RFC 3339 offset; only the schema says UTC",
	"bytes unit with limit 1.5":          "Limit is a float64; Decode does not check whole numbers",
	"unknown status with provenance":     "Decode checks provenance is known, not that it agrees with status",
	"near on a failing budget":           "Decode does not relate near and status",
	"max-layers with a basis":            "Decode does not relate budget and basis",
	"unreadable image without an error":  "Decode does not require error",
	"passed with a failed budget":        "Decode does not relate passed and statuses",
	"check passed with a failed result":  "Decode does not relate the check's passed and its results'",
	"baseline without baselineRef":       "Decode does not relate baseline and baselineRef",
	"growth budget without growthBasis":  "Decode does not require growthBasis",
	"real manifest without a media type": "Decode checks only that a synthetic manifest has none",
	"delta with unknown provenance":      "Decode does not check a delta's provenance",
	"compare without ratioBasis":         "Decode does not check ratioBasis",
	"missing generator":                  "Decode does not require generator",
	"negative ratio":                     "Decode does not check a ratio's sign",
}

// Each mutation of a valid document is rejected by the schema; Decode
// rejects it too unless it is listed in schemaOnly.
func TestJSONSchemaRejects(t *testing.T) {
	img0 := []any{"images", 0}
	budgets0 := []any{"check", "results", 0, "budgets"}
	budget := func(i int) []any { return append(slices.Clone(budgets0), i) }
	tests := []mutation{
		{"bytes as string", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "compressed")...)["bytes"] = "6000"
		}},
		{"bytes -1", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "layers", 0, "compressed")...)["bytes"] = -1
		}},
		{"provenance guess", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "compressed")...)["provenance"] = "guess"
		}},
		{"unknown size with bytes", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "uncompressed")...)["bytes"] = 0
		}},
		{"known size with null bytes", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "compressed")...)["bytes"] = nil
		}},
		{"compare without comparison", func(t *testing.T, d map[string]any) {
			d["kind"] = schema.KindCompare
			delete(d, "check")
		}},
		{"inspect with a check", func(t *testing.T, d map[string]any) {
			d["kind"] = schema.KindInspect
		}},
		{"unknown kind", func(t *testing.T, d map[string]any) { d["kind"] = "files" }},
		{"schemaVersion 2", func(t *testing.T, d map[string]any) { d["schemaVersion"] = 2 }},
		{"missing images", func(t *testing.T, d map[string]any) {
			inspectOf(t, d)
			delete(d, "images")
		}},
		{"missing generator", func(t *testing.T, d map[string]any) { delete(d, "generator") }},
		{"bad digest", func(t *testing.T, d map[string]any) {
			at(t, d, img0...)["digest"] = "sha256:1111"
		}},
		{"bad diffID", func(t *testing.T, d map[string]any) {
			at(t, d, append(img0, "layers", 0)...)["diffID"] = "AFAF"
		}},
		{"synthetic manifest with a digest", func(t *testing.T, d map[string]any) {
			at(t, d, "images", 1)["digest"] = sha256Zeros
		}},
		{"real manifest without a media type", func(t *testing.T, d map[string]any) {
			delete(at(t, d, img0...), "mediaType")
		}},
		// Not schema-only after all: time.Time's UnmarshalJSON parses
		// RFC 3339, so Decode rejects a time that is no date-time. Only the
		// schema's UTC rule is beyond it.
		{"time yesterday", func(t *testing.T, d map[string]any) { d["time"] = "yesterday" }},
		{"time not UTC", func(t *testing.T, d map[string]any) { d["time"] = "2026-11-27T13:00:00+01:00" }},
		{"status maybe", func(t *testing.T, d map[string]any) {
			at(t, d, budget(0)...)["status"] = "maybe"
		}},
		{"unknown status with an actual", func(t *testing.T, d map[string]any) {
			at(t, d, budget(1)...)["actual"] = 60000
		}},
		{"pass without an actual", func(t *testing.T, d map[string]any) {
			b := at(t, d, budget(0)...)
			b["actual"], b["margin"] = nil, nil
		}},
		{"unknown status with provenance", func(t *testing.T, d map[string]any) {
			at(t, d, budget(1)...)["provenance"] = "exact"
		}},
		{"bytes unit with limit 1.5", func(t *testing.T, d map[string]any) {
			at(t, d, budget(0)...)["limit"] = 1.5
		}},
		{"unknown unit", func(t *testing.T, d map[string]any) {
			at(t, d, budget(0)...)["unit"] = "megabytes"
		}},
		{"unknown budget", func(t *testing.T, d map[string]any) {
			at(t, d, budget(0)...)["budget"] = "max-files"
		}},
		{"near on a failing budget", func(t *testing.T, d map[string]any) {
			at(t, d, budget(2)...)["near"] = true
		}},
		{"max-layers with a basis", func(t *testing.T, d map[string]any) {
			at(t, d, budget(2)...)["basis"] = "compressed"
		}},
		{"unreadable image without an error", func(t *testing.T, d map[string]any) {
			delete(at(t, d, "check", "results", 1), "error")
		}},
		{"passed with a failed budget", func(t *testing.T, d map[string]any) {
			at(t, d, "check", "results", 0)["passed"] = true
		}},
		{"check passed with a failed result", func(t *testing.T, d map[string]any) {
			at(t, d, "check")["passed"] = true
		}},
		{"baseline without baselineRef", func(t *testing.T, d map[string]any) {
			delete(at(t, d, "check", "results", 0), "baselineRef")
		}},
		{"growth budget without growthBasis", func(t *testing.T, d map[string]any) {
			delete(at(t, d, "check", "results", 0), "growthBasis")
		}},
		{"delta with unknown provenance", func(t *testing.T, d map[string]any) {
			at(t, d, append(budget(3), "growth")...)["provenance"] = "unknown"
		}},
		{"negative ratio", func(t *testing.T, d map[string]any) {
			at(t, d, append(budget(3), "growth")...)["ratio"] = -0.2
		}},
		{"compare without ratioBasis", func(t *testing.T, d map[string]any) {
			d["kind"] = schema.KindCompare
			delete(d, "check")
			d["comparison"] = map[string]any{"baseline": 0, "rows": []any{}}
		}},
		{"bad added layer", func(t *testing.T, d map[string]any) {
			d["kind"] = schema.KindCompare
			delete(d, "check")
			d["comparison"] = parse(t, `{"baseline": 0, "ratioBasis": "compressed", "rows": [{
				"image": 0, "compressed": null, "uncompressed": null, "matchedBy": "digest",
				"shared": {"compressed": {"bytes": 0, "provenance": "exact"}, "uncompressed": {"bytes": 0, "provenance": "exact"}},
				"unique": {"compressed": {"bytes": 0, "provenance": "exact"}, "uncompressed": {"bytes": 0, "provenance": "exact"}},
				"sharedLayers": 0, "addedLayers": ["aaaa"], "removedLayers": []}]}`)
		}},
	}
	for name := range schemaOnly {
		if !slices.ContainsFunc(tests, func(m mutation) bool { return m.name == name }) {
			t.Errorf("schemaOnly lists %q, which is no test case", name)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, checkDoc)
			tt.edit(t, doc)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.CheckReport(data); err == nil {
				t.Errorf("the schema accepts it:\n%s", data)
			} else {
				summary, _, _ := strings.Cut(err.Error(), "\ndetailed output:")
				t.Logf("schema: %s", summary)
			}
			_, err = schema.Decode(bytes.NewReader(data))
			why, only := schemaOnly[tt.name]
			switch {
			case only && err != nil:
				t.Errorf("listed as schema-only (%s), but Decode rejects it: %v", why, err)
			case !only && err == nil:
				t.Error("Decode accepts it; list it in schemaOnly if that is meant")
			case !only && !errors.Is(err, errdefs.ErrCorrupt) && !errors.Is(err, errdefs.ErrUnsupported):
				t.Errorf("Decode error = %v, want one wrapping ErrCorrupt or ErrUnsupported", err)
			case only:
				t.Logf("Decode accepts it: %s", why)
			default:
				t.Logf("Decode: %v", err)
			}
		})
	}
}

// What the schema cannot say: an index must name one of the images (JSON
// Schema cannot compare a number with an array's length). Decode checks
// these; the schema accepts them.
func TestDecodeOnly(t *testing.T) {
	tests := []mutation{
		{"image index past the images", func(t *testing.T, d map[string]any) {
			at(t, d, "check", "results", 0)["image"] = 3
		}},
		{"baseline index past the images", func(t *testing.T, d map[string]any) {
			at(t, d, "check", "results", 0)["baseline"] = 7
		}},
		{"comparison baseline past the images", func(t *testing.T, d map[string]any) {
			d["kind"] = schema.KindCompare
			delete(d, "check")
			d["comparison"] = map[string]any{"baseline": 3, "ratioBasis": "compressed", "rows": []any{}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, checkDoc)
			tt.edit(t, doc)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			testutil.ValidateReport(t, data)
			if _, err := schema.Decode(bytes.NewReader(data)); !errors.Is(err, errdefs.ErrCorrupt) {
				t.Errorf("Decode error = %v, want one wrapping ErrCorrupt", err)
			}
		})
	}
}

// Figures written by a newer imgsize within version 1 (new fields at any
// level) and the document's edge values still validate.
func TestJSONSchemaAccepts(t *testing.T) {
	tests := []mutation{
		{"unchanged", func(*testing.T, map[string]any) {}},
		{"new fields", func(t *testing.T, d map[string]any) {
			d["host"] = "ci-7"
			at(t, d, "images", 0)["labels"] = map[string]any{"a": "b"}
			at(t, d, "images", 0, "compressed")["confidence"] = 1
			at(t, d, "check")["durationMs"] = 1200
			at(t, d, "check", "results", 0, "budgets", 0)["note"] = "x"
		}},
		{"inspect", inspectOf},
		{"no images", func(t *testing.T, d map[string]any) {
			inspectOf(t, d)
			d["images"] = []any{}
		}},
		{"zero recorded time", func(t *testing.T, d map[string]any) {
			at(t, d, "images", 2, "recorded")["time"] = "0001-01-01T00:00:00Z"
		}},
		{"fractional seconds", func(t *testing.T, d map[string]any) { d["time"] = "2026-11-27T12:00:00.123456789Z" }},
		{"unread baseline", func(t *testing.T, d map[string]any) {
			r := at(t, d, "check", "results", 0)
			delete(r, "baseline")
			r["error"] = "reading baseline example.com/app:old: not found"
		}},
		{"huge size", func(t *testing.T, d map[string]any) {
			at(t, d, "images", 0, "compressed")["bytes"] = json.Number(strconv.FormatInt(1<<62, 10))
		}},
		{"exact zero", func(t *testing.T, d map[string]any) {
			at(t, d, "images", 0, "layers", 2, "compressed")["bytes"] = 0
		}},
		{"shrinking growth", func(t *testing.T, d map[string]any) {
			b := at(t, d, "check", "results", 0, "budgets", 3)
			b["actual"], b["margin"] = -12.5, 463
		}},
		{"layers limit as a float with no fraction", func(t *testing.T, d map[string]any) {
			at(t, d, "check", "results", 0, "budgets", 2)["limit"] = json.Number("2.0")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, checkDoc)
			tt.edit(t, doc)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			testutil.ValidateReport(t, data)
			if _, err := schema.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("Decode: %v", err)
			}
		})
	}
}
