package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgsize/imgsize/internal/testengine"
	"github.com/imgsize/imgsize/internal/testmain"
	"github.com/imgsize/imgsize/internal/testutil"
)

// releaseLDFlags are the release's link flags (.goreleaser.yaml, the
// Dockerfile) but the version, which stays "dev".
const releaseLDFlags = "-s -w"

// binary is imgsize built once for the tests that run it as a user would:
// a separate process with its own environment (DOCKER_CONFIG, SSL_CERT_FILE).
var binary string

// testDir is TestMain's temporary directory, removed when the tests end:
// the binary, the caches and what tests share (the examples' images).
var testDir string

func TestMain(m *testing.M) {
	if os.Getenv(signalHelperEnv) != "" {
		signalHelper()
	}
	moreParallel()
	dir, err := os.MkdirTemp("", "imgsize-bin-*")
	if err != nil {
		panic(err)
	}
	testDir = dir
	binary = filepath.Join(dir, "imgsize")
	// Keep every run, in process or not, away from the user's imgsize
	// cache; pin Go's build cache first, which also defaults to live under
	// XDG_CACHE_HOME, so `go build` and `go run` in tests stay incremental.
	if gc, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		os.Setenv("GOCACHE", strings.TrimSpace(string(gc)))
	}
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	// Nor may a run, here or in a child, read the user's registry
	// credentials: an empty Docker config (a test wanting one passes its
	// own DOCKER_CONFIG). Set once here, not with t.Setenv, which would
	// keep each test using it from running in parallel.
	if err := os.Mkdir(filepath.Join(dir, "docker-config"), 0o700); err != nil {
		os.RemoveAll(dir)
		panic(err)
	}
	os.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker-config"))
	// IMGSIZE_TEST_BINARY runs the binary tests against another build,
	// e.g. an earlier commit's, to show which tests fail there.
	if b := os.Getenv("IMGSIZE_TEST_BINARY"); b != "" {
		binary = b
		code := m.Run()
		os.RemoveAll(dir)
		testmain.Exit(code)
	}
	// Built as the release is (static, stripped; -trimpath aside, which
	// would compile every package a second time): the tests run what
	// users run, TestOwnImage packs this same binary, and a static binary
	// starts without the dynamic loader, a few ms of each of the ~300 runs.
	// `go run -exec cp` copies the built binary to its place: unlike go
	// build's, go run's executables are kept in the build cache, so a run
	// of unchanged code does not link again (0.5 s of CPU instead of 2.5 s,
	// before any test can start).
	build := exec.Command("go", "run", "-exec", "cp", "-ldflags", releaseLDFlags, ".", binary)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("building imgsize: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	testengine.StopShared()
	os.RemoveAll(dir)
	testmain.Exit(code)
}

// moreParallel runs up to three parallel tests per CPU (at most 12) unless
// -parallel is given: most of this package's tests spend their time
// waiting on imgsize processes, registries, engines and retry pauses, so
// GOMAXPROCS tests at once (go test's default) leaves the CPUs half idle.
func moreParallel() {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(min(3*runtime.GOMAXPROCS(0), 12)))
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// imgsize runs the binary with extra environment variables.
func imgsize(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	r := runCmd(t, cmd)
	validateJSONOutput(t, "", args, r)
	return r
}

// runCmd runs cmd to its end and collects its exit code and output.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	r, err := execResult(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// execResult is runCmd for a goroutine, which may not end its test: an
// exit status is a result, any other failure to run cmd the error.
func execResult(cmd *exec.Cmd) (result, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
		err = nil
	}
	return r, err
}

// runInProcess calls run() directly, for fast table tests.
func runInProcess(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	r := result{code, out.String(), errb.String()}
	validateJSONOutput(t, "", args, r)
	return r
}

// validateJSONOutput holds every JSON report a test makes imgsize write,
// to stdout or with -o (relative to dir), to the shipped JSON Schema.
func validateJSONOutput(t *testing.T, dir string, args []string, r result) {
	t.Helper()
	var isJSON bool
	var out string
	for i, a := range args {
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case (a == "-f" || a == "--format") && strings.EqualFold(next, "json"),
			strings.EqualFold(a, "--format=json"), strings.EqualFold(a, "-f=json"):
			isJSON = true
		case a == "-o" || a == "--output":
			out = next
		case strings.HasPrefix(a, "--output="):
			out = strings.TrimPrefix(a, "--output=")
		}
	}
	if !isJSON {
		return
	}
	if out == "" || out == "-" {
		if strings.TrimSpace(r.stdout) != "" {
			validateReport(t, []byte(r.stdout))
		}
		return
	}
	if dir != "" && !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	if b, err := os.ReadFile(out); err == nil && r.code != exitOutput {
		validateReport(t, b)
	}
}

// bigReport is the size from which a report is validated by reportcheck,
// out of this race-built process: a report of a megabyte costs it about
// 0.3 s of CPU to validate, reportcheck under 0.1 s, and building
// reportcheck (once) about 0.8 s.
const bigReport = 1 << 20

// validateReport is testutil.ValidateReport, the same validator with the
// same schema, run in reportcheck for a big report.
func validateReport(t *testing.T, doc []byte) {
	t.Helper()
	if len(doc) < bigReport {
		testutil.ValidateReport(t, doc)
		return
	}
	p, err := reportChecker()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p)
	cmd.Stdin = bytes.NewReader(doc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("report does not validate against %s (reportcheck: %v): %s", testutil.ReportSchemaID, err, out)
	}
}

var reportCheck struct {
	once sync.Once
	path string
	err  error
}

// reportChecker builds internal/testutil/reportcheck, once, without the
// race detector, and returns its path.
func reportChecker() (string, error) {
	reportCheck.once.Do(func() {
		p := filepath.Join(testDir, "reportcheck")
		// As imgsize in TestMain: from the build cache when unchanged.
		out, err := exec.Command("go", "run", "-exec", "cp", "github.com/imgsize/imgsize/internal/testutil/reportcheck", p).CombinedOutput()
		if err != nil {
			reportCheck.err = fmt.Errorf("building reportcheck: %v\n%s", err, out)
			return
		}
		reportCheck.path = p
	})
	return reportCheck.path, reportCheck.err
}

// twoImageLayout writes a layout with tags "big" and "small", a copy of
// one made once per process: making and gzipping its 600 kB of random
// layers under the race detector cost each of the 18 callers 0.2 s.
func twoImageLayout(t *testing.T) (dir string, big, small v1.Image) {
	t.Helper()
	twoImages.once.Do(func() {
		twoImages.big = testutil.RandomImage(t, 200_000, 3)
		twoImages.small = testutil.RandomImage(t, 1_000, 1)
		twoImages.dir = filepath.Join(testDir, "two-images")
		p, err := layout.Write(twoImages.dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		for tag, img := range map[string]v1.Image{"big": twoImages.big, "small": twoImages.small} {
			if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
				t.Fatal(err)
			}
		}
		twoImages.ok = true
	})
	if !twoImages.ok {
		t.Fatal("the two-image layout could not be made (see the first test that asked for it)")
	}
	// Each test gets its own copy: some add to or damage theirs.
	dir = t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(twoImages.dir)); err != nil {
		t.Fatal(err)
	}
	return dir, twoImages.big, twoImages.small
}

var twoImages struct {
	once       sync.Once
	ok         bool
	dir        string
	big, small v1.Image
}

func manifestTotal(t *testing.T, img v1.Image) int64 {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// jsonReport is the part of the JSON report these tests read, decoded
// independently of the report package's own types.
type jsonReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	Kind          string `json:"kind"`
	Images        []struct {
		Ref        string `json:"ref"`
		Digest     string `json:"digest"`
		Compressed struct {
			Bytes      *int64 `json:"bytes"`
			Provenance string `json:"provenance"`
		} `json:"compressed"`
		Uncompressed struct {
			Bytes      *int64 `json:"bytes"`
			Provenance string `json:"provenance"`
		} `json:"uncompressed"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	} `json:"images"`
}

func decode(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return r
}

func TestInspectJSONMatchesManifest(t *testing.T) {
	t.Parallel()
	dir, big, _ := twoImageLayout(t)
	r := runInProcess(t, "inspect", "--format", "json", "oci:"+dir+":big")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decode(t, r.stdout)
	if rep.SchemaVersion != 2 || rep.Kind != "inspect" || len(rep.Images) != 1 {
		t.Fatalf("report header: %+v", rep)
	}
	d, _ := big.Digest()
	img := rep.Images[0]
	if img.Digest != d.String() {
		t.Errorf("digest %s, want %s", img.Digest, d)
	}
	if img.Compressed.Bytes == nil || *img.Compressed.Bytes != manifestTotal(t, big) || img.Compressed.Provenance != "exact" {
		t.Errorf("compressed %+v, want %d exact", img.Compressed, manifestTotal(t, big))
	}
	if img.Uncompressed.Provenance != "exact" || img.Uncompressed.Bytes == nil {
		t.Errorf("local image uncompressed must be exact: %+v", img.Uncompressed)
	}
	if len(img.Layers) != 3 {
		t.Errorf("%d layers, want 3", len(img.Layers))
	}
}

func TestCompareEveryFormat(t *testing.T) {
	t.Parallel()
	dir, big, small := twoImageLayout(t)
	for _, format := range []string{"table", "json", "markdown", "csv"} {
		t.Run(format, func(t *testing.T) {
			r := runInProcess(t, "compare", "--format", format, "oci:"+dir+":big", "oci:"+dir+":small")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("stderr not empty: %q", r.stderr)
			}
			if !strings.Contains(r.stdout, "small") || !strings.Contains(r.stdout, "big") {
				t.Errorf("output does not name both images:\n%s", r.stdout)
			}
			if format == "json" {
				rep := decode(t, r.stdout)
				if rep.Kind != "compare" || len(rep.Images) != 2 {
					t.Fatalf("kind %q with %d images", rep.Kind, len(rep.Images))
				}
				if *rep.Images[0].Compressed.Bytes != manifestTotal(t, big) || *rep.Images[1].Compressed.Bytes != manifestTotal(t, small) {
					t.Errorf("compressed totals %d/%d, manifests say %d/%d", *rep.Images[0].Compressed.Bytes, *rep.Images[1].Compressed.Bytes, manifestTotal(t, big), manifestTotal(t, small))
				}
			}
			if format == "table" && !strings.Contains(r.stdout, "smaller") {
				t.Errorf("table has no ratio:\n%s", r.stdout)
			}
		})
	}
}

// TestOutputFile: -o writes the report to the file and nothing to stdout;
// a run that fails before it has a report creates no file. That half
// proves nothing about atomicity, as nothing is written at all: the
// atomic replace is unit-tested in pkg/report/writefile_test.go ("write
// fails" writes half a report, then fails, and checks the old file and
// the directory), and end to end by TestReportWriteFailure/fails_midway.
func TestOutputFile(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", out, "oci:"+dir+":small"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, string(b))

	failed := filepath.Join(outDir, "failed.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", failed, "oci:"+dir+":absent"); r.code != exitImage {
		t.Fatalf("exit %d, want %d", r.code, exitImage)
	}
	if names := dirNames(t, outDir); len(names) != 1 {
		t.Errorf("directory holds %v, want only report.json", names)
	}
}

// TestBadInputExitCodes: images that cannot be read exit 3 with one line
// naming the image; usage mistakes are in TestUsageErrors.
func TestBadInputExitCodes(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	tmp := t.TempDir()
	notImage := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notImage, []byte("just some text, not a tar\n"), 0o644)
	truncated := filepath.Join(tmp, "truncated.tar")
	writeTruncatedArchive(t, truncated)

	tests := []struct {
		name string
		args []string
		code int
		// want is a fragment the one-line error must contain.
		want string
	}{
		{"missing file", []string{"inspect", filepath.Join(tmp, "nope.tar")}, 3, "nope.tar"},
		{"missing layout", []string{"inspect", "oci:" + filepath.Join(tmp, "nolayout")}, 3, "nolayout"},
		{"not an image", []string{"inspect", notImage}, 3, "not a tar"},
		{"truncated tar", []string{"inspect", "docker-archive:" + truncated}, 3, "truncated"},
		{"absent tag", []string{"inspect", "oci:" + dir + ":v9"}, 3, `tag "v9" not in layout`},
		{"unreachable registry", []string{"inspect", "127.0.0.1:1/app:v1"}, 3, "127.0.0.1:1/app:v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "imgsize: ") {
				t.Errorf("stderr is not one 'imgsize: …' line: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on error: %q", r.stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := imgsize(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "imgsize version ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
	r = imgsize(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "imgsize ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
}
