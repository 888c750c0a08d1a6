// Package testregistry starts a real CNCF distribution registry
// (/usr/bin/docker-registry, Debian package "docker-registry") on 127.0.0.1
// for integration tests.
//
// A real registry is used instead of an in-process fake so that tests see the
// exact HTTP behaviour of the server that users run: status codes, Range
// handling, authentication challenges and TLS. Two variants exist: plain HTTP,
// and TLS (with a throw-away CA) plus htpasswd basic authentication.
//
// Each call to Start launches its own registry process with its own storage
// directory, so tests using it may run in parallel. The process is stopped and
// its files are removed when the test finishes.
//
// When the binary is missing the test is skipped, unless the environment
// variable CI is "true": there a missing binary is a broken CI image and the
// test fails instead of silently passing.
package testregistry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is the registry executable that Start runs.
const Binary = "/usr/bin/docker-registry"

// htpasswdBinary makes the bcrypt password file. golang.org/x/crypto/bcrypt is
// not in this module's dependency graph, and pulling it in only for a test
// helper is not worth it when apache2-utils is installed next to the registry.
const htpasswdBinary = "htpasswd"

const (
	// startTimeout bounds how long Start waits for GET /v2/ to answer.
	// Startup takes 100–300 ms on an idle machine; CI machines under -race
	// load can be much slower.
	startTimeout = 20 * time.Second
	// stopTimeout is how long the registry gets to exit after SIGTERM before
	// its process group is killed.
	stopTimeout = 3 * time.Second
	// bindAttempts is how often Start picks a new port when the registry
	// cannot bind, which happens if another process takes the port between
	// our probe and the registry's listen.
	bindAttempts = 3
)

// Options selects the registry variant.
type Options struct {
	// TLS serves HTTPS with a certificate for localhost and 127.0.0.1,
	// signed by a CA generated for this registry only.
	TLS bool
	// Auth requires HTTP basic authentication (htpasswd, bcrypt) with the
	// generated Registry.User and Registry.Password.
	Auth bool
	// RequestLog makes the registry log every request it answers (as JSON
	// lines in LogFile), for Requests to read: tests can then hold a client
	// to what the server itself saw it fetch.
	RequestLog bool
}

// Registry is a running registry process. Its fields must not be modified.
type Registry struct {
	// Addr is "127.0.0.1:PORT"; use it as the registry part of references,
	// e.g. r.Addr + "/repo:tag".
	Addr string
	// TLS reports whether the registry serves HTTPS.
	TLS bool
	// User and Password are the basic-auth credentials; both are empty when
	// the registry does not require authentication.
	User, Password string
	// CAFile is the PEM file of the CA that signed the server certificate
	// (TLS only). It is CertDir/ca.crt.
	CAFile string
	// CertDir is a directory holding only ca.crt, in the layout that
	// skopeo's --cert-dir, --src-cert-dir and --dest-cert-dir expect
	// (TLS only).
	CertDir string
	// RootCAs holds the CA certificate (TLS only).
	RootCAs *x509.CertPool
	// LogFile receives the registry's stdout and stderr.
	LogFile string

	transport *http.Transport
}

// Start launches a registry for the lifetime of t and returns once it answers
// GET /v2/. It registers t.Cleanup functions that stop the process (and its
// process group) and remove its files.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	requireTools(t, opts)

	// t.TempDir is called before any cleanup of ours is registered so that,
	// cleanups running last-in first-out, the process is stopped before its
	// storage directory is removed.
	dir := t.TempDir()
	r := &Registry{
		TLS:     opts.TLS,
		LogFile: filepath.Join(dir, "registry.log"),
	}

	cfg := registryConfig{root: filepath.Join(dir, "data"), requestLog: opts.RequestLog}
	if opts.TLS {
		certs, err := writeCerts(dir)
		if err != nil {
			t.Fatalf("testregistry: %v", err)
		}
		r.CAFile, r.CertDir, r.RootCAs = certs.caFile, certs.certDir, certs.pool
		cfg.certFile, cfg.keyFile = certs.certFile, certs.keyFile
		cfg.secret = randomHex(t, 32)
	}
	if opts.Auth {
		r.User, r.Password = "imgsize", randomHex(t, 12)
		cfg.htpasswd = filepath.Join(dir, "htpasswd")
		if err := writeHtpasswd(cfg.htpasswd, r.User, r.Password); err != nil {
			t.Fatalf("testregistry: %v", err)
		}
	}

	r.transport = newTransport(r.RootCAs)
	t.Cleanup(r.transport.CloseIdleConnections)

	cfgFile := filepath.Join(dir, "config.yml")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testregistry: %v", err)
		}
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cfg.addr = r.Addr
		if err := os.WriteFile(cfgFile, cfg.yaml(), 0o600); err != nil {
			t.Fatalf("testregistry: writing config: %v", err)
		}

		proc, err := startProcess(cfgFile, r.LogFile)
		if err != nil {
			t.Fatalf("testregistry: %v", err)
		}
		// Registered immediately, so that even a t.Fatal below (or a panic
		// in the test) cannot leave the process running.
		addr := r.Addr // r.Addr changes if a later attempt picks another port
		t.Cleanup(func() {
			if err := proc.stop(); err != nil {
				t.Errorf("testregistry: stopping registry on %s: %v", addr, err)
			}
		})

		err = r.waitReady(proc)
		if err == nil {
			break
		}
		// Stop before reading the log so that the tail is complete.
		_ = proc.stop()
		tail := logTail(r.LogFile)
		if attempt < bindAttempts && strings.Contains(tail, "address already in use") {
			continue
		}
		t.Fatalf("testregistry: registry on %s did not start (attempt %d): %v\nconfig %s\nlog tail:\n%s",
			r.Addr, attempt, err, cfgFile, tail)
	}

	// On failure, the registry's own log often explains a confusing status
	// code, and the temporary directory holding it is about to be removed.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testregistry: log of registry on %s:\n%s", r.Addr, logTail(r.LogFile))
		}
	})
	return r
}

// requireTools skips (or, on CI, fails) the test when an executable that the
// requested variant needs is missing.
func requireTools(t testing.TB, opts Options) {
	t.Helper()
	var missing []string
	if runtime.GOOS != "linux" {
		missing = append(missing, "Linux (process-group handling)")
	}
	if _, err := os.Stat(Binary); err != nil {
		missing = append(missing, Binary+` (Debian package "docker-registry")`)
	}
	if opts.Auth {
		if _, err := exec.LookPath(htpasswdBinary); err != nil {
			missing = append(missing, htpasswdBinary+` (Debian package "apache2-utils")`)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "testregistry: needs " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so this is an error rather than a skip")
	}
	t.Skip(msg)
}

// URL returns the base URL of the registry, "http://ADDR" or "https://ADDR".
func (r *Registry) URL() string {
	if r.TLS {
		return "https://" + r.Addr
	}
	return "http://" + r.Addr
}

// Transport returns an HTTP transport that trusts the registry's CA (for the
// TLS variant). It does not add credentials. It is shared by all callers and
// its idle connections are closed when the test ends.
func (r *Registry) Transport() http.RoundTripper {
	return r.transport
}

// DockerConfigDir writes a Docker config.json holding the registry's
// credentials into a new temporary directory and returns that directory, for
// use as DOCKER_CONFIG (go-containerregistry's authn.DefaultKeychain, crane)
// or, as dir/config.json, as skopeo's --authfile. Without auth the file has
// no entries.
func (r *Registry) DockerConfigDir(t testing.TB) string {
	t.Helper()
	type authEntry struct {
		Auth string `json:"auth"`
	}
	cfg := struct {
		Auths map[string]authEntry `json:"auths"`
	}{Auths: map[string]authEntry{}}
	if r.User != "" {
		cfg.Auths[r.Addr] = authEntry{
			Auth: base64.StdEncoding.EncodeToString([]byte(r.User + ":" + r.Password)),
		}
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		t.Fatalf("testregistry: encoding docker config: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatalf("testregistry: writing docker config: %v", err)
	}
	return dir
}

// waitReady polls GET /v2/ until the registry answers, the process exits or
// startTimeout passes.
func (r *Registry) waitReady(proc *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// A registry that exits (say, because it cannot bind) must end the wait
	// at once, not after the in-flight request times out.
	go func() {
		select {
		case <-proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	client := &http.Client{Transport: r.transport, Timeout: time.Second}
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+"/v2/", nil)
		if err != nil {
			return fmt.Errorf("building readiness request: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			// 401 is the expected answer of the auth variant: it proves the
			// registry's handlers are up.
			if resp.StatusCode == http.StatusOK || (r.User != "" && resp.StatusCode == http.StatusUnauthorized) {
				return nil
			}
			lastErr = fmt.Errorf("GET /v2/ answered %s", resp.Status)
		} else {
			lastErr = err
		}
		select {
		case <-time.After(20 * time.Millisecond):
			continue
		case <-ctx.Done():
		}
		// ctx ends because the process exited or because time ran out.
		select {
		case <-proc.done:
			return fmt.Errorf("registry exited before it was ready: %v", proc.waitErr)
		default:
			return fmt.Errorf("not ready after %v: last error: %w", startTimeout, lastErr)
		}
	}
}

// process is a started registry and the state of its Wait.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once cmd.Wait has returned
	waitErr error         // result of cmd.Wait; read only after done is closed
}

func startProcess(cfgFile, logFile string) (*process, error) {
	// The log file is truncated for every attempt so that its tail belongs to
	// the current process. Passing an *os.File (not a pipe) means no copying
	// goroutine, and Wait cannot hang on a pipe held open by a stray child.
	logf, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("creating registry log: %w", err)
	}
	defer logf.Close() // the child has its own copy of the descriptor

	cmd := exec.Command(Binary, "serve", cfgFile)
	cmd.Dir = filepath.Dir(cfgFile)
	cmd.Env = registryEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", Binary, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the registry's process group, then SIGKILL if it has
// not exited after stopTimeout, and waits for it. It may be called more than
// once.
func (p *process) stop() error {
	pid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		if err := signalGroup(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("sending SIGTERM to process group %d: %w", pid, err)
		}
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
		}
	}
	// Also after a clean exit: the registry should have no children, but if
	// anything was left in its group it must not outlive the test.
	if err := signalGroup(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("sending SIGKILL to process group %d: %w", pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("process %d did not exit after SIGKILL", pid)
	}
}

// registryEnv is the environment of the registry process. Distribution lets
// REGISTRY_* variables override any configuration key (REGISTRY_HTTP_ADDR,
// REGISTRY_AUTH, ...), so they are removed: a developer's or CI runner's
// settings must not change what the tests talk to.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

// registryConfig holds the parts of the registry's configuration that vary.
type registryConfig struct {
	addr              string
	root              string
	certFile, keyFile string // TLS when non-empty
	secret            string
	htpasswd          string // basic auth when non-empty
	requestLog        bool
}

// yaml renders the configuration. Strings are written as JSON strings, which
// are valid YAML double-quoted scalars, so that paths need no YAML escaping.
func (c registryConfig) yaml() []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s) // marshalling a string cannot fail
		return string(b)
	}
	var b bytes.Buffer
	b.WriteString("version: 0.1\n")
	// Errors only, and no access log (which log.level does not silence):
	// otherwise every request is logged and the lines that explain a failed
	// start or a failing test are buried.
	if c.requestLog {
		// Info level logs one "response completed" line per request, with
		// its method, URI, status and bytes written.
		b.WriteString("log:\n  level: info\n  formatter: json\n  accesslog:\n    disabled: true\n")
	} else {
		b.WriteString("log:\n  level: error\n  accesslog:\n    disabled: true\n")
	}
	b.WriteString("storage:\n")
	fmt.Fprintf(&b, "  filesystem:\n    rootdirectory: %s\n", q(c.root))
	// Deletion is enabled so tests can exercise DELETE of manifests/blobs.
	b.WriteString("  delete:\n    enabled: true\n")
	// Upload purging walks storage in a background goroutine; nothing in a
	// short-lived test registry needs it.
	b.WriteString("  maintenance:\n    uploadpurging:\n      enabled: false\n")
	b.WriteString("http:\n")
	fmt.Fprintf(&b, "  addr: %s\n", q(c.addr))
	if c.secret != "" {
		fmt.Fprintf(&b, "  secret: %s\n", q(c.secret))
	}
	if c.certFile != "" {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", q(c.certFile), q(c.keyFile))
	}
	if c.htpasswd != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: %s\n    path: %s\n", q("testregistry"), q(c.htpasswd))
	}
	return b.Bytes()
}

// writeHtpasswd creates a bcrypt htpasswd file, the only hash format the
// registry accepts.
func writeHtpasswd(path, user, password string) error {
	// -C 4 is the cheapest bcrypt cost: the registry checks the hash on
	// every request and the password protects nothing of value.
	out, err := exec.Command(htpasswdBinary, "-B", "-C", "4", "-b", "-n", user, password).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("running htpasswd: %w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return fmt.Errorf("running htpasswd: %w", err)
	}
	if !bytes.HasPrefix(out, []byte(user+":$2")) {
		return fmt.Errorf("htpasswd produced no bcrypt entry: %q", out)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("writing htpasswd file: %w", err)
	}
	return nil
}

// newTransport returns a transport of its own (not http.DefaultTransport),
// trusting roots when non-nil, and never using a proxy: the registry is on
// loopback, and a proxy configured for the machine could only get in the way.
func newTransport(roots *x509.CertPool) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// freePort asks the kernel for a free loopback port. The port is released
// before the registry binds it, so another process may take it meanwhile;
// Start retries with a new port in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testregistry: reading random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}

// logTail returns the last few KiB of the registry log, enough for the fatal
// error that ends a failed start.
func logTail(path string) string {
	const limit = 4 << 10
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	if len(data) > limit {
		data = data[len(data)-limit:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "(empty)"
	}
	return string(data)
}

// Request is one request the registry answered, as its log records it.
type Request struct {
	Method, URI string
	Status      int
	// Written is the bytes of the response body the registry wrote.
	Written int64
}

// Requests returns the requests the registry has answered so far, in the
// order it finished them. The registry must have been started with
// RequestLog.
func (r *Registry) Requests(t testing.TB) []Request {
	t.Helper()
	data, err := os.ReadFile(r.LogFile)
	if err != nil {
		t.Fatalf("testregistry: reading log: %v", err)
	}
	var out []Request
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e struct {
			Msg     string `json:"msg"`
			Method  string `json:"http.request.method"`
			URI     string `json:"http.request.uri"`
			Status  int    `json:"http.response.status"`
			Written int64  `json:"http.response.written"`
		}
		if json.Unmarshal(line, &e) != nil || !strings.HasPrefix(e.Msg, "response completed") {
			continue
		}
		out = append(out, Request{Method: e.Method, URI: e.URI, Status: e.Status, Written: e.Written})
	}
	return out
}
