package analysis

import (
	"fmt"
	"strings"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/layers"
)

// PlatformComparison sets multi-platform images against a baseline one,
// platform by platform (compare --platform all, or a list).
type PlatformComparison struct {
	// Indexes are the images compared, the baseline first.
	Indexes []*layers.Index
	// Platforms holds one entry per platform found in any index, matched
	// by layers.PlatformKey: the baseline's in its order, then each other
	// index's further platforms in its order.
	Platforms []PlatformSet
	// Stored sets each index's Stored bytes (every blob once) against the
	// baseline's: one per index, the baseline's own (zero) first.
	Stored []Delta
}

// PlatformSet is one platform across the indexes compared.
type PlatformSet struct {
	// Key is the platform's layers.PlatformKey. When an index lists one
	// key more than once, the n-th image of a key pairs with the n-th of
	// the same key elsewhere, and Occurrence counts from 0 which one this
	// is; Key alone names the platform.
	Key        string
	Occurrence int
	// Images holds each index's image of the platform, one per index in
	// the order of PlatformComparison.Indexes; nil where the index lacks
	// it.
	Images []*layers.Image
	// Comparison sets the images of this platform against the baseline's.
	// It is nil unless the baseline and at least one other index have the
	// platform; its rows are then those of In(), in order, the baseline's
	// first. A platform the baseline lacks is compared with nothing: it is
	// listed as present only where it is.
	Comparison *Comparison
}

// In returns the positions (in PlatformComparison.Indexes) of the indexes
// that have the platform, in order.
func (p PlatformSet) In() []int {
	var out []int
	for i, img := range p.Images {
		if img != nil {
			out = append(out, i)
		}
	}
	return out
}

// Missing returns the positions of the indexes that lack the platform.
func (p PlatformSet) Missing() []int {
	var out []int
	for i, img := range p.Images {
		if img == nil {
			out = append(out, i)
		}
	}
	return out
}

// Label names the platform for people: its key, and "#2", "#3"… for a
// key an index lists more than once.
func (p PlatformSet) Label() string {
	if p.Occurrence == 0 {
		return p.Key
	}
	return fmt.Sprintf("%s #%d", p.Key, p.Occurrence+1)
}

// platformKeys returns, for each platform image of x in order, its match
// key: layers.PlatformKey and its occurrence among x's images of that key.
func platformKeys(x *layers.Index) []platformID {
	seen := map[string]int{}
	out := make([]platformID, len(x.Platforms))
	for i, img := range x.Platforms {
		k := layers.PlatformKey(img.Platform)
		out[i] = platformID{key: k, n: seen[k]}
		seen[k]++
	}
	return out
}

type platformID struct {
	key string
	n   int
}

// ComparePlatforms compares each platform of others with the same
// platform of base (see PlatformComparison), and their Stored totals.
// Platforms are matched by layers.PlatformKey, so linux/arm64 and
// linux/arm64/v8 are one platform.
func ComparePlatforms(base *layers.Index, others ...*layers.Index) *PlatformComparison {
	pc := &PlatformComparison{Indexes: append([]*layers.Index{base}, others...)}
	at := map[platformID]int{}
	for i, x := range pc.Indexes {
		for j, id := range platformKeys(x) {
			n, ok := at[id]
			if !ok {
				n = len(pc.Platforms)
				at[id] = n
				pc.Platforms = append(pc.Platforms, PlatformSet{Key: id.key, Occurrence: id.n, Images: make([]*layers.Image, len(pc.Indexes))})
			}
			pc.Platforms[n].Images[i] = x.Platforms[j]
		}
	}
	for i := range pc.Platforms {
		p := &pc.Platforms[i]
		in := p.In()
		if p.Images[0] == nil || len(in) < 2 {
			continue
		}
		imgs := make([]*layers.Image, 0, len(in)-1)
		for _, j := range in[1:] {
			imgs = append(imgs, p.Images[j])
		}
		p.Comparison = Compare(p.Images[0], imgs...)
	}
	for _, x := range pc.Indexes {
		pc.Stored = append(pc.Stored, NewDelta(base.Stored, x.Stored))
	}
	return pc
}

// MaxIndexCompressed is the budget on a multi-platform image as a whole:
// its layers.Index.Stored bytes, what a registry stores and a full mirror
// pulls (every blob once: the index, each platform's manifest, config and
// layers, and the attestations and signatures).
const MaxIndexCompressed = "max-index-compressed"

// PlatformTarget is one multi-platform image to hold to its budgets,
// platform by platform (check --platform all, a list, or platforms: in
// imgsize.yaml).
type PlatformTarget struct {
	// Arg names the image as the user gave it; BaselineArg its baseline.
	Arg, BaselineArg string
	// Index is the image's platforms as read; nil when it could not be
	// read (Err). Index.Missing are the platforms asked for that it
	// lacks.
	Index *layers.Index
	Err   error
	// Baseline is the baseline read with the same platforms; nil when
	// there is no growth budget, or when it could not be read
	// (BaselineErr).
	Baseline    *layers.Index
	BaselineErr error
	Budgets     Budgets
	// Files holds, per platform image of Index (same positions), its
	// file-level analysis when Budgets.NeedsFiles, and Packages its
	// package analysis when Budgets.NeedsPackages; FilesErr why either
	// could not be made. All may be nil otherwise.
	Files    []*FileReport
	Packages []*PackageReport
	FilesErr []error
}

// CheckPlatforms holds each platform image of t.Index to t.Budgets, in the
// index's order: one ImageCheck per platform, Platform set, growth judged
// against the same platform of t.Baseline. Then one ImageCheck with Err
// (errdefs.ErrNotFound) per platform asked for that the index lacks, and,
// with a MaxIndexCompressed budget, one for the index as a whole (Index
// set, Image nil). A growth budget whose baseline lacks the platform is
// an error of that platform (BaselineErr wraps errdefs.ErrNotFound), never
// a pass. An image that could not be read is one ImageCheck with Err.
func CheckPlatforms(t PlatformTarget) []ImageCheck {
	b := t.Budgets
	if t.Err != nil || t.Index == nil {
		err := t.Err
		if err == nil {
			err = fmt.Errorf("%s was not read", t.Arg)
		}
		return []ImageCheck{{Arg: t.Arg, BaselineArg: t.baselineArg(), Budgets: b, Err: err}}
	}
	x := t.Index
	var out []ImageCheck
	var baseImgs map[platformID]*layers.Image
	if t.Baseline != nil {
		baseImgs = map[platformID]*layers.Image{}
		for j, id := range platformKeys(t.Baseline) {
			baseImgs[id] = t.Baseline.Platforms[j]
		}
	}
	if len(x.Platforms) == 0 && len(x.Missing) == 0 {
		out = append(out, ImageCheck{Arg: t.Arg, Budgets: b, Err: fmt.Errorf("%w: no platform image in the index", errdefs.ErrNotFound)})
	}
	for j, id := range platformKeys(x) {
		ic := ImageCheck{Arg: t.Arg, Platform: platformLabel(id), Image: x.Platforms[j], Budgets: b}
		noPlatform := false
		if b.MaxGrowth != nil {
			ic.BaselineArg = t.BaselineArg
			switch {
			case t.BaselineErr != nil:
				ic.BaselineErr = t.BaselineErr
			case t.Baseline == nil:
				// Check reports growth unknown: no baseline.
			case baseImgs[id] == nil:
				noPlatform = true
				ic.BaselineErr = fmt.Errorf("%w: the baseline has no %s image (it has %s)", errdefs.ErrNotFound, ic.Platform, platformList(t.Baseline))
			default:
				ic.Baseline = baseImgs[id]
			}
		}
		var fr *FileReport
		if b.NeedsFiles() || b.NeedsPackages() {
			var err error
			switch {
			case j < len(t.FilesErr) && t.FilesErr[j] != nil:
				err = t.FilesErr[j]
			case b.NeedsFiles() && (j >= len(t.Files) || t.Files[j] == nil):
				err = fmt.Errorf("the files of %s were not read", ic.Platform)
			case b.NeedsPackages() && (j >= len(t.Packages) || t.Packages[j] == nil):
				err = fmt.Errorf("the packages of %s were not read", ic.Platform)
			case b.NeedsPackages():
				// A database found but not read fails the platform, as
				// it fails a single image: no verdict on what is unseen.
				ic.Packages = t.Packages[j]
				err = ic.Packages.Readable()
			}
			if err != nil {
				ic.Image, ic.Err, ic.Packages = nil, err, nil
				ic.BaselineErr, ic.Baseline = nil, nil
				out = append(out, ic)
				continue
			}
			if b.NeedsFiles() {
				fr = t.Files[j]
			}
		}
		ic.Judge(fr)
		if noPlatform {
			for i := range ic.Results {
				if ic.Results[i].Budget == MaxGrowth {
					ic.Results[i].Reason = "no baseline of this platform: " + ic.BaselineErr.Error()
				}
			}
		}
		out = append(out, ic)
	}
	for _, p := range x.Missing {
		key := layers.PlatformKey(&p)
		out = append(out, ImageCheck{
			Arg: t.Arg, Platform: key, Budgets: b, BaselineArg: t.baselineArg(),
			Err: fmt.Errorf("%w: no %s image in the index (it has %s)", errdefs.ErrNotFound, key, platformList(x)),
		})
	}
	if b.MaxIndexCompressed != nil {
		ic := ImageCheck{Arg: t.Arg, Index: x, Budgets: b}
		ic.Results = []Result{sizeBudget(MaxIndexCompressed, BasisCompressed, x.Stored, *b.MaxIndexCompressed, b.WarnAt)}
		out = append(out, ic)
	}
	return out
}

func (t PlatformTarget) baselineArg() string {
	if t.Budgets.MaxGrowth == nil {
		return ""
	}
	return t.BaselineArg
}

func platformLabel(id platformID) string {
	return PlatformSet{Key: id.key, Occurrence: id.n}.Label()
}

// platformList names x's platforms for an error message: "linux/amd64,
// linux/arm64/v8", or "no platform image".
func platformList(x *layers.Index) string {
	ids := platformKeys(x)
	if len(ids) == 0 {
		return "no platform image"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = platformLabel(id)
	}
	return strings.Join(names, ", ")
}
