package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/internal/testlayer"
	"github.com/imgsize/imgsize/internal/testutil"
)

var (
	examplesOnce sync.Once
	examplesDir  string
	examplesErr  error
)

// examples builds the README's two example images once per test run, in
// the binary's temporary directory.
func examples(t *testing.T) (single, multi, dir string) {
	t.Helper()
	examplesOnce.Do(func() {
		examplesDir = filepath.Join(testDir, "examples-out")
		build := exec.Command("go", "run", "./examples/build", "-o", examplesDir)
		build.Dir = "../.."
		if b, err := build.CombinedOutput(); err != nil {
			examplesErr = err
			t.Logf("%s", b)
		}
	})
	if examplesErr != nil {
		t.Fatalf("examples/build: %v", examplesErr)
	}
	return "oci:" + examplesDir + ":single-stage", "oci:" + examplesDir + ":multistage", examplesDir
}

// toolchainBytes sums the regular-file sizes under usr/local/go in the
// single-stage image's layers, as GNU tar lists them: a figure imgsize has
// no part in.
func toolchainBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var idx struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	blob := func(d string) string {
		return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
	}
	var total int64
	for _, m := range idx.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] != "single-stage" {
			continue
		}
		var man struct {
			Layers []struct {
				Digest string `json:"digest"`
			} `json:"layers"`
		}
		readJSON(t, blob(m.Digest), &man)
		for _, l := range man.Layers {
			total += testutil.ShellCount(t, `tar -tvzf `+blob(l.Digest)+` | awk '$1 ~ /^-/ && $6 ~ /^(\.\/|\/)?usr\/local\/go\// {s += $3} END {print s+0}'`)
		}
	}
	if total == 0 {
		t.Fatal("no usr/local/go files in the single-stage image")
	}
	return total
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The acceptance: diff names the Go toolchain as what makes the
// single-stage image bigger, and files raises the toolchain hint with its
// size.
func TestExamplesFileLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: reads the 250 MB example image three times and lists it with tar")
	}
	// The single-stage image holds 250 MB of files: the binary reads it in
	// a second, this race-instrumented process in tens of seconds.
	t.Parallel()
	single, multi, dir := examples(t)
	want := toolchainBytes(t, dir)

	r := imgsize(t, nil, "diff", "-f", "json", "--no-cache", multi, single)
	if r.code != 0 {
		t.Fatalf("diff: exit %d: %s", r.code, r.stderr)
	}
	var d struct {
		Diff struct {
			Dirs []struct {
				Path  string `json:"path"`
				Delta int64  `json:"deltaBytes"`
			} `json:"dirs"`
			Entries []struct {
				Path  string `json:"path"`
				Delta int64  `json:"deltaBytes"`
			} `json:"entries"`
		} `json:"diff"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff JSON: %v\n%s", err, r.stdout)
	}
	if len(d.Diff.Dirs) == 0 || strings.Trim(d.Diff.Dirs[0].Path, "/") != "usr/local/go" || d.Diff.Dirs[0].Delta != want {
		t.Errorf("largest directory difference %+v; want usr/local/go, +%d bytes (tar's sum)", d.Diff.Dirs, want)
	}
	if len(d.Diff.Entries) == 0 || strings.Trim(d.Diff.Entries[0].Path, "/") != "usr/local/go" {
		t.Errorf("largest entry %+v; want the toolchain directory", d.Diff.Entries)
	}

	r = imgsize(t, nil, "files", "-f", "json", "--no-cache", single)
	if r.code != 0 {
		t.Fatalf("files: exit %d: %s", r.code, r.stderr)
	}
	var f struct {
		Files struct {
			Hints []struct {
				ID    string   `json:"id"`
				Bytes int64    `json:"bytes"`
				Paths []string `json:"paths"`
			} `json:"hints"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
		t.Fatalf("files JSON: %v\n%s", err, r.stdout)
	}
	var found bool
	for _, h := range f.Files.Hints {
		if h.ID == "toolchain-in-runtime" {
			found = true
			if h.Bytes != want {
				t.Errorf("toolchain hint %d bytes, tar sums usr/local/go to %d", h.Bytes, want)
			}
		}
	}
	if !found {
		t.Errorf("no toolchain-in-runtime hint: %+v", f.Files.Hints)
	}
	// The multistage image ships no toolchain.
	r = imgsize(t, nil, "files", "-f", "json", "--no-cache", multi)
	if strings.Contains(r.stdout, "toolchain-in-runtime") {
		t.Errorf("the multistage image got a toolchain hint")
	}
}

// TestFileTablesNameTheToolchain: the files and diff tables show what the
// examples' JSON reports above carry, the toolchain hint with its fix and
// the toolchain's directory. The tables render the same analysis, so they
// are read from a small image holding a Go toolchain's shape (bin/go,
// pkg/tool) rather than from the 250 MB example a third and fourth time.
func TestFileTablesNameTheToolchain(t *testing.T) {
	t.Parallel()
	app := testlayer.Layer(t, testlayer.Exec("app", bytes.Repeat([]byte{'a'}, 3000), 0o755))
	toolchain := testlayer.Layer(t,
		testlayer.Exec("usr/local/go/bin/go", bytes.Repeat([]byte{'g'}, 40_000), 0o755),
		testlayer.Exec("usr/local/go/pkg/tool/linux_amd64/compile", bytes.Repeat([]byte{'c'}, 60_000), 0o755),
		testlayer.File("usr/local/go/src/fmt/print.go", bytes.Repeat([]byte{'s'}, 20_000)),
	)
	dir := testlayer.Layout(t, t.TempDir(), map[string]v1.Image{
		"runtime": testlayer.Image(t, app),
		"builder": testlayer.Image(t, toolchain, app),
	})
	runtime, builder := "oci:"+dir+":runtime", "oci:"+dir+":builder"

	files := imgsize(t, nil, "files", "--no-cache", builder)
	if files.code != 0 || !strings.Contains(files.stdout, "toolchain-in-runtime") || !strings.Contains(files.stdout, "multistage") {
		t.Errorf("files table: exit %d, lacks the toolchain hint and its fix:\n%s%s", files.code, files.stdout, files.stderr)
	}
	if r := imgsize(t, nil, "files", "--no-cache", runtime); strings.Contains(r.stdout, "toolchain-in-runtime") {
		t.Errorf("the image without a toolchain got its hint:\n%s", r.stdout)
	}
	// The toolchain's row: its directory and the 120 kB of files under it.
	diff := imgsize(t, nil, "diff", "--no-cache", runtime, builder)
	row := false
	for _, line := range strings.Split(diff.stdout, "\n") {
		row = row || strings.HasSuffix(line, " /usr/local/go") && strings.HasPrefix(strings.TrimSpace(line), "+120 kB")
	}
	if diff.code != 0 || !row {
		t.Errorf("diff table: exit %d, no row of +120 kB for /usr/local/go:\n%s%s", diff.code, diff.stdout, diff.stderr)
	}
}

// dive's CI rules on the fixture dive's own tests measure: efficiency
// 0.9844212134184309, wasted 32025 bytes, user-wasted ratio
// 0.4834911001404049 (dive/image/docker/image_archive_analysis_test.go).
func TestCheckDiveRules(t *testing.T) {
	t.Parallel()
	fx := testutil.Fixtures(t)
	img := filepath.Join(fx, "test-docker-image.tar")
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--lowest-efficiency", "0.98"}, 0},
		{[]string{"--lowest-efficiency", "0.99"}, 1},
		{[]string{"--highest-wasted-bytes", "32025"}, 0},
		{[]string{"--highest-wasted-bytes", "32024"}, 1},
		{[]string{"--highest-user-wasted-percent", "0.49"}, 0},
		{[]string{"--highest-user-wasted-percent", "0.48"}, 1},
		{[]string{"--max-reclaimable", "1GB"}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "="), func(t *testing.T) {
			r := runInProcess(t, append([]string{"check", "-f", "json", "--no-cache", img}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; %s\n%s", r.code, tt.code, r.stderr, r.stdout)
			}
		})
	}

	// A .dive-ci read as is: the documented example file, and dive's
	// defaults (user-wasted 0.1 fails this image).
	dir := t.TempDir()
	strict := writeFile(t, dir, "strict.dive-ci", "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.50\n")
	defaults := writeFile(t, dir, "defaults.dive-ci", "# nothing: dive's defaults\n")
	for _, c := range []struct {
		file string
		code int
	}{{strict, 0}, {defaults, 1}} {
		r := runInProcess(t, "check", "--no-cache", "--dive-ci", c.file, img)
		if r.code != c.code {
			t.Errorf("--dive-ci %s: exit %d, want %d; %s\n%s", filepath.Base(c.file), r.code, c.code, r.stderr, r.stdout)
		}
		// dive itself, where installed, gives the same verdict.
		dive := diveBinary(t)
		if dive == "" {
			continue
		}
		cmd := exec.Command(dive, "docker-archive://"+img, "--ci", "--ci-config", c.file)
		cmd.Env = append(os.Environ(), "CI=true")
		dr := runCmd(t, cmd)
		if (dr.code == 0) != (c.code == 0) {
			t.Errorf("dive with %s exits %d, imgsize %d:\n%s", filepath.Base(c.file), dr.code, c.code, dr.stdout)
		}
	}
}

// diveBinary is dive for cross-checks, "" when absent (required in CI).
func diveBinary(t *testing.T) string { return testutil.Dive(t) }

func TestFilesUsage(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	img := "oci:" + dir + ":small"
	for _, args := range [][]string{
		{"files"},
		{"files", img, img},
		{"files", img, "--top", "0"},
		{"diff", img},
		{"diff", img, img, "--depth", "0"},
	} {
		if r := runInProcess(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2; %s", args, r.code, r.stderr)
		}
	}
	// A saved report has sizes, not files.
	rep := filepath.Join(t.TempDir(), "r.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", rep, img); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runInProcess(t, "files", rep); r.code != 3 || !strings.Contains(r.stderr, "records sizes, not files") {
		t.Errorf("files on a report: exit %d, %q", r.code, r.stderr)
	}
}

// A one-layer image has no bytes above its first layer: dive's
// user-wasted ratio is 0/0 and its rule passes; so does imgsize's.
func TestCheckDiveRulesOneLayer(t *testing.T) {
	t.Parallel()
	archive := filepath.Join(t.TempDir(), "one.tar")
	writeDockerSave(t, archive)
	cfg := writeFile(t, t.TempDir(), "p.dive-ci", "rules:\n  lowestEfficiency: 0.9\n")
	r := runInProcess(t, "check", "-f", "json", "--no-cache", "--dive-ci", cfg, archive)
	if r.code != 0 {
		t.Errorf("exit %d, want 0; %s\n%s", r.code, r.stderr, r.stdout)
	}
	if dive := diveBinary(t); dive != "" {
		cmd := exec.Command(dive, "docker-archive://"+archive, "--ci", "--ci-config", cfg)
		cmd.Env = append(os.Environ(), "CI=true")
		if dr := runCmd(t, cmd); dr.code != 0 {
			t.Errorf("dive exits %d on the same image and rules:\n%s", dr.code, dr.stdout)
		}
	}
}
