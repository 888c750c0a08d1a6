package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/spf13/cobra"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/cli.md from the commands")

const cliDoc = "../../docs/cli.md"

// cliReference renders every command's help as markdown, so the reference
// in docs/ is generated from the same definitions the binary uses.
func cliReference() []byte {
	var b bytes.Buffer
	b.WriteString("# imgsize command reference\n\nGenerated from the cobra definitions by `go test ./cmd/imgsize -run TestCLIReference -update`; CI fails when it drifts.\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		// cobra adds -h and -v only when it executes; add them now so the
		// reference lists every flag the binary accepts.
		c.InitDefaultHelpFlag()
		c.InitDefaultVersionFlag()
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n```\n%s```\n", c.CommandPath(), firstNonEmpty(c.Long, c.Short), c.UsageString())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&globalOptions{stdout: io.Discard, stderr: io.Discard}))
	return b.Bytes()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func TestCLIReference(t *testing.T) {
	got := cliReference()
	if *updateDocs {
		if err := os.WriteFile(cliDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/cli.md is out of date: run go test ./cmd/imgsize -run TestCLIReference -update")
	}
	for _, c := range []string{"## imgsize inspect", "## imgsize compare", "## imgsize version", "--exact", "--format"} {
		if !bytes.Contains(got, []byte(c)) {
			t.Errorf("reference lacks %q", c)
		}
	}
}
