package files_test

// Benchmarks of files.Read on a large generated image.
//
//	go test -run XXX -bench . -benchtime 1x ./pkg/files     # ~25 s on 2 cores
//	IMGSIZE_BENCH_LARGE=0 go test -run XXX -bench . ./pkg/files  # a small image, ~3 s
//
// The image is made once per process, and only when a benchmark runs, in a
// temporary directory removed at exit (or in $IMGSIZE_BENCH_DIR, kept and
// reused, for bench/files.sh to hand the same image to dive). It is the
// size the issue asks for: 5 gzip layers, 56,929 entries of which 55,400
// regular files, 730 MB of tar (339 MB gzipped), checked on every run;
// making it takes about 10 s on 2 cores and 1.1 GB of temporary disk.
// IMGSIZE_BENCH_LARGE=0 makes a tenth of it instead, for quick iterations.
//
// Each sub-benchmark reports MB/s of uncompressed tar (b.SetBytes),
// cpu-ms/op (user + system time of the process, steadier than wall time on
// a shared machine), entries/op and files/op (regular files),
// peak-heap-MiB (the largest heap seen while reading, sampled every 10 ms:
// garbage included, as RSS sees it) and retained-B/entry (the heap the result keeps, per entry:
// what memory grows with). No benchmark asserts a duration; they fail when
// an entry count or a byte total is wrong.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/imgsize/imgsize/internal/testmain"
	"github.com/imgsize/imgsize/pkg/cache"
	"github.com/imgsize/imgsize/pkg/files"
)

// benchShape is what the generator makes.
type benchShape struct {
	Layers, FilesPerLayer int
}

func (s benchShape) String() string { return fmt.Sprintf("%dx%d", s.Layers, s.FilesPerLayer) }

var (
	smallShape = benchShape{Layers: 5, FilesPerLayer: 1_000}
	largeShape = benchShape{Layers: 5, FilesPerLayer: 11_000}
)

// benchImage is the generated image, as an OCI layout (gzip level 1
// layers) and as a docker-archive (layers stored uncompressed, as `docker
// save` writes them), with the figures every read must find.
type benchImage struct {
	Shape         benchShape
	Layout        string // directory
	DockerArchive string // file
	Compressed    int64  // sum of gzip blob sizes
	Uncompressed  int64  // sum of tar lengths
	Entries       int    // entries Read returns, all layers
	Files         int    // regular files among them
	FileBytes     int64  // sum of their sizes
}

var (
	benchOnce    sync.Once
	benchData    benchImage
	benchErr     error
	benchTempDir string
)

// TestMain removes the generated image, which outlives any one benchmark.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchTempDir != "" {
		os.RemoveAll(benchTempDir)
	}
	testmain.Exit(code)
}

func getBenchImage(b *testing.B) benchImage {
	b.Helper()
	benchOnce.Do(func() {
		shape := largeShape
		if os.Getenv("IMGSIZE_BENCH_LARGE") == "0" {
			shape = smallShape
		}
		dir := os.Getenv("IMGSIZE_BENCH_DIR")
		if dir == "" {
			if benchTempDir, benchErr = os.MkdirTemp("", "imgsize-bench-files-*"); benchErr != nil {
				return
			}
			dir = benchTempDir
		} else {
			dir = filepath.Join(dir, shape.String())
		}
		start := time.Now()
		var reused bool
		benchData, reused, benchErr = loadOrMakeBenchImage(dir, shape)
		if benchErr == nil && !reused {
			fmt.Fprintf(os.Stderr, "generated %s: %d entries, %d files, %.1f MB of tar, %.1f MB gzipped, in %v\n",
				dir, benchData.Entries, benchData.Files, float64(benchData.Uncompressed)/1e6, float64(benchData.Compressed)/1e6, time.Since(start).Round(time.Millisecond))
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	if benchData.Shape == largeShape && (benchData.Uncompressed < 500e6 || benchData.Files < 50_000) {
		b.Fatalf("the large image is %d bytes and %d files, want ≥ 500 MB and ≥ 50,000", benchData.Uncompressed, benchData.Files)
	}
	return benchData
}

// loadOrMakeBenchImage reuses an image a previous run left in dir (its
// summary, written last, says it is complete), or makes one.
func loadOrMakeBenchImage(dir string, shape benchShape) (benchImage, bool, error) {
	summary := filepath.Join(dir, "summary.json")
	if raw, err := os.ReadFile(summary); err == nil {
		var d benchImage
		if json.Unmarshal(raw, &d) == nil && d.Shape == shape {
			return d, true, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return benchImage{}, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return benchImage{}, false, err
	}
	d, err := makeBenchImage(dir, shape)
	if err != nil {
		return d, false, err
	}
	raw, _ := json.Marshal(d)
	return d, false, os.WriteFile(summary, raw, 0o644)
}

// benchPools are the bytes file contents are cut from: text-like words
// from a small vocabulary (gzip -1 shrinks them about 2.5×, and no 32 KiB
// window sees a repeat of a whole file) and random bytes (binaries,
// archives). Cutting is a slice, so generating costs little beside gzip.
type benchPools struct{ text, random []byte }

func makePools() benchPools {
	rng := rand.New(rand.NewPCG(7, 11))
	vocab := make([][]byte, 2048)
	for i := range vocab {
		w := make([]byte, 2+rng.IntN(10))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = w
	}
	text := make([]byte, 0, 16<<20)
	for len(text) < 16<<20-16 {
		text = append(text, vocab[rng.IntN(len(vocab))]...)
		text = append(text, " \n"[rng.IntN(2)])
	}
	random := make([]byte, 8<<20)
	for i := 0; i+8 <= len(random); i += 8 {
		u := rng.Uint64()
		for k := range 8 {
			random[i+k] = byte(u >> (8 * k))
		}
	}
	return benchPools{text: text, random: random}
}

// fileSize draws a size: 90 % small (128 B–8 KiB), 9.5 % medium
// (8–64 KiB), 0.5 % large (256 KiB–1.5 MiB); about 11.6 KB on average.
func fileSize(rng *rand.Rand) int {
	switch p := rng.IntN(1000); {
	case p < 900:
		return 128 + rng.IntN(8<<10-128)
	case p < 995:
		return 8<<10 + rng.IntN(56<<10)
	default:
		return 256<<10 + rng.IntN(1280<<10)
	}
}

// layerCounts is what one generated layer holds.
type layerCounts struct {
	digest, diffID v1.Hash
	compressed     int64
	uncompressed   int64
	entries, files int
	fileBytes      int64
}

// makeBenchImage writes the layers in parallel, each streamed once
// through tar, hashing and gzip -1 into the layout's blob directory, and
// through a raw copy for the docker-archive.
func makeBenchImage(dir string, shape benchShape) (benchImage, error) {
	pools := makePools()
	layoutDir := filepath.Join(dir, "oci")
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		return benchImage{}, err
	}
	blobs := filepath.Join(layoutDir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return benchImage{}, err
	}
	counts := make([]layerCounts, shape.Layers)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range shape.Layers {
		g.Go(func() error {
			c, err := writeBenchLayer(dir, blobs, i, shape, pools)
			counts[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return benchImage{}, err
	}

	d := benchImage{Shape: shape, Layout: layoutDir, DockerArchive: filepath.Join(dir, "docker-archive.tar")}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, c := range counts {
		l, err := partial.CompressedToLayer(fileLayer{path: filepath.Join(blobs, c.digest.Hex), c: c})
		if err != nil {
			return d, err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("COPY l%d /l%d # buildkit", i, i)}})
		if err != nil {
			return d, err
		}
		d.Compressed += c.compressed
		d.Uncompressed += c.uncompressed
		d.Entries += c.entries
		d.Files += c.files
		d.FileBytes += c.fileBytes
	}
	// The blobs are in place already; this writes config, manifest, index.
	if err := p.AppendImage(img); err != nil {
		return d, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return d, err
	}
	return d, writeDockerArchiveOf(d.DockerArchive, dir, cfg, counts)
}

// writeBenchLayer writes layer i: its own files in 100 directories, with
// symlinks and hard links among them; above the first layer, also
// whiteouts of files of the layer below, an opaque directory, and
// overwritten files.
func writeBenchLayer(dir, blobs string, i int, shape benchShape, pools benchPools) (layerCounts, error) {
	var c layerCounts
	rng := rand.New(rand.NewPCG(uint64(i), 42))
	gzf, err := os.CreateTemp(blobs, ".layer-*")
	if err != nil {
		return c, err
	}
	defer os.Remove(gzf.Name()) // after the rename below, a no-op
	raw, err := os.Create(filepath.Join(dir, fmt.Sprintf("layer%d.tar", i)))
	if err != nil {
		gzf.Close()
		return c, err
	}
	defer raw.Close()

	digest, diffID := sha256.New(), sha256.New()
	gzCount := &countWriter{}
	gzBuf := bufio.NewWriterSize(io.MultiWriter(gzf, digest, gzCount), 1<<20)
	zw, err := gzip.NewWriterLevel(gzBuf, gzip.BestSpeed)
	if err != nil {
		return c, err
	}
	tarCount := &countWriter{}
	rawBuf := bufio.NewWriterSize(raw, 1<<20)
	tw := tar.NewWriter(io.MultiWriter(zw, diffID, rawBuf, tarCount))

	write := func(h *tar.Header, body []byte) error {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		c.entries++
		if h.Typeflag == tar.TypeReg && !isWhiteout(h.Name) {
			c.files++
			c.fileBytes += h.Size
		}
		_, err := tw.Write(body)
		return err
	}
	body := func(n int) []byte {
		pool := pools.text
		if rng.IntN(10) == 0 {
			pool = pools.random
		}
		off := rng.IntN(len(pool) - n)
		return pool[off : off+n]
	}
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const dirs = 100
	perDir := (shape.FilesPerLayer + dirs - 1) / dirs
	if i > 0 {
		below := fmt.Sprintf("l%d", i-1)
		// An opaque directory, 50 whiteouts and 100 overwrites of the
		// layer below.
		if err := write(&tar.Header{Name: below + "/d00/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime}, nil); err != nil {
			return c, err
		}
		for k := range 150 {
			f := k * 37 % shape.FilesPerLayer
			d := f / perDir
			name := fmt.Sprintf("%s/d%02d/f%05d.txt", below, d, f)
			if k < 50 {
				name = fmt.Sprintf("%s/d%02d/.wh.f%05d.txt", below, d, f)
				if err := write(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime}, nil); err != nil {
					return c, err
				}
				continue
			}
			b := body(fileSize(rng))
			if err := write(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}, b); err != nil {
				return c, err
			}
		}
	}
	for f := range shape.FilesPerLayer {
		d := f % dirs
		if f < dirs {
			if err := write(&tar.Header{Name: fmt.Sprintf("l%d/d%02d/", i, d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime}, nil); err != nil {
				return c, err
			}
		}
		// Files are spread over the directories in order, as a build
		// copying a tree writes them.
		name := fmt.Sprintf("l%d/d%02d/f%05d.txt", i, f/perDir, f)
		b := body(fileSize(rng))
		if err := write(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}, b); err != nil {
			return c, err
		}
		switch {
		case f%100 == 1:
			if err := write(&tar.Header{Name: name + ".link", Typeflag: tar.TypeSymlink, Linkname: filepath.Base(name), Mode: 0o777, ModTime: mtime}, nil); err != nil {
				return c, err
			}
		case f%200 == 2:
			if err := write(&tar.Header{Name: name + ".hard", Typeflag: tar.TypeLink, Linkname: name, Mode: 0o644, ModTime: mtime}, nil); err != nil {
				return c, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return c, err
	}
	if err := zw.Close(); err != nil {
		return c, err
	}
	if err := gzBuf.Flush(); err != nil {
		return c, err
	}
	if err := rawBuf.Flush(); err != nil {
		return c, err
	}
	if err := gzf.Close(); err != nil {
		return c, err
	}
	c.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))}
	c.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffID.Sum(nil))}
	c.compressed, c.uncompressed = gzCount.n, tarCount.n
	return c, os.Rename(gzf.Name(), filepath.Join(blobs, c.digest.Hex))
}

func isWhiteout(name string) bool {
	return len(filepath.Base(name)) > 4 && filepath.Base(name)[:4] == ".wh."
}

// writeDockerArchiveOf assembles a `docker save` archive (legacy layout:
// manifest.json, the config, <n>/layer.tar uncompressed) from the raw
// layer tars, which it then removes.
func writeDockerArchiveOf(path, dir string, cfg []byte, counts []layerCounts) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	var layers []string
	for i, c := range counts {
		name := fmt.Sprintf("%s/layer.tar", c.diffID.Hex)
		layers = append(layers, name)
		rawPath := filepath.Join(dir, fmt.Sprintf("layer%d.tar", i))
		raw, err := os.Open(rawPath)
		if err != nil {
			return err
		}
		err = add(name, c.uncompressed, raw)
		raw.Close()
		if err != nil {
			return err
		}
		os.Remove(rawPath)
	}
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	if err := add(cfgName, int64(len(cfg)), bytes.NewReader(cfg)); err != nil {
		return err
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"bench:latest"}, "Layers": layers}})
	if err := add("manifest.json", int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// fileLayer is a generated layer whose blob is a file.
type fileLayer struct {
	path string
	c    layerCounts
}

func (l fileLayer) Digest() (v1.Hash, error)            { return l.c.digest, nil }
func (l fileLayer) DiffID() (v1.Hash, error)            { return l.c.diffID, nil }
func (l fileLayer) Size() (int64, error)                { return l.c.compressed, nil }
func (l fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

// heapSampler records the largest live heap (objects, garbage included)
// while a read runs.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		peak := heapObjects()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				h.done <- max(peak, heapObjects())
				return
			case <-t.C:
				peak = max(peak, heapObjects())
			}
		}
	}()
	return h
}

func (h *heapSampler) peak() uint64 {
	close(h.stop)
	return <-h.done
}

// BenchmarkRead reads the generated image: the OCI layout (gzip layers,
// streamed, decompressed and digest-checked) and the docker-archive
// (uncompressed layers: header by header without Content, every byte with
// it), with Jobs = GOMAXPROCS and no cache.
func BenchmarkRead(b *testing.B) {
	data := getBenchImage(b)
	for _, bc := range []struct {
		name    string
		arg     string
		content bool
	}{
		{"oci-gzip", "oci:" + data.Layout, false},
		{"oci-gzip+content", "oci:" + data.Layout, true},
		{"docker-archive", "docker-archive:" + data.DockerArchive, false},
		{"docker-archive+content", "docker-archive:" + data.DockerArchive, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(data.Uncompressed)
			b.ReportAllocs()
			src := open(b, bc.arg)
			var peak uint64
			var retained float64
			cpu0 := cpuTime()
			for b.Loop() {
				runtime.GC()
				base := heapObjects()
				h := startHeapSampler()
				ls, err := files.Read(context.Background(), src, files.Options{Content: bc.content})
				peak = max(peak, h.peak())
				if err != nil {
					b.Fatal(err)
				}
				checkBenchRead(b, data, ls, bc.content)
				runtime.GC()
				retained = float64(heapObjects()-min(base, heapObjects())) / float64(data.Entries)
				runtime.KeepAlive(ls)
			}
			// CPU time is steadier than wall time on a shared machine; it
			// includes the heap sampler's and the collector's.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(data.Entries), "entries/op")
			b.ReportMetric(float64(data.Files), "files/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(retained, "retained-B/entry")
		})
	}
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func checkBenchRead(b *testing.B, data benchImage, ls []files.Layer, content bool) {
	b.Helper()
	var entries, nFiles int
	var fileBytes int64
	for _, l := range ls {
		entries += len(l.Entries)
		for _, e := range l.Entries {
			if e.Type == files.Regular {
				nFiles++
				fileBytes += e.Size
				if content != (e.Digest != "") {
					b.Fatalf("%s: Digest %q with Content=%v", e.Path, e.Digest, content)
				}
			}
		}
	}
	if len(ls) != data.Shape.Layers || entries != data.Entries || nFiles != data.Files || fileBytes != data.FileBytes {
		b.Fatalf("read %d layers, %d entries, %d files of %d bytes; want %d, %d, %d, %d",
			len(ls), entries, nFiles, fileBytes, data.Shape.Layers, data.Entries, data.Files, data.FileBytes)
	}
}

// BenchmarkCache stores the generated image's entries in the cache and
// reads them back, as a registry image's second read does instead of
// reading layers: cache-B/entry is the stored size, per entry.
func BenchmarkCache(b *testing.B) {
	data := getBenchImage(b)
	ls, err := files.Read(context.Background(), open(b, "oci:"+data.Layout), files.Options{Content: true})
	if err != nil {
		b.Fatal(err)
	}
	// With digests first: the second run strips them.
	for _, content := range []bool{true, false} {
		name := "entries"
		if content {
			name = "entries+digests"
		}
		b.Run(name, func(b *testing.B) {
			if !content {
				for _, l := range ls {
					for i := range l.Entries {
						l.Entries[i].Digest = ""
					}
				}
			}
			dir := b.TempDir()
			c := cache.New(dir)
			for _, l := range ls {
				if err := files.Store(c, l.Digest, content, l.Entries); err != nil {
					b.Fatal(err)
				}
			}
			var stored int64
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					stored += fi.Size()
				}
				return nil
			})
			for b.Loop() {
				for _, l := range ls {
					es, ok := files.Cached(c, l.Digest, content)
					if !ok || len(es) != len(l.Entries) {
						b.Fatalf("layer %s: %d entries from the cache (%v), want %d", l.Digest, len(es), ok, len(l.Entries))
					}
				}
			}
			b.ReportMetric(float64(stored)/float64(data.Entries), "cache-B/entry")
			b.ReportMetric(float64(stored)/1e6, "cache-MB")
		})
	}
}
