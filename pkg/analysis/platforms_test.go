package analysis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
)

// onPlatform returns img for platform p ("os/arch[/variant]").
func onPlatform(t *testing.T, p string, img *layers.Image) *layers.Image {
	t.Helper()
	pl, err := v1.ParsePlatform(p)
	if err != nil {
		t.Fatal(err)
	}
	img.Platform = pl
	return img
}

func index(stored int64, imgs ...*layers.Image) *layers.Index {
	return &layers.Index{Platforms: imgs, Stored: exact(stored)}
}

func TestComparePlatformsPairsByPlatform(t *testing.T) {
	// The baseline: amd64 (a, b) and arm64 written without its variant.
	amd1 := onPlatform(t, "linux/amd64", image(layer('a', 100, 1000), layer('b', 10, 100)))
	arm1 := onPlatform(t, "linux/arm64", image(layer('c', 200, 2000)))
	ppc := onPlatform(t, "linux/ppc64le", image(layer('p', 5, 50)))
	// v2: arm64/v8 (the same platform) grows by layer d; amd64 unchanged;
	// s390x new; ppc64le gone.
	amd2 := onPlatform(t, "linux/amd64", image(layer('a', 100, 1000), layer('b', 10, 100)))
	arm2 := onPlatform(t, "linux/arm64/v8", image(layer('c', 200, 2000), layer('d', 30, 300)))
	s390 := onPlatform(t, "linux/s390x", image(layer('s', 7, 70)))

	base := index(1000, amd1, arm1, ppc)
	next := index(1337, arm2, s390, amd2)
	pc := analysis.ComparePlatforms(base, next)

	type got struct {
		Key       string
		In        []int
		Missing   []int
		Compared  bool
		DeltaComp int64
		Added     int
	}
	var gots []got
	for _, p := range pc.Platforms {
		g := got{Key: p.Key, In: p.In(), Missing: p.Missing(), Compared: p.Comparison != nil}
		if p.Comparison != nil {
			r := p.Comparison.Rows[len(p.Comparison.Rows)-1]
			g.DeltaComp, g.Added = r.Compressed.Bytes, len(r.Added)
		}
		gots = append(gots, g)
	}
	arm := layers.PlatformKey(arm1.Platform)
	if arm != layers.PlatformKey(arm2.Platform) {
		t.Fatalf("PlatformKey(linux/arm64) = %q, PlatformKey(linux/arm64/v8) = %q: the same platform must have one key", arm, layers.PlatformKey(arm2.Platform))
	}
	want := []got{
		{Key: layers.PlatformKey(amd1.Platform), In: []int{0, 1}, Compared: true},
		{Key: arm, In: []int{0, 1}, Compared: true, DeltaComp: 30, Added: 1},
		{Key: layers.PlatformKey(ppc.Platform), In: []int{0}, Missing: []int{1}},
		{Key: layers.PlatformKey(s390.Platform), In: []int{1}, Missing: []int{0}},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	// Each comparison sets the other index's image against the baseline's
	// of the same platform.
	if c := pc.Platforms[1].Comparison; c.Base != arm1 || c.Rows[1].Image != arm2 {
		t.Errorf("arm64 comparison pairs %v with %v, want arm1 with arm2", c.Base.Platform, c.Rows[1].Image.Platform)
	}
	if len(pc.Stored) != 2 || pc.Stored[0].Bytes != 0 || pc.Stored[1].Bytes != 337 || !pc.Stored[1].Known {
		t.Errorf("Stored deltas = %+v, want 0 and +337", pc.Stored)
	}
}

func TestComparePlatformsThreeWays(t *testing.T) {
	a := index(10, onPlatform(t, "linux/amd64", image(layer('a', 1, 1))))
	b := index(20, onPlatform(t, "linux/arm64", image(layer('b', 2, 2))), onPlatform(t, "linux/amd64", image(layer('a', 1, 1))))
	c := index(30, onPlatform(t, "linux/arm64", image(layer('c', 3, 3))))
	pc := analysis.ComparePlatforms(a, b, c)
	if len(pc.Platforms) != 2 {
		t.Fatalf("%d platforms, want 2", len(pc.Platforms))
	}
	amd, arm := pc.Platforms[0], pc.Platforms[1]
	// amd64: a and b compared; c lacks it.
	if amd.Comparison == nil || len(amd.Comparison.Rows) != 2 || !cmp.Equal(amd.Missing(), []int{2}) {
		t.Errorf("amd64: comparison %v, missing %v; want 2 rows, missing [2]", amd.Comparison, amd.Missing())
	}
	// arm64: the baseline lacks it, so it is compared with nothing.
	if arm.Comparison != nil || !cmp.Equal(arm.In(), []int{1, 2}) {
		t.Errorf("arm64: comparison %v, in %v; want none, in [1 2]", arm.Comparison, arm.In())
	}
	if got := []int64{pc.Stored[1].Bytes, pc.Stored[2].Bytes}; !cmp.Equal(got, []int64{10, 20}) {
		t.Errorf("Stored deltas %v, want [10 20]", got)
	}
}

func TestComparePlatformsRepeatedKey(t *testing.T) {
	// An index may list a platform twice (Windows images of two OS
	// versions, say): the n-th pairs with the n-th, none is dropped.
	a := index(0, onPlatform(t, "linux/amd64", image(layer('a', 1, 1))), onPlatform(t, "linux/amd64", image(layer('b', 2, 2))))
	b := index(0, onPlatform(t, "linux/amd64", image(layer('a', 1, 1))))
	pc := analysis.ComparePlatforms(a, b)
	if len(pc.Platforms) != 2 {
		t.Fatalf("%d platforms, want 2", len(pc.Platforms))
	}
	if pc.Platforms[0].Comparison == nil || pc.Platforms[1].Comparison != nil || !cmp.Equal(pc.Platforms[1].Missing(), []int{1}) {
		t.Errorf("second linux/amd64: comparison %v, missing %v", pc.Platforms[1].Comparison, pc.Platforms[1].Missing())
	}
	if got := pc.Platforms[1].Label(); !strings.HasSuffix(got, " #2") {
		t.Errorf("label %q, want it to end in #2", got)
	}
}

func TestComparePlatformsUnknownStored(t *testing.T) {
	a := index(100, onPlatform(t, "linux/amd64", image()))
	b := &layers.Index{Platforms: a.Platforms, Stored: layers.Size{Provenance: layers.Unknown, Reason: "a blob's size is not known"}}
	pc := analysis.ComparePlatforms(a, b)
	if pc.Stored[1].Known || pc.Stored[1].Bytes != 0 {
		t.Errorf("Stored delta against an unknown total = %+v, want unknown and 0", pc.Stored[1])
	}
}

func TestCheckPlatforms(t *testing.T) {
	amd := onPlatform(t, "linux/amd64", image(layer('a', 100, 1000)))
	arm := onPlatform(t, "linux/arm64", image(layer('a', 100, 1000), layer('d', 50, 500)))
	s390 := onPlatform(t, "linux/s390x", image(layer('s', 10, 100)))
	baseAmd := onPlatform(t, "linux/amd64", image(layer('a', 100, 1000)))
	baseArm := onPlatform(t, "linux/arm64/v8", image(layer('a', 100, 1000)))
	want390, _ := v1.ParsePlatform("linux/s390x")
	wantPPC, _ := v1.ParsePlatform("linux/ppc64le")

	x := &layers.Index{Platforms: []*layers.Image{amd, arm, s390}, Missing: []v1.Platform{*wantPPC}, Stored: exact(2_000)}
	baseline := &layers.Index{Platforms: []*layers.Image{baseAmd, baseArm}, Stored: exact(1_000)}

	t.Run("every platform held to the budgets; the failing one named", func(t *testing.T) {
		_ = want390
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{Arg: "app:2", Index: x, Budgets: analysis.Budgets{MaxCompressed: i64(120)}})
		type row struct {
			Platform string
			Index    bool
			Err      bool
			Status   []analysis.Status
		}
		var got []row
		for _, ic := range checks {
			r := row{Platform: ic.Platform, Index: ic.Index != nil, Err: ic.Err != nil}
			for _, res := range ic.Results {
				r.Status = append(r.Status, res.Status)
			}
			got = append(got, r)
			if ic.Arg != "app:2" {
				t.Errorf("Arg %q, want app:2", ic.Arg)
			}
		}
		want := []row{
			{Platform: layers.PlatformKey(amd.Platform), Status: []analysis.Status{analysis.Pass}},
			{Platform: layers.PlatformKey(arm.Platform), Status: []analysis.Status{analysis.Fail}},
			{Platform: layers.PlatformKey(s390.Platform), Status: []analysis.Status{analysis.Pass}},
			// Asked for, not in the index: an error, the gate fails.
			{Platform: layers.PlatformKey(wantPPC), Err: true},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("checks (-want +got):\n%s", diff)
		}
		if !errors.Is(checks[3].Err, errdefs.ErrNotFound) {
			t.Errorf("missing platform's error %v, want ErrNotFound", checks[3].Err)
		}
		run := analysis.CheckRun{Images: checks}
		if run.Passed() {
			t.Error("the run passed with a platform over its budget and one missing")
		}
	})

	t.Run("growth against the same platform of the baseline", func(t *testing.T) {
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{
			Arg: "app:2", BaselineArg: "app:1", Index: x, Baseline: baseline,
			Budgets: analysis.Budgets{MaxGrowth: &analysis.Growth{Bytes: 40}},
		})
		if len(checks) != 4 {
			t.Fatalf("%d checks, want 4", len(checks))
		}
		// amd64: +0; arm64 (v8 in the baseline: the same platform): +50.
		if ic := checks[0]; ic.Baseline != baseAmd || ic.Results[0].Status != analysis.Pass || ic.Results[0].Actual != 0 {
			t.Errorf("amd64 growth: baseline %p, result %+v; want baseAmd, pass at 0", ic.Baseline, ic.Results[0])
		}
		if ic := checks[1]; ic.Baseline != baseArm || ic.Results[0].Status != analysis.Fail || ic.Results[0].Actual != 50 {
			t.Errorf("arm64 growth: baseline %p, result %+v; want baseArm, fail at 50", ic.Baseline, ic.Results[0])
		}
		// s390x is not in the baseline: an error, never a pass.
		ic := checks[2]
		if ic.Passed() || !errors.Is(ic.BaselineErr, errdefs.ErrNotFound) || ic.Results[0].Status != analysis.Unknown {
			t.Errorf("s390x growth with no s390x baseline: passed %v, baseline error %v, result %+v", ic.Passed(), ic.BaselineErr, ic.Results[0])
		}
		if r := ic.Results[0].Reason; !strings.Contains(r, "no baseline of this platform") || !strings.Contains(r, "linux/s390x") {
			t.Errorf("reason %q does not say the baseline lacks linux/s390x", r)
		}
	})

	t.Run("an unreadable baseline leaves every platform's growth unjudged", func(t *testing.T) {
		berr := errors.New("connection refused")
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{
			Arg: "app:2", BaselineArg: "app:1", Index: x, BaselineErr: berr,
			Budgets: analysis.Budgets{MaxGrowth: &analysis.Growth{Bytes: 40}, MaxCompressed: i64(1000)},
		})
		for _, ic := range checks[:3] {
			if !errors.Is(ic.BaselineErr, berr) || ic.Results[1].Status != analysis.Unknown || ic.Results[0].Status != analysis.Pass {
				t.Errorf("%s: baseline error %v, results %+v", ic.Platform, ic.BaselineErr, ic.Results)
			}
		}
	})

	t.Run("the index total", func(t *testing.T) {
		for _, tc := range []struct {
			limit int64
			want  analysis.Status
		}{{2_000, analysis.Pass}, {1_999, analysis.Fail}} {
			checks := analysis.CheckPlatforms(analysis.PlatformTarget{Arg: "app:2", Index: x, Budgets: analysis.Budgets{MaxIndexCompressed: i64(tc.limit), WarnAt: 0.9}})
			last := checks[len(checks)-1]
			if last.Index != x || last.Image != nil || last.Platform != "" || len(last.Results) != 1 {
				t.Fatalf("last check %+v, want the index's", last)
			}
			r := last.Results[0]
			if r.Budget != analysis.MaxIndexCompressed || r.Status != tc.want || r.Actual != 2_000 || r.Limit != float64(tc.limit) {
				t.Errorf("limit %d: %+v, want %s at 2000", tc.limit, r, tc.want)
			}
			// The platforms carry no result for it: only the index does.
			for _, ic := range checks[:3] {
				if len(ic.Results) != 0 {
					t.Errorf("%s: results %+v, want none", ic.Platform, ic.Results)
				}
			}
		}
		unknown := &layers.Index{Platforms: x.Platforms, Stored: layers.Size{Provenance: layers.Unknown, Reason: "a docker-archive stores no compressed blobs"}}
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{Arg: "a", Index: unknown, Budgets: analysis.Budgets{MaxIndexCompressed: i64(1 << 40)}})
		if r := checks[len(checks)-1].Results[0]; r.Status != analysis.Unknown || !strings.Contains(r.Reason, "docker-archive") {
			t.Errorf("an unknown Stored: %+v, want unknown with its reason", r)
		}
	})

	t.Run("an unreadable image is one error", func(t *testing.T) {
		err := errors.New("manifest unknown")
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{Arg: "app:2", Err: err, Budgets: analysis.Budgets{MaxCompressed: i64(1)}})
		if len(checks) != 1 || !errors.Is(checks[0].Err, err) || checks[0].Platform != "" {
			t.Errorf("checks %+v, want one error", checks)
		}
	})

	t.Run("file-level budgets per platform", func(t *testing.T) {
		frs := []*analysis.FileReport{{Reclaimable: 10}, {Reclaimable: 90}, nil}
		errs := []error{nil, nil, errors.New("layer truncated")}
		checks := analysis.CheckPlatforms(analysis.PlatformTarget{Arg: "a", Index: x, Files: frs, FilesErr: errs, Budgets: analysis.Budgets{MaxReclaimable: i64(50)}})
		if s := checks[0].Results[0].Status; s != analysis.Pass {
			t.Errorf("amd64 reclaimable: %s, want pass", s)
		}
		if s := checks[1].Results[0].Status; s != analysis.Fail {
			t.Errorf("arm64 reclaimable: %s, want fail", s)
		}
		if checks[2].Err == nil || checks[2].Image != nil {
			t.Errorf("s390x whose files could not be read: %+v, want an error", checks[2])
		}
	})
}
