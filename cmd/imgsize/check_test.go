package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkDoc is the part of a check report these tests read, decoded here
// rather than with pkg/schema so the test does not trust the writer's types.
type checkDoc struct {
	Kind   string `json:"kind"`
	Images []struct {
		Ref string `json:"ref"`
	} `json:"images"`
	Check struct {
		Passed  bool `json:"passed"`
		Budgets int  `json:"budgets"`
		Failed  int  `json:"failed"`
		Errors  int  `json:"errors"`
		Results []struct {
			Ref      string `json:"ref"`
			Image    *int   `json:"image"`
			Baseline *int   `json:"baseline"`
			Passed   bool   `json:"passed"`
			Error    string `json:"error"`
			Budgets  []struct {
				Budget     string   `json:"budget"`
				Basis      string   `json:"basis"`
				Unit       string   `json:"unit"`
				Limit      float64  `json:"limit"`
				Actual     *float64 `json:"actual"`
				Margin     *float64 `json:"margin"`
				Status     string   `json:"status"`
				Provenance string   `json:"provenance"`
				Reason     string   `json:"reason"`
			} `json:"budgets"`
		} `json:"results"`
	} `json:"check"`
}

func decodeCheck(t *testing.T, s string) checkDoc {
	t.Helper()
	var d checkDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("decoding check report: %v\n%s", err, s)
	}
	if d.Kind != "check" {
		t.Fatalf("kind %q, want check", d.Kind)
	}
	return d
}

// checkFixture is a layout with a big and a small image and their sizes,
// measured independently of imgsize (manifest sums and gzip reads by
// go-containerregistry).
type checkFixture struct {
	dir                        string
	big, small                 string // arguments
	bigC, bigU, smallC, smallU int64
	bigLayers                  int
}

func newCheckFixture(t *testing.T) checkFixture {
	t.Helper()
	dir, big, small := twoImageLayout(t)
	ls, err := big.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return checkFixture{
		dir: dir, big: "oci:" + dir + ":big", small: "oci:" + dir + ":small",
		bigC: manifestTotal(t, big), bigU: uncompressedTotal(t, big),
		smallC: manifestTotal(t, small), smallU: uncompressedTotal(t, small),
		bigLayers: len(ls),
	}
}

func TestCheckBudgets(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	n := strconv.FormatInt
	growthPct := float64(f.bigC-f.smallC) / float64(f.smallC) * 100
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantBudget string  // the budget whose result is checked
		wantStatus string  // its status
		wantActual float64 // its actual figure
	}{
		{"compressed at the limit passes", []string{f.big, "--max-compressed", n(f.bigC, 10)}, 0, "max-compressed", "pass", float64(f.bigC)},
		{"compressed one byte over fails", []string{f.big, "--max-compressed", n(f.bigC-1, 10)}, 1, "max-compressed", "fail", float64(f.bigC)},
		{"uncompressed over fails", []string{f.big, "--max-uncompressed", n(f.bigU-1, 10) + "B"}, 1, "max-uncompressed", "fail", float64(f.bigU)},
		{"uncompressed under passes", []string{f.big, "--max-uncompressed", "1GB"}, 0, "max-uncompressed", "pass", float64(f.bigU)},
		{"layers over fails", []string{f.big, "--max-layers", strconv.Itoa(f.bigLayers - 1)}, 1, "max-layers", "fail", float64(f.bigLayers)},
		{"layers at limit passes", []string{f.big, "--max-layers", strconv.Itoa(f.bigLayers)}, 0, "max-layers", "pass", float64(f.bigLayers)},
		{"growth in percent fails", []string{f.big, "--baseline", f.small, "--max-growth", "5%"}, 1, "max-growth", "fail", growthPct},
		{"growth in bytes fails", []string{f.big, "--baseline", f.small, "--max-growth", n(f.bigC-f.smallC-1, 10)}, 1, "max-growth", "fail", float64(f.bigC - f.smallC)},
		{"growth in bytes at limit passes", []string{f.big, "--baseline", f.small, "--max-growth", n(f.bigC-f.smallC, 10)}, 0, "max-growth", "pass", float64(f.bigC - f.smallC)},
		{"shrinking passes a 0% budget", []string{f.small, "--baseline", f.big, "--max-growth", "0%"}, 0, "max-growth", "pass", float64(f.smallC-f.bigC) / float64(f.bigC) * 100},
		{"uncompressed growth basis", []string{f.big, "--baseline", f.small, "--max-growth", "0", "--growth-basis", "uncompressed"}, 1, "max-growth", "fail", float64(f.bigU - f.smallU)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "-f", "json", "--no-cache"}, tt.args...)
			r := runInProcess(t, args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.wantCode, r.stderr)
			}
			d := decodeCheck(t, r.stdout)
			if len(d.Check.Results) != 1 {
				t.Fatalf("%d results, want 1", len(d.Check.Results))
			}
			var found bool
			for _, b := range d.Check.Results[0].Budgets {
				if b.Budget != tt.wantBudget {
					continue
				}
				found = true
				if b.Status != tt.wantStatus {
					t.Errorf("status %q, want %q", b.Status, tt.wantStatus)
				}
				if b.Actual == nil || !closeTo(*b.Actual, tt.wantActual) {
					t.Errorf("actual %v, want %v", b.Actual, tt.wantActual)
				}
				if b.Margin == nil || !closeTo(*b.Margin, b.Limit-tt.wantActual) {
					t.Errorf("margin %v, want limit %v − actual %v", b.Margin, b.Limit, tt.wantActual)
				}
			}
			if !found {
				t.Fatalf("no %s result in %+v", tt.wantBudget, d.Check.Results[0].Budgets)
			}
			if d.Check.Passed != (tt.wantCode == 0) {
				t.Errorf("passed = %v with exit %d", d.Check.Passed, r.code)
			}
			if tt.wantCode == 1 && !strings.Contains(r.stderr, "budgets exceeded or unknown") {
				t.Errorf("stderr %q does not say the gate failed", r.stderr)
			}
		})
	}
}

func closeTo(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*(1+abs(b))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// The table lists every budget with limit, actual, margin and result.
func TestCheckTable(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	r := runInProcess(t, "check", "--no-cache", f.big, "--max-compressed", "1kB", "--max-layers", "100")
	if r.code != 1 {
		t.Fatalf("exit %d; stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"LIMIT", "ACTUAL", "MARGIN", "max-compressed", "max-layers", "1.00 kB", "FAIL", "pass"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if lines := stderrLines(r.stderr); len(lines) != 1 {
		t.Errorf("stderr has %d lines, want 1: %q", len(lines), r.stderr)
	}
}

// A saved report stands in for the baseline: same verdict and figures as
// against the image itself, with nothing read but the report.
func TestCheckAgainstSavedReport(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	base := filepath.Join(t.TempDir(), "baseline.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", base, "--no-cache", f.small); r.code != 0 {
		t.Fatalf("saving the baseline: exit %d: %s", r.code, r.stderr)
	}
	live := runInProcess(t, "check", "-f", "json", "--no-cache", f.big, "--baseline", f.small, "--max-growth", "10%")
	saved := runInProcess(t, "check", "-f", "json", "--no-cache", f.big, "--baseline", base, "--max-growth", "10%")
	if live.code != 1 || saved.code != 1 {
		t.Fatalf("exit %d (live) and %d (saved), want 1 and 1; %s %s", live.code, saved.code, live.stderr, saved.stderr)
	}
	lb := decodeCheck(t, live.stdout).Check.Results[0].Budgets[0]
	sb := decodeCheck(t, saved.stdout).Check.Results[0].Budgets[0]
	if *lb.Actual != *sb.Actual || lb.Status != sb.Status || lb.Provenance != sb.Provenance {
		t.Errorf("against the report %+v, against the image %+v", sb, lb)
	}
	// The report is read as a report even if the layout is gone.
	if err := os.RemoveAll(f.dir); err != nil {
		t.Fatal(err)
	}
	again := runInProcess(t, "check", "-f", "json", "--no-cache", base, "--baseline", base, "--max-growth", "0")
	if again.code != 0 {
		t.Errorf("a report against itself: exit %d, %s", again.code, again.stderr)
	}
}

// An unknown figure fails the gate and says why; an unreadable image is
// exit 3 while the others are still checked and reported.
func TestCheckUnknownAndUnreadable(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	archive := filepath.Join(t.TempDir(), "app.tar")
	writeDockerSave(t, archive)

	r := runInProcess(t, "check", "-f", "json", "--no-cache", archive, "--max-compressed", "1GB")
	if r.code != 1 {
		t.Fatalf("docker-archive compressed budget: exit %d, want 1; %s", r.code, r.stderr)
	}
	b := decodeCheck(t, r.stdout).Check.Results[0].Budgets[0]
	if b.Status != "unknown" || b.Actual != nil || !strings.Contains(b.Reason, "uncompressed") {
		t.Errorf("docker-archive compressed budget: %+v, want unknown with a reason", b)
	}

	missing := filepath.Join(t.TempDir(), "missing.tar")
	r = runInProcess(t, "check", "-f", "json", "--no-cache", f.small, missing, "--max-layers", "10")
	if r.code != 3 {
		t.Fatalf("unreadable image: exit %d, want 3; %s", r.code, r.stderr)
	}
	d := decodeCheck(t, r.stdout)
	if len(d.Check.Results) != 2 || !d.Check.Results[0].Passed || d.Check.Results[1].Error == "" || d.Check.Results[1].Image != nil {
		t.Errorf("results %+v: want the readable image checked and the other with an error", d.Check.Results)
	}
	if !strings.Contains(r.stderr, "missing.tar") {
		t.Errorf("stderr %q does not name the image", r.stderr)
	}

	r = runInProcess(t, "check", "--no-cache", f.small, "--baseline", missing, "--max-growth", "1%")
	if r.code != 3 || !strings.Contains(r.stderr, "baseline") || !strings.Contains(r.stderr, "missing.tar") {
		t.Errorf("unreadable baseline: exit %d, stderr %q; want 3 naming the baseline", r.code, r.stderr)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no budgets", []string{f.small}, "no budgets"},
		{"no images", []string{"--max-layers", "3", "--config", writeFile(t, dir, "empty.yaml", "defaults:\n  max-layers: 3\n")}, "no images to check"},
		{"growth without baseline", []string{f.small, "--max-growth", "5%"}, "needs a baseline"},
		{"baseline without growth", []string{f.small, "--max-layers", "3", "--baseline", f.big}, "no effect without a growth budget"},
		{"bad size", []string{f.small, "--max-compressed", "fifty"}, "--max-compressed"},
		{"bad growth", []string{f.small, "--baseline", f.big, "--max-growth", "5 percent"}, "--max-growth"},
		{"bad basis", []string{f.small, "--max-layers", "3", "--growth-basis", "sideways"}, "--growth-basis"},
		{"negative layers", []string{f.small, "--max-layers", "-1"}, "--max-layers"},
		{"missing config", []string{f.small, "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"config error with line", []string{f.small, "--config", writeFile(t, dir, "bad.yaml", "defaults:\n  max-layers: 3\n  max-size: 5MB\n")}, "bad.yaml:3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, append([]string{"check", "--no-cache"}, tt.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || len(stderrLines(r.stderr)) != 1 {
				t.Errorf("stderr %q: want one line mentioning %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("a usage error wrote a report: %q", r.stdout)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// imgsize.yaml in the working directory is read without --config; each
// image gets the defaults with its own entry over them, and flags win.
func TestCheckConfigFile(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "small.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", base, "--no-cache", f.small); r.code != 0 {
		t.Fatal(r.stderr)
	}
	writeFile(t, dir, "imgsize.yaml", fmt.Sprintf(`# budgets for the tests
defaults:
  max-layers: 10
  max-compressed: %d
images:
  - image: %s
  - image: %s
    max-compressed: %d
    baseline: %s
    max-growth: 0%%
`, f.smallC, f.small, f.big, f.bigC, base))

	runIn := func(args ...string) result {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		r := runCmd(t, cmd)
		validateJSONOutput(t, dir, args, r)
		return r
	}
	r := runIn("check", "-f", "json", "--no-cache")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (the big image grew); %s", r.code, r.stderr)
	}
	d := decodeCheck(t, r.stdout)
	if len(d.Check.Results) != 2 {
		t.Fatalf("%d results, want the 2 images of the config", len(d.Check.Results))
	}
	status := map[string]string{}
	for _, res := range d.Check.Results {
		for _, b := range res.Budgets {
			status[res.Ref+" "+b.Budget] = b.Status
		}
	}
	want := map[string]string{
		f.small + " max-compressed": "pass", // the default, exactly its size
		f.small + " max-layers":     "pass",
		f.big + " max-compressed":   "pass", // its own budget over the default
		f.big + " max-layers":       "pass",
		f.big + " max-growth":       "fail",
	}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	if len(status) != len(want) {
		t.Errorf("budgets %v, want exactly %v", status, want)
	}

	// A flag overrides the file for every image: each now has a growth
	// budget, and so needs the baseline the flags give.
	r = runIn("check", "-f", "json", "--no-cache", "--max-growth", "100000%")
	if r.code != 2 || !strings.Contains(r.stderr, "imgsize.yaml:6") {
		t.Errorf("growth flag without a baseline for the first image: exit %d, %q; want 2 naming its entry", r.code, r.stderr)
	}
	r = runIn("check", "-f", "json", "--no-cache", "--max-growth", "100000%", "--baseline", base)
	if r.code != 0 {
		t.Errorf("with a generous growth flag: exit %d, want 0; %s", r.code, r.stderr)
	}
	// "none" on the command line drops the file's growth budget.
	r = runIn("check", "-f", "json", "--no-cache", "--max-growth", "none")
	if r.code != 0 {
		t.Errorf("--max-growth none: exit %d, want 0 (only the growth budget failed); %s", r.code, r.stderr)
	} else if d := decodeCheck(t, r.stdout); d.Check.Budgets != 4 {
		t.Errorf("--max-growth none: %d budgets, want the 4 others", d.Check.Budgets)
	}
	// Arguments choose images; one absent from the file gets the defaults.
	r = runIn("check", "-f", "json", "--no-cache", f.big)
	if r.code != 1 {
		t.Errorf("big under its own entry: exit %d, want 1", r.code)
	}
}

// GitHub Actions: annotations on stderr, the Markdown report appended to
// the step summary; other CI: JUnit XML.
func TestCheckCIOutputs(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	dir := t.TempDir()
	summary := writeFile(t, dir, "summary.md", "# earlier step\n")
	junit := filepath.Join(dir, "junit.xml")
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}
	r := imgsize(t, env, "check", "--no-cache", "--junit", junit, f.big, f.small,
		"--max-compressed", strconv.FormatInt(f.bigC-1, 10), "--max-layers", "100")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; %s", r.code, r.stderr)
	}
	var errorsSeen int
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "::error ") || strings.HasPrefix(l, "::error::") {
			errorsSeen++
			if !strings.Contains(l, f.big) {
				t.Errorf("annotation %q does not name the image", l)
			}
		}
	}
	if errorsSeen != 1 {
		t.Errorf("%d ::error annotations, want 1 (big's compressed size):\n%s", errorsSeen, r.stderr)
	}
	sum, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(sum), "# earlier step\n") || !strings.Contains(string(sum), "| ") || !strings.Contains(string(sum), "max-compressed") {
		t.Errorf("step summary not appended with a Markdown table:\n%s", sum)
	}

	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &suites); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, raw)
	}
	if suites.Tests != 4 || suites.Failures != 1 || len(suites.Suites) != 2 {
		t.Errorf("JUnit: %d tests, %d failures, %d suites; want 4, 1, 2:\n%s", suites.Tests, suites.Failures, len(suites.Suites), raw)
	}

	// Step outputs: passed=false and the JSON summary, after what an
	// earlier step wrote, in the runner's multi-line form.
	outputs := writeFile(t, dir, "outputs", "earlier=1\n")
	env = append(env, "GITHUB_OUTPUT="+outputs)
	if r := imgsize(t, env, "check", "--no-cache", f.big, f.small, "--max-compressed", strconv.FormatInt(f.bigC-1, 10)); r.code != 1 {
		t.Fatalf("exit %d, want 1; %s", r.code, r.stderr)
	}
	got := readOutputs(t, outputs)
	if got["earlier"] != "1" || got["passed"] != "false" {
		t.Errorf("outputs %v: want earlier=1 kept and passed=false", got)
	}
	var sum2 struct {
		Passed bool
		Images []struct {
			Ref        string
			Compressed *int64
			Verdict    string
			Failed     []string
		}
	}
	if err := json.Unmarshal([]byte(got["summary"]), &sum2); err != nil {
		t.Fatalf("summary output is not JSON: %v\n%q", err, got["summary"])
	}
	if sum2.Passed || len(sum2.Images) != 2 {
		t.Fatalf("summary %+v: want failed, 2 images", sum2)
	}
	for i, want := range []struct {
		ref     string
		size    int64
		verdict string
	}{{f.big, f.bigC, "fail"}, {f.small, f.smallC, "pass"}} {
		im := sum2.Images[i]
		if im.Ref != want.ref || im.Compressed == nil || *im.Compressed != want.size || im.Verdict != want.verdict {
			t.Errorf("summary image %d: %+v, want %s at %d bytes, %s", i, im, want.ref, want.size, want.verdict)
		}
	}
	if !slices.Equal(sum2.Images[0].Failed, []string{"max-compressed"}) {
		t.Errorf("big failed %v, want [max-compressed]", sum2.Images[0].Failed)
	}

	// Outside GitHub Actions, no annotations.
	r = imgsize(t, []string{"GITHUB_ACTIONS=", "GITHUB_STEP_SUMMARY=" + summary}, "check", "--no-cache", f.big, "--max-compressed", "1kB")
	if strings.Contains(r.stderr, "::error") {
		t.Errorf("annotations outside GitHub Actions: %q", r.stderr)
	}
}

// Found in review: an expired --timeout must not make the gate pass with
// images unchecked; every image gets a row, and the run is exit 3.
func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	r := runInProcess(t, "check", "-f", "json", "--no-cache", "--timeout", "1ns", f.small, f.big, "--max-layers", "0")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; %s", r.code, r.stderr)
	}
	d := decodeCheck(t, r.stdout)
	if len(d.Check.Results) != 2 || d.Check.Passed || d.Check.Errors != 2 {
		t.Errorf("check %+v: want both images reported as unreadable", d.Check)
	}
	if !strings.Contains(r.stderr, "timed out") {
		t.Errorf("stderr %q does not say it timed out", r.stderr)
	}
}

// An unreadable baseline leaves growth unknown but still checks the other
// budgets; the run is exit 3.
func TestCheckBaselineUnreadable(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	missing := filepath.Join(t.TempDir(), "gone.json")
	r := runInProcess(t, "check", "-f", "json", "--no-cache", f.small, "--baseline", missing, "--max-growth", "1%", "--max-layers", "10")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; %s", r.code, r.stderr)
	}
	res := decodeCheck(t, r.stdout).Check.Results[0]
	status := map[string]string{}
	for _, b := range res.Budgets {
		status[b.Budget] = b.Status + " " + b.Reason
	}
	if !strings.HasPrefix(status["max-layers"], "pass") || !strings.HasPrefix(status["max-growth"], "unknown the baseline could not be read") {
		t.Errorf("budgets %v: want layers checked and growth unknown for the baseline", status)
	}
	if !strings.Contains(r.stderr, "baseline of "+f.small) || !strings.Contains(r.stderr, "gone.json") || len(stderrLines(r.stderr)) != 1 {
		t.Errorf("stderr %q: want one line naming the image and its baseline", r.stderr)
	}
}

// --max-layers takes none like the other limits, to drop a file's value.
func TestCheckMaxLayersNone(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	cfg := writeFile(t, t.TempDir(), "c.yaml", "defaults:\n  max-layers: 0\n  max-compressed: 1GB\n")
	if r := runInProcess(t, "check", "--no-cache", "--config", cfg, f.small); r.code != 1 {
		t.Errorf("with the file's max-layers 0: exit %d, want 1", r.code)
	}
	if r := runInProcess(t, "check", "--no-cache", "--config", cfg, f.small, "--max-layers", "none"); r.code != 0 {
		t.Errorf("--max-layers none: exit %d, want 0; %s", r.code, r.stderr)
	}
}

// A JUnit file that cannot be written is exit 4, and leaves nothing behind.
func TestCheckJUnitUnwritable(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	dir := t.TempDir()
	junit := filepath.Join(dir, "missing-dir", "junit.xml")
	r := runInProcess(t, "check", "--no-cache", f.small, "--max-layers", "10", "--junit", junit)
	if r.code != 4 || !strings.Contains(r.stderr, "junit.xml") {
		t.Errorf("exit %d, stderr %q; want 4 naming the file", r.code, r.stderr)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
}

// imgsize.yaml takes ${VAR} and ${VAR:-default} from the environment, as a
// CI job sets them; an unset variable is an error at its file:line.
func TestCheckConfigEnv(t *testing.T) {
	t.Parallel()
	f := newCheckFixture(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "imgsize.yaml", `images:
  - image: ${IMAGE}
    max-compressed: ${LIMIT:-1GB}
    max-layers: ${LAYERS}
`)
	run := func(env ...string) result {
		cmd := exec.Command(binary, "check", "-f", "json", "--no-cache", "--config", cfg)
		cmd.Env = append(os.Environ(), env...)
		return runCmd(t, cmd)
	}
	r := run("IMAGE="+f.small, "LAYERS=10")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; %s", r.code, r.stderr)
	}
	d := decodeCheck(t, r.stdout)
	if len(d.Check.Results) != 1 || d.Check.Results[0].Ref != f.small {
		t.Fatalf("results %+v, want one for %s", d.Check.Results, f.small)
	}
	for _, b := range d.Check.Results[0].Budgets {
		if b.Budget == "max-compressed" && b.Limit != 1e9 {
			t.Errorf("max-compressed limit %v, want the default 1GB", b.Limit)
		}
	}
	// The environment's limit wins over the default, and fails the image.
	if r := run("IMAGE="+f.small, "LAYERS=10", fmt.Sprintf("LIMIT=%d", f.smallC-1)); r.code != 1 {
		t.Errorf("LIMIT below the image's size: exit %d, want 1; %s", r.code, r.stderr)
	}
	r = run("IMAGE=" + f.small)
	if r.code != 2 || !strings.Contains(r.stderr, "imgsize.yaml:4: ${LAYERS} is not set") {
		t.Errorf("LAYERS unset: exit %d, %q; want 2 naming imgsize.yaml:4", r.code, r.stderr)
	}
}

// readOutputs parses a $GITHUB_OUTPUT file as the runner does: name=value
// lines, and name<<DELIM blocks ending at a line DELIM.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("output %s: delimiter %q never closes", name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(lines[i], "=")
		if !ok {
			t.Fatalf("output line %q is neither name=value nor name<<DELIM", lines[i])
		}
		out[name] = val
	}
	return out
}
