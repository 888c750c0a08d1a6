// Command gen writes the deterministic inputs bench/run measures: an image
// of LAYERS layers holding FILES files of about BYTES bytes in all, as a
// docker-archive (layers uncompressed, as docker save writes them) and as
// an OCI layout (gzip layers); and N small distinct images as one OCI
// layout, tagged img00…, for pushing to a registry.
//
//	go run ./bench/gen -out DIR -files 50000 -layers 20 -bytes 1100000000
//	go run ./bench/gen -out DIR -distinct 20
//
// The same flags write the same bytes: file contents come from a seeded
// generator, three files in four text-like and one random, so gzip works
// as it does on real images.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var words = []string{"layer", "image", "size", "bytes", "compressed", "registry", "manifest", "config", "digest", "tar", "gzip", "docker", "build", "stage", "runtime", "alpine", "golang", "binary", "static", "package"}

// fill writes n bytes of content for file seed into b.
func fill(b *bytes.Buffer, seed uint64, n int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if seed%4 == 3 {
		for b.Len() < n {
			b.WriteByte(byte(r.Uint32()))
		}
		return
	}
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(" \n"[r.IntN(8)/7])
	}
	b.Truncate(n)
}

// layerTar is layer i's tar stream: files [first, first+count).
func layerTar(i, first, count int, avg int) []byte {
	var buf, body bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for f := first; f < first+count; f++ {
		body.Reset()
		// Sizes vary from a tenth to twice the average, so the shape holds
		// small and large files alike.
		n := avg/10 + int(uint64(f)*2654435761%uint64(2*avg))
		fill(&body, uint64(f)+1, n)
		h := &tar.Header{Name: fmt.Sprintf("srv/l%02d/d%03d/f%06d.dat", i, f%500, f), Mode: 0o644, Size: int64(body.Len()), ModTime: mt, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			log.Fatal(err)
		}
		tw.Write(body.Bytes())
	}
	tw.Close()
	return buf.Bytes()
}

// ociBase is an empty image in OCI media types, as skopeo's oci: transport
// reads them.
func ociBase() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

func layerOf(stream []byte) v1.Layer {
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(stream)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		log.Fatal(err)
	}
	return l
}

// writeDockerArchive writes img as docker save does: each layer's tar
// stream uncompressed, the config, and manifest.json.
func writeDockerArchive(path, tag string, img v1.Image, streams [][]byte) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			log.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			log.Fatal(err)
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		log.Fatal(err)
	}
	add(cfgName.Hex+".json", cfg)
	var names []string
	for i, s := range streams {
		n := fmt.Sprintf("layer%02d/layer.tar", i)
		add(n, s)
		names = append(names, n)
	}
	m, err := json.Marshal([]map[string]any{{"Config": cfgName.Hex + ".json", "RepoTags": []string{tag}, "Layers": names}})
	if err != nil {
		log.Fatal(err)
	}
	add("manifest.json", m)
	if err := tw.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("out", "", "directory to write into")
	files := flag.Int("files", 0, "files in the large image")
	layers := flag.Int("layers", 1, "layers of the large image")
	total := flag.Int64("bytes", 0, "file bytes of the large image, about")
	distinct := flag.Int("distinct", 0, "small distinct images to write as one layout")
	formats := flag.String("formats", "docker,oci", "what to write the large image as: docker (large.tar), oci (large-oci/), or both")
	flag.Parse()
	var docker, oci bool
	for _, f := range strings.Split(*formats, ",") {
		switch f {
		case "docker":
			docker = true
		case "oci":
			oci = true
		default:
			log.Fatalf("-formats %q: %q is neither docker nor oci", *formats, f)
		}
	}
	if *out == "" {
		log.Fatal("-out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if *files > 0 {
		img := ociBase()
		var streams [][]byte
		per := *files / *layers
		avg := int(*total / int64(*files))
		for i := range *layers {
			count := per
			if i == *layers-1 {
				count = *files - per*(*layers-1)
			}
			stream := layerTar(i, i*per, count, avg)
			streams = append(streams, stream)
			var err error
			img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(stream), History: v1.History{CreatedBy: fmt.Sprintf("COPY layer %d", i)}})
			if err != nil {
				log.Fatal(err)
			}
		}
		if docker {
			writeDockerArchive(filepath.Join(*out, "large.tar"), "bench/large:latest", img, streams)
		}
		if oci {
			p, err := layout.Write(filepath.Join(*out, "large-oci"), empty.Index)
			if err != nil {
				log.Fatal(err)
			}
			if err := p.AppendImage(img); err != nil {
				log.Fatal(err)
			}
		}
	}
	if *distinct > 0 {
		p, err := layout.Write(filepath.Join(*out, "distinct"), empty.Index)
		if err != nil {
			log.Fatal(err)
		}
		for i := range *distinct {
			img := ociBase()
			for j := range 3 {
				img, err = mutate.AppendLayers(img, layerOf(layerTar(100+i*3+j, (i*3+j)*40, 40, 20_000)))
				if err != nil {
					log.Fatal(err)
				}
			}
			if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": fmt.Sprintf("img%02d", i)})); err != nil {
				log.Fatal(err)
			}
		}
	}
}
