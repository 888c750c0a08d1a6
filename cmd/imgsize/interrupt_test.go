package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	endian "encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// writeBigArchive writes a gzipped docker-save archive whose one layer
// holds files × size bytes of pseudo-random letters: compressible enough
// that gunzip does real work, cheap to make (fixed seed, one MiB deflated
// once by chunkedGzip), and written as one stream so nothing but the
// .tar.gz touches the disk.
//
// The layer is Huffman-coded to about half its size. It used to be
// gzipped at level 1, which leaves these letters nearly as they are:
// 201 MB that gunzip mostly copies, in about 0.2 s. Decoding them takes
// imgsize most of a second, a wider window for the interrupt.
func writeBigArchive(t *testing.T, path string, files int, size int64) {
	t.Helper()
	// One MiB of random letters, repeated: gzip's 32 KiB window cannot
	// see the repetition, and making it once keeps the test quick under
	// -race.
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 1<<20)
	for j := range chunk {
		chunk[j] = 'a' + byte(rng.IntN(16))
	}
	if size%int64(len(chunk)) != 0 {
		t.Fatal("size must be a whole number of MiB")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Unbuffered: chunkedGzip writes whole pieces, and a buffer would
	// copy the 110 MB once more.
	zw, err := newChunkedGzip(f, chunk)
	if err != nil {
		t.Fatal(err)
	}
	outer := tar.NewWriter(zw)
	add := func(name string, size int64, body func(io.Writer) error) {
		t.Helper()
		if err := outer.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if err := body(outer); err != nil {
			t.Fatal(err)
		}
	}

	// The layer is a tar itself: a header and the body of each file, then
	// two zero blocks.
	layerSize := int64(files)*(512+size) + 1024
	var diffID hash.Hash = sha256.New()
	add("layer/layer.tar", layerSize, func(w io.Writer) error {
		inner := tar.NewWriter(io.MultiWriter(w, diffID))
		for i := range files {
			if err := inner.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/%d.bin", i), Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			// chunk itself, not a copy: chunkedGzip knows it by its
			// address.
			for range size / int64(len(chunk)) {
				if _, err := inner.Write(chunk); err != nil {
					return err
				}
			}
		}
		return inner.Close()
	})
	config := fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}`, hex.EncodeToString(diffID.Sum(nil)))
	manifest := `[{"Config":"config.json","RepoTags":["big:v1"],"Layers":["layer/layer.tar"]}]`
	for _, e := range []struct{ name, body string }{{"config.json", config}, {"manifest.json", manifest}} {
		add(e.name, int64(len(e.body)), func(w io.Writer) error { _, err := io.WriteString(w, e.body); return err })
	}
	for _, c := range []io.Closer{outer, zw, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// chunkedGzip writes one gzip member (RFC 1952) of a stream made mostly
// of copies of one chunk, which it deflates once: deflating 200 MB in
// this race-instrumented process cost over a second of CPU. The deflate
// stream is strung together from pieces that each start with an empty
// window and end byte-aligned (a sync flush), so that any piece may follow
// any other: the chunk's piece stands for each write of the chunk, and
// the bytes written between chunks (tar headers) become pieces of their
// own. Back-references are relative, so each copy decodes as the first.
type chunkedGzip struct {
	w               io.Writer
	chunk, deflated []byte
	pending         []byte // written since the last chunk, not yet deflated
	crc             uint32
	size            uint32 // the stream's length modulo 2³², as the trailer holds it
}

func newChunkedGzip(w io.Writer, chunk []byte) (*chunkedGzip, error) {
	d, err := deflatePiece(chunk, false)
	if err != nil {
		return nil, err
	}
	// Magic, deflate, no flags, no modification time, no extra flags,
	// OS unknown: what compress/gzip writes by default.
	if _, err := w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}); err != nil {
		return nil, err
	}
	return &chunkedGzip{w: w, chunk: chunk, deflated: d}, nil
}

func (z *chunkedGzip) Write(p []byte) (int, error) {
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	// The chunk is known by its address, as tar passes it on: comparing
	// the bytes would cost what this saves. Equal bytes elsewhere are
	// deflated as any others, which is slower but as correct.
	if len(p) != len(z.chunk) || &p[0] != &z.chunk[0] {
		z.pending = append(z.pending, p...)
		return len(p), nil
	}
	if err := z.flush(false); err != nil {
		return 0, err
	}
	if _, err := z.w.Write(z.deflated); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush deflates what was written since the last chunk as a piece, the
// final one when final.
func (z *chunkedGzip) flush(final bool) error {
	if len(z.pending) == 0 && !final {
		return nil
	}
	d, err := deflatePiece(z.pending, final)
	if err != nil {
		return err
	}
	z.pending = z.pending[:0]
	_, err = z.w.Write(d)
	return err
}

// Close ends the deflate stream and writes the trailer.
func (z *chunkedGzip) Close() error {
	if err := z.flush(true); err != nil {
		return err
	}
	_, err := z.w.Write(endian.LittleEndian.AppendUint32(endian.LittleEndian.AppendUint32(nil, z.crc), z.size))
	return err
}

// deflatePiece deflates b from an empty window and ends on a byte
// boundary: with a sync flush, or with the final block when final.
// Huffman coding alone: random letters hold no matches worth finding, and
// looking for them took this race-instrumented process 4 times as long.
func deflatePiece(b []byte, final bool) ([]byte, error) {
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.HuffmanOnly)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(b); err != nil {
		return nil, err
	}
	if final {
		err = fw.Close()
	} else {
		err = fw.Flush()
	}
	return out.Bytes(), err
}

// archiveTemps lists imgsize's decompressed copies of archives in dir.
func archiveTemps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "imgsize-archive-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestInterruptExits130 interrupts a real run mid-work, as Ctrl-C does:
// while imgsize decompresses a 200 MB archive into a temporary file.
func TestInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 200 MB archive")
	}
	archive := filepath.Join(t.TempDir(), "big.tar.gz")
	begin := time.Now()
	writeBigArchive(t, archive, 4, 50<<20)
	t.Logf("wrote the archive in %v", time.Since(begin).Round(time.Millisecond))

	tmp := t.TempDir() // imgsize's TMPDIR, where the decompressed copy goes
	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	cmd := exec.Command(binary, "inspect", "--no-cache", "--no-progress", "-o", out, archive)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Interrupt as soon as the decompressed copy exists: the signal must
	// land mid-decompression, or the temp-file check below proves nothing.
	started := time.Now()
	for len(archiveTemps(t, tmp)) == 0 {
		if time.Since(started) > 20*time.Second {
			t.Fatal("no imgsize-archive-* temp file appeared: the archive is not being decompressed")
		}
		select {
		case err := <-done:
			t.Fatalf("imgsize finished (%v) in %v, before it could be interrupted; stderr %q", err, time.Since(started), stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("imgsize finished before it could be interrupted: %v", err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("imgsize still running 2 minutes after SIGINT")
	}
	t.Logf("SIGINT %v after start; imgsize exited %v later", sent.Sub(started).Round(time.Millisecond), time.Since(sent).Round(time.Millisecond))

	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want code %d", err, exitInterrupted)
	}
	if got := stderr.String(); got != "imgsize: interrupted\n" {
		t.Errorf("stderr %q, want exactly one line %q", got, "imgsize: interrupted")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted run left %s behind (stat: %v)", out, err)
	}
	if names := dirNames(t, outDir); len(names) != 0 {
		t.Errorf("report directory holds %q, want nothing", names)
	}
	if left := archiveTemps(t, tmp); len(left) != 0 {
		t.Errorf("decompressed copies left in TMPDIR: %q", left)
	}
}

// signalHelperEnv makes the test binary act as a command that ignores
// cancellation, under main's signal handling; see signalHelper.
const signalHelperEnv = "IMGSIZE_TEST_SIGNAL_HELPER"

// signalHelper sets up signals as main does, then, once interrupted, keeps
// working as code that never checks its context would.
func signalHelper() {
	ctx, stop := signalContext()
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("interrupted")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestSecondInterruptKills: the first Ctrl-C asks for a clean stop; if the
// program does not stop, the next one kills it.
func TestSecondInterruptKills(t *testing.T) {
	// A process started with SIGINT ignored (`cmd &` in a non-interactive
	// shell, go tool test2json) passes that on to the helper, which then
	// rightly keeps ignoring it.
	if signal.Ignored(os.Interrupt) {
		t.Skip("SIGINT is ignored in this process (inherited from its parent), so the helper would ignore it too; run with go test")
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), signalHelperEnv+"=1")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(pipe)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("helper said %q (%v), want %q", lines.Text(), lines.Err(), want)
		}
	}
	expect("ready")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	expect("interrupted")
	go func() { _, _ = io.Copy(io.Discard, pipe) }()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Default handling comes back just after the first signal is
	// delivered; keep pressing Ctrl-C, as a user would, for a few seconds.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(5 * time.Second)
	for {
		select {
		case err = <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper exited with %v, want killed by SIGINT", err)
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
				t.Errorf("helper ended with %v, want killed by SIGINT", err)
			}
			return
		case <-tick.C:
			_ = cmd.Process.Signal(os.Interrupt)
		case <-giveUp:
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("further SIGINTs did not kill a process that ignores its context: the first one's handler is still installed")
		}
	}
}
