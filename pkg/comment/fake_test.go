package comment

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fake is an in-memory GitHub issue-comments API or GitLab notes API for
// one pull (owner/repo#12) or merge request (PROJECT!7). It checks the
// credential and headers each real API wants, serves the paths and
// methods they serve, and pages its lists pageSize at a time so that
// pagination is exercised.
type fake struct {
	t        *testing.T
	provider Provider
	token    string
	pageSize int
	srv      *httptest.Server

	// project is the GitLab project as the client names it ("group/proj"
	// or "42"); its escaped form is what the path must hold.
	project string
	// linkBase is where Link next URLs point; the server itself if "".
	linkBase string
	// linkOnly makes GitLab page with Link alone, without X-Next-Page.
	linkOnly bool
	// echoToken puts the credential received into the 401 message, as a
	// careless proxy might.
	echoToken bool

	mu     sync.Mutex
	notes  []fakeNote
	nextID int64
	log    []string // "METHOD escaped-path?query"
	faults []fault
}

type fakeNote struct {
	ID     int64
	Body   string
	System bool
}

// fault makes the next times matching requests fail (times < 0: all).
type fault struct {
	method  string
	status  int
	message string
	times   int
}

const fakeToken = "tok-3f9a1c7e5b"

func newFake(t *testing.T, p Provider) *fake {
	t.Helper()
	f := &fake{t: t, provider: p, token: fakeToken + "-" + string(p), pageSize: 2, project: "group/proj", nextID: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// target is where Post should write to reach this fake.
func (f *fake) target() Target {
	if f.provider == GitHub {
		return Target{Provider: GitHub, APIURL: f.srv.URL, Repo: "owner/repo", Number: 12, Token: f.token}
	}
	return Target{Provider: GitLab, APIURL: f.srv.URL + "/api/v4", Repo: f.project, Number: 7, Token: f.token}
}

func (f *fake) seed(bodies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bodies {
		f.nextID++
		f.notes = append(f.notes, fakeNote{ID: f.nextID, Body: b})
	}
}

func (f *fake) seedSystem(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.notes = append(f.notes, fakeNote{ID: f.nextID, Body: body, System: true})
}

func (f *fake) fail(method string, status, times int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{method: method, status: status, message: message, times: times})
}

func (f *fake) snapshot() []fakeNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeNote(nil), f.notes...)
}

func (f *fake) bodies() []string {
	var out []string
	for _, n := range f.snapshot() {
		out = append(out, n.Body)
	}
	return out
}

// requests returns the requests made with method ("" for all).
func (f *fake) requests(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.log {
		if method == "" || strings.HasPrefix(l, method+" ") {
			out = append(out, l)
		}
	}
	return out
}

// writes counts requests that are not GETs.
func (f *fake) writes() int { return len(f.requests("")) - len(f.requests(http.MethodGet)) }

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.EscapedPath()
	f.log = append(f.log, r.Method+" "+path+"?"+r.URL.RawQuery)

	if r.Header.Get("User-Agent") == "" {
		f.t.Errorf("%s %s: no User-Agent", r.Method, path)
	}
	if got := f.credential(r); got != f.token {
		msg := "401 Unauthorized"
		if f.provider == GitHub {
			msg = "Bad credentials"
		}
		if f.echoToken {
			msg += ": token " + got + " is not valid"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": msg})
		return
	}
	if f.provider == GitHub {
		if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
			f.t.Errorf("Accept = %q", got)
		}
		if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
			f.t.Errorf("X-GitHub-Api-Version = %q", got)
		}
	}
	for i := range f.faults {
		ft := &f.faults[i]
		if ft.times != 0 && ft.method == r.Method {
			ft.times--
			writeJSON(w, ft.status, map[string]string{"message": ft.message})
			return
		}
	}
	if f.provider == GitHub {
		f.serveGitHub(w, r, path)
	} else {
		f.serveGitLab(w, r, path)
	}
}

func (f *fake) credential(r *http.Request) string {
	if f.provider == GitHub {
		v, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return v
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Errorf("GitLab request sent Authorization as well as PRIVATE-TOKEN")
	}
	return r.Header.Get("PRIVATE-TOKEN")
}

func (f *fake) serveGitHub(w http.ResponseWriter, r *http.Request, path string) {
	const list = "/repos/owner/repo/issues/12/comments"
	const one = "/repos/owner/repo/issues/comments/"
	switch {
	case path == list && r.Method == http.MethodGet:
		if got := r.URL.Query().Get("per_page"); got != "100" {
			f.t.Errorf("per_page = %q, want 100", got)
		}
		page, next := f.page(r)
		if next > 0 {
			base := f.linkBase
			if base == "" {
				base = f.srv.URL
			}
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=100&page=%d>; rel="next", <%s%s?per_page=100&page=99>; rel="last"`, base, list, next, base, list))
		}
		out := []map[string]any{}
		for _, n := range page {
			out = append(out, f.githubJSON(n))
		}
		writeJSON(w, http.StatusOK, out)
	case path == list && r.Method == http.MethodPost:
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		f.nextID++
		n := fakeNote{ID: f.nextID, Body: body}
		f.notes = append(f.notes, n)
		writeJSON(w, http.StatusCreated, f.githubJSON(n))
	case strings.HasPrefix(path, one) && (r.Method == http.MethodPatch || r.Method == http.MethodDelete):
		i := f.find(strings.TrimPrefix(path, one))
		if i < 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		if r.Method == http.MethodDelete {
			f.notes = append(f.notes[:i], f.notes[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		f.notes[i].Body = body
		writeJSON(w, http.StatusOK, f.githubJSON(f.notes[i]))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (f *fake) githubJSON(n fakeNote) map[string]any {
	return map[string]any{
		"id":       n.ID,
		"body":     n.Body,
		"html_url": fmt.Sprintf("https://github.com/owner/repo/pull/12#issuecomment-%d", n.ID),
		"user":     map[string]any{"login": "someone"},
	}
}

func (f *fake) serveGitLab(w http.ResponseWriter, r *http.Request, path string) {
	mr := "/api/v4/projects/" + strings.ReplaceAll(f.project, "/", "%2F") + "/merge_requests/7"
	list := mr + "/notes"
	switch {
	case path == mr && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"iid": 7, "web_url": "https://gitlab.example/group/proj/-/merge_requests/7"})
	case path == list && r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get("per_page") != "100" || q.Get("sort") != "asc" {
			f.t.Errorf("list query = %q, want per_page=100&sort=asc", r.URL.RawQuery)
		}
		page, next := f.page(r)
		if next > 0 {
			if !f.linkOnly {
				w.Header().Set("X-Next-Page", strconv.Itoa(next))
			}
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=100&sort=asc>; rel="next"`, f.srv.URL, list, next))
		} else {
			w.Header().Set("X-Next-Page", "")
		}
		out := []map[string]any{}
		for _, n := range page {
			out = append(out, map[string]any{"id": n.ID, "body": n.Body, "system": n.System, "noteable_iid": 7})
		}
		writeJSON(w, http.StatusOK, out)
	case path == list && r.Method == http.MethodPost:
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		f.nextID++
		n := fakeNote{ID: f.nextID, Body: body}
		f.notes = append(f.notes, n)
		writeJSON(w, http.StatusCreated, map[string]any{"id": n.ID, "body": n.Body, "system": false})
	case strings.HasPrefix(path, list+"/") && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		i := f.find(strings.TrimPrefix(path, list+"/"))
		if i < 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		if r.Method == http.MethodDelete {
			f.notes = append(f.notes[:i], f.notes[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		f.notes[i].Body = body
		writeJSON(w, http.StatusOK, map[string]any{"id": f.notes[i].ID, "body": body, "system": false})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
	}
}

// page returns the notes of the requested page and the next page number
// (0 on the last page).
func (f *fake) page(r *http.Request) ([]fakeNote, int) {
	p := 1
	if s := r.URL.Query().Get("page"); s != "" {
		var err error
		if p, err = strconv.Atoi(s); err != nil || p < 1 {
			f.t.Errorf("page = %q", s)
			return nil, 0
		}
	}
	start := min((p-1)*f.pageSize, len(f.notes))
	end := min(start+f.pageSize, len(f.notes))
	next := 0
	if end < len(f.notes) {
		next = p + 1
	}
	return f.notes[start:end], next
}

func (f *fake) find(id string) int {
	for i, n := range f.notes {
		if strconv.FormatInt(n.ID, 10) == id && !n.System {
			return i
		}
	}
	return -1
}

// readBody decodes {"body": …}, refusing anything else as the APIs would.
func (f *fake) readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type = %q", r.Method, r.URL.Path, ct)
	}
	var in struct {
		Body *string `json:"body"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Body == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body is missing"})
		return "", false
	}
	return *in.Body, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
