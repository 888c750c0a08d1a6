package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// DefaultSocket is the Docker engine's socket when nothing else is set.
const DefaultSocket = "unix:///var/run/docker.sock"

// rootfulPodmanSocket is where `systemctl start podman.socket` listens.
const rootfulPodmanSocket = "unix:///run/podman/podman.sock"

// Candidate is one engine endpoint to try.
type Candidate struct {
	// Host is unix:///path or tcp://host:port.
	Host string
	// From says where Host came from, for messages: "DOCKER_HOST",
	// `docker context "rootless"`, "default Docker socket", "podman".
	From string
}

// Candidates lists the engines to try, in order, found as the docker CLI
// finds its engine: DOCKER_HOST; else the docker context named by
// DOCKER_CONTEXT or by currentContext in the Docker config
// ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), whose
// endpoint is in contexts/meta/<sha256 of the name>/meta.json beside it;
// else the default socket, then podman's sockets
// ($XDG_RUNTIME_DIR/podman/podman.sock, /run/podman/podman.sock).
//
// An engine the user chose (DOCKER_HOST or a context) is the only
// candidate: if it does not answer, trying another would read some other
// engine's image under the same name, which the docker CLI never does
// either. Only the defaults fall through to podman.
//
// getenv reads the environment (tests inject one); it must not be nil.
func Candidates(getenv func(string) string) ([]Candidate, error) {
	if h := getenv("DOCKER_HOST"); h != "" {
		if getenv("DOCKER_TLS_VERIFY") != "" {
			return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("DOCKER_TLS_VERIFY is set: imgsize does not speak TLS to engines (use a unix socket, or plain tcp:// on a trusted network)"))
		}
		return []Candidate{{Host: h, From: "DOCKER_HOST"}}, nil
	}
	name, from, err := currentContext(getenv)
	if err != nil {
		return nil, err
	}
	if name != "" && name != "default" {
		host, err := contextHost(getenv, name)
		if err != nil {
			return nil, err
		}
		return []Candidate{{Host: host, From: fmt.Sprintf("docker context %s, from %s", quoted(name), from)}}, nil
	}
	out := []Candidate{{Host: DefaultSocket, From: "default Docker socket"}}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		out = append(out, Candidate{Host: "unix://" + filepath.Join(d, "podman", "podman.sock"), From: "podman, rootless"})
	}
	out = append(out, Candidate{Host: rootfulPodmanSocket, From: "podman, rootful"})
	return out, nil
}

// configDir is the Docker config directory: $DOCKER_CONFIG, else
// $HOME/.docker; empty when neither is known.
func configDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".docker")
	}
	return ""
}

// maxConfigFile bounds what is read of the Docker config and a context's
// meta.json: both are a few hundred bytes.
const maxConfigFile = 1 << 20

// currentContext is the docker context in use and where that was said:
// DOCKER_CONTEXT, else the config file's currentContext.
func currentContext(getenv func(string) string) (name, from string, err error) {
	if c := getenv("DOCKER_CONTEXT"); c != "" {
		return c, "DOCKER_CONTEXT", nil
	}
	dir := configDir(getenv)
	if dir == "" {
		return "", "", nil
	}
	p := filepath.Join(dir, "config.json")
	b, err := readSmall(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading Docker config %s: %w", p, err)
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", "", errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading Docker config %s: %w", p, err))
	}
	return cfg.CurrentContext, p, nil
}

// contextHost reads the docker endpoint of context name from its meta.json.
func contextHost(getenv func(string) string, name string) (string, error) {
	dir := configDir(getenv)
	if dir == "" {
		return "", errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("docker context %s: no Docker config directory (neither DOCKER_CONFIG nor HOME is set)", quoted(name)))
	}
	sum := sha256.Sum256([]byte(name))
	p := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := readSmall(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("docker context %s not found (no %s)", quoted(name), p))
	}
	if err != nil {
		return "", fmt.Errorf("reading docker context %s: %w", quoted(name), err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading docker context %s (%s): %w", quoted(name), p, err))
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return "", errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("docker context %s (%s) has no docker endpoint", quoted(name), p))
	}
	return host, nil
}

func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigFile {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%s is larger than %d MiB", p, maxConfigFile>>20))
	}
	return b, nil
}

// Prober says whether the engine at a candidate answers; Locate's default
// pings it.
type Prober func(ctx context.Context, c *Client) error

// LocateOptions configure Locate.
type LocateOptions struct {
	Options
	// Probe bounds how long each candidate has to answer /_ping; zero
	// means the idle timeout.
	Probe time.Duration
	// Prober replaces the /_ping (tests).
	Prober Prober
}

// Locate returns a client for the first candidate that answers. When none
// does, the error (marked ErrUnreachable) lists what was tried and why
// each failed; an address that cannot be used (an unsupported scheme) is
// an error of its own kind at once, as the user chose it.
func Locate(ctx context.Context, cands []Candidate, opts LocateOptions) (*Client, error) {
	probe := opts.Prober
	if probe == nil {
		probe = func(ctx context.Context, c *Client) error { return c.Ping(ctx) }
	}
	wait := opts.Probe
	if wait <= 0 {
		wait = opts.idle()
	}
	var tried []string
	for _, cand := range cands {
		c, err := New(cand.Host, opts.Options)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cand.From, err)
		}
		c.From = cand.From
		pctx, cancel := context.WithTimeout(ctx, wait)
		err = probe(pctx, c)
		cancel()
		if err == nil {
			return c, nil
		}
		c.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		reason := reasonOnly(err, cand.Host)
		if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("no answer within %s", wait)
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %s", cand.Host, cand.From, reason))
	}
	return nil, errdefs.Wrap(ErrUnreachable, fmt.Errorf("no container engine answered (tried %s)", strings.Join(tried, "; ")))
}

// reasonOnly is err's message without the "engine at HOST: " prefix the
// list already shows.
func reasonOnly(err error, host string) string {
	return strings.TrimPrefix(err.Error(), "engine at "+host+": ")
}
