package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// checkText rejects what the YAML library would reject without saying
// where: text that is not UTF-8, and characters YAML does not allow. Its
// errors name no line; these checks find it.
func (p *parser) checkText(data []byte) error {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return p.errorf(1, "the file is UTF-16; save it as UTF-8")
	}
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return p.errorf(line, "invalid UTF-8: the file must be UTF-8 text")
		case !printable(r):
			return p.errorf(line, "the control character %U is not allowed in YAML", r)
		}
		i += size
		if isBreak(r) && !(r == '\r' && i < len(data) && data[i] == '\n') {
			line++
		}
	}
	return nil
}

// printable is YAML's set of characters allowed in a stream.
func printable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
	case r >= 0x20 && r <= 0x7E:
	case r >= 0xA0 && r <= 0xD7FF:
	case r >= 0xE000 && r <= 0xFFFD:
	case r >= 0x10000 && r <= utf8.MaxRune:
	default:
		return false
	}
	return true
}

// isBreak reports whether r ends a line as the YAML library counts lines
// (YAML 1.1: NEL and the Unicode line and paragraph separators too), so
// that the lines found here match the ones it gives nodes.
func isBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// lineOf returns the 1-based line of data[offset], counted as isBreak does.
func lineOf(data []byte, offset int) int {
	return sort.SearchInts(lineEnds(data), offset+1) + 1
}

// parserProblems are the messages of the YAML library's parser, as opposed
// to its scanner. The library reports the parser's lines counted from 0 and
// the scanner's from 1, so only these need one added.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// Compiled on first use, like sizeRE: only a config file with a YAML
// error needs them.
var (
	lineRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line (\d+): (.*)$`) })
	anchorRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^unknown anchor '(.*)' referenced$`) })
)

// syntaxError rewrites an error of the YAML library ("yaml: line 3: …")
// into this package's form ("NAME:3: …").
func (p *parser) syntaxError(data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineRE().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if m := anchorRE().FindStringSubmatch(msg); m != nil {
		// An alias to no anchor; had the anchor existed, noAliases would
		// still refuse the alias, so say that.
		return p.errorf(aliasLine(data, m[1]), "the alias *%s is not supported: write the value out in full", m[1])
	}
	if parserProblems[msg] {
		line++
	}
	line = problemLine(data, err, line)
	// No line means both the library's marks were on its line 0: the
	// file's first line, as errorf makes it.
	return p.errorf(line, "invalid YAML: %s", msg)
}

// problemLine finds the line an error is about. The library often gives
// the line where something enclosing starts: the collection ("- image: a"
// for an entry whose later key is mis-indented) or the key before a tab.
// The first prefix of whole lines that fails with the very same error ends
// on the line of the token at fault: the library reads tokens in order and
// stops at the bad one. A binary search keeps a large file to a few parses;
// from is the line the library reported.
func problemLine(data []byte, err error, from int) int {
	ends := lineEnds(data)
	same := func(k int) bool {
		e := decodeErr(data[:ends[k-1]])
		return e != nil && e.Error() == err.Error()
	}
	lo, hi := max(from, 1), len(ends)
	if lo > hi || !same(hi) {
		return from
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// decodeErr is the syntax error, if any, that decoding data as the config
// file is decoded meets.
func decodeErr(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for range 2 {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// lineEnds returns the offset just past each line of data: ends[k-1] ends
// line k. A final line without a break ends at len(data).
func lineEnds(data []byte) []int {
	var ends []int
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		i += size
		if isBreak(r) && !(r == '\r' && i < len(data) && data[i] == '\n') {
			ends = append(ends, i)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] < len(data) {
		ends = append(ends, len(data))
	}
	return ends
}

// lastLine is the number of the last line of data that has any text.
func lastLine(data []byte) int {
	return len(lineEnds(data))
}

// aliasLine finds the line of the alias *name, which the library's error
// does not give: the first "*name" not followed by more of a name.
func aliasLine(data []byte, name string) int {
	needle := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return 1
		}
		end := off + i + len(needle)
		if end == len(data) || !anchorChar(data[end]) {
			return lineOf(data, off+i)
		}
		off += i + 1
	}
}

// anchorChar reports whether c can continue an anchor name as the YAML
// library scans one.
func anchorChar(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
