package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packages' man pages and completions: one page per command, in roff,
// and completions each shell loads.
func TestGenDocs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	man, comp := filepath.Join(dir, "man"), filepath.Join(dir, "completions")
	if r := runInProcess(t, "gen-docs", "--man", man, "--completions", comp); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, c := range []string{"imgsize", "imgsize-inspect", "imgsize-compare", "imgsize-check", "imgsize-files", "imgsize-diff"} {
		b, err := os.ReadFile(filepath.Join(man, c+".1"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), ".nh\n.TH \"IMGSIZE\" \"1\"") || !strings.Contains(string(b), ".SH NAME") {
			t.Errorf("%s.1 is not a section-1 man page:\n%.200s", c, b)
		}
	}
	if _, err := os.Stat(filepath.Join(man, "imgsize-gen-docs.1")); err == nil {
		t.Error("the hidden gen-docs command has a man page")
	}
	for name, want := range map[string]string{"imgsize.bash": "__start_imgsize", "_imgsize": "#compdef imgsize", "imgsize.fish": "complete -c imgsize"} {
		b, err := os.ReadFile(filepath.Join(comp, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	if r := runInProcess(t, "gen-docs"); r.code != 2 {
		t.Errorf("gen-docs without a directory: exit %d, want 2", r.code)
	}
}
