package source

import "strings"

// Redact removes credentials embedded in a registry argument
// ("user:pass@host/repo"), which is not valid reference syntax but is easy
// to type, so that the argument can be echoed in errors and logs.
func Redact(arg string) string {
	prefix := ""
	if rest, ok := strings.CutPrefix(arg, "docker://"); ok {
		prefix, arg = "docker://", rest
	}
	if hasUserinfo(arg) {
		return prefix + "REDACTED@" + arg[strings.Index(arg, "@")+1:]
	}
	return prefix + arg
}

// hasUserinfo: in a reference, '@' only ever introduces a digest, after
// the repository path; an '@' before the first '/' of a reference that has
// one is a user:password@ prefix.
func hasUserinfo(s string) bool {
	at, slash := strings.Index(s, "@"), strings.Index(s, "/")
	return at >= 0 && slash > at
}
