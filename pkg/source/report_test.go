package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
	"github.com/imgsize/imgsize/pkg/source"
)

func int64p(n int64) *int64 { return &n }

// recordedImage is a minimal, valid image record; its figures are made up
// here, since source only selects records and never re-measures them.
func recordedImage(ref, digestChar string) schema.ImageRecord {
	d := "sha256:" + strings.Repeat(digestChar, 64)
	size := schema.SizeRecord{Bytes: int64p(100), Provenance: "exact"}
	return schema.ImageRecord{
		Ref: ref, Name: ref, Transport: "oci", Digest: d, ConfigDigest: d,
		MediaType: "application/vnd.oci.image.manifest.v1+json", ManifestBytes: int64p(10), ConfigBytes: int64p(5),
		Compressed: size, Uncompressed: size,
		Layers: []schema.LayerRecord{{Digest: d, DiffID: d, MediaType: "application/vnd.oci.image.layer.v1.tar", Compressed: size, Uncompressed: size}},
	}
}

func writeReport(t *testing.T, dir, name string, doc any) string {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func inspectDoc(imgs ...schema.ImageRecord) schema.Document {
	return schema.Document{
		SchemaVersion: schema.Version, Kind: schema.KindInspect,
		Generator: schema.Generator{Name: "imgsize", Version: "v9.9.9"},
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Images:    imgs,
	}
}

func TestOpenReport(t *testing.T) {
	dir := t.TempDir()
	one := writeReport(t, dir, "one.json", inspectDoc(recordedImage("oci:a:app", "a")))
	three := writeReport(t, dir, "three.json", inspectDoc(
		recordedImage("oci:a:app", "a"), recordedImage("oci:b:app", "b"), recordedImage("docker.example/x:1", "c")))
	// Reports are detected by content, whatever the file is called.
	noExt := writeReport(t, dir, "baseline", inspectDoc(recordedImage("oci:n:app", "d")))

	tests := []struct {
		arg     string
		wantRef string
	}{
		{one, "oci:a:app"},
		{"report:" + one, "oci:a:app"},
		{noExt, "oci:n:app"},
		{three + ":0", "oci:a:app"},
		{"report:" + three + ":2", "docker.example/x:1"},
		{"report:" + three + ":oci:b:app", "oci:b:app"},
		{three + ":docker.example/x:1", "docker.example/x:1"},
	}
	for _, tt := range tests {
		t.Run(relArg(tt.arg, dir), func(t *testing.T) {
			img := open(t, tt.arg, source.Options{})
			if img.Transport != source.Report {
				t.Errorf("transport = %q, want %q", img.Transport, source.Report)
			}
			if img.Image != nil {
				t.Error("a recorded image has a v1.Image; nothing may be read from it")
			}
			if img.Recorded == nil {
				t.Fatal("Recorded is nil")
			}
			if got := img.Recorded.Image.Ref; got != tt.wantRef {
				t.Errorf("selected %q, want %q", got, tt.wantRef)
			}
			if img.Recorded.Generator.Version != "v9.9.9" || img.Recorded.Time.Year() != 2026 {
				t.Errorf("generator/time not carried: %+v %v", img.Recorded.Generator, img.Recorded.Time)
			}
			if img.Arg != tt.arg {
				t.Errorf("Arg = %q, want %q", img.Arg, tt.arg)
			}
		})
	}
}

func TestOpenReportErrors(t *testing.T) {
	dir := t.TempDir()
	three := writeReport(t, dir, "three.json", inspectDoc(
		recordedImage("oci:a:app", "a"), recordedImage("oci:b:app", "b"), recordedImage("oci:c:app", "c")))
	empty := writeReport(t, dir, "empty.json", inspectDoc())
	future := inspectDoc(recordedImage("oci:a:app", "a"))
	future.SchemaVersion = schema.Version + 1
	futurePath := writeReport(t, dir, "future.json", future)
	foreign := writeReport(t, dir, "foreign.json", map[string]any{"name": "not a report"})
	// A version that changed a field's type is still "too new", not corrupt.
	reshaped := writeReport(t, dir, "reshaped.json", map[string]any{"schemaVersion": schema.Version + 1, "kind": "inspect", "images": map[string]any{"a": 1}})
	malformed := filepath.Join(dir, "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"schemaVersion": 1, "kind": "inspect", "images": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	negDoc := inspectDoc(recordedImage("oci:a:app", "a"))
	negDoc.SchemaVersion = -1
	negative := writeReport(t, dir, "negative.json", negDoc)
	// A sparse file: its size is all Open may look at.
	huge := writeReport(t, dir, "huge.json", inspectDoc(recordedImage("oci:a:app", "a")))
	if err := os.Truncate(huge, 64<<20+1); err != nil {
		t.Fatal(err)
	}
	badTotals := recordedImage("oci:a:app", "a")
	badTotals.Compressed = schema.SizeRecord{Provenance: "exact"} // known provenance, no bytes
	badPath := writeReport(t, dir, "inconsistent.json", inspectDoc(badTotals))

	tests := []struct {
		name      string
		arg       string
		want      error
		fragments []string
	}{
		{"several images, no selector", three, errdefs.ErrUsage, []string{"holds 3 images", "0: oci:a:app", "report:PATH:N"}},
		{"index out of range", three + ":3", errdefs.ErrUsage, []string{"image 3 is not in the report", "0 to 2"}},
		{"unknown ref", "report:" + three + ":oci:z:app", errdefs.ErrNotFound, []string{`no image "oci:z:app"`}},
		{"no images", empty, errdefs.ErrNotFound, []string{"holds no image"}},
		{"future version", futurePath, errdefs.ErrUnsupported, []string{"schema version 3 is not supported", "newer imgsize"}},
		{"future version, new shape", reshaped, errdefs.ErrUnsupported, []string{"schema version 3 is not supported"}},
		{"not an imgsize report", foreign, errdefs.ErrCorrupt, []string{"invalid schema version (missing)", "not an imgsize report"}},
		{"negative version", negative, errdefs.ErrCorrupt, []string{"invalid schema version -1"}},
		{"larger than the limit", huge, errdefs.ErrUnsupported, []string{"report larger than 64 MiB", "67108865 bytes"}},
		{"truncated JSON", malformed, errdefs.ErrCorrupt, []string{"reading JSON report", "unexpected end of JSON input"}},
		{"inconsistent size", badPath, errdefs.ErrCorrupt, []string{"exact size without bytes"}},
		{"missing report", "report:" + filepath.Join(dir, "nope.json"), errdefs.ErrNotFound, []string{"nope.json"}},
		// A missing .json argument must be a missing file, never a
		// registry reference tried over the network.
		{"missing bare json", filepath.Base(filepath.Join(dir, "gone.json")), errdefs.ErrNotFound, []string{"gone.json"}},
		{"empty path", "report:", errdefs.ErrUsage, []string{`missing path after "report:"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := source.Open(context.Background(), tt.arg, source.Options{})
			if err == nil {
				img.Close()
			}
			if err != nil && strings.Contains(err.Error(), "newer") && !errors.Is(tt.want, errdefs.ErrUnsupported) {
				t.Errorf("error %q calls the report newer", err)
			}
			checkErr(t, err, tt.want, tt.fragments...)
		})
	}
}

// A report of exactly the limit is read whole: the limit is not cut short
// by a byte, and one byte more is refused.
func TestOpenReportAtLimit(t *testing.T) {
	dir := t.TempDir()
	// The documented limit, 64 MiB, is not refused by its size (a sparse
	// file: the NUL bytes after the document make it malformed, read in a
	// moment); the 64 MiB + 1 file in TestOpenReportErrors is.
	sparse := writeReport(t, dir, "sparse.json", inspectDoc(recordedImage("oci:a:app", "a")))
	if err := os.Truncate(sparse, 64<<20); err != nil {
		t.Fatal(err)
	}
	if img, err := source.Open(context.Background(), "report:"+sparse, source.Options{}); err == nil {
		img.Close()
	} else if errors.Is(err, errdefs.ErrUnsupported) || strings.Contains(err.Error(), "larger than") {
		t.Errorf("a report of exactly 64 MiB refused for its size: %v", err)
	}

	// The bound itself, at 1 MiB: the same code, a 64th of the JSON.
	source.SetMaxReport(t, 1<<20)
	p := writeReport(t, dir, "padded.json", inspectDoc(recordedImage("oci:a:app", "a")))
	padReport(t, p, 1<<20)
	img := open(t, "report:"+p, source.Options{})
	if img.Recorded == nil || img.Recorded.Image.Ref != "oci:a:app" {
		t.Errorf("read %+v, want the recorded oci:a:app", img.Recorded)
	}
	padReport(t, p, 1<<20+1)
	_, err := source.Open(context.Background(), "report:"+p, source.Options{})
	checkErr(t, err, errdefs.ErrUnsupported, "report larger than 1 MiB")
}

// padReport grows the report at p with trailing whitespace, which JSON
// ignores, to size bytes.
func padReport(t *testing.T, p string, size int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(spaces{}, size-fi.Size())); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// A report whose size is not known up front (a named pipe says 0) and that
// turns out longer than the limit is refused when the stream passes it,
// not parsed short into "unexpected end of JSON input".
func TestOpenReportStreamOverLimit(t *testing.T) {
	source.SetMaxReport(t, 1<<20)
	fifo := filepath.Join(t.TempDir(), "report.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		// Open blocks until the reader opens the pipe; the write fails
		// with EPIPE once the reader has given up.
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		defer w.Close()
		_, err = io.Copy(w, io.MultiReader(
			strings.NewReader(`{"schemaVersion": 1, "kind": "inspect",`),
			io.LimitReader(spaces{}, 1<<20)))
		done <- err
	}()
	t.Cleanup(func() {
		// Unblock the writer's open if the reader never opened the pipe.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			r.Close()
		}
		<-done
	})
	img, err := source.Open(context.Background(), "report:"+fifo, source.Options{})
	if err == nil {
		img.Close()
	}
	checkErr(t, err, errdefs.ErrUnsupported, "report larger than 1 MiB")
	if strings.Contains(err.Error(), "unexpected end") {
		t.Errorf("error %q reads as a truncated report", err)
	}
}
