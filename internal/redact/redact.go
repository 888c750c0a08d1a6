// Package redact removes credentials from text before it reaches a
// terminal, a log or a CI annotation.
//
// It sits beside the data flow: registry error bodies (which proxies and
// WAF pages fill with echoed request headers), error messages and URLs
// pass through String wherever imgsize prints what others wrote. The
// patterns catch credentials by their shape; Add registers the exact
// strings a keychain handed out, for those no shape describes.
package redact

import (
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every secret.
const mask = "REDACTED"

// patterns are compiled on first use, not at start-up: most runs print no
// error and redact nothing, and compiling these eight cost every run of
// imgsize about 65 KB in 400 allocations before main.
var patterns = sync.OnceValue(func() *compiled {
	return &compiled{
		// Header values, to the end of the line: "Authorization: Basic …",
		// JSON echoes ("Authorization": "…") and Go's map[Authorization:[…]].
		authHeader: regexp.MustCompile(`(?i)\b((?:proxy-)?authorization)("?\s*[:=]\s*)[^\r\n]*`),
		// A scheme and its credential anywhere else.
		schemeToken: regexp.MustCompile(`\b([Bb]asic|[Bb]earer)(\s+)([A-Za-z0-9+/._~-]+=*)`),
		// Token-like JSON fields: "token": "…".
		jsonField: regexp.MustCompile(`(?i)("(?:token|access_token|refresh_token|id_token|identitytoken|registrytoken|password|secret|client_secret|auth)"\s*:\s*")(?:[^"\\]|\\.)*"`),
		// Token-like query or form fields: token=…
		queryField: regexp.MustCompile(`(?i)\b((?:token|access_token|refresh_token|id_token|password|secret|client_secret)=)[^&\s"'<>;,]+`),
		// user[:password]@ after a URL scheme.
		urlUserinfo: regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)([^/\s]+)@`),
		// What may follow '@' in a reference rather than a URL's host: a digest.
		digestStart: regexp.MustCompile(`^[a-z0-9]+:[a-fA-F0-9]{32,}`),
		// The query of a URL: pre-signed object-storage URLs
		// (X-Amz-Signature, X-Amz-Credential, sig, Policy…), which a
		// registry's redirect puts in Go's "Get \"https://…\"" errors, grant
		// read access to the blob, so every value is masked, as
		// go-containerregistry's own transport errors do.
		urlQuery:   regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>?#]*\?[^\s"'<>#]*`),
		queryValue: regexp.MustCompile(`=[^&;]*`),
	}
})

type compiled struct {
	authHeader, schemeToken, jsonField, queryField, urlUserinfo, digestStart, urlQuery, queryValue *regexp.Regexp
}

// String returns s with secrets replaced by "REDACTED": values of Authorization / Proxy-Authorization headers (to end of line), "Basic <b64>" and "Bearer <token>", token-like JSON or query fields (token, access_token, refresh_token, id_token, password, secret, client_secret), user:password@ in URLs, and every exact string registered with Add.
func String(s string) string {
	if r := exact.Load(); r != nil {
		s = r.Replace(s)
	}
	p := patterns()
	s = p.authHeader.ReplaceAllString(s, "${1}${2}"+mask)
	s = replaceSchemeTokens(s)
	s = p.jsonField.ReplaceAllString(s, `${1}`+mask+`"`)
	s = p.queryField.ReplaceAllString(s, "${1}"+mask)
	s = replaceUserinfo(s)
	s = p.urlQuery.ReplaceAllStringFunc(s, maskQuery)
	return s
}

func maskQuery(u string) string {
	i := strings.IndexByte(u, '?')
	return u[:i+1] + patterns().queryValue.ReplaceAllString(u[i+1:], "="+mask)
}

// replaceSchemeTokens masks the credential after Basic or Bearer, but not
// an auth challenge's parameters (Bearer realm="…") nor prose ("Basic
// authentication"): a credential is base64 or a token, so it carries a
// digit, an upper-case letter, punctuation or padding.
func replaceSchemeTokens(s string) string {
	return maskGroup(s, patterns().schemeToken, 3, func(start, end int) bool {
		return !(end < len(s) && s[end] == '"') && credentialShaped(s[start:end])
	})
}

func credentialShaped(tok string) bool {
	if tok == mask || len(tok) < 6 {
		return false
	}
	return strings.ContainsFunc(tok, func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || strings.ContainsRune("+/._~-=", r)
	})
}

// replaceUserinfo masks user:password@ in URLs, leaving a reference's
// name@sha256:… alone.
func replaceUserinfo(s string) string {
	return maskGroup(s, patterns().urlUserinfo, 2, func(start, end int) bool {
		return !patterns().digestStart.MatchString(s[end+1:]) || strings.Contains(s[start:end], "@")
	})
}

// maskGroup replaces capture group g of each match of re in s with the
// mask, where secret says the group's text at [start, end) is one.
func maskGroup(s string, re *regexp.Regexp, g int, secret func(start, end int) bool) string {
	locs := re.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		start, end := l[2*g], l[2*g+1]
		if start < 0 || !secret(start, end) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(mask)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

var (
	mu         sync.Mutex
	registered = map[string]struct{}{}
	exact      atomic.Pointer[strings.Replacer]
)

// Add registers exact credential strings (process-wide, safe for concurrent use); strings shorter than 4 bytes are ignored (they would redact ordinary words), empty ones too.
func Add(secrets ...string) {
	mu.Lock()
	defer mu.Unlock()
	added := false
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		if _, ok := registered[s]; !ok {
			registered[s] = struct{}{}
			added = true
		}
	}
	if !added {
		return
	}
	// Longest first: a secret that contains another is masked whole.
	all := make([]string, 0, len(registered))
	for s := range registered {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, mask)
	}
	exact.Store(strings.NewReplacer(pairs...))
}
