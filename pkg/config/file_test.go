package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// full uses every key. Its lines, for the expectations below: 12, 15 and
// 17 start the three images entries.
const full = `# imgsize.yaml — budgets for imgsize check
version: 1
defaults:
  max-compressed: 50MB
  max-uncompressed: 200MiB
  max-layers: 20
  max-growth: 5%
  growth-basis: compressed
  warn-at: 90%
  baseline: baseline.json
images:
  - image: oci:examples/out:multistage
    baseline: report.json
    max-compressed: 5MB
  - image: docker://localhost:5000/app:latest
    max-growth: none   # "none" clears an inherited value
  - image: "report:old.json"
    max-uncompressed: 1073741824
    max-layers: 0
    max-growth: "+10MiB"
    growth-basis: Uncompressed
    warn-at: off
    baseline: none
`

func fullFile(path string) *File {
	return &File{
		Path: path,
		Defaults: Settings{
			MaxCompressed:   ptr(int64(50 * 1000 * 1000)),
			MaxUncompressed: ptr(int64(200 * 1024 * 1024)),
			MaxLayers:       ptr(20),
			MaxGrowth:       &analysis.Growth{Percent: true, Percentage: 5},
			GrowthBasis:     ptr(analysis.BasisCompressed),
			WarnAt:          ptr(0.9),
			Baseline:        ptr("baseline.json"),
		},
		Images: []Entry{
			{
				Image: "oci:examples/out:multistage",
				Settings: Settings{
					Baseline:      ptr("report.json"),
					MaxCompressed: ptr(int64(5 * 1000 * 1000)),
				},
				Line: 12,
			},
			{
				Image:    "docker://localhost:5000/app:latest",
				Settings: Settings{Cleared: map[string]bool{"max-growth": true}},
				Line:     15,
			},
			{
				Image: "report:old.json",
				Settings: Settings{
					MaxUncompressed: ptr(int64(1024 * 1024 * 1024)),
					MaxLayers:       ptr(0),
					MaxGrowth:       &analysis.Growth{Bytes: 10 * 1024 * 1024},
					GrowthBasis:     ptr(analysis.BasisUncompressed),
					WarnAt:          ptr(0.0),
					Cleared:         map[string]bool{"baseline": true},
				},
				Line: 17,
			},
		},
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name string
		data string
		want *File
	}{
		{"full", full, fullFile("imgsize.yaml")},
		// Windows line ends must not shift the lines errors name.
		{"CRLF", strings.ReplaceAll(full, "\n", "\r\n"), fullFile("imgsize.yaml")},
		{"empty", "", &File{Path: "imgsize.yaml"}},
		{"comments only", "# nothing yet\n", &File{Path: "imgsize.yaml"}},
		{"document marker only", "---\n", &File{Path: "imgsize.yaml"}},
		{"null document", "~\n", &File{Path: "imgsize.yaml"}},
		{"version only", "version: 1\n", &File{Path: "imgsize.yaml"}},
		{"empty sections", "defaults:\nimages:\n", &File{Path: "imgsize.yaml"}},
		{"empty collections", "defaults: {}\nimages: []\n", &File{Path: "imgsize.yaml"}},
		{
			name: "flow style and quoted values",
			data: "images: [{image: a, max-compressed: '50 MB', max-layers: \"3\", warn-at: 0.5}]\n",
			want: &File{Path: "imgsize.yaml", Images: []Entry{{
				Image:    "a",
				Settings: Settings{MaxCompressed: ptr(int64(50 * 1000 * 1000)), MaxLayers: ptr(3), WarnAt: ptr(0.5)},
				Line:     1,
			}}},
		},
		{
			name: "none clears every key but warn-at",
			data: "defaults:\n  max-compressed: none\n  max-uncompressed: None\n  max-layers: NONE\n  max-growth: none\n  growth-basis: none\n  baseline: \"none\"\n  warn-at: none\n",
			want: &File{Path: "imgsize.yaml", Defaults: Settings{
				WarnAt: ptr(0.0),
				Cleared: map[string]bool{
					"max-compressed": true, "max-uncompressed": true, "max-layers": true,
					"max-growth": true, "growth-basis": true, "baseline": true,
				},
			}},
		},
		{
			name: "an anchor nobody refers to is harmless",
			data: "defaults: &d\n  max-layers: 3\n",
			want: &File{Path: "imgsize.yaml", Defaults: Settings{MaxLayers: ptr(3)}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("imgsize.yaml", []byte(tt.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		// line is where the fault is, counted in data by hand.
		line   string
		phrase string
	}{
		// The YAML library's own errors, their lines put right.
		{"key out-dented", "defaults:\n  max-compressed: 50MB\n max-layers: 3\n", "3", "invalid YAML: did not find expected key"},
		{"key over-indented", "defaults:\n  max-compressed: 50MB\n    max-layers: 3\n", "3", "invalid YAML: mapping values are not allowed"},
		{"entry key out-dented", "images:\n  - image: a\n    max-layers: 3\n  image: b\n", "4", "invalid YAML: did not find expected '-' indicator"},
		{"missing colon", "defaults:\n  max-compressed: 50MB\n  max-layers 3\nimages: []\n", "3", "invalid YAML: could not find expected ':'"},
		{"unclosed quote", "version: 1\ndefaults:\n  baseline: \"x\n", "3", "invalid YAML: found unexpected end of stream"},
		{"unclosed bracket", "version: 1\ndefaults:\n  max-growth: [5%\nimages: []\n", "3", "invalid YAML: did not find expected ',' or ']'"},
		{"tab indent", "defaults:\n  max-layers: 1\n\tbaseline: b\n", "3", "invalid YAML: found a tab character"},
		{"first line", "key: value: x\n", "1", "invalid YAML: mapping values are not allowed"},
		{"at end of file", "version: 1\ndefaults:\n  max-layers: [\n", "3", "invalid YAML: did not find expected node content"},
		{"error in a second document", "version: 1\n---\ndefaults: [\n", "3", "invalid YAML"},
		// What the library leaves without a line.
		{"unknown anchor", "version: 1\ndefaults:\n  baseline: *nope\n", "3", "the alias *nope is not supported: write the value out in full"},
		{"unknown anchor after a longer name", "defaults:\n  # see *nopey\n  baseline: *nope\n", "3", "the alias *nope is not supported"},
		{"control character", "version: 1\ndefaults:\n  baseline: \"a\x00b\"\n", "3", "the control character U+0000 is not allowed"},
		{"control character after CRLF", "version: 1\r\ndefaults:\r\n  baseline: \"a\x07b\"\r\n", "3", "U+0007"},
		{"invalid UTF-8", "version: 1\n# caf\xe9\n", "2", "invalid UTF-8"},
		{"UTF-16", "\xff\xfev\x00:\x00 \x001\x00", "1", "the file is UTF-16; save it as UTF-8"},
		// The file's shape.
		{"alias", "defaults: &d\n  max-layers: 1\nimages:\n  - image: a\n    <<: *d\n", "5", "the alias *d is not supported"},
		{"alias value", "defaults:\n  baseline: &b x.json\nimages:\n  - image: a\n    baseline: *b\n", "5", "the alias *b is not supported"},
		{"alias as a key", "defaults:\n  max-layers: &k 1\nimages:\n  - image: a\n    *k : 2\n", "5", "the alias *k is not supported"},
		{"merge key", "defaults:\n  <<: {max-layers: 1}\n", "2", "merge keys (<<) are not supported in defaults"},
		{"second document", "version: 1\n---\ndefaults: {}\n", "2", "a second YAML document starts here"},
		{"list at top", "# budgets\n- image: a\n", "2", "expected a mapping of version, defaults, patterns, images, found a list"},
		{"scalar at top", "hello\n", "1", `expected a mapping of version, defaults, patterns, images, found "hello"`},
		{"version 2", "# budgets\nversion: 2\n", "2", `version: "2" is not supported (this imgsize reads version 1)`},
		{"version empty", "version:\ndefaults: {}\n", "1", "version: no value (write version: 1, or leave it out)"},
		{"version list", "version: [1]\n", "1", "version: a list is not supported"},
		{"unknown top key", "version: 1\nbudgets:\n  max-layers: 1\n", "2", `unknown key "budgets" (known keys: version, defaults, patterns, images)`},
		{"unknown key in defaults", "version: 1\ndefaults:\n  max-size: 5MB\n", "3", `unknown key "max-size" in defaults (known keys: max-compressed, max-uncompressed, max-layers, max-growth, lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent, max-reclaimable, max-index-compressed, forbid-package, max-package-bytes, growth-basis, warn-at, baseline, platforms)`},
		{"unknown key in an entry", "images:\n  - image: a\n    max-sise: 1MB\n", "3", `unknown key "max-sise" in an images entry (known keys: image, max-compressed,`},
		{"key is not a string", "defaults:\n  ? [a]\n  : 1\n", "2", "expected a key in defaults, found a list"},
		{"image in defaults", "defaults:\n  max-layers: 1\n  image: a\n", "3", "image in defaults"},
		{"key twice at top", "version: 1\nversion: 1\n", "2", "version is given twice, on lines 1 and 2"},
		{"key twice in defaults", "defaults:\n  max-layers: 1\n  max-layers: 2\n", "3", "max-layers is given twice in defaults, on lines 2 and 3"},
		{"key twice in an entry", "images:\n  - image: a\n    image: b\n", "3", "image is given twice in an images entry, on lines 2 and 3"},
		{"defaults a list", "defaults:\n  - max-layers: 1\n", "2", "defaults: expected a mapping of budgets"},
		{"only key without colon", "version: 1\ndefaults:\n  max-layers 3\n", "3", `defaults: expected a mapping of budgets (max-compressed, max-uncompressed, max-layers, max-growth, lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent, max-reclaimable, max-index-compressed, forbid-package, max-package-bytes, growth-basis, warn-at, baseline, platforms), found "max-layers 3"`},
		{"defaults a scalar", "defaults: 50MB\n", "1", `defaults: expected a mapping of budgets (max-compressed, max-uncompressed, max-layers, max-growth, lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent, max-reclaimable, max-index-compressed, forbid-package, max-package-bytes, growth-basis, warn-at, baseline, platforms), found "50MB"`},
		{"images a mapping", "images:\n  a: {}\n", "2", "images: expected a list of images, each a mapping with image and its budgets, found a mapping"},
		{"entry a scalar", "images:\n  - image: a\n  - b\n", "3", `images: expected a mapping with image and its budgets, found "b"`},
		{"entry without image", "images:\n  - image: a\n  - max-layers: 1\n", "3", "images entry without image"},
		{"empty image", "images:\n  - max-layers: 1\n    image: \"\"\n", "3", `image: expected an image such as docker://registry/app:tag, found ""`},
		{"null image", "images:\n  - image:\n", "2", "image: expected an image such as docker://registry/app:tag, found nothing"},
		{"image a number", "images:\n  - image: 5000\n", "2", `found "5000"`},
		{"image a list", "images:\n  - image:\n      - a\n", "3", "found a list"},
		{"image twice", "images:\n  - image: a\n  - image: b\n  - image: a\n", "4", `image "a" is listed twice, on lines 2 and 4`},
		// Values.
		{"size a mapping", "defaults:\n  max-compressed:\n    mb: 50\n", "3", "max-compressed: expected a size such as 50MB, found a mapping"},
		{"size missing", "defaults:\n  max-compressed:\n  max-layers: 1\n", "2", "max-compressed: no value (write a size such as 50MB, or none)"},
		{"size unknown unit", "defaults:\n  max-uncompressed: 50MBs\n", "2", `max-uncompressed: "50MBs" is not a size (write a number of bytes`},
		{"size ambiguous unit", "defaults:\n  max-compressed: 50M\n", "2", `max-compressed: "50M" is not a size: say MB (powers of 1000) or MiB (powers of 1024)`},
		{"size negative", "defaults:\n  max-compressed: -1\n", "2", `max-compressed: "-1" is not a size: a size cannot be negative`},
		{"size octal-looking", "defaults:\n  max-compressed: 0x10\n", "2", `"0x10" is not a size`},
		{"size overflow", "defaults:\n  max-compressed: 9223372036854775808\n", "2", "too large"},
		{"size a YAML float", "defaults:\n  max-compressed: 5e7\n", "2", `"5e7" is not a size`},
		{"size a boolean", "defaults:\n  max-compressed: true\n", "2", `"true" is not a size`},
		{"layers negative", "images:\n  - image: a\n    max-layers: -1\n", "3", `max-layers: "-1" is not a number of layers: it cannot be negative`},
		{"layers a fraction", "images:\n  - image: a\n    max-layers: 1.5\n", "3", `max-layers: "1.5" is not a number of layers (write a whole number such as 20)`},
		{"layers a list", "defaults:\n  max-layers: [1]\n", "2", "max-layers: expected a number of layers such as 20, found a list"},
		{"growth in words", "version: 1\ndefaults:\n  max-compressed: 50MB\n  baseline: b.json\nimages:\n  - image: a\n    max-growth: 5 percent\n", "7", `max-growth: "5 percent" is not a growth limit (write 5% or a size such as 10MB)`},
		{"growth negative", "defaults:\n  max-growth: -5%\n", "2", "cannot be negative"},
		{"basis unknown", "defaults:\n  growth-basis: gzip\n", "2", `growth-basis: "gzip" is not a growth basis (write compressed or uncompressed)`},
		{"warn-at a percentage without %", "defaults:\n  warn-at: 95\n", "2", `warn-at: "95" is not a fraction of a limit: it must be at most 1 (for a percentage write 95%)`},
		{"warn-at missing", "defaults:\n  warn-at:\n", "2", "warn-at: no value (write a fraction of the limit such as 90% or 0.9, or off)"},
		{"warn-at over 100%", "defaults:\n  warn-at: 150%\n", "2", "must be at most 100%"},
		{"baseline empty", "defaults:\n  baseline: ''\n", "2", `baseline: expected the image or report to measure growth against, such as baseline.json, found ""`},
		{"baseline a number", "defaults:\n  baseline: 7\n", "2", `found "7"`},
		{"baseline a mapping", "defaults:\n  baseline: {path: b.json}\n", "2", "found a mapping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("imgsize.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", f)
			}
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("error %q does not wrap errdefs.ErrUsage", err)
			}
			prefix := "imgsize.yaml:" + tt.line + ": "
			msg := err.Error()
			if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.phrase) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting %q and saying %q", msg, prefix, tt.phrase)
			}
		})
	}
}

// TestParseErrorExact pins one message whole, as the CLI will print it.
func TestParseErrorExact(t *testing.T) {
	data := "version: 1\ndefaults:\n  max-compressed: 50MB\n  baseline: b.json\nimages:\n  - image: a\n    max-growth: 5 percent\n"
	_, err := Parse("imgsize.yaml", []byte(data))
	got := ""
	if err != nil {
		got = err.Error()
	}
	want := `imgsize.yaml:7: max-growth: "5 percent" is not a growth limit (write 5% or a size such as 10MB)`
	if got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLookupAndSettings(t *testing.T) {
	f, err := Parse("imgsize.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := f.Lookup("oci:examples/out"); ok {
		t.Errorf("Lookup of a prefix found %q: images must match exactly", e.Image)
	}
	e, ok := f.Lookup("docker://localhost:5000/app:latest")
	if !ok {
		t.Fatal("Lookup did not find docker://localhost:5000/app:latest")
	}
	got := f.Settings(e)
	want := Settings{
		MaxCompressed:   ptr(int64(50 * 1000 * 1000)),
		MaxUncompressed: ptr(int64(200 * 1024 * 1024)),
		MaxLayers:       ptr(20),
		GrowthBasis:     ptr(analysis.BasisCompressed),
		WarnAt:          ptr(0.9),
		Baseline:        ptr("baseline.json"),
		Cleared:         map[string]bool{"max-growth": true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settings mismatch (-want +got):\n%s", diff)
	}

	// Flags over the file: --max-growth 1MB --baseline none.
	flags := Settings{MaxGrowth: &analysis.Growth{Bytes: 1000 * 1000}, Cleared: map[string]bool{"baseline": true}}
	e, _ = f.Lookup("report:old.json")
	gotB := f.Settings(e).Over(flags).Budgets()
	wantB := analysis.Budgets{
		MaxCompressed:   ptr(int64(50 * 1000 * 1000)),
		MaxUncompressed: ptr(int64(1024 * 1024 * 1024)),
		MaxLayers:       ptr(0),
		MaxGrowth:       &analysis.Growth{Bytes: 1000 * 1000},
		GrowthBasis:     analysis.BasisUncompressed,
		WarnAt:          0,
	}
	if diff := cmp.Diff(wantB, gotB); diff != "" {
		t.Errorf("Budgets mismatch (-want +got):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultPath)
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(fullFile(path), got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("defaults:\n  max-layers: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":2: max-layers: ") || !errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("Load(bad) error = %v, want a usage error starting %s:2:", err, bad)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path string
		is         error
		want       string
	}{
		{"missing", filepath.Join(dir, "imgsize.yaml"), fs.ErrNotExist, "reading config " + filepath.Join(dir, "imgsize.yaml") + ": no such file or directory"},
		{"a directory", dir, nil, "reading config " + dir + ": "},
		{"too large", big, nil, "reading config " + big + ": larger than 1024 KiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", f)
			}
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("error %q does not wrap errdefs.ErrUsage", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start %q", err, tt.want)
			}
		})
	}
}

// TestParsePlatforms reads platforms: as a string or a list, refuses what
// --platform would, and lets an entry's list replace the defaults'.
func TestParsePlatforms(t *testing.T) {
	t.Parallel()
	f, err := Parse("imgsize.yaml", []byte(`defaults:
  platforms: all
  max-index-compressed: 100MB
images:
  - image: a
    platforms: [linux/amd64, " linux/arm64/v8"]
  - image: b
    platforms: linux/arm64,linux/s390x
  - image: c
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "linux/amd64,linux/arm64/v8", "b": "linux/arm64,linux/s390x", "c": "all"}
	for _, e := range f.Images {
		s := f.Settings(e)
		if s.Platforms == nil || *s.Platforms != want[e.Image] {
			t.Errorf("%s: platforms %v, want %s", e.Image, s.Platforms, want[e.Image])
		}
		if b := s.Budgets(); b.MaxIndexCompressed == nil || *b.MaxIndexCompressed != 100_000_000 {
			t.Errorf("%s: max-index-compressed %v, want 100 MB", e.Image, b.MaxIndexCompressed)
		}
	}
	for _, bad := range []string{
		"defaults:\n  platforms: linux\n",
		"defaults:\n  platforms: []\n",
		"defaults:\n  platforms: [all, linux/amd64]\n",
		"defaults:\n  platforms: [{os: linux}]\n",
	} {
		if _, err := Parse("imgsize.yaml", []byte(bad)); !errors.Is(err, errdefs.ErrUsage) || !strings.Contains(err.Error(), "platforms") {
			t.Errorf("%q: err = %v, want a usage error about platforms", bad, err)
		}
	}
	_, err = Targets(nil, Settings{MaxIndexCompressed: new(int64)}, []string{"x"})
	if !errors.Is(err, errdefs.ErrUsage) || !strings.Contains(err.Error(), "--platform all") {
		t.Errorf("max-index-compressed without platforms: err = %v", err)
	}
}

// TestPatterns lays defaults by name pattern between the file's defaults
// and an image's own entry, in file order, for arguments and listed
// images alike.
func TestPatterns(t *testing.T) {
	t.Parallel()
	f, err := Parse("imgsize.yaml", []byte(`defaults:
  max-layers: 10
  max-compressed: 50MB
patterns:
  - match: ghcr.io/org/*-worker:*
    max-compressed: 200MB
  - match: "*:debug"
    max-compressed: 1GB
    max-layers: none
images:
  - image: ghcr.io/org/img-worker:v1
    max-layers: 3
`))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := Targets(f, Settings{}, []string{"ghcr.io/org/img-worker:v1", "ghcr.io/org/api:v1", "ghcr.io/org/a-worker:debug", "ghcr.io/org/worker"})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		compressed int64
		layers     *int
	}
	three, ten := 3, 10
	for i, w := range []want{{200_000_000, &three}, {50_000_000, &ten}, {1_000_000_000, nil}, {50_000_000, &ten}} {
		b := targets[i].Settings.Budgets()
		if b.MaxCompressed == nil || *b.MaxCompressed != w.compressed || (b.MaxLayers == nil) != (w.layers == nil) || (w.layers != nil && *b.MaxLayers != *w.layers) {
			t.Errorf("%s: max-compressed %v, max-layers %v; want %d, %v", targets[i].Image, b.MaxCompressed, b.MaxLayers, w.compressed, w.layers)
		}
	}
	for _, bad := range []string{"patterns:\n  - max-layers: 3\n", "patterns:\n  - match: x\n    image: y\n", "patterns: 5\n"} {
		if _, err := Parse("imgsize.yaml", []byte(bad)); !errors.Is(err, errdefs.ErrUsage) || !strings.Contains(err.Error(), "imgsize.yaml:") {
			t.Errorf("%q: err = %v, want a file:line usage error", bad, err)
		}
	}
}
