package main

import (
	"encoding/xml"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The CI examples are the GitHub Action and the GitLab template put to
// use, and they run: the action's check step with the workflow's inputs,
// and the template's script with the example's variables, against the
// examples built here, the default branch's image standing in as a saved
// report (the config's ${IMGSIZE_BASELINE}), a local release server and
// fakes of the GitHub and GitLab APIs. The gate passes, the JUnit and
// metrics files the CI systems are told to read exist, and one comment or
// note is posted.
func TestCIExamples(t *testing.T) {
	t.Parallel()
	var gh struct {
		On   any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				ID   string            `yaml:"id"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "../../examples/ci/github-actions.yml", &gh)
	job, ok := gh.Jobs["size"]
	if !ok || job.RunsOn == "" || gh.On == nil {
		t.Fatalf("github-actions.yml: no runnable job 'size': %+v", gh)
	}
	var inputs map[string]string
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "imgsize/imgsize@v") {
			inputs = s.With
		}
		if strings.Contains(s.Run, "imgsize ") {
			t.Errorf("github-actions.yml runs imgsize itself (%q): the action does", s.Run)
		}
	}
	if inputs == nil {
		t.Fatal("github-actions.yml does not use the action (imgsize/imgsize@vX.Y.Z)")
	}
	var gl struct {
		Include []struct {
			Remote string `yaml:"remote"`
		} `yaml:"include"`
		Job struct {
			Extends      string            `yaml:"extends"`
			Variables    map[string]string `yaml:"variables"`
			BeforeScript []string          `yaml:"before_script"`
		} `yaml:"image-size"`
	}
	readYAML(t, "../../examples/ci/gitlab-ci.yml", &gl)
	glJob := gl.Job
	if glJob.Extends != ".imgsize" || len(gl.Include) != 1 || !strings.HasSuffix(gl.Include[0].Remote, "/ci/gitlab/imgsize.gitlab-ci.yml") {
		t.Fatalf("gitlab-ci.yml: want job image-size extending .imgsize from the included ci/gitlab/imgsize.gitlab-ci.yml: %+v", gl)
	}
	var tmpl map[string]struct {
		Variables map[string]string `yaml:"variables"`
		Script    []string          `yaml:"script"`
	}
	readYAML(t, "../../ci/gitlab/imgsize.gitlab-ci.yml", &tmpl)

	// The examples as examples/build makes them (built once for the
	// package), where the job's before_script puts them; then the default
	// branch's figures.
	work := t.TempDir()
	_, _, built := examples(t)
	if err := os.Symlink(built, filepath.Join(mkdir(t, filepath.Join(work, "examples")), "out")); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../examples/ci/imgsize.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, mkdir(t, filepath.Join(work, "examples", "ci")), "imgsize.yaml", string(cfg))
	main := filepath.Join(t.TempDir(), "main.json")
	// The binary, not run() in this race-instrumented process: 0.2-0.35 s
	// there, 0.08 s in a process of its own, start-up included.
	if r := imgsize(t, nil, "inspect", "-f", "json", "-o", main, "--no-cache", "oci:"+filepath.Join(work, "examples", "out")+":multistage"); r.code != 0 {
		t.Fatalf("saving the baseline: %s", r.stderr)
	}
	baseline := "IMGSIZE_BASELINE=report:" + main

	t.Run("github", func(t *testing.T) {
		fake := &fakeGitHub{comments: map[int64]string{}}
		api := httptest.NewServer(fake)
		t.Cleanup(api.Close)
		event := filepath.Join(t.TempDir(), "event.json")
		writeFile(t, filepath.Dir(event), "event.json", `{"pull_request":{"number":7}}`)
		outputs, summary := filepath.Join(t.TempDir(), "output"), filepath.Join(work, "summary.md")
		env := baseEnv(t, work, baseline, "GITHUB_ACTIONS=true", "RUNNER_TEMP="+t.TempDir(), "GITHUB_OUTPUT="+outputs, "GITHUB_STEP_SUMMARY="+summary,
			"GITHUB_REPOSITORY=org/app", "GITHUB_EVENT_PATH="+event, "GITHUB_API_URL="+api.URL, "INPUT_GITHUB_TOKEN=s3cr3t-token")
		env[0] = "PATH=" + filepath.Dir(binary) + ":" + strings.TrimPrefix(env[0], "PATH=")
		for k, v := range inputs {
			env = append(env, "INPUT_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))+"="+v)
		}
		cmd := exec.Command("bash", mustAbs(t, "../../action/check.sh"))
		cmd.Dir, cmd.Env = work, env
		if r := runCmd(t, cmd); r.code != 0 {
			t.Fatalf("the action's check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if out, _ := os.ReadFile(outputs); !strings.Contains(string(out), "passed=true\n") {
			t.Errorf("step outputs:\n%s", out)
		}
		checkJUnit(t, filepath.Join(work, inputs["junit"]))
		if b, err := os.ReadFile(summary); err != nil || !strings.Contains(string(b), "Image size check passed") || !strings.Contains(string(b), " → ") {
			t.Errorf("GitHub step summary: %v\n%s", err, b)
		}
		if len(fake.comments) != 1 {
			t.Errorf("%d comments, want 1", len(fake.comments))
		}
	})

	t.Run("gitlab", func(t *testing.T) {
		for _, l := range glJob.BeforeScript {
			if !strings.Contains(l, "examples/build") {
				t.Errorf("before_script line %q: only the build belongs there", l)
			}
		}
		srv := releaseServer(t, false)
		fake := &fakeGitLab{notes: map[int64]string{}}
		api := httptest.NewServer(fake)
		t.Cleanup(api.Close)
		vars := map[string]string{}
		for k, v := range tmpl[".imgsize"].Variables {
			vars[k] = v
		}
		for k, v := range glJob.Variables {
			vars[k] = v
		}
		env := []string{"IMGSIZE_VERSION=" + fakeVersion, "IMGSIZE_INSTALL_URL=" + srv.URL + "/install.sh", "IMGSIZE_RELEASE_BASE_URL=" + srv.URL,
			"CI_PROJECT_DIR=" + work, "GITLAB_CI=true", "CI_API_V4_URL=" + api.URL + "/api/v4", "CI_PROJECT_ID=42", "CI_MERGE_REQUEST_IID=3", "IMGSIZE_GITLAB_TOKEN=glpat-s3cr3t"}
		for k, v := range vars {
			if k != "IMGSIZE_VERSION" && k != "IMGSIZE_INSTALL_URL" {
				env = append(env, k+"="+v)
			}
		}
		// The example's baseline last: the template's empty default
		// would otherwise send the config to the registry tag.
		env = append(env, baseline)
		os.RemoveAll(filepath.Join(work, ".imgsize-bin"))
		r := runScript(t, work, baseEnv(t, work, env...), strings.Join(tmpl[".imgsize"].Script, "\n"))
		if r.code != 0 {
			t.Fatalf("the template's script: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		checkJUnit(t, filepath.Join(work, "imgsize-junit.xml"))
		if m, err := os.ReadFile(filepath.Join(work, "metrics.txt")); err != nil || !strings.Contains(string(m), "imgsize_check_passed{") {
			t.Errorf("metrics: %v\n%s", err, m)
		}
		if len(fake.notes) != 1 {
			t.Errorf("%d notes, want 1", len(fake.notes))
		}
	})
}

func checkJUnit(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no JUnit file: %v", err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(raw, &suites); err != nil || suites.Tests == 0 || suites.Failures != 0 {
		t.Errorf("JUnit: %v, %+v; want passing test cases", err, suites)
	}
}

// The README shows the CI examples as they are.
func TestReadmeShowsCIExamples(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"imgsize.yaml", "github-actions.yml", "gitlab-ci.yml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/ci", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```yaml\n"+string(b)+"```") {
			t.Errorf("README does not show examples/ci/%s as it is; paste it again", f)
		}
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
