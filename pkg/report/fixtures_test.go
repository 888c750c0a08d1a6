package report

import (
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/layers"
)

// Fixtures are built by hand with round numbers, so every figure in a
// golden file can be checked with a pencil.

const remoteReason = "a registry states only compressed sizes; use --exact to read the layers"

func hash(c string) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(c, 64/len(c))}
}

func exact(n int64) layers.Size { return layers.Size{Bytes: n, Provenance: layers.Exact} }

func unknown(reason string) layers.Size {
	return layers.Size{Provenance: layers.Unknown, Reason: reason}
}

func layer(digest string, compressed, uncompressed layers.Size, createdBy string) layers.Layer {
	return layers.Layer{
		Digest:       hash(digest),
		DiffID:       hash(digest + "f"),
		MediaType:    types.OCILayer,
		Compressed:   compressed,
		Uncompressed: uncompressed,
		CreatedBy:    createdBy,
	}
}

// image totals its layers with the model's own rule (layers.Total).
func image(ref, name, digest string, manifestLen, configLen int, ls ...layers.Layer) *layers.Image {
	img := &layers.Image{
		Ref:          ref,
		Name:         name,
		Transport:    "docker",
		Digest:       hash(digest),
		ConfigDigest: hash(digest + "c"),
		MediaType:    types.OCIManifestSchema1,
		Platform:     &v1.Platform{OS: "linux", Architecture: "amd64"},
		Manifest:     make([]byte, manifestLen),
		Config:       make([]byte, configLen),
		ManifestSize: int64(manifestLen),
		ConfigSize:   int64(configLen),
		Layers:       ls,
	}
	var c, u []layers.Size
	for _, l := range ls {
		c, u = append(c, l.Compressed), append(u, l.Uncompressed)
	}
	img.Compressed, img.Uncompressed = layers.Total(c), layers.Total(u)
	return img
}

var (
	// Layers, by digest letter. Compressed / uncompressed:
	//   a  400,000,000 / 1,000,000,000
	//   b        1,000 /         2,000
	//   c    1,000,000 /     2,000,000
	//   d      800,000 /     2,000,000
	//   e    5,000,000 /    15,000,000
	//   f   30,000,000 /    ?
	//   7      123,456 /    ?
	//   8    2,500,000 /    ~7,350,000 (gzip trailer)
	layerA = layer("a", exact(400_000_000), exact(1_000_000_000), "/bin/sh -c #(nop) ADD file:4f2a3b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b in / ")
	layerB = layer("b", exact(1_000), exact(2_000), "COPY app.conf /etc/app.conf # buildkit")
	layerC = layer("c", exact(1_000_000), exact(2_000_000), "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl git && rm -rf /var/lib/apt/lists/* # buildkit")
	layerD = layer("d", exact(800_000), exact(2_000_000), "COPY /out/app /app # buildkit")
	layerE = layer("e", exact(5_000_000), exact(15_000_000), "RUN |1 MODE=a|b /bin/sh -c make install # buildkit")
	layerF = layer("f", exact(30_000_000), unknown(remoteReason), "ADD rootfs.tar.xz / # buildkit")
	layerG = layer("7", exact(123_456), unknown(remoteReason), "ENTRYPOINT [\"/bin/app\"]")
	layerH = layer("8", exact(2_500_000), layers.Size{Bytes: 7_350_000, Provenance: layers.GzipTrailer}, "RUN /bin/sh -c pip install -r requirements.txt # buildkit")
)

// single: 3 layers; compressed 401,001,000 B, uncompressed 1,002,002,000 B.
func singleImage() *layers.Image {
	return image("example.com/app:single", "example.com/app:single", "1", 1_200, 1_500, layerA, layerB, layerC)
}

// multi: 1 layer of 2,000,000 B uncompressed, sharing nothing with single.
func multiImage() *layers.Image {
	return image("example.com/app:multi", "example.com/app:multi", "2", 500, 900, layerD)
}

// shared: layer a (shared with single) and layer e.
func sharedImage() *layers.Image {
	return image("example.com/app:shared", "example.com/app:shared", "3", 700, 1_100, layerA, layerE)
}

// remote: uncompressed sizes unknown, as a registry states them.
func unknownImage() *layers.Image {
	return image("example.com/app:remote", "example.com/app:remote", "4", 800, 1_000, layerF, layerG)
}

// gzip: layer a (exact) and layer h (gzip trailer): a mixed total.
func gzipImage() *layers.Image {
	h := layerH
	h.Annotations = map[string]string{"org.opencontainers.image.title": "deps", "io.example.build": "ci"}
	return image("example.com/app:gzip", "example.com/app:gzip", "5", 700, 1_100, layerA, h)
}

// archive: a docker-archive whose compressed size was estimated.
func estimatedImage() *layers.Image {
	l := layer("9", layers.Size{Bytes: 3_000_000, Provenance: layers.Estimated, Reason: "estimated by compressing the layer with gzip"}, exact(9_000_000), "RUN /bin/sh -c echo \"a\tb\nc\" > /x")
	img := image("docker-archive:app.tar", "app:latest", "6", 400, 800, l)
	img.Transport = "docker-archive"
	img.Platform = nil
	// docker save stores no manifest: only the image ID means anything.
	img.SyntheticManifest = true
	img.Digest = v1.Hash{}
	img.MediaType = ""
	return img
}

// archive of single: the same three layers as docker save writes them.
// Stored uncompressed, each layer's digest is its diffID (single's layer
// a has diffID "af…"), and its compressed size is unknown; the manifest is
// synthetic. Uncompressed: 1,002,002,000 B, as single's.
func archiveImage() *layers.Image {
	const reason = "the archive stores this layer uncompressed; its compressed size depends on how it is pushed"
	var ls []layers.Layer
	for _, l := range singleImage().Layers {
		ls = append(ls, layers.Layer{
			Digest:       l.DiffID,
			DiffID:       l.DiffID,
			MediaType:    types.OCIUncompressedLayer,
			Compressed:   unknown(reason),
			Uncompressed: l.Uncompressed,
			CreatedBy:    l.CreatedBy,
		})
	}
	img := image("docker-archive:single.tar", "example.com/app:single", "a", 400, 1_500, ls...)
	img.Transport = "docker-archive"
	img.ConfigDigest = singleImage().ConfigDigest // the same image ID
	img.SyntheticManifest = true
	img.Digest = v1.Hash{}
	img.MediaType = ""
	return img
}

// zstd: single pushed again with zstd: each layer's content (its diffID)
// is single's, each blob (its digest) another, and smaller. Compressed
// 350,000,000 + 900 + 900,000 = 350,900,900 B; uncompressed as single's.
func zstdImage() *layers.Image {
	sizes := []int64{350_000_000, 900, 900_000}
	var ls []layers.Layer
	for i, l := range singleImage().Layers {
		l.Digest = hash(string(rune('a'+i)) + "2")
		l.MediaType = types.OCILayerZStd
		l.Compressed = exact(sizes[i])
		ls = append(ls, l)
	}
	return image("example.com/app:zstd", "example.com/app:zstd", "b", 700, 1_500, ls...)
}
