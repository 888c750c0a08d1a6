package report

import (
	"io"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
)

// GitHubAnnotations writes GitHub Actions workflow commands for run, one a
// line: ::error for each budget exceeded or unknown and each image that
// could not be read, ::warning for each budget that holds but is near its
// limit (analysis.Result.Near). Passing budgets write nothing, so a clean
// run writes nothing at all. opts.Format is ignored; opts.Binary chooses
// the units.
//
// The runner reads these commands from a step's stdout or stderr and shows
// them on the run and the pull request.
func GitHubAnnotations(w io.Writer, run *analysis.CheckRun, opts Options) error {
	if err := validRun(run); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	for _, ic := range run.Images {
		label := checkLabel(ic)
		if ic.Err != nil {
			ew.line(workflowCommand("error", "imgsize: image unreadable", label+": "+ic.Err.Error()))
			continue
		}
		for _, r := range ic.Results {
			msg := label + ": " + budgetMessage(ic, r, opts.Binary)
			switch {
			case r.Status == analysis.Fail:
				ew.line(workflowCommand("error", "imgsize: "+r.Budget+" exceeded", msg))
			case r.Status != analysis.Pass:
				ew.line(workflowCommand("error", "imgsize: "+r.Budget+" unknown", msg))
			case r.Near:
				ew.line(workflowCommand("warning", "imgsize: "+r.Budget+" near its limit", msg))
			}
		}
	}
	return ew.err
}

// workflowCommand is "::command title=TITLE::MESSAGE" escaped as the
// runner unescapes it (actions/toolkit's command.ts): otherwise a newline
// would end the command early, and a colon or comma in the title would be
// read as the end of the properties. Other controls are made visible
// first, as Terminal does: the runner passes an ESC sequence or a bidi
// override on to the log and the annotation.
func workflowCommand(command, title, message string) string {
	return "::" + command + " title=" + escapeProperty(escapeUnsafe(title, true)) + "::" + escapeData(escapeUnsafe(message, true))
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
