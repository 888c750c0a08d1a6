package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/internal/testengine"
	"github.com/imgsize/imgsize/pkg/schema"
)

func decodeDoc(t *testing.T, r result) schema.Document {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var d schema.Document
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return d
}

// An image in podman's Docker-API service reads as the docker-archive it
// was loaded from: the same image ID, diffIDs, per-layer uncompressed
// sizes, created-by and totals, and inspect does it from the metadata
// alone (the recording proxy sees no export); files exports it once and
// lists what the archive holds.
func TestDaemonCLI(t *testing.T) {
	t.Parallel()
	eng := testengine.Shared(t)
	dir := t.TempDir()
	arch := filepath.Join(dir, "app.tar")
	const ref = "localhost/imgsize-cli:v1"
	testengine.WriteArchive(t, arch, ref, testengine.Image(t, 7, 3))
	eng.Load(t, arch)
	rec := eng.Record(t)
	// Only DOCKER_HOST finds the engine: no Docker config or runtime
	// directory of the machine's.
	env := []string{"DOCKER_HOST=" + rec.Host, "DOCKER_CONFIG=" + dir, "XDG_RUNTIME_DIR=" + dir, "DOCKER_CONTEXT="}

	a := decodeDoc(t, imgsize(t, env, "inspect", "-f", "json", "--no-cache", "docker-archive:"+arch)).Images[0]
	d := decodeDoc(t, imgsize(t, env, "inspect", "-f", "json", "--no-cache", "docker-daemon:"+ref)).Images[0]
	if n := rec.Exports(); n != 0 {
		t.Fatalf("inspect exported the image (%d exports; requests %v)", n, rec.Requests())
	}
	if d.Transport != "docker-daemon" || d.ConfigDigest != a.ConfigDigest {
		t.Errorf("daemon image %s ID %s, archive's ID %s", d.Transport, d.ConfigDigest, a.ConfigDigest)
	}
	if *d.Uncompressed.Bytes != *a.Uncompressed.Bytes || d.Uncompressed.Provenance != "exact" {
		t.Errorf("uncompressed total %d (%s), archive's %d", *d.Uncompressed.Bytes, d.Uncompressed.Provenance, *a.Uncompressed.Bytes)
	}
	if d.Compressed.Bytes != nil {
		t.Errorf("compressed %d from an engine that stores layers uncompressed, want unknown", *d.Compressed.Bytes)
	}
	if len(d.Layers) != len(a.Layers) || len(a.Layers) != 3 {
		t.Fatalf("%d layers, archive has %d (want 3)", len(d.Layers), len(a.Layers))
	}
	for i := range a.Layers {
		dl, al := d.Layers[i], a.Layers[i]
		if dl.DiffID != al.DiffID || *dl.Uncompressed.Bytes != *al.Uncompressed.Bytes || dl.CreatedBy != al.CreatedBy {
			t.Errorf("layer %d: daemon %s %d %q, archive %s %d %q", i, dl.DiffID, *dl.Uncompressed.Bytes, dl.CreatedBy, al.DiffID, *al.Uncompressed.Bytes, al.CreatedBy)
		}
	}

	fa := decodeDoc(t, imgsize(t, env, "files", "-f", "json", "--no-cache", "docker-archive:"+arch))
	fd := decodeDoc(t, imgsize(t, env, "files", "-f", "json", "--no-cache", "docker-daemon:"+ref))
	if n := rec.Exports(); n != 1 {
		t.Errorf("files made %d exports, want 1", n)
	}
	if fd.Files == nil || fa.Files == nil || fd.Files.Filesystem != fa.Files.Filesystem || fd.Files.Filesystem.Entries == 0 {
		t.Errorf("files: daemon %+v, archive %+v", fd.Files, fa.Files)
	}

	// diff between the engine's copy and the archive: the same files.
	r := imgsize(t, env, "diff", "--no-cache", "docker-archive:"+arch, "docker-daemon:"+ref)
	if r.code != 0 || !strings.Contains(r.stdout, "No differences") {
		t.Errorf("diff of an image against its own engine copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Not in the engine: one line naming the image and where it looked.
	r = imgsize(t, env, "inspect", "--no-cache", "docker-daemon:localhost/imgsize-absent:v1")
	if r.code != 3 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "imgsize-absent") {
		t.Errorf("absent image: exit %d, %q; want exit 3 and one line naming it", r.code, r.stderr)
	}
	// No engine: the error lists what was tried.
	r = imgsize(t, []string{"DOCKER_HOST=unix://" + filepath.Join(dir, "none.sock"), "DOCKER_CONFIG=" + dir, "XDG_RUNTIME_DIR=" + dir}, "inspect", "--no-cache", "docker-daemon:"+ref)
	if r.code != 3 || !strings.Contains(r.stderr, "none.sock") || !strings.Contains(r.stderr, "tried") {
		t.Errorf("no engine: exit %d, %q; want exit 3 listing the socket tried", r.code, r.stderr)
	}
}
