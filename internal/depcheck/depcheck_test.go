// Package depcheck holds a test that keeps imgsize's data flow one-way.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/imgsize/imgsize/"

// forbidden lists, for each step of source → layers → analysis → report,
// the later steps it must never import.
var forbidden = map[string][]string{
	"pkg/errdefs":  {"pkg/source", "pkg/layers", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/source":   {"pkg/layers", "pkg/analysis", "pkg/report", "cmd/"},
	"pkg/layers":   {"pkg/analysis", "pkg/report", "cmd/"},
	"pkg/analysis": {"pkg/report", "cmd/"},
	"pkg/report":   {"cmd/"},
}

func TestOneWayFlow(t *testing.T) {
	checked := 0
	for pkg, bad := range forbidden {
		deps, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			for _, b := range bad {
				if strings.HasPrefix(d, module+b) {
					t.Errorf("%s imports %s: data must flow source → layers → analysis → report → cmd", pkg, d)
				}
			}
		}
		checked++
	}
	if checked != len(forbidden) {
		t.Fatalf("checked %d packages", checked)
	}
}
