package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"
)

// writeTruncatedArchive writes a docker-save style archive whose layer
// body is cut short, as an interrupted download leaves it.
func writeTruncatedArchive(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	add("manifest.json", []byte(`[{"Config":"c.json","RepoTags":["app:v1"],"Layers":["l/layer.tar"]}]`))
	add("c.json", []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:`+string(bytes.Repeat([]byte("a"), 64))+`"]}}`))
	add("l/layer.tar", bytes.Repeat([]byte{0}, 100_000))
	tw.Close()
	b := buf.Bytes()
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

func readAllCount(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
