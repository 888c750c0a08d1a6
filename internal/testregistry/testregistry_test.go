package testregistry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgsize/imgsize/internal/testutil"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgsize/imgsize/internal/testregistry"
)

// variants are the two registry set-ups that other tests in this module use.
var variants = []struct {
	name string
	opts testregistry.Options
}{
	{"plain", testregistry.Options{}},
	{"tls-auth", testregistry.Options{TLS: true, Auth: true}},
}

// remoteOpts returns the go-containerregistry options for talking to r.
func remoteOpts(r *testregistry.Registry) []remote.Option {
	opts := []remote.Option{remote.WithTransport(r.Transport())}
	if r.User != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password}))
	}
	return opts
}

// pushRandom pushes a random two-layer image to r and returns its reference.
func pushRandom(t *testing.T, r *testregistry.Registry, repoTag string) (name.Reference, v1.Image) {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatalf("random.Image: %v", err)
	}
	ref, err := name.ParseReference(r.Addr + "/" + repoTag)
	if err != nil {
		t.Fatalf("parsing reference: %v", err)
	}
	if err := remote.Write(ref, img, remoteOpts(r)...); err != nil {
		t.Fatalf("remote.Write(%s): %v", ref, err)
	}
	return ref, img
}

func TestVariants(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := testregistry.Start(t, v.opts)
			if r.TLS != v.opts.TLS || (r.User != "") != v.opts.Auth {
				t.Fatalf("Registry{TLS: %v, User: %q} does not match %+v", r.TLS, r.User, v.opts)
			}
			ref, img := pushRandom(t, r, "test/random:v1")
			want, err := img.Digest()
			if err != nil {
				t.Fatalf("digest of pushed image: %v", err)
			}

			t.Run("pull", func(t *testing.T) {
				got, err := remote.Image(ref, remoteOpts(r)...)
				if err != nil {
					t.Fatalf("remote.Image(%s): %v", ref, err)
				}
				gotDigest, err := got.Digest()
				if err != nil {
					t.Fatalf("digest of pulled image: %v", err)
				}
				if gotDigest != want {
					t.Errorf("pulled digest %s, pushed %s", gotDigest, want)
				}
				layers, err := got.Layers()
				if err != nil {
					t.Fatalf("layers of pulled image: %v", err)
				}
				if len(layers) != 2 {
					t.Errorf("pulled image has %d layers, want 2", len(layers))
				}
			})

			t.Run("range", func(t *testing.T) {
				testRange(t, r, img)
			})

			t.Run("skopeo", func(t *testing.T) {
				args := []string{"inspect", "--raw"}
				if r.TLS {
					args = append(args, "--cert-dir", r.CertDir)
				} else {
					args = append(args, "--tls-verify=false")
				}
				if r.User != "" {
					args = append(args, "--creds", r.User+":"+r.Password)
				}
				raw := skopeo(t, append(args, "docker://"+ref.String())...)
				if got := sha256Digest(raw); got != want.String() {
					t.Errorf("skopeo manifest digest %s, pushed %s\nmanifest: %s", got, want, raw)
				}
			})
		})
	}
}

// testRange checks that a suffix Range request on a layer blob is answered
// with 206 and the last four bytes of the blob.
func testRange(t *testing.T, r *testregistry.Registry, img v1.Image) {
	layers, err := img.Layers()
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	layer := layers[0]
	dgst, err := layer.Digest()
	if err != nil {
		t.Fatalf("layer digest: %v", err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		t.Fatalf("layer contents: %v", err)
	}
	blob, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("reading layer: %v", err)
	}

	req := newRequest(t, r, r.URL()+"/v2/test/random/blobs/"+dgst.String())
	req.Header.Set("Range", "bytes=-4")
	resp, body := do(t, r.Transport(), req)
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("Range GET answered %s, want 206; body %q", resp.Status, body)
	}
	size := len(blob)
	wantRange := fmt.Sprintf("bytes %d-%d/%d", size-4, size-1, size)
	if got := resp.Header.Get("Content-Range"); got != wantRange {
		t.Errorf("Content-Range %q, want %q", got, wantRange)
	}
	if !bytes.Equal(body, blob[size-4:]) {
		t.Errorf("range body %x, want %x", body, blob[size-4:])
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	r := testregistry.Start(t, testregistry.Options{TLS: true, Auth: true})

	t.Run("no credentials", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, r.URL()+"/v2/", nil)
		if err != nil {
			t.Fatalf("building request: %v", err)
		}
		resp, _ := do(t, r.Transport(), req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET /v2/ without credentials answered %s, want 401", resp.Status)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("WWW-Authenticate %q, want a Basic challenge", got)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		req := newRequest(t, r, r.URL()+"/v2/")
		req.SetBasicAuth(r.User, r.Password+"x")
		resp, _ := do(t, r.Transport(), req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v2/ with a wrong password answered %s, want 401", resp.Status)
		}
	})

	t.Run("credentials", func(t *testing.T) {
		resp, _ := do(t, r.Transport(), newRequest(t, r, r.URL()+"/v2/"))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v2/ with credentials answered %s, want 200", resp.Status)
		}
	})

	t.Run("anonymous push", func(t *testing.T) {
		img, err := random.Image(16, 1)
		if err != nil {
			t.Fatalf("random.Image: %v", err)
		}
		ref, err := name.ParseReference(r.Addr + "/test/anon:v1")
		if err != nil {
			t.Fatalf("parsing reference: %v", err)
		}
		err = remote.Write(ref, img, remote.WithTransport(r.Transport()))
		var terr *transport.Error
		if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous remote.Write error = %v, want a 401 transport error", err)
		}
	})

	t.Run("plain http to tls port", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, "http://"+r.Addr+"/v2/", nil)
		if err != nil {
			t.Fatalf("building request: %v", err)
		}
		req.SetBasicAuth(r.User, r.Password)
		resp, body := do(t, &http.Transport{}, req)
		// Go's TLS server answers a plain HTTP request with 400 before
		// any registry handler runs.
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port answered %s, want 400; body %q", resp.Status, body)
		}
	})

	t.Run("untrusted ca", func(t *testing.T) {
		// Without the generated CA the certificate must be rejected: this
		// shows that Transport's trust comes from RootCAs and not from,
		// say, verification being off.
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
		_, err := tr.RoundTrip(newRequest(t, r, r.URL()+"/v2/"))
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) {
			t.Errorf("request with an empty root pool: error %v, want x509.UnknownAuthorityError", err)
		}
	})

	t.Run("ca file", func(t *testing.T) {
		// CAFile must be the CA in CertDir, usable on its own.
		if filepath.Dir(r.CAFile) != r.CertDir {
			t.Errorf("CAFile %s is not in CertDir %s", r.CAFile, r.CertDir)
		}
		pemData, err := os.ReadFile(r.CAFile)
		if err != nil {
			t.Fatalf("reading CAFile: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			t.Fatalf("CAFile %s holds no PEM certificate", r.CAFile)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		resp, _ := do(t, tr, newRequest(t, r, r.URL()+"/v2/"))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v2/ trusting CAFile answered %s, want 200", resp.Status)
		}
	})
}

// TestDockerConfigDir checks that the written config.json is understood by
// go-containerregistry's default keychain (via DOCKER_CONFIG) and by skopeo.
// Not parallel: it sets DOCKER_CONFIG for the whole process.
func TestDockerConfigDir(t *testing.T) {
	r := testregistry.Start(t, testregistry.Options{TLS: true, Auth: true})
	ref, img := pushRandom(t, r, "test/config:v1")
	want, err := img.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	dir := r.DockerConfigDir(t)
	t.Setenv("DOCKER_CONFIG", dir)

	auth, err := authn.DefaultKeychain.Resolve(ref.Context())
	if err != nil {
		t.Fatalf("resolving credentials: %v", err)
	}
	cfg, err := auth.Authorization()
	if err != nil {
		t.Fatalf("reading credentials: %v", err)
	}
	if cfg.Username != r.User || cfg.Password != r.Password {
		t.Errorf("keychain gave %q/%q, want %q/%q", cfg.Username, cfg.Password, r.User, r.Password)
	}

	got, err := remote.Image(ref, remote.WithTransport(r.Transport()), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		t.Fatalf("remote.Image with DOCKER_CONFIG: %v", err)
	}
	if d, err := got.Digest(); err != nil || d != want {
		t.Errorf("pulled digest %v (err %v), want %s", d, err, want)
	}

	raw := skopeo(t, "inspect", "--raw", "--cert-dir", r.CertDir,
		"--authfile", filepath.Join(dir, "config.json"), "docker://"+ref.String())
	if got := sha256Digest(raw); got != want.String() {
		t.Errorf("skopeo --authfile manifest digest %s, want %s", got, want)
	}
}

// TestStopped checks that the registry is gone once the test that started it
// has finished. Not parallel, so no other registry can take over the port.
func TestStopped(t *testing.T) {
	for _, v := range variants {
		var addr string
		t.Run(v.name, func(t *testing.T) {
			addr = testregistry.Start(t, v.opts).Addr
		})
		if addr == "" {
			continue // skipped
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("%s: %s still accepts connections after the test ended", v.name, addr)
		}
	}
}

// newRequest builds a GET for r, with credentials when r requires them.
func newRequest(t *testing.T, r *testregistry.Registry, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Password)
	}
	return req
}

// do sends req and returns the response with its body read and closed.
func do(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of %s %s: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// skopeo runs skopeo with args and returns its stdout; it skips the test when
// skopeo is not installed, as skopeo is only an independent cross-check.
func skopeo(t *testing.T, args ...string) []byte {
	t.Helper()
	testutil.RequireTool(t, "skopeo")
	path, err := exec.LookPath("skopeo")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
