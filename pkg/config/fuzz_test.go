package config

import (
	"errors"
	"regexp"
	"strconv"
	"testing"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// fileErrorRE is the shape of every error Parse returns: the file's name,
// a line, and one line of text.
var fileErrorRE = regexp.MustCompile(`^fuzz\.yaml:([0-9]+): [^\n]+$`)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		full,
		"",
		"version: 1\n",
		"defaults: &d\n  max-layers: 1\nimages:\n  - image: a\n    <<: *d\n",
		"a: &a [*a, *a]\n",
		"images:\n  - image: a\n    max-layers: 3\n  image: b\n",
		"images: [{image: a, max-growth: '+5%'}, {image: a}]\n",
		"version: 1\n---\ndefaults: [\n",
		"defaults:\n  baseline: \"a\x00b\"\n",
		"defaults:\r\n  max-compressed: 1.0005kB\r\n  warn-at: 33.3%\r\n",
		"\xff\xfe",
		"[[[[[[[[",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("error %q does not wrap errdefs.ErrUsage", err)
			}
			m := fileErrorRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error %q is not one line starting fuzz.yaml:LINE: ", err)
			}
			if line, _ := strconv.Atoi(m[1]); line < 1 || line > lastLine(data) {
				t.Errorf("error %q names line %d of a file of %d", err, line, lastLine(data))
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range file.Images {
			if e.Image == "" || seen[e.Image] {
				t.Errorf("image %q is empty or listed twice", e.Image)
			}
			seen[e.Image] = true
			if e.Line < 1 || e.Line > lastLine(data) {
				t.Errorf("entry %q on line %d of a file of %d", e.Image, e.Line, lastLine(data))
			}
		}
	})
}

// FuzzValues holds the value parsers, which read command-line flags too,
// to the same promise: no panic, and every error a usage error.
func FuzzValues(f *testing.F) {
	for _, seed := range []string{"50MB", "1.5 KiB", "+5%", "-0", "90%", "off", "9223372036854775807", ".5", "compressed"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(name string, err error) {
			if err != nil && !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("%s(%q): error %q does not wrap errdefs.ErrUsage", name, s, err)
			}
		}
		n, err := ParseSize(s)
		check("ParseSize", err)
		if n < 0 {
			t.Errorf("ParseSize(%q) = %d", s, n)
		}
		g, err := ParseGrowth(s)
		check("ParseGrowth", err)
		if g.Bytes < 0 || g.Percentage < 0 {
			t.Errorf("ParseGrowth(%q) = %+v", s, g)
		}
		w, err := ParseFraction(s)
		check("ParseFraction", err)
		if w < 0 || w > 1 {
			t.Errorf("ParseFraction(%q) = %v", s, w)
		}
		_, err = ParseBasis(s)
		check("ParseBasis", err)
	})
}
