// Command build writes the README's demo images, a single-stage and a
// multistage build of examples/hello, as one OCI image layout. It needs no
// Docker engine and no network: the layers are assembled from the local Go
// toolchain and a binary built with it. See examples/Dockerfile.* for the
// Dockerfiles these images stand in for.
//
// Usage, from the repository root:
//
//	go run ./examples/build [-o DIR] [-src DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	out := flag.String("o", "examples/out", "OCI image layout `dir`ectory to create or replace")
	src := flag.String("src", "examples/hello", "`dir`ectory holding the hello program's source")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./examples/build [-o DIR] [-src DIR]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	// Cancel on ^C so the temporary layout and build dirs are removed
	// rather than left next to the output.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, *out, *src)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "examples/build: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stdout io.Writer, out, src string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("finding the go command: %w", err)
	}
	goroot, err := goEnv(ctx, goBin, "GOROOT")
	if err != nil {
		return err
	}
	binDir, err := os.MkdirTemp("", "imgsize-hello-")
	if err != nil {
		return fmt.Errorf("creating build directory: %w", err)
	}
	defer os.RemoveAll(binDir)

	images, err := writeLayout(ctx, out, inputs{
		GOROOT: goroot,
		Src:    src,
		Binary: func(ctx context.Context) (string, error) {
			return buildHello(ctx, goBin, src, binDir)
		},
	})
	if err != nil {
		return err
	}
	for _, img := range images {
		fmt.Fprintf(stdout, "built %s:%s (%s)\n", out, img.Tag, plural(img.Layers, "layer"))
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
