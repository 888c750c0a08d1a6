package source

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// MaxListedTags bounds how many tag names ListTags reads from a registry,
// whatever the selection: a tag list is outside input, and a registry may
// answer with any number of pages.
const MaxListedTags = 10000

// validTag reports whether t follows the distribution spec's tag grammar,
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: checked by hand, as a regexp with that
// counted repeat is 128 compiled copies built at every start.
func validTag(t string) bool {
	if len(t) == 0 || len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// tagPageSize is the page size asked for; registries may send fewer.
const tagPageSize = 1000

// TagSelection says which tags of a repository ListTags keeps.
type TagSelection struct {
	// Glob keeps the tags it matches as a whole (path.Match syntax: *, ?
	// and [...]; tags have no /, so * matches any run of characters).
	// Empty keeps every tag.
	Glob string
	// Regexp keeps the tags it matches (RE2, unanchored: anchor with ^
	// and $). Nil keeps every tag. Glob and Regexp may not both be set.
	Regexp *regexp.Regexp
	// Max bounds the tags kept, after matching; 0 means no bound beyond
	// MaxListedTags.
	Max int
}

// ParseTagSelection checks a glob and a regular expression as given on
// the command line (at most one of them) into a selection.
func ParseTagSelection(glob, re string, maxTags int) (TagSelection, error) {
	sel := TagSelection{Glob: glob, Max: maxTags}
	if glob != "" && re != "" {
		return sel, errdefs.UsageError(errors.New("give a tag glob or a tag regular expression, not both"))
	}
	if maxTags < 1 {
		return sel, errdefs.UsageError(fmt.Errorf("the tag bound must be at least 1, got %d", maxTags))
	}
	if glob != "" {
		if _, err := path.Match(glob, ""); err != nil {
			return sel, errdefs.UsageError(fmt.Errorf("invalid tag glob %q: %w", glob, err))
		}
	}
	if re != "" {
		r, err := regexp.Compile(re)
		if err != nil {
			return sel, errdefs.UsageError(fmt.Errorf("invalid tag regular expression %q: %w", re, err))
		}
		sel.Regexp = r
	}
	return sel, nil
}

func (s TagSelection) match(tag string) bool {
	if s.Glob != "" {
		ok, _ := path.Match(s.Glob, tag)
		return ok
	}
	return s.Regexp == nil || s.Regexp.MatchString(tag)
}

// TagList is what ListTags found in a repository.
type TagList struct {
	// Repository is the repository's canonical name (registry/path).
	Repository string
	// Tags are the tags kept, in the registry's order (distribution lists
	// them sorted by name).
	Tags []string
	// Listed counts the names the registry listed (up to MaxListedTags);
	// Matched those the selection matched, of which Tags holds the first
	// Max.
	Listed, Matched int
	// Invalid counts listed names that are not valid tags (a hostile or
	// broken registry): they are skipped.
	Invalid int
	// Truncated: the registry listed more than MaxListedTags names; those
	// beyond were not read.
	Truncated bool
}

// ParseRepository reads a repository argument: docker://REPO or a bare
// REPO (registry/path), without a tag or digest.
func ParseRepository(s string, opts Options) (name.Repository, error) {
	s = strings.TrimPrefix(s, "docker://")
	if hasUserinfo(s) {
		return name.Repository{}, errdefs.UsageError(errors.New("credentials do not belong in a repository name; use docker login or a Docker config (DOCKER_CONFIG)"))
	}
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	repo, err := name.NewRepository(s, nopts...)
	if err != nil {
		if _, rerr := name.ParseReference(s, nopts...); rerr == nil {
			return name.Repository{}, errdefs.UsageError(fmt.Errorf("%q names an image, not a repository: leave out the tag or digest (choose tags with --tags)", s))
		}
		return name.Repository{}, errdefs.UsageError(fmt.Errorf("invalid repository %q: %w", s, err))
	}
	return repo, nil
}

// ListTags lists the tags of repo that sel selects, through the same
// authenticated, retrying, timed transport as every other registry
// request. It reads at most MaxListedTags names, and says when there were
// more.
func ListTags(ctx context.Context, repo name.Repository, opts Options, sel TagSelection) (*TagList, error) {
	authed, err := authTransport(ctx, repo, opts)
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPuller(remote.WithContext(ctx), remote.WithTransport(authed), remote.WithPageSize(tagPageSize))
	if err != nil {
		return nil, err
	}
	out := &TagList{Repository: repo.Name()}
	lister, err := p.Lister(ctx, repo)
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("listing tags of %s: %w", repo.Name(), err))
	}
	seen := map[string]bool{}
	for lister.HasNext() {
		page, err := lister.Next(ctx)
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("listing tags of %s: %w", repo.Name(), err))
		}
		for _, t := range page.Tags {
			if out.Listed == MaxListedTags {
				out.Truncated = true
				return out, nil
			}
			out.Listed++
			switch {
			case !validTag(t):
				out.Invalid++
				continue
			case seen[t]:
				continue
			}
			seen[t] = true
			if !sel.match(t) {
				continue
			}
			out.Matched++
			if sel.Max == 0 || len(out.Tags) < sel.Max {
				out.Tags = append(out.Tags, t)
			}
		}
		if len(page.Tags) == 0 {
			break
		}
	}
	return out, nil
}
