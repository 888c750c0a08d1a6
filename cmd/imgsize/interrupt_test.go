package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
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
	// Huffman coding alone: random letters hold no matches worth finding,
	// and looking for them took this race-instrumented process 4 times as
	// long.
	zw, err := newChunkedGzip(f, chunk, flate.HuffmanOnly)
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
	t.Parallel()
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
	t.Parallel()
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
