package comment

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// envOf and filesOf stand in for os.Getenv and os.ReadFile.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func filesOf(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		s, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
		}
		return []byte(s), nil
	}
}

func githubEnv(event, token string) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_REPOSITORY": "owner/repo",
		"GITHUB_API_URL":    "https://api.github.com",
		"GITHUB_EVENT_NAME": event,
		"GITHUB_EVENT_PATH": "/github/workflow/event.json",
		"GITHUB_TOKEN":      token,
	}
}

func gitlabEnv(iid string) map[string]string {
	return map[string]string{
		"GITLAB_CI":            "true",
		"CI_API_V4_URL":        "https://gitlab.example/api/v4",
		"CI_PROJECT_ID":        "42",
		"CI_MERGE_REQUEST_IID": iid,
		"CI_PIPELINE_SOURCE":   "merge_request_event",
		"CI_JOB_TOKEN":         "job-token-xyz",
		"GITLAB_TOKEN":         "glpat-abcdef",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

const eventPath = "/github/workflow/event.json"

func TestResolve(t *testing.T) {
	t.Parallel()
	gh := func(n int, token string) Target {
		return Target{Provider: GitHub, APIURL: "https://api.github.com", Repo: "owner/repo", Number: n, Token: token}
	}
	tests := []struct {
		name     string
		env      map[string]string
		event    string // the payload at GITHUB_EVENT_PATH, "" for none
		override Target
		want     Target
		wantErr  error  // errors.Is target
		errHas   string // substring of the error
	}{
		{
			name:  "github pull_request",
			env:   githubEnv("pull_request", "ghs_token1"),
			event: `{"action":"synchronize","number":12,"pull_request":{"number":12,"head":{"sha":"abc"},"unknown":[1,2]},"extra":{"a":1}}`,
			want:  gh(12, "ghs_token1"),
		},
		{
			name:  "github pull_request_review has only pull_request.number",
			env:   githubEnv("pull_request_review", "ghs_token1"),
			event: `{"review":{"id":1},"pull_request":{"number":33}}`,
			want:  gh(33, "ghs_token1"),
		},
		{
			name:  "github issue_comment on a pull request",
			env:   githubEnv("issue_comment", "ghs_token1"),
			event: `{"action":"created","issue":{"number":8,"pull_request":{"url":"https://api.github.com/repos/owner/repo/pulls/8"}},"comment":{"id":5}}`,
			want:  gh(8, "ghs_token1"),
		},
		{
			name:    "github issue_comment on an issue",
			env:     githubEnv("issue_comment", "ghs_token1"),
			event:   `{"action":"created","issue":{"number":9},"comment":{"id":5}}`,
			wantErr: ErrNoPullRequest,
			errHas:  `"issue_comment" event`,
		},
		{
			name:    "github push",
			env:     githubEnv("push", "ghs_token1"),
			event:   `{"ref":"refs/heads/main","after":"abc","commits":[]}`,
			wantErr: ErrNoPullRequest,
			errHas:  `"push" event, not a pull request`,
		},
		{
			name:    "github push without a token is still not a pull request",
			env:     githubEnv("push", ""),
			event:   `{"ref":"refs/heads/main"}`,
			wantErr: ErrNoPullRequest,
		},
		{
			name:  "github enterprise and IMGSIZE_GITHUB_TOKEN first",
			env:   with(githubEnv("pull_request", "ghs_token1"), "GITHUB_API_URL", "https://ghe.example/api/v3", "IMGSIZE_GITHUB_TOKEN", "ghp_mine"),
			event: `{"number":4,"pull_request":{"number":4}}`,
			want:  Target{Provider: GitHub, APIURL: "https://ghe.example/api/v3", Repo: "owner/repo", Number: 4, Token: "ghp_mine"},
		},
		{
			name:    "github without a token",
			env:     githubEnv("pull_request", ""),
			event:   `{"number":4,"pull_request":{"number":4}}`,
			wantErr: errdefs.ErrUsage,
			errHas:  "GITHUB_TOKEN",
		},
		{
			name:    "github malformed event",
			env:     githubEnv("pull_request", "ghs_token1"),
			event:   `{"number":`,
			errHas:  "github: event payload /github/workflow/event.json",
			wantErr: nil,
		},
		{
			name:    "github oversized event",
			env:     githubEnv("pull_request", "ghs_token1"),
			event:   `{"number":4,"pad":"` + strings.Repeat("x", maxEventFile) + `"}`,
			errHas:  "larger than 10 MiB",
			wantErr: nil,
		},
		{
			name:    "github no event path",
			env:     with(githubEnv("pull_request", "ghs_token1"), "GITHUB_EVENT_PATH", ""),
			wantErr: ErrNoPullRequest,
			errHas:  "GITHUB_EVENT_PATH",
		},
		{
			name:     "github push with a number given",
			env:      githubEnv("push", "ghs_token1"),
			event:    `{"ref":"refs/heads/main"}`,
			override: Target{Number: 77},
			want:     gh(77, "ghs_token1"),
		},
		{
			name:     "github malformed event does not matter with a number given",
			env:      githubEnv("pull_request", "ghs_token1"),
			event:    `not json`,
			override: Target{Number: 5, Token: "ghp_flag"},
			want:     gh(5, "ghp_flag"),
		},
		{
			name: "gitlab merge request pipeline",
			env:  gitlabEnv("7"),
			want: Target{Provider: GitLab, APIURL: "https://gitlab.example/api/v4", Repo: "42", Number: 7, Token: "glpat-abcdef"},
		},
		{
			name: "gitlab fork merge request uses the target project and IMGSIZE_GITLAB_TOKEN",
			env:  with(gitlabEnv("7"), "CI_MERGE_REQUEST_PROJECT_ID", "41", "IMGSIZE_GITLAB_TOKEN", "glpat-mine"),
			want: Target{Provider: GitLab, APIURL: "https://gitlab.example/api/v4", Repo: "41", Number: 7, Token: "glpat-mine"},
		},
		{
			name:    "gitlab branch pipeline",
			env:     with(gitlabEnv(""), "CI_PIPELINE_SOURCE", "push"),
			wantErr: ErrNoPullRequest,
			errHas:  `source "push") is not a merge request pipeline`,
		},
		{
			name:    "gitlab with only CI_JOB_TOKEN",
			env:     with(gitlabEnv("7"), "GITLAB_TOKEN", ""),
			wantErr: errdefs.ErrUsage,
			errHas:  "CI_JOB_TOKEN is set but cannot write merge request notes",
		},
		{
			name:   "gitlab bad IID",
			env:    gitlabEnv("seven"),
			errHas: `CI_MERGE_REQUEST_IID "seven"`,
		},
		{
			name:    "no CI",
			env:     map[string]string{"GITHUB_TOKEN": "ghs_token1"},
			wantErr: ErrNoPullRequest,
			errHas:  "not running in GitHub Actions or GitLab CI",
		},
		{
			name:     "no CI, everything given",
			env:      map[string]string{"GITLAB_TOKEN": "glpat-env"},
			override: Target{Provider: GitLab, Repo: "group/proj", Number: 3},
			want:     Target{Provider: GitLab, APIURL: DefaultGitLabAPI, Repo: "group/proj", Number: 3, Token: "glpat-env"},
		},
		{
			name:     "no CI, provider given but no number",
			env:      map[string]string{"GITHUB_TOKEN": "ghs_token1"},
			override: Target{Provider: GitHub, Repo: "o/r"},
			wantErr:  ErrNoPullRequest,
		},
		{
			name:     "no CI, no repository",
			env:      map[string]string{"GITHUB_TOKEN": "ghs_token1"},
			override: Target{Provider: GitHub, Number: 3},
			wantErr:  errdefs.ErrUsage,
		},
		{
			name:     "another provider given in GitHub Actions ignores GitHub's values",
			env:      with(githubEnv("pull_request", "ghs_token1"), "GITLAB_TOKEN", "glpat-env"),
			event:    `{"number":12,"pull_request":{"number":12}}`,
			override: Target{Provider: GitLab, Repo: "9", Number: 2},
			want:     Target{Provider: GitLab, APIURL: DefaultGitLabAPI, Repo: "9", Number: 2, Token: "glpat-env"},
		},
		{
			name:     "unknown provider given",
			env:      githubEnv("pull_request", "ghs_token1"),
			override: Target{Provider: "gitea"},
			wantErr:  errdefs.ErrUsage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			if tt.event != "" {
				files[eventPath] = tt.event
			}
			got, err := Resolve(envOf(tt.env), filesOf(files), tt.override)
			if tt.wantErr == nil && tt.errHas == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("target (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve = %v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q does not wrap %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (errors.Is(err, ErrNoPullRequest) || errors.Is(err, errdefs.ErrUsage)) {
				t.Errorf("error %q should be neither ErrNoPullRequest nor a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error = %q, want it to contain %q", err, tt.errHas)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestDetectIsResolveWithoutOverrides(t *testing.T) {
	t.Parallel()
	env := githubEnv("pull_request", "ghs_token1")
	files := filesOf(map[string]string{eventPath: `{"pull_request":{"number":3}}`})
	got, err := Detect(envOf(env), files)
	if err != nil || got.Number != 3 || got.Provider != GitHub {
		t.Errorf("Detect = %v, %v; want github owner/repo#3", got, err)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	detected := Target{Provider: GitHub, APIURL: "https://api.github.com", Repo: "o/r", Number: 1, Token: "env"}
	tests := []struct {
		name     string
		override Target
		want     Target
	}{
		{"nothing given", Target{}, detected},
		{"flags win", Target{APIURL: "https://ghe/api/v3", Number: 9, Token: "flag"},
			Target{Provider: GitHub, APIURL: "https://ghe/api/v3", Repo: "o/r", Number: 9, Token: "flag"}},
		{"same provider named", Target{Provider: GitHub, Repo: "x/y"},
			Target{Provider: GitHub, APIURL: "https://api.github.com", Repo: "x/y", Number: 1, Token: "env"}},
		{"other provider replaces all", Target{Provider: GitLab, Repo: "5"}, Target{Provider: GitLab, Repo: "5"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, detected.Merge(tt.override)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestTargetString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t    Target
		want string
	}{
		{Target{Provider: GitHub, Repo: "o/r", Number: 3, Token: "secret-1"}, "github o/r#3"},
		{Target{Provider: GitLab, Repo: "g/p", Number: 4, Token: "secret-2"}, "gitlab g/p!4"},
	} {
		if got := fmt.Sprintf("%v", tt.t); got != tt.want {
			t.Errorf("%%v = %q, want %q", got, tt.want)
		}
		if got := fmt.Sprintf("%+v %#v", tt.t, tt.t); strings.Contains(got, tt.t.Token) {
			t.Errorf("formatting shows the token: %s", got)
		}
	}
}

func TestEventNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event string
		want  int
	}{
		{`{"number":5,"pull_request":{"number":5}}`, 5},
		{`{"pull_request":{"number":6}}`, 6},
		{`{"number":7}`, 7},
		{`{"issue":{"number":8,"pull_request":{}}}`, 8},
		{`{"issue":{"number":9,"pull_request":null}}`, 0},
		{`{"issue":{"number":10}}`, 0},
		{`{"ref":"refs/heads/main"}`, 0},
		{`{"number":-3}`, 0},
		{`{}`, 0},
	}
	for _, tt := range tests {
		got, err := eventNumber([]byte(tt.event))
		if err != nil || got != tt.want {
			t.Errorf("eventNumber(%s) = %d, %v; want %d", tt.event, got, err, tt.want)
		}
	}
	if _, err := eventNumber([]byte(`[1,2]`)); err == nil {
		t.Error("eventNumber accepted a JSON array")
	}
}

func FuzzEventNumber(f *testing.F) {
	f.Add([]byte(`{"number":5,"pull_request":{"number":5}}`))
	f.Add([]byte(`{"issue":{"number":8,"pull_request":{}}}`))
	f.Add([]byte(`{"issue":{"number":-8,"pull_request":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := eventNumber(data)
		if err == nil && n < 0 {
			t.Errorf("eventNumber(%q) = %d, negative", data, n)
		}
	})
}
