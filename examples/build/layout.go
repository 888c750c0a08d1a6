package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

const (
	refNameAnnotation = "org.opencontainers.image.ref.name"

	// golangPath is golang:1.18's PATH minus /go/bin, which holds nothing
	// here; alpinePath is alpine's default.
	golangPath = "PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	alpinePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	// buildCmd is the RUN step of examples/Dockerfile.*.
	buildCmd = "CGO_ENABLED=0 go build -o /usr/local/bin/hello main.go"
)

// inputs are what the images are made of. Binary is a function so the Go
// build can run while the (much larger) toolchain layer is being written.
type inputs struct {
	GOROOT string // becomes /usr/local/go in the single-stage image
	Src    string // becomes /src/
	Binary func(context.Context) (string, error)
}

// builtImage summarises one image written to the layout.
type builtImage struct {
	Tag    string
	Layers int
	// Digest is the manifest digest; CompressedSize and TarSize sum the
	// image's layers (blobs as stored, and their uncompressed tars).
	Digest         v1.Hash
	CompressedSize int64
	TarSize        int64
}

// writeLayout creates or replaces the OCI image layout dir with the
// single-stage and multistage images. It builds everything in a sibling
// temporary directory and renames it into place only once complete, so dir
// never holds a partial layout and a failed run leaves nothing behind.
func writeLayout(ctx context.Context, dir string, in inputs) (_ []builtImage, err error) {
	if err := checkReplaceable(dir); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating parent of %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, base+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary layout: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp uses 0700; the layout should be as readable as any output.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("creating temporary layout: %w", err)
	}

	images, err := buildImages(ctx, tmp, in)
	if err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, dir); err != nil {
		return nil, err
	}
	return images, nil
}

func buildImages(ctx context.Context, tmp string, in inputs) ([]builtImage, error) {
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("initialising layout %s: %w", tmp, err)
	}
	blobsDir := filepath.Join(tmp, "blobs", "sha256")
	if err := os.MkdirAll(blobsDir, 0o755); err != nil {
		return nil, fmt.Errorf("initialising layout %s: %w", tmp, err)
	}

	// Two tasks, matching the two cores this is meant to run on: the
	// toolchain layer (CPU-bound gzip of ~270 MB) alongside the go build and
	// the small layers that depend on it.
	var toolchain, source, binary *layer
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		l, err := writeLayer(blobsDir, func(b *tarBuilder) error {
			if err := b.dir("usr"); err != nil {
				return err
			}
			if err := b.dir("usr/local"); err != nil {
				return err
			}
			return b.tree(gctx, in.GOROOT, "usr/local/go")
		})
		if err != nil {
			return fmt.Errorf("writing toolchain layer from %s: %w", in.GOROOT, err)
		}
		toolchain = l
		return nil
	})
	g.Go(func() error {
		bin, err := in.Binary(gctx)
		if err != nil {
			return err
		}
		source, err = writeLayer(blobsDir, func(b *tarBuilder) error {
			return b.tree(gctx, in.Src, "src")
		})
		if err != nil {
			return fmt.Errorf("writing source layer from %s: %w", in.Src, err)
		}
		// The same content in both images: a COPY --from of the binary the
		// single-stage RUN produced. Identical tars give one shared blob.
		binary, err = writeLayer(blobsDir, func(b *tarBuilder) error {
			for _, d := range []string{"usr", "usr/local", "usr/local/bin"} {
				if err := b.dir(d); err != nil {
					return err
				}
			}
			// Fixed 0755 rather than the build's umask-dependent mode.
			return b.file("usr/local/bin/hello", bin, 0o755)
		})
		if err != nil {
			return fmt.Errorf("writing binary layer from %s: %w", bin, err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	specs := []imageSpec{
		{
			tag: "single-stage",
			config: v1.Config{
				Env:        []string{golangPath},
				WorkingDir: "/src",
				Cmd:        []string{"hello"},
			},
			steps: []step{
				{createdBy: "COPY /usr/local/go /usr/local/go # golang:1.18 toolchain (local GOROOT)", layer: toolchain},
				{createdBy: "ENV " + golangPath},
				{createdBy: "WORKDIR /src"},
				{createdBy: "COPY hello/ /src/", layer: source},
				{createdBy: "RUN " + buildCmd, layer: binary},
				{createdBy: `CMD ["hello"]`},
			},
		},
		{
			tag: "multistage",
			config: v1.Config{
				Env: []string{alpinePath},
				Cmd: []string{"hello"},
			},
			steps: []step{
				{createdBy: "COPY --from=build /usr/local/bin/hello /usr/local/bin/hello", layer: binary},
				{createdBy: `CMD ["hello"]`},
			},
		},
	}

	platform := v1.Platform{OS: "linux", Architecture: "amd64"}
	var built []builtImage
	for _, s := range specs {
		img, err := s.image(platform)
		if err != nil {
			return nil, fmt.Errorf("assembling image %s: %w", s.tag, err)
		}
		// Layer blobs are already in place with the right digest and size,
		// so AppendImage only adds config, manifest and the index entry.
		if err := lp.AppendImage(img,
			layout.WithAnnotations(map[string]string{refNameAnnotation: s.tag}),
			layout.WithPlatform(platform),
		); err != nil {
			return nil, fmt.Errorf("writing image %s to layout: %w", s.tag, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("digesting image %s: %w", s.tag, err)
		}
		b := builtImage{Tag: s.tag, Digest: d}
		for _, st := range s.steps {
			if st.layer != nil {
				b.Layers++
				b.CompressedSize += st.layer.size
				b.TarSize += st.layer.tarSize
			}
		}
		built = append(built, b)
	}

	// layout.WriteFile creates files with mode 0777 (less umask); these
	// are data, not programs.
	for _, name := range []string{"oci-layout", "index.json"} {
		if err := os.Chmod(filepath.Join(tmp, name), 0o644); err != nil {
			return nil, fmt.Errorf("finishing layout: %w", err)
		}
	}
	return built, nil
}

// step is one Dockerfile instruction: a history entry, and a layer unless
// the instruction only changes the config.
type step struct {
	createdBy string
	layer     *layer
}

type imageSpec struct {
	tag    string
	config v1.Config
	steps  []step
}

// image assembles config and manifest by hand: that keeps full control of
// the history (interleaved empty-layer entries) and of the media types.
func (s imageSpec) image(platform v1.Platform) (v1.Image, error) {
	cf := v1.ConfigFile{
		Architecture: platform.Architecture,
		OS:           platform.OS,
		Created:      v1.Time{Time: epoch},
		Config:       s.config,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
	}
	core := &imageCore{layers: map[v1.Hash]*layer{}}
	for _, st := range s.steps {
		h := v1.History{Created: v1.Time{Time: epoch}, CreatedBy: st.createdBy}
		if st.layer == nil {
			h.EmptyLayer = true
		} else {
			cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, st.layer.diffID)
			m.Layers = append(m.Layers, st.layer.descriptor())
			core.layers[st.layer.digest] = st.layer
		}
		cf.History = append(cf.History, h)
	}

	var err error
	if core.config, err = json.Marshal(cf); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(core.config))}
	if m.Config.Digest, _, err = v1.SHA256(bytes.NewReader(core.config)); err != nil {
		return nil, fmt.Errorf("digesting config: %w", err)
	}
	if core.manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return partial.CompressedToImage(core)
}

// imageCore implements partial.CompressedImageCore over prepared blobs.
type imageCore struct {
	config, manifest []byte
	layers           map[v1.Hash]*layer
}

func (c *imageCore) RawConfigFile() ([]byte, error)      { return c.config, nil }
func (c *imageCore) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (c *imageCore) RawManifest() ([]byte, error)        { return c.manifest, nil }
func (c *imageCore) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	l, ok := c.layers[h]
	if !ok {
		return nil, fmt.Errorf("unknown layer %s", h)
	}
	return l, nil
}

// checkReplaceable refuses to replace anything but an earlier layout (or an
// empty directory): a mistyped -o must not delete someone's files.
func checkReplaceable(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking output %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("output %s exists and is not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checking output %s: %w", dir, err)
	}
	if len(entries) != 0 {
		return fmt.Errorf("output %s exists and is not an OCI image layout; not replacing it", dir)
	}
	return nil
}

// replaceDir moves tmp to dir. A directory cannot be renamed over a
// non-empty one, so an existing dir is first renamed aside (and restored if
// the second rename fails): dir is missing only for the instant between the
// two renames, and never holds a mix of old and new.
func replaceDir(tmp, dir string) error {
	old := tmp + ".old"
	moved := false
	if err := os.Rename(dir, old); err == nil {
		moved = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("moving previous layout %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if moved {
			os.Rename(old, dir)
		}
		return fmt.Errorf("moving new layout into place at %s: %w", dir, err)
	}
	if moved {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing previous layout %s: %w", old, err)
		}
	}
	return nil
}
