package comment

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// ErrNoPullRequest: the run is not for a pull or merge request (no CI
// provider was detected, or it was a push or branch pipeline), so there is
// nothing to comment on. The command prints it and exits 0.
var ErrNoPullRequest = errors.New("no pull request or merge request")

// Target is the pull or merge request to comment on and how to reach it.
type Target struct {
	Provider Provider
	// APIURL is the REST API's base: https://api.github.com,
	// https://HOST/api/v3 (GitHub Enterprise) or https://HOST/api/v4 (GitLab).
	APIURL string
	// Repo is "owner/name" on GitHub; on GitLab the project's numeric id
	// or its path ("group/sub/project").
	Repo string
	// Number is the pull request number or the merge request IID.
	Number int
	// Token authenticates: a GitHub token allowed to write pull requests,
	// or a GitLab access token with the api scope.
	Token string
}

// Merge returns t with every non-zero field of override in its place:
// explicit flags win over what Detect found. An override naming another
// provider replaces t entirely, since nothing detected for one host applies
// to the other.
func (t Target) Merge(override Target) Target {
	if override.Provider != "" && override.Provider != t.Provider {
		return override
	}
	t.Provider = cmpOr(override.Provider, t.Provider)
	t.APIURL = cmpOr(override.APIURL, t.APIURL)
	t.Repo = cmpOr(override.Repo, t.Repo)
	t.Number = cmpOr(override.Number, t.Number)
	t.Token = cmpOr(override.Token, t.Token)
	return t
}

// String describes the target without its token ("github owner/repo#12").
func (t Target) String() string {
	sep := "#"
	if t.Provider == GitLab {
		sep = "!"
	}
	return fmt.Sprintf("%s %s%s%d", t.Provider, t.Repo, sep, t.Number)
}

// GoString keeps %#v from printing the token.
func (t Target) GoString() string { return "comment.Target{" + t.String() + "}" }

// validate checks a complete target, as Post needs it.
func (t Target) validate() error {
	switch t.Provider {
	case GitHub:
		owner, repo, ok := strings.Cut(t.Repo, "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			return errdefs.UsageError(fmt.Errorf("github: repository %q: want owner/name", t.Repo))
		}
	case GitLab:
		if strings.Trim(t.Repo, "/") == "" {
			return errdefs.UsageError(errors.New("gitlab: no project: want its numeric id or its path (group/project)"))
		}
	default:
		return errdefs.UsageError(fmt.Errorf("unknown comment provider %q: want github or gitlab", t.Provider))
	}
	if t.Number <= 0 {
		return errdefs.UsageError(fmt.Errorf("%s: no pull or merge request number", t.Provider))
	}
	if t.Token == "" {
		return errdefs.UsageError(fmt.Errorf("%s: no token", t.Provider))
	}
	_, err := parseAPIURL(t.APIURL)
	return err
}

// maxEventFile bounds the GitHub event payload read; real ones are far
// smaller, even with a long pull request description.
const maxEventFile = 10 << 20

// Detect finds the pull or merge request from the CI environment. getenv
// is os.Getenv when nil; readFile reads GITHUB_EVENT_PATH and is a bounded
// read of the file when nil. It is Resolve with no overrides.
func Detect(getenv func(string) string, readFile func(string) ([]byte, error)) (Target, error) {
	return Resolve(getenv, readFile, Target{})
}

// Resolve detects the target as Detect does, lets every non-zero field of
// override win (see Target.Merge) and checks the result. Outside a pull or
// merge request it returns an error wrapping ErrNoPullRequest; without a
// token, a usage error naming the variable to set.
//
// GitHub Actions (GITHUB_ACTIONS=true): GITHUB_API_URL, GITHUB_REPOSITORY,
// the number from the event at GITHUB_EVENT_PATH (pull_request events, and
// issue_comment events on a pull request), the token from
// IMGSIZE_GITHUB_TOKEN or GITHUB_TOKEN.
//
// GitLab CI (GITLAB_CI=true): CI_API_V4_URL, CI_MERGE_REQUEST_PROJECT_ID
// (else CI_PROJECT_ID), CI_MERGE_REQUEST_IID (set in merge request
// pipelines only), the token from IMGSIZE_GITLAB_TOKEN or GITLAB_TOKEN.
// CI_JOB_TOKEN cannot write notes, so a project or personal access token
// with the api scope is needed.
func Resolve(getenv func(string) string, readFile func(string) ([]byte, error), override Target) (Target, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = readBounded
	}
	provider := override.Provider
	if provider == "" {
		switch {
		case getenv("GITHUB_ACTIONS") == "true":
			provider = GitHub
		case getenv("GITLAB_CI") == "true":
			provider = GitLab
		default:
			return Target{}, fmt.Errorf("%w: not running in GitHub Actions or GitLab CI (neither GITHUB_ACTIONS nor GITLAB_CI is \"true\")", ErrNoPullRequest)
		}
	}

	var (
		found Target
		why   string // why no number was found
		err   error  // reading the event, reported only if it mattered
	)
	switch provider {
	case GitHub:
		found, why, err = detectGitHub(getenv, readFile)
	case GitLab:
		found, why, err = detectGitLab(getenv)
	default:
		return Target{}, errdefs.UsageError(fmt.Errorf("unknown comment provider %q: want github or gitlab", provider))
	}
	t := found.Merge(override)
	if t.Number == 0 {
		if err != nil {
			return Target{}, err
		}
		return Target{}, fmt.Errorf("%w: %s", ErrNoPullRequest, why)
	}
	if t.Token == "" {
		return Target{}, errdefs.UsageError(missingToken(provider, getenv))
	}
	redact.Add(t.Token)
	if t.Repo == "" {
		return Target{}, errdefs.UsageError(fmt.Errorf("%s: no repository or project given", provider))
	}
	return t, t.validate()
}

func missingToken(p Provider, getenv func(string) string) error {
	if p == GitHub {
		return errors.New("github: no token: set IMGSIZE_GITHUB_TOKEN or GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}, with permissions: pull-requests: write)")
	}
	msg := "gitlab: no token: set IMGSIZE_GITLAB_TOKEN or GITLAB_TOKEN to a project or personal access token with the api scope"
	if getenv("CI_JOB_TOKEN") != "" {
		msg += " (CI_JOB_TOKEN is set but cannot write merge request notes)"
	}
	return errors.New(msg)
}

// detectGitHub reads what GitHub Actions sets. The token is read even
// outside Actions so that flags can supply the rest.
func detectGitHub(getenv func(string) string, readFile func(string) ([]byte, error)) (Target, string, error) {
	t := Target{
		Provider: GitHub,
		APIURL:   DefaultGitHubAPI,
		Token:    cmpOr(getenv("IMGSIZE_GITHUB_TOKEN"), getenv("GITHUB_TOKEN")),
	}
	if getenv("GITHUB_ACTIONS") != "true" {
		return t, "not running in GitHub Actions (GITHUB_ACTIONS is not \"true\") and no pull request number given", nil
	}
	t.APIURL = cmpOr(getenv("GITHUB_API_URL"), DefaultGitHubAPI)
	t.Repo = getenv("GITHUB_REPOSITORY")
	event := cmpOr(getenv("GITHUB_EVENT_NAME"), "unknown")
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return t, "GITHUB_EVENT_PATH is not set, so the pull request is unknown", nil
	}
	data, err := readFile(path)
	if err != nil {
		return t, "", fmt.Errorf("github: reading the event payload: %w", err)
	}
	if len(data) > maxEventFile {
		return t, "", fmt.Errorf("github: event payload %s is larger than %d MiB", path, maxEventFile>>20)
	}
	n, err := eventNumber(data)
	if err != nil {
		return t, "", fmt.Errorf("github: event payload %s: %w", path, err)
	}
	t.Number = n
	return t, fmt.Sprintf("this GitHub Actions run is for a %q event, not a pull request", event), nil
}

// eventNumber finds the pull request in a GitHub Actions event payload:
// pull_request.number (pull_request, pull_request_target, review events),
// the top-level number, or issue.number when the issue is a pull request
// (issue_comment). 0 means the event is not about a pull request.
func eventNumber(data []byte) (int, error) {
	var ev struct {
		Number      int `json:"number"`
		PullRequest *struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, err
	}
	switch {
	case ev.PullRequest != nil && ev.PullRequest.Number > 0:
		return ev.PullRequest.Number, nil
	case ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null":
		return max(ev.Issue.Number, 0), nil
	case ev.Issue == nil && ev.Number > 0:
		return ev.Number, nil
	}
	return 0, nil
}

// detectGitLab reads what GitLab CI sets. The token is read even outside
// GitLab CI so that flags can supply the rest.
func detectGitLab(getenv func(string) string) (Target, string, error) {
	t := Target{
		Provider: GitLab,
		APIURL:   DefaultGitLabAPI,
		Token:    cmpOr(getenv("IMGSIZE_GITLAB_TOKEN"), getenv("GITLAB_TOKEN")),
	}
	if getenv("GITLAB_CI") != "true" {
		return t, "not running in GitLab CI (GITLAB_CI is not \"true\") and no merge request IID given", nil
	}
	t.APIURL = cmpOr(getenv("CI_API_V4_URL"), DefaultGitLabAPI)
	// A fork's merge request lives in the target project, which
	// CI_MERGE_REQUEST_PROJECT_ID names; CI_PROJECT_ID may be the fork.
	t.Repo = cmpOr(getenv("CI_MERGE_REQUEST_PROJECT_ID"), getenv("CI_PROJECT_ID"))
	iid := getenv("CI_MERGE_REQUEST_IID")
	if iid == "" {
		source := cmpOr(getenv("CI_PIPELINE_SOURCE"), "unknown")
		return t, fmt.Sprintf("this GitLab CI pipeline (source %q) is not a merge request pipeline: CI_MERGE_REQUEST_IID is empty; run the job with rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"", source), nil
	}
	n, err := strconv.Atoi(iid)
	if err != nil || n <= 0 {
		return t, "", fmt.Errorf("gitlab: CI_MERGE_REQUEST_IID %q is not a merge request IID", oneLine(iid, 20))
	}
	t.Number = n
	return t, "", nil
}

// readBounded reads at most maxEventFile+1 bytes of name, enough for
// detectGitHub to tell an oversized payload.
func readBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxEventFile+1))
}
