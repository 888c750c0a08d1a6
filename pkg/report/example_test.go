package report_test

import (
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/report"
)

func ExampleFormatBytes() {
	fmt.Println(report.FormatBytes(7_350_000, false))
	fmt.Println(report.FormatBytes(7_350_000, true))
	fmt.Println(report.FormatBytes(1_000, false))
	// Output:
	// 7.35 MB
	// 7.01 MiB
	// 1.00 kB
}

func ExampleCompare() {
	layer := func(hex string, compressed, uncompressed int64, createdBy string) layers.Layer {
		return layers.Layer{
			Digest:       v1.Hash{Algorithm: "sha256", Hex: hex},
			Compressed:   layers.Size{Bytes: compressed, Provenance: layers.Exact},
			Uncompressed: layers.Size{Bytes: uncompressed, Provenance: layers.Exact},
			CreatedBy:    createdBy,
		}
	}
	img := func(ref string, ls ...layers.Layer) *layers.Image {
		i := &layers.Image{Ref: ref, Layers: ls}
		var c, u []layers.Size
		for _, l := range ls {
			c, u = append(c, l.Compressed), append(u, l.Uncompressed)
		}
		i.Compressed, i.Uncompressed = layers.Total(c), layers.Total(u)
		return i
	}
	fat := img("app:fat", layer("0a0a0a0a0a0a0a0a", 400_000_000, 1_000_000_000, "FROM golang"))
	slim := img("app:slim", layer("0b0b0b0b0b0b0b0b", 800_000, 2_000_000, "COPY /app /app"))

	c := analysis.Compare(fat, slim)
	if err := report.Compare(os.Stdout, c, report.Options{Format: report.CSV}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// image,name,digest,baseline,compressed_bytes,compressed_provenance,uncompressed_bytes,uncompressed_provenance,delta_compressed_bytes,delta_compressed_provenance,delta_uncompressed_bytes,delta_uncompressed_provenance,ratio_basis,ratio,ratio_provenance,matched_by,shared_compressed_bytes,shared_compressed_provenance,unique_compressed_bytes,unique_compressed_provenance,shared_uncompressed_bytes,shared_uncompressed_provenance,unique_uncompressed_bytes,unique_uncompressed_provenance,shared_layers,added_layers,removed_layers,recompressed_compressed_bytes,recompressed_compressed_provenance,recompressed_uncompressed_bytes,recompressed_uncompressed_provenance,recompressed_layers,platform
	// app:fat,,,true,400000000,exact,1000000000,exact,0,exact,0,exact,uncompressed,1,exact,digest+diffID,400000000,exact,0,exact,1000000000,exact,0,exact,1,0,0,0,exact,0,exact,0,
	// app:slim,,,false,800000,exact,2000000,exact,-399200000,exact,-998000000,exact,uncompressed,500,exact,digest+diffID,0,exact,800000,exact,0,exact,2000000,exact,0,1,1,0,exact,0,exact,0,
}

func ExampleInspect() {
	img := &layers.Image{
		Ref:       "app:slim",
		Digest:    v1.Hash{Algorithm: "sha256", Hex: "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"},
		MediaType: "application/vnd.oci.image.manifest.v1+json",
		Platform:  &v1.Platform{OS: "linux", Architecture: "arm64"},
		Layers: []layers.Layer{{
			Digest:       v1.Hash{Algorithm: "sha256", Hex: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"},
			Compressed:   layers.Size{Bytes: 800_000, Provenance: layers.Exact},
			Uncompressed: layers.Size{Provenance: layers.Unknown, Reason: "a registry states only compressed sizes; use --exact to read the layers"},
			CreatedBy:    "COPY /app /app # buildkit",
		}},
	}
	img.Compressed = layers.Total([]layers.Size{img.Layers[0].Compressed})
	img.Uncompressed = layers.Total([]layers.Size{img.Layers[0].Uncompressed})

	if err := report.Inspect(os.Stdout, []*layers.Image{img}, report.Options{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Image: app:slim  Digest: sha256:5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e  Platform: linux/arm64  Media type: application/vnd.oci.image.manifest.v1+json
	// Compressed: 800 kB  Uncompressed: ?  Layers: 1  Config: 0 B  Manifest: 0 B
	//
	// #   DIGEST                COMPRESSED   UNCOMPRESSED   CREATED BY
	// 0   sha256:0b0b0b0b0b0b       800 kB              ?   COPY /app /app # buildkit
	// ? uncompressed unknown: a registry states only compressed sizes; use --exact to read the layers
}
