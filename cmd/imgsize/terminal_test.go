package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/mattn/go-runewidth"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal of cols columns: the master to read
// what is written to the slave.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: cols}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// onTerminal runs imgsize with stdout on a terminal of cols columns and
// returns what it printed there.
func onTerminal(t *testing.T, cols uint16, env []string, args ...string) string {
	t.Helper()
	m, s := openPTY(t, cols)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "COLUMNS=", "NO_COLOR="), env...)
	cmd.Stdout = s
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, m); close(done) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("imgsize %v: %v: %s", args, err, errb.String())
	}
	<-done
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

var ansi = strings.NewReplacer("\x1b[31m", "", "\x1b[1m", "", "\x1b[33m", "", "\x1b[32m", "", "\x1b[0m", "")

// TestTerminalFit: on an 80-column terminal no line of compare or inspect
// is wider than 80, --wide gives back the full width, and colour follows
// NO_COLOR and --no-color.
func TestTerminalFit(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	args := []string{"compare", "--no-cache", "oci:" + dir + ":big", "oci:" + dir + ":small"}
	widest := func(s string) int {
		n := 0
		for _, l := range strings.Split(ansi.Replace(s), "\n") {
			n = max(n, runewidth.StringWidth(l))
		}
		return n
	}
	fitted := onTerminal(t, 80, nil, args...)
	if w := widest(fitted); w > 80 || !strings.Contains(fitted, "█") {
		t.Errorf("on 80 columns: widest line %d, bars %v:\n%s", w, strings.Contains(fitted, "█"), fitted)
	}
	if !strings.Contains(fitted, "\x1b[") {
		t.Errorf("no colour on a terminal")
	}
	if wide := onTerminal(t, 80, nil, append([]string{"--wide"}, args...)...); widest(wide) <= 80 {
		t.Errorf("--wide is %d columns at most", widest(wide))
	}
	if plain := onTerminal(t, 80, []string{"NO_COLOR=1"}, args...); strings.Contains(plain, "\x1b[") {
		t.Errorf("colour despite NO_COLOR")
	}
	if plain := onTerminal(t, 80, nil, append([]string{"--no-color"}, args...)...); strings.Contains(plain, "\x1b[") {
		t.Errorf("colour despite --no-color")
	}
	if col := onTerminal(t, 200, []string{"COLUMNS=100"}, append([]string{"inspect"}, args[1:]...)...); widest(col) > 100 {
		t.Errorf("COLUMNS=100: %d columns", widest(col))
	}
	// A pipe gets the full, plain table.
	if r := runInProcess(t, args...); strings.Contains(r.stdout, "\x1b[") || strings.Contains(r.stdout, "█") {
		t.Errorf("colour or bars in a pipe:\n%s", r.stdout)
	}
}
