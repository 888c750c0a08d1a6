package comment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

var providers = []Provider{GitHub, GitLab}

const (
	plain   = "<!-- imgsize-comment -->"
	taggedA = "<!-- imgsize-comment tag=a -->"
)

// post runs Post against f with test-speed retries.
func post(t *testing.T, f *fake, body string, opts Options) (Result, error) {
	t.Helper()
	opts.RetryWait = time.Millisecond
	return Post(t.Context(), f.target(), body, opts)
}

func mustPost(t *testing.T, f *fake, body string, opts Options) Result {
	t.Helper()
	res, err := post(t, f, body, opts)
	if err != nil {
		t.Fatalf("Post(%q, %+v): %v", body, opts, err)
	}
	return res
}

// TestBehaviors runs each scenario against both fakes: a list of earlier
// comments, a sequence of runs, and the comments left at the end.
func TestBehaviors(t *testing.T) {
	t.Parallel()
	type run struct {
		body string
		opts Options
		want Action
	}
	tests := []struct {
		name   string
		seed   []string
		runs   []run
		want   []string // bodies left, in order
		writes int      // write requests in all
	}{
		{
			name:   "create when none",
			seed:   []string{"LGTM"},
			runs:   []run{{"report 1", Options{}, Created}},
			want:   []string{"LGTM", "report 1\n\n" + plain},
			writes: 1,
		},
		{
			name: "second run updates in place",
			runs: []run{
				{"report 1", Options{}, Created},
				{"report 2", Options{}, Updated},
			},
			want:   []string{"report 2\n\n" + plain},
			writes: 2,
		},
		{
			name: "tags keep separate comments",
			runs: []run{
				{"a 1", Options{Tag: "a"}, Created},
				{"b 1", Options{Tag: "b"}, Created},
				{"untagged 1", Options{}, Created},
				{"a 2", Options{Tag: "a"}, Updated},
				{"untagged 2", Options{}, Updated},
			},
			want:   []string{"a 2\n\n" + taggedA, "b 1\n\n<!-- imgsize-comment tag=b -->", "untagged 2\n\n" + plain},
			writes: 5,
		},
		{
			name: "new makes a second",
			runs: []run{
				{"report 1", Options{}, Created},
				{"report 2", Options{Behavior: New}, Created},
			},
			want:   []string{"report 1\n\n" + plain, "report 2\n\n" + plain},
			writes: 2,
		},
		{
			name:   "update edits the newest of several and leaves the rest",
			seed:   []string{"old 1\n\n" + plain, "user", "old 2\n\n" + plain},
			runs:   []run{{"report", Options{}, Updated}},
			want:   []string{"old 1\n\n" + plain, "user", "report\n\n" + plain},
			writes: 1,
		},
		{
			name:   "delete and new leaves exactly one",
			seed:   []string{"old 1\n\n" + plain, "user", "old 2\n\n" + plain, "other job\n\n" + taggedA},
			runs:   []run{{"report", Options{Behavior: DeleteAndNew}, DeletedAndCreated}},
			want:   []string{"user", "other job\n\n" + taggedA, "report\n\n" + plain},
			writes: 3,
		},
		{
			name:   "delete and new with none only creates",
			seed:   []string{"user"},
			runs:   []run{{"report", Options{Behavior: DeleteAndNew}, Created}},
			want:   []string{"user", "report\n\n" + plain},
			writes: 1,
		},
		{
			name:   "update only: nothing to update writes nothing",
			seed:   []string{"user"},
			runs:   []run{{"all passed", Options{UpdateOnly: true}, Skipped}},
			want:   []string{"user"},
			writes: 0,
		},
		{
			name: "update only: an earlier comment is refreshed",
			runs: []run{
				{"failed", Options{}, Created},
				{"all passed", Options{UpdateOnly: true}, Updated},
			},
			want:   []string{"all passed\n\n" + plain},
			writes: 2,
		},
		{
			name: "only on change: same body writes nothing",
			runs: []run{
				{"report", Options{}, Created},
				{"report", Options{OnlyOnChange: true}, Unchanged},
				{"report", Options{OnlyOnChange: true, Behavior: New}, Unchanged},
				{"report", Options{OnlyOnChange: true, Behavior: DeleteAndNew}, Unchanged},
			},
			want:   []string{"report\n\n" + plain},
			writes: 1,
		},
		{
			name:   "only on change: CRLF and trailing space are the same body",
			seed:   []string{"line 1\r\nline 2\r\n\r\n" + plain + "\r\n"},
			runs:   []run{{"line 1\nline 2\n", Options{OnlyOnChange: true}, Unchanged}},
			want:   []string{"line 1\r\nline 2\r\n\r\n" + plain + "\r\n"},
			writes: 0,
		},
		{
			name: "only on change: a new body updates",
			runs: []run{
				{"report 1", Options{}, Created},
				{"report 2", Options{OnlyOnChange: true}, Updated},
			},
			want:   []string{"report 2\n\n" + plain},
			writes: 2,
		},
		{
			name:   "only on change: still creates when none",
			runs:   []run{{"report", Options{OnlyOnChange: true}, Created}},
			want:   []string{"report\n\n" + plain},
			writes: 1,
		},
		{
			name:   "marker found on a later page",
			seed:   []string{"u1", "u2", "u3", "u4", "u5", "old\n\n" + plain, "u6"},
			runs:   []run{{"report", Options{}, Updated}},
			want:   []string{"u1", "u2", "u3", "u4", "u5", "report\n\n" + plain, "u6"},
			writes: 1,
		},
		{
			name: "comments without the exact marker line are never touched",
			seed: []string{
				"> quoting it\n> " + plain,
				"inline " + plain + " mention",
				"<!-- imgsize-comment tag=other -->",
				"<!-- imgsize-comment tag=a-->",
				"<!-- imgsize-comment -->x",
			},
			runs: []run{
				{"report", Options{Behavior: DeleteAndNew}, Created},
				{"report 2", Options{}, Updated},
				{"a", Options{Tag: "a", Behavior: DeleteAndNew}, Created},
			},
			want: []string{
				"> quoting it\n> " + plain,
				"inline " + plain + " mention",
				"<!-- imgsize-comment tag=other -->",
				"<!-- imgsize-comment tag=a-->",
				"<!-- imgsize-comment -->x",
				"report 2\n\n" + plain,
				"a\n\n" + taggedA,
			},
			writes: 3,
		},
	}
	for _, p := range providers {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := newFake(t, p)
				f.seed(tt.seed...)
				for i, r := range tt.runs {
					res := mustPost(t, f, r.body, r.opts)
					if res.Action != r.want {
						t.Errorf("run %d: action = %q, want %q", i+1, res.Action, r.want)
					}
					if (res.ID == 0 || res.URL == "") != (res.Action == Skipped) {
						t.Errorf("run %d: result %+v: an ID and URL exactly when a comment was written", i+1, res)
					}
				}
				if diff := cmp.Diff(tt.want, f.bodies()); diff != "" {
					t.Errorf("comments left (-want +got):\n%s", diff)
				}
				if got := f.writes(); got != tt.writes {
					t.Errorf("write requests = %d, want %d: %q", got, tt.writes, f.requests(""))
				}
			})
		}
	}
}

func TestUpdateKeepsID(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, p)
			first := mustPost(t, f, "one", Options{})
			second := mustPost(t, f, "two", Options{})
			if first.ID != second.ID || first.URL != second.URL {
				t.Errorf("second run %+v, want the first's comment %+v", second, first)
			}
			third := mustPost(t, f, "three", Options{Behavior: DeleteAndNew})
			if third.ID == first.ID || third.Deleted != 1 {
				t.Errorf("delete-and-new gave %+v, want a new ID and Deleted 1", third)
			}
		})
	}
}

func TestNewSkipsListing(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, p)
			mustPost(t, f, "one", Options{Behavior: New})
			for _, r := range f.requests(http.MethodGet) {
				if strings.Contains(r, "/notes?") || strings.Contains(r, "/comments?") {
					t.Errorf("behavior new listed comments: %s", r)
				}
			}
		})
	}
}

func TestPaginationPages(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, p)
			f.seed("1", "2", "3", "4", "5")
			mustPost(t, f, "report", Options{})
			if got := len(f.requests(http.MethodGet)); got < 3 {
				t.Errorf("list requests = %d, want 3 pages of 2: %q", got, f.requests(""))
			}
		})
	}
}

func TestGitLabLinkPagination(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitLab)
	f.linkOnly = true
	f.seed("u1", "u2", "u3", "old\n\n"+plain)
	if res := mustPost(t, f, "report", Options{}); res.Action != Updated {
		t.Errorf("action = %q, want updated via the Link header's page 2", res.Action)
	}
}

func TestGitLabSkipsSystemNotes(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitLab)
	f.seedSystem("changed the description\n" + plain)
	res := mustPost(t, f, "report", Options{})
	if res.Action != Created {
		t.Errorf("action = %q, want created: a system note is never ours", res.Action)
	}
	if got := f.snapshot()[0]; !got.System || got.Body != "changed the description\n"+plain {
		t.Errorf("system note changed: %+v", got)
	}
}

func TestGitLabProjectAndURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		project string
		wantURL func(f *fake, id int64) string
	}{
		{"group/sub/proj", func(f *fake, id int64) string {
			return fmt.Sprintf("%s/group/sub/proj/-/merge_requests/7#note_%d", f.srv.URL, id)
		}},
		{"42", func(_ *fake, id int64) string {
			return fmt.Sprintf("https://gitlab.example/group/proj/-/merge_requests/7#note_%d", id)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, GitLab)
			f.project = tt.project
			res := mustPost(t, f, "report", Options{})
			if want := tt.wantURL(f, res.ID); res.URL != want {
				t.Errorf("URL = %q, want %q", res.URL, want)
			}
			// The fake answers only the escaped path, so a created note
			// proves group/sub/proj went out as group%2Fsub%2Fproj.
			if len(f.snapshot()) != 1 {
				t.Errorf("notes = %d, want 1", len(f.snapshot()))
			}
		})
	}
}

func TestGitHubResultURL(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitHub)
	res := mustPost(t, f, "report", Options{})
	if want := fmt.Sprintf("https://github.com/owner/repo/pull/12#issuecomment-%d", res.ID); res.URL != want {
		t.Errorf("URL = %q, want %q", res.URL, want)
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		status   int
		times    int
		message  string
		wantKind error
		want     map[Provider]string // error text
		attempts int                 // requests with method
	}{
		{
			name: "403", method: http.MethodGet, status: 403, times: -1,
			message:  "Resource not accessible by integration",
			wantKind: errdefs.ErrUnauthorized,
			want: map[Provider]string{
				GitHub: "github: listing comments on owner/repo#12: 403 Forbidden: Resource not accessible by integration",
				GitLab: "gitlab: listing notes on group/proj!7: 403 Forbidden: Resource not accessible by integration",
			},
			attempts: 1,
		},
		{
			name: "404", method: http.MethodGet, status: 404, times: -1, message: "Not Found",
			wantKind: errdefs.ErrNotFound,
			want: map[Provider]string{
				GitHub: "github: listing comments on owner/repo#12: 404 Not Found: Not Found",
				GitLab: "gitlab: listing notes on group/proj!7: 404 Not Found: Not Found",
			},
			attempts: 1,
		},
		{
			name: "persistent 502", method: http.MethodGet, status: 502, times: -1, message: "upstream down",
			want: map[Provider]string{
				GitHub: "github: listing comments on owner/repo#12: 502 Bad Gateway: upstream down",
				GitLab: "gitlab: listing notes on group/proj!7: 502 Bad Gateway: upstream down",
			},
			attempts: 3,
		},
		{
			name: "create 500 is not retried", method: http.MethodPost, status: 500, times: -1, message: "oops",
			want: map[Provider]string{
				GitHub: "github: creating a comment on owner/repo#12: 500 Internal Server Error: oops",
				GitLab: "gitlab: creating a note on group/proj!7: 500 Internal Server Error: oops",
			},
			attempts: 1,
		},
		{
			name: "create 429 is retried", method: http.MethodPost, status: 429, times: -1, message: "slow down",
			want: map[Provider]string{
				GitHub: "github: creating a comment on owner/repo#12: 429 Too Many Requests: slow down",
				GitLab: "gitlab: creating a note on group/proj!7: 429 Too Many Requests: slow down",
			},
			attempts: 3,
		},
		{
			name: "message is one line of at most 200 characters", method: http.MethodGet, status: 422, times: -1,
			message: "bad\r\n\tthing\x1b[31m " + strings.Repeat("x", 300),
			want: map[Provider]string{
				GitHub: "github: listing comments on owner/repo#12: 422 Unprocessable Entity: bad thing [31m " + strings.Repeat("x", 185) + "…",
				GitLab: "gitlab: listing notes on group/proj!7: 422 Unprocessable Entity: bad thing [31m " + strings.Repeat("x", 185) + "…",
			},
			attempts: 1,
		},
	}
	for _, p := range providers {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := newFake(t, p)
				f.fail(tt.method, tt.status, tt.times, tt.message)
				_, err := post(t, f, "report", Options{})
				if err == nil {
					t.Fatal("Post succeeded, want an error")
				}
				if got := err.Error(); got != tt.want[p] {
					t.Errorf("error = %q\nwant    %q", got, tt.want[p])
				}
				if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.wantKind)
				}
				if got := len(f.requests(tt.method)); got != tt.attempts {
					t.Errorf("%s requests = %d, want %d", tt.method, got, tt.attempts)
				}
			})
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, p)
			f.fail(http.MethodGet, 500, 1, "hiccup")
			f.fail(http.MethodPost, 503, 2, "busy")
			res := mustPost(t, f, "report", Options{})
			if res.Action != Created {
				t.Errorf("action = %q, want created", res.Action)
			}
			if got := len(f.requests(http.MethodPost)); got != 3 {
				t.Errorf("POST requests = %d, want 3 (two 503s, then success)", got)
			}
			if got := len(f.snapshot()); got != 1 {
				t.Errorf("comments = %d, want 1", got)
			}
		})
	}
}

func TestRetryWaitHonoursContext(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitHub)
	f.fail(http.MethodGet, 503, -1, "busy")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Post(ctx, f.target(), "report", Options{RetryWait: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Post took %v after the deadline", d)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitLab)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Post(ctx, f.target(), "report", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n := len(f.requests("")); n != 0 {
		t.Errorf("requests = %d after cancel, want 0", n)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, p)
			f.echoToken = true
			f.token = "expected-other-token"
			target := f.target()
			target.Token = "sent-secret-" + string(p) + "-9c2e41"
			_, err := Post(t.Context(), target, "report", Options{})
			if err == nil {
				t.Fatal("Post succeeded with a wrong token")
			}
			if strings.Contains(err.Error(), target.Token) {
				t.Errorf("error shows the token: %q", err)
			}
			if !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("error = %q, want the 401 and the echoed message, redacted", err)
			}
			if !errors.Is(err, errdefs.ErrUnauthorized) {
				t.Errorf("errors.Is(%v, ErrUnauthorized) = false", err)
			}
			if s := fmt.Sprintf("%v %+v %#v %s", target, target, target, target); strings.Contains(s, target.Token) {
				t.Errorf("formatting a Target shows the token: %s", s)
			}
		})
	}
}

func TestNextLinkToOtherHostNotFollowed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, http.StatusOK, []any{})
	}))
	defer other.Close()
	f := newFake(t, GitHub)
	f.linkBase = other.URL
	f.seed("1", "2", "3")
	_, err := post(t, f, "report", Options{})
	if err == nil || !strings.Contains(err.Error(), "not the API's host") {
		t.Errorf("error = %v, want a refusal to follow the link", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("other host got %d requests", n)
	}
	if f.writes() != 0 {
		t.Errorf("wrote %d times after an unfinished listing", f.writes())
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, http.StatusOK, []any{})
	}))
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("other host got %d requests", n)
		}
		other.Close()
	})
	for _, p := range providers {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			}))
			defer api.Close()
			target := Target{Provider: p, APIURL: api.URL, Repo: "owner/repo", Number: 1, Token: "tok-redirect-1234"}
			_, err := Post(t.Context(), target, "report", Options{})
			if err == nil || !strings.Contains(err.Error(), "refusing redirect") {
				t.Errorf("error = %v, want a refused redirect", err)
			}
		})
	}
}

func TestTruncatedBodyKeepsMarker(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitHub)
	line := strings.Repeat("é", 99) + "\n" // 100 runes, 199 bytes
	body := strings.Repeat(line, 700)      // 70,000 runes
	mustPost(t, f, body, Options{Tag: "big"})
	got := f.bodies()[0]
	if n := utf8.RuneCountInString(got); n > githubLimit {
		t.Errorf("posted %d runes, over GitHub's %d", n, githubLimit)
	}
	if !strings.HasSuffix(got, "\n<!-- imgsize-comment tag=big -->") {
		t.Errorf("truncated body lost its marker: ends %q", got[len(got)-80:])
	}
	if !strings.Contains(got, "cut this report to fit GitHub's limit of 65536 characters") {
		t.Error("truncated body has no note saying so")
	}
	if !strings.Contains(got, strings.TrimSuffix(line, "\n")+"\n\n> [!NOTE]") {
		t.Error("body not cut at a line boundary")
	}
	// A second run recognises the truncated comment as its own.
	if res := mustPost(t, f, body, Options{Tag: "big", OnlyOnChange: true}); res.Action != Unchanged {
		t.Errorf("second run: action = %q, want unchanged", res.Action)
	}
}

func TestCompose(t *testing.T) {
	t.Parallel()
	const m = plain
	note := func(limit int) string {
		return fmt.Sprintf("\n\n> [!NOTE]\n> imgsize cut this report to fit X's limit of %d characters; the full report is in the job's output.\n\n", limit)
	}
	tests := []struct {
		name  string
		body  string
		limit int
		want  string
	}{
		{"fits", "report\n\n", 100, "report\n\n" + m},
		{"exactly fits", "ab", 2 + 2 + len(m), "ab\n\n" + m},
		{"limit too small for the note", "abc", 2 + 2 + len(m), m},
		{
			name:  "cut at a line",
			body:  "line one\nline two\n" + strings.Repeat("z", 300),
			limit: 250,
			want:  "line one\nline two" + note(250) + m,
		},
		{
			name:  "open code fence closed",
			body:  "```\n" + strings.Repeat("row\n", 100),
			limit: 250,
			want:  "```\n" + strings.Repeat("row\n", 24) + "row\n```" + note(250) + m,
		},
		{
			name:  "closed code fence left alone",
			body:  "```\nrow\n```\n" + strings.Repeat("text\n", 100),
			limit: 250,
			want:  "```\nrow\n```\n" + strings.Repeat("text\n", 18) + "text" + note(250) + m,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := compose(tt.body, m, tt.limit, "X")
			if n := utf8.RuneCountInString(got); n > tt.limit {
				t.Errorf("length %d runes, over %d", n, tt.limit)
			}
			if got != tt.want {
				t.Errorf("compose =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestComposeNeverOverLimit(t *testing.T) {
	t.Parallel()
	bodies := []string{
		strings.Repeat("x", 5000),                    // no line break at all
		strings.Repeat("日本語\n", 2000),                // multi-byte runes
		"```\n" + strings.Repeat("| a | b |\n", 900), // inside a fence
	}
	for _, b := range bodies {
		for _, limit := range []int{300, 1000, 4999} {
			got := compose(b, taggedA, limit, "GitHub")
			if n := utf8.RuneCountInString(got); n > limit {
				t.Errorf("limit %d: got %d runes", limit, n)
			}
			if !utf8.ValidString(got) {
				t.Errorf("limit %d: invalid UTF-8", limit)
			}
			if !hasMarker(got, taggedA) {
				t.Errorf("limit %d: marker lost", limit)
			}
		}
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag     string
		want    string
		wantErr bool
	}{
		{"", plain, false},
		{"a", taggedA, false},
		{"app-1.2_x", "<!-- imgsize-comment tag=app-1.2_x -->", false},
		{strings.Repeat("a", 64), "<!-- imgsize-comment tag=" + strings.Repeat("a", 64) + " -->", false},
		{strings.Repeat("a", 65), "", true},
		{"a b", "", true},
		{"x-->", "", true},
		{"ü", "", true},
	}
	for _, tt := range tests {
		got, err := Marker(tt.tag)
		if tt.wantErr {
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("Marker(%q) error = %v, want a usage error", tt.tag, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Marker(%q) = %q, %v; want %q", tt.tag, got, err, tt.want)
		}
	}
}

// validTag stands in for the regular expression the tag rule was
// written as; it must accept exactly what that accepts.
func FuzzValidTag(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	for _, s := range []string{"", "a", "app-1.2_x", "AZaz09._-", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"a b", "x-->", "ü", "a\n", "\na", "a\x00", "\xff", "a/b", "a+b", "@", "`", "[", "{", ":", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		if got, want := validTag(tag), re.MatchString(tag); got != want {
			t.Errorf("validTag(%q) = %v, the regular expression says %v", tag, got, want)
		}
	})
}

func TestParseBehavior(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Behavior{"": Update, "update": Update, "new": New, "delete-and-new": DeleteAndNew} {
		if got, err := ParseBehavior(in); err != nil || got != want {
			t.Errorf("ParseBehavior(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseBehavior("hide-and-new"); !errors.Is(err, errdefs.ErrUsage) {
		t.Errorf("ParseBehavior(hide-and-new) error = %v, want a usage error", err)
	}
}

func TestPostRejectsBadInput(t *testing.T) {
	t.Parallel()
	f := newFake(t, GitHub)
	good := f.target()
	tests := []struct {
		name   string
		target func(Target) Target
		opts   Options
	}{
		{"bad tag", func(t Target) Target { return t }, Options{Tag: "a/b"}},
		{"bad behavior", func(t Target) Target { return t }, Options{Behavior: "upsert"}},
		{"no token", func(t Target) Target { t.Token = ""; return t }, Options{}},
		{"no number", func(t Target) Target { t.Number = 0; return t }, Options{}},
		{"repo not owner/name", func(t Target) Target { t.Repo = "repo"; return t }, Options{}},
		{"unknown provider", func(t Target) Target { t.Provider = "bitbucket"; return t }, Options{}},
		{"API URL not http", func(t Target) Target { t.APIURL = "file:///etc"; return t }, Options{}},
		{"API URL with userinfo", func(t Target) Target { t.APIURL = "http://u:p@127.0.0.1"; return t }, Options{}},
	}
	for _, tt := range tests {
		_, err := Post(t.Context(), tt.target(good), "report", tt.opts)
		if !errors.Is(err, errdefs.ErrUsage) {
			t.Errorf("%s: error = %v, want a usage error", tt.name, err)
		}
	}
	if n := len(f.requests("")); n != 0 {
		t.Errorf("bad input still sent %d requests", n)
	}
}

func TestHasMarker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want bool
	}{
		{"report\n\n" + plain, true},
		{plain, true},
		{"report\r\n\r\n" + plain + "\r\n", true},
		{"  " + plain + "  \nmore", true},
		{"> " + plain, false},
		{"text " + plain, false},
		{taggedA, false},
		{"<!-- imgsize-comment  -->", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hasMarker(tt.body, plain); got != tt.want {
			t.Errorf("hasMarker(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	base := mustURL(t, "https://api.example/v3")
	current := mustURL(t, "https://api.example/v3/repos/o/r/issues/1/comments?per_page=100")
	tests := []struct {
		link    string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{`<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"`, "https://api.example/x?page=2", false},
		{`<https://api.example/x?page=9>; rel="last", <https://api.example/x?page=2>; rel=next`, "https://api.example/x?page=2", false},
		{`</v3/x?page=3>; rel="next"`, "https://api.example/v3/x?page=3", false},
		{`<https://api.example/x?page=1>; rel="prev first"`, "", false},
		{`<https://evil.example/x?page=2>; rel="next"`, "", true},
		{`<http://api.example/x?page=2>; rel="next"`, "", true},
		{`<https://api.example:8443/x?page=2>; rel="next"`, "", true},
		{`garbage; rel="next"`, "", false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.link != "" {
			h.Set("Link", tt.link)
		}
		got, err := nextLink(h, current, base)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("nextLink(%q) = %q, %v; want %q, error %v", tt.link, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://api.example/x?page=2>; rel="next"`)
	f.Add(`</x>; rel=next, <//other/x>; rel="next"`)
	f.Add(`<>; rel`)
	base, _ := http.NewRequest(http.MethodGet, "https://api.example/v3", nil)
	f.Fuzz(func(t *testing.T, link string) {
		got, err := nextLink(http.Header{"Link": {link}}, base.URL, base.URL)
		if err != nil || got == "" {
			return
		}
		if u := mustURL(t, got); !sameOrigin(u, base.URL) {
			t.Errorf("nextLink(%q) = %q, off the API's host", link, got)
		}
	})
}
