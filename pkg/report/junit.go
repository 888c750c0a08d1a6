package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/imgsize/imgsize/pkg/analysis"
)

// The elements of JUnit XML as Jenkins' junit plugin, GitLab, Azure DevOps
// and CircleCI read them. There is no official schema; these are the
// elements and attributes they all agree on (Ant's JUnit report).
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string `xml:"name,attr"`
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
		Skipped   int    `xml:"skipped,attr"`
		Time      string `xml:"time,attr"`
		Timestamp string `xml:"timestamp,attr,omitempty"`
		// Properties is nil rather than empty: Jenkins' schema wants at
		// least one <property> in a <properties>.
		Properties *junitProperties `xml:"properties,omitempty"`
		Cases      []junitCase      `xml:"testcase"`
	}
	junitProperties struct {
		Properties []junitProperty `xml:"property"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
	}
	// junitProblem is a <failure> (a budget not met) or an <error> (an
	// image that could not be read, so nothing was checked).
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// The type attributes of failures and errors, for tools that group by them.
const (
	junitExceeded   = "budget-exceeded"
	junitUnknown    = "budget-unknown"
	junitUnreadable = "image-unreadable"
	junitClassname  = "imgsize.check"
)

// JUnit writes run as JUnit XML for GitLab, Jenkins, Azure DevOps and
// CircleCI: a <testsuite> per image, a <testcase> per budget, a <failure>
// for a budget exceeded (type "budget-exceeded") or not known
// ("budget-unknown"), and for an image that could not be read a single
// testcase with an <error> (type "image-unreadable"). A budget that holds
// near its limit passes; JUnit has no warning.
//
// A testcase is named by its budget and image, "max-compressed
// (example.com/app:1.2)": GitLab and Jenkins list testcases by classname
// and name and ignore the suite, so the budget alone would list the same
// name once per image. opts.Time, when set, is each suite's timestamp; no
// time is measured (time="0").
func JUnit(w io.Writer, run *analysis.CheckRun, opts Options) error {
	if err := validRun(run); err != nil {
		return err
	}
	doc := junitDocument(run, opts)
	doc.sanitize()
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, xml.Header+string(out)+"\n"); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}

func junitDocument(run *analysis.CheckRun, opts Options) junitSuites {
	doc := junitSuites{Name: "imgsize check", Time: "0", Suites: []junitSuite{}}
	stamp := ""
	if !opts.Time.IsZero() {
		stamp = opts.Time.UTC().Format(time.RFC3339)
	}
	for _, ic := range run.Images {
		s := junitSuite{Name: checkLabel(ic), Time: "0", Timestamp: stamp, Properties: suiteProperties(ic)}
		if ic.Err != nil {
			s.Cases = append(s.Cases, junitCase{
				Name:      "read image (" + s.Name + ")",
				Classname: junitClassname,
				Time:      "0",
				Error: &junitProblem{
					Message: s.Name + ": " + ic.Err.Error(),
					Type:    junitUnreadable,
					Text:    junitUnreadableText(ic),
				},
			})
		}
		for _, r := range checkedResults(ic) {
			c := junitCase{Name: r.Budget + " (" + s.Name + ")", Classname: junitClassname, Time: "0"}
			switch r.Status {
			case analysis.Pass:
			case analysis.Fail:
				c.Failure = &junitProblem{Message: budgetMessage(ic, r, opts.Binary), Type: junitExceeded, Text: junitDetails(ic, r, opts.Binary)}
			default:
				c.Failure = &junitProblem{Message: budgetMessage(ic, r, opts.Binary), Type: junitUnknown, Text: junitDetails(ic, r, opts.Binary)}
			}
			s.Cases = append(s.Cases, c)
		}
		for _, c := range s.Cases {
			s.Tests++
			if c.Failure != nil {
				s.Failures++
			}
			if c.Error != nil {
				s.Errors++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	return doc
}

// junitProperties record what the image was, so a test report kept for
// months still says which build it judged.
func suiteProperties(ic analysis.ImageCheck) *junitProperties {
	var ps []junitProperty
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, junitProperty{Name: name, Value: value})
		}
	}
	if img := ic.Image; img != nil {
		add("name", img.Name)
		if !img.SyntheticManifest {
			add("digest", hashString(img.Digest))
		}
		add("image-id", hashString(img.ConfigDigest))
		add("platform", platformString(img.Platform))
	}
	add("baseline", baselineLabel(ic))
	if b := ic.Baseline; b != nil && !b.SyntheticManifest {
		add("baseline-digest", hashString(b.Digest))
	}
	if ic.Budgets.MaxGrowth != nil {
		add("growth-basis", string(ic.Budgets.Basis()))
	}
	if ic.Budgets.WarnAt > 0 {
		add("warn-at", strconv.FormatFloat(ic.Budgets.WarnAt, 'f', -1, 64))
	}
	if len(ps) == 0 {
		return nil
	}
	return &junitProperties{Properties: ps}
}

// junitDetails is a failure's body: every figure humanized and, for bytes,
// raw, with how it was obtained.
func junitDetails(ic analysis.ImageCheck, r analysis.Result, binary bool) string {
	f := resultFigures(r, binary)
	var b strings.Builder
	// Each value is Terminal'ed here, before the lines are joined: a
	// newline in a reason must not start a line of its own.
	line := func(label, value string) {
		if value != "" {
			b.WriteString(label + ": " + Terminal(value) + "\n")
		}
	}
	raw := func(v float64) string {
		if r.Unit != analysis.UnitBytes {
			return ""
		}
		return " (" + strconv.FormatInt(wholeBytes(v), 10) + " bytes)"
	}
	line("image", checkLabel(ic))
	line("budget", budgetLabel(ic, r))
	line("limit", f.limit+raw(r.Limit))
	if f.known {
		line("actual", f.actual+raw(r.Actual))
		line("margin", f.margin+raw(r.Margin))
	} else {
		line("actual", "unknown")
	}
	line("status", string(r.Status))
	line("provenance", string(resultSize(ic, r).Provenance))
	if s := resultSize(ic, r); f.known && s.Reason != "" {
		line("provenance reason", s.Reason)
	}
	line("reason", r.Reason)
	return b.String()
}

func junitUnreadableText(ic analysis.ImageCheck) string {
	var b strings.Builder
	b.WriteString("image: " + Terminal(checkLabel(ic)) + "\n")
	if base := baselineLabel(ic); base != "" {
		b.WriteString("baseline: " + Terminal(base) + "\n")
	}
	b.WriteString("error: " + Terminal(ic.Err.Error()) + "\n")
	b.WriteString("no budget of this image was checked\n")
	return b.String()
}

// sanitize applies Terminal to every attribute: encoding/xml keeps them
// valid XML (it writes a newline as &#xA; and replaces what XML cannot
// hold), but a CI page shows them as text, where a control or a bidi
// override misleads like on a terminal. Bodies are built of lines already
// made safe (junitDetails, junitUnreadableText).
func (doc *junitSuites) sanitize() {
	doc.Name = Terminal(doc.Name)
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Name = Terminal(s.Name)
		if s.Properties != nil {
			for j := range s.Properties.Properties {
				p := &s.Properties.Properties[j]
				p.Name, p.Value = Terminal(p.Name), Terminal(p.Value)
			}
		}
		for j := range s.Cases {
			c := &s.Cases[j]
			c.Name, c.Classname = Terminal(c.Name), Terminal(c.Classname)
			for _, p := range []*junitProblem{c.Failure, c.Error} {
				if p != nil {
					p.Message, p.Type = Terminal(p.Message), Terminal(p.Type)
				}
			}
		}
	}
}
