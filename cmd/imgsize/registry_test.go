package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/testregistry"
	"github.com/imgsize/imgsize/internal/testutil"
)

// push writes a random image to the real registry and returns its reference.
func push(t *testing.T, r *testregistry.Registry, repoTag string) (string, v1.Image) {
	t.Helper()
	img := testutil.RandomImage(t, 50_000, 4)
	ref, err := name.ParseReference(r.Addr + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithTransport(r.Transport())}
	if r.User != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password}))
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref.String(), img
}

// skopeoLayerTotal sums the layer sizes of the manifest as skopeo, an
// independent client, fetches it.
func skopeoLayerTotal(t *testing.T, r *testregistry.Registry, ref string) int64 {
	t.Helper()
	if _, err := exec.LookPath("skopeo"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("skopeo missing in CI")
		}
		t.Skip("skopeo not installed")
	}
	args := []string{"inspect", "--raw"}
	if r.TLS {
		args = append(args, "--cert-dir", r.CertDir, "--creds", r.User+":"+r.Password)
	} else {
		args = append(args, "--tls-verify=false")
	}
	out, err := exec.Command("skopeo", append(args, "docker://"+ref)...).Output()
	if err != nil {
		t.Fatalf("skopeo inspect: %v", err)
	}
	var m struct {
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("skopeo output: %v", err)
	}
	var n int64
	for _, l := range m.Layers {
		n += l.Size
	}
	if len(m.Layers) == 0 {
		t.Fatal("skopeo saw no layers")
	}
	return n
}

func TestRealRegistry(t *testing.T) {
	t.Parallel()
	for _, variant := range []testregistry.Options{{}, {TLS: true, Auth: true}} {
		name := "plain"
		if variant.TLS {
			name = "tls+auth"
		}
		t.Run(name, func(t *testing.T) {
			reg := testregistry.Start(t, variant)
			ref, img := push(t, reg, "app:v1")
			var env []string
			if reg.TLS {
				env = append(env, "SSL_CERT_FILE="+reg.CAFile, "DOCKER_CONFIG="+reg.DockerConfigDir(t))
			} else {
				env = append(env, "DOCKER_CONFIG="+t.TempDir())
			}

			r := imgsize(t, env, "inspect", "--format", "json", ref)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			rep := decode(t, r.stdout)
			got := rep.Images[0]
			want := skopeoLayerTotal(t, reg, ref)
			if got.Compressed.Bytes == nil || *got.Compressed.Bytes != want || got.Compressed.Provenance != "exact" {
				t.Errorf("compressed %+v, skopeo's manifest says %d", got.Compressed, want)
			}
			if got.Uncompressed.Provenance != "gzip-trailer" || got.Uncompressed.Bytes == nil || *got.Uncompressed.Bytes != uncompressedTotal(t, img) {
				t.Errorf("registry uncompressed without --exact: %+v, want %d from the gzip trailer", got.Uncompressed, uncompressedTotal(t, img))
			}
			d, _ := img.Digest()
			if got.Digest != d.String() {
				t.Errorf("digest %s, pushed %s", got.Digest, d)
			}

			// --exact reads the layers; the result must equal what the
			// pushed layers decompress to.
			r = imgsize(t, env, "inspect", "--exact", "--format", "json", ref)
			if r.code != 0 {
				t.Fatalf("--exact exit %d: %s", r.code, r.stderr)
			}
			ex := decode(t, r.stdout).Images[0]
			if ex.Uncompressed.Provenance != "exact" || ex.Uncompressed.Bytes == nil || *ex.Uncompressed.Bytes != uncompressedTotal(t, img) {
				t.Errorf("--exact uncompressed %+v, want %d", ex.Uncompressed, uncompressedTotal(t, img))
			}

			r = imgsize(t, env, "inspect", reg.Addr+"/app:absent")
			if r.code != 3 || !strings.Contains(r.stderr, "app:absent") {
				t.Errorf("absent tag: exit %d, %q", r.code, r.stderr)
			}
		})
	}
}

func uncompressedTotal(t *testing.T, img v1.Image) int64 {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := readAllCount(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += b
	}
	return n
}

func TestRealRegistryAuthFailure(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{TLS: true, Auth: true})
	ref, _ := push(t, reg, "secret:v1")
	const badPassword = "wrong-hunter2-password"
	cfg := t.TempDir()
	// A docker config whose credentials the registry refuses.
	writeDockerConfig(t, cfg, reg.Addr, "wrong", badPassword)
	env := []string{"SSL_CERT_FILE=" + reg.CAFile, "DOCKER_CONFIG=" + cfg}

	r := imgsize(t, env, "inspect", ref)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, badPassword) {
		t.Errorf("password leaked into output: %q", r.stderr)
	}
	if !strings.Contains(strings.ToLower(r.stderr), "unauthorized") || !strings.Contains(r.stderr, "secret:v1") {
		t.Errorf("error does not say unauthorized for the image: %q", r.stderr)
	}

	// Without trusting the CA, TLS fails: still one line, exit 3.
	r = imgsize(t, []string{"DOCKER_CONFIG=" + cfg, "SSL_CERT_FILE=" + filepath.Join(t.TempDir(), "none.pem")}, "inspect", ref)
	if r.code != 3 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("untrusted TLS: exit %d, %q", r.code, r.stderr)
	}
}

func writeDockerConfig(t *testing.T, dir, host, user, pass string) {
	t.Helper()
	cfg := map[string]any{"auths": map[string]any{host: map[string]string{"username": user, "password": pass}}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
