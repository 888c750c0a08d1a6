package comment

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultGitLabAPI is gitlab.com's REST API; a self-managed GitLab answers
// at https://HOST/api/v4 (CI_API_V4_URL in GitLab CI).
const DefaultGitLabAPI = "https://gitlab.com/api/v4"

// gitlabLimit is the longest note body GitLab accepts.
const gitlabLimit = 1_000_000

// gitlab talks to the REST v4 merge-request notes API.
type gitlab struct {
	c       *client
	project string // the project id or path as given
	mrPath  string // /projects/{id}/merge_requests/{iid}, escaped
	iid     int
	what    string // project!iid, for errors

	// mrURL caches the merge request's web address ("" until looked up).
	mrURL string
}

func newGitLab(c *client, t Target) *gitlab {
	token := t.Token
	c.auth = func(h http.Header) { h.Set("PRIVATE-TOKEN", token) }
	return &gitlab{
		c:       c,
		project: t.Repo,
		// A path (group/sub/proj) is one path segment: group%2Fsub%2Fproj.
		mrPath: "/projects/" + url.PathEscape(t.Repo) + "/merge_requests/" + strconv.Itoa(t.Number),
		iid:    t.Number,
		what:   t.Repo + "!" + strconv.Itoa(t.Number),
	}
}

type gitlabNote struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
}

func (g *gitlab) notesURL() string { return g.c.endpoint(g.mrPath + "/notes") }

func (g *gitlab) noteURL(id int64) string { return g.c.endpoint(g.mrPath + "/notes/" + itoa(id)) }

func (g *gitlab) list(ctx context.Context) ([]note, error) {
	op := "listing notes on " + g.what
	first := g.notesURL() + "?per_page=" + strconv.Itoa(perPage) + "&sort=asc"
	next := first
	var out []note
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("gitlab: %s: more than %d pages of notes", op, maxPages)
		}
		current, err := url.Parse(next)
		if err != nil {
			return nil, fmt.Errorf("gitlab: %s: %w", op, err)
		}
		var batch []gitlabNote
		h, err := g.c.do(ctx, op, http.MethodGet, next, nil, &batch)
		if err != nil {
			return nil, err
		}
		for _, n := range batch {
			// System notes ("added 1 commit") are GitLab's, never ours.
			if !n.System {
				out = append(out, note{ID: n.ID, Body: n.Body})
			}
		}
		// X-Next-Page builds the next URL on our own base, so it comes
		// first: a GitLab behind a proxy may put a wrong host in Link.
		switch p := strings.TrimSpace(h.Get("X-Next-Page")); {
		case p != "":
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("gitlab: %s: bad X-Next-Page %q", op, oneLine(p, 20))
			}
			next = first + "&page=" + strconv.Itoa(n)
		default:
			if next, err = nextLink(h, current, g.c.base); err != nil {
				return nil, fmt.Errorf("gitlab: %s: %w", op, err)
			}
		}
	}
	return out, nil
}

func (g *gitlab) create(ctx context.Context, body string) (note, error) {
	var n gitlabNote
	_, err := g.c.do(ctx, "creating a note on "+g.what, http.MethodPost, g.notesURL(), map[string]string{"body": body}, &n)
	return note{ID: n.ID, Body: n.Body}, err
}

func (g *gitlab) update(ctx context.Context, id int64, body string) (note, error) {
	var n gitlabNote
	_, err := g.c.do(ctx, fmt.Sprintf("updating note %d on %s", id, g.what), http.MethodPut, g.noteURL(id), map[string]string{"body": body}, &n)
	return note{ID: n.ID, Body: n.Body}, err
}

func (g *gitlab) remove(ctx context.Context, id int64) error {
	_, err := g.c.do(ctx, fmt.Sprintf("deleting note %d on %s", id, g.what), http.MethodDelete, g.noteURL(id), nil, nil)
	return err
}

// webURL links to the note on the merge request's page. The notes API
// gives no web address, so it is built from the project path when the
// project was named by path, else from the merge request's web_url. It
// is a convenience: when the lookup fails the URL is left empty.
func (g *gitlab) webURL(ctx context.Context, n note) string {
	if n.ID == 0 {
		return ""
	}
	if g.mrURL == "" {
		g.mrURL = g.lookupMRURL(ctx)
	}
	if g.mrURL == "" {
		return ""
	}
	return g.mrURL + "#note_" + itoa(n.ID)
}

func (g *gitlab) lookupMRURL(ctx context.Context) string {
	if _, err := strconv.ParseInt(g.project, 10, 64); err != nil {
		if root, ok := strings.CutSuffix(g.c.base.String(), "/api/v4"); ok {
			return root + "/" + strings.Trim(g.project, "/") + "/-/merge_requests/" + strconv.Itoa(g.iid)
		}
	}
	var mr struct {
		WebURL string `json:"web_url"`
	}
	if _, err := g.c.do(ctx, "reading merge request "+g.what, http.MethodGet, g.c.endpoint(g.mrPath), nil, &mr); err != nil {
		return ""
	}
	u, err := url.Parse(mr.WebURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return ""
	}
	return u.String()
}

func (g *gitlab) limit() int { return gitlabLimit }

func (g *gitlab) host() string { return "GitLab" }
