package source_test

import (
	"context"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

func digestOf(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// selectCase opens arg and expects either the image with digest want or an
// error of kind wantErr mentioning every fragment.
type selectCase struct {
	name      string
	arg       string
	platform  string // "" = default
	want      v1.Hash
	wantErr   error
	fragments []string
}

func runSelect(t *testing.T, cases []selectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts source.Options
			if c.platform != "" {
				p, err := source.ParsePlatform(c.platform)
				if err != nil {
					t.Fatal(err)
				}
				opts.Platform = p
			}
			img, err := source.Open(context.Background(), c.arg, opts)
			if c.wantErr != nil {
				if err == nil {
					img.Close()
				}
				checkErr(t, err, c.wantErr, c.fragments...)
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.arg, err)
			}
			defer img.Close()
			if got := digestOf(t, img.Image); got != c.want {
				t.Errorf("Open(%q) picked %s, want %s", c.arg, got, c.want)
			}
		})
	}
}

// TestSelectByTag: a layout holding two images of the same platform needs a
// tag, and an absent tag is reported with the tags the layout has. The
// platform is given once on the index descriptor and once only in the
// config, which the reader must then open to learn it.
func TestSelectByTag(t *testing.T) {
	t.Parallel()
	one := genImage(t, 10, 1, 300, &linuxAmd64)
	two := genImage(t, 11, 1, 300, &linuxAmd64)
	for _, onDescriptor := range []bool{true, false} {
		name := "platform in config only"
		if onDescriptor {
			name = "platform on descriptor"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeLayout(t, filepath.Join(dir, "layout"))
			for _, x := range []struct {
				img v1.Image
				tag string
			}{{one, "v1"}, {two, "v2"}} {
				opts := []layout.Option{tagged(x.tag)}
				if onDescriptor {
					opts = append(opts, layout.WithPlatform(linuxAmd64))
				}
				if err := p.AppendImage(x.img, opts...); err != nil {
					t.Fatal(err)
				}
			}
			archive := filepath.Join(dir, "layout.tar")
			tarDir(t, string(p), archive)
			for _, prefix := range []string{"oci:" + string(p), "oci-archive:" + archive, string(p), archive} {
				t.Run(relArg(prefix, dir), func(t *testing.T) {
					runSelect(t, []selectCase{
						{name: "v1", arg: prefix + ":v1", want: digestOf(t, one)},
						{name: "v2", arg: prefix + ":v2", want: digestOf(t, two)},
						{name: "no tag", arg: prefix, wantErr: errdefs.ErrUsage, fragments: []string{"v1", "v2", ":TAG"}},
						{name: "absent tag", arg: prefix + ":v3", wantErr: errdefs.ErrNotFound, fragments: []string{`"v3"`, "v1, v2"}},
					})
				})
			}
		})
	}
}

// TestSelectByTagNoPlatform: two images that state no platform at all (no
// descriptor platform, no os/architecture in the config) can only be told
// apart by tag, so the error is a usage error naming the tags, not "no
// image for linux/amd64".
func TestSelectByTagNoPlatform(t *testing.T) {
	t.Parallel()
	one := genImage(t, 12, 1, 300, nil)
	two := genImage(t, 13, 1, 300, nil)
	p := writeLayout(t, filepath.Join(t.TempDir(), "layout"))
	if err := p.AppendImage(one, tagged("v1")); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(two, tagged("v2")); err != nil {
		t.Fatal(err)
	}
	arg := "oci:" + string(p)
	runSelect(t, []selectCase{
		{name: "v1", arg: arg + ":v1", want: digestOf(t, one)},
		{name: "v2 under another platform", arg: arg + ":v2", platform: "linux/s390x", want: digestOf(t, two)},
		{name: "no tag", arg: arg, wantErr: errdefs.ErrUsage, fragments: []string{"v1, v2", ":TAG"}},
	})
}

// TestSelectPlatform: an index resolves to one platform; the default is
// linux/amd64; an absent platform lists what the index offers. The index is
// tried as the layout's own index.json, nested under a tag, and with the
// platform known only from each image's config.
func TestSelectPlatform(t *testing.T) {
	t.Parallel()
	amd := genImage(t, 20, 2, 200, &linuxAmd64)
	arm := genImage(t, 21, 2, 200, &linuxArm64)
	armV7 := genImage(t, 22, 1, 200, &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"})
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &linuxAmd64}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &linuxArm64}},
		mutate.IndexAddendum{Add: armV7, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}},
	)
	// The same images without platforms on the descriptors.
	bare := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd}, mutate.IndexAddendum{Add: arm}, mutate.IndexAddendum{Add: armV7})

	dir := t.TempDir()
	top, err := layout.Write(filepath.Join(dir, "top"), idx)
	if err != nil {
		t.Fatal(err)
	}
	nested := writeLayout(t, filepath.Join(dir, "nested"))
	if err := nested.AppendIndex(idx, tagged("v1")); err != nil {
		t.Fatal(err)
	}
	fromConfig, err := layout.Write(filepath.Join(dir, "config"), bare)
	if err != nil {
		t.Fatal(err)
	}
	nestedTar := filepath.Join(dir, "nested.tar")
	tarDir(t, string(nested), nestedTar)

	listed := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	for _, arg := range []string{
		"oci:" + string(top), "oci:" + string(nested), "oci:" + string(nested) + ":v1",
		"oci:" + string(fromConfig), "oci-archive:" + nestedTar + ":v1", nestedTar,
	} {
		t.Run(relArg(arg, dir), func(t *testing.T) {
			runSelect(t, []selectCase{
				{name: "default is linux/amd64", arg: arg, want: digestOf(t, amd)},
				{name: "linux/amd64", arg: arg, platform: "linux/amd64", want: digestOf(t, amd)},
				{name: "linux/arm64", arg: arg, platform: "linux/arm64", want: digestOf(t, arm)},
				{name: "linux/arm/v7", arg: arg, platform: "linux/arm/v7", want: digestOf(t, armV7)},
				{name: "linux/arm without variant", arg: arg, platform: "linux/arm", want: digestOf(t, armV7)},
				{name: "absent platform", arg: arg, platform: "linux/s390x", wantErr: errdefs.ErrNotFound, fragments: append([]string{"linux/s390x"}, listed...)},
				{name: "absent variant", arg: arg, platform: "linux/arm/v6", wantErr: errdefs.ErrNotFound, fragments: append([]string{"linux/arm/v6"}, listed...)},
			})
		})
	}
}

// TestSelectSingleImage: a layout whose index lists one image is read
// whatever its platform; --platform chooses only inside an index.
func TestSelectSingleImage(t *testing.T) {
	t.Parallel()
	arm := genImage(t, 30, 1, 200, &linuxArm64)
	armIdx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &linuxArm64}})
	dir := t.TempDir()
	single := writeLayout(t, filepath.Join(dir, "single"))
	if err := single.AppendImage(arm, layout.WithPlatform(linuxArm64)); err != nil {
		t.Fatal(err)
	}
	// An index of one image, nested under a tag, resolves the same way.
	oneIdx := writeLayout(t, filepath.Join(dir, "index-of-one"))
	if err := oneIdx.AppendIndex(armIdx, tagged("v1")); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"oci:" + string(single), "oci:" + string(oneIdx), "oci:" + string(oneIdx) + ":v1"} {
		t.Run(relArg(arg, dir), func(t *testing.T) {
			runSelect(t, []selectCase{
				{name: "default platform", arg: arg, want: digestOf(t, arm)},
				{name: "other platform", arg: arg, platform: "linux/s390x", want: digestOf(t, arm)},
			})
		})
	}
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want v1.Platform
		ok   bool
	}{
		{"linux/amd64", linuxAmd64, true},
		{"linux/arm64", linuxArm64, true},
		{"linux/arm/v7", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, true},
		{"linux/arm64/v8", v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{"windows/amd64", v1.Platform{OS: "windows", Architecture: "amd64"}, true},
		{"", v1.Platform{}, false},
		{"linux", v1.Platform{}, false},
		{"linux/", v1.Platform{}, false},
		{"/amd64", v1.Platform{}, false},
		{"//", v1.Platform{}, false},
		{"linux//v7", v1.Platform{}, false},
		{"linux/arm/v7/extra", v1.Platform{}, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := source.ParsePlatform(c.in)
			if !c.ok {
				checkErr(t, err, errdefs.ErrUsage, "invalid platform", `"`+c.in+`"`)
				return
			}
			if err != nil {
				t.Fatalf("ParsePlatform(%q): %v", c.in, err)
			}
			if !got.Equals(c.want) {
				t.Errorf("ParsePlatform(%q) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

// TestSelectDockerArchive: a docker save of two images needs :REF, which
// may be written short (app:v1) or fully qualified; without one the error
// lists the archive's tags.
func TestSelectDockerArchive(t *testing.T) {
	t.Parallel()
	app := genImage(t, 40, 1, 300, &linuxAmd64)
	other := genImage(t, 41, 2, 300, &linuxAmd64)
	dir := t.TempDir()
	crane := filepath.Join(dir, "crane.tar")
	writeTarball(t, crane, map[string]v1.Image{"app:v1": app, "registry.example/other:v2": other})
	saved := filepath.Join(dir, "save.tar")
	writeTar(t, saved, legacyEntries(
		legacyImage{tags: []string{"app:v1"}, facts: factsOf(t, app)},
		legacyImage{tags: []string{"registry.example/other:v2"}, facts: factsOf(t, other)},
	))
	for _, path := range []string{crane, saved} {
		for _, prefix := range []string{"docker-archive:" + path, path} {
			t.Run(relArg(prefix, dir), func(t *testing.T) {
				for _, c := range []struct {
					name, ref string
					want      v1.Image
					wantErr   error
					fragments []string
				}{
					{name: "short", ref: ":app:v1", want: app},
					{name: "qualified", ref: ":docker.io/library/app:v1", want: app},
					{name: "other registry", ref: ":registry.example/other:v2", want: other},
					{name: "none", wantErr: errdefs.ErrUsage, fragments: []string{"app:v1", "registry.example/other:v2", ":REF"}},
					{name: "absent", ref: ":app:v9", wantErr: errdefs.ErrNotFound, fragments: []string{"app:v9", "app:v1", "registry.example/other:v2"}},
				} {
					t.Run(c.name, func(t *testing.T) {
						img, err := source.Open(context.Background(), prefix+c.ref, source.Options{})
						if c.wantErr != nil {
							if err == nil {
								img.Close()
							}
							checkErr(t, err, c.wantErr, c.fragments...)
							return
						}
						if err != nil {
							t.Fatal(err)
						}
						defer img.Close()
						// The synthetic manifest differs from the generator's;
						// the config digest identifies the image.
						got, err := img.Image.ConfigName()
						if err != nil {
							t.Fatal(err)
						}
						want, err := c.want.ConfigName()
						if err != nil {
							t.Fatal(err)
						}
						if got != want {
							t.Errorf("picked config %s, want %s", got, want)
						}
					})
				}
			})
		}
	}
}
