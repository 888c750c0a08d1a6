package main

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// epoch is every timestamp in the images, so that rebuilding from the same
// inputs yields the same digests.
var epoch = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// layer is a gzipped tar blob already in place in the layout's blobs
// directory. It implements partial.CompressedLayer.
type layer struct {
	path    string
	digest  v1.Hash
	diffID  v1.Hash
	size    int64 // compressed, as stored
	tarSize int64 // uncompressed
}

func (l *layer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *layer) Size() (int64, error)                { return l.size, nil }
func (l *layer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *layer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *layer) descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: types.OCILayer, Size: l.size, Digest: l.digest}
}

// hashCounter hashes and counts what passes through it, so digests and
// sizes come out of the single write pass instead of re-reading the blob.
type hashCounter struct {
	h hash.Hash
	n int64
}

func newHashCounter() *hashCounter { return &hashCounter{h: sha256.New()} }

func (c *hashCounter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

func (c *hashCounter) sum() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(c.h.Sum(nil))}
}

// writeLayer streams the tar produced by fill through gzip straight into a
// blob file under blobsDir, computing diffID and digest on the way. Nothing
// is buffered beyond a few hundred KB, whatever the layer size, and the
// uncompressed tar is never written to disk.
func writeLayer(blobsDir string, fill func(*tarBuilder) error) (_ *layer, err error) {
	f, err := os.CreateTemp(blobsDir, ".partial-")
	if err != nil {
		return nil, fmt.Errorf("creating layer blob: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	bw := bufio.NewWriterSize(f, 1<<20)
	blob := newHashCounter()
	gz := gzip.NewWriter(io.MultiWriter(bw, blob))
	raw := newHashCounter()
	tw := tar.NewWriter(io.MultiWriter(gz, raw))

	if err := fill(&tarBuilder{tw: tw}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("finishing layer tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("finishing layer gzip: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing layer blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing layer blob: %w", err)
	}

	l := &layer{digest: blob.sum(), diffID: raw.sum(), size: blob.n, tarSize: raw.n}
	l.path = filepath.Join(blobsDir, l.digest.Hex)
	// CreateTemp made it 0600; blobs are meant to be readable by anyone
	// who can read the layout, like those go-containerregistry writes.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return nil, fmt.Errorf("writing layer blob: %w", err)
	}
	if err := os.Rename(f.Name(), l.path); err != nil {
		return nil, fmt.Errorf("writing layer blob: %w", err)
	}
	return l, nil
}

// tarBuilder writes layer entries with normalised metadata: fixed mtime,
// owner root (uid/gid 0, no names), so only content and permission bits
// reach the digest.
type tarBuilder struct {
	tw *tar.Writer
}

// dir adds a directory entry such as the parents of a copied path, which a
// real COPY also records.
func (b *tarBuilder) dir(name string) error {
	return b.write(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755}, "")
}

// file adds the regular file src as name with the given permissions.
func (b *tarBuilder) file(name, src string, mode int64) error {
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("adding %s: %w", src, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("adding %s: not a regular file", src)
	}
	return b.write(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: info.Size()}, src)
}

// tree adds root and everything below it as dest, in lexical walk order.
// Symlinks are stored as symlinks, never followed; sockets, devices and
// pipes are skipped since they are runtime objects, not image content.
func (b *tarBuilder) tree(ctx context.Context, root, dest string) error {
	// WalkDir would not descend into root if root itself were a symlink
	// (e.g. a distribution's /usr/lib/go -> go-1.x).
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", root, err)
	}
	return filepath.WalkDir(resolved, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", root, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(resolved, p)
		if err != nil {
			return fmt.Errorf("walking %s: %w", root, err)
		}
		name := dest
		if rel != "." {
			name = path.Join(dest, filepath.ToSlash(rel))
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("adding %s: %w", p, err)
		}
		hdr := &tar.Header{Name: name, Mode: tarMode(info.Mode())}
		switch m := info.Mode(); {
		case m.IsDir():
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			return b.write(hdr, "")
		case m.IsRegular():
			hdr.Typeflag = tar.TypeReg
			hdr.Size = info.Size()
			return b.write(hdr, p)
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("adding %s: %w", p, err)
			}
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = target
			return b.write(hdr, "")
		default:
			return nil
		}
	})
}

// write emits hdr, then for regular files exactly hdr.Size bytes of src.
func (b *tarBuilder) write(hdr *tar.Header, src string) error {
	hdr.ModTime = epoch
	if err := b.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing layer entry %s: %w", hdr.Name, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("writing layer entry %s: %w", hdr.Name, err)
	}
	defer f.Close()
	// A file that shrank since it was stat'ed would otherwise leave the
	// tar short and unreadable; fail loudly instead.
	if _, err := io.CopyN(b.tw, f, hdr.Size); err != nil {
		return fmt.Errorf("writing layer entry %s from %s: %w", hdr.Name, src, err)
	}
	return nil
}

// tarMode converts permission and special bits to tar's c_ISUID-style mode.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
