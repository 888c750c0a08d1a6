package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/testengine"
	"github.com/imgsize/imgsize/internal/testmain"
	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// The package's tests share one podman service (testengine.Shared);
// TestMain stops it.
func TestMain(m *testing.M) {
	code := m.Run()
	testengine.StopShared()
	testmain.Exit(code)
}

// loadArchive writes img as a docker save archive tagged tag, loads it
// into the engine and returns the archive's path.
func loadArchive(t *testing.T, eng *testengine.Engine, tag string, img v1.Image) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	testengine.WriteArchive(t, p, tag, img)
	eng.Load(t, p)
	return p
}

// TestDaemonMetadataMatchesArchive: what podman's metadata says of an
// image (ID, diffIDs, per-layer sizes, created-by, platform) is what the
// docker-archive it was loaded from holds. In particular podman's history
// size of each layer is the length of its tar stream in the archive: the
// claim that makes podman's figures exact.
func TestDaemonMetadataMatchesArchive(t *testing.T) {
	t.Parallel()
	eng := testengine.Shared(t)
	cases := []struct{ name, archive, ref string }{}
	gen := loadArchive(t, eng, "localhost/imgsize-src-meta:v1", testengine.Image(t, 101, 4))
	cases = append(cases, struct{ name, archive, ref string }{"generated", gen, "localhost/imgsize-src-meta:v1"})
	if dir, ok := testutil.FixturesIfPresent(t); ok {
		p := filepath.Join(dir, "test-docker-image.tar")
		eng.Load(t, p)
		cases = append(cases, struct{ name, archive, ref string }{"docker save fixture", p, "localhost/dive-test:latest"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arch := open(t, "docker-archive:"+c.archive, source.Options{})
			d := open(t, "docker-daemon:"+c.ref, source.Options{Getenv: eng.Getenv(nil)})
			if d.Transport != source.DockerDaemon || d.Image != nil || d.Engine == nil || !d.SyntheticManifest {
				t.Fatalf("opened %+v: want an engine image with no v1.Image", d)
			}
			e := d.Engine
			if e.Kind != source.EnginePodman || !e.SizesExact || e.SizeReason != "" || e.Engine != "Podman Engine "+podmanVersion(t) {
				t.Errorf("engine %q kind %s exact %v reason %q; want Podman Engine %s", e.Engine, e.Kind, e.SizesExact, e.SizeReason, podmanVersion(t))
			}
			id, err := arch.Image.ConfigName()
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != id || !e.IDIsConfig {
				t.Errorf("image ID %s (is config: %v), archive's config %s", e.ID, e.IDIsConfig, id)
			}
			cf, err := arch.Image.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if got := e.DiffIDs(); !slices.Equal(got, cf.RootFS.DiffIDs) {
				t.Errorf("diffIDs %v, archive's %v", got, cf.RootFS.DiffIDs)
			}
			if want := *cf.Platform(); e.Platform.String() != want.String() {
				t.Errorf("platform %s, archive's %s", e.Platform.String(), want.String())
			}
			m, err := arch.Image.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			var createdBy []string
			for _, h := range cf.History {
				if !h.EmptyLayer {
					createdBy = append(createdBy, h.CreatedBy)
				}
			}
			for i, l := range e.Layers {
				if !l.Sized || l.Size != m.Layers[i].Size {
					t.Errorf("layer %d: engine size %d (sized %v), archive's tar is %d bytes", i, l.Size, l.Sized, m.Layers[i].Size)
				}
				if l.CreatedBy != createdBy[i] {
					t.Errorf("layer %d: created by %q, archive's history says %q", i, l.CreatedBy, createdBy[i])
				}
			}

			// The export is the same image, served like a docker-archive,
			// and made once.
			exp, err := d.Export(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if expID, _ := exp.Image.ConfigName(); expID != id {
				t.Errorf("export's config %s, want %s", expID, id)
			}
			em, err := exp.Image.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if diff := descDiff(em.Layers, m.Layers); diff != "" {
				t.Errorf("export's layers differ from the archive's:\n%s", diff)
			}
			again, err := d.Export(context.Background())
			if err != nil || again != exp || !e.Exported() {
				t.Errorf("second Export: %p, %v; want the first, %p", again, err, exp)
			}
		})
	}
}

// TestDaemonExportRemovedOnClose: the export is spooled to $TMPDIR, and
// Close removes it. Not parallel: it sets TMPDIR.
func TestDaemonExportRemovedOnClose(t *testing.T) {
	eng := testengine.Shared(t)
	loadArchive(t, eng, "localhost/imgsize-src-spool:v1", testengine.Image(t, 102, 2))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	img, err := source.Open(context.Background(), "docker-daemon:localhost/imgsize-src-spool:v1", source.Options{Getenv: eng.Getenv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := listTempArchives(t, tmp); len(got) != 0 {
		t.Errorf("opening spooled %v before any export", got)
	}
	if _, err := img.Export(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := listTempArchives(t, tmp); len(got) != 1 {
		t.Errorf("after Export, temporary archives %v, want one", got)
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if got := listTempArchives(t, tmp); len(got) != 0 {
		t.Errorf("after Close, temporary archives %v remain", got)
	}
}

// TestDaemonErrors: each failure is one line naming what failed, with the
// kind its exit code needs.
func TestDaemonErrors(t *testing.T) {
	t.Parallel()
	eng := testengine.Shared(t)
	noSocket := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	for _, c := range []struct {
		name      string
		arg       string
		env       map[string]string
		kind      error // nil: no errdefs kind (exit 3 all the same)
		fragments []string
	}{
		{"not in the engine", "docker-daemon:localhost/imgsize-absent:v1", nil, errdefs.ErrNotFound,
			[]string{"localhost/imgsize-absent:v1", "not found in the engine at " + eng.Host}},
		{"no engine answers", "docker-daemon:app:v1", map[string]string{"DOCKER_HOST": noSocket}, nil,
			[]string{"no container engine answered", noSocket, "DOCKER_HOST", "no such file or directory"}},
		{"ssh engine", "docker-daemon:app:v1", map[string]string{"DOCKER_HOST": "ssh://me@build-host"}, errdefs.ErrUnsupported,
			[]string{`scheme "ssh" is not supported`}},
		{"TLS engine", "docker-daemon:app:v1", map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}, errdefs.ErrUnsupported,
			[]string{"DOCKER_TLS_VERIFY"}},
		{"missing image", "docker-daemon:", nil, errdefs.ErrUsage, []string{"missing image"}},
		{"invalid name", "docker-daemon:app/../../containers/json?all=1", nil, errdefs.ErrUsage, []string{"invalid image name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img, err := source.Open(context.Background(), c.arg, source.Options{Getenv: eng.Getenv(c.env)})
			if err == nil {
				img.Close()
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if c.kind != nil {
				checkErr(t, err, c.kind, c.fragments...)
				return
			}
			if k := kindsOf(err); len(k) != 0 {
				t.Errorf("error %q has kinds %v, want none", err, k)
			}
			for _, f := range c.fragments {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not mention %q", err, f)
				}
			}
		})
	}
}

// TestBareRefHint: a bare reference the registry does not serve (its
// port is closed, or it answers 404) but the local engine holds fails
// with the registry's error and a hint naming docker-daemon:; with
// PreferDaemon the engine's copy is read instead, and without the image
// in the engine the registry is asked as before.
func TestBareRefHint(t *testing.T) {
	t.Parallel()
	eng := testengine.Shared(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	closed := "127.0.0.1:1/imgsize-hint:dev"
	missing := host + "/imgsize-hint404:v1"
	img := testengine.Image(t, 103, 2)
	loadArchive(t, eng, closed, img)
	loadArchive(t, eng, missing, img)

	for _, ref := range []string{closed, missing} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			_, err := source.Open(context.Background(), ref, source.Options{Getenv: eng.Getenv(nil)})
			if err == nil {
				t.Fatal("no error: the registry does not have the image")
			}
			want := "read it with docker-daemon:" + ref
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), eng.Host) {
				t.Errorf("error %q does not say %q at %s", err, want, eng.Host)
			}
			if errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("error %q is a usage error", err)
			}

			d := open(t, ref, source.Options{Getenv: eng.Getenv(nil), PreferDaemon: true})
			if d.Transport != source.DockerDaemon || d.Engine == nil {
				t.Errorf("with PreferDaemon: transport %s, want %s", d.Transport, source.DockerDaemon)
			}
		})
	}
	t.Run("not in the engine either", func(t *testing.T) {
		t.Parallel()
		ref := host + "/imgsize-nowhere:v1"
		for _, prefer := range []bool{false, true} {
			_, err := source.Open(context.Background(), ref, source.Options{Getenv: eng.Getenv(nil), PreferDaemon: prefer})
			checkErr(t, err, errdefs.ErrNotFound, ref)
			if strings.Contains(err.Error(), "docker-daemon") {
				t.Errorf("prefer %v: error %q hints at an engine that lacks the image", prefer, err)
			}
		}
	})
	t.Run("no engine answers", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"DOCKER_HOST": "unix://" + filepath.Join(t.TempDir(), "none.sock")}
		_, err := source.Open(context.Background(), missing, source.Options{Getenv: eng.Getenv(env), PreferDaemon: true})
		checkErr(t, err, errdefs.ErrNotFound, missing)
	})
}

// TestRegistrySizes: an image pulled from a registry carries the pulled
// manifest's digest (RepoDigests); asked, its compressed sizes are that
// manifest's, and it is that registry image. An image that was loaded,
// not pulled, has none, and says so.
func TestRegistrySizes(t *testing.T) {
	t.Parallel()
	eng := testengine.Shared(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	ref := host + "/imgsize-pulled:v1"
	img := testengine.Image(t, 104, 3)
	pushed := pushImage(t, ref, img)
	eng.Podman(t, "pull", "-q", "--tls-verify=false", ref)

	d := open(t, "docker-daemon:"+ref, source.Options{Getenv: eng.Getenv(nil), RegistrySizes: true})
	r := d.Engine.Registry
	if r == nil {
		t.Fatalf("no registry match: %s (RepoDigests %v)", d.Engine.RegistryReason, d.Engine.RepoDigests)
	}
	m, err := pushed.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	dg, _ := pushed.Digest()
	if r.Digest != dg || !r.SameConfig || len(r.Layers) != len(m.Layers) {
		t.Fatalf("match %+v, want manifest %s with %d layers and the same config", r, dg, len(m.Layers))
	}
	if diff := descDiff(r.Layers, m.Layers); diff != "" {
		t.Errorf("layers differ from the pushed manifest's:\n%s", diff)
	}

	loaded := "localhost/imgsize-loaded:v1"
	loadArchive(t, eng, loaded, testengine.Image(t, 105, 1))
	d = open(t, "docker-daemon:"+loaded, source.Options{Getenv: eng.Getenv(nil), RegistrySizes: true})
	if d.Engine.Registry != nil || d.Engine.RegistryReason == "" {
		t.Errorf("loaded image: match %+v, reason %q; want none, with a reason", d.Engine.Registry, d.Engine.RegistryReason)
	}
}

func pushImage(t *testing.T, ref string, img v1.Image) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return img
}

// podmanVersion is what `podman --version` says: "podman version 4.3.1".
func podmanVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(testengine.Binary, "--version").Output()
	if err != nil {
		t.Fatalf("podman --version: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "podman version ")
}

// TestDaemonVersionFromPing: Podman's /_ping headers name it, and its
// /version (slow on a real Podman: it looks up packages) is not asked; the
// ping that found the engine is the only one. An engine whose ping names
// nothing is asked /version.
func TestDaemonVersionFromPing(t *testing.T) {
	t.Parallel()
	const id = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	for _, c := range []struct {
		name        string
		headers     map[string]string
		want        string
		wantVersion bool
	}{
		{"Server and Libpod-Api-Version", map[string]string{"Libpod-Api-Version": "4.9.0", "Server": "Libpod/4.9.3 (linux)"}, "Podman Engine 4.9.3", false},
		{"Libpod-Api-Version alone", map[string]string{"Libpod-Api-Version": "5.2.0"}, "Podman Engine 5.2.0", false},
		{"no Libpod header", map[string]string{"Server": "Libpod/9.9.9 (linux)"}, "Podman Engine 4.3.1", true},
		{"Docker", map[string]string{"Server": "Docker/27.3.1 (linux)", "Api-Version": "1.47"}, "Podman Engine 4.3.1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := startFakeEngine(t)
			var versionAsked atomic.Bool
			var pings atomic.Int32
			f.set("/_ping", func(w http.ResponseWriter) {
				pings.Add(1)
				for k, v := range c.headers {
					w.Header().Set(k, v)
				}
				io.WriteString(w, "OK")
			})
			f.set("/version", func(w http.ResponseWriter) {
				versionAsked.Store(true)
				io.WriteString(w, `{"Version":"4.3.1","Components":[{"Name":"Podman Engine","Version":"4.3.1"}]}`)
			})
			f.json("/images/app:v1/json", inspectJSON(id, fakeDigest(2)))
			f.json("/images/app:v1/history", `[{"Id":"x","CreatedBy":"RUN a","Size":1024}]`)
			img := open(t, "docker-daemon:app:v1", source.Options{Getenv: f.getenv("")})
			if img.Engine.Engine != c.want || img.Engine.Kind != source.EnginePodman {
				t.Errorf("engine %q (%s), want %q", img.Engine.Engine, img.Engine.Kind, c.want)
			}
			if versionAsked.Load() != c.wantVersion {
				t.Errorf("/version asked: %v, want %v", versionAsked.Load(), c.wantVersion)
			}
			if n := pings.Load(); n != 1 {
				t.Errorf("%d pings, want 1: the one that found the engine", n)
			}
		})
	}
}

// fakeEngine serves canned Docker API answers on a unix socket: the
// engine is outside input, and these are answers no real engine gives.
type fakeEngine struct {
	host    string
	mu      sync.Mutex
	answers map[string]func(w http.ResponseWriter)
}

func startFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	dir, err := os.MkdirTemp("", "imgsize-fake-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "e.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeEngine{host: "unix://" + sock, answers: map[string]func(http.ResponseWriter){}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers are keyed by the path after the API version.
		p := r.URL.Path
		if i := strings.Index(p[1:], "/"); strings.HasPrefix(p, "/v1.") && i > 0 {
			p = p[i+1:]
		}
		f.mu.Lock()
		a := f.answers[p]
		f.mu.Unlock()
		if a == nil {
			http.Error(w, `{"message":"no such image"}`, http.StatusNotFound)
			return
		}
		a(w)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	f.json("/_ping", "OK")
	f.json("/version", `{"Version":"4.3.1","Components":[{"Name":"Podman Engine","Version":"4.3.1"}]}`)
	return f
}

func (f *fakeEngine) json(path, body string) {
	f.set(path, func(w http.ResponseWriter) { io.WriteString(w, body) })
}

func (f *fakeEngine) set(path string, a func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[path] = a
}

func (f *fakeEngine) getenv(string) func(string) string {
	return func(k string) string {
		if k == "DOCKER_HOST" {
			return f.host
		}
		return ""
	}
}

// inspectJSON is a well-formed image inspect answer for the layers given.
func inspectJSON(id string, layers ...string) string {
	b, _ := json.Marshal(map[string]any{
		"Id": id, "Os": "linux", "Architecture": "amd64",
		"RootFS": map[string]any{"Type": "layers", "Layers": layers},
	})
	return string(b)
}

func fakeDigest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// TestDaemonHostileEngine: malformed, huge, stalled and misleading
// answers fail cleanly, bounded and on one line, or are believed no
// further than they can be checked.
func TestDaemonHostileEngine(t *testing.T) {
	t.Parallel()
	goodInspect := inspectJSON(fakeDigest(1), fakeDigest(2), fakeDigest(3))
	goodHistory := `[{"Id":"x","CreatedBy":"CMD","Size":0},{"CreatedBy":"RUN b","Size":2048},{"CreatedBy":"RUN a","Size":1024}]`
	for _, c := range []struct {
		name    string
		setup   func(f *fakeEngine)
		opts    source.Options
		kind    error
		message []string
		check   func(t *testing.T, img *source.Image)
	}{
		{name: "malformed inspect", setup: func(f *fakeEngine) { f.json("/images/app:v1/json", `{"Id": "sha256:`) },
			kind: errdefs.ErrCorrupt, message: []string{"malformed answer to GET /images/app:v1/json"}},
		{name: "huge inspect", setup: func(f *fakeEngine) {
			f.set("/images/app:v1/json", func(w http.ResponseWriter) {
				chunk := []byte(strings.Repeat(" ", 1<<20))
				io.WriteString(w, `{"Id":`)
				for range 17 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			})
		}, kind: errdefs.ErrCorrupt, message: []string{"larger than 16 MiB"}},
		{name: "ID not a digest", setup: func(f *fakeEngine) {
			f.json("/images/app:v1/json", inspectJSON("sha256:\x1b[2Jzz", fakeDigest(2)))
			f.json("/images/app:v1/history", goodHistory)
		}, kind: errdefs.ErrCorrupt, message: []string{"image ID", `"sha256:\x1b[2Jzz" is not a sha256 digest`}},
		{name: "layer not a digest", setup: func(f *fakeEngine) {
			f.json("/images/app:v1/json", inspectJSON(fakeDigest(1), "md5:abc"))
			f.json("/images/app:v1/history", goodHistory)
		}, kind: errdefs.ErrCorrupt, message: []string{"layer 0", "md5:abc"}},
		{name: "engine error with controls", setup: func(f *fakeEngine) {
			f.set("/images/app:v1/json", func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"message":"boom\n\u001b[31mimgsize: ok\u202e Authorization: Bearer abcdef123456"}`)
			})
		}, message: []string{"500 Internal Server Error", "boom", "Authorization: REDACTED"}},
		{name: "history that does not pair up", setup: func(f *fakeEngine) {
			f.json("/images/app:v1/json", goodInspect)
			f.json("/images/app:v1/history", `[{"CreatedBy":"RUN c","Size":10},{"CreatedBy":"RUN b","Size":2048},{"CreatedBy":"RUN a","Size":1024}]`)
		}, check: func(t *testing.T, img *source.Image) {
			for i, l := range img.Engine.Layers {
				if l.Sized || l.CreatedBy != "" {
					t.Errorf("layer %d attributed %+v from a history of 3 sized steps for 2 layers", i, l)
				}
			}
			if !strings.Contains(img.Engine.SizeReason, "which step made which layer is not known") {
				t.Errorf("reason %q", img.Engine.SizeReason)
			}
		}},
		{name: "hostile created-by kept exact", setup: func(f *fakeEngine) {
			f.json("/images/app:v1/json", goodInspect)
			f.json("/images/app:v1/history", `[{"CreatedBy":"CMD","Size":0},{"CreatedBy":"RUN \u001b]0;pwned\u0007 b","Size":2048},{"CreatedBy":"RUN a","Size":1024}]`)
		}, check: func(t *testing.T, img *source.Image) {
			// Kept as the engine said: the report escapes what it prints
			// (pkg/report Terminal), as for a config's history.
			if got := img.Engine.Layers[1].CreatedBy; got != "RUN \x1b]0;pwned\x07 b" {
				t.Errorf("created by %q", got)
			}
			if l := img.Engine.Layers; l[0].Size != 1024 || l[1].Size != 2048 || !l[0].Sized {
				t.Errorf("sizes %+v", l)
			}
		}},
		{name: "Docker engine", setup: func(f *fakeEngine) {
			f.json("/version", `{"Version":"27.1.1","Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"27.1.1"},{"Name":"containerd","Version":"1.7"}]}`)
			f.json("/images/app:v1/json", goodInspect)
			f.json("/images/app:v1/history", goodHistory)
		}, check: func(t *testing.T, img *source.Image) {
			e := img.Engine
			if e.Kind != source.EngineDocker || e.SizesExact || !strings.Contains(e.SizeReason, "unpacked files' size") || e.Engine != "Docker Engine - Community 27.1.1" {
				t.Errorf("engine %q kind %s exact %v reason %q", e.Engine, e.Kind, e.SizesExact, e.SizeReason)
			}
		}},
		{name: "multi-platform image, other platform asked", setup: func(f *fakeEngine) {
			f.json("/images/app:v1/json", `{"Id":"`+fakeDigest(1)+`","Os":"linux","Architecture":"amd64","RootFS":{"Type":"layers","Layers":["`+fakeDigest(2)+`"]},
				"Manifests":[{"Kind":"image","Available":true,"Descriptor":{"platform":{"os":"linux","architecture":"amd64"}}},
				             {"Kind":"image","Available":true,"Descriptor":{"platform":{"os":"linux","architecture":"arm64"}}},
				             {"Kind":"attestation","Descriptor":{"platform":{"os":"unknown","architecture":"unknown"}}}]}`)
			f.json("/images/app:v1/history", `[{"CreatedBy":"RUN a","Size":1}]`)
		}, opts: source.Options{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}},
			kind: errdefs.ErrUnsupported, message: []string{"several platforms (linux/amd64, linux/arm64)", "platform linux/arm64"}},
		{name: "headers never come", setup: func(f *fakeEngine) {
			f.set("/images/app:v1/json", func(http.ResponseWriter) { time.Sleep(3 * time.Second) })
		}, opts: source.Options{IdleTimeout: 300 * time.Millisecond}, message: []string{"GET /images/app:v1/json", "no answer within 300ms"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := startFakeEngine(t)
			c.setup(f)
			opts := c.opts
			opts.Getenv = f.getenv("")
			img, err := source.Open(context.Background(), "docker-daemon:app:v1", opts)
			if c.check != nil {
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				c.check(t, img)
				return
			}
			if err == nil {
				img.Close()
				t.Fatal("no error")
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b\u202e") {
				t.Errorf("error carries control characters: %q", err)
			}
			if c.kind != nil {
				checkErr(t, err, c.kind, c.message...)
				return
			}
			for _, m := range c.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// TestRegistrySizesMismatch: a RepoDigest whose manifest holds other
// layers is refused, with the reason, rather than lending its sizes.
func TestRegistrySizesMismatch(t *testing.T) {
	t.Parallel()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	other := pushImage(t, host+"/imgsize-other:v1", testengine.Image(t, 106, 2))
	dg, _ := other.Digest()
	f := startFakeEngine(t)
	b, _ := json.Marshal(map[string]any{
		"Id": fakeDigest(1), "Os": "linux", "Architecture": "amd64",
		"RepoDigests": []string{host + "/imgsize-other@" + dg.String()},
		"RootFS":      map[string]any{"Type": "layers", "Layers": []string{fakeDigest(2), fakeDigest(3)}},
	})
	f.json("/images/app:v1/json", string(b))
	f.json("/images/app:v1/history", `[{"CreatedBy":"RUN b","Size":2048},{"CreatedBy":"RUN a","Size":1024}]`)
	img := open(t, "docker-daemon:app:v1", source.Options{Getenv: f.getenv(""), RegistrySizes: true})
	if img.Engine.Registry != nil || !strings.Contains(img.Engine.RegistryReason, "are not the image's") {
		t.Errorf("match %+v, reason %q; want none, because the layers differ", img.Engine.Registry, img.Engine.RegistryReason)
	}
}
