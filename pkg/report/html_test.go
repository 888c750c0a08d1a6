package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// chromium finds headless Chromium; the page tests skip without it (and
// fail under CI=true, where .ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (.ci/run installs it)")
	}
	t.Skip("chromium is not installed: the HTML pages are not rendered in a browser")
	return ""
}

// TestHTMLInBrowser renders every kind of report as a page, loads it in
// headless Chromium with no network (the page's own policy forbids any
// fetch, and a fetch would log a console error), and holds the DOM the
// page's script drew to the JSON report: every figure element names the
// report value it shows, and shows exactly that. A screenshot of each
// page is kept under $IMGSIZE_TEST_ARTIFACTS.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts chromium")
	}
	browser := startBrowser(t, chromium(t))
	artifacts := os.Getenv("IMGSIZE_TEST_ARTIFACTS")
	trend := trendFixture(t, analysis.OrderCreated)
	pages := []struct {
		name  string
		write func(w *bytes.Buffer, f Format) error
		// want is text the page must show beyond its figures.
		want []string
	}{
		{"inspect", func(w *bytes.Buffer, f Format) error {
			return Inspect(w, []*layers.Image{singleImage(), multiImage(), unknownImage(), estimatedImage()}, Options{Format: f, Time: goldenTime})
		}, nil},
		{"compare", func(w *bytes.Buffer, f Format) error {
			return Compare(w, analysis.Compare(singleImage(), multiImage()), Options{Format: f, Time: goldenTime})
		}, nil},
		{"inspect", func(w *bytes.Buffer, f Format) error {
			return InspectIndexes(w, []*layers.Index{twoPlatforms()}, Options{Format: f, Time: goldenTime})
		}, nil},
		// The package section, traced to the report, with the note that
		// a side's database was not read.
		{"compare", func(w *bytes.Buffer, f Format) error {
			return Compare(w, comparePackages(), Options{Format: f, Time: goldenTime})
		}, []string{"Packages from baseline", `data-path="/comparison/rows/1/packages/changes/0/deltaBytes"`, "was not read (ndb)"}},
		{"compare", func(w *bytes.Buffer, f Format) error {
			return ComparePlatforms(w, analysis.ComparePlatforms(twoPlatforms(), twoPlatforms()), Options{Format: f, Time: goldenTime})
		}, nil},
		{"check", func(w *bytes.Buffer, f Format) error {
			return Check(w, mixedRun(), Options{Format: f, Time: goldenTime})
		}, nil},
		{"files", func(w *bytes.Buffer, f Format) error {
			return Files(w, filesReport(), Options{Format: f, Time: goldenTime})
		}, nil},
		{"diff", func(w *bytes.Buffer, f Format) error {
			return Diff(w, fileDiff(false), Options{Format: f, Time: goldenTime})
		}, nil},
		// The fixture has a derived figure, an unknown one and a skipped
		// tag name: the page says each, as the table does.
		{"trend", func(w *bytes.Buffer, f Format) error {
			return Trend(w, trend, Options{Format: f, Time: goldenTime})
		}, []string{"1 derived or estimated figure is a hollow dot", "1 without a known uncompressed size not drawn", "not valid tags, skipped: 1 name listed"}},
	}
	for i, p := range pages {
		t.Run(p.name+strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			var page, js bytes.Buffer
			if err := p.write(&page, HTML); err != nil {
				t.Fatal(err)
			}
			if err := p.write(&js, JSON); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, p.name+strconv.Itoa(i)+".html")
			if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			// One visit reads the DOM and, when asked, keeps a screenshot.
			shot := ""
			if artifacts != "" {
				if err := os.MkdirAll(artifacts, 0o755); err == nil {
					shot = filepath.Join(artifacts, p.name+strconv.Itoa(i)+".png")
				}
			}
			dom, console := browser.open(t, file, shot, 1200, 1600)
			if len(console) > 0 {
				t.Errorf("console output (an error, or a blocked fetch):\n%s", strings.Join(console, "\n"))
			}
			if !strings.Contains(dom, `data-rendered="`+p.name+`"`) {
				t.Fatalf("the page's script did not finish:\n%.2000s", dom)
			}
			if !strings.Contains(dom, `<svg class="chart`) {
				t.Errorf("no chart on the %s page", p.name)
			}
			var doc any
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, want := range p.want {
				if !strings.Contains(dom, want) {
					t.Errorf("the %s page does not say %q", p.name, want)
				}
			}
			n := checkFigures(t, dom, doc)
			if n < 5 {
				t.Errorf("only %d figures traced to the report", n)
			}
		})
	}
}

var figureTag = regexp.MustCompile(`<[a-z]+ [^>]*data-path="([^"]*)"[^>]*>`)
var attr = regexp.MustCompile(`data-(bytes|value|unknown)="([^"]*)"`)

// checkFigures holds every element with a data-path to the report value
// at that JSON pointer, and returns how many it checked. A figure that is
// not exact must say how it was found where the reader sees it: in its
// title, or in the title element of a chart's dot.
func checkFigures(t *testing.T, dom string, doc any) int {
	t.Helper()
	n := 0
	for _, at := range figureTag.FindAllStringSubmatchIndex(dom, -1) {
		m := []string{dom[at[0]:at[1]], dom[at[2]:at[3]]}
		path := strings.ReplaceAll(m[1], "&amp;", "&")
		v, ok := pointer(doc, path)
		if !ok {
			t.Errorf("%s: no such value in the report", path)
			continue
		}
		if rec, isRec := v.(map[string]any); isRec {
			v = rec["bytes"]
			if prov, _ := rec["provenance"].(string); v != nil && prov != "exact" && !saysProvenance(dom[at[0]:], prov) {
				t.Errorf("%s: a %s figure shown without saying so: %s", path, prov, m[0])
			}
		}
		a := attr.FindStringSubmatch(m[0])
		switch {
		case a == nil:
			t.Errorf("%s: figure without data-bytes, data-value or data-unknown: %s", path, m[0])
		case a[1] == "unknown":
			if v != nil {
				t.Errorf("%s: shown as unknown, the report says %v", path, v)
			}
		default:
			got, err := strconv.ParseFloat(a[2], 64)
			want, isNum := v.(float64)
			if err != nil || !isNum || got != want {
				t.Errorf("%s: page shows %s, the report says %v", path, a[2], v)
			}
		}
		n++
	}
	return n
}

// saysProvenance reports whether the element el starts names prov in its
// title attribute or, for a chart's dot, its title child.
func saysProvenance(el, prov string) bool {
	open := el[:strings.IndexByte(el, '>')+1]
	if strings.Contains(open, `title="`+prov) {
		return true
	}
	if strings.HasPrefix(el, "<circle") {
		if end := strings.Index(el, "</circle>"); end > 0 {
			return strings.Contains(el[:end], "("+prov)
		}
	}
	return false
}

// pointer resolves a JSON pointer (RFC 6901) in a decoded document.
func pointer(doc any, p string) (any, bool) {
	if p == "" {
		return doc, true
	}
	cur := doc
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// TestHTMLNoInjection: text from the report (a hostile image reference)
// is set as text, and the embedded JSON cannot close its script element.
func TestHTMLNoInjection(t *testing.T) {
	img := singleImage()
	img.Ref = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	var page bytes.Buffer
	if err := Inspect(&page, []*layers.Image{img}, Options{Format: HTML, Time: goldenTime}); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(page.String(), "</script>"); c != 2 {
		t.Errorf("%d </script> in the page, want the 2 of its own elements", c)
	}
	if strings.Contains(page.String(), "<img") {
		t.Errorf("markup from the report reached the page")
	}
}

// twoPlatforms is an index of two platform images that share a layer.
func twoPlatforms() *layers.Index {
	amd, arm := singleImage(), multiImage()
	amd.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	arm.Platform = &v1.Platform{OS: "linux", Architecture: "arm64"}
	arm.Layers = append([]layers.Layer{amd.Layers[0]}, arm.Layers...)
	arm.Compressed = layers.Total([]layers.Size{arm.Layers[0].Compressed, arm.Layers[1].Compressed})
	arm.Uncompressed = layers.Total([]layers.Size{arm.Layers[0].Uncompressed, arm.Layers[1].Uncompressed})
	return &layers.Index{
		Ref: "example.com/app:multi", Name: "example.com/app", Transport: "docker",
		Platforms: []*layers.Image{amd, arm}, Stored: exact(402_000_000),
		Artifacts:    []layers.Artifact{{Kind: "attestation", Digest: hash("9"), Subject: amd.Digest, Bytes: exact(1234), Blobs: 2}},
		SharedLayers: map[v1.Hash][]int{amd.Layers[0].Digest: {0, 1}},
	}
}

// TestMarkdownCharts: compare and check Markdown carry a Mermaid chart of
// the images' sizes, in MB, after the table.
func TestMarkdownCharts(t *testing.T) {
	var cmp, chk bytes.Buffer
	if err := Compare(&cmp, analysis.Compare(singleImage(), multiImage()), Options{Format: Markdown}); err != nil {
		t.Fatal(err)
	}
	if err := Check(&chk, passRun(), Options{Format: Markdown}); err != nil {
		t.Fatal(err)
	}
	// singleImage unpacks to 1,002,002,000 B and multiImage to 2,000,000 B;
	// passRun's two images are 401,001,000 B and 2,500,000 B compressed.
	for name, c := range map[string]struct{ out, bars string }{
		"compare": {cmp.String(), "  bar [1002, 2]\n"},
		"check":   {chk.String(), "  bar [401, 2.5]\n"},
	} {
		at := strings.Index(c.out, "```mermaid\nxychart-beta\n")
		if at < 0 || !strings.Contains(c.out[at:], c.bars) || at < strings.Index(c.out, "|---") {
			t.Errorf("%s Markdown: no chart with %q after the table:\n%s", name, c.bars, c.out)
		}
	}
}
