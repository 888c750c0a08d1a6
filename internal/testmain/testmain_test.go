package testmain

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Run(m) }

// childEnv makes this test binary, run again, act as a package whose
// tests pass or fail.
const childEnv = "IMGSIZE_TESTMAIN_CHILD"

func TestChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("run by TestExit in a process of its own")
	case "fail":
		t.Fatal("failing, as asked")
	}
}

// TestExit runs this binary again with a race-detector pause of a
// minute: a passing run that returned within 30 s did not pause, and a
// failing one keeps its status.
func TestExit(t *testing.T) {
	if !raceEnabled {
		t.Skip("only a race-built binary pauses at exit (go test -race)")
	}
	for _, c := range []struct {
		mode string
		ok   bool
	}{{"pass", true}, {"fail", false}} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+c.mode, "GORACE=atexit_sleep_ms=60000")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if c.ok != (err == nil) {
			t.Errorf("%s: exit %v, want success %v\n%s", c.mode, err, c.ok, out)
		}
		if c.ok && took > 30*time.Second {
			t.Errorf("%s: took %v: the race detector's pause of a minute was not skipped", c.mode, took)
		}
		if !c.ok && !strings.Contains(string(out), "failing, as asked") {
			t.Errorf("%s: the child's output lacks its failure:\n%s", c.mode, out)
		}
	}
}
