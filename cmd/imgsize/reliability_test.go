package main

// The defects of issue 9 ("never hang, never be fooled, never leak"), one
// test each, run as a user would: the imgsize binary against the real
// docker-registry with the fault layer (internal/faultproxy) in front of
// it. docs/reliability.md lists each case with the test that proves it.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	encbin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"

	"github.com/imgsize/imgsize/internal/faultproxy"
	"github.com/imgsize/imgsize/internal/testregistry"
	"github.com/imgsize/imgsize/internal/testutil"
)

// relLimit is how long any reliability run may take before the test kills
// it and fails: far above what the fixed code needs with the short idle
// timeout the tests pass, far below "forever".
const relLimit = 90 * time.Second

// relIdle is the idle timeout the tests give, so a stall costs seconds,
// not the default 30 s.
const relIdle = "--idle-timeout=1s"

// relRetry goes with relIdle (imgsizeWithin adds it): the pauses between
// tries, 1 s and 3 s by default, shrink to 50 and 150 ms, so a test of a
// failure that is retried to the end costs a fraction of a second.
const relRetry = "--retry-delay=50ms"

// imgsizeWithin runs the binary and fails the test if it has not ended
// within limit: a hang is the defect, not something to wait out.
func imgsizeWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	start := time.Now()
	r, args, err := runWithin(limit, env, args...)
	t.Logf("imgsize %s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, r.stderr)
	}
	validateJSONOutput(t, "", args, r)
	return r
}

// runWithin is imgsizeWithin without a test to report to, for runs made
// side by side in goroutines. It returns the arguments it ran with.
func runWithin(limit time.Duration, env []string, args ...string) (result, []string, error) {
	if os.Getenv("IMGSIZE_TEST_BINARY") != "" {
		// An earlier build knows none of the flags added with the fixes:
		// run it without them, and give a hang less time.
		var kept []string
		for _, a := range args {
			if a != relIdle && a != "--trust-gzip-trailer" {
				kept = append(kept, a)
			}
		}
		args, limit = kept, min(limit, 20*time.Second)
	}
	if os.Getenv("IMGSIZE_RELIABILITY_DEFAULTS") != "" {
		// Measures the documented limits with no flags: slow (about 94 s
		// a stall), so run by hand, not in CI.
		var kept []string
		for _, a := range args {
			if a != relIdle {
				kept = append(kept, a)
			}
		}
		args, limit = kept, 150*time.Second
	}
	for i, a := range args {
		if a == relIdle && os.Getenv("IMGSIZE_TEST_BINARY") == "" && os.Getenv("IMGSIZE_RELIABILITY_DEFAULTS") == "" {
			args = append(append(append([]string{}, args[:i+1]...), relRetry), args[i+1:]...)
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	// Only a leaked holder of the output pipes would need the limit; a
	// loaded machine can take more than a second to drain them.
	cmd.WaitDelay = 10 * time.Second
	r, err := execResult(cmd)
	if err != nil {
		return r, args, fmt.Errorf("running imgsize %s: %w", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		return r, args, fmt.Errorf("imgsize %s still running after %s (killed)", strings.Join(args, " "), limit)
	}
	return r, args, nil
}

// relEnv isolates a run: no credentials of the machine's user, a cache of
// the test's own.
func relEnv(t *testing.T) []string {
	return []string{"DOCKER_CONFIG=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir()}
}

// relDockerConfig writes a Docker config holding credentials for addr and
// returns its directory, for DOCKER_CONFIG.
func relDockerConfig(t *testing.T, addr, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, addr, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// relPush pushes img to the registry as repo:tag.
func relPush(t *testing.T, reg *testregistry.Registry, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(reg.Addr + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithTransport(reg.Transport())}
	if reg.User != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: reg.User, Password: reg.Password}))
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return repoTag
}

func relRandomImage(t *testing.T, layers int) v1.Image {
	t.Helper()
	img := testutil.RandomImage(t, 20_000, layers)
	return img
}

// sizeOf prints a JSON size for a failure message.
func sizeOf(bytes *int64, prov string) string {
	if bytes == nil {
		return "unknown (" + prov + ")"
	}
	return fmt.Sprintf("%d (%s)", *bytes, prov)
}

type ruleSpec struct {
	match faultproxy.Match
	fault faultproxy.Fault
}

// Defect 1: a blob, manifest or config whose body stalls after its headers
// (or trickles) hung every command; now each ends with exit 3 naming the
// registry, what it fetched and "stalled".
func TestReliabilityStalls(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	img := relRandomImage(t, 2)
	repo := relPush(t, reg, "stall:v1", img)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	config := m.Config.Digest.String()

	// Every GET of the blob stalls, the resumed ones (Range: bytes=10-)
	// too: a stall that a resume gets past is not a failure.
	stall := faultproxy.Fault{Stall: true, StallAfter: 10}
	cases := []struct {
		name  string
		rule  ruleSpec
		args  []string
		wants []string
	}{
		{"inspect: ranged probe stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, faultproxy.Fault{Stall: true}},
			[]string{"inspect"}, []string{"stalled", "sha256:"}},
		{"inspect --exact: layer body stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob}, stall},
			[]string{"inspect", "--exact"}, []string{"stalled", "sha256:"}},
		{"files: layer body stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob}, stall},
			[]string{"files"}, []string{"stalled"}},
		{"check: probe stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, faultproxy.Fault{Stall: true}},
			[]string{"check", "--max-uncompressed", "1GB"}, []string{"stalled"}},
		{"manifest body stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Manifest}, stall},
			[]string{"inspect"}, []string{"stalled", "manifest"}},
		{"manifest never answers", ruleSpec{faultproxy.Match{Kind: faultproxy.Manifest}, faultproxy.Fault{StallHeaders: true}},
			[]string{"inspect"}, []string{"stalled"}},
		{"config body stalls", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob, Digest: config}, stall},
			[]string{"inspect"}, []string{"stalled", config[:19]}},
		{"layer body trickles", ruleSpec{faultproxy.Match{Kind: faultproxy.Blob}, faultproxy.Fault{Trickle: 20 * time.Millisecond}},
			[]string{"inspect", "--exact"}, []string{"stalled"}},
	}
	// Each case mostly waits out idle timeouts, about 3.3 s: they run at
	// once, here, not as parallel subtests, which queue for the package's
	// few test slots behind CPU-bound tests and ended the run, last.
	type run struct {
		rule  faultproxy.Rule
		proxy *faultproxy.Proxy
		args  []string
		r     result
		err   error
	}
	runs := make([]*run, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		ru := &run{rule: faultproxy.Rule{Match: c.rule.match, Fault: c.rule.fault}}
		ru.proxy = faultproxy.New(t, reg.URL(), faultproxy.Options{}, &ru.rule)
		env := relEnv(t)
		runs[i] = ru
		wg.Go(func() {
			ru.r, ru.args, ru.err = runWithin(relLimit, env, append(append([]string{}, c.args...), relIdle, "--no-cache", ru.proxy.Addr+"/"+repo)...)
		})
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ru := runs[i]
			if ru.err != nil {
				t.Fatalf("%v\nstderr: %s", ru.err, ru.r.stderr)
			}
			validateJSONOutput(t, "", ru.args, ru.r)
			r, p := ru.r, ru.proxy
			if r.code != exitImage {
				t.Fatalf("exit %d, want %d (image unreadable)\nstderr: %s", r.code, exitImage, r.stderr)
			}
			if ru.rule.Hits() == 0 {
				t.Fatalf("the fault never fired; requests: %+v", p.Requests())
			}
			for _, w := range c.wants {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if !strings.Contains(r.stderr, p.Addr) {
				t.Errorf("stderr %q does not name the registry %s", r.stderr, p.Addr)
			}
			if n := len(stderrLines(r.stderr)); n != 1 {
				t.Errorf("stderr has %d lines, want one: %q", n, r.stderr)
			}
		})
	}

	// A stall that clears on the retry costs a retry, not the run.
	t.Run("stall once, then served", func(t *testing.T) {
		t.Parallel()
		rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: -1}, Fault: stall, Times: 1}
		p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
		r := imgsizeWithin(t, relLimit, relEnv(t), "inspect", "--exact", relIdle, "--no-cache", "-f", "json", p.Addr+"/"+repo)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got := decode(t, r.stdout).Images[0].Uncompressed
		if want := uncompressedTotal(t, img); got.Bytes == nil || *got.Bytes != want || got.Provenance != "exact" {
			t.Errorf("uncompressed %s, want %d exact", sizeOf(got.Bytes, got.Provenance), want)
		}
		if rule.Hits() != 1 {
			t.Errorf("fault fired %d times, want 1", rule.Hits())
		}
	})
}

// Defect 2: a same-host redirect loop on a blob GET was followed without
// end; now every request stops after 10 redirects.
func TestReliabilityRedirectLoop(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	repo := relPush(t, reg, "loop:v1", relRandomImage(t, 1))
	for _, args := range [][]string{{"inspect", "--exact"}, {"files"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: -1}, Fault: faultproxy.Fault{RedirectLoop: true}}
			p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
			r := imgsizeWithin(t, relLimit, relEnv(t), append(args, relIdle, "--no-cache", p.Addr+"/"+repo)...)
			if r.code != exitImage {
				t.Fatalf("exit %d, want %d: %s", r.code, exitImage, r.stderr)
			}
			if !strings.Contains(r.stderr, "redirect") {
				t.Errorf("stderr %q does not say redirect", r.stderr)
			}
			// 11 requests per try (the first and 10 redirects), a few
			// tries at most; the old code made hundreds of thousands.
			if n := rule.Hits(); n < 11 || n > 60 {
				t.Errorf("%d looping requests served, want 11 to 60", n)
			}
		})
	}
}

// Defect 3: a proxy echoing the request headers in an error body put
// "Authorization: Basic …" on stderr and into CI annotations.
func TestReliabilityHeaderEcho(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{TLS: true, Auth: true})
	repo := relPush(t, reg, "echo:v1", relRandomImage(t, 1))
	rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob}, Fault: faultproxy.Fault{EchoHeaders: true, Status: http.StatusInternalServerError}}
	p := faultproxy.New(t, reg.URL(), faultproxy.Options{RootCAs: reg.RootCAs}, &rule)

	// The credentials are the registry's, filed under the proxy's address,
	// which is where imgsize sends them.
	cfgDir := relDockerConfig(t, p.Addr, reg.User, reg.Password)
	basic := base64.StdEncoding.EncodeToString([]byte(reg.User + ":" + reg.Password))
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	junit := filepath.Join(dir, "junit.xml")
	env := []string{"DOCKER_CONFIG=" + cfgDir, "XDG_CACHE_HOME=" + t.TempDir(),
		"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}
	secrets := []string{reg.Password, basic}

	for _, args := range [][]string{
		{"inspect", "--exact"},
		{"check", "--max-uncompressed", "1GB", "--junit", junit},
		{"check", "--max-uncompressed", "1GB", "--format", "json"},
		{"check", "--max-uncompressed", "1GB", "--format", "markdown"},
	} {
		r := imgsizeWithin(t, relLimit, env, append(args, relIdle, "--no-cache", p.Addr+"/"+repo)...)
		if r.code != exitImage {
			t.Errorf("%v: exit %d, want %d: %s", args, r.code, exitImage, r.stderr)
		}
		outs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
		for _, f := range []string{summary, junit} {
			if b, err := os.ReadFile(f); err == nil {
				outs[filepath.Base(f)] = string(b)
			}
		}
		for where, s := range outs {
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					t.Errorf("%v: %s holds a credential: %q", args, where, s)
				}
			}
			if strings.Contains(s, "Authorization: Basic") || strings.Contains(s, "Basic "+basic[:8]) {
				t.Errorf("%v: %s holds an Authorization header: %q", args, where, s)
			}
		}
	}
	// The test means something only if credentials were sent and echoed.
	var authed bool
	for _, q := range p.Requests() {
		if q.Fault == 0 && q.Authorization {
			authed = true
		}
	}
	if !authed {
		t.Fatalf("no echoed request carried credentials: %+v", p.Requests())
	}
}

// zstdFrames compresses each part as its own zstd frame, each with its
// content size in the header, and concatenates them: a valid zstd stream
// that decompresses to all the parts.
func zstdFrames(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []byte
	for _, p := range parts {
		out = enc.EncodeAll(p, out)
	}
	return out
}

// wordsTar is a tar stream of one file of n bytes of pseudo-random words
// from a small vocabulary, which compresses several times over, as text
// and binaries do.
func wordsTar(t *testing.T, seed uint64, n int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	words := make([]string, 512)
	for i := range words {
		w := make([]byte, 3+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = string(w) + " "
	}
	body := make([]byte, 0, n+16)
	for len(body) < n {
		body = append(body, words[rng.IntN(len(words))]...)
	}
	body = body[:n]
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", seed), Mode: 0o644, Size: int64(n), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	return buf.Bytes()
}

// blobLayer is a layer made of given stored bytes and diffID.
type blobLayer struct {
	blob   []byte
	diffID v1.Hash
	mt     types.MediaType
}

func (l *blobLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.blob))
	return h, err
}
func (l *blobLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("not needed by these tests")
}
func (l *blobLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

func sha256Hash(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// ociLinuxBase is an empty OCI image for linux/amd64, to append layers to.
func ociLinuxBase(t *testing.T) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// relImage makes a one-platform OCI image of the given layers.
func relImage(t *testing.T, layers []*blobLayer, ann []map[string]string) v1.Image {
	t.Helper()
	img := ociLinuxBase(t)
	var err error
	for i, l := range layers {
		add := mutate.Addendum{Layer: l, MediaType: l.mt, History: v1.History{CreatedBy: fmt.Sprintf("layer %d", i)}}
		if ann != nil {
			add.Annotations = ann[i]
		}
		if img, err = mutate.Append(img, add); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// zstdCount decompresses a blob with the zstd command, independently of
// imgsize, and counts the bytes.
func zstdCount(t *testing.T, blob []byte) int64 {
	t.Helper()
	if _, err := exec.LookPath("zstd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zstd missing in CI")
		}
		t.Skip("zstd not installed")
	}
	f := filepath.Join(t.TempDir(), "blob.zst")
	if err := os.WriteFile(f, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	return encShellInt(t, "zstd -dc "+f+" | wc -c")
}

// Defect 4: a zstd layer of several frames (zstd:chunked as podman 4.x
// writes it, or simply two frames) was sized from its first frame's header,
// marked derived and cached.
func TestReliabilityZstdFrames(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	// The first frame holds most of the content, so its header's size
	// passes every plausibility test the old code applied.
	whole := wordsTar(t, 4, 1<<20+64<<10)
	cut := (1 << 20) / 512 * 512
	blob := zstdFrames(t, whole[:cut], whole[cut:])
	if len(blob) >= cut || len(blob) < 256<<10 {
		t.Fatalf("blob of %d bytes: the test needs one smaller than its first frame's content (%d) and too large to read whole on sight", len(blob), cut)
	}
	want := zstdCount(t, blob)
	if want != int64(len(whole)) {
		t.Fatalf("zstd -dc counts %d, the tar is %d", want, len(whole))
	}
	layer := &blobLayer{blob: blob, diffID: sha256Hash(whole), mt: types.OCILayerZStd}
	for _, c := range []struct {
		name string
		ann  map[string]string
	}{
		{"podman 4 zstd:chunked annotations", map[string]string{
			"io.containers.zstd-chunked.manifest-checksum": sha256Hash([]byte("toc")).String(),
			"io.containers.zstd-chunked.manifest-position": "100:50:200:1",
		}},
		{"no annotation", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			repo := relPush(t, reg, "zstd"+fmt.Sprint(len(c.ann))+":v1", relImage(t, []*blobLayer{layer}, []map[string]string{c.ann}))
			env := relEnv(t)
			for run := 1; run <= 2; run++ { // the second answers from the cache
				r := imgsizeWithin(t, relLimit, env, "inspect", "-f", "json", reg.Addr+"/"+repo)
				if r.code != 0 {
					t.Fatalf("run %d: exit %d: %s", run, r.code, r.stderr)
				}
				got := decode(t, r.stdout).Images[0].Uncompressed
				if got.Bytes == nil || *got.Bytes != want || got.Provenance != "exact" {
					t.Errorf("run %d: uncompressed %s, zstd -dc counts %d", run, sizeOf(got.Bytes, got.Provenance), want)
				}
			}
		})
	}
}

// Defect 5: a Range answer claiming an impossible gzip ISIZE (4 GB from a
// small blob) was believed, printed and cached under the layer digest.
func TestReliabilityLyingTrailer(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	img := relRandomImage(t, 1)
	repo := relPush(t, reg, "lie:v1", img)
	want := uncompressedTotal(t, img)
	lie := func(_ *http.Request, body []byte) []byte {
		if len(body) != 4 {
			return body
		}
		return encbin.LittleEndian.AppendUint32(nil, 3_999_999_488) // 512-aligned, as a tar would be
	}
	rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, Fault: faultproxy.Fault{Rewrite: lie}}
	p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
	env := relEnv(t)
	cacheDir := t.TempDir()
	for _, host := range []string{p.Addr, reg.Addr} { // the lie, then an honest registry and the same cache
		r := imgsizeWithin(t, relLimit, env, "inspect", "-f", "json", "--cache-dir", cacheDir, host+"/"+repo)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", host, r.code, r.stderr)
		}
		got := decode(t, r.stdout).Images[0].Uncompressed
		if got.Bytes == nil || *got.Bytes != want {
			t.Errorf("via %s: uncompressed %s, the layer holds %d", host, sizeOf(got.Bytes, got.Provenance), want)
		}
	}
	if rule.Hits() == 0 {
		t.Fatal("no Range answer was rewritten")
	}
}

// wrappedGzip builds a gzip member holding n MiB of zeros with zeroGzip.
// It returns the blob and the content's sha256 (the diffID).
//
// The sums of a run of zeros in zeroSums are not computed again: hashing
// 4.3 GB took the race-instrumented test process about 8 s of CPU. A wrong
// entry cannot pass a test: imgsize checks both while it decompresses.
func wrappedGzip(t *testing.T, mib int) ([]byte, v1.Hash) {
	t.Helper()
	var known *zeroSum
	if s, ok := zeroSums[mib]; ok {
		known = &s
	}
	blob, sums := zeroGzip(t, nil, int64(mib)<<20, known)
	return blob, v1.Hash{Algorithm: "sha256", Hex: sums.sha256}
}

// zeroGzip builds a gzip member holding prefix and then n zero bytes
// without compressing n bytes: chunkedGzip deflates 1 MiB of zeros once
// and repeats it. The content's sha256 is known's when given (its CRC-32,
// which chunkedGzip computes, must then match), else computed here; it
// returns the blob and the sums.
func zeroGzip(t *testing.T, prefix []byte, n int64, known *zeroSum) ([]byte, zeroSum) {
	t.Helper()
	const mib = 1 << 20
	zeros := make([]byte, mib)
	var out bytes.Buffer
	z, err := newChunkedGzip(&out, zeros, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	var h hash.Hash = sha256.New()
	if known != nil {
		h = nil
	}
	write := func(p []byte) {
		if _, err := z.Write(p); err != nil {
			t.Fatal(err)
		}
		if h != nil {
			h.Write(p)
		}
	}
	write(prefix)
	for range n / mib {
		write(zeros)
	}
	write(zeros[:n%mib])
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	sums := zeroSum{crc32: z.crc}
	if known != nil {
		if known.crc32 != z.crc {
			t.Fatalf("zeroSums says CRC-32 %08x, the content's is %08x", known.crc32, z.crc)
		}
		sums.sha256 = known.sha256
	} else {
		sums.sha256 = hex.EncodeToString(h.Sum(nil))
	}
	return out.Bytes(), sums
}

// zeroSum is the sha256 (hex) and CRC-32 of a gzip member's content.
type zeroSum struct {
	sha256 string
	crc32  uint32
}

// zeroSums are the sha256 and CRC-32 of runs of zeros, by MiB, as
// independent tools compute them:
//
//	head -c $(( (4*1024+20)*1024*1024 )) /dev/zero | sha256sum
//	python3 -c 'import zlib; z = bytes(1 << 20); c = 0
//	for _ in range(4*1024+20): c = zlib.crc32(z, c)
//	print("%08x" % c)'
var zeroSums = map[int]zeroSum{
	4<<10 + 20: {"bfcd871d108d00577f7865d37504e6001c4716f9999aabae5c0e5e70a4766cfd", 0x51e91d7e},
}

// The construction is checked with gzip itself on a small instance: the
// same code with more repetitions makes the large one.
func TestWrappedGzipConstruction(t *testing.T) {
	t.Parallel()
	blob, _ := wrappedGzip(t, 5)
	f := filepath.Join(t.TempDir(), "z.gz")
	if err := os.WriteFile(f, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := encShellInt(t, "gzip -dc "+f+" | wc -c"); n != 5<<20 {
		t.Fatalf("gzip -dc counts %d, want %d", n, 5<<20)
	}
	if n := encShellInt(t, "gzip -dc "+f+" | tr -d '\\000' | wc -c"); n != 0 {
		t.Fatalf("%d non-zero bytes", n)
	}
}

// Defect 6: check --max-uncompressed passed an image holding 4.3 GB,
// because a gzip trailer stores the size mod 4 GiB. The gate now counts a
// layer whose blob could hold 4 GiB or more, and says so.
func TestReliabilityWrappedTrailerGate(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 4.3 GB")
	}
	t.Parallel()
	const mib = 4<<10 + 20 // 4 GiB + 20 MiB: the trailer says 20 MiB
	blob, diffID := wrappedGzip(t, mib)
	if len(blob) <= (1<<32)/1032 {
		t.Fatalf("blob of %d bytes could not hold 4 GiB; the test needs a larger one", len(blob))
	}
	if got := encbin.LittleEndian.Uint32(blob[len(blob)-4:]); got != 20<<20 {
		t.Fatalf("trailer says %d, want 20 MiB", got)
	}
	reg := testregistry.Start(t, testregistry.Options{})
	layer := &blobLayer{blob: blob, diffID: diffID, mt: types.OCILayer}
	repo := relPush(t, reg, "lastlog:v1", relImage(t, []*blobLayer{layer}, nil))
	ref := reg.Addr + "/" + repo
	env := relEnv(t)

	r := imgsizeWithin(t, relLimit, env, "check", "--max-uncompressed", "100MB", "-f", "json", ref)
	if r.code != exitBudget {
		t.Fatalf("exit %d, want %d (budget exceeded): %s\n%s", r.code, exitBudget, r.stderr, r.stdout)
	}
	if !strings.Contains(r.stdout, fmt.Sprint(int64(mib)<<20)) {
		t.Errorf("the report does not carry the counted size %d:\n%s", int64(mib)<<20, r.stdout)
	}
	r = imgsizeWithin(t, relLimit, env, "check", "--max-uncompressed", "100MB", ref)
	if r.code != exitBudget || !strings.Contains(r.stdout, "counted") {
		t.Errorf("table: exit %d, and it should say which layer was counted and why:\n%s", r.code, r.stdout)
	}
	// Opting in to trailers is the user's call, and the figure says so.
	r = imgsizeWithin(t, relLimit, env, "check", "--max-uncompressed", "100MB", "--trust-gzip-trailer", "--no-cache", ref)
	if r.code != 0 {
		t.Errorf("--trust-gzip-trailer: exit %d: %s", r.code, r.stderr)
	}
}

// Defect 7: inspect never compared a compressed layer it read whole with
// the config's diffID, and called the figure exact.
func TestReliabilityDiffIDMismatch(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	img := relRandomImage(t, 2)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[1] = sha256Hash([]byte("not this layer"))
	bad, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	repo := relPush(t, reg, "diffid:v1", bad)
	for _, args := range [][]string{{"inspect", "--exact"}, {"files"}} {
		r := imgsizeWithin(t, relLimit, relEnv(t), append(args, "--no-cache", reg.Addr+"/"+repo)...)
		if r.code != exitImage || !strings.Contains(r.stderr, "diff_id mismatch") {
			t.Errorf("%v: exit %d, stderr %q; want exit 3 and diff_id mismatch", args, r.code, r.stderr)
		}
	}
	// A config listing fewer diff_ids than layers cannot skip the check.
	cf.RootFS.DiffIDs = cf.RootFS.DiffIDs[:1]
	short, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	repo = relPush(t, reg, "diffid:short", short)
	r := imgsizeWithin(t, relLimit, relEnv(t), "inspect", "--exact", "--no-cache", reg.Addr+"/"+repo)
	if r.code != exitImage || !strings.Contains(r.stderr, "diff_ids for 2 layers") {
		t.Errorf("short diff_ids: exit %d, stderr %q; want exit 3 naming the count", r.code, r.stderr)
	}
}

// Defect 8: cache entries were barely validated: an unknown provenance
// broke the JSON report, edited and maximal numbers were used.
func TestReliabilityDamagedCache(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	img := relRandomImage(t, 2)
	repo := relPush(t, reg, "cache:v1", img)
	want := uncompressedTotal(t, img)
	cacheDir := t.TempDir()
	env := relEnv(t)
	inspect := func() int64 {
		t.Helper()
		r := imgsizeWithin(t, relLimit, env, "inspect", "-f", "json", "--cache-dir", cacheDir, reg.Addr+"/"+repo)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got := decode(t, r.stdout).Images[0].Uncompressed
		if got.Bytes == nil {
			t.Fatalf("uncompressed unknown: %+v", got)
		}
		return *got.Bytes
	}
	if got := inspect(); got != want {
		t.Fatalf("first run: %d, want %d", got, want)
	}
	entries, err := filepath.Glob(filepath.Join(cacheDir, "layers", "sha256", "*", "*"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no cache entries under %s (%v)", cacheDir, err)
	}
	for _, damage := range []func(map[string]any){
		func(e map[string]any) { e["provenance"] = "bogus" },
		func(e map[string]any) { e["uncompressed"] = 9223372036854775807 },
		func(e map[string]any) { e["uncompressed"] = e["uncompressed"].(float64) + 512 },
	} {
		for _, f := range entries {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var e map[string]any
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("cache entry %s: %v", f, err)
			}
			damage(e)
			b, _ = json.Marshal(e)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := inspect(); got != want {
			t.Errorf("damaged cache: %d, want %d", got, want)
		}
	}
}

// Defect 9: text from a saved report reached the terminal raw.
func TestReliabilityHostileReportText(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	rep := filepath.Join(t.TempDir(), "r.json")
	r := runInProcess(t, "inspect", "-f", "json", "-o", rep, "oci:"+dir+":big")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	hostile := "app\x1b]0;pwned\x07\x1b[2J\rimgsize: ok\n\u202Egpj.exe|x"
	img := doc["images"].([]any)[0].(map[string]any)
	img["name"] = hostile
	for _, l := range img["layers"].([]any) {
		l.(map[string]any)["createdBy"] = hostile
	}
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(rep, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect", "report:" + rep},
		{"inspect", "-f", "markdown", "report:" + rep},
		{"inspect", "-f", "csv", "report:" + rep},
		{"compare", "report:" + rep, "report:" + rep},
		{"check", "--max-compressed", "1", "report:" + rep},
	} {
		r := imgsizeWithin(t, relLimit, nil, args...)
		for where, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			for _, bad := range []string{"\x1b", "\x07", "\r", "\u202E"} {
				if strings.Contains(s, bad) {
					t.Errorf("%v: %s holds %q: %q", args, where, bad, s)
				}
			}
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "imgsize: ok") {
					t.Errorf("%v: %s has a forged line %q", args, where, line)
				}
			}
		}
	}
}

// Defect 10: assorted input that was taken or misread.
func TestReliabilityInputLimits(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	good := "oci:" + dir + ":big"
	rep := filepath.Join(t.TempDir(), "r.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", rep, good); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	// Valid JSON over the limit: the report, then 65 MiB of spaces, one
	// MiB at a time: under -race, a fresh 65 MiB slice cost ~0.9 s of CPU
	// (page faults and shadow memory), writing one MiB 65 times 40 ms.
	big := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.TrimSpace(b))
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for range 65 {
		f.Write(spaces)
	}
	f.Close()
	var doc map[string]any
	json.Unmarshal(b, &doc)
	doc["schemaVersion"] = -1
	neg, _ := json.Marshal(doc)
	negFile := filepath.Join(t.TempDir(), "neg.json")
	os.WriteFile(negFile, neg, 0o644)

	cases := []struct {
		args   []string
		code   int
		want   string
		forbid string
	}{
		{[]string{"inspect", "report:" + big}, exitImage, "larger than 64 MiB", "unexpected end"},
		{[]string{"inspect", "--timeout", "-1s", good}, exitUsage, "--timeout", ""},
		{[]string{"inspect", "--timeout", "0", good}, exitUsage, "--timeout", ""},
		{[]string{"inspect", "--no-cache", "--cache-dir", t.TempDir(), good}, exitUsage, "--no-cache", ""},
		{[]string{"inspect", "--idle-timeout", "-1s", good}, exitUsage, "--idle-timeout", ""},
		{[]string{"inspect", "report:" + negFile}, exitImage, "schema version -1", "newer"},
	}
	for _, c := range cases {
		r := imgsizeWithin(t, relLimit, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || (c.forbid != "" && strings.Contains(r.stderr, c.forbid)) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	// Redaction keeps a digest reference whole: it names the image.
	ref := "docker://127.0.0.1:1/app@sha256:" + strings.Repeat("ab", 32)
	if r := imgsizeWithin(t, relLimit, nil, "inspect", relIdle, ref); r.code != exitImage || !strings.Contains(r.stderr, "app@sha256:abab") {
		t.Errorf("closed port: exit %d, stderr %q; want exit 3 naming %s", r.code, r.stderr, ref)
	}
	// "no limit" is spelled out.
	if r := imgsizeWithin(t, relLimit, nil, "inspect", "--timeout", "none", good); r.code != 0 {
		t.Errorf("--timeout none: exit %d: %s", r.code, r.stderr)
	}
}

// Defect 10, last part: an error from a plain-HTTP loopback registry
// carried the noise of the HTTPS attempt made first.
func TestReliabilityNoTLSFallbackNoise(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	repo := relPush(t, reg, "noise:v1", relRandomImage(t, 1))
	// The ping is where go-containerregistry tries HTTPS, then HTTP, and
	// joins both errors when the HTTP answer is a refusal.
	rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Ping}, Fault: faultproxy.Fault{Status: http.StatusForbidden, Body: `{"errors":[{"code":"DENIED","message":"no"}]}`}}
	p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
	r := imgsizeWithin(t, relLimit, relEnv(t), "inspect", "--no-cache", p.Addr+"/"+repo)
	if r.code != exitImage {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, noise := range []string{"TLS handshake", "HTTPS client"} {
		if strings.Contains(r.stderr, noise) {
			t.Errorf("stderr carries TLS-fallback noise %q: %s", noise, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "DENIED") && !strings.Contains(r.stderr, "403") {
		t.Errorf("stderr does not give the registry's answer: %s", r.stderr)
	}
}

// The other faults the fault layer makes, each against the real registry:
// what a transient one costs (a retry) and what a lasting one ends with.
func TestReliabilityTransportFaults(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	img := relRandomImage(t, 2)
	repo := relPush(t, reg, "faults:v1", img)
	want := uncompressedTotal(t, img)
	blobAny := faultproxy.Match{Kind: faultproxy.Blob}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	l0, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	layer0 := faultproxy.Match{Kind: faultproxy.Blob, Digest: l0.String(), Ranged: -1}
	cases := []struct {
		name  string
		match faultproxy.Match
		fault faultproxy.Fault
		times int
		args  []string
		code  int
		says  string // on stderr, for a failure
	}{
		{"429 with Retry-After, once", blobAny, faultproxy.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}, 1, []string{"--exact"}, 0, ""},
		{"503 once", faultproxy.Match{Kind: faultproxy.Manifest}, faultproxy.Fault{Status: http.StatusServiceUnavailable}, 1, nil, 0, ""},
		{"503 always", faultproxy.Match{Kind: faultproxy.Manifest}, faultproxy.Fault{Status: http.StatusServiceUnavailable}, 0, nil, exitImage, "503"},
		{"connection reset on every read of a layer", layer0, faultproxy.Fault{Reset: true}, 0, []string{"--exact"}, exitImage, l0.String()},
		{"layer body cut short", layer0, faultproxy.Fault{Truncate: true, TruncateAfter: 100}, 0, []string{"--exact"}, exitImage, l0.String()},
		{"Range ignored: the layer is read whole, once", faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, faultproxy.Fault{IgnoreRange: true}, 0, nil, 0, ""},
		{"Range answer of the wrong length", faultproxy.Match{Kind: faultproxy.Blob, Ranged: 1}, faultproxy.Fault{Rewrite: func(_ *http.Request, b []byte) []byte { return append(b, 'x') }}, 0, nil, 0, ""},
		{"manifest of 40 MiB", faultproxy.Match{Kind: faultproxy.Manifest, Method: http.MethodGet}, faultproxy.Fault{HugeBody: 40 << 20}, 0, nil, exitImage, "larger than 4 MiB"},
		{"11 MiB of response headers", faultproxy.Match{Kind: faultproxy.Manifest}, faultproxy.Fault{HugeHeader: 11 << 20}, 0,
			// 11 MiB of headers can take longer than the tests' short idle
			// timeout to arrive on a loaded machine, which would be a stall.
			[]string{"--idle-timeout=30s"}, exitImage, "header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rule := faultproxy.Rule{Match: c.match, Fault: c.fault, Times: c.times}
			p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
			args := append([]string{"inspect", "-f", "json", relIdle, "--no-cache"}, c.args...)
			r := imgsizeWithin(t, relLimit, relEnv(t), append(args, p.Addr+"/"+repo)...)
			if rule.Hits() == 0 {
				t.Fatalf("the fault never fired; requests: %+v", p.Requests())
			}
			if r.code != c.code {
				t.Fatalf("exit %d, want %d: %s", r.code, c.code, r.stderr)
			}
			if c.code != 0 {
				if !strings.Contains(r.stderr, c.says) || len(stderrLines(r.stderr)) != 1 {
					t.Errorf("stderr %q: want one line saying %q", r.stderr, c.says)
				}
				return
			}
			got := decode(t, r.stdout).Images[0].Uncompressed
			if got.Bytes == nil || *got.Bytes != want {
				t.Errorf("uncompressed %s, the layers hold %d", sizeOf(got.Bytes, got.Provenance), want)
			}
		})
	}

	// --retry-delay sets the pause before the second try; the third waits
	// 3× longer. The default pause (1 s) would fail the upper bound.
	t.Run("--retry-delay spaces the tries", func(t *testing.T) {
		t.Parallel()
		rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Manifest}, Fault: faultproxy.Fault{Status: http.StatusServiceUnavailable}}
		p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
		r := imgsizeWithin(t, relLimit, relEnv(t), "inspect", "--retry-delay=100ms", "--no-cache", p.Addr+"/"+repo)
		if r.code != exitImage {
			t.Fatalf("exit %d, want %d: %s", r.code, exitImage, r.stderr)
		}
		tries := map[string][]time.Time{}
		var first string
		for _, q := range p.Requests() {
			if q.Fault == 0 {
				k := q.Method + " " + q.Path
				tries[k] = append(tries[k], q.At)
				if first == "" {
					first = k
				}
			}
		}
		at := tries[first]
		if len(at) != 3 {
			t.Fatalf("%s tried %d times, want 3: %+v", first, len(at), p.Requests())
		}
		// The default's first pause is at least 1 s: a loaded machine has
		// 0.9 s to spare before this bound could fail a correct run.
		if g := at[1].Sub(at[0]); g < 100*time.Millisecond || g >= time.Second {
			t.Errorf("first pause %s, want 100 ms (+ up to 10%% jitter)", g)
		}
		if g := at[2].Sub(at[1]); g < 300*time.Millisecond {
			t.Errorf("second pause %s, want at least 300 ms", g)
		}
		if u := runInProcess(t, "inspect", "--retry-delay=0s", p.Addr+"/"+repo); u.code != exitUsage || !strings.Contains(u.stderr, "--retry-delay") {
			t.Errorf("--retry-delay=0s: exit %d, %q; want a usage error", u.code, u.stderr)
		}
	})

	// A redirect to another host (object storage) is followed, without the
	// registry's credentials.
	t.Run("redirect to another host", func(t *testing.T) {
		t.Parallel()
		storage := faultproxy.New(t, reg.URL(), faultproxy.Options{})
		rule := faultproxy.Rule{Match: faultproxy.Match{Kind: faultproxy.Blob, Ranged: -1}, Fault: faultproxy.Fault{RedirectTo: strings.Replace(storage.URL, "127.0.0.1", "localhost", 1)}}
		p := faultproxy.New(t, reg.URL(), faultproxy.Options{}, &rule)
		cfgDir := relDockerConfig(t, p.Addr, "user", "registry-secret")
		r := imgsizeWithin(t, relLimit, []string{"DOCKER_CONFIG=" + cfgDir, "XDG_CACHE_HOME=" + t.TempDir()},
			"inspect", "-f", "json", "--exact", relIdle, "--no-cache", p.Addr+"/"+repo)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got := decode(t, r.stdout).Images[0].Uncompressed; got.Bytes == nil || *got.Bytes != want {
			t.Errorf("uncompressed %s, the layers hold %d", sizeOf(got.Bytes, got.Provenance), want)
		}
		if storage.Count(faultproxy.Blob) == 0 {
			t.Fatal("nothing was fetched from the other host")
		}
		for _, q := range storage.Requests() {
			if q.Authorization {
				t.Errorf("credentials followed the redirect to another host: %+v", q)
			}
		}
	})
}
