package depcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// TestEveryTestBinaryUsesTestmain: each package with tests ends its test
// binary through internal/testmain, or a race-built binary that passes
// sleeps a second at exit (the race detector's atexit_sleep_ms).
func TestEveryTestBinaryUsesTestmain(t *testing.T) {
	const testmain = module + "internal/testmain"
	lines := goList(t, `{{.ImportPath}} {{.Dir}}{{range .TestGoFiles}} {{.}}{{end}}{{range .XTestGoFiles}} {{.}}{{end}}`, "../../...")
	checked := 0
	fset := token.NewFileSet()
	for _, fields := range lines {
		if len(fields) < 3 || fields[0] == testmain {
			continue // no tests, or testmain's own, which calls Run directly
		}
		uses := false
		for _, name := range fields[2:] {
			f, err := parser.ParseFile(fset, filepath.Join(fields[1], name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == testmain {
					uses = true
				}
			}
		}
		if !uses {
			t.Errorf("%s has tests but no TestMain calling testmain.Run (or Exit): its race-built test binary sleeps a second at exit", fields[0])
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("checked %d packages with tests; go list said: %q", checked, lines)
	}
}
