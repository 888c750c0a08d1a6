package redact

import (
	"strings"
	"sync"
	"testing"
)

func TestString(t *testing.T) {
	Add("s3cr3t-exact-value", "abc", "")
	tests := []struct {
		name, in, want string
		// gone must not survive; kept must.
		gone, kept []string
	}{
		{
			name: "header echo body",
			in:   "<html><pre>GET /v2/ HTTP/1.1\r\nHost: reg\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\nUser-Agent: imgsize\r\n</pre></html>",
			want: "<html><pre>GET /v2/ HTTP/1.1\r\nHost: reg\r\nAuthorization: REDACTED\r\nUser-Agent: imgsize\r\n</pre></html>",
		},
		{
			name: "proxy authorization, any case",
			in:   "proxy-authorization: Negotiate YIIabc\nnext",
			want: "proxy-authorization: REDACTED\nnext",
		},
		{
			name: "json header echo",
			in:   `{"headers": {"Authorization": "Bearer eyJhbGciOi.eyJzdWIi.sig", "Accept": "*/*"}}`,
			gone: []string{"eyJhbGciOi"},
		},
		{
			name: "go header map",
			in:   "map[Authorization:[Basic dXNlcjpwYXNz] Accept:[*/*]]",
			gone: []string{"dXNlcjpwYXNz"},
		},
		{
			name: "bearer token in prose",
			in:   "request with Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc failed",
			want: "request with Bearer REDACTED failed",
		},
		{
			name: "basic credential in prose",
			in:   "sent Basic dXNlcjpwYXNz= to the proxy",
			want: "sent Basic REDACTED to the proxy",
		},
		{
			name: "challenge parameters stay",
			in:   `WWW-Authenticate: Bearer realm="https://auth.example/token",service="reg",scope="repository:app:pull"`,
			want: `WWW-Authenticate: Bearer realm="https://auth.example/token",service="reg",scope="repository:app:pull"`,
		},
		{
			name: "prose stays",
			in:   "UNAUTHORIZED: Basic authentication required",
			want: "UNAUTHORIZED: Basic authentication required",
		},
		{
			name: "json token fields",
			in:   `{"token":"tok-1234","access_token": "acc\"ess","refresh_token":"ref","id_token":"idt","password":"pw","secret":"sec","client_secret":"cs","expires_in":300}`,
			want: `{"token":"REDACTED","access_token": "REDACTED","refresh_token":"REDACTED","id_token":"REDACTED","password":"REDACTED","secret":"REDACTED","client_secret":"REDACTED","expires_in":300}`,
		},
		{
			name: "query fields",
			in:   "GET https://auth.example/token?service=reg&access_token=abcdef&password=pw1 failed",
			want: "GET https://auth.example/token?service=REDACTED&access_token=REDACTED&password=REDACTED failed",
		},
		{
			name: "url userinfo",
			in:   `Get "https://bob:hunter2@reg.example/v2/": EOF`,
			want: `Get "https://REDACTED@reg.example/v2/": EOF`,
		},
		{
			name: "url userinfo with @ in the password",
			in:   "http://bob:p@ss@reg.example/v2/",
			want: "http://REDACTED@reg.example/v2/",
		},
		{
			name: "digest after a reference stays",
			in:   "docker://alpine@sha256:" + strings.Repeat("a", 64),
			want: "docker://alpine@sha256:" + strings.Repeat("a", 64),
		},
		{
			name: "multi-line body",
			in:   "line one\nAuthorization: Bearer abc.def.ghi\nline three\ntoken=xyz123\n",
			want: "line one\nAuthorization: REDACTED\nline three\ntoken=REDACTED\n",
		},
		{
			name: "exact secret inside other text",
			in:   "the proxy said:xs3cr3t-exact-valuex.",
			want: "the proxy said:xREDACTEDx.",
		},
		{
			name: "short strings are not registered",
			in:   "abc def",
			want: "abc def",
		},
		{
			name: "nothing to redact",
			in:   "registry 127.0.0.1:5000: blob sha256:ab stalled",
			want: "registry 127.0.0.1:5000: blob sha256:ab stalled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("String(%q) = %q, still contains %q", tt.in, got, g)
				}
			}
		})
	}
}

func TestAddConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Add(strings.Repeat(string(rune('k'+i)), 12))
			_ = String("anything")
		}()
	}
	wg.Wait()
	for i := range 8 {
		s := strings.Repeat(string(rune('k'+i)), 12)
		if got := String("<" + s + ">"); got != "<REDACTED>" {
			t.Errorf("String(<%s>) = %q, want <REDACTED>", s, got)
		}
	}
}

func TestPresignedURL(t *testing.T) {
	in := `Get "https://bucket.s3.example/blobs/ab?X-Amz-Credential=AKIAEXAMPLE%2F20261206&X-Amz-Signature=deadbeef0123&ns=x": read: connection reset`
	got := String(in)
	for _, secret := range []string{"AKIAEXAMPLE", "deadbeef0123"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q still holds %q", got, secret)
		}
	}
	if !strings.Contains(got, "https://bucket.s3.example/blobs/ab?X-Amz-Credential=REDACTED&") || !strings.HasSuffix(got, `": read: connection reset`) {
		t.Errorf("got %q: the URL's path and the message around it must stay", got)
	}
	// A digest reference is not a URL query and stays whole.
	if ref := "registry.example/app@sha256:" + strings.Repeat("a", 64); String(ref) != ref {
		t.Errorf("String(%q) = %q", ref, String(ref))
	}
}
