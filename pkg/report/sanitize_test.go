package report

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/schema"
)

// hostile is outside text written to attack a terminal and the formats:
// it retitles the window (OSC … BEL), clears the screen, rings the bell,
// forges a line of imgsize's own, reverses the text after it, isolates
// and hides characters, and carries the characters Markdown, CSV and
// GitHub's workflow commands give a meaning.
const hostile = "app\x1b]0;pwned\x07\x1b[2J\a\r\nimgsize: ok\u202eevil\u2066x\u2069\u200b\u200e\ufeff|`<b>&lt;\t,:%\x7f\u0085\u009b"

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"example.com/app:1.0", "example.com/app:1.0"},
		{`C:\path "quoted"`, `C:\path "quoted"`},
		{"≈ 7.35 MB → −1 × ⚠️ 日本", "≈ 7.35 MB → −1 × ⚠️ 日本"},
		{"a\x1b]0;t\x07b", `a\x1b]0;t\ab`},
		{"\x1b[2J", `\x1b[2J`},
		{"one\r\nimgsize: ok", `one\r\nimgsize: ok`},
		{"a\tb\vc\fd\be\x00f\x7f", `a\tb\vc\fd\be\x00f\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"rtl \u202egnp.exe", `rtl \u202egnp.exe`},
		{"iso \u2066x\u2067y\u2068z\u2069", `iso \u2066x\u2067y\u2068z\u2069`},
		{"marks \u200e\u200f zw \u200b\u200c\u200d\u2060\ufeff", `marks \u200e\u200f zw \u200b\u200c\u200d\u2060\ufeff`},
		{"sep \u2028\u2029", `sep \u2028\u2029`},
		{"tag \U000E0041", `tag \U000e0041`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
	}
	for _, tt := range tests {
		got := Terminal(tt.in)
		if got != tt.want {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := Terminal(got); again != got {
			t.Errorf("Terminal(%q) = %q, not a fixed point", got, again)
		}
		checkClean(t, "Terminal("+tt.in+")", got, false)
	}
}

// The JSON escapes added for DEL, C1 and format characters decode to the
// same string.
func TestJSONSafe(t *testing.T) {
	for _, s := range []string{hostile, "plain", "tag \U000E0041 emoji \U0001F600", "\u2028\u2029"} {
		enc, err := json.Marshal(map[string]string{"s": s})
		if err != nil {
			t.Fatal(err)
		}
		safe := jsonSafe(enc)
		checkClean(t, "JSON", string(safe), false)
		var got map[string]string
		if err := json.Unmarshal(safe, &got); err != nil {
			t.Fatalf("jsonSafe(%s) is not JSON: %v", enc, err)
		}
		if got["s"] != s {
			t.Errorf("jsonSafe changed %q into %q", s, got["s"])
		}
	}
	if !strings.Contains(string(jsonSafe([]byte(`"`+"\U0001F600"+`"`))), "\U0001F600") {
		t.Error("jsonSafe escaped an emoji, which is printable")
	}
}

// checkClean fails when out holds a byte or rune a terminal acts on (but
// for the newlines between lines when lines is set), or a line forged by
// outside text.
func checkClean(t *testing.T, what, out string, lines bool) {
	t.Helper()
	for i, r := range out {
		switch {
		case r == '\n' && lines:
		case r == utf8.RuneError:
			t.Errorf("%s: invalid UTF-8 at byte %d", what, i)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			t.Errorf("%s: raw %U at byte %d:\n%s", what, r, i, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " |\"'"), "imgsize: ok") {
			t.Errorf("%s: a forged line: %q", what, line)
		}
	}
}

// hostileImage carries hostile text wherever an image may: its reference
// and name, a layer's created-by and annotations, a size's reason.
func hostileImage(digest string) *layers.Image {
	l := layer(digest+"1", exact(1_000), unknown(hostile), hostile)
	l.Annotations = map[string]string{hostile: hostile}
	return image(hostile, hostile, digest, 100, 200, l)
}

func hostileCheck() *analysis.CheckRun {
	img := hostileImage("a")
	base := image("base"+hostile, "base"+hostile, "b", 100, 200, layer("b1", exact(500), exact(900), "base"))
	c := checked(img, base, analysis.Budgets{
		MaxCompressed: maxBytes(10), MaxUncompressed: maxBytes(10), MaxGrowth: growthBytes(1),
	})
	c.Arg, c.BaselineArg = hostile, "base"+hostile
	return &analysis.CheckRun{Images: []analysis.ImageCheck{c, {Arg: hostile, Err: errors.New("reading " + hostile)}}}
}

func hostileFiles() *analysis.FileReport {
	img := hostileImage("c")
	return &analysis.FileReport{
		Image:   img,
		Files:   analysis.Count{Files: 1, Bytes: 1_000},
		Layers:  []analysis.LayerFiles{{Index: 0, Digest: img.Layers[0].Digest, CreatedBy: hostile, Added: analysis.Count{Files: 1, Bytes: 1_000}, TarBytes: 1_000}},
		Largest: []analysis.PathSize{{Path: hostile, Bytes: 1_000, Files: 1, Layer: 0}},
		Dirs:    []analysis.PathSize{{Path: hostile, Bytes: 1_000, Files: 1, Layer: -1}},
		Hints:   []analysis.Hint{{ID: hostile, Title: hostile, Bytes: 1, Paths: []string{hostile}, Layers: []int{0}, Fix: hostile}},
		Dive:    analysis.DiveStats{Efficiency: 1, SizeBytes: 1_000},
	}
}

func hostileDiff() *analysis.FileDiff {
	fi := func(l int) *analysis.FileInfo {
		return &analysis.FileInfo{Entry: files.Entry{Path: hostile, Type: files.Symlink, Linkname: hostile + "→" + string(rune('0'+l)), Mode: 0o777}, Layer: 0}
	}
	return &analysis.FileDiff{
		A: hostileImage("d"), B: hostileImage("e"),
		Changed: analysis.Count{Files: 1},
		Entries: []analysis.DiffEntry{{Path: hostile, Change: analysis.Changed, A: fi(1), B: fi(2), Fields: []string{"link"}}},
		Dirs:    []analysis.DiffDir{{Path: hostile, Changed: 1}},
	}
}

// Every format, fed hostile text wherever outside text goes, writes no
// raw control, no forged line and well-formed Markdown, CSV and XML; JSON
// keeps the text exactly.
func TestHostileText(t *testing.T) {
	type output struct {
		name string
		out  func(t *testing.T, f Format) string
		// json checks that the JSON document carries hostile exactly.
		json func(t *testing.T, d *schema.Document)
	}
	outputs := []output{
		{"inspect", func(t *testing.T, f Format) string {
			return render(t, Inspect, f, []*layers.Image{hostileImage("a")})
		}, func(t *testing.T, d *schema.Document) {
			img := d.Images[0]
			if img.Ref != hostile || img.Layers[0].CreatedBy != hostile || img.Layers[0].Annotations[hostile] != hostile || img.Layers[0].Uncompressed.Reason != hostile {
				t.Errorf("JSON image = %+v", img)
			}
		}},
		{"compare", func(t *testing.T, f Format) string {
			return render(t, Compare, f, analysis.Compare(hostileImage("a"), hostileImage("b")))
		}, func(t *testing.T, d *schema.Document) {
			if d.Images[1].Ref != hostile || d.Images[1].Layers[0].CreatedBy != hostile {
				t.Errorf("JSON image = %+v", d.Images[1])
			}
		}},
		{"check", func(t *testing.T, f Format) string {
			return render(t, Check, f, hostileCheck())
		}, func(t *testing.T, d *schema.Document) {
			r := d.Check.Results
			if r[0].Ref != hostile || r[0].BaselineRef != "base"+hostile || r[1].Error != "reading "+hostile {
				t.Errorf("JSON check results = %+v", r)
			}
		}},
		{"files", func(t *testing.T, f Format) string {
			return render(t, Files, f, hostileFiles())
		}, func(t *testing.T, d *schema.Document) {
			if d.Files.Largest[0].Path != "/"+hostile || d.Files.Hints[0].Fix != hostile {
				t.Errorf("JSON files = %+v", d.Files)
			}
		}},
		{"diff", func(t *testing.T, f Format) string {
			return render(t, Diff, f, hostileDiff())
		}, func(t *testing.T, d *schema.Document) {
			if e := d.Diff.Entries[0]; e.Path != "/"+hostile || e.A.Linkname != hostile+"→1" {
				t.Errorf("JSON diff entry = %+v", e)
			}
		}},
	}
	for _, o := range outputs {
		for _, f := range allFormats {
			t.Run(o.name+"/"+string(f), func(t *testing.T) {
				out := o.out(t, f)
				checkClean(t, string(f), out, true)
				if !strings.Contains(out, "app") {
					t.Errorf("the hostile text is not in the output at all:\n%s", out)
				}
				switch f {
				case Table:
					if !strings.Contains(out, `app\x1b]0;pwned\a\x1b[2J\a\r\nimgsize: ok\u202eevil`) {
						t.Errorf("table does not show the text escaped:\n%s", out)
					}
				case Markdown:
					checkMarkdownTables(t, out)
					checkMarkdownHTML(t, out)
				case CSV:
					checkHostileCSV(t, out)
				case JSON:
					d, err := schema.Decode(strings.NewReader(out))
					if err != nil {
						t.Fatalf("JSON does not decode: %v", err)
					}
					o.json(t, d)
				}
			})
		}
	}

	t.Run("junit", func(t *testing.T) {
		out := renderJUnit(t, hostileCheck())
		checkClean(t, "JUnit", string(out), true)
		var doc junitSuites
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("JUnit is not XML: %v\n%s", err, out)
		}
		if got, want := doc.Suites[1].Cases[0].Error.Message, Terminal(hostile)+": reading "+Terminal(hostile); got != want {
			t.Errorf("error message = %q, want %q", got, want)
		}
	})
	t.Run("github", func(t *testing.T) {
		out := renderAnnotations(t, hostileCheck(), false)
		checkClean(t, "annotations", out, true)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < 2 {
			t.Fatalf("%d annotations, want at least 2:\n%s", len(lines), out)
		}
		for _, l := range lines {
			cmd, rest, ok := strings.Cut(l, "::")
			props, msg, ok2 := strings.Cut(rest, "::")
			if !ok || !ok2 || cmd != "" || !strings.HasPrefix(props, "error title=") && !strings.HasPrefix(props, "warning title=") {
				t.Errorf("not a workflow command: %q", l)
				continue
			}
			// The runner's escapes carry CR, LF, % and, in a property,
			// : and ,; the rest was made visible.
			if strings.ContainsAny(strings.TrimPrefix(props, "error title="), ":,") {
				t.Errorf("title with a raw : or ,: %q", props)
			}
			if strings.Contains(msg, "%0D%0Aimgsize: ok") == false && strings.Contains(msg, "imgsize") {
				t.Errorf("message lost its escaped newline: %q", msg)
			}
			if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(msg, "%25", ""), "%0D", ""), "%0A", ""), "%") {
				t.Errorf("message with a raw %%: %q", msg)
			}
		}
	})
	t.Run("step summary", func(t *testing.T) {
		// The job summary is the check report in Markdown, appended to
		// $GITHUB_STEP_SUMMARY and shown as HTML.
		out := render(t, Check, Markdown, hostileCheck())
		checkClean(t, "summary", out, true)
		checkMarkdownTables(t, out)
		checkMarkdownHTML(t, out)
		for _, bad := range []string{"\n#", "\n- imgsize"} {
			if strings.Contains(out, bad) {
				t.Errorf("summary holds %q:\n%s", bad, out)
			}
		}
	})
}

// checkHostileCSV parses a CSV report: every record has the header's number of
// fields, and the hostile text comes back as Terminal writes it.
func checkHostileCSV(t *testing.T, out string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, out)
	}
	found := false
	for _, r := range recs {
		if len(r) != len(recs[0]) {
			t.Errorf("record of %d fields, header %d: %q", len(r), len(recs[0]), r)
		}
		for _, f := range r {
			found = found || strings.Contains(f, Terminal(hostile))
		}
	}
	if !found {
		t.Errorf("no field holds %q:\n%s", Terminal(hostile), out)
	}
}

// stripCodeSpans drops the code spans of a Markdown line, in which HTML
// is shown as text: a run of n backticks up to the next run of exactly n.
func stripCodeSpans(line string) string {
	var b strings.Builder
	run := func(i int) int {
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		return n
	}
	for i := 0; i < len(line); {
		if line[i] == '\\' && i+1 < len(line) {
			// An escaped backtick opens no span.
			b.WriteString(line[i : i+2])
			i += 2
			continue
		}
		n := run(i)
		if n == 0 {
			b.WriteByte(line[i])
			i++
			continue
		}
		end := -1
		for j := i + n; j < len(line); {
			if m := run(j); m == n {
				end = j + m
				break
			} else if m > 0 {
				j += m
			} else {
				j++
			}
		}
		if end < 0 {
			b.WriteString(line[i : i+n])
			i += n
			continue
		}
		i = end
	}
	return b.String()
}

// checkMarkdownHTML fails on a tag or an entity reference that Markdown
// would read as HTML: outside code spans every "<" and "&" of outside text
// is escaped.
func checkMarkdownHTML(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		text := stripCodeSpans(line)
		for i := 0; i < len(text); i++ {
			if (text[i] == '<' || strings.HasPrefix(text[i:], "&lt;")) && (i == 0 || text[i-1] != '\\') {
				t.Errorf("Markdown reads HTML at %q in %q", text[i:min(len(text), i+6)], line)
				break
			}
		}
	}
}

// A CSV opened in a spreadsheet runs a cell starting with = + - @ as a
// formula: such text gets an apostrophe, numbers keep their sign.
func TestCSVNoFormula(t *testing.T) {
	tests := []struct{ in, want string }{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"-1234", "-1234"},
		{"+5.25", "+5.25"},
		{"-12.5%", "-12.5%"},
		{"1e+06", "1e+06"},
		{"RUN echo =x", "RUN echo =x"},
	}
	if got := noFormula(""); got != "" {
		t.Errorf("empty field: got %q", got)
	}
	for _, tt := range tests {
		var b strings.Builder
		w := newCSVWriter(&b)
		if err := w.Write([]string{tt.in}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got, err := csv.NewReader(strings.NewReader(b.String())).Read()
		if err != nil {
			t.Fatalf("%q: reading back: %v", tt.in, err)
		}
		if got[0] != tt.want {
			t.Errorf("field %q: got %q, want %q", tt.in, got[0], tt.want)
		}
	}
}
