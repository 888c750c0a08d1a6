package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the heartbeat's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or a generous deadline passes: the
// machine may be busy, and nothing here asserts a duration.
func waitFor(t *testing.T, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// In a log (a pipe, a buffer) there is no bar: one plain line per
// interval while layers are read, with the figures fed, and nothing once
// finished or for a run shorter than the interval.
func TestHeartbeatInALog(t *testing.T) {
	old := heartbeatEvery
	heartbeatEvery = 20 * time.Millisecond
	t.Cleanup(func() { heartbeatEvery = old })

	var out syncBuffer
	m := newMeter(&out, false)
	if m.tty {
		t.Fatal("a buffer taken for a terminal")
	}
	m.planned(3_000_000, 3)
	m.add(1_000_000)
	m.layerDone()
	if !waitFor(t, func() bool { return strings.Count(out.String(), "\n") >= 2 }) {
		t.Fatalf("no heartbeat after many intervals: %q", out.String())
	}
	m.finish()
	got := out.String()
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if !strings.HasPrefix(l, "imgsize: still reading layers: 1.00 MB of 3.00 MB as stored, 1/3 layers, ") {
			t.Errorf("heartbeat line %q", l)
		}
		if strings.ContainsAny(l, "\r\x1b") {
			t.Errorf("control characters in a log line: %q", l)
		}
	}
	time.Sleep(5 * heartbeatEvery)
	if out.String() != got {
		t.Errorf("lines after finish: %q", strings.TrimPrefix(out.String(), got))
	}

	// Nothing planned (a cheap registry run): no line, however long.
	var idle syncBuffer
	m = newMeter(&idle, false)
	time.Sleep(5 * heartbeatEvery)
	m.finish()
	if idle.String() != "" {
		t.Errorf("heartbeat with nothing read: %q", idle.String())
	}
	// Disabled (--quiet, --no-progress): no meter at all.
	if newMeter(&idle, true) != nil {
		t.Error("a meter when disabled")
	}
}

// A run shorter than the interval prints nothing (the default interval).
func TestHeartbeatNotForShortRuns(t *testing.T) {
	var out syncBuffer
	m := newMeter(&out, false)
	m.planned(1000, 1)
	m.add(1000)
	m.layerDone()
	m.finish()
	if out.String() != "" {
		t.Errorf("a short run printed %q", out.String())
	}
}

// On a terminal: a bar with the total and a percentage, cleared at the
// end.
func TestProgressBarOnATerminal(t *testing.T) {
	master, slave := openPTY(t, 120)
	m := newMeter(slave, false)
	if !m.tty {
		t.Fatal("a pseudo-terminal not taken for a terminal")
	}
	var out syncBuffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	m.planned(2_000_000, 2)
	m.add(1_000_000)
	time.Sleep(150 * time.Millisecond) // past the bar's 100 ms throttle
	m.add(10)
	if !waitFor(t, func() bool { return strings.Contains(out.String(), "%") }) {
		t.Fatalf("no bar: %q", out.String())
	}
	m.finish()
	slave.Close()
	// The master reads to its end (EIO) once the slave is closed.
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the terminal's output never ended")
	}
	text := out.String()
	for _, want := range []string{"50%", "2.0 MB", "reading layers 0/2"} {
		if !strings.Contains(text, want) {
			t.Errorf("bar lacks %q: %q", want, text)
		}
	}
	if !strings.HasSuffix(strings.TrimRight(text, " "), "\r") && !strings.Contains(text[max(0, len(text)-40):], "\r") {
		t.Errorf("bar not cleared at the end: %q", text[max(0, len(text)-80):])
	}
}

// The binary in a pipe: a short run writes nothing to stderr.
func TestQuietPipe(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	r := imgsize(t, nil, "inspect", "--format", "json", "--no-cache", "oci:"+dir+":big")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
