package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The CI templates run here as the CI systems would run them, against
// local stand-ins: a release server on loopback serving an archive of the
// test binary and ci/install.sh, a saved report as the baseline, and
// in-process fakes of the GitHub and GitLab APIs.

const fakeVersion = "v9.9.9"

// releaseServer serves fakeVersion's archive for this machine, its
// checksums.txt (corrupt when bad), and ci/install.sh.
func releaseServer(t *testing.T, bad bool) *httptest.Server {
	t.Helper()
	archive, sum := releaseArchive(t)
	name := fmt.Sprintf("imgsize_%s_%s_%s.tar.gz", strings.TrimPrefix(fakeVersion, "v"), runtime.GOOS, runtime.GOARCH)
	if bad {
		sum[0] ^= 0xff
	}
	checksums := hex.EncodeToString(sum[:]) + "  " + name + "\n" + strings.Repeat("0", 64) + "  imgsize_9.9.9_other_os.tar.gz\n"
	install, err := os.ReadFile("../../ci/install.sh")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	// Served from the file, which the kernel sends (sendfile): copied
	// through this race-instrumented process, each download of the 13 MB
	// archive cost a few tenths of a second.
	mux.HandleFunc("/"+fakeVersion+"/"+name, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, archive) })
	mux.HandleFunc("/"+fakeVersion+"/checksums.txt", func(w http.ResponseWriter, _ *http.Request) { writeString(w, checksums) })
	mux.HandleFunc("/install.sh", func(w http.ResponseWriter, _ *http.Request) { w.Write(install) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var (
	releaseOnce sync.Once
	releasePath string
	releaseSum  [sha256.Size]byte
	releaseErr  error
)

// releaseArchive is the path and sha256 of the release archive of the
// test binary, made once per process in testDir: gzip at NoCompression
// (stored blocks: tar xzf reads it like any other) and streamed to the
// file, because deflating the binary, or growing a buffer of it, in this
// race-instrumented process took seconds.
func releaseArchive(t *testing.T) (string, [sha256.Size]byte) {
	t.Helper()
	releaseOnce.Do(func() {
		releasePath = filepath.Join(testDir, "release.tar.gz")
		releaseSum, releaseErr = writeReleaseArchive(releasePath)
	})
	if releaseErr != nil {
		t.Fatalf("release archive: %v", releaseErr)
	}
	return releasePath, releaseSum
}

func writeReleaseArchive(path string) (sum [sha256.Size]byte, err error) {
	bin, err := os.Open(binary)
	if err != nil {
		return sum, err
	}
	defer bin.Close()
	st, err := bin.Stat()
	if err != nil {
		return sum, err
	}
	f, err := os.Create(path)
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.NoCompression)
	tw := tar.NewWriter(zw)
	readme := []byte("imgsize\n")
	if err := tw.WriteHeader(&tar.Header{Name: "README.md", Mode: 0o755, Size: int64(len(readme)), Typeflag: tar.TypeReg}); err != nil {
		return sum, err
	}
	if _, err := tw.Write(readme); err != nil {
		return sum, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "imgsize", Mode: 0o755, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
		return sum, err
	}
	if _, err := io.Copy(tw, bin); err != nil {
		return sum, err
	}
	if err := tw.Close(); err != nil {
		return sum, err
	}
	if err := zw.Close(); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func writeString(w http.ResponseWriter, s string) { w.Write([]byte(s)) }

// baseEnv is a CI job's environment without imgsize on PATH.
func baseEnv(t *testing.T, work string, extra ...string) []string {
	t.Helper()
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + work, "TMPDIR=" + t.TempDir(), "XDG_CACHE_HOME=" + filepath.Join(work, ".cache"), "LANG=C.UTF-8",
		// Whatever a template would fetch from beyond this machine goes to a
		// closed loopback port instead, and fails there: no traffic leaves.
		"HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}
	// Go's caches as this machine has them, so a build from source needs
	// nothing from the network (HOME is the job's own).
	if out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output(); err == nil {
		for i, v := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			env = append(env, []string{"GOCACHE", "GOMODCACHE", "GOPATH"}[i]+"="+v)
		}
	}
	env = append(env, "GOFLAGS=-mod=mod", "GOPROXY=off")
	if gobin, err := exec.LookPath("go"); err == nil {
		env[0] += ":" + filepath.Dir(gobin)
	}
	return append(env, extra...)
}

func runScript(t *testing.T, dir string, env []string, script string) result {
	t.Helper()
	cmd := exec.Command("bash", "-eo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	return runCmd(t, cmd)
}

// TestInstallScript installs a release after checking its checksum,
// refuses one that does not match, and builds a checkout when no release
// fits, as the action does before a release exists.
func TestInstallScript(t *testing.T) {
	t.Parallel()
	srv := releaseServer(t, false)
	work := t.TempDir()
	env := baseEnv(t, work, "IMGSIZE_VERSION="+fakeVersion, "IMGSIZE_RELEASE_BASE_URL="+srv.URL, "IMGSIZE_BIN_DIR="+filepath.Join(work, "bin"))
	cmd := exec.Command("bash", mustAbs(t, "../../ci/install.sh"))
	cmd.Dir, cmd.Env = work, env
	r := runCmd(t, cmd)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || lines[len(lines)-1] != filepath.Join(work, "bin") {
		t.Fatalf("install: exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
	}
	if out, err := exec.Command(filepath.Join(work, "bin", "imgsize"), "version").CombinedOutput(); err != nil {
		t.Fatalf("installed binary: %v: %s", err, out)
	}

	bad := releaseServer(t, true)
	badEnv := baseEnv(t, work, "IMGSIZE_VERSION="+fakeVersion, "IMGSIZE_RELEASE_BASE_URL="+bad.URL, "IMGSIZE_BIN_DIR="+filepath.Join(work, "bad"))
	cmd = exec.Command("bash", mustAbs(t, "../../ci/install.sh"))
	cmd.Dir, cmd.Env = work, badEnv
	if r := runCmd(t, cmd); r.code != 1 || !strings.Contains(r.stderr, "does not match the release's checksums.txt") {
		t.Errorf("corrupt archive: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "bad", "imgsize")); err == nil {
		t.Errorf("a corrupt archive was installed")
	}

	// No such release, no checkout: a clear failure.
	noneEnv := baseEnv(t, work, "IMGSIZE_VERSION=v0.0.1", "IMGSIZE_RELEASE_BASE_URL="+srv.URL, "IMGSIZE_BIN_DIR="+filepath.Join(work, "none"))
	cmd = exec.Command("bash", mustAbs(t, "../../ci/install.sh"))
	cmd.Dir, cmd.Env = work, noneEnv
	if r := runCmd(t, cmd); r.code != 1 || !strings.Contains(r.stderr, "nothing to install") {
		t.Errorf("no release: exit %d: %s", r.code, r.stderr)
	}
	// With the checkout, it is built, and stamped with the version.
	cmd = exec.Command("bash", mustAbs(t, "../../ci/install.sh"))
	cmd.Dir, cmd.Env = work, append(noneEnv, "IMGSIZE_SOURCE="+mustAbs(t, "../.."))
	if r := runCmd(t, cmd); r.code != 0 || !strings.Contains(r.stderr, "v0.0.1") {
		t.Errorf("build from source: exit %d: %s", r.code, r.stderr)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// growthFixture is a layout whose "big" image outgrows a saved report of
// its "small" one: every template's gate fails on growth.
func growthFixture(t *testing.T) (image, baseline string) {
	t.Helper()
	dir, _, _ := twoImageLayout(t)
	saved := filepath.Join(t.TempDir(), "main.json")
	if r := runInProcess(t, "inspect", "-f", "json", "-o", saved, "--no-cache", "oci:"+dir+":small"); r.code != 0 {
		t.Fatalf("saving the baseline: %s", r.stderr)
	}
	return "oci:" + dir + ":big", "report:" + saved
}

// TestGitHubAction checks action.yml's wiring and runs its check step
// with a fake GitHub environment.
func TestGitHubAction(t *testing.T) {
	t.Parallel()
	var action struct {
		Inputs  map[string]any `yaml:"inputs"`
		Outputs map[string]any `yaml:"outputs"`
		Runs    struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID  string            `yaml:"id"`
				Run string            `yaml:"run"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, "../../action.yml", &action)
	if action.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", action.Runs.Using)
	}
	var checkEnv map[string]string
	for _, s := range action.Runs.Steps {
		if s.ID == "check" {
			checkEnv = s.Env
		}
		for _, m := range regexp.MustCompile(`\$GITHUB_ACTION_PATH/([\w./-]+)`).FindAllStringSubmatch(s.Run, -1) {
			if fi, err := os.Stat("../../" + m[1]); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("step %q runs %s, which is not an executable file of the repository", s.ID, m[1])
			}
		}
	}
	// Every input reaches check.sh, under the name check.sh reads.
	script, err := os.ReadFile("../../action/check.sh")
	if err != nil {
		t.Fatal(err)
	}
	for in := range action.Inputs {
		env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(in, "-", "_"))
		if checkEnv[env] != "${{ inputs."+in+" }}" {
			t.Errorf("input %s is not passed to the check step as %s", in, env)
		}
		flag := "--" + in
		if !strings.Contains(string(script), env) && !strings.Contains(string(script), strings.TrimPrefix(flag, "--")) {
			t.Errorf("check.sh never reads %s", env)
		}
	}
	for _, out := range []string{"passed", "summary", "report"} {
		if _, ok := action.Outputs[out]; !ok {
			t.Errorf("no output %s", out)
		}
	}

	image, baseline := growthFixture(t)
	fake := &fakeGitHub{comments: map[int64]string{}}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	work := t.TempDir()
	event := filepath.Join(work, "event.json")
	os.WriteFile(event, []byte(`{"pull_request":{"number":7}}`), 0o644)
	outputs, summary := filepath.Join(work, "output"), filepath.Join(work, "summary")
	env := baseEnv(t, work,
		"GITHUB_ACTIONS=true", "RUNNER_TEMP="+work, "GITHUB_OUTPUT="+outputs, "GITHUB_STEP_SUMMARY="+summary,
		"GITHUB_REPOSITORY=org/app", "GITHUB_EVENT_PATH="+event, "GITHUB_API_URL="+api.URL,
		"INPUT_IMAGES="+image+"\n", "INPUT_MAX_GROWTH=10%", "INPUT_BASELINE="+baseline, "INPUT_MAX_LAYERS=10",
		"INPUT_COMMENT=true", "INPUT_GITHUB_TOKEN=s3cr3t-token", "INPUT_CACHE=true", "INPUT_JUNIT="+filepath.Join(work, "junit.xml"))
	env[0] = "PATH=" + filepath.Dir(binary) + ":" + strings.TrimPrefix(env[0], "PATH=")
	cmd := exec.Command("bash", mustAbs(t, "../../action/check.sh"))
	cmd.Dir, cmd.Env = work, env
	r := runCmd(t, cmd)
	if r.code != exitBudget {
		t.Fatalf("check step: exit %d, want %d (growth fails):\n%s%s", r.code, exitBudget, r.stdout, r.stderr)
	}
	out, _ := os.ReadFile(outputs)
	for _, want := range []string{"passed=false\n", "summary<<imgsize_", "report=" + filepath.Join(work, "imgsize-check.json")} {
		if !strings.Contains(string(out), want) {
			t.Errorf("step outputs lack %q:\n%s", want, out)
		}
	}
	if s, _ := os.ReadFile(summary); !strings.Contains(string(s), "❌ Image size check failed") {
		t.Errorf("step summary:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(work, "junit.xml")); err != nil {
		t.Errorf("no JUnit file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "imgsize-cache")); err != nil {
		t.Errorf("the layer cache the action keeps was not used: %v", err)
	}
	if len(fake.comments) != 1 || !strings.Contains(fake.comments[1], "max-growth") || strings.Contains(r.stdout+r.stderr, "s3cr3t") {
		t.Errorf("comments %v; output:\n%s%s", fake.comments, r.stdout, r.stderr)
	}
}

// fakeGitLab is GitLab's merge request notes API for project 42, MR 3.
type fakeGitLab struct {
	mu     sync.Mutex
	notes  map[int64]string
	next   int64
	writes int
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != "glpat-s3cr3t" {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	const mr = "/api/v4/projects/42/merge_requests/3"
	type note struct {
		ID     int64  `json:"id"`
		Body   string `json:"body"`
		System bool   `json:"system"`
	}
	var in struct {
		Body string `json:"body"`
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == mr:
		writeString(w, `{"web_url":"https://gitlab.example/g/app/-/merge_requests/3"}`)
	case r.Method == http.MethodGet && r.URL.Path == mr+"/notes":
		out := []note{{ID: 1000, Body: "added 1 commit", System: true}}
		for id := int64(1); id <= f.next; id++ {
			if b, ok := f.notes[id]; ok {
				out = append(out, note{ID: id, Body: b})
			}
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == mr+"/notes":
		json.NewDecoder(r.Body).Decode(&in)
		f.next++
		f.notes[f.next] = in.Body
		f.writes++
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(note{ID: f.next, Body: in.Body})
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, mr+"/notes/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, mr+"/notes/"), 10, 64)
		if _, ok := f.notes[id]; !ok {
			http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
			return
		}
		json.NewDecoder(r.Body).Decode(&in)
		f.notes[id] = in.Body
		f.writes++
		json.NewEncoder(w).Encode(note{ID: id, Body: in.Body})
	default:
		http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
	}
}

// TestGitLabTemplate runs the template's script twice as a merge request
// pipeline would: it installs imgsize from the release, fails on growth
// against a saved report, writes the JUnit and metrics reports its
// artifacts name, and leaves exactly one MR note, updated.
func TestGitLabTemplate(t *testing.T) {
	t.Parallel()
	var tmpl map[string]struct {
		Variables map[string]string `yaml:"variables"`
		Script    []string          `yaml:"script"`
		Artifacts struct {
			Reports map[string]string `yaml:"reports"`
			Paths   []string          `yaml:"paths"`
		} `yaml:"artifacts"`
	}
	readYAML(t, "../../ci/gitlab/imgsize.gitlab-ci.yml", &tmpl)
	job, ok := tmpl[".imgsize"]
	if !ok || len(job.Script) == 0 {
		t.Fatalf("no .imgsize job to extend: %v", tmpl)
	}
	image, baseline := growthFixture(t)
	srv := releaseServer(t, false)
	fake := &fakeGitLab{notes: map[int64]string{}}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	work := t.TempDir()
	var env []string
	for k, v := range job.Variables {
		env = append(env, k+"="+v)
	}
	env = baseEnv(t, work, append(env,
		"IMGSIZE_VERSION="+fakeVersion, "IMGSIZE_INSTALL_URL="+srv.URL+"/install.sh", "IMGSIZE_RELEASE_BASE_URL="+srv.URL,
		"CI_PROJECT_DIR="+work, "IMGSIZE_IMAGES="+image, "IMGSIZE_BASELINE="+baseline, "IMGSIZE_ARGS=--max-growth 10% --max-layers 10",
		"GITLAB_CI=true", "CI_API_V4_URL="+api.URL+"/api/v4", "CI_PROJECT_ID=42", "CI_MERGE_REQUEST_IID=3", "IMGSIZE_GITLAB_TOKEN=glpat-s3cr3t")...)
	script := strings.Join(job.Script, "\n")
	for run := 1; run <= 2; run++ {
		r := runScript(t, work, env, script)
		if r.code != exitBudget {
			t.Fatalf("run %d: exit %d, want %d:\n%s%s", run, r.code, exitBudget, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "glpat-s3cr3t") {
			t.Errorf("run %d printed the token", run)
		}
	}
	for _, f := range append([]string{job.Artifacts.Reports["junit"], job.Artifacts.Reports["metrics"]}, job.Artifacts.Paths...) {
		if b, err := os.ReadFile(filepath.Join(work, f)); err != nil || len(b) == 0 {
			t.Errorf("artifact %s: %v", f, err)
		}
	}
	if m, _ := os.ReadFile(filepath.Join(work, job.Artifacts.Reports["metrics"])); !strings.Contains(string(m), "imgsize_growth_bytes{") || !strings.HasSuffix(string(m), "# EOF\n") {
		t.Errorf("metrics:\n%s", m)
	}
	if len(fake.notes) != 1 || fake.writes != 2 || !strings.Contains(fake.notes[1], "<!-- imgsize-comment -->") {
		t.Errorf("%d notes after %d writes, want 1 after 2: %v", len(fake.notes), fake.writes, fake.notes)
	}
}

// TestJenkinsSnippet runs the Jenkinsfile's sh step and checks that what
// its post section reports and archives is what the step wrote.
func TestJenkinsSnippet(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../ci/jenkins/Jenkinsfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)sh '''(.*?)'''`).FindSubmatch(src)
	if m == nil {
		t.Fatal("no sh step")
	}
	image, baseline := growthFixture(t)
	srv := releaseServer(t, false)
	work := t.TempDir()
	env := baseEnv(t, work, "WORKSPACE="+work, "IMGSIZE_VERSION="+fakeVersion, "IMGSIZE_INSTALL_URL="+srv.URL+"/install.sh",
		"IMGSIZE_RELEASE_BASE_URL="+srv.URL, "IMGSIZE_IMAGES="+image, "IMGSIZE_BASELINE="+baseline, "IMGSIZE_ARGS=--max-growth 1GB")
	if r := runScript(t, work, env, string(m[1])); r.code != 0 {
		t.Fatalf("sh step: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	junit := regexp.MustCompile(`testResults: '([^']+)'`).FindSubmatch(src)
	archived := regexp.MustCompile(`archiveArtifacts artifacts: '([^']+)'`).FindSubmatch(src)
	if junit == nil || archived == nil {
		t.Fatal("post does not publish JUnit and archive artifacts")
	}
	for _, f := range append([]string{string(junit[1])}, strings.Split(string(archived[1]), ", ")...) {
		if b, err := os.ReadFile(filepath.Join(work, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
