// Package comment keeps imgsize's report as one "sticky" comment on a GitHub
// pull request or a GitLab merge request, so that each CI run refreshes the
// same comment instead of adding another.
//
// It sits beside the data flow, after report: the caller renders a report
// (usually Markdown) and hands the text to Post; Detect finds the pull or
// merge request from the CI environment (GitHub Actions or GitLab CI).
//
// # The marker
//
// imgsize recognises its own comment by a hidden HTML comment it appends to
// the body on a line of its own:
//
//	<!-- imgsize-comment -->
//
// With a tag (Options.Tag, [A-Za-z0-9._-]{1,64}) the marker becomes
//
//	<!-- imgsize-comment tag=TAG -->
//
// so that several jobs (one per image, say) each keep a comment of their
// own. Only comments holding the exact marker line of the run are ever
// edited or deleted: a comment tagged "a" is not touched by a run tagged
// "b", nor by an untagged run, and comments people wrote are never touched.
//
// # Behaviours
//
//   - Update (the default) edits the newest marked comment in place and
//     creates one when there is none. Older marked comments (left by the
//     New behaviour, say) are left alone.
//   - New always adds a comment.
//   - DeleteAndNew deletes every marked comment, then adds one, so the
//     report moves to the bottom of the conversation.
//
// With OnlyOnChange, a run whose body equals that of the newest marked
// comment changes nothing (Result.Action is "unchanged"); when there is no
// marked comment one is still created.
//
// A body longer than the provider's limit (65,536 characters on GitHub,
// 1,000,000 on GitLab) is cut at a line boundary, with a note saying so;
// the marker is kept.
package comment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/imgsize/imgsize/internal/redact"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Provider names a code host.
type Provider string

const (
	// GitHub is github.com or GitHub Enterprise Server (REST v3).
	GitHub Provider = "github"
	// GitLab is gitlab.com or a self-managed GitLab (REST v4).
	GitLab Provider = "gitlab"
)

// Behavior says what Post does with comments left by earlier runs.
type Behavior string

const (
	// Update edits the newest marked comment, or creates one. The zero
	// Behavior means Update.
	Update Behavior = "update"
	// New always creates a comment.
	New Behavior = "new"
	// DeleteAndNew deletes every marked comment, then creates one.
	DeleteAndNew Behavior = "delete-and-new"
)

// ParseBehavior turns a flag value ("update", "new", "delete-and-new") into
// a Behavior; anything else is a usage error.
func ParseBehavior(s string) (Behavior, error) {
	switch b := Behavior(s); b {
	case Update, New, DeleteAndNew:
		return b, nil
	case "":
		return Update, nil
	}
	return "", errdefs.UsageError(fmt.Errorf("unknown comment behavior %q: want update, new or delete-and-new", s))
}

// Action is what Post did.
type Action string

const (
	// Created: a comment was added (no marked one existed, or Behavior New).
	Created Action = "created"
	// Updated: the newest marked comment was edited in place.
	Updated Action = "updated"
	// Unchanged: OnlyOnChange found the same body already posted.
	Unchanged Action = "unchanged"
	// DeletedAndCreated: marked comments were deleted and a new one added.
	DeletedAndCreated Action = "deleted-and-created"
	// Skipped: UpdateOnly found no marked comment to update.
	Skipped Action = "skipped"
)

// Result reports what Post did and where the comment is.
type Result struct {
	Action Action
	// URL is the comment's web address, empty when the provider gave none.
	URL string
	// ID is the provider's comment (GitHub) or note (GitLab) id.
	ID int64
	// Deleted counts the marked comments DeleteAndNew removed.
	Deleted int
}

// Options tune Post.
type Options struct {
	Behavior Behavior
	// Tag selects which marked comment this run owns; empty is the
	// untagged marker.
	Tag string
	// OnlyOnChange skips the write when the newest marked comment already
	// holds the same body.
	OnlyOnChange bool
	// UpdateOnly writes only where a marked comment exists (updating it,
	// as the behaviour says), and creates none: a run with nothing to
	// report refreshes an earlier comment without adding one.
	UpdateOnly bool
	// HTTPClient sends the requests; nil means a client with Go's default
	// transport. Redirects to another host are refused either way, so the
	// token never leaves the API's host.
	HTTPClient *http.Client
	// UserAgent is sent with each request; empty means "imgsize".
	UserAgent string
	// RetryWait is the pause before the first retry of a 5xx or 429
	// answer (doubled for the second); zero means one second.
	RetryWait time.Duration
}

// Limits on what the APIs send back. A page of 100 comments near GitHub's
// size limit, JSON-escaped, approaches 16 MiB, hence the margin.
const (
	maxResponse = 32 << 20
	maxPages    = 100
	maxRetries  = 2
	maxMessage  = 200
	perPage     = 100
)

const markerPrefix = "<!-- imgsize-comment"

// Marker returns the hidden line that identifies imgsize's comment for tag
// ("" for the untagged one). A tag outside [A-Za-z0-9._-]{1,64} is a usage
// error.
func Marker(tag string) (string, error) {
	if tag == "" {
		return markerPrefix + " -->", nil
	}
	if !validTag(tag) {
		return "", errdefs.UsageError(fmt.Errorf("comment tag %q: want 1 to 64 of A-Z a-z 0-9 . _ -", tag))
	}
	return markerPrefix + " tag=" + tag + " -->", nil
}

// validTag reports whether tag matches ^[A-Za-z0-9._-]{1,64}$. It is a
// loop, not that regular expression: compiled at start-up, the bounded
// repetition made 64 copies of the class and cost every run of imgsize
// 60 KB in 860 allocations, for a check only the comment command makes.
func validTag(tag string) bool {
	if len(tag) < 1 || len(tag) > 64 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// hasMarker reports whether body holds marker on a line of its own; a
// quoted copy ("> <!-- … -->") or a marker with another tag does not count.
func hasMarker(body, marker string) bool {
	for line := range strings.Lines(body) {
		if strings.TrimSpace(line) == marker {
			return true
		}
	}
	return false
}

// sameBody compares bodies as the providers store them: GitHub hands back
// bodies edited in the browser with CRLF, and both may trim the end.
func sameBody(a, b string) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return norm(a) == norm(b)
}

// compose appends the marker to body and cuts the result to limit runes.
// The cut falls on a line boundary so no table row or link is left half
// written, and an open code fence is closed so the note renders as text.
func compose(body, marker string, limit int, host string) string {
	body = strings.TrimRight(body, " \t\r\n")
	full := body + "\n\n" + marker
	if utf8.RuneCountInString(full) <= limit {
		return full
	}
	note := fmt.Sprintf("> [!NOTE]\n> imgsize cut this report to fit %s's limit of %d characters; the full report is in the job's output.", host, limit)
	const fence = "\n```"
	tail := note + "\n\n" + marker
	reserve := utf8.RuneCountInString(tail) + 2 + len(fence)
	if reserve > limit {
		return marker // no real limit is this small
	}
	keep := limit - reserve
	cut := len(body)
	for i := range body {
		if keep == 0 {
			cut = i
			break
		}
		keep--
	}
	prefix := body[:cut]
	if i := strings.LastIndexByte(prefix, '\n'); i >= 0 {
		prefix = prefix[:i]
	}
	prefix = strings.TrimRight(prefix, " \t\r\n")
	if prefix == "" {
		return tail
	}
	if openFence(prefix) {
		prefix += fence
	}
	return prefix + "\n\n" + tail
}

// openFence reports whether s ends inside a ``` or ~~~ code block.
func openFence(s string) bool {
	open := ""
	for line := range strings.Lines(s) {
		l := strings.TrimLeft(line, " ")
		for _, f := range []string{"```", "~~~"} {
			if !strings.HasPrefix(l, f) {
				continue
			}
			switch {
			case open == "":
				open = f
			case open == f:
				open = ""
			}
		}
	}
	return open != ""
}

// note is a comment (GitHub) or note (GitLab) as Post needs it.
type note struct {
	ID   int64
	Body string
	URL  string
}

// provider is one code host's comment API, bound to one pull or merge
// request.
type provider interface {
	list(ctx context.Context) ([]note, error)
	create(ctx context.Context, body string) (note, error)
	update(ctx context.Context, id int64, body string) (note, error)
	remove(ctx context.Context, id int64) error
	// webURL returns n's web address, or "" when it cannot be known.
	webURL(ctx context.Context, n note) string
	// limit is the longest body the host accepts, in characters.
	limit() int
	// host names the provider in prose ("GitHub").
	host() string
}

// Post writes body as imgsize's comment on target's pull or merge request,
// as opts.Behavior says, and reports what it did.
func Post(ctx context.Context, target Target, body string, opts Options) (Result, error) {
	if err := target.validate(); err != nil {
		return Result{}, err
	}
	redact.Add(target.Token)
	behavior, err := ParseBehavior(string(opts.Behavior))
	if err != nil {
		return Result{}, err
	}
	marker, err := Marker(opts.Tag)
	if err != nil {
		return Result{}, err
	}
	p, err := newProvider(target, opts)
	if err != nil {
		return Result{}, err
	}
	text := compose(body, marker, p.limit(), p.host())

	var marked []note
	if behavior != New || opts.OnlyOnChange || opts.UpdateOnly {
		all, err := p.list(ctx)
		if err != nil {
			return Result{}, err
		}
		for _, n := range all {
			if hasMarker(n.Body, marker) {
				marked = append(marked, n)
			}
		}
	}

	if len(marked) == 0 && opts.UpdateOnly {
		return Result{Action: Skipped}, nil
	}
	if len(marked) > 0 && opts.OnlyOnChange {
		if newest := marked[len(marked)-1]; sameBody(newest.Body, text) {
			return Result{Action: Unchanged, ID: newest.ID, URL: p.webURL(ctx, newest)}, nil
		}
	}

	res := Result{Action: Created}
	switch {
	case behavior == Update && len(marked) > 0:
		n, err := p.update(ctx, marked[len(marked)-1].ID, text)
		if err != nil {
			return Result{}, err
		}
		return Result{Action: Updated, ID: n.ID, URL: p.webURL(ctx, n)}, nil
	case behavior == DeleteAndNew:
		for _, n := range marked {
			err := p.remove(ctx, n.ID)
			if errors.Is(err, errdefs.ErrNotFound) {
				continue // deleted meanwhile, by a concurrent run or a person
			}
			if err != nil {
				return Result{Deleted: res.Deleted}, err
			}
			res.Deleted++
		}
		if res.Deleted > 0 {
			res.Action = DeletedAndCreated
		}
	}
	n, err := p.create(ctx, text)
	if err != nil {
		return Result{Deleted: res.Deleted}, err
	}
	res.ID, res.URL = n.ID, p.webURL(ctx, n)
	return res, nil
}

func newProvider(t Target, opts Options) (provider, error) {
	base, err := parseAPIURL(t.APIURL)
	if err != nil {
		return nil, err
	}
	c := &client{
		hc:        guardRedirects(opts.HTTPClient),
		ua:        cmpOr(opts.UserAgent, "imgsize"),
		base:      base,
		retryWait: cmpOr(opts.RetryWait, time.Second),
		provider:  string(t.Provider),
	}
	switch t.Provider {
	case GitHub:
		return newGitHub(c, t), nil
	case GitLab:
		return newGitLab(c, t), nil
	}
	return nil, errdefs.UsageError(fmt.Errorf("unknown comment provider %q: want github or gitlab", t.Provider))
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// parseAPIURL accepts an http(s) URL with a host and no query, and drops
// a trailing slash so paths can be appended.
func parseAPIURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, errdefs.UsageError(fmt.Errorf("API URL %q: %w", s, err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errdefs.UsageError(fmt.Errorf("API URL %q: want http(s)://host[/path]", s))
	}
	return u, nil
}

// guardRedirects returns a copy of hc (or a fresh client) that refuses a
// redirect to another scheme or host: Go drops Authorization on such a
// redirect but not GitLab's PRIVATE-TOKEN.
func guardRedirects(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	prev := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			return fmt.Errorf("refusing redirect to %s://%s: not the API's host", req.URL.Scheme, req.URL.Host)
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// client is the HTTP plumbing both providers share: auth, bounded reads,
// retries and one-line errors.
type client struct {
	hc        *http.Client
	ua        string
	base      *url.URL
	retryWait time.Duration
	provider  string
	// auth sets the credential header on each request.
	auth func(h http.Header)
	// header sets the provider's other fixed headers.
	header func(h http.Header)
}

// endpoint joins the API base and an already escaped path.
func (c *client) endpoint(escapedPath string) string {
	return c.base.String() + escapedPath
}

// do sends one request (retrying 5xx and 429 answers), decodes a JSON
// answer into out when out is not nil and returns the answer's headers.
// op says what was being done, for errors ("listing comments on o/r#1").
func (c *client) do(ctx context.Context, op, method, target string, in, out any) (http.Header, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("%s: %s: encoding request: %w", c.provider, op, err)
		}
	}
	wait := c.retryWait
	for attempt := 0; ; attempt++ {
		h, status, err := c.once(ctx, op, method, target, payload, out)
		if err == nil {
			return h, nil
		}
		if status == 0 || attempt == maxRetries || !retryable(method, status) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (waiting to retry: %w)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

// retryable: rate limits and server errors may pass. A POST is retried
// only when the answer says it was not processed (429, 503), since a
// repeated create after a 500 or a gateway timeout could post twice.
func retryable(method string, status int) bool {
	if method == http.MethodPost {
		return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// once sends one request. status is the HTTP status of an answer that
// failed, 0 when there was no answer.
func (c *client) once(ctx context.Context, op, method, target string, payload []byte, out any) (http.Header, int, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %s: %w", c.provider, op, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.ua)
	if c.header != nil {
		c.header(req.Header)
	}
	c.auth(req.Header)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %s: %w", c.provider, op, err)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %s: reading response: %w", c.provider, op, err)
	}
	if len(data) > maxResponse {
		return nil, 0, fmt.Errorf("%s: %s: response larger than %d MiB", c.provider, op, maxResponse>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, &apiError{provider: c.provider, op: op, status: resp.StatusCode, message: apiMessage(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, 0, fmt.Errorf("%s: %s: decoding response: %w", c.provider, op, err)
		}
	}
	return resp.Header, 0, nil
}

// apiError is an error answer from the API, kept to one line.
type apiError struct {
	provider, op string
	status       int
	message      string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s: %s: %d", e.provider, e.op, e.status)
	if t := http.StatusText(e.status); t != "" {
		s += " " + t
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

// Unwrap gives the error kind the command maps to an exit code.
func (e *apiError) Unwrap() error {
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return errdefs.ErrUnauthorized
	case http.StatusNotFound:
		return errdefs.ErrNotFound
	}
	return nil
}

// apiMessage pulls the human part out of an error answer: GitHub's and
// GitLab's "message" (a string, or for GitLab's validation errors an
// object), else OAuth's "error_description" or "error". Anything the API
// echoed (a token in a proxy's page, say) is redacted, control characters
// are dropped and the text is cut to about 200 characters.
func apiMessage(data []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return ""
	}
	var msg string
	for _, k := range []string{"message", "error_description", "error"} {
		raw, ok := fields[k]
		if !ok {
			continue
		}
		if json.Unmarshal(raw, &msg) != nil {
			var buf bytes.Buffer
			if json.Compact(&buf, raw) == nil {
				msg = buf.String()
			}
		}
		if msg != "" {
			break
		}
	}
	return oneLine(redact.String(msg), maxMessage)
}

// oneLine replaces control characters with spaces, squeezes runs of
// spaces and cuts s to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError
	}), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// nextLink returns the rel="next" target of a Link header, resolved
// against the page just read, or "" when there is none. A link to another
// scheme or host is an error: following it would send the token there.
func nextLink(h http.Header, current, base *url.URL) (string, error) {
	for _, v := range h.Values("Link") {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			end := strings.IndexByte(part, '>')
			if !strings.HasPrefix(part, "<") || end < 0 {
				continue
			}
			if !relNext(part[end+1:]) {
				continue
			}
			u, err := current.Parse(part[1:end])
			if err != nil {
				return "", fmt.Errorf("bad next page link: %w", err)
			}
			if !sameOrigin(u, base) {
				return "", fmt.Errorf("next page link points to %s://%s, not the API's host; not following it", u.Scheme, u.Host)
			}
			return u.String(), nil
		}
	}
	return "", nil
}

// relNext reports whether Link parameters (`; rel="next"`) include next.
func relNext(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}

// itoa formats an id for a path.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
