package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgsize/imgsize/pkg/report"
)

// syncBuffer is a bytes.Buffer safe for a writer's and a reader's
// goroutines.
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

// drain copies r into a buffer until r ends (EOF, or EIO from a
// pseudo-terminal's master once its slave is closed); wait returns what
// was read.
func drain(t *testing.T, r io.Reader) (buf *syncBuffer, wait func() string) {
	t.Helper()
	buf = &syncBuffer{}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(buf, r); close(done) }()
	return buf, func() string {
		t.Helper()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the output never ended")
		}
		return buf.String()
	}
}

// In a log (a pipe) there is no bar: one plain line per interval while
// the run lasts, with the figures fed, and nothing once finished.
func TestHeartbeatInALog(t *testing.T) {
	t.Parallel()
	const every = 20 * time.Millisecond
	mb := func(n int64) string { return report.FormatBytes(n, false) }
	for _, tc := range []struct {
		name string
		feed func(m *meter)
		want string // every line's start
	}{
		{
			name: "reading layers",
			feed: func(m *meter) {
				m.planned(3_000_000, 2)
				m.planned(1_000_000, 1) // a second image adds to the totals
				m.add(1_500_000)
				m.layerDone()
			},
			want: "imgsize: still reading layers: " + mb(1_500_000) + " of " + mb(4_000_000) + " as stored, 1/3 layers, ",
		},
		{
			// Manifests, probes, an engine's export: alive, no figures.
			name: "nothing planned yet",
			feed: func(*meter) {},
			want: "imgsize: still working, no layer read so far, ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out, wait := drain(t, r)
			m := newMeter(w, false, every)
			if m.tty {
				t.Fatal("a pipe taken for a terminal")
			}
			tc.feed(m)
			if !waitFor(t, func() bool { return strings.Count(out.String(), "\n") >= 2 }) {
				t.Fatalf("fewer than 2 heartbeats after many intervals: %q", out.String())
			}
			m.finish()
			// Whatever the meter wrote came before this mark; give a
			// heartbeat left running a few intervals to show itself.
			if _, err := io.WriteString(w, "finished\n"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * every)
			w.Close()
			got := wait()
			before, after, _ := strings.Cut(got, "finished\n")
			if after != "" {
				t.Errorf("lines after finish: %q", after)
			}
			for _, l := range strings.Split(strings.TrimSuffix(before, "\n"), "\n") {
				if !strings.HasPrefix(l, tc.want) {
					t.Errorf("heartbeat %q, want it to start %q", l, tc.want)
				}
				if strings.ContainsAny(l, "\r\x1b") {
					t.Errorf("control characters in a log line: %q", l)
				}
			}
		})
	}
}

// A run shorter than the interval prints nothing, and a disabled meter
// (--quiet, --no-progress) does not exist.
func TestHeartbeatNotForShortRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		feed func(m *meter)
	}{
		{"layers read", func(m *meter) { m.planned(1000, 1); m.add(1000); m.layerDone() }},
		{"nothing read", func(*meter) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			m := newMeter(&out, false, heartbeatEvery)
			tc.feed(m)
			m.finish()
			m.finish() // idempotent: newLoader's done may run twice
			if out.String() != "" {
				t.Errorf("a short run printed %q", out.String())
			}
		})
	}
	if newMeter(&syncBuffer{}, true, time.Millisecond) != nil {
		t.Error("a meter when disabled")
	}
}

// barCleared matches a bar's end: the line overwritten with blanks and
// the cursor back at its start.
var barCleared = regexp.MustCompile(`\r +\r$`)

// On a terminal: a bar with the stored bytes done and total, a
// percentage, layers done and total, rate and ETA; its total grows as
// images plan reads, even past a moment when all planned was read; it
// writes no newline and is cleared at the end.
func TestProgressBarOnATerminal(t *testing.T) {
	t.Parallel()
	master, slave := openPTY(t, 200)
	m := newMeter(slave, false, time.Millisecond)
	if !m.tty {
		t.Fatal("a pseudo-terminal not taken for a terminal")
	}
	out, wait := drain(t, master)
	// until feeds a byte at a time (the bar redraws at most every 100
	// ms) until the terminal shows every string of want.
	until := func(want ...string) {
		t.Helper()
		ok := waitFor(t, func() bool {
			m.add(1)
			text := out.String()
			for _, w := range want {
				if !strings.Contains(text, w) {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Fatalf("the bar never showed %q: %q", want, out.String())
		}
	}
	m.planned(2_000_000, 2)
	m.add(1_000_000)
	until("50%", "1.0/2.0 MB", "layers 0/2, bytes as stored")
	m.layerDone()
	until("layers 1/2")
	m.add(1_000_000)
	m.layerDone()
	// All planned is read; another image plans more, and the bar goes on.
	m.planned(2_000_000, 1)
	until("layers 2/3", "/4.0 MB")
	m.finish()
	slave.Close()
	text := wait()
	if !regexp.MustCompile(`\d+(\.\d+)? [kM]?B/s`).MatchString(text) {
		t.Errorf("no rate in %q", text)
	}
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(text) {
		t.Errorf("no elapsed:ETA in %q", text)
	}
	if strings.Contains(text, "\n") {
		t.Errorf("the bar scrolled the terminal: %q", text)
	}
	if !barCleared.MatchString(text) {
		t.Errorf("bar not cleared at the end: %q", text[max(0, len(text)-80):])
	}
}

// The binary's run, stderr on a terminal: reading a local image (its
// layers are always read) draws a bar and clears it; --quiet and
// --no-progress draw nothing. Stdout is a buffer, so a bar there would
// be stderr's doing only.
func TestProgressRunOnATerminal(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	for _, tc := range []struct {
		flags []string
		bar   bool
	}{
		{nil, true},
		{[]string{"--quiet"}, false},
		{[]string{"-q"}, false},
		{[]string{"--no-progress"}, false},
	} {
		t.Run(strings.Join(append([]string{"flags"}, tc.flags...), " "), func(t *testing.T) {
			t.Parallel()
			master, slave := openPTY(t, 200)
			_, wait := drain(t, master)
			var stdout bytes.Buffer
			args := append([]string{"inspect", "--format", "json", "--no-cache", "oci:" + dir + ":big"}, tc.flags...)
			code := run(context.Background(), args, nil, &stdout, slave)
			slave.Close()
			text := wait()
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, text)
			}
			switch {
			case !tc.bar && text != "":
				t.Errorf("wrote %q on the terminal", text)
			case tc.bar && (!strings.Contains(text, "%") || !strings.Contains(text, "bytes as stored")):
				t.Errorf("no bar: %q", text)
			case tc.bar && !barCleared.MatchString(text):
				t.Errorf("bar not cleared at the end: %q", text)
			}
		})
	}
}

// The binary in a pipe: no bar, and a run shorter than the heartbeat's
// interval writes nothing to stderr (--quiet or not).
func TestQuietPipe(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	for _, flags := range [][]string{nil, {"-q"}} {
		r := imgsize(t, nil, append([]string{"inspect", "--format", "json", "--no-cache", "oci:" + dir + ":big"}, flags...)...)
		if r.code != 0 || r.stderr != "" || r.stdout == "" {
			t.Errorf("%v: exit %d, stderr %q, %d bytes of report", flags, r.code, r.stderr, len(r.stdout))
		}
	}
}
