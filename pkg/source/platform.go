package source

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, errdefs.UsageError(fmt.Errorf("invalid platform %q: want os/arch[/variant]", s))
	}
	for _, part := range parts {
		if !platformPart().MatchString(part) {
			return v1.Platform{}, errdefs.UsageError(fmt.Errorf("invalid platform %q: os, arch and variant are letters, digits and . _ + -", s))
		}
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

var platformPart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._+-]+$`) })

// shown quotes an outside string that holds anything but printable
// characters, so an error naming it stays one honest line.
func shown(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// matchPlatform keeps the descriptors whose platform matches want; a variant
// is only compared when the user named one. When none match, the error lists
// what the index offers.
func matchPlatform(descs []v1.Descriptor, want v1.Platform, platformOf func(v1.Descriptor) (*v1.Platform, error)) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	var have, matchedPlatforms []string
	for _, d := range descs {
		p, err := platformOf(d)
		if err != nil {
			return nil, err
		}
		if p == nil {
			have = append(have, "unknown")
			continue
		}
		have = append(have, p.String())
		if p.OS == want.OS && p.Architecture == want.Architecture &&
			(want.Variant == "" || normVariant(p.Architecture, p.Variant) == normVariant(want.Architecture, want.Variant)) {
			out = append(out, d)
			matchedPlatforms = append(matchedPlatforms, p.String())
		}
	}
	if len(out) == 0 {
		sort.Strings(have)
		return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("no image for platform %s (available: %s)", shown(want.String()), strings.Join(shownAll(dedupe(have)), ", ")))
	}
	if distinct := dedupe(sortedCopy(matchedPlatforms)); len(distinct) > 1 {
		// Without a variant the user means the default one (amd64 v1,
		// arm64 v8, arm v7), as docker and containerd pick it.
		var preferred []v1.Descriptor
		for i, d := range out {
			p, _ := platformOf(d)
			if p != nil && normVariant(p.Architecture, p.Variant) == normVariant(want.Architecture, want.Variant) {
				preferred = append(preferred, out[i])
			}
		}
		if len(preferred) == 0 {
			return nil, errdefs.UsageError(fmt.Errorf("several images match platform %s (%s): name the variant in --platform", shown(want.String()), strings.Join(shownAll(distinct), ", ")))
		}
		out = preferred
	}
	return out, nil
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// normVariant applies the variants an index may leave unsaid: amd64 is v1,
// arm64 v8 and arm v7 unless stated otherwise, as containerd assumes.
func normVariant(arch, variant string) string {
	if variant != "" {
		return variant
	}
	switch arch {
	case "amd64":
		return "v1"
	case "arm64":
		return "v8"
	case "arm":
		return "v7"
	}
	return ""
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func shownAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shown(s)
	}
	return out
}
