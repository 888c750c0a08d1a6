// Package ownimage builds imgsize's own image without a container engine,
// the way ko does: one layer holding a static imgsize binary and the CA
// certificates TLS to registries needs, on no base image, run as the
// unprivileged user 65532 (as distroless :nonroot). release/ownimage is
// its command; the multistage Dockerfile builds the same where an engine
// is at hand.
package ownimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CABundle is where Debian (and the distroless images) keep the CA
// certificates; Go's crypto/x509 looks there first.
const CABundle = "/etc/ssl/certs/ca-certificates.crt"

// Image is imgsize's image: binary at /usr/local/bin/imgsize and, when the
// file exists, the CA bundle at its Debian path.
func Image(binary, ca string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed time keeps the layer's digest a function of its content.
	mtime := time.Unix(0, 0)
	for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/", "usr/", "usr/local/", "usr/local/bin/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		src, dst string
		mode     int64
	}{{binary, "usr/local/bin/imgsize", 0o755}}
	if _, err := os.Stat(ca); err == nil {
		files = append(files, struct {
			src, dst string
			mode     int64
		}{ca, "etc/ssl/certs/ca-certificates.crt", 0o644})
	}
	for _, f := range files {
		b, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.dst, Mode: f.mode, Size: int64(len(b)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "ownimage: COPY imgsize /usr/local/bin/imgsize", Created: v1.Time{Time: mtime}}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/usr/local/bin/imgsize"}
	cf.Config.User = "65532:65532"
	return mutate.ConfigFile(img, cf)
}
