package report

import (
	"bytes"
	"testing"

	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// Every JSON report the golden tests write, and one of each fixture image,
// validates against report.schema.json: the schema describes what imgsize
// writes, not only what Decode reads.
func TestJSONOutputsValidate(t *testing.T) {
	type output struct {
		name  string
		write func(*bytes.Buffer, Options) error
	}
	inspect := func(name string, imgs func() []*layers.Image) output {
		return output{name, func(b *bytes.Buffer, o Options) error { return Inspect(b, imgs(), o) }}
	}
	compare := func(name string, c func() *analysis.Comparison) output {
		return output{name, func(b *bytes.Buffer, o Options) error { return Compare(b, c(), o) }}
	}
	outputs := []output{
		// The inspect and compare cases of TestInspectGolden and
		// TestCompareGolden, whatever formats they are golden in.
		inspect("inspect_single", func() []*layers.Image { return []*layers.Image{singleImage()} }),
		inspect("inspect_all", func() []*layers.Image {
			return []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage()}
		}),
		inspect("inspect_none", func() []*layers.Image { return nil }),
		compare("compare_single_multi", func() *analysis.Comparison { return analysis.Compare(singleImage(), multiImage()) }),
		compare("compare_shared", func() *analysis.Comparison { return analysis.Compare(singleImage(), sharedImage()) }),
		compare("compare_all", func() *analysis.Comparison {
			return analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
		}),
		compare("compare_archive", func() *analysis.Comparison {
			return analysis.Compare(singleImage(), archiveImage(), multiImage())
		}),
		compare("compare_recompressed", func() *analysis.Comparison {
			return analysis.Compare(singleImage(), zstdImage(), sharedImage())
		}),
		compare("compare_unknown_base", func() *analysis.Comparison {
			return analysis.Compare(unknownImage(), multiImage(), unknownImage())
		}),
		compare("compare_packages", comparePackages),
		// An archive as the baseline, as TestDecodeJSONRoundTrip writes.
		compare("compare_archive_base", func() *analysis.Comparison {
			return analysis.Compare(archiveImage(), singleImage(), estimatedImage())
		}),
	}
	// Each fixture image on its own.
	for _, f := range []struct {
		name string
		img  func() *layers.Image
	}{
		{"single", singleImage},
		{"multi", multiImage},
		{"shared", sharedImage},
		{"remote", unknownImage},
		{"gzip", gzipImage},
		{"estimated", estimatedImage},
		{"archive", archiveImage},
	} {
		outputs = append(outputs, inspect("image_"+f.name, func() []*layers.Image { return []*layers.Image{f.img()} }))
	}
	options := []struct {
		name string
		opts Options
	}{
		{"golden", Options{Format: JSON, Version: "v0.0.0-test", Time: goldenTime}},
		// No version and the zero time, as TestDeterministic writes.
		{"zero", Options{Format: JSON}},
	}
	for _, o := range outputs {
		for _, opt := range options {
			t.Run(o.name+"/"+opt.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := o.write(&buf, opt.opts); err != nil {
					t.Fatal(err)
				}
				testutil.ValidateReport(t, buf.Bytes())
			})
		}
	}
}
