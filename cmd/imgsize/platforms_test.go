package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgsize/imgsize/internal/testindex"
	"github.com/imgsize/imgsize/internal/testregistry"
	"github.com/imgsize/imgsize/internal/testutil"
)

// platformReport is the part of a JSON report the platform tests read.
type platformReport struct {
	SchemaVersion int `json:"schemaVersion"`
	Images        []struct {
		Ref        string `json:"ref"`
		Digest     string `json:"digest"`
		Platform   string `json:"platform"`
		Compressed struct {
			Bytes *int64 `json:"bytes"`
		} `json:"compressed"`
		Uncompressed struct {
			Bytes *int64 `json:"bytes"`
		} `json:"uncompressed"`
	} `json:"images"`
	Indexes []struct {
		Digest        string   `json:"digest"`
		ManifestBytes *int64   `json:"manifestBytes"`
		Platforms     []int    `json:"platforms"`
		Missing       []string `json:"missing"`
		Artifacts     []struct {
			Kind    string `json:"kind"`
			Subject string `json:"subject"`
			Bytes   struct {
				Bytes *int64 `json:"bytes"`
			} `json:"bytes"`
		} `json:"artifacts"`
		Stored struct {
			Bytes      *int64 `json:"bytes"`
			Provenance string `json:"provenance"`
		} `json:"stored"`
		SharedLayers []struct {
			Digest string `json:"digest"`
			Images []int  `json:"images"`
		} `json:"sharedLayers"`
	} `json:"indexes"`
	Comparison *struct {
		Rows []struct {
			Image      int    `json:"image"`
			Baseline   *int   `json:"baseline"`
			Platform   string `json:"platform"`
			Compressed *struct {
				DeltaBytes int64 `json:"deltaBytes"`
			} `json:"compressed"`
		} `json:"rows"`
		Platforms []struct {
			Platform string `json:"platform"`
			Images   []*int `json:"images"`
			Baseline *int   `json:"baseline"`
			Rows     []int  `json:"rows"`
		} `json:"platforms"`
		Stored []*struct {
			DeltaBytes int64 `json:"deltaBytes"`
		} `json:"stored"`
	} `json:"comparison"`
	Check *struct {
		Passed  bool `json:"passed"`
		Results []struct {
			Ref      string `json:"ref"`
			Platform string `json:"platform"`
			Index    *int   `json:"index"`
			Passed   bool   `json:"passed"`
			Error    string `json:"error"`
			Budgets  []struct {
				Budget string   `json:"budget"`
				Status string   `json:"status"`
				Actual *float64 `json:"actual"`
			} `json:"budgets"`
		} `json:"results"`
	} `json:"check"`
}

func decodePlatforms(t *testing.T, s string) platformReport {
	t.Helper()
	var r platformReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return r
}

// platformImages are the two indexes the platform tests read: A, OCI
// media types, linux/amd64 and linux/arm64; B, Docker media types,
// linux/amd64 grown by a layer, linux/arm64/v8 (linux/arm64 by another
// name) and linux/s390x, which A lacks. Both carry an attestation
// manifest per platform. A is written as a layout, B as an oci-archive,
// and both are pushed to the real registry.
type platformImages struct {
	a, b           *testindex.Built
	layoutA, archB string
	regA, regB     string
	reg            *testregistry.Registry
}

func buildPlatformImages(t *testing.T) *platformImages {
	t.Helper()
	p := &platformImages{
		a: testindex.Build(t, testindex.Spec{Seed: 1}),
		b: testindex.Build(t, testindex.Spec{Docker: true, Seed: 2, Platforms: []string{"linux/amd64", "linux/arm64/v8", "linux/s390x"}, Extra: []int{300_000}}),
	}
	dir := t.TempDir()
	p.layoutA = filepath.Join(dir, "a")
	testindex.WriteLayout(t, p.layoutA, p.a.Index, "v1")
	p.archB = filepath.Join(dir, "b.tar")
	testindex.WriteArchive(t, p.archB, p.b.Index, "v2")
	return p
}

func (p *platformImages) push(t *testing.T) {
	t.Helper()
	p.reg = testregistry.Start(t, testregistry.Options{})
	for _, x := range []struct {
		idx  *testindex.Built
		repo string
		dst  *string
	}{{p.a, "multi/a:v1", &p.regA}, {p.b, "multi/b:v2", &p.regB}} {
		ref, err := name.ParseReference(p.reg.Addr + "/" + x.repo)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, x.idx.Index, remote.WithTransport(p.reg.Transport())); err != nil {
			t.Fatal(err)
		}
		*x.dst = ref.String()
	}
}

// TestInspectPlatformsCLI checks every figure of inspect --platform all
// against the manifests, on an OCI layout, an oci-archive and the real
// registry, and the registry's index against skopeo's raw copy of it.
func TestInspectPlatformsCLI(t *testing.T) {
	t.Parallel()
	p := buildPlatformImages(t)
	p.push(t)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	for _, tc := range []struct {
		arg   string
		built *testindex.Built
	}{
		{"oci:" + p.layoutA + ":v1", p.a},
		{p.regA, p.a},
		{"oci-archive:" + p.archB, p.b},
		{p.regB, p.b},
	} {
		r := imgsize(t, env, "inspect", "--platform", "all", "-f", "json", "--no-cache", tc.arg)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.arg, r.code, r.stderr)
		}
		rep := decodePlatforms(t, r.stdout)
		if rep.SchemaVersion != 2 || len(rep.Indexes) != 1 {
			t.Fatalf("%s: schema %d, %d indexes; want version 2 and one index", tc.arg, rep.SchemaVersion, len(rep.Indexes))
		}
		x := rep.Indexes[0]
		if x.Stored.Bytes == nil || *x.Stored.Bytes != tc.built.Stored || x.Stored.Provenance != "exact" {
			t.Errorf("%s: stored %v (%s), want exactly %d", tc.arg, x.Stored.Bytes, x.Stored.Provenance, tc.built.Stored)
		}
		if len(x.Platforms) != len(tc.built.PlatformNames) {
			t.Fatalf("%s: %d platforms, want %d", tc.arg, len(x.Platforms), len(tc.built.PlatformNames))
		}
		for i, at := range x.Platforms {
			img := rep.Images[at]
			d, _ := tc.built.Platforms[i].Digest()
			if img.Digest != d.String() || *img.Compressed.Bytes != tc.built.Compressed[i] || *img.Uncompressed.Bytes != tc.built.Uncompressed[i] {
				t.Errorf("%s platform %d: %s %d/%d, want %s %d/%d", tc.arg, i, img.Digest, *img.Compressed.Bytes, *img.Uncompressed.Bytes, d, tc.built.Compressed[i], tc.built.Uncompressed[i])
			}
		}
		if len(x.Artifacts) != tc.built.Attestations {
			t.Fatalf("%s: %d artifacts, want %d attestations", tc.arg, len(x.Artifacts), tc.built.Attestations)
		}
		for i, a := range x.Artifacts {
			d, _ := tc.built.Platforms[i].Digest()
			if a.Kind != "attestation" || a.Subject != d.String() || *a.Bytes.Bytes != tc.built.AttestationBytes[i] {
				t.Errorf("%s artifact %d: %s of %s, %d bytes; want attestation of %s, %d", tc.arg, i, a.Kind, a.Subject, *a.Bytes.Bytes, d, tc.built.AttestationBytes[i])
			}
		}
		if len(x.SharedLayers) != 1 || x.SharedLayers[0].Digest != tc.built.Shared.String() || len(x.SharedLayers[0].Images) != len(x.Platforms) {
			t.Errorf("%s: shared layers %+v, want the base layer %s in every platform", tc.arg, x.SharedLayers, tc.built.Shared)
		}
		for _, img := range rep.Images {
			if strings.Contains(img.Platform, "unknown") {
				t.Errorf("%s: an attestation is listed as image %s", tc.arg, img.Platform)
			}
		}
	}

	// The registry's index, as skopeo fetches it: its digest and size.
	testutil.RequireTool(t, "skopeo")
	raw, err := exec.Command("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+p.regB).Output()
	if err != nil {
		t.Fatalf("skopeo inspect --raw: %v", err)
	}
	sum := sha256.Sum256(raw)
	r := imgsize(t, env, "inspect", "--platform", "all", "-f", "json", p.regB)
	x := decodePlatforms(t, r.stdout).Indexes[0]
	if x.Digest != "sha256:"+hex.EncodeToString(sum[:]) || x.ManifestBytes == nil || *x.ManifestBytes != int64(len(raw)) {
		t.Errorf("index %s (%v bytes); skopeo fetched sha256:%x (%d bytes)", x.Digest, x.ManifestBytes, sum, len(raw))
	}

	// The table says what the index costs and never shows an attestation
	// as a platform.
	r = imgsize(t, env, "inspect", "--platform", "all", "--no-cache", "oci-archive:"+p.archB)
	for _, want := range []string{"Stored (every blob once)", "attestation of linux/amd64", "linux/arm64/v8", "ALSO IN", "linux/s390x"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "unknown/unknown") {
		t.Errorf("inspect table shows unknown/unknown:\n%s", r.stdout)
	}
}

// TestComparePlatformsCLI compares A with B platform by platform.
func TestComparePlatformsCLI(t *testing.T) {
	t.Parallel()
	p := buildPlatformImages(t)
	r := runInProcess(t, "compare", "--platform", "all", "-f", "json", "--no-cache", "oci:"+p.layoutA+":v1", "oci-archive:"+p.archB)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decodePlatforms(t, r.stdout)
	c := rep.Comparison
	if c == nil || len(c.Platforms) != 3 {
		t.Fatalf("comparison %+v, want 3 platforms", c)
	}
	want := []struct {
		platform string
		compared bool
		delta    int64
	}{
		{"linux/amd64", true, p.b.Compressed[0] - p.a.Compressed[0]},
		{"linux/arm64", true, p.b.Compressed[1] - p.a.Compressed[1]},
		{"linux/s390x", false, 0},
	}
	for i, w := range want {
		pl := c.Platforms[i]
		if pl.Platform != w.platform || (pl.Baseline != nil) != w.compared {
			t.Errorf("platform %d: %s, baseline %v; want %s compared=%v", i, pl.Platform, pl.Baseline, w.platform, w.compared)
			continue
		}
		if !w.compared {
			if pl.Images[0] != nil || pl.Images[1] == nil || len(pl.Rows) != 0 {
				t.Errorf("%s: images %v rows %v, want only in B and no rows", w.platform, pl.Images, pl.Rows)
			}
			continue
		}
		row := c.Rows[pl.Rows[1]]
		if row.Platform != w.platform || row.Baseline == nil || *row.Baseline != *pl.Images[0] || row.Compressed == nil || row.Compressed.DeltaBytes != w.delta {
			t.Errorf("%s row: %+v, want Δ %d against image %d", w.platform, row, w.delta, *pl.Images[0])
		}
	}
	if len(c.Stored) != 2 || c.Stored[1] == nil || c.Stored[1].DeltaBytes != p.b.Stored-p.a.Stored {
		t.Errorf("stored deltas %+v, want [0, %d]", c.Stored, p.b.Stored-p.a.Stored)
	}

	for _, format := range []string{"table", "markdown", "csv"} {
		r := runInProcess(t, "compare", "--platform", "all", "-f", format, "--no-cache", "oci:"+p.layoutA+":v1", "oci-archive:"+p.archB)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "linux/arm64") || (format != "csv" && !strings.Contains(r.stdout, "linux/s390x: only in oci-archive:")) {
			t.Errorf("%s output lacks a platform:\n%s", format, r.stdout)
		}
		if format == "csv" {
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
				if !strings.HasSuffix(line, ",linux/amd64") && !strings.HasSuffix(line, ",linux/arm64") {
					t.Errorf("CSV row without its platform: %s", line)
				}
			}
		}
	}

	// files and diff read one platform.
	if r := runInProcess(t, "files", "--platform", "all", "oci:"+p.layoutA+":v1"); r.code != exitUsage || !strings.Contains(r.stderr, "one platform") {
		t.Errorf("files --platform all: exit %d: %s", r.code, r.stderr)
	}
}

// TestCheckPlatformsCLI holds every platform to the budgets.
func TestCheckPlatformsCLI(t *testing.T) {
	t.Parallel()
	p := buildPlatformImages(t)
	b := "oci-archive:" + p.archB
	// A limit between B's amd64 (grown by 300 kB of content) and its
	// other platforms: halfway, as how far apart they are depends on how
	// well the test layers' gzip packs that content.
	limit := (p.b.Compressed[0] + p.b.Compressed[1]) / 2
	if p.b.Compressed[0] <= limit || p.b.Compressed[2] > limit {
		t.Fatalf("test images do not straddle the limit: %v", p.b.Compressed)
	}
	r := runInProcess(t, "check", "--platform", "all", "-f", "json", "--no-cache",
		"--max-compressed", itoa(limit), "--max-index-compressed", itoa(p.b.Stored-1), b)
	if r.code != exitBudget {
		t.Fatalf("exit %d, want %d: %s", r.code, exitBudget, r.stderr)
	}
	rep := decodePlatforms(t, r.stdout)
	got := map[string]bool{}
	for _, res := range rep.Check.Results {
		key := res.Platform
		if res.Index != nil {
			key = "index"
			if len(res.Budgets) != 1 || res.Budgets[0].Budget != "max-index-compressed" || *res.Budgets[0].Actual != float64(p.b.Stored) {
				t.Errorf("index result %+v, want max-index-compressed of %d", res, p.b.Stored)
			}
		}
		got[key] = res.Passed
	}
	wantPassed := map[string]bool{"linux/amd64": false, "linux/arm64": true, "linux/s390x": true, "index": false}
	for k, v := range wantPassed {
		if pass, ok := got[k]; !ok || pass != v {
			t.Errorf("%s: passed=%v (present %v), want %v; results %+v", k, pass, ok, v, rep.Check.Results)
		}
	}

	// A platform asked for and absent is an error, never a pass.
	r = runInProcess(t, "check", "--platform", "linux/amd64,linux/ppc64le", "--max-compressed", "1GB", b)
	if r.code != exitImage || !strings.Contains(r.stdout, "linux/ppc64le") {
		t.Errorf("missing platform: exit %d, want %d:\n%s%s", r.code, exitImage, r.stdout, r.stderr)
	}

	// imgsize.yaml platforms:, growth against the same platform of A;
	// s390x has no baseline platform, which fails rather than passes.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "imgsize.yaml")
	if err := os.WriteFile(cfg, []byte("images:\n  - image: "+b+"\n    platforms: all\n    max-growth: 50%\n    baseline: oci:"+p.layoutA+":v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runInProcess(t, "check", "--config", cfg, "-f", "csv", "--no-cache")
	if r.code == exitOK {
		t.Fatalf("growth check passed although s390x has no baseline:\n%s", r.stdout)
	}
	for _, want := range []string{"[linux/amd64]", "[linux/arm64]", "[linux/s390x]", "no baseline of this platform"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check CSV lacks %q:\n%s", want, r.stdout)
		}
	}
	// A saved multi-platform report serves as the baseline: each
	// platform's growth is the same as against the live index.
	saved := filepath.Join(dir, "a.json")
	if r := runInProcess(t, "inspect", "--platform", "all", "-f", "json", "-o", saved, "--no-cache", "oci:"+p.layoutA+":v1"); r.code != 0 {
		t.Fatalf("saving A: exit %d: %s", r.code, r.stderr)
	}
	growth := func(baseline string) map[string]string {
		r := runInProcess(t, "check", "--platform", "all", "-f", "json", "--no-cache", "--max-growth", "50%", "--baseline", baseline, b)
		out := map[string]string{}
		for _, res := range decodePlatforms(t, r.stdout).Check.Results {
			v := res.Error
			for _, bud := range res.Budgets {
				v += bud.Status
				if bud.Actual != nil {
					v += " " + strconv.FormatFloat(*bud.Actual, 'f', -1, 64)
				}
			}
			out[res.Platform] = v
		}
		return out
	}
	live, recorded := growth("oci:"+p.layoutA+":v1"), growth("report:"+saved)
	if len(live) != 3 || !reflect.DeepEqual(live, recorded) || !strings.HasPrefix(live["linux/arm64"], "pass") {
		t.Errorf("growth against the live index %v, against its saved report %v; want the same 3 platforms, arm64 passing", live, recorded)
	}

	// The one platform named on the command line wins over the file.
	r = runInProcess(t, "check", "--config", cfg, "--platform", "linux/arm64", "--no-cache")
	if r.code != exitOK {
		t.Errorf("--platform linux/arm64 over platforms: all: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
