package layers_test

import (
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/layers"
)

// notCached are the provenances that describe no fact of a blob (a guess,
// an absence, a total), so the cache must refuse them.
var notCached = []layers.Provenance{layers.Estimated, layers.Unknown, layers.Mixed}

// declaredProvenances reads every Provenance constant this package
// declares from its source, so a provenance added later is checked too,
// without anyone remembering to list it here.
func declaredProvenances(t *testing.T) map[string]layers.Provenance {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]layers.Provenance{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Provenance" {
					continue
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: Provenance constant %s is not a string literal", p, n.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[n.Name] = layers.Provenance(v)
				}
			}
		}
	}
	return out
}

// TestCacheAgreesOnProvenances: pkg/cache keeps its own list of the
// provenances an entry may carry (it sits beneath layers and cannot import
// it). The lists must agree: a provenance the cache refused would never be
// cached, and one it accepted that layers does not know would reach a
// report the schema rejects.
func TestCacheAgreesOnProvenances(t *testing.T) {
	t.Parallel()
	declared := declaredProvenances(t)
	for _, want := range []layers.Provenance{layers.Exact, layers.Annotation, layers.GzipTrailer, layers.ZstdHeader, layers.Estimated} {
		if !slices.Contains(slices.Collect(maps.Values(declared)), want) {
			t.Fatalf("reading the source found %v, which lacks %q", declared, want)
		}
	}
	accepted := cache.Provenances()
	for name, p := range declared {
		cacheable := !slices.Contains(notCached, p)
		if got := slices.Contains(accepted, string(p)); got != cacheable {
			t.Errorf("%s (%q): pkg/cache accepts it %v, want %v; update pkg/cache's provenances or notCached here", name, p, got, cacheable)
		}
		// The list is what Put and Get enforce, both ways.
		c := cache.New(t.TempDir())
		sum := sha256.Sum256([]byte(p))
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		err := c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: string(p)})
		e, ok := c.Get(h)
		if cacheable && (err != nil || !ok || layers.Provenance(e.Provenance) != p) {
			t.Errorf("%s: Put = %v, Get = %+v, %v; want it cached", name, err, e, ok)
		}
		if !cacheable && (err == nil || ok) {
			t.Errorf("%s: Put = %v, Get hit %v; want it refused", name, err, ok)
		}
	}
	for _, a := range accepted {
		if !slices.Contains(slices.Collect(maps.Values(declared)), layers.Provenance(a)) {
			t.Errorf("pkg/cache accepts %q, which is no layers.Provenance", a)
		}
	}
}
