package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/packages"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

var allFormats = []Format{Table, Markdown, CSV, JSON}

func ext(f Format) string {
	if f == Markdown {
		return "md"
	}
	return string(f)
}

func TestInspectGolden(t *testing.T) {
	tests := []struct {
		name    string
		imgs    []*layers.Image
		binary  bool
		formats []Format
	}{
		{name: "inspect_single", imgs: []*layers.Image{singleImage()}, formats: allFormats},
		{name: "inspect_single_binary", imgs: []*layers.Image{singleImage()}, binary: true, formats: []Format{Table}},
		{name: "inspect_all", imgs: []*layers.Image{singleImage(), multiImage(), unknownImage(), gzipImage(), estimatedImage()}, formats: allFormats},
		{name: "inspect_none", imgs: nil, formats: allFormats},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			name := tt.name + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Inspect(&buf, tt.imgs, Options{Format: f, Binary: tt.binary, Version: "v0.0.0-test", Time: goldenTime}); err != nil {
					t.Fatal(err)
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

func TestCompareGolden(t *testing.T) {
	tests := []struct {
		name    string
		cmp     func() *analysis.Comparison
		binary  bool
		formats []Format
	}{
		{
			name:    "compare_single_multi",
			cmp:     func() *analysis.Comparison { return analysis.Compare(singleImage(), multiImage()) },
			formats: allFormats,
		},
		{
			name:    "compare_shared",
			cmp:     func() *analysis.Comparison { return analysis.Compare(singleImage(), sharedImage()) },
			formats: []Format{Table},
		},
		{
			name: "compare_all",
			cmp: func() *analysis.Comparison {
				return analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
			},
			formats: allFormats,
		},
		{
			name: "compare_all_binary",
			cmp: func() *analysis.Comparison {
				return analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
			},
			binary:  true,
			formats: []Format{Table},
		},
		{
			// A docker-archive of the baseline, matched by diffID, beside
			// an image matched by digest.
			name: "compare_archive",
			cmp: func() *analysis.Comparison {
				return analysis.Compare(singleImage(), archiveImage(), multiImage())
			},
			formats: allFormats,
		},
		{
			// single pushed again with zstd: the same content in other
			// blobs, beside an image sharing one blob.
			name: "compare_recompressed",
			cmp: func() *analysis.Comparison {
				return analysis.Compare(singleImage(), zstdImage(), sharedImage())
			},
			formats: allFormats,
		},
		{
			// compare --packages: each image's package changes against
			// the baseline, after its layers.
			name:    "compare_packages",
			cmp:     comparePackages,
			formats: []Format{Table, Markdown, JSON},
		},
		{
			// The baseline itself has unknown uncompressed sizes.
			name:    "compare_unknown_base",
			cmp:     func() *analysis.Comparison { return analysis.Compare(unknownImage(), multiImage(), unknownImage()) },
			formats: []Format{Table, CSV},
		},
	}
	for _, tt := range tests {
		for _, f := range tt.formats {
			name := tt.name + "." + ext(f) + ".golden"
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Compare(&buf, tt.cmp(), Options{Format: f, Binary: tt.binary, Version: "v0.0.0-test", Time: goldenTime}); err != nil {
					t.Fatal(err)
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

// Rendering twice gives the same bytes (no map order, no clock).
func TestDeterministic(t *testing.T) {
	for _, f := range allFormats {
		var a, b bytes.Buffer
		c := analysis.Compare(singleImage(), multiImage(), sharedImage(), unknownImage(), gzipImage())
		if err := Compare(&a, c, Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		if err := Compare(&b, c, Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%s: two renderings differ", f)
		}
	}
}

// goldenTime stands in for the clock in golden files.
var goldenTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// comparePackages is single against multi with the package changes
// compare --packages sets on multi's row, largest change first as
// DiffPackages orders them: the compiler gone, a package added, libc
// upgraded; and B's rpm database not read, as the notes say.
func comparePackages() *analysis.Comparison {
	c := analysis.Compare(singleImage(), multiImage())
	c.Rows[1].Packages = &analysis.PackageDiff{
		Changes: []analysis.PackageChange{
			{Kind: packages.Dpkg, Name: "gcc-12", Change: analysis.PackageRemoved, OldVersion: "12.2.0-14", OldBytes: 70_000_000, Delta: -70_000_000},
			{Kind: packages.Apk, Name: "ca-certificates", Change: analysis.PackageAdded, NewVersion: "20240226-r0", NewBytes: 700_000, Delta: 700_000},
			{Kind: packages.Dpkg, Name: "libc6", Change: analysis.PackageUpgraded, OldVersion: "2.36-9", NewVersion: "2.36-9+deb12u4", OldBytes: 12_000_000, NewBytes: 12_100_000, Delta: 100_000},
		},
		UnownedDelta: -500_000_000,
		Notes:        []string{"in B, the rpm database at /usr/lib/sysimage/rpm/Packages.db was not read (ndb): the packages it lists are missing on that side and may show as added or removed"},
	}
	return c
}
