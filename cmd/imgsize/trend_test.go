package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/internal/testregistry"
	"github.com/imgsize/imgsize/internal/testutil"
	"github.com/imgsize/imgsize/pkg/schema"
)

// trendImage is a base layer every tag shares (under 1 KiB compressed, so
// it is probed too), a layer of its own of n random bytes, and created as
// its config's creation time.
func trendImage(t *testing.T, base v1.Layer, n int64, created time.Time, extra ...v1.Layer) v1.Image {
	t.Helper()
	own := testutil.RandomLayer(t, n, types.DockerLayer)
	img, err := mutate.AppendLayers(empty.Image, append([]v1.Layer{base, own}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.MediaType(img, types.DockerManifestSchema2)
}

// twoMemberLayer is a gzip layer of two members, the last holding 100
// bytes: its trailer (100, not a whole number of tar blocks) cannot give
// the layer's size, and reading it whole is the only way to count it.
func twoMemberLayer(t *testing.T) v1.Layer {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	body := make([]byte, 20_000)
	rand.New(rand.NewSource(7)).Read(body)
	if err := tw.WriteHeader(&tar.Header{Name: "blob", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	raw := tb.Bytes()
	var gz bytes.Buffer
	for _, part := range [][]byte{raw[:len(raw)-100], raw[len(raw)-100:]} {
		zw := gzip.NewWriter(&gz)
		zw.Write(part)
		zw.Close()
	}
	blob := gz.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil }, tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type trendDoc struct {
	Images []jsonImage         `json:"images"`
	Trend  *schema.TrendRecord `json:"trend"`
}

type jsonImage struct {
	Ref          string            `json:"ref"`
	Compressed   schema.SizeRecord `json:"compressed"`
	Uncompressed schema.SizeRecord `json:"uncompressed"`
}

func decodeTrend(t *testing.T, r result) trendDoc {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var d trendDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Trend == nil {
		t.Fatalf("decoding trend (%v): %s", err, r.stdout)
	}
	return d
}

func sizeText(s schema.SizeRecord) string {
	if s.Bytes == nil {
		return "? " + s.Provenance + " " + s.Reason
	}
	return fmt.Sprintf("%d %s %s", *s.Bytes, s.Provenance, s.Reason)
}

func labels(s schema.TrendSeriesRecord) []string {
	var out []string
	for _, p := range s.Points {
		out = append(out, p.Label)
	}
	return out
}

// TestTrendRealRegistry measures 22 tags of a real registry. Their
// creation times follow neither their names nor the order they were
// pushed in; one holds a layer whose gzip trailer cannot be used. The
// registry's own log shows that no layer is downloaded: each layer blob
// request is a 4-byte ranged read, and a run with a warm cache makes none.
func TestTrendRealRegistry(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{RequestLog: true})
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	base := testutil.RandomLayer(t, 100, types.DockerLayer)
	ambiguous := twoMemberLayer(t)

	const n = 21 // v1.0.0 … v1.20.0, and latest
	tags := make([]string, 0, n+1)
	for i := range n {
		tags = append(tags, fmt.Sprintf("v1.%d.0", i))
	}
	tags = append(tags, "latest")
	// Creation time of tag i: day (i*7 mod 22): a permutation unlike name,
	// version or push order.
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	created := map[string]time.Time{}
	imgs := map[string]v1.Image{}
	layerDigests, configDigests := map[string]bool{}, map[string]bool{}
	for i, tag := range tags {
		created[tag] = t0.Add(time.Duration(i*7%len(tags)) * 24 * time.Hour)
		var extra []v1.Layer
		if tag == "v1.5.0" {
			extra = append(extra, ambiguous)
		}
		img := trendImage(t, base, int64(2000+300*i), created[tag], extra...)
		imgs[tag] = img
		m, _ := img.Manifest()
		configDigests[m.Config.Digest.String()] = true
		for _, l := range m.Layers {
			layerDigests[l.Digest.String()] = true
		}
	}
	push := slices.Clone(tags)
	rand.New(rand.NewSource(1)).Shuffle(len(push), func(i, j int) { push[i], push[j] = push[j], push[i] })
	for _, tag := range push {
		ref, err := name.ParseReference(reg.Addr + "/app:" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, imgs[tag], remote.WithTransport(reg.Transport())); err != nil {
			t.Fatal(err)
		}
	}
	byCreated := slices.Clone(tags)
	slices.SortFunc(byCreated, func(a, b string) int { return created[a].Compare(created[b]) })
	if slices.Equal(byCreated, tags) || slices.Equal(byCreated, push) {
		t.Fatal("creation order must differ from name and push order")
	}

	layerRequests := func() []testregistry.Request {
		var out []testregistry.Request
		for _, r := range reg.Requests(t) {
			if i := strings.Index(r.URI, "/blobs/"); i >= 0 && layerDigests[r.URI[i+len("/blobs/"):]] {
				out = append(out, r)
			}
		}
		return out
	}
	before := len(layerRequests()) // the pushes' HEADs
	cacheDir := t.TempDir()
	repo := reg.Addr + "/app"

	d := decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "-f", "json", repo))
	if len(d.Trend.Series) != 1 {
		t.Fatalf("%d series, want 1", len(d.Trend.Series))
	}
	s := d.Trend.Series[0]
	if got := labels(s); !slices.Equal(got, byCreated) {
		t.Errorf("order\n got %v\nwant %v (by creation time)", got, byCreated)
	}
	if tg := d.Trend.Tags; tg == nil || tg.Listed != len(tags) || tg.Measured != len(tags) || tg.Truncated {
		t.Errorf("tags record %+v", d.Trend.Tags)
	}
	for j, p := range s.Points {
		img := d.Images[p.Image]
		want := manifestTotal(t, imgs[p.Label])
		if img.Compressed.Bytes == nil || *img.Compressed.Bytes != want {
			t.Errorf("%s: compressed %+v, manifest layers sum to %d", p.Label, img.Compressed, want)
		}
		if p.Time == nil || !p.Time.Equal(created[p.Label]) {
			t.Errorf("%s: time %v, want %v", p.Label, p.Time, created[p.Label])
		}
		switch {
		case p.Label == "v1.5.0":
			if img.Uncompressed.Bytes != nil || img.Uncompressed.Provenance != "unknown" || !strings.Contains(img.Uncompressed.Reason, "not read whole") {
				t.Errorf("v1.5.0 (ambiguous trailer): uncompressed %+v, want unknown with the reason", img.Uncompressed)
			}
		case img.Uncompressed.Bytes == nil || *img.Uncompressed.Bytes != uncompressedTotal(t, imgs[p.Label]) || img.Uncompressed.Provenance != "gzip-trailer":
			t.Errorf("%s: uncompressed %+v, want %d from gzip trailers", p.Label, img.Uncompressed, uncompressedTotal(t, imgs[p.Label]))
		}
		if j == 0 {
			if p.Compressed != nil {
				t.Errorf("first point has a delta: %+v", p.Compressed)
			}
			continue
		}
		prev := manifestTotal(t, imgs[s.Points[j-1].Label])
		if p.Compressed == nil || p.Compressed.DeltaBytes != want-prev || p.Compressed.Provenance != "exact" {
			t.Errorf("%s: compressed delta %+v, want %d", p.Label, p.Compressed, want-prev)
		}
	}
	first, last := manifestTotal(t, imgs[byCreated[0]]), manifestTotal(t, imgs[byCreated[len(byCreated)-1]])
	if s.Compressed == nil || s.Compressed.DeltaBytes != last-first || s.Compressed.DeltaPercent == nil ||
		math.Abs(*s.Compressed.DeltaPercent-float64(last-first)/float64(first)*100) > 1e-9 {
		t.Errorf("growth %+v, want %d bytes", s.Compressed, last-first)
	}

	// No layer was downloaded: every layer request is a 4-byte ranged
	// read of its gzip trailer.
	reqs := layerRequests()[before:]
	if len(reqs) == 0 {
		t.Fatal("no layer request in the registry's log: is it logging?")
	}
	for _, r := range reqs {
		if r.Method != "GET" || r.Status != 206 || r.Written > 4 {
			t.Errorf("layer request %+v: more than the 4-byte trailer probe", r)
		}
	}

	// Warm cache: not one layer request, the same figures.
	n1 := len(layerRequests())
	d2 := decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "-f", "json", repo))
	if extra := layerRequests()[n1:]; len(extra) > 0 {
		t.Errorf("warm cache: %d layer requests, want none: %+v", len(extra), extra)
	}
	for k, p := range d2.Trend.Series[0].Points {
		a, b := d.Images[s.Points[k].Image], d2.Images[p.Image]
		if sizeText(a.Uncompressed) != sizeText(b.Uncompressed) {
			t.Errorf("%s: warm cache says %+v, cold %+v", p.Label, b.Uncompressed, a.Uncompressed)
		}
	}

	// Semantic versions: v1.9.0 before v1.10.0; latest left out, named.
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--sort", "semver", "-f", "json", repo))
	want := tags[:n]
	if got := labels(d.Trend.Series[0]); !slices.Equal(got, want) {
		t.Errorf("semver order\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(strings.Join(d.Trend.Notes, "\n"), "latest") {
		t.Errorf("notes do not name the tag left out: %q", d.Trend.Notes)
	}

	// A glob, a regular expression, --last and --max-tags.
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--sort", "semver", "--tags", "v1.1*", "-f", "json", repo))
	if got := labels(d.Trend.Series[0]); !slices.Equal(got, []string{"v1.1.0", "v1.10.0", "v1.11.0", "v1.12.0", "v1.13.0", "v1.14.0", "v1.15.0", "v1.16.0", "v1.17.0", "v1.18.0", "v1.19.0"}) {
		t.Errorf("--tags v1.1*: %v", got)
	}
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--sort", "semver", "--tags-regex", `^v1\.[0-9]\.0$`, "--last", "3", "-f", "json", repo))
	if got := labels(d.Trend.Series[0]); !slices.Equal(got, []string{"v1.7.0", "v1.8.0", "v1.9.0"}) {
		t.Errorf("--tags-regex --last 3: %v", got)
	}
	// --sort semver --last reads only the newest versions: the registry
	// is asked for no other tag's manifest.
	m0 := len(reg.Requests(t))
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--sort", "semver", "--last", "3", "-f", "json", repo))
	newest := []string{"v1.18.0", "v1.19.0", "v1.20.0"}
	if got := labels(d.Trend.Series[0]); !slices.Equal(got, newest) || d.Trend.Tags == nil || d.Trend.Tags.Measured != 3 {
		t.Errorf("--sort semver --last 3: %v, tags %+v; want %v, 3 measured", got, d.Trend.Tags, newest)
	}
	if notes := strings.Join(d.Trend.Notes, "\n"); !strings.Contains(notes, "latest") || !strings.Contains(notes, "the 18 older were not read") || strings.Contains(notes, "--max-tags") {
		t.Errorf("--sort semver --last 3: notes %q do not say what was left out, or blame --max-tags, which cut nothing", notes)
	}
	asked := map[string]bool{}
	for _, r := range reg.Requests(t)[m0:] {
		if _, tag, ok := strings.Cut(r.URI, "/manifests/"); ok && !strings.HasPrefix(tag, "sha256:") {
			asked[tag] = true
		}
	}
	if len(asked) != 3 || !asked["v1.18.0"] || !asked["v1.19.0"] || !asked["v1.20.0"] {
		t.Errorf("--sort semver --last 3 asked for the manifests of %v, want only %v", asked, newest)
	}
	// With --max-tags cutting the listing, the newest versions may not be
	// among the tags kept: those are all measured, and the newest of them
	// shown. Which five the registry lists first, go-containerregistry's
	// own listing says; their order as versions, their minor numbers.
	listed, err := remote.List(mustRepo(t, repo), remote.WithTransport(reg.Transport()))
	if err != nil || len(listed) != len(tags) {
		t.Fatalf("listing the registry's tags: %v, %d", err, len(listed))
	}
	var firstVersions []string
	for _, tag := range listed[:5] {
		if tag != "latest" {
			firstVersions = append(firstVersions, tag)
		}
	}
	minor := func(tag string) int { n, _ := strconv.Atoi(strings.Split(tag, ".")[1]); return n }
	slices.SortFunc(firstVersions, func(a, b string) int { return minor(a) - minor(b) })
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--max-tags", "5", "--sort", "semver", "--last", "2", "-f", "json", repo))
	if want := firstVersions[len(firstVersions)-2:]; !slices.Equal(labels(d.Trend.Series[0]), want) || d.Trend.Tags == nil || d.Trend.Tags.Measured != 5 {
		t.Errorf("--max-tags 5 --sort semver --last 2: %v, tags %+v; want %v of the 5 listed first (%v), 5 measured", labels(d.Trend.Series[0]), d.Trend.Tags, want, listed[:5])
	}
	d = decodeTrend(t, imgsize(t, env, "trend", "--cache-dir", cacheDir, "--max-tags", "5", "-f", "json", repo))
	if tg := d.Trend.Tags; tg.Measured != 5 || tg.Matched != len(tags) || len(d.Trend.Series[0].Points) != 5 {
		t.Errorf("--max-tags 5: %+v, %d points", tg, len(d.Trend.Series[0].Points))
	}

	// The table says what it could not know.
	r := imgsize(t, env, "trend", "--cache-dir", cacheDir, repo)
	if r.code != 0 || !strings.Contains(r.stdout, "? uncompressed unknown: not read whole") || !strings.Contains(r.stdout, "v1.5.0") {
		t.Errorf("table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Unreadable: one line naming the repository, exit 3.
	r = imgsize(t, env, "trend", reg.Addr+"/absent")
	if r.code != 3 || !strings.Contains(r.stderr, reg.Addr+"/absent") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("absent repository: exit %d, %q", r.code, r.stderr)
	}
	r = imgsize(t, env, "trend", repo+":v1.0.0")
	if r.code != 2 {
		t.Errorf("a tag instead of a repository: exit %d, %q", r.code, r.stderr)
	}
}

// TestTrendRealRegistryPlatforms: with --platform all, a multi-platform
// tag yields a series per platform; by default, the platform --platform
// picks.
func TestTrendRealRegistryPlatforms(t *testing.T) {
	t.Parallel()
	reg := testregistry.Start(t, testregistry.Options{})
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	base := testutil.RandomLayer(t, 100, types.DockerLayer)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, tag := range []string{"b", "a", "c"} {
		var adds []mutate.IndexAddendum
		for k, arch := range []string{"amd64", "arm64"} {
			img := trendImage(t, base, int64(3000+1000*i+500*k), t0.Add(time.Duration(i)*time.Hour))
			cf, _ := img.ConfigFile()
			cf = cf.DeepCopy()
			cf.Architecture = arch
			img, _ = mutate.ConfigFile(img, cf)
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
		ref, _ := name.ParseReference(reg.Addr + "/multi:" + tag)
		if err := remote.WriteIndex(ref, idx, remote.WithTransport(reg.Transport())); err != nil {
			t.Fatal(err)
		}
	}
	repo := reg.Addr + "/multi"
	d := decodeTrend(t, imgsize(t, env, "trend", "--platform", "all", "-f", "json", repo))
	if len(d.Trend.Series) != 2 || d.Trend.Series[0].Platform != "linux/amd64" || d.Trend.Series[1].Platform != "linux/arm64" {
		t.Fatalf("series %+v", d.Trend.Series)
	}
	for _, s := range d.Trend.Series {
		if got := labels(s); !slices.Equal(got, []string{"b", "a", "c"}) {
			t.Errorf("%s: %v, want b a c (by creation time)", s.Platform, got)
		}
	}
	d = decodeTrend(t, imgsize(t, env, "trend", "--platform", "linux/arm64", "-f", "json", repo))
	if len(d.Trend.Series) != 1 || d.Trend.Series[0].Platform != "linux/arm64" || len(d.Trend.Series[0].Points) != 3 {
		t.Errorf("--platform linux/arm64: %+v", d.Trend.Series)
	}
}

// saveTrendReport adds img to the layout p (in dir/layout) as tag and saves
// imgsize's JSON report of it as dir/name, which it returns.
func saveTrendReport(t *testing.T, p layout.Path, dir string, img v1.Image, tag, name string) string {
	t.Helper()
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if r := runInProcess(t, "inspect", "--no-cache", "-f", "json", "-o", out, "oci:"+filepath.Join(dir, "layout")+":"+tag); r.code != 0 {
		t.Fatalf("inspect: %d %s", r.code, r.stderr)
	}
	return out
}

// TestTrendReports: a trend over reports imgsize itself saved, ordered
// by the time each was written whatever the argument order, with growth
// checked against the manifests' layer sizes summed here.
func TestTrendReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := testutil.RandomLayer(t, 100, types.DockerLayer)
	p, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []v1.Image
	var paths []string
	for i := range 4 {
		img := trendImage(t, base, int64(5000*(i+1)), time.Time{})
		out := saveTrendReport(t, p, dir, img, fmt.Sprintf("b%d", i), fmt.Sprintf("r%d.json", i))
		imgs = append(imgs, img)
		paths = append(paths, out)
		time.Sleep(5 * time.Millisecond) // distinct report times
	}
	shuffled := []string{paths[2], paths[0], paths[3], paths[1]}
	d := decodeTrend(t, runInProcess(t, append([]string{"trend", "-f", "json"}, shuffled...)...))
	s := d.Trend.Series[0]
	if got := labels(s); !slices.Equal(got, paths) || d.Trend.Order != "recorded" {
		t.Fatalf("order %s %v, want recorded %v", d.Trend.Order, got, paths)
	}
	for j := 1; j < len(s.Points); j++ {
		want := manifestTotal(t, imgs[j]) - manifestTotal(t, imgs[j-1])
		if c := s.Points[j].Compressed; c == nil || c.DeltaBytes != want {
			t.Errorf("point %d: compressed delta %+v, want %d", j, c, want)
		}
	}
	if want := manifestTotal(t, imgs[3]) - manifestTotal(t, imgs[0]); s.Compressed == nil || s.Compressed.DeltaBytes != want {
		t.Errorf("growth %+v, want %d", s.Compressed, want)
	}
	if want := uncompressedTotal(t, imgs[3]) - uncompressedTotal(t, imgs[0]); s.Uncompressed == nil || s.Uncompressed.DeltaBytes != want || s.Uncompressed.Provenance != "exact" {
		t.Errorf("uncompressed growth %+v, want exact %d", s.Uncompressed, want)
	}

	d = decodeTrend(t, runInProcess(t, append([]string{"trend", "--sort", "args", "-f", "json"}, shuffled...)...))
	if got := labels(d.Trend.Series[0]); !slices.Equal(got, shuffled) {
		t.Errorf("--sort args: %v, want %v", got, shuffled)
	}
	for _, f := range []string{"table", "markdown", "csv", "html"} {
		if r := runInProcess(t, append([]string{"trend", "-f", f}, paths...)...); r.code != 0 || !strings.Contains(r.stdout, "r3.json") {
			t.Errorf("-f %s: exit %d %s", f, r.code, r.stderr)
		}
	}
	if r := runInProcess(t, "trend", "--sort", "semver", paths[0]); r.code != 2 {
		t.Errorf("--sort semver over reports: exit %d, want 2", r.code)
	}

	// --sort created: by the creation time each report recorded from the
	// image's config, not by when the report was written; a report that
	// records none (written before imgsize recorded it) comes last.
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created := []time.Time{t0.Add(2 * time.Hour), t0, t0.Add(time.Hour)}
	var byCreation [3]string
	for i, c := range created {
		img := trendImage(t, base, int64(7000+i), c)
		out := saveTrendReport(t, p, dir, img, fmt.Sprintf("c%d", i), fmt.Sprintf("c%d.json", i))
		var rec struct {
			Images []struct {
				Created *time.Time `json:"created"`
			} `json:"images"`
		}
		readJSON(t, out, &rec)
		if len(rec.Images) != 1 || rec.Images[0].Created == nil || !rec.Images[0].Created.Equal(c) {
			t.Fatalf("%s records created %v, the config says %v", out, rec.Images, c)
		}
		byCreation[[]int{2, 0, 1}[i]] = out
	}
	// paths[0] as an older report: its image record without "created".
	old := filepath.Join(dir, "old.json")
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(`"created"`)) {
		t.Fatalf("%s records a creation time its config does not have", paths[0])
	}
	writeFile(t, dir, "old.json", string(raw))
	args := []string{"trend", "--sort", "created", "-f", "json", old, byCreation[2], byCreation[0], byCreation[1]}
	d = decodeTrend(t, runInProcess(t, args...))
	if got, want := labels(d.Trend.Series[0]), append(byCreation[:], old); !slices.Equal(got, want) || d.Trend.Order != "created" {
		t.Errorf("--sort created over reports: %s %v, want created %v", d.Trend.Order, got, want)
	}
	if !strings.Contains(strings.Join(d.Trend.Notes, "\n"), "old.json") {
		t.Errorf("notes do not name the report without a creation time: %q", d.Trend.Notes)
	}
}

func mustRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
