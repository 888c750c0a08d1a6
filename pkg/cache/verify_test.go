package cache_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/cache"
)

// stored is an entry file's JSON, written independently of the package's
// own types so a test can forge any of it.
type stored struct {
	Version      int    `json:"version"`
	Digest       string `json:"digest"`
	Uncompressed int64  `json:"uncompressed"`
	Provenance   string `json:"provenance"`
	Reason       string `json:"reason,omitempty"`
	Checksum     string `json:"checksum"`
}

// forge encodes e as the entry of h at version ver with a checksum that
// matches: only the field checks can refuse it.
func forge(h v1.Hash, ver int, e cache.Entry) []byte {
	b, _ := json.Marshal(stored{ver, h.String(), e.Uncompressed, e.Provenance, e.Reason, cache.Checksum(h, ver, e)})
	return b
}

// TestEntryVerification: every way an entry file can lie is a miss, and
// the next Put repairs it. Each case starts from a valid entry of h (and
// one of another digest, other) and replaces h's file.
func TestEntryVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// bad returns what to write to h's entry file, given the current
		// file's bytes, h and the valid file of another digest.
		bad func(t *testing.T, valid []byte, h v1.Hash, other []byte) []byte
	}{
		{"unknown provenance, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 4096, Provenance: "guessed"})
		}},
		{"non-cacheable provenance estimated", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 4096, Provenance: "estimated"})
		}},
		{"edited number, stale checksum", func(t *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			var s stored
			if err := json.Unmarshal(valid, &s); err != nil {
				t.Fatal(err)
			}
			s.Uncompressed *= 2
			b, _ := json.Marshal(s)
			return b
		}},
		{"edited provenance, stale checksum", func(t *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			return []byte(strings.Replace(string(valid), `"exact"`, `"zstd-header"`, 1))
		}},
		{"maximal number, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: math.MaxInt64, Provenance: "exact"})
		}},
		{"just over 1 PiB, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 1<<50 + 1, Provenance: "zstd-header"})
		}},
		{"gzip trailer of 4 GiB, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 1 << 32, Provenance: "gzip-trailer"})
		}},
		{"negative number, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: -1, Provenance: "exact"})
		}},
		{"reason with control characters, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 4096, Provenance: "exact", Reason: "read whole\x1b[31m\n"})
		}},
		{"overlong reason, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version, cache.Entry{Uncompressed: 4096, Provenance: "exact", Reason: strings.Repeat("x", cache.MaxReason+1)})
		}},
		{"entry moved from another digest", func(_ *testing.T, _ []byte, _ v1.Hash, other []byte) []byte {
			return other
		}},
		{"digest field rewritten, stale checksum", func(t *testing.T, _ []byte, h v1.Hash, other []byte) []byte {
			var s stored
			if err := json.Unmarshal(other, &s); err != nil {
				t.Fatal(err)
			}
			s.Digest = h.String()
			b, _ := json.Marshal(s)
			return b
		}},
		{"truncated", func(_ *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			return valid[:len(valid)-10]
		}},
		{"version 1 entry (before checksums)", func(_ *testing.T, _ []byte, _ v1.Hash, _ []byte) []byte {
			return []byte(`{"version":1,"uncompressed":4096,"provenance":"exact"}`)
		}},
		{"future version, valid checksum", func(_ *testing.T, _ []byte, h v1.Hash, _ []byte) []byte {
			return forge(h, cache.Version+1, cache.Entry{Uncompressed: 4096, Provenance: "exact"})
		}},
		{"unknown field", func(_ *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			return []byte(strings.Replace(string(valid), `{`, `{"extra":1,`, 1))
		}},
		{"trailing data", func(_ *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			return append(valid, valid...)
		}},
		{"oversized file", func(_ *testing.T, valid []byte, _ v1.Hash, _ []byte) []byte {
			return append([]byte(strings.Repeat(" ", 8<<10)), valid...)
		}},
		{"garbage", func(_ *testing.T, _ []byte, _ v1.Hash, _ []byte) []byte {
			return []byte("\x00\xff not an entry")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := cache.New(dir)
			h, o := digestOf(tc.name), digestOf("other "+tc.name)
			p := entryFile(t, c, dir, h)
			if err := c.Put(o, cache.Entry{Uncompressed: 1 << 20, Provenance: "exact"}); err != nil {
				t.Fatal(err)
			}
			valid, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			other, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(p)), o.Hex[:2], o.Hex+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(h); !ok {
				t.Fatal("the valid entry is a miss")
			}
			if err := os.WriteFile(p, tc.bad(t, valid, h, other), 0o644); err != nil {
				t.Fatal(err)
			}
			if e, ok := c.Get(h); ok {
				t.Errorf("Get of a bad entry = %+v, want a miss", e)
			}
			if err := c.Put(h, cache.Entry{Uncompressed: 8192, Provenance: "gzip-trailer"}); err != nil {
				t.Fatalf("Put over a bad entry: %v", err)
			}
			if e, ok := c.Get(h); !ok || e.Uncompressed != 8192 || e.Provenance != "gzip-trailer" {
				t.Errorf("after rewrite Get = %+v, %v; want 8192 gzip-trailer", e, ok)
			}
		})
	}
}

// TestSymlinkedEntry: an entry file that is a symlink (to a valid entry
// elsewhere) is not followed.
func TestSymlinkedEntry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := cache.New(dir)
	h := digestOf("linked")
	p := entryFile(t, c, dir, h)
	outside := filepath.Join(t.TempDir(), "entry.json")
	if err := os.Rename(p, outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Get(h); ok {
		t.Errorf("Get through a symlink = %+v, want a miss", e)
	}
}

// TestPutRefusesWhatGetWould: Put never writes an entry Get would refuse,
// so a bug above the cache cannot poison it.
func TestPutRefusesWhatGetWould(t *testing.T) {
	t.Parallel()
	for _, e := range []cache.Entry{
		{Uncompressed: 4096, Provenance: "unknown"},
		{Uncompressed: 4096, Provenance: "mixed"},
		{Uncompressed: 4096, Provenance: ""},
		{Uncompressed: 0, Provenance: "exact"},
		{Uncompressed: math.MaxInt64, Provenance: "exact"},
		{Uncompressed: 1 << 32, Provenance: "gzip-trailer"},
	} {
		dir := t.TempDir()
		if err := cache.New(dir).Put(digestOf("x"), e); err == nil {
			t.Errorf("Put(%+v) succeeded", e)
		}
		if fs := files(t, dir); len(fs) != 0 {
			t.Errorf("Put(%+v) wrote %v", e, fs)
		}
	}
}

// TestPutCleansReason: a reason is outside text (an error message from a
// registry); Put keeps it storable rather than refusing the figure.
func TestPutCleansReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"read whole: 1 KiB or less", "read whole: 1 KiB or less"},
		{"line one\nline\ttwo\x00", "line one line two "},
		{"bad utf-8 \xff", "bad utf-8 \uFFFD"},
		{strings.Repeat("é", cache.MaxReason), strings.Repeat("é", (cache.MaxReason-3)/2) + "…"},
	} {
		c := cache.New(t.TempDir())
		h := digestOf(tc.in)
		if err := c.Put(h, cache.Entry{Uncompressed: 4096, Provenance: "exact", Reason: tc.in}); err != nil {
			t.Fatalf("Put with reason %q: %v", tc.in, err)
		}
		e, ok := c.Get(h)
		if !ok || e.Reason != tc.want {
			t.Errorf("reason %q: Get = %q, %v; want %q", tc.in, e.Reason, ok, tc.want)
		}
		if len(e.Reason) > cache.MaxReason {
			t.Errorf("reason of %d bytes stored, max %d", len(e.Reason), cache.MaxReason)
		}
	}
}

// TestProvenances: the list is what layers' cacheable provenances are
// (pkg/layers checks the other direction) and callers cannot change it.
func TestProvenances(t *testing.T) {
	t.Parallel()
	got := cache.Provenances()
	want := []string{"exact", "annotation", "gzip-trailer", "zstd-header"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Provenances() = %v, want %v", got, want)
	}
	got[0] = "estimated"
	if cache.Provenances()[0] != "exact" {
		t.Error("Provenances() returned the package's own slice")
	}
}
