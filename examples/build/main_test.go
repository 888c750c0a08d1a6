package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// The expectations below are spelled out independently of the builder's
// own constants, so a change there cannot silently redefine "correct".
var wantTime = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeGOROOT makes a tiny stand-in toolchain covering what the real one
// may hold: nested dirs, an empty dir, an executable, a symlink, a path too
// long for plain ustar, and a socket that must be left out.
func fakeGOROOT(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "goroot")
	long := filepath.Join(strings.Repeat("d", 60), strings.Repeat("f", 70)+".txt")
	files := map[string]struct {
		data string
		mode os.FileMode
	}{
		"VERSION":            {"go1.18-fake\n", 0o644},
		"bin/go":             {"#!/bin/sh\necho fake go\n", 0o755},
		"src/fmt/print.go":   {"package fmt\n", 0o644},
		"src/fmt/scan.go":    {"package fmt // scan\n", 0o644},
		"pkg/tool/readme.md": {"tools\n", 0o600},
		long:                 {"long name\n", 0o644},
	}
	for name, f := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // umask-proof
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "pkg", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../VERSION", filepath.Join(root, "misc-link")); err != nil {
		t.Logf("no symlink in fake GOROOT: %v", err)
	}
	// Socket paths are length-limited (~104 bytes); a long TMPDIR only
	// costs this one case.
	if l, err := net.Listen("unix", filepath.Join(root, "sock")); err == nil {
		t.Cleanup(func() { l.Close() })
	} else {
		t.Logf("no socket in fake GOROOT: %v", err)
	}
	return root
}

type wantEntry struct {
	typ  byte
	size int64
	link string
	mode int64
}

// walkExpect lists what the toolchain layer must hold for root, keyed by
// tar name, from an independent filepath.Walk.
func walkExpect(t *testing.T, root, prefix string) map[string]wantEntry {
	t.Helper()
	want := map[string]wantEntry{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := prefix
		if rel != "." {
			name += "/" + filepath.ToSlash(rel)
		}
		mode := int64(info.Mode().Perm())
		switch {
		case info.IsDir():
			want[name+"/"] = wantEntry{typ: tar.TypeDir, mode: mode}
		case info.Mode().IsRegular():
			want[name] = wantEntry{typ: tar.TypeReg, size: info.Size(), mode: mode}
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			want[name] = wantEntry{typ: tar.TypeSymlink, link: target, mode: mode}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, raw []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading layer tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading layer tar entry %s: %v", hdr.Name, err)
		}
		out = append(out, tarEntry{hdr, data})
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkedImage is an image read back from the layout, with each layer's
// uncompressed tar after its digests were verified.
type checkedImage struct {
	img    v1.Image
	cfg    *v1.ConfigFile
	digest []v1.Hash
	tars   [][]tarEntry
}

func readLayout(t *testing.T, dir string) map[string]checkedImage {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]checkedImage{}
	for _, desc := range im.Manifests {
		tag := desc.Annotations["org.opencontainers.image.ref.name"]
		if _, dup := got[tag]; dup {
			t.Fatalf("tag %q appears twice in index.json", tag)
		}
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != "amd64" {
			t.Errorf("%s: index platform = %+v, want linux/amd64", tag, desc.Platform)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: validate.Image: %v", tag, err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("%s: manifest media type %s", tag, m.MediaType)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
			t.Fatalf("%s: %d diffIDs for %d layers", tag, len(cfg.RootFS.DiffIDs), len(m.Layers))
		}
		ci := checkedImage{img: img, cfg: cfg}
		for i, l := range m.Layers {
			if l.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
				t.Errorf("%s layer %d: media type %s", tag, i, l.MediaType)
			}
			blob, err := os.ReadFile(filepath.Join(dir, "blobs", l.Digest.Algorithm, l.Digest.Hex))
			if err != nil {
				t.Fatalf("%s layer %d: %v", tag, i, err)
			}
			if got := sha256Hex(blob); l.Digest.Algorithm != "sha256" || got != l.Digest.Hex {
				t.Errorf("%s layer %d: blob sha256 %s, manifest says %s", tag, i, got, l.Digest)
			}
			if int64(len(blob)) != l.Size {
				t.Errorf("%s layer %d: blob is %d bytes, manifest says %d", tag, i, len(blob), l.Size)
			}
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatalf("%s layer %d: %v", tag, i, err)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%s layer %d: gunzip: %v", tag, i, err)
			}
			if got, want := sha256Hex(raw), cfg.RootFS.DiffIDs[i]; "sha256:"+got != want.String() {
				t.Errorf("%s layer %d: gunzipped sha256 %s, diffID %s", tag, i, got, want)
			}
			ci.digest = append(ci.digest, l.Digest)
			ci.tars = append(ci.tars, readTar(t, raw))
		}
		got[tag] = ci
	}
	return got
}

func TestWriteLayout(t *testing.T) {
	ctx := context.Background()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not on PATH: %v", err)
	}
	goroot := fakeGOROOT(t)
	binDir := t.TempDir()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")

	var binPath string
	in := inputs{
		GOROOT: goroot,
		Src:    "../hello",
		Binary: func(ctx context.Context) (string, error) {
			start := time.Now()
			p, err := buildHello(ctx, goBin, "../hello", binDir)
			t.Logf("go build took %v", time.Since(start))
			binPath = p
			return p, err
		},
	}
	built, err := writeLayout(ctx, out, in)
	if err != nil {
		t.Fatalf("writeLayout: %v", err)
	}
	if len(built) != 2 || built[0].Tag != "single-stage" || built[0].Layers != 3 ||
		built[1].Tag != "multistage" || built[1].Layers != 1 {
		t.Errorf("writeLayout reported %+v", built)
	}

	images := readLayout(t, out)
	if len(images) != 2 {
		t.Fatalf("layout holds tags %v, want single-stage and multistage", slices.Collect(maps.Keys(images)))
	}
	single, ok := images["single-stage"]
	if !ok {
		t.Fatal("no single-stage tag")
	}
	multi, ok := images["multistage"]
	if !ok {
		t.Fatal("no multistage tag")
	}
	if n := len(single.tars); n != 3 {
		t.Fatalf("single-stage has %d layers, want 3", n)
	}
	if n := len(multi.tars); n != 1 {
		t.Fatalf("multistage has %d layers, want 1", n)
	}

	for tag, ci := range images {
		nonEmpty := 0
		for _, h := range ci.cfg.History {
			if !h.EmptyLayer {
				nonEmpty++
			}
			if !h.Created.Time.Equal(wantTime) {
				t.Errorf("%s: history %q created %v", tag, h.CreatedBy, h.Created.Time)
			}
		}
		if nonEmpty != len(ci.tars) {
			t.Errorf("%s: %d non-empty history entries for %d layers", tag, nonEmpty, len(ci.tars))
		}
		if nonEmpty == len(ci.cfg.History) {
			t.Errorf("%s: no empty-layer history entries", tag)
		}
		if ci.cfg.OS != "linux" || ci.cfg.Architecture != "amd64" {
			t.Errorf("%s: platform %s/%s", tag, ci.cfg.OS, ci.cfg.Architecture)
		}
		if !slices.Equal(ci.cfg.Config.Cmd, []string{"hello"}) {
			t.Errorf("%s: Cmd %q", tag, ci.cfg.Config.Cmd)
		}
		for i, entries := range ci.tars {
			for _, e := range entries {
				h := e.hdr
				if !h.ModTime.Equal(wantTime) || h.Uid != 0 || h.Gid != 0 {
					t.Errorf("%s layer %d: %s has mtime %v uid %d gid %d", tag, i, h.Name, h.ModTime, h.Uid, h.Gid)
				}
			}
		}
	}
	if single.cfg.Config.WorkingDir != "/src" {
		t.Errorf("single-stage WorkingDir %q", single.cfg.Config.WorkingDir)
	}
	if !slices.ContainsFunc(single.cfg.Config.Env, func(e string) bool {
		return strings.HasPrefix(e, "PATH=") && slices.Contains(strings.Split(e[5:], ":"), "/usr/local/go/bin")
	}) {
		t.Errorf("single-stage Env %q lacks /usr/local/go/bin in PATH", single.cfg.Config.Env)
	}

	// Layer 1: exactly the fake toolchain under usr/local/go/.
	want := walkExpect(t, goroot, "usr/local/go")
	got := map[string]wantEntry{}
	var outside []string
	for _, e := range single.tars[0] {
		if !strings.HasPrefix(e.hdr.Name, "usr/local/go/") {
			outside = append(outside, e.hdr.Name)
			continue
		}
		if _, dup := got[e.hdr.Name]; dup {
			t.Errorf("toolchain layer lists %s twice", e.hdr.Name)
		}
		got[e.hdr.Name] = wantEntry{typ: e.hdr.Typeflag, size: e.hdr.Size, link: e.hdr.Linkname, mode: e.hdr.Mode}
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("toolchain layer misses %s", name)
		} else if g != w {
			t.Errorf("toolchain layer %s = %+v, want %+v", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("toolchain layer has unexpected %s", name)
		}
	}
	if !slices.Equal(outside, []string{"usr/", "usr/local/"}) {
		t.Errorf("toolchain layer entries outside usr/local/go/: %q", outside)
	}
	names := func(es []tarEntry) []string {
		var s []string
		for _, e := range es {
			s = append(s, e.hdr.Name)
		}
		return s
	}
	if n := names(single.tars[0]); !slices.IsSortedFunc(n[3:], func(a, b string) int {
		// Walk order: lexical within each directory, parents first.
		return strings.Compare(strings.ReplaceAll(a, "/", "\x00"), strings.ReplaceAll(b, "/", "\x00"))
	}) {
		t.Errorf("toolchain layer not in walk order: %q", n)
	}

	// Layer 2: the hello source at /src/.
	src, err := os.ReadFile("../hello/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := names(single.tars[1]); !slices.Equal(n, []string{"src/", "src/main.go"}) {
		t.Errorf("source layer lists %q", n)
	} else if !bytes.Equal(single.tars[1][1].data, src) {
		t.Error("source layer main.go differs from examples/hello/main.go")
	}

	// The binary: the same bytes in single-stage layer 3 and the multistage
	// layer, and really a static linux/amd64 executable.
	binData, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	for tag, entries := range map[string][]tarEntry{"single-stage": single.tars[2], "multistage": multi.tars[0]} {
		if n := names(entries); !slices.Equal(n, []string{"usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/hello"}) {
			t.Errorf("%s binary layer lists %q", tag, n)
			continue
		}
		hello := entries[3]
		if hello.hdr.Size != int64(len(binData)) || !bytes.Equal(hello.data, binData) {
			t.Errorf("%s: usr/local/bin/hello is %d bytes, built binary %d (or contents differ)", tag, hello.hdr.Size, len(binData))
		}
		if hello.hdr.Mode&0o111 == 0 {
			t.Errorf("%s: usr/local/bin/hello mode %o not executable", tag, hello.hdr.Mode)
		}
	}
	if single.digest[2] != multi.digest[0] {
		t.Errorf("binary layers differ: %s vs %s", single.digest[2], multi.digest[0])
	}
	ef, err := elf.Open(binPath)
	if err != nil {
		t.Fatalf("built binary: %v", err)
	}
	defer ef.Close()
	if ef.Machine != elf.EM_X86_64 || ef.Class != elf.ELFCLASS64 {
		t.Errorf("built binary is %v %v, want x86-64", ef.Class, ef.Machine)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("built binary has an ELF interpreter; want static (CGO_ENABLED=0)")
		}
	}

	// Same inputs, same bytes: a second layout is identical.
	index1, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	reuse := in
	reuse.Binary = func(context.Context) (string, error) { return binPath, nil }
	out2 := filepath.Join(t.TempDir(), "again")
	if _, err := writeLayout(ctx, out2, reuse); err != nil {
		t.Fatalf("second writeLayout: %v", err)
	}
	if index2, err := os.ReadFile(filepath.Join(out2, "index.json")); err != nil || !bytes.Equal(index1, index2) {
		t.Errorf("rebuild not reproducible (err %v):\n%s\nvs\n%s", err, index1, index2)
	}

	// Replacing an existing layout works and leaves no siblings behind.
	if _, err := writeLayout(ctx, out, reuse); err != nil {
		t.Fatalf("replacing layout: %v", err)
	}
	assertOnly(t, parent, "out")
	if index3, err := os.ReadFile(filepath.Join(out, "index.json")); err != nil || !bytes.Equal(index1, index3) {
		t.Errorf("replaced layout differs (err %v)", err)
	}

	// A failed build removes its temporary layout and keeps the old one.
	broken := reuse
	broken.GOROOT = filepath.Join(t.TempDir(), "missing")
	if _, err := writeLayout(ctx, out, broken); err == nil {
		t.Error("writeLayout with a missing GOROOT succeeded")
	}
	assertOnly(t, parent, "out")
	if index4, err := os.ReadFile(filepath.Join(out, "index.json")); err != nil || !bytes.Equal(index1, index4) {
		t.Errorf("failed build changed the previous layout (err %v)", err)
	}
	failing := reuse
	failing.Binary = func(context.Context) (string, error) { return "", errors.New("no compiler today") }
	if _, err := writeLayout(ctx, out, failing); err == nil || !strings.Contains(err.Error(), "no compiler today") {
		t.Errorf("writeLayout with a failing build: err = %v", err)
	}
	assertOnly(t, parent, "out")
}

func TestWriteLayoutRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := inputs{
		GOROOT: fakeGOROOT(t),
		Src:    "../hello",
		Binary: func(context.Context) (string, error) { t.Fatal("should not build"); return "", nil },
	}
	if _, err := writeLayout(context.Background(), dir, in); err == nil {
		t.Fatal("writeLayout replaced a directory that is not a layout")
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("foreign directory damaged: %v", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}
