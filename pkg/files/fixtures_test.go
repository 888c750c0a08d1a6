package files_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/files"
)

// listed is what an entry looks like in GNU tar's verbose listing.
type listed struct {
	Path     string
	Type     files.Type
	Size     int64 // regular files only
	Mode     int64
	Linkname string
	Whiteout bool
	Opaque   bool
}

func project(es []files.Entry) []listed {
	out := make([]listed, 0, len(es))
	for _, e := range es {
		out = append(out, listed{Path: e.Path, Type: e.Type, Size: e.Size, Mode: e.Mode, Linkname: e.Linkname, Whiteout: e.Whiteout, Opaque: e.Opaque})
	}
	return out
}

// tarLine is one line of `tar -tv --numeric-owner --full-time`:
// mode string, owner, size (or major,minor), date, time, then the name.
var tarLine = regexp.MustCompile(`^(.)(.{9})\s+\S+\s+(\S+)\s+\S+\s+\S+\s(.*)$`)

// gnuTarList lists a layer blob with GNU tar (which detects gzip and zstd
// itself), as an independent reading of what the layer holds, turned into
// entries by the OCI whiteout rules.
func gnuTarList(t *testing.T, blob string) []listed {
	t.Helper()
	out, err := exec.Command("tar", "-tv", "--numeric-owner", "--full-time", "--quoting-style=literal", "-f", blob).Output()
	if err != nil {
		t.Fatalf("tar -tvf %s: %v", blob, err)
	}
	var ls []listed
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSuffix(line, "\n")
		m := tarLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected tar listing line %q", line)
		}
		kind, perms, size, name := m[1], m[2], m[3], m[4]
		l := listed{Mode: parsePerms(t, perms)}
		switch kind {
		case "-":
			l.Type = files.Regular
			if l.Size, err = strconv.ParseInt(size, 10, 64); err != nil {
				t.Fatalf("size in %q: %v", line, err)
			}
		case "d":
			l.Type = files.Dir
		case "l":
			l.Type = files.Symlink
			name, l.Linkname, _ = strings.Cut(name, " -> ")
		case "h":
			l.Type = files.Hardlink
			name, l.Linkname, _ = strings.Cut(name, " link to ")
			l.Linkname = strings.TrimPrefix(path.Clean("/"+l.Linkname), "/")
		default:
			l.Type = files.Other
		}
		l.Path = strings.TrimPrefix(path.Clean("/"+name), "/")
		if l.Path == "" {
			continue // the root
		}
		dir, base := path.Split(l.Path)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		switch {
		case base == ".wh..wh..opq":
			l = listed{Path: dir, Type: files.Dir, Opaque: true}
		case strings.HasPrefix(base, ".wh..wh."):
			continue
		case strings.HasPrefix(base, ".wh."):
			l = listed{Path: path.Join(dir, strings.TrimPrefix(base, ".wh.")), Type: files.Other, Whiteout: true}
		}
		ls = append(ls, l)
	}
	return ls
}

// parsePerms reads "rwsr-xr-t" back into mode bits.
func parsePerms(t *testing.T, s string) int64 {
	var m int64
	for i, c := range s {
		bit := int64(1) << (8 - i)
		switch c {
		case 'r', 'w', 'x':
			m |= bit
		case 's', 't':
			m |= bit
			fallthrough
		case 'S', 'T':
			m |= map[int]int64{2: 0o4000, 5: 0o2000, 8: 0o1000}[i]
		case '-':
		default:
			t.Fatalf("unexpected permission string %q", s)
		}
	}
	return m
}

// TestFixtures reads images made by Docker, kaniko and BuildKit and
// compares every layer's entries with GNU tar's listing of the same blob
// (path, type, mode, size of regular files, link targets), and, with
// Content, each regular file's digest with the sha256 of what GNU tar
// extracts.
//
// The eStargz layer holds its table of contents (stargz.index.json) after
// the tar's end-of-archive blocks: archive/tar, GNU tar and containerd all
// stop there, so it is not an entry; its bytes are still read and checked
// against the digest.
func TestFixtures(t *testing.T) {
	dir := testutil.Fixtures(t)
	testutil.RequireTool(t, "tar")
	for _, name := range []string{
		"test-docker-image.tar",
		"test-kaniko-image.tar",
		"test-oci-uncompressed-image.tar",
		"test-oci-gzip-image.tar",
		"test-oci-zstd-image.tar",
		"test-oci-estargz-image.tar",
	} {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(name, "zstd") {
				testutil.RequireTool(t, "zstd") // GNU tar decompresses with it
			}
			fixture := filepath.Join(dir, name)
			got, err := read(t, fixture, files.Options{Content: true})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := read(t, fixture, files.Options{})
			if err != nil {
				t.Fatal(err)
			}
			extracted := t.TempDir()
			if out, err := exec.Command("tar", "-xf", fixture, "-C", extracted).CombinedOutput(); err != nil {
				t.Fatalf("extracting %s: %v\n%s", name, err, out)
			}
			blobs := layerBlobs(t, extracted, got)
			var nFiles, nEntries int
			for i, l := range got {
				nEntries += len(l.Entries)
				want := gnuTarList(t, blobs[i])
				if diff := cmp.Diff(want, project(l.Entries)); diff != "" {
					t.Errorf("layer %d (%s) against GNU tar (-tar +Read):\n%s", i, l.Digest, diff)
				}
				if diff := cmp.Diff(project(l.Entries), project(plain[i].Entries)); diff != "" {
					t.Errorf("layer %d: Read without Content differs (-with +without):\n%s", i, diff)
				}
				nFiles += checkDigests(t, blobs[i], l.Entries)
			}
			if nFiles == 0 {
				t.Error("no regular file's digest was checked")
			}
			t.Logf("%d layers, %d entries listed alike, %d content digests checked", len(got), nEntries, nFiles)
		})
	}
}

// layerBlobs finds each layer's blob in an extracted image archive: OCI
// blobs by digest, docker-save layers by manifest.json's order.
func layerBlobs(t *testing.T, dir string, ls []files.Layer) []string {
	t.Helper()
	out := make([]string, len(ls))
	if raw, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		var m []struct{ Layers []string }
		if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 || len(m[0].Layers) != len(ls) {
			t.Fatalf("manifest.json: %v (%d images)", err, len(m))
		}
		for i, p := range m[0].Layers {
			out[i] = filepath.Join(dir, p)
		}
		return out
	}
	for i, l := range ls {
		out[i] = filepath.Join(dir, "blobs", l.Digest.Algorithm, l.Digest.Hex)
	}
	return out
}

// checkDigests extracts blob with GNU tar and compares each regular file's
// sha256 with its entry's Digest (the last entry of a path, which is what
// extraction leaves). It returns how many files it checked.
func checkDigests(t *testing.T, blob string, es []files.Entry) int {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xf", blob, "-C", dir, "--no-same-owner").CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", blob, err, out)
	}
	last := map[string]files.Entry{}
	for _, e := range es {
		last[e.Path] = e
	}
	n := 0
	for p, e := range last {
		if e.Type != files.Regular {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		sum := sha256.Sum256(b)
		if want := "sha256:" + hex.EncodeToString(sum[:]); e.Digest != want {
			t.Errorf("%s: Digest %s, GNU tar extracts content %s", p, e.Digest, want)
		}
		if int64(len(b)) != e.Size {
			t.Errorf("%s: Size %d, GNU tar extracts %d bytes", p, e.Size, len(b))
		}
		n++
	}
	return n
}
