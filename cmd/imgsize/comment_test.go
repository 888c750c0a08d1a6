package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub is the part of GitHub's REST API imgsize comment uses: the
// issue comments of one pull request, kept in memory.
type fakeGitHub struct {
	mu       sync.Mutex
	comments map[int64]string
	next     int64
	writes   int
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer s3cr3t-token" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	const list = "/repos/org/app/issues/7/comments"
	type item struct {
		ID      int64  `json:"id"`
		Body    string `json:"body"`
		HTMLURL string `json:"html_url"`
	}
	reply := func(id int64) {
		json.NewEncoder(w).Encode(item{ID: id, Body: f.comments[id], HTMLURL: "https://github.example/org/app/pull/7#issuecomment-" + strconv.FormatInt(id, 10)})
	}
	var in struct {
		Body string `json:"body"`
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == list:
		out := []item{}
		for id := int64(1); id <= f.next; id++ {
			if b, ok := f.comments[id]; ok {
				out = append(out, item{ID: id, Body: b})
			}
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == list:
		json.NewDecoder(r.Body).Decode(&in)
		f.next++
		f.comments[f.next] = in.Body
		f.writes++
		w.WriteHeader(http.StatusCreated)
		reply(f.next)
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/org/app/issues/comments/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/repos/org/app/issues/comments/"), 10, 64)
		if _, ok := f.comments[id]; !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		json.NewDecoder(r.Body).Decode(&in)
		f.comments[id] = in.Body
		f.writes++
		reply(id)
	default:
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

// TestCommentCLI saves a failing check report (growth, with its why) and
// posts it twice to a fake GitHub: one comment, updated in place, that
// says what failed and why; the token is never printed.
func TestCommentCLI(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	saved := filepath.Join(t.TempDir(), "check.json")
	r := runInProcess(t, "check", "-f", "json", "-o", saved, "--no-cache", "--max-growth", "10%", "--baseline", "oci:"+dir+":small", "oci:"+dir+":big")
	if r.code != exitBudget {
		t.Fatalf("check: exit %d, want %d: %s", r.code, exitBudget, r.stderr)
	}

	fake := &fakeGitHub{comments: map[int64]string{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"synchronize","pull_request":{"number":7}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=org/app", "GITHUB_EVENT_PATH=" + event, "GITHUB_API_URL=" + srv.URL, "GITHUB_TOKEN=s3cr3t-token"}
	for i, want := range []string{"created", "updated"} {
		r := imgsize(t, env, "comment", saved)
		if r.code != 0 || !strings.Contains(r.stderr, want+" https://github.example/org/app/pull/7#issuecomment-1") {
			t.Fatalf("run %d: exit %d: %s", i+1, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "s3cr3t") {
			t.Errorf("the token was printed: %s%s", r.stdout, r.stderr)
		}
	}
	if len(fake.comments) != 1 || fake.writes != 2 {
		t.Fatalf("%d comments after %d writes, want 1 after 2", len(fake.comments), fake.writes)
	}
	body := fake.comments[1]
	for _, want := range []string{"❌ Image size check failed", "max-growth", "**Why `oci:" + dir + ":big` grew**", "only in this build", "```mermaid", "<!-- imgsize-comment -->"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}

	// --only-on-change writes nothing the third time.
	if r := imgsize(t, env, "comment", "--only-on-change", saved); r.code != 0 || fake.writes != 2 || !strings.Contains(r.stderr, "unchanged") {
		t.Errorf("--only-on-change: exit %d, %d writes: %s", r.code, fake.writes, r.stderr)
	}
	// A bad token is one line with the HTTP status, exit 4.
	bad := append(append([]string{}, env[:4]...), "GITHUB_TOKEN=wrong-token")
	if r := imgsize(t, bad, "comment", saved); r.code != exitOutput || !strings.Contains(r.stderr, "401") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || strings.Contains(r.stderr, "wrong-token") {
		t.Errorf("bad token: exit %d: %s", r.code, r.stderr)
	}
	// Outside a pull request: said, exit 0, nothing written.
	if r := imgsize(t, []string{"GITHUB_ACTIONS=", "GITLAB_CI="}, "comment", saved); r.code != 0 || !strings.Contains(r.stderr, "nothing posted") {
		t.Errorf("outside a pull request: exit %d: %s", r.code, r.stderr)
	}
	// --dry-run prints the body.
	if r := runInProcess(t, "comment", "--dry-run", saved); r.code != 0 || !strings.Contains(r.stdout, "| IMAGE |") {
		t.Errorf("--dry-run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	// A files report is not a check or a comparison.
	files := filepath.Join(t.TempDir(), "files.json")
	runInProcess(t, "files", "-f", "json", "-o", files, "--no-cache", "oci:"+dir+":small")
	if r := runInProcess(t, "comment", "--dry-run", files); r.code != exitUsage {
		t.Errorf("a files report: exit %d: %s", r.code, r.stderr)
	}
}
