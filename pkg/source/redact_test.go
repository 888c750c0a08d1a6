package source

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bob:hunter2@127.0.0.1:5000/x:y", "REDACTED@127.0.0.1:5000/x:y"},
		{"docker://bob:hunter2@reg.example/app", "docker://REDACTED@reg.example/app"},
		{"bob@reg.example/app", "REDACTED@reg.example/app"},
		// Digests keep their '@': it follows the repository path.
		{"alpine@sha256:" + strings.Repeat("a", 64), "alpine@sha256:" + strings.Repeat("a", 64)},
		{"library/alpine:3@sha256:" + strings.Repeat("b", 64), "library/alpine:3@sha256:" + strings.Repeat("b", 64)},
		{"localhost:5000/app@sha256:" + strings.Repeat("c", 64), "localhost:5000/app@sha256:" + strings.Repeat("c", 64)},
		{"oci:/tmp/x:tag", "oci:/tmp/x:tag"},
		{"oci:/tmp/a@b:tag", "oci:/tmp/a@b:tag"},
		// No '/' after the credentials, a '/' or an '@' inside the password.
		{"docker://user:hunter2@alpine", "docker://REDACTED@alpine"},
		{"user:hunter2@alpine", "REDACTED@alpine"},
		{"user:pa/hunter2@host.invalid/repo", "REDACTED@host.invalid/repo"},
		{"docker://user:p@hunter2@host.invalid/repo", "docker://REDACTED@host.invalid/repo"},
		{"user:hunter2@host/app@sha256:" + strings.Repeat("d", 64), "REDACTED@host/app@sha256:" + strings.Repeat("d", 64)},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(Redact(tt.in), "hunter2") {
			t.Errorf("Redact(%q) leaks the password", tt.in)
		}
	}
}
