package comment

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultGitHubAPI is github.com's REST API; GitHub Enterprise Server
// answers at https://HOST/api/v3 (GITHUB_API_URL in Actions).
const DefaultGitHubAPI = "https://api.github.com"

// githubLimit is the longest comment body GitHub accepts.
const githubLimit = 65536

// github talks to the REST v3 issue-comments API: a pull request's
// conversation comments are those of the issue with the same number.
type github struct {
	c      *client
	path   string // /repos/{owner}/{repo}, escaped
	number int
	what   string // owner/repo#n, for errors
}

func newGitHub(c *client, t Target) *github {
	owner, repo, _ := strings.Cut(t.Repo, "/")
	token := t.Token
	c.auth = func(h http.Header) { h.Set("Authorization", "Bearer "+token) }
	c.header = func(h http.Header) {
		h.Set("Accept", "application/vnd.github+json")
		h.Set("X-GitHub-Api-Version", "2022-11-28")
	}
	return &github{
		c:      c,
		path:   "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo),
		number: t.Number,
		what:   t.Repo + "#" + strconv.Itoa(t.Number),
	}
}

type githubComment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

func (g *github) note(c githubComment) note { return note{ID: c.ID, Body: c.Body, URL: c.HTMLURL} }

func (g *github) commentsURL() string {
	return g.c.endpoint(g.path + "/issues/" + strconv.Itoa(g.number) + "/comments")
}

func (g *github) commentURL(id int64) string {
	return g.c.endpoint(g.path + "/issues/comments/" + itoa(id))
}

func (g *github) list(ctx context.Context) ([]note, error) {
	op := "listing comments on " + g.what
	next := g.commentsURL() + "?per_page=" + strconv.Itoa(perPage)
	var out []note
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("github: %s: more than %d pages of comments", op, maxPages)
		}
		current, err := url.Parse(next)
		if err != nil {
			return nil, fmt.Errorf("github: %s: %w", op, err)
		}
		var batch []githubComment
		h, err := g.c.do(ctx, op, http.MethodGet, next, nil, &batch)
		if err != nil {
			return nil, err
		}
		for _, c := range batch {
			out = append(out, g.note(c))
		}
		if next, err = nextLink(h, current, g.c.base); err != nil {
			return nil, fmt.Errorf("github: %s: %w", op, err)
		}
	}
	return out, nil
}

func (g *github) create(ctx context.Context, body string) (note, error) {
	var c githubComment
	_, err := g.c.do(ctx, "creating a comment on "+g.what, http.MethodPost, g.commentsURL(), map[string]string{"body": body}, &c)
	return g.note(c), err
}

func (g *github) update(ctx context.Context, id int64, body string) (note, error) {
	var c githubComment
	_, err := g.c.do(ctx, fmt.Sprintf("updating comment %d on %s", id, g.what), http.MethodPatch, g.commentURL(id), map[string]string{"body": body}, &c)
	return g.note(c), err
}

func (g *github) remove(ctx context.Context, id int64) error {
	_, err := g.c.do(ctx, fmt.Sprintf("deleting comment %d on %s", id, g.what), http.MethodDelete, g.commentURL(id), nil, nil)
	return err
}

func (g *github) webURL(_ context.Context, n note) string { return n.URL }

func (g *github) limit() int { return githubLimit }

func (g *github) host() string { return "GitHub" }
