// Package depcheck holds tests of what imgsize's packages import and run:
// the data flows one way, and start-up does no avoidable work.
package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/imgsize/imgsize/"

// forbidden lists, for each step of source → layers → analysis → report,
// the later steps it must never import. pkg/cache sits beneath layers (which
// reads and writes it) and beside source: it knows nothing of the flow, and
// source, which turns arguments into images, has no use for it. pkg/files
// (what each layer holds) is the model's other half, beside layers. pkg/schema,
// the JSON report, is a leaf: report writes it and source reads it back.
// pkg/packages parses package databases from plain data: it imports none
// of the flow, and analysis calls it.
var forbidden = map[string][]string{
	"pkg/errdefs":  {"pkg/cache", "pkg/schema", "pkg/source", "pkg/layers", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/schema":   {"pkg/cache", "pkg/source", "pkg/layers", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/cache":    {"pkg/source", "pkg/layers", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/source":   {"pkg/cache", "pkg/layers", "pkg/files", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/files":    {"pkg/layers", "pkg/analysis", "pkg/config", "pkg/report", "cmd/"},
	"pkg/packages": {"pkg/cache", "pkg/source", "pkg/files", "pkg/layers", "pkg/analysis", "pkg/config", "pkg/report", "cmd/"},
	"pkg/layers":   {"pkg/files", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/analysis": {"pkg/report", "pkg/config", "cmd/"},
	"pkg/config":   {"pkg/report", "cmd/"},
	"pkg/report":   {"cmd/"},
}

// violations returns the deps that are one of bad or inside one. An entry
// ending in "/" names a tree; any other names a package and the packages
// under it, but not a sibling sharing its prefix ("pkg/cache" is not
// "pkg/cachex").
func violations(deps, bad []string) []string {
	var out []string
	for _, d := range deps {
		rel, ok := strings.CutPrefix(d, module)
		if !ok {
			continue
		}
		for _, b := range bad {
			if strings.HasSuffix(b, "/") && strings.HasPrefix(rel, b) ||
				rel == b || strings.HasPrefix(rel, b+"/") {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func TestViolations(t *testing.T) {
	deps := []string{
		"fmt",
		module + "pkg/errdefs",
		module + "pkg/cache",
		module + "pkg/cachex",
		module + "pkg/layers/internal/x",
		module + "cmd/imgsize",
		"example.com/other/pkg/cache",
	}
	got := violations(deps, []string{"pkg/cache", "pkg/layers", "cmd/"})
	want := []string{module + "pkg/cache", module + "pkg/layers/internal/x", module + "cmd/imgsize"}
	if !slices.Equal(got, want) {
		t.Errorf("violations = %q, want %q", got, want)
	}
}

func TestOneWayFlow(t *testing.T) {
	// One go list for all the packages, each line a package and its
	// dependencies (.Deps: all it imports, directly or not, as -deps
	// lists them): a go command per package cost more than the check.
	var pkgs []string
	for pkg := range forbidden {
		pkgs = append(pkgs, "../../"+pkg)
	}
	lines := goList(t, "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", pkgs...)
	checked := 0
	for _, fields := range lines {
		pkg, ok := strings.CutPrefix(fields[0], module)
		bad, listed := forbidden[pkg]
		if !ok || !listed {
			t.Fatalf("go list answered for %s, which was not asked", fields[0])
		}
		for _, d := range violations(fields[1:], bad) {
			t.Errorf("%s imports %s: data must flow source → layers → analysis → report → cmd, with cache beneath layers", pkg, d)
		}
		checked++
	}
	if checked != len(forbidden) {
		t.Fatalf("checked %d packages", checked)
	}
}

// goList runs go list -f format on patterns and returns the fields of
// each line it prints: one go command for all the packages a check
// reads, which cost more than the check when run per package.
func goList(t *testing.T, format string, patterns ...string) [][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", format}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var lines [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lines = append(lines, strings.Fields(line))
	}
	return lines
}
