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
	schemaID    = "https://imgsize.dev/schema/report/v2.json"
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
		{"kind", prop("", "kind")["enum"], schema.Kinds},
		{"matchedBy", prop("row", "matchedBy")["enum"], schema.MatchKinds},
		{"status", prop("budget", "status")["enum"], []string{schema.StatusPass, schema.StatusFail, schema.StatusUnknown}},
		{"budget", prop("budget", "budget")["enum"], schema.Budgets},
		{"unit", prop("budget", "unit")["enum"], schema.Units},
		{"why", prop("reclaim", "why")["enum"], []string{schema.ReclaimSuperseded, schema.ReclaimDeleted}},
		{"change", prop("diffEntry", "change")["enum"], []string{schema.ChangeAdded, schema.ChangeRemoved, schema.ChangeChanged}},
		{"type", prop("fileInfo", "type")["enum"], schema.FileTypes},
		{"fields", prop("diffEntry", "fields")["items"].(map[string]any)["enum"], schema.DiffFields},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, strs(tt.got)); diff != "" {
			t.Errorf("%s enum (-want +got):\n%s", tt.name, diff)
		}
	}
	// Every kind but inspect has its record, named as the kind is or as
	// the Go field says.
	for _, k := range schema.Kinds[1:] {
		name := k
		if k == schema.KindCompare {
			name = "comparison"
		}
		if _, ok := doc["properties"].(map[string]any)[name]; !ok {
			t.Errorf("kind %q: no property %q", k, name)
		}
	}
	var versions []float64
	for _, v := range schema.Versions {
		versions = append(versions, float64(v))
	}
	if got, _ := prop("", "schemaVersion")["enum"].([]any); !cmp.Equal(got, []any{versions[0], versions[1]}) || schema.Versions[len(schema.Versions)-1] != schema.Version {
		t.Errorf("schemaVersion enum = %v, want %v ending with %d", got, versions, schema.Version)
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
		{"unknown kind", func(t *testing.T, d map[string]any) { d["kind"] = "sizes" }},
		{"files kind with a check", func(t *testing.T, d map[string]any) { d["kind"] = schema.KindFiles }},
		{"schemaVersion 3", func(t *testing.T, d map[string]any) { d["schemaVersion"] = 3 }},
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

// filesDoc is a files report written by hand from the type comments. Its
// image has three layers (sizes are regular-file bytes):
//
//	0: dir bin, bin/sh 1,000 B. Added 2 entries, 1,000 B; tar 1,000 B.
//	1: dir tmp, tmp/cache 500 B; bin/sh again, 1,500 B.
//	   Added 2 entries, 500 B; changed 1, 1,500 B; tar 2,000 B.
//	2: a whiteout of tmp/cache: deleted 1 entry, 500 B; tar 0 B.
//
// The final filesystem is bin, bin/sh (1,500 B) and tmp: 3 entries,
// 1,500 B. Reclaimable: bin/sh's first copy (1,000 B, superseded by 1) and
// tmp/cache (500 B, deleted by 2): 1,500 B = 3,000 − 1,500 tar bytes.
//
// dive sees bin/sh in two layers (1,000 + 1,500 B) and tmp/cache in two
// (500 B, then a whiteout of a file, which dive sizes 0): 3,000 B seen,
// 1,000 B the smallest per path, efficiency 1/3. Wasted is every copy,
// 2,500 + 500 = 3,000 B: twice the 2,000 B above the first layer, so the
// user-wasted ratio is 1.5 — it is not bounded by 1.
const filesDoc = `{
  "schemaVersion": 1,
  "kind": "files",
  "generator": {"name": "imgsize", "version": "v1.5.0"},
  "time": "2026-11-27T12:00:00Z",
  "images": [
    {
      "ref": "oci:out:slim",
      "name": "example.com/app:slim",
      "transport": "oci",
      "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "configDigest": "sha256:1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "platform": "linux/amd64",
      "manifestBytes": 900,
      "configBytes": 1100,
      "compressed": {"bytes": 2100, "provenance": "exact"},
      "uncompressed": {"bytes": 9216, "provenance": "exact"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "diffID": "sha256:afafafafafafafafafafafafafafafafafafafafafafafafafafafafafafafaf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 900, "provenance": "exact"},
          "uncompressed": {"bytes": 3072, "provenance": "exact"},
          "createdBy": "ADD rootfs.tar / # buildkit"
        },
        {
          "index": 1,
          "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
          "diffID": "sha256:bfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 1000, "provenance": "exact"},
          "uncompressed": {"bytes": 4608, "provenance": "exact"},
          "createdBy": "RUN /bin/sh -c build.sh # buildkit"
        },
        {
          "index": 2,
          "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
          "diffID": "sha256:cfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 200, "provenance": "exact"},
          "uncompressed": {"bytes": 1536, "provenance": "exact"},
          "createdBy": "RUN /bin/sh -c rm /tmp/cache # buildkit"
        }
      ]
    }
  ],
  "files": {
    "image": 0,
    "filesystem": {"entries": 3, "bytes": 1500},
    "layers": [
      {
        "index": 0, "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "added": {"entries": 2, "bytes": 1000}, "changed": {"entries": 0, "bytes": 0}, "deleted": {"entries": 0, "bytes": 0},
        "tarBytes": 1000
      },
      {
        "index": 1, "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "added": {"entries": 2, "bytes": 500}, "changed": {"entries": 1, "bytes": 1500}, "deleted": {"entries": 0, "bytes": 0},
        "tarBytes": 2000
      },
      {
        "index": 2, "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        "added": {"entries": 0, "bytes": 0}, "changed": {"entries": 0, "bytes": 0}, "deleted": {"entries": 1, "bytes": 500},
        "tarBytes": 0
      }
    ],
    "largest": [{"path": "/bin/sh", "bytes": 1500, "layer": 1}],
    "dirs": [{"path": "/bin", "bytes": 1500, "files": 1}],
    "dive": {
      "efficiency": 0.3333333333333333,
      "wastedBytes": 3000,
      "sizeBytes": 3000,
      "userSizeBytes": 2000,
      "userWastedPercent": 1.5,
      "inefficiencies": [
        {"path": "/bin/sh", "count": 2, "bytes": 2500},
        {"path": "/tmp/cache", "count": 2, "bytes": 500}
      ]
    },
    "reclaimableBytes": 1500,
    "reclaimable": [
      {"path": "/bin/sh", "bytes": 1000, "layer": 0, "byLayer": 1, "why": "superseded"},
      {"path": "/tmp/cache", "bytes": 500, "layer": 1, "byLayer": 2, "why": "deleted"}
    ],
    "hints": [
      {
        "id": "deleted-in-later-layer",
        "title": "Files deleted by a later layer still ship in the layer that added them",
        "bytes": 500,
        "paths": ["/tmp/cache"],
        "layers": [1],
        "fix": "Delete /tmp/cache in the RUN that creates it."
      }
    ]
  }
}`

// diffDoc is a diff written by hand. A (image 0, one layer) holds bin,
// bin/sh (1,000 B, mode 0755), etc and etc/motd (200 B); B (image 1, two
// layers) holds bin, bin/sh (1,200 B, mode 0700, other content) and
// usr/bin/app (5,000 B) under new directories usr and usr/bin.
//
// Added: usr, usr/bin, usr/bin/app (3 entries, 5,000 B); removed: etc and
// etc/motd (2 entries, 200 B); changed: bin/sh (size, mode, content; B's
// 1,200 B). B − A = 6,200 − 1,200 = 5,000 B. The entries list usr once for
// its subtree (2 paths, 5,000 B) and etc once for its (1 path, 200 B).
//
// The roll-up, to depth 2, puts each path in its directory's row: usr and
// etc in "/" (no bytes directly there), usr/bin in /usr, usr/bin/app in
// /usr/bin, etc/motd in /etc, bin/sh in /bin. Deltas: 0 + 0 + 5,000 − 200
// + 200 = 5,000 B.
const diffDoc = `{
  "schemaVersion": 1,
  "kind": "diff",
  "generator": {"name": "imgsize", "version": "v1.5.0"},
  "time": "2026-11-27T12:00:00Z",
  "images": [
    {
      "ref": "example.com/app:v1",
      "name": "example.com/app:v1",
      "transport": "docker",
      "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "configDigest": "sha256:1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "manifestBytes": 500,
      "configBytes": 700,
      "compressed": {"bytes": 800, "provenance": "exact"},
      "uncompressed": {"bytes": 4096, "provenance": "exact"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "diffID": "sha256:afafafafafafafafafafafafafafafafafafafafafafafafafafafafafafafaf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 800, "provenance": "exact"},
          "uncompressed": {"bytes": 4096, "provenance": "exact"},
          "createdBy": "ADD rootfs.tar / # buildkit"
        }
      ]
    },
    {
      "ref": "example.com/app:v2",
      "name": "example.com/app:v2",
      "transport": "docker",
      "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
      "configDigest": "sha256:2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c",
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "manifestBytes": 700,
      "configBytes": 900,
      "compressed": {"bytes": 3000, "provenance": "exact"},
      "uncompressed": {"bytes": 10240, "provenance": "exact"},
      "layers": [
        {
          "index": 0,
          "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
          "diffID": "sha256:bfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 900, "provenance": "exact"},
          "uncompressed": {"bytes": 4096, "provenance": "exact"},
          "createdBy": "ADD rootfs.tar / # buildkit"
        },
        {
          "index": 1,
          "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
          "diffID": "sha256:cfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcf",
          "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "compressed": {"bytes": 2100, "provenance": "exact"},
          "uncompressed": {"bytes": 6144, "provenance": "exact"},
          "createdBy": "COPY app /usr/bin/app # buildkit"
        }
      ]
    }
  ],
  "diff": {
    "imageA": 0,
    "imageB": 1,
    "content": true,
    "filesystemA": {"entries": 4, "bytes": 1200},
    "filesystemB": {"entries": 5, "bytes": 6200},
    "added": {"entries": 3, "bytes": 5000},
    "removed": {"entries": 2, "bytes": 200},
    "changed": {"entries": 1, "bytes": 1200},
    "dirs": [
      {"path": "/usr/bin", "bytesA": 0, "bytesB": 5000, "deltaBytes": 5000, "added": 1, "removed": 0, "changed": 0},
      {"path": "/bin", "bytesA": 1000, "bytesB": 1200, "deltaBytes": 200, "added": 0, "removed": 0, "changed": 1},
      {"path": "/etc", "bytesA": 200, "bytesB": 0, "deltaBytes": -200, "added": 0, "removed": 1, "changed": 0},
      {"path": "/", "bytesA": 0, "bytesB": 0, "deltaBytes": 0, "added": 1, "removed": 1, "changed": 0},
      {"path": "/usr", "bytesA": 0, "bytesB": 0, "deltaBytes": 0, "added": 1, "removed": 0, "changed": 0}
    ],
    "entries": [
      {
        "path": "/usr", "change": "added", "a": null,
        "b": {"type": "dir", "bytes": 0, "mode": 493, "layer": 1},
        "deltaBytes": 5000, "fields": [], "subtree": {"entries": 2, "bytes": 5000}
      },
      {
        "path": "/bin/sh", "change": "changed",
        "a": {"type": "file", "bytes": 1000, "mode": 493, "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333", "layer": 0},
        "b": {"type": "file", "bytes": 1200, "mode": 448, "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444", "layer": 0},
        "deltaBytes": 200, "fields": ["size", "mode", "content"]
      },
      {
        "path": "/etc", "change": "removed",
        "a": {"type": "dir", "bytes": 0, "mode": 493, "layer": 0},
        "b": null,
        "deltaBytes": -200, "fields": [], "subtree": {"entries": 1, "bytes": 200}
      }
    ]
  }
}`

func TestFilesDocument(t *testing.T) {
	testutil.ValidateReport(t, []byte(filesDoc))
	doc, err := schema.Decode(strings.NewReader(filesDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if doc.Kind != schema.KindFiles || doc.Files == nil || doc.Diff != nil || doc.Check != nil || doc.Comparison != nil {
		t.Fatalf("kind %q, files %v, diff %v", doc.Kind, doc.Files, doc.Diff)
	}
	f := doc.Files
	if f.Filesystem != (schema.CountRecord{Entries: 3, Bytes: 1500}) {
		t.Errorf("filesystem = %+v", f.Filesystem)
	}
	var sum int64
	for _, r := range f.Reclaimable {
		sum += r.Bytes
	}
	var tar int64
	for _, l := range f.Layers {
		tar += l.TarBytes
	}
	// What the layers hold = what the final filesystem shows + what a
	// better build would not ship.
	if sum != f.ReclaimableBytes || tar != f.Filesystem.Bytes+f.ReclaimableBytes || tar != f.Dive.SizeBytes {
		t.Errorf("reclaimable %d (items %d), tar %d, filesystem %d, dive size %d", f.ReclaimableBytes, sum, tar, f.Filesystem.Bytes, f.Dive.SizeBytes)
	}
	var wasted int64
	for _, in := range f.Dive.Inefficiencies {
		wasted += in.Bytes
	}
	if wasted != f.Dive.WastedBytes || f.Dive.UserWastedPercent == nil || *f.Dive.UserWastedPercent != float64(wasted)/float64(f.Dive.UserSizeBytes) {
		t.Errorf("dive = %+v", f.Dive)
	}
	if h := f.Hints[0]; h.ID != "deleted-in-later-layer" || h.Bytes != 500 || !slices.Equal(h.Layers, []int{1}) {
		t.Errorf("hint = %+v", h)
	}
}

func TestDiffDocument(t *testing.T) {
	testutil.ValidateReport(t, []byte(diffDoc))
	doc, err := schema.Decode(strings.NewReader(diffDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if doc.Kind != schema.KindDiff || doc.Diff == nil || doc.Files != nil {
		t.Fatalf("kind %q, diff %v, files %v", doc.Kind, doc.Diff, doc.Files)
	}
	d := doc.Diff
	if got := d.FilesystemB.Bytes - d.FilesystemA.Bytes; got != 5000 {
		t.Errorf("B − A = %d, want 5000", got)
	}
	// The rows do not overlap: their deltas add up to B − A.
	var rows int64
	for _, r := range d.Dirs {
		rows += r.DeltaBytes
	}
	if rows != 5000 {
		t.Errorf("rows add up to %d, want 5000", rows)
	}
	// The entries stand for every difference, subtrees included.
	n := 0
	for _, e := range d.Entries {
		n++
		if e.Subtree != nil {
			n += e.Subtree.Entries
		}
	}
	if n != d.Added.Entries+d.Removed.Entries+d.Changed.Entries {
		t.Errorf("entries stand for %d paths, want %d", n, d.Added.Entries+d.Removed.Entries+d.Changed.Entries)
	}
	e := d.Entries[1]
	if e.Change != schema.ChangeChanged || e.A.Mode != 0o755 || e.B.Mode != 0o700 || !slices.Equal(e.Fields, []string{"size", "mode", "content"}) || e.Subtree != nil {
		t.Errorf("changed entry = %+v", e)
	}
	if e := d.Entries[2]; e.B != nil || e.A == nil || e.DeltaBytes != -200 || e.Subtree == nil || *e.Subtree != (schema.CountRecord{Entries: 1, Bytes: 200}) {
		t.Errorf("removed entry = %+v", e)
	}
	if d.ImageA != 0 || d.ImageB != 1 || doc.Images[d.ImageB].Layers[d.Entries[0].B.Layer].CreatedBy != "COPY app /usr/bin/app # buildkit" {
		t.Errorf("images or layers wrong: %+v", d)
	}
}

// docMutation is a named edit of one of the hand-written documents.
type docMutation struct {
	name string
	base string
	edit func(t *testing.T, doc map[string]any)
}

// fileLevelSchemaOnly lists the mutations of TestJSONSchemaRejectsFileLevel
// that only the schema rejects, and why Decode accepts them.
var fileLevelSchemaOnly = map[string]string{
	"efficiency above 1":                  "Decode does not check ranges",
	"userWastedPercent with no user size": "Decode does not relate dive's figures",
	"null userWastedPercent":              "Decode does not relate dive's figures",
	"negative file bytes":                 "Decode does not check signs of byte counts outside sizes",
	"relative path":                       "Decode does not check path syntax",
	"hint id with spaces":                 "Decode does not check hint ids",
	"inefficiency in one layer":           "Decode does not check counts",
	"changed without fields":              "Decode does not relate fields and change",
	"added with fields":                   "Decode does not relate fields and change",
	"directory with bytes":                "Decode does not relate bytes and type",
	"symlink with bytes":                  "Decode does not relate bytes and type",
	"hard link with a digest":             "Decode does not relate digests and type",
	"mode above 07777":                    "Decode does not check ranges",
	"missing content":                     "Decode reads an absent boolean as false",
	"repeated field":                      "Decode does not check uniqueness",
	"added directory without subtree":     "Decode does not relate subtree and change",
	"subtree on a changed file":           "Decode does not relate subtree and change",
	"lowest-efficiency with a basis":      "Decode does not relate budget and basis",
	"lowest-efficiency above 1":           "Decode does not check ranges",
}

func TestJSONSchemaRejectsFileLevel(t *testing.T) {
	budget := func(d map[string]any) map[string]any {
		return d["check"].(map[string]any)["results"].([]any)[0].(map[string]any)["budgets"].([]any)[0].(map[string]any)
	}
	efficiency := func(t *testing.T, d map[string]any) {
		b := budget(d)
		for k, v := range map[string]any{"budget": "lowest-efficiency", "unit": "ratio", "min": true, "limit": 0.9, "actual": 0.95, "margin": 0.05} {
			b[k] = v
		}
		delete(b, "basis")
	}
	tests := []docMutation{
		{"files kind without files", filesDoc, func(t *testing.T, d map[string]any) { delete(d, "files") }},
		{"files kind with a diff", filesDoc, func(t *testing.T, d map[string]any) { d["diff"] = parse(t, diffDoc)["diff"] }},
		{"diff kind with files", diffDoc, func(t *testing.T, d map[string]any) { d["files"] = parse(t, filesDoc)["files"] }},
		{"inspect with files", filesDoc, func(t *testing.T, d map[string]any) { d["kind"] = schema.KindInspect }},
		{"files without images", filesDoc, func(t *testing.T, d map[string]any) { d["images"] = []any{} }},
		{"efficiency above 1", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "dive")["efficiency"] = 1.2 }},
		{"userWastedPercent with no user size", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "dive")["userSizeBytes"] = 0 }},
		{"null userWastedPercent", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "dive")["userWastedPercent"] = nil }},
		{"negative file bytes", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "largest", 0)["bytes"] = -1 }},
		{"relative path", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "dirs", 0)["path"] = "bin" }},
		{"unknown why", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "reclaimable", 0)["why"] = "moved" }},
		{"reclaim bytes as a float", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "reclaimable", 0)["bytes"] = 1.5 }},
		{"hint id with spaces", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "hints", 0)["id"] = "Deleted later" }},
		{"inefficiency in one layer", filesDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "files", "dive", "inefficiencies", 0)["count"] = 1
		}},
		{"diff without imageB", diffDoc, func(t *testing.T, d map[string]any) { delete(at(t, d, "diff"), "imageB") }},
		{"unknown change", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 0)["change"] = "moved" }},
		{"added with a", diffDoc, func(t *testing.T, d map[string]any) {
			e := at(t, d, "diff", "entries", 0)
			e["a"] = e["b"]
		}},
		{"unknown type", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1, "b")["type"] = "socket" }},
		{"removed without a", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 2)["a"] = nil }},
		{"added directory without subtree", diffDoc, func(t *testing.T, d map[string]any) { delete(at(t, d, "diff", "entries", 0), "subtree") }},
		{"subtree on a changed file", diffDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "diff", "entries", 1)["subtree"] = map[string]any{"entries": 0, "bytes": 0}
		}},
		{"changed without fields", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1)["fields"] = []any{} }},
		{"added with fields", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 0)["fields"] = []any{"size"} }},
		{"unknown field", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1)["fields"] = []any{"owner"} }},
		{"repeated field", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1)["fields"] = []any{"size", "size"} }},
		{"symlink with bytes", diffDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "diff", "entries", 1)["a"] = map[string]any{"type": "symlink", "bytes": 7, "mode": 511, "linkname": "x", "layer": 0}
		}},
		{"hard link with a digest", diffDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "diff", "entries", 1)["a"] = map[string]any{"type": "hardlink", "bytes": 1, "mode": 420, "linkname": "x", "layer": 0,
				"digest": "sha256:" + strings.Repeat("a", 64)}
		}},
		{"directory with bytes", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 2, "a")["bytes"] = 4096 }},
		{"mode above 07777", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1, "b")["mode"] = 0o10000 }},
		{"missing content", diffDoc, func(t *testing.T, d map[string]any) { delete(at(t, d, "diff"), "content") }},
		// The file-level budgets of check.
		{"lowest-efficiency without min", checkDoc, func(t *testing.T, d map[string]any) {
			efficiency(t, d)
			delete(budget(d), "min")
		}},
		{"min on max-compressed", checkDoc, func(t *testing.T, d map[string]any) { budget(d)["min"] = true }},
		{"lowest-efficiency with a basis", checkDoc, func(t *testing.T, d map[string]any) {
			efficiency(t, d)
			budget(d)["basis"] = "compressed"
		}},
		{"lowest-efficiency above 1", checkDoc, func(t *testing.T, d map[string]any) {
			efficiency(t, d)
			budget(d)["limit"] = 90
		}},
		{"unit ratio unknown to budgets", checkDoc, func(t *testing.T, d map[string]any) { budget(d)["unit"] = "fraction" }},
	}
	for name := range fileLevelSchemaOnly {
		if !slices.ContainsFunc(tests, func(m docMutation) bool { return m.name == name }) {
			t.Errorf("fileLevelSchemaOnly lists %q, which is no test case", name)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, tt.base)
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
			why, only := fileLevelSchemaOnly[tt.name]
			switch {
			case only && err != nil:
				t.Errorf("listed as schema-only (%s), but Decode rejects it: %v", why, err)
			case !only && err == nil:
				t.Error("Decode accepts it; list it in fileLevelSchemaOnly if that is meant")
			case !only && !errors.Is(err, errdefs.ErrCorrupt):
				t.Errorf("Decode error = %v, want one wrapping ErrCorrupt", err)
			}
		})
	}
}

// Indices into the images and their layers, which JSON Schema cannot
// compare with an array's length: Decode checks them.
func TestDecodeOnlyFileLevel(t *testing.T) {
	tests := []docMutation{
		{"files image past the images", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files")["image"] = 1 }},
		{"layer record past the layers", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "layers", 2)["index"] = 3 }},
		{"largest file's layer past the layers", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "largest", 0)["layer"] = 5 }},
		{"reclaimed by a layer past the layers", filesDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "files", "reclaimable", 1)["byLayer"] = 3
		}},
		{"hint layer past the layers", filesDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "files", "hints", 0)["layers"] = []any{1, 9}
		}},
		{"imageB past the images", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff")["imageB"] = 2 }},
		// A's only layer is 0; B has two.
		{"entry layer past A's layers", diffDoc, func(t *testing.T, d map[string]any) { at(t, d, "diff", "entries", 1, "a")["layer"] = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, tt.base)
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

// Valid variations: what a newer imgsize may add, the edge values, and the
// file-level budgets in a check.
func TestJSONSchemaAcceptsFileLevel(t *testing.T) {
	tests := []docMutation{
		{"files unchanged", filesDoc, func(*testing.T, map[string]any) {}},
		{"diff unchanged", diffDoc, func(*testing.T, map[string]any) {}},
		{"new fields", filesDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "files")["depth"] = 3
			at(t, d, "files", "dive")["note"] = "x"
			at(t, d, "files", "hints", 0)["severity"] = "high"
		}},
		{"new hint id", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "hints", 0)["id"] = "pip-cache" }},
		{"one layer, nothing above it", filesDoc, func(t *testing.T, d map[string]any) {
			dv := at(t, d, "files", "dive")
			dv["userSizeBytes"], dv["userWastedPercent"] = 0, nil
		}},
		{"nothing listed", filesDoc, func(t *testing.T, d map[string]any) {
			f := at(t, d, "files")
			for _, k := range []string{"largest", "dirs", "reclaimable", "hints"} {
				f[k] = []any{}
			}
		}},
		{"root path", filesDoc, func(t *testing.T, d map[string]any) { at(t, d, "files", "dirs", 0)["path"] = "/" }},
		{"contents not compared", diffDoc, func(t *testing.T, d map[string]any) {
			at(t, d, "diff")["content"] = false
			at(t, d, "diff", "entries", 1)["fields"] = []any{"size", "mode"}
			for _, e := range []int{0, 1, 2} {
				for _, side := range []string{"a", "b"} {
					if fi, ok := at(t, d, "diff", "entries", e)[side].(map[string]any); ok {
						delete(fi, "digest")
					}
				}
			}
		}},
		// A hard link whose target a later layer overwrote keeps the old
		// content: the link then holds its bytes (analysis' finish).
		{"hard link keeping its content", diffDoc, func(t *testing.T, d map[string]any) {
			e := at(t, d, "diff", "entries", 1)
			e["a"] = map[string]any{"type": "hardlink", "bytes": 100, "mode": 420, "linkname": "etc/a", "layer": 0}
		}},
		{"symlink changed", diffDoc, func(t *testing.T, d map[string]any) {
			e := at(t, d, "diff", "entries", 1)
			e["a"] = map[string]any{"type": "symlink", "bytes": 0, "mode": 511, "linkname": "busybox", "layer": 0}
			e["b"] = map[string]any{"type": "symlink", "bytes": 0, "mode": 511, "linkname": "dash", "layer": 0}
			e["deltaBytes"], e["fields"] = 0, []any{"link"}
		}},
		{"file-level budgets", checkDoc, func(t *testing.T, d map[string]any) {
			r := at(t, d, "check", "results", 2)
			r["budgets"] = append(r["budgets"].([]any),
				map[string]any{
					"budget": "lowest-efficiency", "unit": "ratio", "min": true,
					"limit": 0.9, "actual": 0.95, "margin": 0.05,
					"status": "pass", "near": false, "provenance": "exact",
				},
				map[string]any{
					"budget": "highest-wasted-bytes", "unit": "bytes",
					"limit": 20000000, "actual": 12000000, "margin": 8000000,
					"status": "pass", "near": false, "provenance": "exact",
				},
				map[string]any{
					"budget": "highest-user-wasted-percent", "unit": "ratio",
					"limit": 0.1, "actual": nil, "margin": nil,
					"status": "unknown", "near": false, "provenance": "unknown",
					"reason": "the image has no bytes above its first layer; wasted bytes relative to them are undefined",
				},
				map[string]any{
					"budget": "max-reclaimable", "unit": "bytes",
					"limit": 1000, "actual": 900, "margin": 100,
					"status": "pass", "near": true, "provenance": "exact",
				},
			)
			// The unknown one fails the image and the gate.
			r["passed"] = false
			c := at(t, d, "check")
			c["budgets"], c["failed"], c["near"] = 9, 3, 2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, tt.base)
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
