package files_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imgsize/imgsize/pkg/files"
	"github.com/imgsize/imgsize/pkg/source"
)

// Read lists what each layer holds; here, of an OCI layout made on the spot
// with two layers, the second deleting a file of the first.
func ExampleRead() {
	base, _ := crane.Layer(map[string][]byte{"etc/motd": []byte("hello\n"), "usr/bin/app": make([]byte, 1500)})
	top, _ := crane.Layer(map[string][]byte{"etc/.wh.motd": nil})
	img, _ := mutate.AppendLayers(empty.Image, base, top)
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p, _ := layout.Write(dir, empty.Index)
	if err := p.AppendImage(img); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	src, err := source.Open(ctx, "oci:"+dir, source.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	layers, err := files.Read(ctx, src, files.Options{Jobs: 2})
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range layers {
		fmt.Printf("layer %d:\n", i+1)
		for _, e := range l.Entries {
			fmt.Printf("  %-5s %-12s %5d bytes  whiteout=%v\n", e.Type, e.Path, e.Size, e.Whiteout)
		}
	}
	// Output:
	// layer 1:
	//   file  etc/motd         6 bytes  whiteout=false
	//   file  usr/bin/app   1500 bytes  whiteout=false
	// layer 2:
	//   other etc/motd         0 bytes  whiteout=true
}
