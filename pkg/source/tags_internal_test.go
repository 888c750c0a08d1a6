package source

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidTag holds validTag to the distribution spec's tag grammar,
// written as the spec writes it, on names at and around each of its edges.
func TestValidTag(t *testing.T) {
	grammar := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	names := []string{"", "a", "_", ".", "-", "v1.0", "v1.0-rc.1", "latest", "a b", "a/b", "a:b", "é", "A_Z.9-",
		".hidden", "-dash", "x\n", "\x00", strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129)}
	// Every byte in first and in later position.
	for c := range 256 {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}), string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validTag(n), grammar.MatchString(n); got != want {
			t.Errorf("validTag(%q) = %v, the grammar says %v", n, got, want)
		}
	}
}

// TestLooksLikeTagOrPort holds looksLikeTagOrPort to the grammar it
// replaced, written as a regexp: a tag or a port and path, then an
// optional sha256 digest.
func TestLooksLikeTagOrPort(t *testing.T) {
	grammar := regexp.MustCompile(`^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|[0-9]+(/.*)?)(@sha256:[a-f0-9]{64})?$`)
	digest := "@sha256:" + strings.Repeat("ab", 32)
	var names []string
	for _, base := range []string{"", "v1", "v1.0-rc", "5000", "5000/app", "5000/", "/app", "app/x", "-x", ".x", "x y",
		strings.Repeat("1", 200), strings.Repeat("a", 128), strings.Repeat("a", 129), "5000/a@b", "Ünïcode"} {
		for _, suffix := range []string{"", digest, "@sha256:" + strings.Repeat("AB", 32), "@sha256:abc", "@md5:" + strings.Repeat("a", 64), "@"} {
			names = append(names, base+suffix)
		}
	}
	for _, n := range names {
		if got, want := looksLikeTagOrPort(n), grammar.MatchString(n); got != want {
			t.Errorf("looksLikeTagOrPort(%q) = %v, the grammar says %v", n, got, want)
		}
	}
}
