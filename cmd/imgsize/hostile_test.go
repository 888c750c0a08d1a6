package main

// Hostile inputs at scale, run as a user would (the binary, its peak
// memory measured): names that climb out of the root, index cycles and
// deep nesting, decompression bombs, 5,000 layers, 100,000 entries, and
// concurrent runs sharing one cache. These prove what already
// holds; docs/reliability.md lists each case with the test that proves it.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/imgsize/imgsize/pkg/cache"
)

// hostileLimit is how long any run here may take before the test kills it
// and fails: a hang detector, far above what a sound run needs.
const hostileLimit = 2 * time.Minute

// hostileRun runs the binary in dir with env added, kills it when it has
// not ended within hostileLimit (failing the test), and returns its result
// with its peak resident memory in bytes.
func hostileRun(t *testing.T, dir string, env []string, args ...string) (result, int64) {
	t.Helper()
	r, rss, err := hostileExec(dir, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	validateJSONOutput(t, dir, args, r)
	return r, rss
}

// hostileExec is hostileRun for any goroutine: it returns what went wrong
// rather than failing the test. The peak memory is 0 when unknown.
//
// It is measured by GNU time, which forks: the rusage of a child of this
// process would not do, as Go starts children with vfork, and Linux keeps
// in ru_maxrss across exec the peak of the memory the child shared with
// its parent until then: the test process's own, not imgsize's.
func hostileExec(dir string, env []string, args ...string) (result, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hostileLimit)
	defer cancel()
	name, argv := binary, args
	var rssFile string
	if _, err := os.Stat(gnuTime); err == nil {
		f, err := os.CreateTemp("", "imgsize-rss-*")
		if err != nil {
			return result{}, 0, err
		}
		f.Close()
		defer os.Remove(f.Name())
		rssFile = f.Name()
		name, argv = gnuTime, append([]string{"-f", "%M", "-o", rssFile, binary}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// A hang kills imgsize too, not only time: the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Only a leaked holder of the output pipes would need the limit; a
	// loaded machine can take more than a second to drain them.
	cmd.WaitDelay = 10 * time.Second
	// Stdout goes to a file, read back whole: copied from a pipe into a
	// growing buffer, a report of 6 MB cost this race-built process about
	// 0.4 s of CPU.
	out, err := os.CreateTemp("", "imgsize-stdout-*")
	if err != nil {
		return result{}, 0, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errb
	err = cmd.Run()
	stdout, rerr := os.ReadFile(out.Name())
	if rerr != nil {
		return result{}, 0, rerr
	}
	r := result{stdout: string(stdout), stderr: errb.String()}
	if ctx.Err() != nil {
		return r, 0, fmt.Errorf("imgsize %s still running after %s (killed)\nstderr: %s", strings.Join(args, " "), hostileLimit, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		return r, 0, err
	}
	var rss int64
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return r, 0, err
		}
		// The last line: GNU time writes "Command exited with non-zero
		// status N" before it when imgsize fails.
		lines := strings.Fields(string(b))
		if len(lines) == 0 {
			return r, 0, fmt.Errorf("%s wrote no peak memory: %q", gnuTime, b)
		}
		if _, err := fmt.Sscan(lines[len(lines)-1], &rss); err != nil {
			return r, 0, fmt.Errorf("%s wrote %q: %v", gnuTime, b, err)
		}
		rss *= 1024 // kilobytes
	}
	return r, rss, nil
}

// gnuTime measures peak memory where it is installed (Debian: time).
const gnuTime = "/usr/bin/time"

// hostileMemory fails when a run's peak memory is known and above limit.
func hostileMemory(t *testing.T, what string, rss, limit int64) {
	t.Helper()
	if rss == 0 {
		t.Logf("%s: peak memory not measured (%s not installed)", what, gnuTime)
		return
	}
	t.Logf("%s: peak RSS %d MB", what, rss>>20)
	if rss > limit {
		t.Errorf("%s: peak RSS %d MB, want under %d MB", what, rss>>20, limit>>20)
	}
}

// hostileLayout writes an OCI image layout blob by blob, so that anything
// (a cycle, a tar no writer would make) can be put in it.
type hostileLayout struct {
	t   *testing.T
	dir string
	// stored are the digests put in dir: a blob listed again (two images
	// sharing 5,000 layers) is neither written nor looked up again.
	stored map[v1.Hash]bool
	// withhold, while set, has blob describe blobs without writing them:
	// those a test wants missing. Writing them only to delete them cost
	// a file creation and a deletion each, about 0.3 ms of system CPU.
	withhold bool
}

func newHostileLayout(t *testing.T) *hostileLayout {
	t.Helper()
	dir := hostileTempDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return &hostileLayout{t: t, dir: dir}
}

// hostileTempDir is a temporary directory for the test, on tmpfs when
// the system's is not and /dev/shm is, with room to spare. On the CI's
// ext4, which has no journal, creating a file costs 0.1-0.3 ms of system
// CPU, as the inode allocator steps over every inode freed in the last
// minutes (the suite frees many); on tmpfs it costs 15 us. A layout of
// 5,000 layers creates 5,000 files.
func hostileTempDir(t *testing.T) string {
	t.Helper()
	const tmpfsMagic = 0x01021994
	var st syscall.Statfs_t
	if err := syscall.Statfs(os.TempDir(), &st); err == nil && st.Type == tmpfsMagic {
		return t.TempDir()
	}
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic || st.Bavail*uint64(st.Bsize) < 1<<30 {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "imgsize-test-*")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

func hostileSHA(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// blob stores b under its digest and returns its descriptor.
func (l *hostileLayout) blob(mt types.MediaType, b []byte) v1.Descriptor {
	h := hostileSHA(b)
	if !l.stored[h] && !l.withhold {
		l.put(h, b)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(b))}
}

// stream stores the blob write produces, hashed on its way to the file:
// a blob of tens of MB is never held in memory, where under -race each
// copy and each doubling of a growing buffer costs seconds of CPU.
func (l *hostileLayout) stream(mt types.MediaType, write func(io.Writer) error) v1.Descriptor {
	l.t.Helper()
	f, err := os.CreateTemp(filepath.Join(l.dir, "blobs", "sha256"), "partial-*")
	if err != nil {
		l.t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if err := write(bw); err != nil {
		l.t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		l.t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		l.t.Fatal(err)
	}
	d := v1.Descriptor{MediaType: mt, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, Size: fi.Size()}
	if err := os.Rename(f.Name(), filepath.Join(l.dir, "blobs", d.Digest.Algorithm, d.Digest.Hex)); err != nil {
		l.t.Fatal(err)
	}
	return d
}

// put stores b under h, whether or not h is b's digest.
func (l *hostileLayout) put(h v1.Hash, b []byte) {
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
	if l.stored == nil {
		l.stored = map[v1.Hash]bool{}
	}
	l.stored[h] = true
}

func (l *hostileLayout) json(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// index writes index.json listing descs.
func (l *hostileLayout) index(descs ...v1.Descriptor) {
	b := l.json(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
	if err := os.WriteFile(filepath.Join(l.dir, "index.json"), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// hostileLayer is a layer blob with what the test knows of it.
type hostileLayer struct {
	blob []byte
	// stored, when set, stands for blob: the layer was written with
	// stream.
	stored *v1.Descriptor
	diffID v1.Hash
	mt     types.MediaType
	// tarLen is the uncompressed stream's length.
	tarLen int64
}

func hostileGzip(t *testing.T, tarb []byte) hostileLayer {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := zw.Write(tarb); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return hostileLayer{blob: b.Bytes(), diffID: hostileSHA(tarb), mt: types.OCILayer, tarLen: int64(len(tarb))}
}

// image writes a config (with one history entry per layer), the layers and
// a manifest, and returns the manifest's descriptor tagged tag.
func (l *hostileLayout) image(tag string, ls []hostileLayer) v1.Descriptor {
	diffIDs := make([]v1.Hash, len(ls))
	layers := make([]v1.Descriptor, len(ls))
	for i, hl := range ls {
		diffIDs[i] = hl.diffID
		if hl.stored != nil {
			layers[i] = *hl.stored
		} else {
			layers[i] = l.blob(hl.mt, hl.blob)
		}
	}
	config := l.blob(types.OCIConfigJSON, hostileConfigJSON(diffIDs))
	d := l.blob(types.OCIManifestSchema1, l.manifestJSON(config, layers))
	if tag != "" {
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
	}
	d.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	return d
}

// hostileConfigJSON is what json.Marshal writes for a linux/amd64
// v1.ConfigFile of these layers (one or more), the history naming each
// "RUN step i". It and manifestJSON write by appending: encoding/json,
// all reflection under the race detector, took TestHostile5000Layers
// 0.3 s for its two images. TestHostileImageJSONConstruction compares
// them with it.
func hostileConfigJSON(diffIDs []v1.Hash) []byte {
	// Sized once: growing it by doubling cost as much as the writing.
	b := make([]byte, 0, 200+180*len(diffIDs))
	b = append(b, `{"architecture":"amd64","created":"0001-01-01T00:00:00Z","history":[`...)
	for i := range diffIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"created":"0001-01-01T00:00:00Z","created_by":"RUN step `...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `"}`...)
	}
	b = append(b, `],"os":"linux","rootfs":{"type":"layers","diff_ids":[`...)
	for i, h := range diffIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(hostileAppendHash(append(b, '"'), h), '"')
	}
	return append(b, `]},"config":{}}`...)
}

// manifestJSON is what json.Marshal writes for the v1.Manifest of an OCI
// image of config and layers.
func (l *hostileLayout) manifestJSON(config v1.Descriptor, layers []v1.Descriptor) []byte {
	b := make([]byte, 0, 200*(len(layers)+2))
	b = append(b, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":`...)
	b = l.appendDescriptor(b, config)
	b = append(b, `,"layers":[`...)
	for i, d := range layers {
		if i > 0 {
			b = append(b, ',')
		}
		b = l.appendDescriptor(b, d)
	}
	return append(b, "]}"...)
}

// appendDescriptor appends d as json.Marshal writes it, by hand when it
// has only a media type, a size and a digest (media types and digests
// hold nothing JSON escapes).
func (l *hostileLayout) appendDescriptor(b []byte, d v1.Descriptor) []byte {
	if d.Data != nil || d.URLs != nil || d.Annotations != nil || d.Platform != nil || d.ArtifactType != "" {
		return append(b, l.json(d)...)
	}
	b = append(b, `{"mediaType":"`...)
	b = append(b, d.MediaType...)
	b = append(b, `","size":`...)
	b = strconv.AppendInt(b, d.Size, 10)
	b = append(b, `,"digest":"`...)
	b = hostileAppendHash(b, d.Digest)
	return append(b, `"}`...)
}

// hostileAppendHash appends h.String() without its fmt.Sprintf.
func hostileAppendHash(b []byte, h v1.Hash) []byte {
	return append(append(append(b, h.Algorithm...), ':'), h.Hex...)
}

// TestHostileImageJSONConstruction: the config and manifest image writes
// are, byte for byte, json.Marshal's of the v1.ConfigFile and v1.Manifest
// they stand for, for one layer, two and three, of two media types.
func TestHostileImageJSONConstruction(t *testing.T) {
	t.Parallel()
	l := newHostileLayout(t)
	var ls []hostileLayer
	for i, mt := range []types.MediaType{types.OCILayer, types.OCIUncompressedLayer, types.OCILayer} {
		b := []byte(fmt.Sprintf("layer %d", i))
		ls = append(ls, hostileLayer{blob: b, diffID: hostileSHA(append(b, '!')), mt: mt})
		cfg := v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}}
		m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
		for i, hl := range ls {
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, hl.diffID)
			cfg.History = append(cfg.History, v1.History{CreatedBy: fmt.Sprintf("RUN step %d", i)})
			m.Layers = append(m.Layers, v1.Descriptor{MediaType: hl.mt, Size: int64(len(hl.blob)), Digest: hostileSHA(hl.blob)})
		}
		cfgJSON := l.json(cfg)
		m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfgJSON)), Digest: hostileSHA(cfgJSON)}
		d := l.image("", ls)
		got, err := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", m.Config.Digest.Hex))
		if err != nil || !bytes.Equal(got, cfgJSON) {
			t.Errorf("%d layers: config (%v)\n%s\nwant\n%s", len(ls), err, got, cfgJSON)
		}
		if want := l.json(m); d.Digest != hostileSHA(want) || d.Size != int64(len(want)) {
			got, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", d.Digest.Hex))
			t.Errorf("%d layers: manifest\n%s\nwant\n%s", len(ls), got, want)
		}
	}
}

// hostileEntry is one header of a hand-made tar, and its body.
type hostileEntry struct {
	name, link string
	typ        byte
	body       []byte
}

func hostileTar(t *testing.T, es []hostileEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %q: %v", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hostileHeader writes into blk, 512 zero bytes, the header archive/tar
// writes for a directory or regular file owned by root and dated the
// epoch, of a name that fits the header's 100 bytes and a size under
// 8 GiB (it panics on others). archive/tar's 100,000 headers cost
// TestHostile100kEntries a second of CPU under the race detector;
// TestHostileTarConstruction checks these against its own.
func hostileHeader(blk []byte, name string, typ byte, mode, size int64) {
	if len(name) > 100 || size < 0 || size >= 1<<33 {
		panic(fmt.Sprintf("hostileHeader: %q of %d bytes needs more than a ustar header", name, size))
	}
	sum := 8 * int64(' ') // the checksum counts its own field as spaces
	str := func(off int, s string) {
		copy(blk[off:], s)
		for i := range len(s) {
			sum += int64(s[i])
		}
	}
	// octal writes v in width-1 digits and a NUL, as archive/tar does.
	octal := func(off, width int, v int64) {
		for i := off + width - 2; i >= off; i-- {
			blk[i] = byte('0' + v&7)
			sum += int64(blk[i])
			v >>= 3
		}
	}
	str(0, name)
	octal(100, 8, mode)
	octal(108, 8, 0) // uid
	octal(116, 8, 0) // gid
	octal(124, 12, size)
	octal(136, 12, 0) // mtime
	blk[156] = typ
	sum += int64(typ)
	str(257, "ustar\x0000")
	octal(329, 8, 0) // devmajor
	octal(337, 8, 0) // devminor
	octal(148, 7, sum)
	blk[155] = ' '
}

// hostileFileTar is the tar of one regular file as hostileTar writes it,
// built with hostileHeader: for TestHostile5000Layers' layers, hostileTar
// cost a tenth of a second.
func hostileFileTar(name string, body []byte) []byte {
	b := make([]byte, 512+(len(body)+511)&^511+1024)
	hostileHeader(b, name, tar.TypeReg, 0o644, int64(len(body)))
	copy(b[512:], body)
	return b
}

// hostileStoredGzip is a gzip layer of tarb in stored deflate blocks,
// uncompressed. Deflating TestHostile5000Layers' 5,001 small layers cost
// this race-built process 0.4 s (a Huffman table built for each); the
// layer's compression is not what that test is about.
func hostileStoredGzip(tarb []byte) hostileLayer {
	z := make([]byte, 0, 10+len(tarb)+5*(len(tarb)/0xffff+1)+8)
	z = append(z, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255) // deflate; no name, no time; unknown OS
	rest := tarb
	for {
		n := min(len(rest), 0xffff)
		var final byte
		if n == len(rest) {
			final = 1
		}
		z = append(z, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		z = append(z, rest[:n]...)
		rest = rest[n:]
		if final == 1 {
			break
		}
	}
	for _, v := range []uint32{crc32.ChecksumIEEE(tarb), uint32(len(tarb))} {
		z = append(z, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	return hostileLayer{blob: z, diffID: hostileSHA(tarb), mt: types.OCILayer, tarLen: int64(len(tarb))}
}

// hostileDigits writes v in decimal into b, zero-padded to its length.
func hostileDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// hostileTreeTar writes the tar of dirs directories d00/, d01/, …, each
// holding perDir files f0000, f0001, … of 0, 1 or 2 bytes in turn, and
// returns the sum of their sizes. It fills a buffer of whole blocks and
// writes it at once: each copy of a block on its way to w (a tar writer,
// a bufio.Writer, a MultiWriter) costs the race detector a pass over it.
func hostileTreeTar(w io.Writer, dirs, perDir int) (int64, error) {
	buf := make([]byte, 0, 256<<10)
	var err error
	block := func() []byte {
		if len(buf) == cap(buf) {
			if err == nil {
				_, err = w.Write(buf)
			}
			clear(buf)
			buf = buf[:0]
		}
		buf = buf[:len(buf)+512]
		return buf[len(buf)-512:]
	}
	dir, file := []byte("d00/"), []byte("d00/f0000")
	var sum int64
	for d := range dirs {
		hostileDigits(dir[1:3], d)
		hostileDigits(file[1:3], d)
		hostileHeader(block(), string(dir), tar.TypeDir, 0o755, 0)
		for f := range perDir {
			size := int64((d*perDir + f) % 3)
			sum += size
			hostileDigits(file[5:9], f)
			hostileHeader(block(), string(file), tar.TypeReg, 0o644, size)
			if size > 0 {
				copy(block(), "ab"[:size])
			}
		}
	}
	block() // the two zero blocks that end a tar
	block()
	if err == nil {
		_, err = w.Write(buf)
	}
	return sum, err
}

// TestHostileTarConstruction: hostileTreeTar writes, byte for byte, what
// archive/tar writes for the same tree, with every digit of the names
// TestHostile100kEntries uses but the first of the file number (always
// 0 there too) taking more than one value, over several of its buffers.
func TestHostileTarConstruction(t *testing.T) {
	t.Parallel()
	const dirs, perDir = 11, 110
	var want bytes.Buffer
	tw := tar.NewWriter(&want)
	var wantSum int64
	for d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%02d/", d), Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		for f := range perDir {
			size := int64((d*perDir + f) % 3)
			wantSum += size
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%02d/f%04d", d, f), Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte("ab")[:size]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	sum, err := hostileTreeTar(&got, dirs, perDir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		i := 0
		for i < min(got.Len(), want.Len()) && got.Bytes()[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("hostileTreeTar wrote %d bytes, archive/tar %d; first difference at byte %d (block %d)", got.Len(), want.Len(), i, i/512)
	}
	if sum != wantSum {
		t.Errorf("hostileTreeTar counts %d bytes of files, want %d", sum, wantSum)
	}
}

// TestHostileFileLayerConstruction: hostileFileTar writes what hostileTar
// writes for TestHostile5000Layers' layers and for bodies around a block,
// and hostileStoredGzip's layers read back through gzip, which checks
// their CRC-32 and length, as the tar they were made of, over one
// deflate block or several.
func TestHostileFileLayerConstruction(t *testing.T) {
	t.Parallel()
	for _, f := range []hostileEntry{
		{name: "l0000", body: []byte("layer 0\n")},
		{name: "l5000", body: []byte("layer 5000\n")},
		{name: "empty"},
		{name: "block", body: bytes.Repeat([]byte{'b'}, 512)},
		{name: strings.Repeat("n", 100), body: bytes.Repeat([]byte{'c'}, 513)},
	} {
		if got, want := hostileFileTar(f.name, f.body), hostileTar(t, []hostileEntry{f}); !bytes.Equal(got, want) {
			t.Errorf("%s: hostileFileTar wrote %q, hostileTar %q", f.name, got, want)
		}
	}
	for _, n := range []int{0, 2048, 0xffff, 0xffff + 1, 3 * 0xffff} {
		tarb := make([]byte, n)
		for i := range tarb {
			tarb[i] = byte(i * 7)
		}
		l := hostileStoredGzip(tarb)
		zr, err := gzip.NewReader(bytes.NewReader(l.blob))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, tarb) || l.tarLen != int64(n) || l.diffID != hostileSHA(tarb) {
			t.Errorf("%d bytes: read back %d bytes (equal: %v), tarLen %d, diffID %s", n, len(got), bytes.Equal(got, tarb), l.tarLen, l.diffID)
		}
	}
}

// hostileTree lists every path under dir with its size and mtime, to prove
// a run wrote nothing there.
func hostileTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	st := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st[p] = fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func hostileSameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, s := range after {
		if b, ok := before[p]; !ok {
			t.Errorf("%s: %s appeared during the run", what, p)
		} else if b != s {
			t.Errorf("%s: %s changed during the run (%s -> %s)", what, p, b, s)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: %s vanished during the run", what, p)
		}
	}
}

// hostileOneLine fails unless stderr is one "imgsize: …" line holding want.
func hostileOneLine(t *testing.T, r result, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "imgsize: ") {
		t.Errorf("stderr is not one 'imgsize: …' line: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not say %q", r.stderr, want)
	}
}

// hostileFilesDoc is the part of a files or diff report these tests read.
type hostileFilesDoc struct {
	Images []struct {
		Uncompressed struct {
			Bytes      *int64 `json:"bytes"`
			Provenance string `json:"provenance"`
		} `json:"uncompressed"`
	} `json:"images"`
	Files struct {
		Filesystem struct {
			Entries int   `json:"entries"`
			Bytes   int64 `json:"bytes"`
		} `json:"filesystem"`
		Layers []struct {
			Added struct {
				Entries int   `json:"entries"`
				Bytes   int64 `json:"bytes"`
			} `json:"added"`
			Changed struct {
				Entries int   `json:"entries"`
				Bytes   int64 `json:"bytes"`
			} `json:"changed"`
			TarBytes int64 `json:"tarBytes"`
		} `json:"layers"`
		Largest []struct {
			Path  string `json:"path"`
			Bytes int64  `json:"bytes"`
			Layer int    `json:"layer"`
		} `json:"largest"`
		Reclaimable []struct {
			Path string `json:"path"`
		} `json:"reclaimable"`
	} `json:"files"`
	Diff struct {
		Added struct {
			Entries int   `json:"entries"`
			Bytes   int64 `json:"bytes"`
		} `json:"added"`
		Changed struct {
			Entries int `json:"entries"`
		} `json:"changed"`
		Entries []struct {
			Path   string   `json:"path"`
			Change string   `json:"change"`
			Fields []string `json:"fields"`
		} `json:"entries"`
	} `json:"diff"`
}

func hostileDecode(t *testing.T, s string) hostileFilesDoc {
	t.Helper()
	var d hostileFilesDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("output is not JSON: %v\n%.2000s", err, s)
	}
	return d
}

// hostileMember decodes into v the member key of report's top-level
// object and nothing else: decoding all of TestHostile5000Layers' 5 and
// 7 MB reports cost this race-built process 0.3-0.4 s each, and
// hostileRun has every report checked whole against the schema. The
// report is indented by two spaces, as imgsize writes JSON, so a line
// that starts with exactly two spaces and a quote starts a top-level
// member: a string holds no raw newline, a deeper line is indented more.
func hostileMember(t *testing.T, report, key string, v any) {
	t.Helper()
	start := "\n  " + strconv.Quote(key) + ": "
	i := strings.Index(report, start)
	if !strings.HasPrefix(report, "{\n  \"") || i < 0 || strings.Contains(report[i+1:], start) {
		t.Fatalf("not one top-level %q in the report:\n%.2000s", key, report)
	}
	if err := json.NewDecoder(strings.NewReader(report[i+len(start):])).Decode(v); err != nil {
		t.Fatalf("the report's %q: %v\n%.2000s", key, err, report[i:])
	}
}

// hostileClean: a reported path is absolute, clean, and climbs nowhere.
func hostileClean(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && !strings.Contains(p, "/../") && !strings.HasSuffix(p, "/..")
}

// TestHostileTraversalNames: a layer whose tar names climb out of the root
// ("../../etc/passwd", "a/../../b"), are absolute, carry control characters
// and terminal escapes, or are 3 KB deep, with symlink and hard-link
// targets that climb too. `files` and `diff` write nothing anywhere (not
// in the working directory, nested so that a climbing name would land in
// the tree watched, nor in TMPDIR, nor in the layout), report every path
// normalised under "/" as the runtime would unpack it ("../../etc/passwd"
// over /etc/passwd is a change of /etc/passwd), and print control
// characters escaped in tables. A name longer than PATH_MAX is refused:
// exit 3, one line.
func TestHostileTraversalNames(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	l := &hostileLayout{t: t, dir: filepath.Join(root, "layout")}
	os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	cwd := filepath.Join(root, "w", "x", "y")
	tmp := filepath.Join(root, "tmp")
	for _, d := range []string{cwd, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	const ctl = "ctl\x01\x1b[31mred\x7f\r\tx"
	long := strings.Repeat("d123456789/", 300) + "deep" // 3,304 bytes, 301 levels
	base := hostileTar(t, []hostileEntry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/passwd", body: []byte("root:x:0:0\n")}})
	evil := hostileTar(t, []hostileEntry{
		{name: "../../etc/passwd", body: []byte("pwned\n")},
		{name: "/abs/path", body: []byte("abs")},
		{name: "a/../../b", body: []byte("bb")},
		{name: ctl, body: []byte("c")},
		{name: long, body: []byte("long")},
		{name: "lnk", link: "../../../../etc/shadow", typ: tar.TypeSymlink},
		{name: "hard", link: "../../etc/passwd", typ: tar.TypeLink},
	})
	tooLong := hostileTar(t, []hostileEntry{{name: strings.Repeat("x/", 2100) + "f", body: []byte("x")}})
	baseLayer := hostileGzip(t, base)
	l.index(
		l.image("a", []hostileLayer{baseLayer}),
		l.image("b", []hostileLayer{baseLayer, hostileGzip(t, evil)}),
		l.image("toolong", []hostileLayer{baseLayer, hostileGzip(t, tooLong)}),
	)
	a, b := "oci:"+l.dir+":a", "oci:"+l.dir+":b"
	env := []string{"TMPDIR=" + tmp, "XDG_CACHE_HOME=" + filepath.Join(t.TempDir(), "cache")}

	before := hostileTree(t, root)
	run := func(args ...string) result {
		t.Helper()
		r, _ := hostileRun(t, cwd, env, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return r
	}

	// files: every path normalised, the climbing passwd a change of
	// /etc/passwd, the counts exact.
	for _, content := range []bool{false, true} {
		args := []string{"files", "-f", "json", "--top", "20", b}
		if content {
			args = append(args, "--content")
		}
		doc := hostileDecode(t, run(args...).stdout)
		fsys := doc.Files.Filesystem
		// 2 from the base; then /abs, /abs/path, /b, the control name, 300
		// directories and the deep file, lnk, hard: 307.
		if fsys.Entries != 309 || fsys.Bytes != 6+3+2+1+4 {
			t.Errorf("content=%v: filesystem %+v, want 309 entries, 16 bytes", content, fsys)
		}
		if len(doc.Files.Layers) != 2 || doc.Files.Layers[1].Added.Entries != 307 || doc.Files.Layers[1].Changed.Entries != 1 || doc.Files.Layers[1].Changed.Bytes != 6 {
			t.Errorf("content=%v: layers %+v, want layer 1 to add 307 and change 1 (6 bytes)", content, doc.Files.Layers)
		}
		got := map[string]int64{}
		for _, f := range doc.Files.Largest {
			if !hostileClean(f.Path) {
				t.Errorf("content=%v: largest file reported as %q", content, f.Path)
			}
			got[f.Path] = f.Bytes
		}
		for p, n := range map[string]int64{"/etc/passwd": 6, "/abs/path": 3, "/b": 2, "/" + ctl: 1, "/" + long: 4} {
			if got[p] != n {
				t.Errorf("content=%v: %.40q is listed with %d bytes, want %d (listed: %d paths)", content, p, got[p], n, len(got))
			}
		}
		if len(doc.Files.Reclaimable) != 1 || doc.Files.Reclaimable[0].Path != "/etc/passwd" {
			t.Errorf("content=%v: reclaimable %+v, want the superseded /etc/passwd", content, doc.Files.Reclaimable)
		}
	}
	table := run("files", "--top", "20", b).stdout
	if strings.ContainsAny(table, "\x01\x1b\x7f\r") {
		t.Errorf("files table carries raw control characters:\n%q", table)
	}
	if !strings.Contains(table, `/ctl\x01\x1b[31mred\x7f\r\tx`) {
		t.Errorf("files table does not show the control name escaped:\n%s", table)
	}

	// diff: the same normalisation, and link targets kept as written.
	doc := hostileDecode(t, run("diff", "-f", "json", "--top", "20", a, b).stdout)
	if doc.Diff.Added.Entries != 307 || doc.Diff.Changed.Entries != 1 {
		t.Errorf("diff: added %+v, changed %+v; want 307 and 1", doc.Diff.Added, doc.Diff.Changed)
	}
	seen := map[string]string{}
	for _, e := range doc.Diff.Entries {
		if !hostileClean(e.Path) {
			t.Errorf("diff entry reported as %q", e.Path)
		}
		seen[e.Path] = e.Change
	}
	for p, c := range map[string]string{"/etc/passwd": "changed", "/b": "added", "/abs": "added", "/lnk": "added", "/hard": "added", "/" + ctl: "added"} {
		if seen[p] != c {
			t.Errorf("diff: %q is %q, want %q", p, seen[p], c)
		}
	}
	table = run("diff", "--top", "20", a, b).stdout
	if strings.ContainsAny(table, "\x01\x1b\x7f\r") {
		t.Errorf("diff table carries raw control characters:\n%q", table)
	}

	// A name no Linux filesystem can hold is refused, not walked.
	for _, cmd := range [][]string{{"files", "oci:" + l.dir + ":toolong"}, {"diff", a, "oci:" + l.dir + ":toolong"}} {
		r, _ := hostileRun(t, cwd, env, cmd...)
		if r.code != exitImage {
			t.Errorf("%s of a name over PATH_MAX: exit %d, want %d; stderr %q", cmd[0], r.code, exitImage, r.stderr)
		}
		hostileOneLine(t, r, "PATH_MAX")
		if r.stdout != "" {
			t.Errorf("%s: stdout on error: %.200q", cmd[0], r.stdout)
		}
	}

	hostileSameTree(t, "test tree (layout, cwd, TMPDIR)", before, hostileTree(t, root))
	if _, err := os.Stat("/abs/path"); err == nil {
		t.Error("/abs/path exists")
	}
}

// indexOf is an image index listing descs.
func (l *hostileLayout) indexOf(descs ...v1.Descriptor) []byte {
	return l.json(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
}

// cyclic stores, under made-up digests, n indexes each listing the next
// and the last listing the first, with sizes that match; it returns the
// first one's descriptor. No real digest can close a cycle, so each blob's
// content differs from what its digest says.
func (l *hostileLayout) cyclic(n int) v1.Descriptor {
	hs := make([]v1.Hash, n)
	for i := range hs {
		hs[i] = hostileSHA([]byte(fmt.Sprintf("cycle %d of %d", i, n)))
	}
	desc := func(i int, size int64) v1.Descriptor {
		return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: hs[i%n], Size: size}
	}
	// Every blob has the same length; find the size that states it.
	size := int64(0)
	for {
		b := l.indexOf(desc(1, size))
		if int64(len(b)) == size {
			break
		}
		size = int64(len(b))
	}
	for i := range hs {
		l.put(hs[i], l.indexOf(desc(i+1, size)))
	}
	return desc(0, size)
}

// TestHostileIndexCycles: an index that lists itself, two that list each
// other, and a chain of 1,000 nested indexes end with exit 3 and one line
// (the cycle as a digest mismatch: a blob cannot hold its own digest, so
// any cycle has one; the chain as "nested too deeply" with only its top
// 11 indexes on disk, so nothing deeper was read); a chain of 3, which
// real tools write, resolves.
func TestHostileIndexCycles(t *testing.T) {
	t.Parallel()
	img := func(l *hostileLayout) v1.Descriptor {
		return l.image("", []hostileLayer{hostileGzip(t, hostileTar(t, []hostileEntry{{name: "f", body: []byte("x")}}))})
	}
	// chain nests levels indexes over an image and writes none of its
	// levels-keep deepest blobs (the image's and the indexes nearest
	// it): a reader that went deeper would find a blob missing.
	chain := func(l *hostileLayout, levels, keep int) v1.Descriptor {
		l.withhold = keep < levels
		d := img(l)
		for i := range levels {
			l.withhold = i < levels-keep-1
			d = l.blob(types.OCIImageIndex, l.indexOf(d))
		}
		return d
	}
	cases := []struct {
		name string
		top  func(l *hostileLayout) v1.Descriptor
		code int
		want string
	}{
		{"index listing itself", func(l *hostileLayout) v1.Descriptor { return l.cyclic(1) }, exitImage, "digest mismatch"},
		{"two indexes listing each other", func(l *hostileLayout) v1.Descriptor { return l.cyclic(2) }, exitImage, "digest mismatch"},
		{"1,000 nested indexes", func(l *hostileLayout) v1.Descriptor { return chain(l, 1000, 10) }, exitImage, "nested too deeply"},
		{"3 nested indexes", func(l *hostileLayout) v1.Descriptor { return chain(l, 3, 3) }, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newHostileLayout(t)
			l.index(tc.top(l))
			for _, args := range [][]string{{"inspect", "oci:" + l.dir}, {"files", "oci:" + l.dir}} {
				r, _ := hostileRun(t, t.TempDir(), []string{"XDG_CACHE_HOME=" + t.TempDir()}, args...)
				if r.code != tc.code {
					t.Fatalf("%s: exit %d, want %d; stderr %q", args[0], r.code, tc.code, r.stderr)
				}
				if tc.code == 0 {
					if !strings.Contains(r.stdout, "RUN step 0") {
						t.Errorf("%s: the image is not shown:\n%s", args[0], r.stdout)
					}
					continue
				}
				hostileOneLine(t, r, tc.want)
				if strings.Contains(r.stderr, "goroutine ") || r.stdout != "" {
					t.Errorf("%s: stdout %q, stderr %q", args[0], r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestHostileIndexFanOut: five nested indexes, each listing the next one
// 6 times, over one image: a layout of 6 small blobs that names the same
// image 6^5 = 7,776 times. imgsize should see one image (or refuse the
// layout) with work bounded by the blobs, not by the paths through them.
//
// flattenIndex once expanded every path through the indexes (N^5 for N
// entries per index: "7776 images" here, 1.3 GB for N=16); it now expands
// each digest once.
func TestHostileIndexFanOut(t *testing.T) {
	t.Parallel()
	l := newHostileLayout(t)
	d := l.image("", []hostileLayer{hostileGzip(t, hostileTar(t, []hostileEntry{{name: "f", body: []byte("x")}}))})
	for range 5 {
		var ms []v1.Descriptor
		for range 6 {
			ms = append(ms, d)
		}
		d = l.blob(types.OCIImageIndex, l.indexOf(ms...))
	}
	l.index(d)
	r, _ := hostileRun(t, t.TempDir(), []string{"XDG_CACHE_HOME=" + t.TempDir()}, "inspect", "oci:"+l.dir)
	switch r.code {
	case 0:
		if !strings.Contains(r.stdout, "RUN step 0") {
			t.Errorf("the image is not shown:\n%s", r.stdout)
		}
	case exitImage:
		hostileOneLine(t, r, "index")
	default:
		t.Errorf("exit %d, want 0 (one image) or %d (layout refused); stderr %q", r.code, exitImage, r.stderr)
	}
	if strings.Contains(r.stderr, "7776") {
		t.Errorf("one image counted 7,776 times: %q", r.stderr)
	}
}

// hostileZeros is a gzip layer of one file of n zero bytes: about 1,000:1.
// After the tar header every byte is zero (the body, its padding to a
// block, the two end blocks), so zeroGzip builds the layer without
// compressing n bytes; TestHostileZerosConstruction checks a small one
// against what a tar writer writes.
func hostileZeros(t *testing.T, n int64) hostileLayer {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: n, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	zeros := n + (-n & 511) + 1024
	blob, sums := zeroGzip(t, hdr.Bytes(), zeros, nil)
	return hostileLayer{blob: blob, diffID: v1.Hash{Algorithm: "sha256", Hex: sums.sha256}, mt: types.OCILayer, tarLen: int64(hdr.Len()) + zeros}
}

// The zeros layer is the tar a tar writer makes, byte for byte, and its
// diffID and length are that tar's; gzip reads it, checking its CRC-32
// and length. The bomb is the same code with a larger n.
func TestHostileZerosConstruction(t *testing.T) {
	t.Parallel()
	const n = 3<<20 + 100 // not a whole block: the padding is built too
	var want bytes.Buffer
	tw := tar.NewWriter(&want)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: n, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l := hostileZeros(t, n)
	zr, err := gzip.NewReader(bytes.NewReader(l.blob))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("the layer holds %d bytes, not the %d-byte tar of one file of %d zeros", len(got), want.Len(), n)
	}
	if l.tarLen != int64(want.Len()) || l.diffID != hostileSHA(want.Bytes()) {
		t.Errorf("tarLen %d, diffID %s; want %d, %s", l.tarLen, l.diffID, want.Len(), hostileSHA(want.Bytes()))
	}
}

type hostileCounter int64

func (c *hostileCounter) Write(p []byte) (int, error) {
	*c += hostileCounter(len(p))
	return len(p), nil
}

// hostileTera is a tar that is only a header claiming a file of 1 TB: no
// body, no end blocks.
func hostileTera(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "huge", Mode: 0o644, Size: 1 << 40, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b.Bytes()) // the writer is left unclosed: the body never comes
}

// hostileDockerArchive writes a docker save archive of one image with an
// uncompressed layer holding tarb, and returns its argument.
func hostileDockerArchive(t *testing.T, tarb []byte) string {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{hostileSHA(tarb).String()}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{"manifest.json", []byte(`[{"Config":"c.json","RepoTags":["app:v1"],"Layers":["l/layer.tar"]}]`)},
		{"c.json", cfg},
		{"l/layer.tar", tarb},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "app.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "docker-archive:" + p
}

// bombRSS bounds the peak memory of a run over the 200 MB bomb: half the
// bomb, so a run that held the layer in memory fails; a streaming run
// needs about 25 MB.
const bombRSS = 100 << 20

// TestHostileBombs: a gzip layer of 200 MB of zeros in 200 KB (1,000:1) is
// counted exactly by inspect (its uncompressed size, to the byte) and by
// files (one file of 200,000,000 bytes), streaming: peak memory stays
// under half the layer. A tar whose only header claims a 1 TB file and
// then ends, gzipped, stored uncompressed in a layout, or in a docker save
// archive (read by seeking past contents), is "reading tar: unexpected
// EOF", exit 3, naming the layer, at a few tens of MB: nothing is
// allocated or sought to the size claimed. inspect, which does not parse
// the tar, reports what the stream really holds (1,536 bytes), not 1 TB.
func TestHostileBombs(t *testing.T) {
	t.Parallel()
	const zeros = 200_000_000
	l := newHostileLayout(t)
	bomb := hostileZeros(t, zeros)
	if len(bomb.blob) > zeros/500 {
		t.Fatalf("the bomb is %d bytes compressed, not a bomb", len(bomb.blob))
	}
	tera := hostileTera(t)
	l.index(
		l.image("zeros", []hostileLayer{bomb}),
		l.image("tera-gz", []hostileLayer{hostileGzip(t, tera)}),
		l.image("tera-raw", []hostileLayer{{blob: tera, diffID: hostileSHA(tera), mt: types.OCIUncompressedLayer, tarLen: int64(len(tera))}}),
	)
	run := func(args ...string) result {
		t.Helper()
		r, rss := hostileRun(t, t.TempDir(), []string{"XDG_CACHE_HOME=" + t.TempDir()}, args...)
		hostileMemory(t, strings.Join(args, " "), rss, bombRSS)
		return r
	}

	t.Run("zeros", func(t *testing.T) {
		t.Parallel()
		r := run("inspect", "-f", "json", "oci:"+l.dir+":zeros")
		if r.code != 0 {
			t.Fatalf("inspect: exit %d: %s", r.code, r.stderr)
		}
		doc := decode(t, r.stdout)
		if u := doc.Images[0].Uncompressed; u.Bytes == nil || *u.Bytes != bomb.tarLen || u.Provenance != "exact" {
			t.Errorf("inspect: uncompressed %+v, want %d exact", u, bomb.tarLen)
		}
		r = run("files", "-f", "json", "oci:"+l.dir+":zeros")
		if r.code != 0 {
			t.Fatalf("files: exit %d: %s", r.code, r.stderr)
		}
		fd := hostileDecode(t, r.stdout)
		if fs := fd.Files.Filesystem; fs.Entries != 1 || fs.Bytes != zeros {
			t.Errorf("files: filesystem %+v, want 1 entry of %d bytes", fs, zeros)
		}
		if len(fd.Files.Largest) != 1 || fd.Files.Largest[0].Path != "/zeros" || fd.Files.Largest[0].Bytes != zeros {
			t.Errorf("files: largest %+v, want /zeros of %d bytes", fd.Files.Largest, zeros)
		}
	})

	t.Run("1 TB header without body", func(t *testing.T) {
		t.Parallel()
		for _, arg := range []string{"oci:" + l.dir + ":tera-gz", "oci:" + l.dir + ":tera-raw", hostileDockerArchive(t, tera)} {
			for _, content := range []bool{false, true} {
				args := []string{"files", arg}
				if content {
					args = append(args, "--content")
				}
				r := run(args...)
				if r.code != exitImage {
					t.Errorf("%v: exit %d, want %d; stderr %q", args, r.code, exitImage, r.stderr)
				}
				hostileOneLine(t, r, "reading tar: unexpected EOF")
				if !strings.Contains(r.stderr, ": layer sha256:") {
					t.Errorf("%v: the error does not name the layer: %q", args, r.stderr)
				}
			}
			r := run("inspect", "-f", "json", arg)
			if r.code != 0 {
				t.Fatalf("inspect %s: exit %d: %s", arg, r.code, r.stderr)
			}
			if u := decode(t, r.stdout).Images[0].Uncompressed; u.Bytes == nil || *u.Bytes != int64(len(tera)) {
				t.Errorf("inspect %s: uncompressed %+v, want the %d bytes the stream holds", arg, u, len(tera))
			}
		}
	})
}

// hostileGzipper gzips many small layers with one writer.
type hostileGzipper struct {
	zw  *gzip.Writer
	buf bytes.Buffer
}

func (g *hostileGzipper) layer(t *testing.T, tarb []byte) hostileLayer {
	t.Helper()
	g.buf.Reset()
	if g.zw == nil {
		g.zw, _ = gzip.NewWriterLevel(&g.buf, gzip.BestSpeed)
	} else {
		g.zw.Reset(&g.buf)
	}
	if _, err := g.zw.Write(tarb); err != nil {
		t.Fatal(err)
	}
	if err := g.zw.Close(); err != nil {
		t.Fatal(err)
	}
	return hostileLayer{blob: bytes.Clone(g.buf.Bytes()), diffID: hostileSHA(tarb), mt: types.OCILayer, tarLen: int64(len(tarb))}
}

// hostileComparison is the part of a compare report's comparison these
// tests read.
type hostileComparison struct {
	Rows []struct {
		Image         int      `json:"image"`
		SharedLayers  int      `json:"sharedLayers"`
		AddedLayers   []string `json:"addedLayers"`
		RemovedLayers []string `json:"removedLayers"`
	} `json:"rows"`
}

// TestHostile5000Layers: an image of 5,000 layers (and 5,000 history
// entries), and the same with one more. inspect (JSON, and the table from
// the JSON report saved), compare (against that report) and files all
// succeed; every
// total equals the sum computed here from the blobs written, every layer
// is listed in order with its own build step, and compare finds the 5,000
// shared layers and the one added.
func TestHostile5000Layers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and reads an image of 5,000 layers")
	}
	t.Parallel()
	const n = 5000
	l := newHostileLayout(t)
	ls := make([]hostileLayer, n+1)
	var compressed, uncompressed, fileBytes int64
	for i := range ls {
		body := []byte(fmt.Sprintf("layer %d\n", i))
		ls[i] = hostileStoredGzip(hostileFileTar(fmt.Sprintf("l%04d", i), body))
		if i < n {
			compressed += int64(len(ls[i].blob))
			uncompressed += ls[i].tarLen
			fileBytes += int64(len(body))
		}
	}
	l.index(l.image("many", ls[:n]), l.image("more", ls))
	many, more := "oci:"+l.dir+":many", "oci:"+l.dir+":more"
	out := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		r, _ := hostileRun(t, out, nil, append(args, "--no-cache")...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return r.stdout
	}

	run("inspect", "-f", "json", "-o", "many.json", many)
	raw, err := os.ReadFile(filepath.Join(out, "many.json"))
	if err != nil {
		t.Fatal(err)
	}
	// One decoding for the totals and the layers: each is a pass over
	// 3 MB under the race detector.
	type size struct {
		Bytes      *int64 `json:"bytes"`
		Provenance string `json:"provenance"`
	}
	var doc struct {
		Images []struct {
			Compressed   size `json:"compressed"`
			Uncompressed size `json:"uncompressed"`
			Layers       []struct {
				Digest       string `json:"digest"`
				CreatedBy    string `json:"createdBy"`
				Uncompressed size   `json:"uncompressed"`
			} `json:"layers"`
		} `json:"images"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%.2000s", err, raw)
	}
	if len(doc.Images) != 1 {
		t.Fatalf("inspect: %d images, want 1", len(doc.Images))
	}
	img := doc.Images[0]
	if len(img.Layers) != n {
		t.Errorf("inspect: %d layers, want %d", len(img.Layers), n)
	}
	if c := img.Compressed; c.Bytes == nil || *c.Bytes != compressed || c.Provenance != "exact" {
		t.Errorf("inspect: compressed %+v, want %d exact", c, compressed)
	}
	if u := img.Uncompressed; u.Bytes == nil || *u.Bytes != uncompressed || u.Provenance != "exact" {
		t.Errorf("inspect: uncompressed %+v, want %d exact", u, uncompressed)
	}
	for i, layer := range img.Layers {
		if want := l.blobDigest(ls[i]); layer.Digest != want {
			t.Fatalf("inspect: layer %d is %s, want %s", i, layer.Digest, want)
		}
		if want := fmt.Sprintf("RUN step %d", i); layer.CreatedBy != want {
			t.Fatalf("inspect: layer %d created by %q, want %q", i, layer.CreatedBy, want)
		}
		if b := layer.Uncompressed.Bytes; b == nil || *b != ls[i].tarLen {
			t.Fatalf("inspect: layer %d uncompressed %v, want %d", i, b, ls[i].tarLen)
		}
	}

	// The table, from the saved report: the same 5,000 rows, none measured
	// a second time.
	table := run("inspect", "many.json")
	if got := strings.Count(table, "   RUN step "); got != n {
		t.Errorf("inspect table: %d layer rows, want %d", got, n)
	}
	if !strings.Contains(table, "Layers: 5000") {
		t.Errorf("inspect table does not say 5000 layers:\n%.600s", table)
	}

	var cmp hostileComparison
	hostileMember(t, run("compare", "-f", "json", "many.json", more), "comparison", &cmp)
	var found bool
	for _, row := range cmp.Rows {
		if row.Image != 1 {
			continue
		}
		found = true
		if row.SharedLayers != n || len(row.AddedLayers) != 1 || row.AddedLayers[0] != l.blobDigest(ls[n]) || len(row.RemovedLayers) != 0 {
			t.Errorf("compare: shared %d, added %v, removed %d; want %d, [%s], 0", row.SharedLayers, row.AddedLayers, len(row.RemovedLayers), n, l.blobDigest(ls[n]))
		}
	}
	if !found {
		t.Errorf("compare: no row for the second image: %+v", cmp)
	}

	var fd hostileFilesDoc
	hostileMember(t, run("files", "-f", "json", many), "files", &fd.Files)
	if fs := fd.Files.Filesystem; fs.Entries != n || fs.Bytes != fileBytes {
		t.Errorf("files: filesystem %+v, want %d entries, %d bytes", fs, n, fileBytes)
	}
	if len(fd.Files.Layers) != n {
		t.Errorf("files: %d layers, want %d", len(fd.Files.Layers), n)
	}
}

func (l *hostileLayout) blobDigest(hl hostileLayer) string { return hostileSHA(hl.blob).String() }

// TestHostile100kEntries: one layer of 100,000 files in 100 directories
// (an 85 MB tar). files lists every entry: the final filesystem, the
// layer's additions and its tar bytes equal the counts and the sum of
// sizes computed here, inspect counts the tar to the byte, and peak memory
// stays under 200 MB.
func TestHostile100kEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and reads a layer of 100,000 files")
	}
	t.Parallel()
	const dirs, perDir = 100, 1000
	// gzip compresses in a process of its own: deflating the 85 MB tar
	// took this race-instrumented process more CPU than writing it. It
	// writes to a file: read from a pipe into a growing buffer, even its
	// 2 MB cost this process a tenth of a second.
	blobFile, err := os.Create(filepath.Join(t.TempDir(), "layer.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer blobFile.Close()
	var gzErr bytes.Buffer
	gz := exec.Command("gzip", "-1", "-n", "-c")
	gz.Stdout, gz.Stderr = blobFile, &gzErr
	stdin, err := gz.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := gz.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close() // a failed test does not leave gzip waiting
	h := sha256.New()
	var tarLen hostileCounter
	want, err := hostileTreeTar(io.MultiWriter(stdin, h, &tarLen), dirs, perDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Wait(); err != nil {
		t.Fatalf("gzip: %v: %s", err, gzErr.Bytes())
	}
	blob, err := os.ReadFile(blobFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	l := newHostileLayout(t)
	l.index(l.image("", []hostileLayer{{blob: blob, diffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, mt: types.OCILayer, tarLen: int64(tarLen)}}))

	r, rss := hostileRun(t, t.TempDir(), []string{"XDG_CACHE_HOME=" + t.TempDir()}, "files", "-f", "json", "oci:"+l.dir)
	if r.code != 0 {
		t.Fatalf("files: exit %d: %s", r.code, r.stderr)
	}
	hostileMemory(t, "files", rss, 200<<20)
	doc := hostileDecode(t, r.stdout)
	const entries = dirs + dirs*perDir
	if fs := doc.Files.Filesystem; fs.Entries != entries || fs.Bytes != want {
		t.Errorf("filesystem %+v, want %d entries, %d bytes", fs, entries, want)
	}
	if len(doc.Files.Layers) != 1 {
		t.Fatalf("%d layers, want 1", len(doc.Files.Layers))
	}
	if ly := doc.Files.Layers[0]; ly.Added.Entries != entries || ly.Added.Bytes != want || ly.TarBytes != want || ly.Changed.Entries != 0 {
		t.Errorf("layer %+v, want %d entries and %d bytes added, none changed", ly, entries, want)
	}
	if u := doc.Images[0].Uncompressed; u.Bytes == nil || *u.Bytes != int64(tarLen) || u.Provenance != "exact" {
		t.Errorf("uncompressed %+v, want %d exact", u, int64(tarLen))
	}
}

// TestHostileConcurrentCache: six imgsize processes share one --cache-dir
// at once: four inspect the same two images (30 layers, 24 shared), two
// list the files of the larger one; then a fifth inspect and a third
// files. All exit 0 with identical reports, and the cache holds exactly
// one well-formed size entry per layer (read back through pkg/cache, which
// refuses a damaged one) with the figure the reports give, one file-list
// blob per layer of the files runs' image, and no temporary file.
func TestHostileConcurrentCache(t *testing.T) {
	t.Parallel()
	l := newHostileLayout(t)
	var g hostileGzipper
	rnd := rand.New(rand.NewChaCha8([32]byte{42}))
	ls := make([]hostileLayer, 30)
	for i := range ls {
		body := make([]byte, 20_000+i*1000)
		for j := range body {
			body[j] = byte(rnd.IntN(256))
		}
		ls[i] = g.layer(t, hostileTar(t, []hostileEntry{{name: fmt.Sprintf("f%02d", i), body: body}}))
	}
	l.index(l.image("a", ls[:24]), l.image("b", ls))
	cacheDir := filepath.Join(t.TempDir(), "cache")
	inspect := []string{"inspect", "-f", "json", "--jobs", "4", "--cache-dir", cacheDir, "oci:" + l.dir + ":a", "oci:" + l.dir + ":b"}
	filesArgs := []string{"files", "-f", "json", "--jobs", "4", "--cache-dir", cacheDir, "oci:" + l.dir + ":b"}

	// report is a report without its time: what must be the same.
	report := func(r result) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "time")
		b, _ := json.Marshal(doc)
		return string(b)
	}
	runs := [][]string{inspect, inspect, inspect, inspect, filesArgs, filesArgs}
	results := make([]result, len(runs))
	errs := make([]error, len(runs))
	dirs := make([]string, len(runs))
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _, errs[i] = hostileExec(dirs[i], nil, args...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fifth, _ := hostileRun(t, t.TempDir(), nil, inspect...)
	sixth, _ := hostileRun(t, t.TempDir(), nil, filesArgs...)
	for i, r := range results {
		want := fifth
		if runs[i][0] == "files" {
			want = sixth
		}
		if got, want := report(r), report(want); got != want {
			t.Errorf("concurrent run %d (%s) reports other figures than the one after it:\n%s\nwant\n%s", i, runs[i][0], got, want)
		}
	}

	// Every file in the cache is an entry of one of the layers, none a
	// leftover temporary.
	var doc struct {
		Images []struct {
			Layers []struct {
				Digest       string `json:"digest"`
				Uncompressed struct {
					Bytes *int64 `json:"bytes"`
				} `json:"uncompressed"`
			} `json:"layers"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(fifth.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	figures := map[v1.Hash]int64{}
	for _, img := range doc.Images {
		for _, layer := range img.Layers {
			figures[v1.Hash{Algorithm: "sha256", Hex: strings.TrimPrefix(layer.Digest, "sha256:")}] = *layer.Uncompressed.Bytes
		}
	}
	if len(figures) != 30 {
		t.Fatalf("%d distinct layers reported, want 30", len(figures))
	}
	var sizes, lists int
	err := filepath.WalkDir(cacheDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left in the cache: %s", p)
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(cacheDir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 4 || parts[1] != "sha256" || !strings.HasPrefix(parts[3], parts[2]) || len(parts[2]) != 2 {
			t.Errorf("unexpected file in the cache: %s", rel)
			return nil
		}
		switch parts[0] {
		case "layers":
			sizes++
			if !strings.HasSuffix(parts[3], ".json") {
				t.Errorf("unexpected file in the cache: %s", rel)
			}
		case "files":
			lists++
			// A file list is a zstd frame (pkg/files/cachefmt.go).
			if b, err := os.ReadFile(p); err != nil || !bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Errorf("file list %s is not a zstd frame (%v)", rel, err)
			}
		default:
			t.Errorf("unexpected file in the cache: %s", rel)
			return nil
		}
		h := v1.Hash{Algorithm: "sha256", Hex: strings.TrimSuffix(parts[3], ".json")}
		if _, ok := figures[h]; !ok {
			t.Errorf("cache entry %s is not a layer of the images", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lists != len(figures) {
		t.Errorf("cache holds %d file lists, want one per layer (%d)", lists, len(figures))
	}
	if sizes != len(figures) {
		t.Errorf("cache holds %d size entries, want one per layer (%d)", sizes, len(figures))
	}
	c := cache.New(cacheDir)
	for h, n := range figures {
		e, ok := c.Get(h)
		if !ok {
			t.Errorf("no well-formed cache entry for layer %s", h)
			continue
		}
		if e.Uncompressed != n || e.Provenance != "exact" {
			t.Errorf("cache entry for %s: %d %s, reports say %d exact", h, e.Uncompressed, e.Provenance, n)
		}
	}
}
