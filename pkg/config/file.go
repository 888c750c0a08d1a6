package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
	"go.yaml.in/yaml/v3"
)

// DefaultPath is the config file imgsize check reads when told of no other.
const DefaultPath = "imgsize.yaml"

// version is the only format version this package reads. A file without
// the key is read as this version; the key is there so that a later format
// can be told apart.
const version = 1

// maxFileSize bounds what Load reads: budgets for hundreds of images fit in
// a fraction of it, and a larger file is not a config file.
const maxFileSize = 1 << 20

// Entry is one image of the config file and the budgets it gives itself.
type Entry struct {
	// Image is the image argument as it would be given on the command
	// line; Lookup matches it exactly.
	Image    string
	Settings Settings
	// Line is the entry's line in the file, for error messages.
	Line int
}

// File is a parsed imgsize.yaml.
type File struct {
	// Path names the file as it was given to Load or Parse.
	Path     string
	Defaults Settings
	// Patterns are defaults for the images whose argument matches, in file
	// order: laid over Defaults, under an image's own entry.
	Patterns []Pattern
	// Images are the file's entries in file order, each image once.
	Images []Entry
}

// Pattern gives settings to every image whose argument matches Match, a
// glob where * is any run of characters (/ and : included) and ? any one.
type Pattern struct {
	Match    string
	Settings Settings
	Line     int
	re       *regexp.Regexp
}

// Matches reports whether image is one of the pattern's.
func (p Pattern) Matches(image string) bool { return p.re.MatchString(image) }

// globRegexp turns a pattern into an anchored regular expression.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// Base returns the settings an image gets before its own entry: the
// defaults, with each matching pattern laid over them in file order.
func (f *File) Base(image string) Settings {
	s := f.Defaults
	for _, p := range f.Patterns {
		if p.Matches(image) {
			s = s.Over(p.Settings)
		}
	}
	return s
}

// Load reads and parses the config file at path. Every error, a missing
// file included (reading config imgsize.yaml: no such file or directory;
// errors.Is fs.ErrNotExist holds), wraps errdefs.ErrUsage: the file is part
// of how imgsize was called.
func Load(path string, opts ...Option) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, readError(path, err)
	}
	if len(data) > maxFileSize {
		return nil, usagef("reading config %s: larger than %d KiB, too large for a config file", path, maxFileSize>>10)
	}
	return Parse(path, data, opts...)
}

// readError reports a failure to read the config file. The path is said
// once: the *PathError's own "open PATH:" would repeat it.
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return errdefs.UsageError(fmt.Errorf("reading config %s: %w", path, err))
}

// Parse parses the contents of a config file; name, the file's name as the
// user knows it, starts every error message ("imgsize.yaml:7: …", with the
// line at fault). An empty file is valid and sets nothing. Every error wraps
// errdefs.ErrUsage.
func Parse(name string, data []byte, opts ...Option) (*File, error) {
	p := &parser{name: name, last: lastLine(data)}
	for _, o := range opts {
		o(p)
	}
	root, err := p.decode(data)
	if err != nil {
		return nil, err
	}
	f := &File{Path: name}
	if root == nil {
		return f, nil
	}
	if err := p.noAliases(root); err != nil {
		return nil, err
	}
	if err := p.expand(root); err != nil {
		return nil, err
	}
	if err := p.file(root, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Lookup returns the entry whose Image is image, compared exactly: the
// config names an image the way the command line does.
func (f *File) Lookup(image string) (Entry, bool) {
	for _, e := range f.Images {
		if e.Image == image {
			return e, true
		}
	}
	return Entry{}, false
}

// Settings returns the settings that apply to entry e: the file's defaults
// and matching patterns with e's own laid over them.
func (f *File) Settings(e Entry) Settings {
	return f.Base(e.Image).Over(e.Settings)
}

// parser turns a YAML node tree into a File, naming the file and the line
// of the node at fault in every error.
type parser struct {
	name string
	// last is the file's last line with text. The library puts a value
	// missing at the end of the file on the line after it.
	last int
	// lookup reads the environment for ${VAR}; nil: os.LookupEnv.
	lookup func(string) (string, bool)
}

func (p *parser) errorf(line int, format string, args ...any) error {
	line = min(max(line, 1), max(p.last, 1))
	return errdefs.UsageError(fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...)))
}

// decode returns the file's one document's root node, nil for a file with
// no content (empty, only comments, or a lone null).
func (p *parser) decode(data []byte) (*yaml.Node, error) {
	if err := p.checkText(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, p.syntaxError(data, err)
	}
	// A second document would be silently ignored by a single Decode; the
	// budgets in it would look applied and never be.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, p.syntaxError(data, err)
	default:
		return nil, p.errorf(next.Line, "a second YAML document starts here; the config is one document")
	}
	if len(doc.Content) != 1 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// noAliases rejects every alias before anything reads the tree. Expanding
// them is how a small file becomes a huge one (billion laughs); a config of
// a few budgets has no need to share nodes.
func (p *parser) noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return p.errorf(n.Line, "the alias *%s is not supported: write the value out in full", n.Value)
	}
	for _, c := range n.Content {
		if err := p.noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	fileKeys    = []string{"version", "defaults", "patterns", "images"}
	entryKeys   = append([]string{keyImage}, settingKeys...)
	patternKeys = append([]string{keyMatch}, settingKeys...)
)

func (p *parser) file(root *yaml.Node, f *File) error {
	if root.Kind != yaml.MappingNode {
		return p.errorf(root.Line, "expected a mapping of %s, found %s", strings.Join(fileKeys, ", "), describe(root))
	}
	return p.mapping(root, "", fileKeys, func(key string, v *yaml.Node) error {
		switch key {
		case "version":
			if isNull(v) {
				return p.errorf(v.Line, "version: no value (write version: %d, or leave it out)", version)
			}
			if v.Kind != yaml.ScalarNode || v.Value != strconv.Itoa(version) {
				return p.errorf(v.Line, "version: %s is not supported (this imgsize reads version %d)", describe(v), version)
			}
			return nil
		case "defaults":
			if isNull(v) {
				return nil
			}
			if v.Kind != yaml.MappingNode {
				return p.errorf(v.Line, "defaults: expected a mapping of budgets (%s), found %s", strings.Join(settingKeys, ", "), describe(v))
			}
			s, _, err := p.settings(v, "defaults", settingKeys)
			f.Defaults = s
			return err
		case "patterns":
			return p.patterns(v, f)
		default: // images
			return p.images(v, f)
		}
	})
}

// keyMatch names a patterns entry's glob.
const keyMatch = "match"

func (p *parser) patterns(v *yaml.Node, f *File) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return p.errorf(v.Line, "patterns: expected a list, each a mapping with match (a glob such as ghcr.io/org/*-worker:*) and budgets, found %s", describe(v))
	}
	for _, item := range v.Content {
		if item.Kind != yaml.MappingNode {
			return p.errorf(item.Line, "patterns: expected a mapping with match and budgets, found %s", describe(item))
		}
		var match *yaml.Node
		var rest []*yaml.Node
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Value == keyMatch {
				match = item.Content[i+1]
				continue
			}
			rest = append(rest, item.Content[i], item.Content[i+1])
		}
		if match == nil || match.Kind != yaml.ScalarNode || strings.TrimSpace(match.Value) == "" {
			return p.errorf(item.Line, "patterns entry without match: each entry names a glob (match: ghcr.io/org/*-worker:*)")
		}
		settingsNode := &yaml.Node{Kind: yaml.MappingNode, Line: item.Line, Content: rest}
		s, _, err := p.settings(settingsNode, "a patterns entry", patternKeys)
		if err != nil {
			return err
		}
		f.Patterns = append(f.Patterns, Pattern{Match: match.Value, Settings: s, Line: item.Line, re: globRegexp(match.Value)})
	}
	return nil
}

func (p *parser) images(v *yaml.Node, f *File) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return p.errorf(v.Line, "images: expected a list of images, each a mapping with image and its budgets, found %s", describe(v))
	}
	lines := map[string]int{}
	for _, item := range v.Content {
		if item.Kind != yaml.MappingNode {
			return p.errorf(item.Line, "images: expected a mapping with image and its budgets, found %s", describe(item))
		}
		s, img, err := p.settings(item, "an images entry", entryKeys)
		if err != nil {
			return err
		}
		if img == nil {
			return p.errorf(item.Line, "images entry without image: each entry names its image (image: docker://registry/app:tag)")
		}
		e := Entry{Image: *img, Settings: s, Line: item.Line}
		if first, ok := lines[e.Image]; ok {
			return p.errorf(e.Line, "image %q is listed twice, on lines %d and %d: give each image one entry", source.Redact(e.Image), first, e.Line)
		}
		lines[e.Image] = e.Line
		f.Images = append(f.Images, e)
	}
	return nil
}

// settings reads the budgets of m, a mapping whose keys must be among
// known, and its image if known allows one; where names m in messages.
func (p *parser) settings(m *yaml.Node, where string, known []string) (Settings, *string, error) {
	var s Settings
	var image *string
	err := p.mapping(m, where, known, func(key string, v *yaml.Node) error {
		if key == keyImage {
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || strings.TrimSpace(v.Value) == "" {
				return p.errorf(v.Line, "image: expected an image such as docker://registry/app:tag, found %s", describe(v))
			}
			image = &v.Value
			return nil
		}
		if key == keyPlatforms && v.Kind == yaml.SequenceNode {
			return p.platformList(v, &s)
		}
		if key == analysis.ForbidPackage && v.Kind == yaml.SequenceNode {
			return p.stringList(v, key, func(parts []string) error {
				gs, err := ParseForbidPackages(strings.Join(parts, ","))
				s.ForbidPackages = &gs
				return err
			})
		}
		if key == analysis.MaxPackageBytes && v.Kind == yaml.MappingNode {
			return p.packageLimits(v, &s)
		}
		if v.Kind != yaml.ScalarNode {
			return p.errorf(v.Line, "%s: expected %s, found %s", key, expected[key], describe(v))
		}
		if isNull(v) {
			if key == keyWarnAt {
				return p.errorf(v.Line, "%s: no value (write %s)", key, expected[key])
			}
			return p.errorf(v.Line, "%s: no value (write %s, or none)", key, expected[key])
		}
		text := v.Value
		if key != keyWarnAt && strings.EqualFold(strings.TrimSpace(text), "none") {
			if s.Cleared == nil {
				s.Cleared = map[string]bool{}
			}
			s.Cleared[key] = true
			return nil
		}
		var err error
		switch key {
		case analysis.MaxCompressed:
			s.MaxCompressed, err = parsePtr(text, ParseSize)
		case analysis.MaxUncompressed:
			s.MaxUncompressed, err = parsePtr(text, ParseSize)
		case analysis.MaxLayers:
			s.MaxLayers, err = parsePtr(text, ParseLayers)
		case analysis.MaxGrowth:
			s.MaxGrowth, err = parsePtr(text, ParseGrowth)
		case analysis.LowestEfficiency:
			s.LowestEfficiency, err = parsePtr(text, ParseRatio)
		case analysis.HighestWastedBytes:
			s.HighestWastedBytes, err = parsePtr(text, ParseSize)
		case analysis.HighestUserWastedPercent:
			s.HighestUserWastedPercent, err = parsePtr(text, ParseRatio)
		case analysis.MaxReclaimable:
			s.MaxReclaimable, err = parsePtr(text, ParseSize)
		case analysis.MaxIndexCompressed:
			s.MaxIndexCompressed, err = parsePtr(text, ParseSize)
		case analysis.ForbidPackage:
			s.ForbidPackages, err = parsePtr(text, ParseForbidPackages)
		case analysis.MaxPackageBytes:
			s.MaxPackageBytes, err = parsePtr(text, ParsePackageLimits)
		case keyPlatforms:
			s.Platforms, err = parsePtr(text, ParsePlatforms)
		case keyGrowthBasis:
			s.GrowthBasis, err = parsePtr(text, ParseBasis)
		case keyWarnAt:
			s.WarnAt, err = parsePtr(text, ParseFraction)
		case keyBaseline:
			if v.ShortTag() != "!!str" || strings.TrimSpace(text) == "" {
				return p.errorf(v.Line, "baseline: expected %s, found %s", expected[key], describe(v))
			}
			s.Baseline = &text
		}
		if err != nil {
			return p.errorf(v.Line, "%s: %v", key, err)
		}
		return nil
	})
	return s, image, err
}

// expected says, for each setting, what its value is written as.
var expected = map[string]string{
	analysis.MaxCompressed:            "a size such as 50MB",
	analysis.MaxUncompressed:          "a size such as 200MiB",
	analysis.MaxLayers:                "a number of layers such as 20",
	analysis.MaxGrowth:                "a growth limit such as 5% or 10MB",
	keyGrowthBasis:                    "compressed or uncompressed",
	analysis.LowestEfficiency:         "dive's efficiency as a ratio such as 0.9",
	analysis.HighestWastedBytes:       "a size such as 20MB",
	analysis.HighestUserWastedPercent: "a ratio of wasted to user bytes such as 0.2",
	analysis.MaxReclaimable:           "a size such as 50MB",
	keyWarnAt:                         "a fraction of the limit such as 90% or 0.9, or off",
	keyBaseline:                       "the image or report to measure growth against, such as baseline.json",
	analysis.MaxIndexCompressed:       "a size such as 100MB",
	keyPlatforms:                      "all, or platforms such as linux/amd64,linux/arm64",
	analysis.ForbidPackage:            "package name globs such as gcc*,make or a list of them",
	analysis.MaxPackageBytes:          "a mapping of package names to sizes such as {libc6: 20MB}, or NAME=SIZE,…",
}

// ParseForbidPackages reads forbid-package: globs of package names
// (* any run of characters, ? one) joined by commas.
func ParseForbidPackages(s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		out = append(out, part)
	}
	if len(out) == 0 {
		return nil, usagef("%q names no package (write globs such as gcc*,make)", s)
	}
	return out, nil
}

// ParsePackageLimits reads max-package-bytes: NAME=SIZE pairs joined by
// commas, each SIZE as ParseSize reads it.
func ParsePackageLimits(s string) ([]analysis.PackageLimit, error) {
	var out []analysis.PackageLimit
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, size, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, usagef("%q is not NAME=SIZE (such as libc6=20MB)", part)
		}
		n, err := ParseSize(strings.TrimSpace(size))
		if err != nil {
			return nil, err
		}
		out = append(out, analysis.PackageLimit{Name: name, Bytes: n})
	}
	if len(out) == 0 {
		return nil, usagef("%q limits no package (write NAME=SIZE such as libc6=20MB)", s)
	}
	return out, nil
}

// stringList reads a YAML list of scalars for key and hands them to set.
func (p *parser) stringList(v *yaml.Node, key string, set func([]string) error) error {
	if len(v.Content) == 0 {
		return p.errorf(v.Line, "%s: an empty list (write %s)", key, expected[key])
	}
	var parts []string
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return p.errorf(item.Line, "%s: expected %s, found %s", key, expected[key], describe(item))
		}
		parts = append(parts, item.Value)
	}
	if err := set(parts); err != nil {
		return p.errorf(v.Line, "%s: %v", key, err)
	}
	return nil
}

// packageLimits reads max-package-bytes written as a mapping of package
// names to sizes.
func (p *parser) packageLimits(v *yaml.Node, s *Settings) error {
	var ls []analysis.PackageLimit
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" || val.Kind != yaml.ScalarNode || isNull(val) {
			return p.errorf(k.Line, "%s: expected %s", analysis.MaxPackageBytes, expected[analysis.MaxPackageBytes])
		}
		n, err := ParseSize(val.Value)
		if err != nil {
			return p.errorf(val.Line, "%s: %s: %v", analysis.MaxPackageBytes, k.Value, err)
		}
		ls = append(ls, analysis.PackageLimit{Name: strings.TrimSpace(k.Value), Bytes: n})
	}
	if len(ls) == 0 {
		return p.errorf(v.Line, "%s: an empty mapping (write %s)", analysis.MaxPackageBytes, expected[analysis.MaxPackageBytes])
	}
	s.MaxPackageBytes = &ls
	return nil
}

// ParsePlatforms reads platforms: "all", or os/arch[/variant] values
// joined by commas; it returns them as --platform takes them.
func ParsePlatforms(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "all" {
		return t, nil
	}
	parts := strings.Split(t, ",")
	for i, part := range parts {
		if _, err := source.ParsePlatform(strings.TrimSpace(part)); err != nil {
			return "", err
		}
		parts[i] = strings.TrimSpace(part)
	}
	return strings.Join(parts, ","), nil
}

// platformList reads platforms written as a YAML list.
func (p *parser) platformList(v *yaml.Node, s *Settings) error {
	if len(v.Content) == 0 {
		return p.errorf(v.Line, "platforms: an empty list (write %s)", expected[keyPlatforms])
	}
	var parts []string
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return p.errorf(item.Line, "platforms: expected a platform such as linux/arm64, found %s", describe(item))
		}
		parts = append(parts, item.Value)
	}
	text, err := ParsePlatforms(strings.Join(parts, ","))
	if err != nil {
		return p.errorf(v.Line, "platforms: %v", err)
	}
	if text == "all" && len(parts) > 1 {
		return p.errorf(v.Line, "platforms: all stands alone")
	}
	s.Platforms = &text
	return nil
}

func parsePtr[T any](s string, parse func(string) (T, error)) (*T, error) {
	v, err := parse(s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ParseLayers reads max-layers: a whole number, 0 allowed (an image of
// no layers).
func ParseLayers(s string) (int, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, usagef("%q is not a number of layers: it cannot be negative", s)
	}
	n, err := strconv.Atoi(t)
	if err != nil || strings.HasPrefix(t, "+") {
		return 0, usagef("%q is not a number of layers (write a whole number such as 20)", s)
	}
	return n, nil
}

// mapping calls fn on each key and value of m in order, after checking
// the key is a plain string among known and not given before.
func (p *parser) mapping(m *yaml.Node, where string, known []string, fn func(key string, v *yaml.Node) error) error {
	in := ""
	if where != "" {
		in = " in " + where
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errorf(k.Line, "expected a key%s, found %s", in, describe(k))
		}
		if k.ShortTag() == "!!merge" {
			return p.errorf(k.Line, "merge keys (<<) are not supported%s: write the keys out", in)
		}
		key := k.Value
		if !slices.Contains(known, key) {
			if key == keyImage && where == "defaults" {
				return p.errorf(k.Line, "image in defaults: defaults apply to every image; name an image in an entry of images")
			}
			return p.errorf(k.Line, "unknown key %q%s (known keys: %s)", key, in, strings.Join(known, ", "))
		}
		if first, ok := seen[key]; ok {
			return p.errorf(k.Line, "%s is given twice%s, on lines %d and %d", key, in, first, k.Line)
		}
		seen[key] = k.Line
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, found Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	default:
		return "an alias"
	}
}
