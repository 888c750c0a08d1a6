// The packages linked into imgsize compile no regexp at start-up.
//
// Every package-level regexp.MustCompile runs before main, in every run:
// `imgsize version`, `--help` and a saved report's read paid for patterns
// only an error message, a config file or a colour terminal needs (about
// 120 KB of allocations and 90 page faults per start, 2026-12-07). Such a
// pattern is compiled on first use instead, with sync.OnceValue.
//
// It lives beside the flow check, not in a package of its own: each test
// package is one more race-instrumented binary for go test ./... to link.

package depcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// compiles are the regexp functions that compile a pattern.
var compiles = map[string]bool{"Compile": true, "CompilePOSIX": true, "MustCompile": true, "MustCompilePOSIX": true}

// atInit returns the positions of the regexp compiles in f that run when
// its package is initialised: in package-level variable initialisers and
// init functions, outside function literals (which run when called).
func atInit(fset *token.FileSet, f *ast.File) []string {
	names := map[string]bool{}
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "regexp" {
			name := "regexp"
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = true
		}
	}
	if len(names) == 0 {
		return nil
	}
	var found []string
	find := func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && compiles[sel.Sel.Name] {
				if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] {
					found = append(found, fset.Position(n.Pos()).String())
				}
			}
		}
		return true
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				ast.Inspect(d, find)
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" {
				ast.Inspect(d.Body, find)
			}
		}
	}
	return found
}

func TestAtInit(t *testing.T) {
	src := `package p

import (
	"regexp"
	re "regexp"
	"sync"
)

var a = regexp.MustCompile("a")

var (
	b = re.Compile
	c = []struct{ r *regexp.Regexp }{{regexp.MustCompilePOSIX("c")}}
	d = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("d") })
)

func init() { _, _ = re.Compile("e") }

func f() *regexp.Regexp { return regexp.MustCompile("f") }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(atInit(fset, f), " ")
	// a, c and the init function's; not b (no call), d (on first use) or f.
	if want := "p.go:9:9 p.go:13:36 p.go:17:22"; got != want {
		t.Errorf("atInit = %s, want %s", got, want)
	}
}

func TestNoRegexpCompiledAtStart(t *testing.T) {
	// The packages linked into the binary: test helpers may do as they like.
	lines := goList(t, "{{.ImportPath}} {{.Dir}} {{join .GoFiles \" \"}}", "-deps", "../../cmd/imgsize")
	checked := 0
	fset := token.NewFileSet()
	for _, fields := range lines {
		if !strings.HasPrefix(fields[0]+"/", module) {
			continue
		}
		for _, name := range fields[2:] {
			f, err := parser.ParseFile(fset, filepath.Join(fields[1], name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, pos := range atInit(fset, f) {
				t.Errorf("%s: a regexp compiled when the package is initialised, before main in every run of imgsize; compile it on first use (sync.OnceValue)", pos)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("checked %d packages of %s; go list said: %q", checked, module, lines)
	}
}
