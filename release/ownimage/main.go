// Command ownimage builds imgsize's own image without a container engine
// (see internal/ownimage).
//
//	go run ./release/ownimage -o release/out/own   # an OCI layout, tag latest
//	go run ./release/ownimage -push 127.0.0.1:5000/imgsize:dev
//
// The binary is built here with the release's flags unless -binary names
// one. README's "imgsize's own image" section checks the result against
// the repository's imgsize.yaml.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/ownimage"
)

func main() {
	binary := flag.String("binary", "", "a static imgsize binary to put in the image (default: build one with the release flags)")
	out := flag.String("o", "", "write the image to this OCI layout `DIR`, tagged latest")
	push := flag.String("push", "", "push the image to this plain-HTTP loopback `REF`")
	version := flag.String("version", "dev", "the version stamped into a binary built here")
	flag.Parse()
	if (*out == "") == (*push == "") {
		fmt.Fprintln(os.Stderr, "ownimage: give one of -o DIR and -push REF")
		os.Exit(2)
	}
	if err := run(*binary, *out, *push, *version); err != nil {
		fmt.Fprintln(os.Stderr, "ownimage:", err)
		os.Exit(1)
	}
}

func run(binary, out, push, version string) error {
	if binary == "" {
		dir, err := os.MkdirTemp("", "ownimage-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "imgsize")
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", binary, "./cmd/imgsize")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building imgsize: %w", err)
		}
	}
	img, err := ownimage.Image(binary, ownimage.CABundle)
	if err != nil {
		return err
	}
	if out != "" {
		p, err := layout.Write(out, empty.Index)
		if err != nil {
			return err
		}
		return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"}))
	}
	ref, err := name.ParseReference(push, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(ref, img)
}
