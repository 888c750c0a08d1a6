package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imgsize/imgsize/internal/testutil"
)

// TestFlagsBecomeOptions: each flag reaches the option it names.
func TestFlagsBecomeOptions(t *testing.T) {
	t.Parallel()
	parse := func(t *testing.T, args ...string) *globalOptions {
		t.Helper()
		g := &globalOptions{}
		root := newRootCmd(g)
		if err := root.PersistentFlags().Parse(args); err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := parse(t, "--platform", "linux/arm64/v8", "--insecure", "--jobs", "7", "--exact", "--estimate-compressed", "--cache-dir", "/tmp/c", "--binary", "-f", "csv")
	so, err := g.sourceOptions()
	if err != nil {
		t.Fatal(err)
	}
	if so.Platform.String() != "linux/arm64/v8" || !so.Insecure || !strings.HasPrefix(so.UserAgent, "imgsize/") {
		t.Errorf("source options %+v", so)
	}
	lo, err := g.layerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if !lo.Exact || !lo.EstimateCompressed || lo.Jobs != 7 || lo.Cache == nil {
		t.Errorf("layer options %+v", lo)
	}
	ro, err := g.reportOptions()
	if err != nil {
		t.Fatal(err)
	}
	if ro.Format != "csv" || !ro.Binary {
		t.Errorf("report options %+v", ro)
	}
	if lo, _ := parse(t, "--no-cache").layerOptions(); lo.Cache != nil {
		t.Error("--no-cache still caches")
	}
	if so, _ := parse(t).sourceOptions(); so.Platform.String() != "linux/amd64" || so.Insecure {
		t.Errorf("defaults: %+v", so)
	}
}

func TestBinaryUnits(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	si := runInProcess(t, "inspect", "oci:"+dir+":big")
	iec := runInProcess(t, "inspect", "--binary", "oci:"+dir+":big")
	if si.code != 0 || iec.code != 0 {
		t.Fatalf("exit %d/%d: %s%s", si.code, iec.code, si.stderr, iec.stderr)
	}
	if strings.Contains(si.stdout, "iB") || !strings.Contains(si.stdout, " kB") {
		t.Errorf("default output is not in SI units:\n%s", si.stdout)
	}
	if !strings.Contains(iec.stdout, " KiB") {
		t.Errorf("--binary output is not in IEC units:\n%s", iec.stdout)
	}
}

// TestPlatformFlagPicksFromIndex: --platform chooses inside an index.
func TestPlatformFlagPicksFromIndex(t *testing.T) {
	t.Parallel()
	amd := testutil.RandomImage(t, 1000, 1)
	arm := testutil.RandomImage(t, 2000, 2)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	dir := t.TempDir()
	if _, err := layout.Write(dir, idx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		platform string
		want     v1.Image
	}{{"linux/amd64", amd}, {"linux/arm64", arm}} {
		r := runInProcess(t, "inspect", "-f", "json", "--platform", tc.platform, "oci:"+dir)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.platform, r.code, r.stderr)
		}
		want, _ := tc.want.Digest()
		if got := decode(t, r.stdout).Images[0].Digest; got != want.String() {
			t.Errorf("--platform %s picked %s, want %s", tc.platform, got, want)
		}
	}
	if r := runInProcess(t, "inspect", "--platform", "linux/s390x", "oci:"+dir); r.code != 3 || !strings.Contains(r.stderr, "linux/arm64") {
		t.Errorf("absent platform: exit %d, %q", r.code, r.stderr)
	}
}

// TestTimeoutFlag: a registry that never answers fails at --timeout.
func TestTimeoutFlag(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	host := strings.TrimPrefix(srv.URL, "http://")
	start := time.Now()
	r := runInProcess(t, "inspect", "--timeout", "300ms", "--no-cache", host+"/app:v1")
	if r.code != 3 || !strings.Contains(r.stderr, "timed out after 300ms") {
		t.Errorf("exit %d, stderr %q; want 3 and the timeout named", r.code, r.stderr)
	}
	t.Logf("gave up after %v", time.Since(start))
}

// writeDockerSave writes a docker-save archive whose one layer is stored
// uncompressed, with its true diffID.
func writeDockerSave(t *testing.T, path string) []byte {
	t.Helper()
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	body := []byte(strings.Repeat("imgsize estimates this text compressed\n", 3000))
	lw.WriteHeader(&tar.Header{Name: "notes.txt", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	lw.Write(body)
	lw.Close()
	sum := sha256.Sum256(layer.Bytes())
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(sum[:])}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add("manifest.json", []byte(`[{"Config":"c.json","RepoTags":["app:v1"],"Layers":["l/layer.tar"]}]`))
	add("c.json", cfg)
	add("l/layer.tar", layer.Bytes())
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return layer.Bytes()
}

func TestEstimateCompressedFlag(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.tar")
	raw := writeDockerSave(t, path)
	plain := decode(t, runInProcess(t, "inspect", "-f", "json", path).stdout).Images[0]
	if plain.Compressed.Provenance != "unknown" || plain.Compressed.Bytes != nil {
		t.Errorf("without the flag: %+v, want unknown", plain.Compressed)
	}
	r := runInProcess(t, "inspect", "-f", "json", "--estimate-compressed", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	est := decode(t, r.stdout).Images[0]
	if est.Compressed.Provenance != "estimated" || est.Compressed.Bytes == nil || *est.Compressed.Bytes <= 0 || *est.Compressed.Bytes >= int64(len(raw))/10 {
		t.Errorf("with the flag: %+v; want an estimate far below the %d-byte repetitive tar", est.Compressed, len(raw))
	}
	if *est.Uncompressed.Bytes != int64(len(raw)) {
		t.Errorf("uncompressed %d, the tar is %d", *est.Uncompressed.Bytes, len(raw))
	}
}
