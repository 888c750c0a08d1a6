package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/comment"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/report"
	"github.com/imgsize/imgsize/pkg/schema"
	"github.com/imgsize/imgsize/pkg/source"
)

type commentOptions struct {
	provider, apiURL, repo string
	number                 int
	tag, behavior          string
	onlyOnChange           bool
	skipIfPassed           bool
	dryRun                 bool
}

func newCommentCmd(g *globalOptions) *cobra.Command {
	o := &commentOptions{}
	c := &cobra.Command{
		Use:   "comment REPORT.json...",
		Short: "Post saved check and compare reports as one sticky pull/merge request comment",
		Long: `Post the summary of saved JSON reports (imgsize check or compare with
-f json -o FILE) as ONE comment on the current GitHub pull request or GitLab
merge request, and update that comment on later runs: one row per image (and
platform), before → after, the budget closest to failing, the verdict,
failures first and passing images collapsed, why an image grew when the check
recorded it, and a Mermaid chart.

The pull or merge request is found from the CI environment: under GitHub
Actions GITHUB_REPOSITORY, the event file (GITHUB_EVENT_PATH) and
GITHUB_API_URL (GitHub Enterprise too), with the token in GITHUB_TOKEN (or
IMGSIZE_GITHUB_TOKEN); under GitLab CI CI_API_V4_URL, CI_PROJECT_ID and
CI_MERGE_REQUEST_IID, with a token of api scope in IMGSIZE_GITLAB_TOKEN or
GITLAB_TOKEN (CI_JOB_TOKEN cannot write notes). Flags override what is
detected; the token is only ever read from the environment, and never
printed. Outside a pull or merge request it says so and exits 0.

imgsize finds its comment by a hidden marker, <!-- imgsize-comment -->, or
<!-- imgsize-comment tag=TAG --> with --tag, so that several jobs each own
one. Behaviours: update (edit it in place, the default), new (always add
one), delete-and-new (delete the old ones, then add one).

Exit codes: 0 posted, unchanged or skipped, or not in a pull request; 2
usage; 3 a report could not be read; 4 the comment could not be written
(the API's answer, with its HTTP status, on one line).`,
		Example: `  imgsize check -f json -o imgsize-check.json && imgsize comment imgsize-check.json
  imgsize comment --tag api --only-on-change api.json
  imgsize comment --dry-run imgsize-check.json`,
		Args: argsAtLeast(1, "report"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runComment(cmd.Context(), g, o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.provider, "provider", "", "github or gitlab (default: detected from the CI environment)")
	f.StringVar(&o.apiURL, "api-url", "", "the API's base URL (default: GITHUB_API_URL, CI_API_V4_URL, or the public service)")
	f.StringVar(&o.repo, "repo", "", "GitHub owner/name or GitLab project ID or path (default: detected)")
	f.IntVar(&o.number, "pr", 0, "pull request number or merge request IID (default: detected)")
	f.StringVar(&o.tag, "tag", "", "own a separate comment, for several jobs on one pull request (letters, digits, . _ -)")
	f.StringVar(&o.behavior, "behavior", "update", "update, new or delete-and-new")
	f.BoolVar(&o.onlyOnChange, "only-on-change", false, "write nothing when the comment already says the same")
	f.BoolVar(&o.skipIfPassed, "skip-if-passed", false, "when every report passed, add no comment; an earlier one is still updated, so it never shows a stale failure")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the comment's Markdown instead of posting it")
	return c
}

func runComment(ctx context.Context, g *globalOptions, o *commentOptions, args []string) error {
	ropts, err := g.reportOptions()
	if err != nil {
		return err
	}
	behavior, err := comment.ParseBehavior(o.behavior)
	if err != nil {
		return err
	}
	if _, err := comment.Marker(o.tag); err != nil {
		return err
	}
	docs := make([]*schema.Document, 0, len(args))
	passed := true
	for _, arg := range args {
		d, err := source.ReadReport(arg)
		if err != nil {
			return named(arg, err)
		}
		if d.Check == nil && d.Comparison == nil {
			return named(arg, errdefs.UsageError(fmt.Errorf("a %s report: comment posts check and compare reports", d.Kind)))
		}
		if d.Check != nil && !d.Check.Passed {
			passed = false
		}
		docs = append(docs, d)
	}
	var body bytes.Buffer
	if err := report.Summary(&body, docs, ropts); err != nil {
		return err
	}
	if o.dryRun {
		return g.emit(ctx, func(w io.Writer) error { _, err := w.Write(body.Bytes()); return err })
	}
	override := comment.Target{Provider: comment.Provider(o.provider), APIURL: o.apiURL, Repo: o.repo, Number: o.number}
	target, err := comment.Resolve(g.getenv, nil, override)
	if errors.Is(err, comment.ErrNoPullRequest) {
		if !g.quiet {
			fmt.Fprintf(g.stderr, "imgsize comment: %s; nothing posted\n", oneLine(err.Error()))
		}
		return nil
	}
	if err != nil {
		return err
	}
	res, err := comment.Post(ctx, target, body.String(), comment.Options{
		Behavior: behavior, Tag: o.tag, OnlyOnChange: o.onlyOnChange,
		UpdateOnly: o.skipIfPassed && passed, UserAgent: "imgsize/" + moduleVersion(),
	})
	if err != nil {
		return errdefs.Wrap(errOutput, fmt.Errorf("posting the comment: %w", err))
	}
	if g.quiet {
		return nil
	}
	where := res.URL
	if where == "" {
		where = target.String()
	}
	switch res.Action {
	case comment.Skipped:
		fmt.Fprintf(g.stderr, "imgsize comment: every report passed and no earlier comment exists on %s; nothing posted (--skip-if-passed)\n", target)
	default:
		fmt.Fprintf(g.stderr, "imgsize comment: %s %s\n", res.Action, where)
	}
	return nil
}
