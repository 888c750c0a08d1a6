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

// heartbeatEvery is how often a run whose stderr is not a terminal says
// it is still reading layers; runs shorter than that print nothing.
var heartbeatEvery = 15 * time.Second

// meter shows how far a run's layer reads are: a bar with the total, rate
// and ETA on a terminal; in a CI log, one plain line per heartbeatEvery
// while layers are being read, and nothing for a short run. Totals grow as
// images announce the layers they will read (Planned), so several images
// read in one run share one display.
type meter struct {
	out io.Writer
	tty bool

	start                     time.Time
	plannedBytes, doneBytes   atomic.Int64
	plannedLayers, doneLayers atomic.Int64

	mu  sync.Mutex
	bar *progressbar.ProgressBar

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// newMeter returns the run's meter on stderr, or nil when disabled
// (--no-progress, --quiet).
func newMeter(stderr io.Writer, disabled bool) *meter {
	if disabled {
		return nil
	}
	m := &meter{out: stderr, start: time.Now(), stop: make(chan struct{})}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		m.tty = true
		return m
	}
	m.wg.Add(1)
	go m.heartbeat(heartbeatEvery)
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
			if m.plannedBytes.Load() > 0 {
				fmt.Fprintf(m.out, "imgsize: still reading layers: %s of %s as stored, %d/%d layers, %s\n",
					report.FormatBytes(m.doneBytes.Load(), false), report.FormatBytes(m.plannedBytes.Load(), false),
					m.doneLayers.Load(), m.plannedLayers.Load(), time.Since(m.start).Round(time.Second))
			}
		}
	}
}

// planned adds layers about to be read to the totals.
func (m *meter) planned(bytes int64, layers int) {
	total := m.plannedBytes.Add(bytes)
	m.plannedLayers.Add(int64(layers))
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar == nil {
		m.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(m.out),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription(m.describe()),
		)
		return
	}
	m.bar.ChangeMax64(total)
	m.bar.Describe(m.describe())
}

func (m *meter) describe() string {
	return fmt.Sprintf("reading layers %d/%d (bytes as stored)", m.doneLayers.Load(), m.plannedLayers.Load())
}

// add counts stored bytes read.
func (m *meter) add(n int64) {
	m.doneBytes.Add(n)
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar != nil {
		_ = m.bar.Add64(n)
	}
}

// layerDone counts a layer read to its end.
func (m *meter) layerDone() {
	m.doneLayers.Add(1)
	if !m.tty {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar != nil {
		m.bar.Describe(m.describe())
	}
}

// finish clears the bar and stops the heartbeat; later calls do nothing.
func (m *meter) finish() {
	m.once.Do(func() {
		close(m.stop)
		m.wg.Wait()
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.bar != nil {
			_ = m.bar.Finish()
			_ = m.bar.Clear()
		}
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
