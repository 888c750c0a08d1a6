package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every string a report prints may come from outside imgsize: an image's
// name and history, a tar's paths, a registry's error, a saved report. A
// terminal obeys the controls in it (ESC sequences retitle the window or
// clear the screen, a carriage return or newline lets it forge a line such
// as "imgsize: ok"), and Unicode bidi and format characters make text read
// other than it is. So each format passes outside text through one step
// before it is written:
//
//   - text and Markdown: the table cell writers and errWriter.line apply
//     Terminal to every cell and line;
//   - CSV: csvWriter applies Terminal to every field (encoding/csv would
//     quote a newline validly, but a CSV is also read with cat);
//   - JUnit: every attribute and line of a body (junit.go);
//   - GitHub workflow commands: Terminal but for CR and LF, which the
//     runner's own escapes carry as %0D and %0A (github.go);
//   - JSON keeps every string exactly: encoding/json escapes C0 controls,
//     and writeJSON escapes the few it leaves raw, which decode the same.

// Terminal returns s fit to print on a terminal or in a CI log: control
// characters (C0, DEL, C1: ESC, BEL, CR, LF, TAB…), Unicode format
// characters (bidi overrides and isolates such as U+202E and U+2066–U+2069,
// U+200E/F marks, zero-width spaces and joiners, U+FEFF) and line and
// paragraph separators are written as Go escapes ("\x1b", "\n", "\u202e"),
// and bytes that are not UTF-8 as "\xff". Other text, backslashes
// included, is left as it is, so s comes back unchanged when it holds none
// of these.
func Terminal(s string) string { return escapeUnsafe(s, false) }

// escapeUnsafe is Terminal; with keepNewlines it leaves CR and LF for the
// caller to escape its own way.
func escapeUnsafe(s string, keepNewlines bool) string {
	i := unsafeIndex(s, keepNewlines)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case keepNewlines && (r == '\n' || r == '\r'):
			b.WriteRune(r)
		case unsafeRune(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeIndex is the byte index of the first rune Terminal rewrites, or -1.
func unsafeIndex(s string, keepNewlines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(keepNewlines && (c == '\n' || c == '\r')) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune reports whether a terminal or a text renderer may act on r
// rather than show it.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// escapeRune writes r as Go writes it in a quoted string.
func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	switch {
	case r < utf8.RuneSelf:
		return `\x` + hex2(byte(r))
	case r <= 0xffff:
		return `\u` + pad(strconv.FormatInt(int64(r), 16), 4)
	default:
		return `\U` + pad(strconv.FormatInt(int64(r), 16), 8)
	}
}

func hex2(c byte) string { return pad(strconv.FormatInt(int64(c), 16), 2) }

func pad(s string, n int) string { return strings.Repeat("0", max(0, n-len(s))) + s }

// csvWriter is encoding/csv's writer with Terminal applied to every field,
// and with text that a spreadsheet would run as a formula defused.
type csvWriter struct{ *csv.Writer }

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{csv.NewWriter(w)} }

// Write writes one record, each field made safe to print.
func (c *csvWriter) Write(record []string) error {
	safe := make([]string, len(record))
	for i, f := range record {
		safe[i] = noFormula(Terminal(f))
	}
	return c.Writer.Write(safe)
}

// noFormula prefixes with an apostrophe a field that a spreadsheet would
// evaluate: one that starts with = + - @ (OWASP's CSV injection list; tab
// and CR are escaped by Terminal already) and is not a plain number. An
// image's history or a path such as "=HYPERLINK(…)" then shows as text
// when the report is opened in Excel or LibreOffice, while deltas such as
// -1234 and +5.2 stay numbers.
func noFormula(f string) string {
	if f == "" || !strings.ContainsRune("=+-@", rune(f[0])) || plainNumber().MatchString(f) {
		return f
	}
	return "'" + f
}

// plainNumber is compiled on first use, like colorRules: only CSV needs it.
var plainNumber = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?%?$`) })

// jsonSafe rewrites the encoded JSON doc so that no rune a terminal acts
// on is left raw: encoding/json escapes C0 controls but writes DEL, C1
// controls and format characters (U+202E…) as they are. Outside strings
// JSON text is ASCII punctuation and blanks, so every such rune is inside
// a string, where a \u escape decodes to the same rune: the data is
// unchanged.
func jsonSafe(doc []byte) []byte {
	if !bytes.ContainsFunc(doc, func(r rune) bool { return r == 0x7f || (r >= utf8.RuneSelf && unsafeRune(r)) }) {
		return doc
	}
	var b bytes.Buffer
	b.Grow(len(doc) + 16)
	for i := 0; i < len(doc); {
		r, size := utf8.DecodeRune(doc[i:])
		if r == 0x7f || (r >= utf8.RuneSelf && unsafeRune(r)) {
			units := []rune{r}
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				units = []rune{hi, lo}
			}
			for _, u := range units {
				b.WriteString(`\u` + pad(strconv.FormatInt(int64(u), 16), 4))
			}
		} else {
			b.Write(doc[i : i+size])
		}
		i += size
	}
	return b.Bytes()
}

// mdEntity matches what Markdown would read as an HTML entity reference
// ("&lt;", "&#60;", "&#x3c;"), which would show as another character.
func mdEntity(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && i+1 < len(s) && (s[i+1] == '#' || isAlnum(s[i+1])) {
			b.WriteString(`\&`)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
