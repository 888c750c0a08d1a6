// Command reportcheck validates the JSON report on its standard input
// against the report schema, as testutil.CheckReport does, and exits 1
// with the validator's output when it does not validate.
//
// The tests run it, built without the race detector, for reports of
// megabytes: validating the reports of 5,000 layers cost a race-built test
// process about 5 s of CPU, and this about 1.3 s.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/imgsize/imgsize/internal/testutil"
)

func main() {
	doc, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = testutil.CheckReport(doc)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
