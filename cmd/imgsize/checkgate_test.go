package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestCheckCountsWrappableTrailers: a gzip layer large enough to hold
// 4 GiB (over 2^32/1032 bytes) is counted, not sized from its trailer,
// whenever a budget reads uncompressed sizes, and the report says so;
// --trust-gzip-trailer, or budgets on compressed size only, keep the
// trailer.
func TestCheckCountsWrappableTrailers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/gate:v1"

	// Incompressible content stored without compression: a blob just
	// over the threshold, quickly made.
	content := make([]byte, 1<<32/1032+20_000)
	rand.NewChaCha8([32]byte{7}).Read(content)
	stream := encTar(t, []encFile{{name: "var/log/lastlog", body: content}})
	var blob bytes.Buffer
	zw, err := gzip.NewWriterLevel(&blob, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(stream)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, encNewLayer(blob.Bytes(), stream, types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name    string
		args    []string
		counted bool
	}{
		{"max-uncompressed", []string{"--max-uncompressed", "1GB"}, true},
		{"uncompressed growth", []string{"--max-growth", "10%", "--growth-basis", "uncompressed", "--baseline", ref}, true},
		{"trusting the trailer", []string{"--max-uncompressed", "1GB", "--trust-gzip-trailer"}, false},
		{"compressed budget only", []string{"--max-compressed", "1GB"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--no-cache", "--no-progress", ref}, tt.args...)
			r := runInProcess(t, append(args, "-f", "json")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var doc struct {
				Images []struct {
					Layers []struct {
						Uncompressed encSize `json:"uncompressed"`
					} `json:"layers"`
				} `json:"images"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Images) == 0 || len(doc.Images[0].Layers) != 1 {
				t.Fatalf("report: %s", r.stdout)
			}
			u := doc.Images[0].Layers[0].Uncompressed
			if u.Bytes == nil || *u.Bytes != int64(len(stream)) {
				t.Errorf("uncompressed %s, the stream is %d bytes", u, len(stream))
			}
			wantProv, wantReason := "gzip-trailer", ""
			if tt.counted {
				wantProv, wantReason = "exact", "a gzip trailer is the size mod 4 GiB"
			}
			if u.Provenance != wantProv || !strings.Contains(u.Reason, wantReason) {
				t.Errorf("uncompressed %s, want %s with a reason saying %q", u, wantProv, wantReason)
			}
			table := runInProcess(t, args...)
			if got := strings.Contains(table.stdout, "layers read and counted"); got != tt.counted {
				t.Errorf("table lists counted layers: %v, want %v:\n%s", got, tt.counted, table.stdout)
			}
		})
	}
}
