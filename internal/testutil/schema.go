package testutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imgsize/imgsize/pkg/schema"
)

// ReportSchemaID is the $id of report.schema.json (schema.JSONSchema).
const ReportSchemaID = "https://imgsize.dev/schema/report/v2.json"

var reportSchema struct {
	once sync.Once
	sch  *jsonschema.Schema
	err  error
}

// ReportSchema returns schema.JSONSchema compiled, with format assertions on
// (so "time" must be an RFC 3339 date-time). It is compiled once; the
// schema must stand alone, so the compiler loads nothing from files or the
// network (only the draft 2020-12 metaschema, which the library embeds).
func ReportSchema() (*jsonschema.Schema, error) {
	reportSchema.once.Do(func() {
		reportSchema.sch, reportSchema.err = compileReportSchema()
	})
	return reportSchema.sch, reportSchema.err
}

func compileReportSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSONSchema))
	if err != nil {
		return nil, fmt.Errorf("reading report.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file or URL is loadable
	if err := c.AddResource(ReportSchemaID, doc); err != nil {
		return nil, fmt.Errorf("adding report.schema.json: %w", err)
	}
	sch, err := c.Compile(ReportSchemaID)
	if err != nil {
		return nil, fmt.Errorf("compiling report.schema.json: %w", err)
	}
	return sch, nil
}

// CheckReport validates doc, a JSON report, against schema.JSONSchema. The
// error of a document that does not validate carries the validator's
// detailed output: every failing keyword, with where in the document and
// where in the schema it failed.
func CheckReport(doc []byte) error {
	sch, err := ReportSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	detailed, merr := json.MarshalIndent(ve.DetailedOutput(), "", "  ")
	if merr != nil {
		return fmt.Errorf("%w (detailed output: %v)", err, merr)
	}
	return fmt.Errorf("%w\ndetailed output:\n%s", err, detailed)
}

// ValidateReport fails the test unless doc, a JSON report, validates
// against schema.JSONSchema; the failure shows the validator's detailed
// output.
func ValidateReport(t testing.TB, doc []byte) {
	t.Helper()
	if err := CheckReport(doc); err != nil {
		t.Fatalf("report does not validate against %s: %v", ReportSchemaID, err)
	}
}
