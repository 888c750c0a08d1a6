package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/packages"
)

// packagesReport: a dpkg image with a toolchain package, a Go binary, an
// unread rpm database and a name that tries to forge a terminal line.
// Owned 6,000,000 + 2,500,000 + 100,000 + 1,000 and unowned 400,000:
// 9,001,000 bytes in total.
func packagesReport() *analysis.PackageReport {
	img := image("example.com/app:1", "example.com/app:1", "e", 1_000, 2_000,
		layer("1", exact(3_000_000), exact(8_000_000), "/bin/sh -c #(nop) ADD file:0a1b2c in / "),
		layer("2", exact(1_000_000), exact(3_000_000), "RUN /bin/sh -c apt-get install -y gcc-12 # buildkit"),
	)
	lc := func(l, n int, b int64) analysis.LayerCount {
		return analysis.LayerCount{Layer: l, Count: analysis.Count{Files: n, Bytes: b}}
	}
	u := func(kind packages.Kind, name, version string, declared int64, disagrees bool, n int, b int64, ls ...analysis.LayerCount) analysis.PackageUsage {
		return analysis.PackageUsage{
			Package:   packages.Package{Kind: kind, Name: name, Version: version, Declared: declared},
			Owned:     analysis.Count{Files: n, Bytes: b},
			Layers:    ls,
			Disagrees: disagrees,
		}
	}
	gobin := u(packages.Go, "example.com/app", "v1.2.3", -1, false, 1, 2_500_000, lc(1, 1, 2_500_000))
	gobin.GoVersion = "go1.26.0"
	gobin.Modules = []string{"golang.org/x/sync@v0.25.0"}
	return &analysis.PackageReport{
		Image: img,
		Total: analysis.Count{Files: 40, Bytes: 9_001_000},
		Packages: []analysis.PackageUsage{
			u(packages.Dpkg, "gcc-12", "12.2.0-14", 6_001_664, false, 20, 6_000_000, lc(1, 20, 6_000_000)),
			gobin,
			u(packages.Dpkg, "base-files", "12.4", 204_800, true, 10, 100_000, lc(0, 10, 100_000)),
			u(packages.Npm, "evil\x1b[2Jok", "1.0.0", -1, false, 1, 1_000, lc(0, 1, 1_000)),
		},
		Unowned:       analysis.Count{Files: 8, Bytes: 400_000},
		UnownedLayers: []analysis.LayerCount{lc(0, 7, 300_000), lc(1, 1, 100_000)},
		Databases: []packages.Database{
			{Kind: packages.Dpkg, Path: "var/lib/dpkg/status", Read: true, Packages: 2},
			{Kind: packages.Rpm, Path: "usr/lib/sysimage/rpm/Packages.db", Note: packages.RpmNote},
			{Kind: packages.Npm, Path: "node_modules/*/package.json", Read: true, Packages: 1},
			{Kind: packages.Go, Path: "Go binaries' build information", Read: true, Packages: 1},
		},
		Notes: []string{"/usr/lib/sysimage/rpm/Packages.db: " + packages.RpmNote},
		Hints: []analysis.Hint{{
			ID: analysis.HintToolchainPackage, Title: "Compiler toolchain packages in the final image (gcc-12)", Bytes: 6_000_000,
			Layers: []int{1}, Fix: "install compilers in a build stage only",
		}},
	}
}

func TestPackagesGolden(t *testing.T) {
	for _, f := range allFormats {
		name := "packages_report." + ext(f) + ".golden"
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := Options{Format: f, Version: "v0.0.0-test", Time: goldenTime}
			if err := Packages(&buf, packagesReport(), 3, opts); err != nil {
				t.Fatal(err)
			}
			checkOutput(t, f, buf.Bytes())
			golden(t, name, buf.Bytes())
		})
	}
}

func TestPackagesTableFacts(t *testing.T) {
	var buf bytes.Buffer
	if err := Packages(&buf, packagesReport(), 3, Options{Format: Table}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{
		"Unowned: 400 kB (4.4%) in 8 files",
		"the 3 largest of 4",
		"205 kB !",
		"rpm /usr/lib/sysimage/rpm/Packages.db (not read)",
		"example.com/app",
		"[toolchain-package]",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "evil") {
		t.Error("--top 3 lists the fourth package")
	}
	buf.Reset()
	if err := Packages(&buf, packagesReport(), 10, Options{Format: Table}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b") {
		t.Error("a control character reached the table")
	}
}

func TestDiffWithPackages(t *testing.T) {
	a, b := packagesReport(), packagesReport()
	b.Packages = append([]analysis.PackageUsage{}, b.Packages...)
	b.Packages[0].Version = "12.3.0-1"
	b.Packages[0].Owned.Bytes = 6_500_000
	b.Packages = b.Packages[:3] // the npm package is gone
	for _, d := range []*analysis.FileDiff{fileDiff(false), sameDiff()} {
		d.Packages = analysis.DiffPackages(a, b)
		for _, f := range allFormats {
			var buf bytes.Buffer
			if err := Diff(&buf, d, Options{Format: f, Version: "v0.0.0-test", Time: goldenTime}); err != nil {
				t.Fatal(err)
			}
			checkOutput(t, f, buf.Bytes())
			out := buf.String()
			want := map[Format]string{
				Table:    "12.2.0-14 → 12.3.0-1",
				Markdown: "12.2.0-14 → 12.3.0-1",
				CSV:      ",,upgraded,6000000,6500000,500000,",
				JSON:     `"change": "upgraded"`,
				HTML:     `"oldVersion":"12.2.0-14"`,
			}[f]
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", f, want, out)
			}
		}
	}
}
