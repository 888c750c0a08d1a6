package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/ctxio"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// dockerManifestEntry is one image in a `docker save` manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func openDockerArchive(ctx context.Context, p, ref string) (*Image, error) {
	t, err := openTar(ctx, p)
	if err != nil {
		return nil, err
	}
	img, err := openDockerArchiveTar(ctx, t, p, ref)
	if err != nil {
		t.Close()
		return nil, err
	}
	return img, nil
}

func openDockerArchiveTar(ctx context.Context, t *tarFile, p, ref string) (*Image, error) {
	if !t.has("manifest.json") {
		if t.has("index.json") {
			return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("no manifest.json: this is an OCI archive, read it with the oci-archive transport"))
		}
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, errors.New("not an image archive: no manifest.json or index.json inside"))
	}
	raw, err := t.readAll("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json: %w", err)
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing manifest.json: %w", err))
	}
	e, err := pickDockerEntry(entries, ref)
	if err != nil {
		return nil, err
	}
	img, err := newArchiveImage(ctx, t, e)
	if err != nil {
		return nil, err
	}
	return &Image{Transport: DockerArchive, Name: joinRef(p, ref), Image: img, SyntheticManifest: true, closers: []io.Closer{t}}, nil
}

func pickDockerEntry(entries []dockerManifestEntry, ref string) (dockerManifestEntry, error) {
	if len(entries) == 0 {
		return dockerManifestEntry{}, errdefs.Wrap(errdefs.ErrNotFound, errors.New("manifest.json lists no image"))
	}
	if ref == "" {
		if len(entries) == 1 {
			return entries[0], nil
		}
		return dockerManifestEntry{}, errdefs.UsageError(fmt.Errorf("archive holds %d images; choose one with :REF (tags: %s)", len(entries), allRepoTags(entries)))
	}
	want, werr := name.ParseReference(ref)
	for _, e := range entries {
		for _, tag := range e.RepoTags {
			if tag == ref {
				return e, nil
			}
			if got, err := name.ParseReference(tag); werr == nil && err == nil && got.Name() == want.Name() {
				return e, nil
			}
		}
	}
	return dockerManifestEntry{}, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("reference %q not in archive (tags: %s)", ref, allRepoTags(entries)))
}

func allRepoTags(entries []dockerManifestEntry) string {
	var tags []string
	for _, e := range entries {
		tags = append(tags, shownAll(e.RepoTags)...)
	}
	if len(tags) == 0 {
		return "none"
	}
	return strings.Join(tags, ", ")
}

var hexDigestName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-f0-9]{64})(\.tar(\.gz|\.zst)?)?$`) })

// newArchiveImage builds an image over a docker-save entry. docker save has
// no manifest of registry blobs, so one is synthesised from what the archive
// stores: uncompressed layers get the uncompressed media type and their
// diffID as digest, compressed ones (kaniko, crane) keep their bytes.
func newArchiveImage(ctx context.Context, t *tarFile, e dockerManifestEntry) (v1.Image, error) {
	cfgRaw, err := t.readAll(e.Config)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", e.Config, err)
	}
	cf, err := v1.ParseConfigFile(strings.NewReader(string(cfgRaw)))
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing config %s: %w", e.Config, err))
	}
	if len(cf.RootFS.DiffIDs) != len(e.Layers) {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("config lists %d diff_ids but manifest.json lists %d layers", len(cf.RootFS.DiffIDs), len(e.Layers)))
	}
	sum := sha256.Sum256(cfgRaw)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: types.OCIConfigJSON,
			Size:      int64(len(cfgRaw)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
		},
	}
	layers := map[v1.Hash]*archiveLayer{}
	for i, lp := range e.Layers {
		sec, err := t.section(lp)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		magic := make([]byte, 4)
		n, _ := sec.ReadAt(magic, 0)
		magic = magic[:n]
		l := &archiveLayer{t: t, path: lp, size: sec.Size(), diffID: cf.RootFS.DiffIDs[i]}
		switch {
		case hasPrefix(magic, gzipMagic):
			l.mediaType = types.OCILayer
		case hasPrefix(magic, zstdMagic):
			l.mediaType = types.OCILayerZStd
		default:
			l.mediaType = types.OCIUncompressedLayer
			l.digest = l.diffID
		}
		if l.digest == (v1.Hash{}) {
			// crane and kaniko name compressed layers by their digest; that
			// claim is checked when the layer is read. Otherwise hash now.
			if m := hexDigestName().FindStringSubmatch(path.Base(lp)); m != nil {
				l.digest = v1.Hash{Algorithm: "sha256", Hex: m[1]}
			} else if l.digest, err = hashSection(ctxio.Reader{Ctx: ctx, R: sec}); err != nil {
				return nil, fmt.Errorf("hashing layer %s: %w", lp, err)
			}
		}
		layers[l.digest] = l
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: l.mediaType, Size: l.size, Digest: l.digest})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&archiveImage{manifest: raw, config: cfgRaw, layers: layers})
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }

func hashSection(r io.Reader) (v1.Hash, error) {
	h, _, err := v1.SHA256(r)
	return h, err
}

type archiveImage struct {
	manifest, config []byte
	layers           map[v1.Hash]*archiveLayer
}

func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *archiveImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *archiveImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("layer %s not in archive", h))
}

type archiveLayer struct {
	t         *tarFile
	path      string
	size      int64
	digest    v1.Hash
	diffID    v1.Hash
	mediaType types.MediaType
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *archiveLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed serves the layer as a section of the archive. It can seek, so
// a reader listing an uncompressed layer's entries skips file contents.
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	sec, err := l.t.section(l.path)
	if err != nil {
		return nil, err
	}
	return readSeekCloser{sec, io.NopCloser(nil)}, nil
}

// readSeekCloser is a blob reader that keeps its Seek.
type readSeekCloser struct {
	io.ReadSeeker
	io.Closer
}
