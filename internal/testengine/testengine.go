// Package testengine starts podman's Docker-API service (`podman system
// service`) on a unix socket for tests of the docker-daemon: transport.
//
// A real engine is used rather than a fake so that tests see the answers
// users get: the JSON podman really writes for image inspect and history,
// its 404s, and the tar its export streams. Each engine has its own
// storage (--root, --runroot, vfs driver) in a temporary directory, so it
// never touches the machine's images, and needs no systemd, cgroups
// manager or events journal.
//
// Starting podman costs about a second, so a test package shares one
// engine (Shared) and its tests load images under distinct names; its
// TestMain calls StopShared. Start gives a test an engine of its own.
//
// When podman is missing the test is skipped, unless CI is "true": there a
// missing podman is a broken CI image and the test fails instead.
package testengine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testutil"
)

// Binary is the podman executable.
const Binary = "podman"

const (
	// startTimeout bounds the wait for /_ping to answer; the service is up
	// in about 150 ms on an idle machine, far slower under -race load.
	startTimeout = 60 * time.Second
	// stopTimeout is how long the service gets to exit after SIGTERM.
	stopTimeout = 5 * time.Second
)

// Engine is a running podman service. Its fields must not be modified.
type Engine struct {
	// Socket is the unix socket's path; Host is "unix://" + Socket, the
	// form DOCKER_HOST takes.
	Socket, Host string
	// LogFile receives the service's output (its request log included).
	LogFile string

	dir  string
	proc *process
}

// flags are the global podman flags that keep an engine's state in dir.
func (e *Engine) flags() []string {
	return []string{
		"--root", filepath.Join(e.dir, "root"),
		"--runroot", filepath.Join(e.dir, "run"),
		"--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "file",
		"--tmpdir", filepath.Join(e.dir, "tmp"),
	}
}

var shared struct {
	once sync.Once
	e    *Engine
	err  error
}

// Shared returns the test binary's one engine, starting it on first use.
// The binary's TestMain must call StopShared after m.Run.
func Shared(t testing.TB) *Engine {
	t.Helper()
	requirePodman(t)
	shared.once.Do(func() { shared.e, shared.err = start() })
	if shared.err != nil {
		t.Fatalf("testengine: %v", shared.err)
	}
	return shared.e
}

// StopShared stops the shared engine, if one was started, and removes its
// files.
func StopShared() {
	if shared.e != nil {
		if err := shared.e.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testengine:", err)
		}
	}
}

// Start launches an engine for the lifetime of t.
func Start(t testing.TB) *Engine {
	t.Helper()
	requirePodman(t)
	e, err := start()
	if err != nil {
		t.Fatalf("testengine: %v", err)
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("testengine: %v", err)
		}
	})
	return e
}

func requirePodman(t testing.TB) {
	t.Helper()
	var missing string
	if runtime.GOOS != "linux" {
		missing = "Linux"
	} else if _, err := exec.LookPath(Binary); err != nil {
		missing = `podman (Debian package "podman")`
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testengine: needs %s; CI=true, so this is an error rather than a skip", missing)
	}
	t.Skipf("testengine: needs %s", missing)
}

func start() (*Engine, error) {
	// A unix socket path must fit in 108 bytes: a short directory under
	// $TMPDIR, not the test's (long) TempDir.
	dir, err := os.MkdirTemp("", "imgsize-engine-")
	if err != nil {
		return nil, err
	}
	e := &Engine{dir: dir, Socket: filepath.Join(dir, "docker.sock"), LogFile: filepath.Join(dir, "service.log")}
	e.Host = "unix://" + e.Socket
	for _, d := range []string{"root", "run", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	logf, err := os.Create(e.LogFile)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	// --log-level=info makes the service log each request, which helps
	// read a failure; --time=0 keeps it up however long a test idles.
	args := append(e.flags(), "--log-level=info", "system", "service", "--time=0", e.Host)
	cmd := exec.Command(Binary, args...)
	cmd.Env = engineEnv(dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting podman system service: %w", err)
	}
	e.proc = &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		e.proc.waitErr = cmd.Wait()
		close(e.proc.done)
	}()
	if err := e.waitReady(); err != nil {
		tail := logTail(e.LogFile)
		_ = e.stop()
		return nil, fmt.Errorf("podman service on %s did not start: %v\nlog tail:\n%s", e.Host, err, tail)
	}
	return e, nil
}

// engineEnv is the service's environment: the machine's, without the
// variables that would point podman at other storage or configuration.
func engineEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CONTAINERS_STORAGE_CONF", "CONTAINER_HOST", "CONTAINER_CONNECTION", "DOCKER_HOST", "TMPDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TMPDIR="+filepath.Join(dir, "tmp"))
}

// Client returns an HTTP client whose every request goes to the engine's
// socket, whatever the URL's host.
func (e *Engine) Client() *http.Client {
	return &http.Client{Transport: unixTransport(e.Socket), Timeout: 30 * time.Second}
}

func unixTransport(socket string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
}

func (e *Engine) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	go func() {
		select {
		case <-e.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	c := &http.Client{Transport: unixTransport(e.Socket), Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://d/_ping", nil)
		resp, err := c.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "OK" {
				return nil
			}
			last = fmt.Errorf("/_ping answered %s %q", resp.Status, body)
		} else {
			last = err
		}
		select {
		case <-time.After(25 * time.Millisecond):
			continue
		case <-ctx.Done():
		}
		select {
		case <-e.proc.done:
			return fmt.Errorf("podman exited before it was ready: %v", e.proc.waitErr)
		default:
			return fmt.Errorf("not ready after %s: %v", startTimeout, last)
		}
	}
}

// Podman runs podman with the engine's storage flags and returns its
// standard output; a failure fails the test.
func (e *Engine) Podman(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(Binary, append(e.flags(), args...)...)
	cmd.Env = engineEnv(e.dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("testengine: podman %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// Load loads a docker-archive (or oci-archive) into the engine, as
// `podman load -i` does.
func (e *Engine) Load(t testing.TB, archive string) {
	t.Helper()
	e.Podman(t, "load", "-q", "-i", archive)
}

// Getenv returns an environment for imgsize that finds this engine through
// DOCKER_HOST and nothing else of the machine's: no Docker config, no
// runtime directory. extra adds or overrides variables.
func (e *Engine) Getenv(extra map[string]string) func(string) string {
	env := map[string]string{"DOCKER_HOST": e.Host}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// Recorder is a reverse proxy in front of an engine that records each
// request's method and path, to prove which requests a command made.
type Recorder struct {
	// Socket and Host are the proxy's, as Engine's.
	Socket, Host string

	mu   sync.Mutex
	reqs []string
}

// Record starts a recording proxy in front of the engine for the lifetime
// of t.
func (e *Engine) Record(t testing.TB) *Recorder {
	t.Helper()
	dir, err := os.MkdirTemp("", "imgsize-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &Recorder{Socket: filepath.Join(dir, "proxy.sock")}
	r.Host = "unix://" + r.Socket
	l, err := net.Listen("unix", r.Socket)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "d"
		},
		Transport:     unixTransport(e.Socket),
		FlushInterval: -1,
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.mu.Lock()
			r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
			r.mu.Unlock()
			rp.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

// Requests returns the requests made so far, as "GET /v1.41/images/…".
func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// Exports counts the export requests (…/images/NAME/get) made so far.
func (r *Recorder) Exports() int {
	n := 0
	for _, q := range r.Requests() {
		if strings.HasSuffix(q, "/get") {
			n++
		}
	}
	return n
}

// Getenv is Engine.Getenv for the proxy.
func (r *Recorder) Getenv(extra map[string]string) func(string) string {
	env := map[string]string{"DOCKER_HOST": r.Host}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

type process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// stop ends the service (SIGTERM to its process group, SIGKILL after
// stopTimeout) and removes its files.
func (e *Engine) stop() error {
	defer os.RemoveAll(e.dir)
	pid := e.proc.cmd.Process.Pid
	select {
	case <-e.proc.done:
	default:
		if err := signalGroup(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("sending SIGTERM to process group %d: %w", pid, err)
		}
		select {
		case <-e.proc.done:
		case <-time.After(stopTimeout):
		}
	}
	if err := signalGroup(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("sending SIGKILL to process group %d: %w", pid, err)
	}
	select {
	case <-e.proc.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("podman service %d did not exit after SIGKILL", pid)
	}
}

func logTail(path string) string {
	const limit = 4 << 10
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	if len(data) > limit {
		data = data[len(data)-limit:]
	}
	return string(data)
}

// Image makes a small reproducible image of n layers, each a few files
// (one of them random, so seeds give distinct layers), with a history as
// a Dockerfile build leaves it: the layers' steps interleaved with steps
// that made none (ENV, CMD), marked empty_layer.
func Image(t testing.TB, seed int64, n int) v1.Image {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	var ls []v1.Layer
	var hist []v1.History
	created := v1.Time{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	for i := range n {
		body := make([]byte, 1000+rnd.Intn(20000))
		rnd.Read(body)
		files := map[string][]byte{
			fmt.Sprintf("app/%d/data.bin", i): body,
			fmt.Sprintf("app/%d/note.txt", i): []byte(strings.Repeat("imgsize ", i+1)),
		}
		if i > 0 {
			// A whiteout, as RUN rm leaves it.
			files[fmt.Sprintf("app/%d/.wh.note.txt", i-1)] = nil
		}
		l := testutil.GzipLayer(t, filesTar(t, files), types.DockerLayer)
		hist = append(hist, v1.History{Created: created, CreatedBy: fmt.Sprintf("/bin/sh -c #(nop) COPY app/%d /app/%d # seed %d", i, i, seed)})
		ls = append(ls, l)
		if i%2 == 0 {
			hist = append(hist, v1.History{Created: created, CreatedBy: fmt.Sprintf("/bin/sh -c #(nop)  ENV STEP=%d", i), EmptyLayer: true})
		}
	}
	hist = append(hist, v1.History{Created: created, CreatedBy: `/bin/sh -c #(nop)  CMD ["/app/run"]`, EmptyLayer: true})
	img, err := mutate.AppendLayers(img, ls...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", "amd64", created
	cf.History = hist
	cf.Config.Env = []string{"PATH=/usr/bin:/bin"}
	cf.Config.Cmd = []string{"/app/run"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// filesTar is the tar crane.Layer writes of files (the same headers, in
// name order), so a seed gives the layers, and diffIDs, it always gave;
// crane.Layer itself would gzip it once for the digest and again at each
// read of the blob.
func filesTar(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(files[name]))}); err != nil {
			t.Fatalf("writing header %q: %v", name, err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatalf("writing %q: %v", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("closing a layer's tar: %v", err)
	}
	return buf.Bytes()
}

// WriteArchive writes img as `docker save` does (before Docker 25):
// manifest.json naming the tag, the config as <id>.json, and each layer
// as an uncompressed <diffID>.tar, so the archive's layer sizes are the
// tar streams' lengths.
func WriteArchive(t testing.TB, path, tag string, img v1.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, body []byte) {
		t.Helper()
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	add(id.Hex+".json", cfg)
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.Hex+".tar")
		add(d.Hex+".tar", b)
	}
	m, err := json.Marshal([]map[string]any{{"Config": id.Hex + ".json", "RepoTags": []string{tag}, "Layers": names}})
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", m)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
