package packages

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxField bounds a name or version: no real one is longer.
const maxField = 256

// Clean makes a name or version from a database fit for a report: runes
// that are not printable (controls, format characters such as bidi
// overrides, invalid UTF-8) are dropped, surrounding space is trimmed, and
// the result is at most 256 bytes.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxField {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanText is Clean without its length bound, for notes: one line of
// printable text.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			if r == '\n' || r == '\t' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
}

// cleanPath makes a path from a database relative and clean: "/usr/bin/"
// is "usr/bin"; "" for the root or nothing.
func cleanPath(p string) string {
	p = path.Clean("/" + strings.TrimSpace(p))
	return p[1:]
}

// lines calls fn for each line of b, without its end of line.
func lines(b []byte, fn func(line string)) {
	s := string(b)
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		fn(strings.TrimSuffix(line, "\r"))
	}
}
