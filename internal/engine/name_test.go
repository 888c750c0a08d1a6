package engine

import (
	"strings"
	"testing"
)

// TestCheckNameLength: a name is one character of [A-Za-z0-9] and up to
// 511 more of the reference alphabet; the length is checked apart from
// the pattern.
func TestCheckNameLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"alpine:3.20", true},
		{"a" + strings.Repeat("b", 511), true},
		{"a" + strings.Repeat("b", 512), false},
		{"", false},
		{"-x", false},
		{"a b", false},
		{"a/../b", false},
		{"localhost:5000/app@sha256:" + strings.Repeat("0", 64), true},
	} {
		if err := checkName(tc.name); (err == nil) != tc.ok {
			t.Errorf("checkName(%.20q… %d bytes) = %v, want ok %v", tc.name, len(tc.name), err, tc.ok)
		}
	}
}
