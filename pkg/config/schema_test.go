package config

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("imgsize.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("imgsize.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// yamlToJSON reads a YAML file as the generic value a schema validates.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The schema names exactly the keys the parser reads, at each level, so
// that an editor completes every key and flags none that works.
func TestJSONSchema(t *testing.T) {
	var s struct {
		Properties map[string]struct {
			Properties map[string]any
			Items      struct {
				Properties map[string]any
			}
		}
	}
	if err := json.Unmarshal(JSONSchema, &s); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		sort.Strings(k)
		return k
	}
	sorted := func(k []string) []string { k = slices.Clone(k); sort.Strings(k); return k }
	var top []string
	for k := range s.Properties {
		top = append(top, k)
	}
	sort.Strings(top)
	if !slices.Equal(top, sorted(fileKeys)) {
		t.Errorf("top-level keys %v, parser reads %v", top, fileKeys)
	}
	if got := keys(s.Properties["defaults"].Properties); !slices.Equal(got, sorted(settingKeys)) {
		t.Errorf("defaults keys %v, parser reads %v", got, sorted(settingKeys))
	}
	if got := keys(s.Properties["patterns"].Items.Properties); !slices.Equal(got, sorted(patternKeys)) {
		t.Errorf("patterns entry keys %v, parser reads %v", got, sorted(patternKeys))
	}
	if got := keys(s.Properties["images"].Items.Properties); !slices.Equal(got, sorted(entryKeys)) {
		t.Errorf("images entry keys %v, parser reads %v", got, sorted(entryKeys))
	}

	sch := compileSchema(t)
	// Every config file in the repository validates, and parses.
	for _, p := range []string{"../../examples/ci/imgsize.yaml", "../../imgsize.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlToJSON(t, data)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// A misspelt key and a missing image fail it, as the parser refuses them.
	for _, bad := range []string{"defaults:\n  max-size: 5MB\n", "images:\n  - max-layers: 3\n", "version: 2\n"} {
		if err := sch.Validate(yamlToJSON(t, []byte(bad))); err == nil {
			t.Errorf("schema accepts %q", bad)
		}
		if _, err := Parse("imgsize.yaml", []byte(bad)); err == nil {
			t.Errorf("parser accepts %q", bad)
		}
	}
}
