package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
)

// The JUnit document as a CI system reads it, declared apart from the
// production structs so that a change there cannot pass by changing both.
type (
	ciSuites struct {
		XMLName  xml.Name  `xml:"testsuites"`
		Name     string    `xml:"name,attr"`
		Tests    string    `xml:"tests,attr"`
		Failures string    `xml:"failures,attr"`
		Errors   string    `xml:"errors,attr"`
		Time     string    `xml:"time,attr"`
		Suites   []ciSuite `xml:"testsuite"`
	}
	ciSuite struct {
		Name       string        `xml:"name,attr"`
		Tests      string        `xml:"tests,attr"`
		Failures   string        `xml:"failures,attr"`
		Errors     string        `xml:"errors,attr"`
		Skipped    string        `xml:"skipped,attr"`
		Time       string        `xml:"time,attr"`
		Timestamp  string        `xml:"timestamp,attr"`
		Properties *ciProperties `xml:"properties"`
		Cases      []ciCase      `xml:"testcase"`
	}
	ciProperties struct {
		List []ciProperty `xml:"property"`
	}
	ciProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	ciCase struct {
		Name      string      `xml:"name,attr"`
		Classname string      `xml:"classname,attr"`
		Time      string      `xml:"time,attr"`
		Failures  []ciProblem `xml:"failure"`
		Errors    []ciProblem `xml:"error"`
		Skipped   []ciProblem `xml:"skipped"`
	}
	ciProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	}
)

func renderJUnit(t *testing.T, run *analysis.CheckRun) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := JUnit(&buf, run, Options{Time: goldenTime}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func atoi(t *testing.T, what, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Errorf("%s = %q, not a count", what, s)
	}
	return n
}

func TestJUnitStructure(t *testing.T) {
	out := renderJUnit(t, mixedRun())
	golden(t, "check_mixed.junit.xml.golden", out)
	if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
		t.Errorf("no XML declaration:\n%s", out)
	}
	var doc ciSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "imgsize check" || doc.Time != "0" {
		t.Errorf("testsuites name %q, time %q", doc.Name, doc.Time)
	}
	run := mixedRun()
	if len(doc.Suites) != len(run.Images) {
		t.Fatalf("%d suites, want one per image (%d)", len(doc.Suites), len(run.Images))
	}
	var tests, failures, errs int
	for i, s := range doc.Suites {
		if s.Name != run.Images[i].Arg {
			t.Errorf("suite %d name %q, want %q", i, s.Name, run.Images[i].Arg)
		}
		if s.Timestamp != "2026-11-27T12:00:00Z" || s.Time != "0" || s.Skipped != "0" {
			t.Errorf("suite %s: timestamp %q, time %q, skipped %q", s.Name, s.Timestamp, s.Time, s.Skipped)
		}
		var f, e int
		for _, c := range s.Cases {
			if c.Name == "" || c.Classname == "" || c.Time == "" {
				t.Errorf("suite %s: testcase %+v lacks name, classname or time", s.Name, c)
			}
			if !strings.Contains(c.Name, s.Name) {
				t.Errorf("testcase %q does not name its image %q", c.Name, s.Name)
			}
			for _, p := range append(append([]ciProblem{}, c.Failures...), c.Errors...) {
				if p.Message == "" || p.Type == "" || strings.ContainsAny(p.Message, "\r\n") {
					t.Errorf("%s: problem without a one-line message and a type: %+v", c.Name, p)
				}
			}
			if len(c.Failures)+len(c.Errors) > 1 || len(c.Skipped) > 0 {
				t.Errorf("%s: %d failures, %d errors, %d skipped", c.Name, len(c.Failures), len(c.Errors), len(c.Skipped))
			}
			f += len(c.Failures)
			e += len(c.Errors)
		}
		if got := atoi(t, "tests", s.Tests); got != len(s.Cases) {
			t.Errorf("suite %s tests=%d, has %d testcases", s.Name, got, len(s.Cases))
		}
		if got := atoi(t, "failures", s.Failures); got != f {
			t.Errorf("suite %s failures=%d, has %d", s.Name, got, f)
		}
		if got := atoi(t, "errors", s.Errors); got != e {
			t.Errorf("suite %s errors=%d, has %d", s.Name, got, e)
		}
		tests, failures, errs = tests+len(s.Cases), failures+f, errs+e
	}
	if atoi(t, "tests", doc.Tests) != tests || atoi(t, "failures", doc.Failures) != failures || atoi(t, "errors", doc.Errors) != errs {
		t.Errorf("testsuites tests/failures/errors = %s/%s/%s, suites add up to %d/%d/%d", doc.Tests, doc.Failures, doc.Errors, tests, failures, errs)
	}
	// The same totals as the gate's: 16 budgets, 6 failed; 2 unreadable
	// images, one testcase each.
	if tests != 16+2 || failures != 6 || errs != 2 {
		t.Errorf("totals %d/%d/%d, want 18/6/2", tests, failures, errs)
	}

	byName := map[string]ciCase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			byName[c.Name] = c
		}
	}
	c := byName["max-compressed (example.com/app:shared)"]
	if len(c.Failures) != 1 || c.Failures[0].Type != "budget-exceeded" ||
		c.Failures[0].Message != "compressed size 405 MB exceeds the 400 MB budget by 5.00 MB" ||
		!strings.Contains(c.Failures[0].Body, "actual: 405 MB (405000000 bytes)") {
		t.Errorf("shared max-compressed = %+v", c)
	}
	c = byName["max-compressed (docker-archive:single.tar)"]
	if len(c.Failures) != 1 || c.Failures[0].Type != "budget-unknown" || !strings.Contains(c.Failures[0].Message, "the compressed size is not known") {
		t.Errorf("archive max-compressed = %+v", c)
	}
	c = byName["read image (example.com/app:missing)"]
	if len(c.Errors) != 1 || c.Errors[0].Type != "image-unreadable" || !strings.Contains(c.Errors[0].Message, "MANIFEST_UNKNOWN") {
		t.Errorf("missing = %+v", c)
	}
	if c := byName["max-growth (example.com/app:shared)"]; len(c.Failures)+len(c.Errors) != 0 {
		t.Errorf("a near pass is not a failure: %+v", c)
	}
	if doc.Suites[6].Properties != nil {
		t.Errorf("empty <properties> for an image not read: %+v", doc.Suites[6].Properties)
	}
	props := map[string]string{}
	for _, p := range doc.Suites[2].Properties.List {
		props[p.Name] = p.Value
	}
	if props["digest"] != hash("5").String() || props["baseline"] != "example.com/app:single" || props["growth-basis"] != "uncompressed" {
		t.Errorf("gzip suite properties = %v", props)
	}

	xmllint(t, out)
}

// Characters XML gives meaning to, and control characters, come through
// as text.
func TestJUnitEscaping(t *testing.T) {
	nasty := "oci:<a&b>\"'\x01\nz"
	run := &analysis.CheckRun{Images: []analysis.ImageCheck{{Arg: nasty, Err: errors.New("bad <xml> & \"quotes\"")}}}
	out := renderJUnit(t, run)
	var doc ciSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	e := doc.Suites[0].Cases[0].Errors[0]
	if !strings.Contains(e.Message, `bad <xml> & "quotes"`) {
		t.Errorf("message = %q", e.Message)
	}
	if !strings.HasPrefix(doc.Suites[0].Name, "oci:<a&b>\"'") {
		t.Errorf("suite name = %q", doc.Suites[0].Name)
	}
	xmllint(t, out)
}

func TestJUnitPass(t *testing.T) {
	var doc ciSuites
	if err := xml.Unmarshal(renderJUnit(t, passRun()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != "3" || doc.Failures != "0" || doc.Errors != "0" {
		t.Errorf("tests/failures/errors = %s/%s/%s, want 3/0/0", doc.Tests, doc.Failures, doc.Errors)
	}
	// Without a time there is no timestamp rather than year 1.
	var buf bytes.Buffer
	if err := JUnit(&buf, passRun(), Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "timestamp=") {
		t.Errorf("timestamp without a time:\n%s", buf.String())
	}
}

// xmllint checks well-formedness independently of encoding/xml.
func xmllint(t *testing.T, doc []byte) {
	t.Helper()
	t.Run("xmllint", func(t *testing.T) {
		if _, err := exec.LookPath("xmllint"); err != nil {
			t.Skip("xmllint not installed; well-formedness checked by encoding/xml only")
		}
		path := filepath.Join(t.TempDir(), "junit.xml")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("xmllint", "--noout", path).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	})
}
