package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// imgsizeLines returns the imgsize command lines of CI scripts.
func imgsizeLines(scripts []string) [][]string {
	var out [][]string
	for _, s := range scripts {
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == "imgsize" {
				out = append(out, f[1:])
			}
		}
	}
	return out
}

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

// The CI examples are runnable: their structure is what GitHub Actions and
// GitLab read, and their imgsize commands, run in order against the
// examples built here (the target branch's build standing in as the
// baseline), pass the gate and write the JUnit file GitLab is told to read.
func TestCIExamples(t *testing.T) {
	var gh struct {
		On   any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "../../examples/ci/github-actions.yml", &gh)
	job, ok := gh.Jobs["size"]
	if !ok || job.RunsOn == "" || gh.On == nil {
		t.Fatalf("github-actions.yml: no runnable job 'size': %+v", gh)
	}
	var ghScripts []string
	for _, s := range job.Steps {
		if s.Run != "" {
			ghScripts = append(ghScripts, s.Run)
		}
	}
	var gl map[string]struct {
		Stage     string   `yaml:"stage"`
		Script    []string `yaml:"script"`
		Artifacts struct {
			When    string `yaml:"when"`
			Reports struct {
				JUnit string `yaml:"junit"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	readYAML(t, "../../examples/ci/gitlab-ci.yml", &gl)
	glJob, ok := gl["image-size"]
	if !ok || glJob.Stage == "" || len(glJob.Script) == 0 {
		t.Fatalf("gitlab-ci.yml: no job 'image-size' with a script: %+v", gl)
	}
	if glJob.Artifacts.When != "always" || glJob.Artifacts.Reports.JUnit == "" {
		t.Errorf("gitlab-ci.yml: the JUnit report must be kept always (a failed gate is when it matters): %+v", glJob.Artifacts)
	}

	// Build the examples once; the worktree of the target branch is the
	// same build here.
	work := t.TempDir()
	build := exec.Command("go", "run", "./examples/build", "-o", filepath.Join(work, "examples", "out"))
	build.Dir = "../.."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("examples/build: %v\n%s", err, b)
	}
	if err := os.MkdirAll(filepath.Join(work, "base", "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(work, "examples", "out"), filepath.Join(work, "base", "examples", "out")); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../examples/ci/imgsize.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, mkdir(t, filepath.Join(work, "examples", "ci")), "imgsize.yaml", string(cfg))

	for _, ci := range []struct {
		name    string
		scripts []string
		env     []string
	}{
		{"github", ghScripts, []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + filepath.Join(work, "summary.md")}},
		{"gitlab", glJob.Script, []string{"GITHUB_ACTIONS=", "GITLAB_CI=true"}},
	} {
		t.Run(ci.name, func(t *testing.T) {
			lines := imgsizeLines(ci.scripts)
			if len(lines) != 2 || lines[0][0] != "inspect" || lines[1][0] != "check" {
				t.Fatalf("imgsize commands %q: want the baseline's inspect, then check", lines)
			}
			os.Remove(filepath.Join(work, "imgsize-junit.xml"))
			for _, args := range lines {
				cmd := exec.Command(binary, args...)
				cmd.Dir = work
				cmd.Env = append(append(os.Environ(), ci.env...), "XDG_CACHE_HOME="+t.TempDir())
				r := runCmd(t, cmd)
				validateJSONOutput(t, work, args, r)
				if r.code != 0 {
					t.Fatalf("imgsize %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
				}
			}
			raw, err := os.ReadFile(filepath.Join(work, "imgsize-junit.xml"))
			if err != nil {
				t.Fatalf("the check wrote no JUnit file: %v", err)
			}
			if ci.name == "gitlab" && glJob.Artifacts.Reports.JUnit != "imgsize-junit.xml" {
				t.Errorf("GitLab reads %q, the check writes imgsize-junit.xml", glJob.Artifacts.Reports.JUnit)
			}
			var suites struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			}
			if err := xml.Unmarshal(raw, &suites); err != nil || suites.Tests == 0 || suites.Failures != 0 {
				t.Errorf("JUnit: %v, %+v; want passing test cases", err, suites)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(work, "summary.md")); err != nil || !strings.Contains(string(b), "Image size check passed") || !strings.Contains(string(b), " → ") {
		t.Errorf("GitHub step summary: %v\n%s", err, b)
	}
}

// The README shows the CI examples as they are.
func TestReadmeShowsCIExamples(t *testing.T) {
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
