package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/source"
)

// heartbeatEvery is how often a run whose stderr is not a terminal says it
// is still going: often enough that a CI log shows the job is alive (some
// CI systems kill a job silent for 10 minutes), rarely enough not to flood
// it, and never for a run shorter than that.
const heartbeatEvery = 15 * time.Second

// meter shows how far a run's layer reads are: a bar with the total, rate
// and ETA on a terminal; in a CI log, one plain line per interval while
// the run lasts, and nothing for a short run. Totals grow as images
// announce the layers they will read (planned), so several images read in
// one run, one after another or at once, share one display. Bytes are the
// layers' bytes as stored (compressed blobs, or an archive's plain tars):
// what is read, not what they hold.
type meter struct {
	out   io.Writer
	tty   bool
	start time.Time

	plannedBytes, doneBytes   atomic.Int64
	plannedLayers, doneLayers atomic.Int64

	// mu guards the bar: made by the first planned read, never drawn
	// again once finished. fed is what it has been given: the bytes done,
	// held one short of its max, because progressbar takes a bar that
	// reaches its max as done for good (it clears it and draws no more)
	// while another image may yet plan more reads.
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	fed      int64
	finished bool

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// newMeter returns the run's meter on stderr, or nil when disabled
// (--no-progress, --quiet). On a terminal it draws a bar once layers are
// planned; elsewhere it prints a heartbeat line every interval until
// finish.
func newMeter(stderr io.Writer, disabled bool, every time.Duration) *meter {
	if disabled {
		return nil
	}
	m := &meter{out: stderr, start: time.Now(), stop: make(chan struct{})}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		m.tty = true
		return m
	}
	m.wg.Add(1)
	go m.heartbeat(every)
	return m
}

func (m *meter) heartbeat(every time.Duration) {
	defer m.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			// A late tick must not print after finish returned.
			select {
			case <-m.stop:
				return
			default:
			}
			fmt.Fprintln(m.out, m.line(time.Since(m.start)))
		}
	}
}

// line is one heartbeat: plain text, no carriage return or colour, as a
// log keeps every byte.
func (m *meter) line(elapsed time.Duration) string {
	since := elapsed.Round(time.Second)
	planned := m.plannedBytes.Load()
	if planned == 0 {
		// Manifests, configs, probes or an engine's export: nothing whose
		// size is known ahead, but the run is alive.
		return fmt.Sprintf("imgsize: still working, no layer read so far, %s", since)
	}
	return fmt.Sprintf("imgsize: still reading layers: %s of %s as stored, %d/%d layers, %s",
		report.FormatBytes(m.doneBytes.Load(), false), report.FormatBytes(planned, false),
		m.doneLayers.Load(), m.plannedLayers.Load(), since)
}

// planned adds layers about to be read to the totals.
func (m *meter) planned(bytes int64, layers int) {
	m.plannedBytes.Add(bytes)
	m.plannedLayers.Add(int64(layers))
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The totals are read again under the lock: calls racing to it may
	// arrive out of order, and the bar must end on the largest.
	total := m.plannedBytes.Load()
	switch {
	case m.finished || total <= 0:
		return
	case m.bar == nil:
		m.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(m.out),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription(m.describe()),
		)
	default:
		m.bar.ChangeMax64(total)
		m.bar.Describe(m.describe())
	}
	m.feed()
}

// feed gives the bar the bytes done since it was last fed, short of its
// max (see fed); m.mu must be held.
func (m *meter) feed() {
	if m.bar == nil || m.finished {
		return
	}
	target := min(m.doneBytes.Load(), m.plannedBytes.Load()-1)
	if target > m.fed {
		_ = m.bar.Add64(target - m.fed)
		m.fed = target
	}
}

// describe labels the bar: its byte figures are bytes as stored, which
// the label must say, as reports show uncompressed sizes too.
func (m *meter) describe() string {
	return fmt.Sprintf("layers %d/%d, bytes as stored", m.doneLayers.Load(), m.plannedLayers.Load())
}

// add counts stored bytes read.
func (m *meter) add(n int64) {
	m.doneBytes.Add(n)
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.feed()
}

// layerDone counts a layer read to its end.
func (m *meter) layerDone() {
	m.doneLayers.Add(1)
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar != nil && !m.finished {
		m.bar.Describe(m.describe())
	}
}

// finish clears the bar and stops the heartbeat, waiting for its
// goroutine to end; later calls do nothing.
func (m *meter) finish() {
	m.once.Do(func() {
		close(m.stop)
		m.wg.Wait()
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.bar != nil && !m.finished {
			// Not Finish: it would draw a full bar, a false 100% after a
			// failed read, before the clear.
			_ = m.bar.Exit()
			_ = m.bar.Clear()
		}
		m.finished = true
	})
}

// printStats reports registry traffic: what --stats exists to show is how
// little a cheap run fetches beyond manifests and configs.
func printStats(w io.Writer, s *source.Stats) {
	fmt.Fprintln(w, "registry traffic (requests, response body bytes):")
	for _, k := range source.Kinds() {
		n, b := s.Counts(k)
		fmt.Fprintf(w, "  %-8s %4d %-8s  %10s  (%d B)\n", k, n, plural(n, "request"), report.FormatBytes(b, false), b)
	}
}

// requests is how many registry requests s counted, of every kind.
func requests(s *source.Stats) int64 {
	var total int64
	for _, k := range source.Kinds() {
		n, _ := s.Counts(k)
		total += n
	}
	return total
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
