package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is one headless Chromium that all the page tests share, driven
// over its DevTools pipe. Starting Chromium costs about 1.6 s of CPU and a
// tab a small part of that, and the page tests are the most of this
// package's CPU.
type browser struct {
	cmd    *exec.Cmd
	stderr lockedBuffer
	done   chan struct{} // closed when the reader has seen the pipe close

	wmu sync.Mutex // one message at a time on the pipe
	w   *os.File

	mu       sync.Mutex
	nextID   int
	replies  map[int]chan cdpMessage
	sessions map[string]chan cdpMessage
}

// cdpMessage is a DevTools reply (ID set) or event (Method set).
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// lockedBuffer is Chromium's stderr, written by exec's copier and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBrowser starts Chromium headless with no network: every host name
// fails to resolve and every request goes to a proxy that is not there.
// The browser is closed when t's subtests are done, and whatever it wrote
// to its console then fails t: the pages check their own console as well,
// and this catches a message that came too late for them.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	toBrowser, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{
		w: ours, done: make(chan struct{}),
		replies: map[int]chan cdpMessage{}, sessions: map[string]chan cdpMessage{},
	}
	b.cmd = exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--remote-debugging-pipe", "about:blank")
	// The pipe protocol: Chromium reads commands on fd 3, writes on fd 4.
	b.cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	b.cmd.Stderr = &b.stderr
	// A helper process that keeps stderr open after the browser exits
	// must not keep Wait, and the test, waiting.
	b.cmd.WaitDelay = 10 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	go b.read(theirs)
	t.Cleanup(func() {
		b.close(t)
		for _, l := range strings.Split(b.stderr.String(), "\n") {
			if strings.Contains(l, ":CONSOLE") {
				t.Errorf("console output (an error, or a blocked fetch): %s", l)
			}
		}
	})
	return b
}

// read hands each message from Chromium to the call or page waiting for it.
func (b *browser) read(r *os.File) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if c := b.replies[m.ID]; c != nil {
				c <- m
				delete(b.replies, m.ID)
			}
		} else if c := b.sessions[m.SessionID]; c != nil {
			select {
			case c <- m:
			default: // a flood of messages: the stderr check still sees them all
			}
		}
		b.mu.Unlock()
	}
}

// send sends a command (to a tab when session is set) and returns the
// channel its reply will arrive on.
func (b *browser) send(session, method string, params any) (<-chan cdpMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	c := make(chan cdpMessage, 1)
	b.replies[id] = c
	b.mu.Unlock()
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		SessionID string `json:"sessionId,omitempty"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
	}{id, session, method, params})
	if err != nil {
		return nil, err
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return c, nil
}

// call sends a command and decodes its result into out (when not nil).
func (b *browser) call(session, method string, params, out any) error {
	c, err := b.send(session, method, params)
	if err != nil {
		return err
	}
	return b.await(method, c, out)
}

func (b *browser) await(method string, c <-chan cdpMessage, out any) error {
	select {
	case m := <-c:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: chromium exited", method)
	case <-time.After(time.Minute):
		return fmt.Errorf("%s: no reply from chromium in a minute", method)
	}
}

// open loads file in a new tab and returns its DOM as --dump-dom prints
// it, once the page's load event has fired, and what the page wrote to
// its console by then. With shot set, the tab is width×height and a PNG
// of it is written there.
func (b *browser) open(t *testing.T, file, shot string, width, height int) (dom string, console []string) {
	t.Helper()
	var target struct{ TargetID string }
	if err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.call("", "Target.closeTarget", map[string]any{"targetId": target.TargetID}, nil); err != nil {
			t.Error(err)
		}
	}()
	var attached struct{ SessionID string }
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	s := attached.SessionID
	events := make(chan cdpMessage, 1024)
	b.mu.Lock()
	b.sessions[s] = events
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.sessions, s)
		b.mu.Unlock()
	}()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := b.call(s, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(s, "Page.setLifecycleEventsEnabled", map[string]any{"enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	if shot != "" {
		size := map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}
		if err := b.call(s, "Emulation.setDeviceMetricsOverride", size, nil); err != nil {
			t.Fatal(err)
		}
	}
	nav, err := b.send(s, "Page.navigate", map[string]any{"url": "file://" + file})
	if err != nil {
		t.Fatal(err)
	}
	// The load event is matched to the navigation by its loader, as the
	// reply and the events may arrive in either order.
	var navigated struct{ LoaderID, ErrorText string }
	if err := b.await("Page.navigate", nav, &navigated); err != nil {
		t.Fatal(err)
	}
	if navigated.ErrorText != "" {
		t.Fatalf("loading %s: %s", file, navigated.ErrorText)
	}
	timeout := time.After(time.Minute)
	for loaded := false; !loaded; {
		select {
		case m := <-events:
			if msg := consoleMessage(m); msg != "" {
				console = append(console, msg)
			}
			var lc struct{ LoaderID, Name string }
			if m.Method == "Page.lifecycleEvent" && json.Unmarshal(m.Params, &lc) == nil {
				loaded = lc.Name == "load" && lc.LoaderID == navigated.LoaderID
			}
		case <-b.done:
			t.Fatalf("chromium exited loading %s", file)
		case <-timeout:
			t.Fatalf("%s did not load in a minute", file)
		}
	}
	var eval struct {
		Result struct{ Value string }
	}
	// The expression --dump-dom evaluates.
	expr := `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\n' : '') + document.documentElement.outerHTML`
	if err := b.call(s, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &eval); err != nil {
		t.Fatal(err)
	}
	if shot != "" {
		var png struct{ Data string }
		if err := b.call(s, "Page.captureScreenshot", map[string]any{"format": "png"}, &png); err != nil {
			t.Fatal(err)
		}
		data, err := base64.StdEncoding.DecodeString(png.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for drained := false; !drained; {
		select {
		case m := <-events:
			if msg := consoleMessage(m); msg != "" {
				console = append(console, msg)
			}
		default:
			drained = true
		}
	}
	return eval.Result.Value, console
}

// consoleMessage is the text of an event that puts a line in the page's
// console (a console call, an uncaught exception, or the browser's own
// message: a blocked fetch, a policy violation), or "".
func consoleMessage(m cdpMessage) string {
	switch m.Method {
	case "Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded":
		return m.Method + " " + string(m.Params)
	}
	return ""
}

// close asks Chromium to quit and waits for it.
func (b *browser) close(t *testing.T) {
	t.Helper()
	c, err := b.send("", "Browser.close", nil)
	if err == nil {
		select {
		case <-c:
		case <-b.done:
		case <-time.After(10 * time.Second):
		}
	}
	b.w.Close()
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("chromium: %v\n%s", err, b.stderr.String())
		}
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-exited
		t.Errorf("chromium did not exit")
	}
}
