package source

import (
	"regexp"
	"strings"
	"sync"
)

// digestSuffix is the only place an '@' may appear in a reference.
var digestSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$`)
})

// userinfoEnd returns the index just past the last '@' of a
// user[:password]@ prefix in a registry argument, or -1. Any '@' that does
// not introduce the trailing digest is one: hosts and repositories never
// contain '@', while passwords may, so the prefix ends at the last such '@'.
func userinfoEnd(s string) int {
	s = strings.TrimPrefix(s, "docker://")
	if loc := digestSuffix().FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	return strings.LastIndex(s, "@") + 1
}

// hasUserinfo reports whether a registry argument embeds credentials.
func hasUserinfo(s string) bool { return userinfoEnd(s) > 0 }

// Redact removes credentials embedded in a registry argument
// ("user:pass@host/repo"), which is not reference syntax but is easy to
// type, so that the argument can be echoed in errors and logs. Arguments
// naming local files are returned as they are.
func Redact(arg string) string {
	if isLocalTransport(arg) {
		return arg
	}
	end := userinfoEnd(arg)
	if end == 0 {
		return arg
	}
	prefix := ""
	if strings.HasPrefix(arg, "docker://") {
		prefix = "docker://"
	}
	return prefix + "REDACTED@" + strings.TrimPrefix(arg, prefix)[end:]
}

func isLocalTransport(arg string) bool {
	for _, t := range []Transport{DockerArchive, OCI, OCIArchive, Dir, Report} {
		if strings.HasPrefix(arg, string(t)+":") {
			return true
		}
	}
	return false
}
