package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/imgsize/imgsize/pkg/layers"
)

// TrendOrder says how the points of a trend are ordered, oldest first.
type TrendOrder string

// The orders of a trend.
const (
	// OrderCreated orders by each image's creation time, from its config.
	OrderCreated TrendOrder = "created"
	// OrderSemver orders by the label read as a semantic version
	// (Masterminds/semver: a leading v and missing minor or patch are
	// allowed); labels that are not versions are left out of the trend.
	OrderSemver TrendOrder = "semver"
	// OrderRecorded orders saved reports by the time each was written.
	OrderRecorded TrendOrder = "recorded"
	// OrderArguments keeps the order the points were given in.
	OrderArguments TrendOrder = "args"
	// OrderName orders by label; a trend falls back to it when no point
	// has a creation time.
	OrderName TrendOrder = "name"
)

// TrendInput is one point of a trend before ordering: a tag, or a saved
// report, and its image for each platform read.
type TrendInput struct {
	// Label names the point: the tag, or the report's path.
	Label string
	// Images holds one image per platform read (one, without
	// --platform all).
	Images []*layers.Image
}

// TrendOptions control Trend.
type TrendOptions struct {
	// Order is the order asked for.
	Order TrendOrder
	// Last keeps only the newest Last points of each series (after
	// ordering); 0 keeps all.
	Last int
}

// Trend is how an image's sizes moved across tags or saved reports: one
// series per platform.
type Trend struct {
	// Repository is the repository whose tags were read; empty for saved
	// reports. Tags, when set, says how they were listed.
	Repository string
	Tags       *TagCounts
	// Order is the order the points are in: the one asked for, or the one
	// it fell back to (Notes say why).
	Order TrendOrder
	// Series holds one series per platform, in the order platforms were
	// first met.
	Series []TrendSeries
	// Notes say what the caller must know to read the trend: points left
	// out, times missing, fallbacks.
	Notes []string
}

// TagCounts says how a repository's tags were listed (source.TagList).
type TagCounts struct {
	Listed, Matched, Measured, Invalid int
	// Truncated: the registry listed more names than were read.
	Truncated bool
	// NewestOnly: the tags measured were the newest versions --last
	// asked for (SemverNewest, whose notes say what was left out), not
	// the first --max-tags in the registry's order.
	NewestOnly bool
}

// Notes say, in words, what the counts mean for the trend: names the
// registry did not list, matching tags left unmeasured, names skipped.
// Every view of a trend shows them, so that none shows fewer points than
// the repository has without saying so.
func (c *TagCounts) Notes() []string {
	if c == nil {
		return nil
	}
	notes := []string{fmt.Sprintf("tags: %d listed, %d matched, %d measured", c.Listed, c.Matched, c.Measured)}
	if c.Truncated {
		notes = append(notes, fmt.Sprintf("the registry lists more than %d names; only the first %d were read", c.Listed, c.Listed))
	}
	if c.Matched > c.Measured && !c.NewestOnly {
		notes = append(notes, fmt.Sprintf("%d matching tags not measured: the first %d in the registry's order were (--max-tags; narrow with --tags)", c.Matched-c.Measured, c.Measured))
	}
	if c.Invalid > 0 {
		names := "names"
		if c.Invalid == 1 {
			names = "name"
		}
		notes = append(notes, fmt.Sprintf("not valid tags, skipped: %d %s listed", c.Invalid, names))
	}
	return notes
}

// TrendSeries is one platform's points, oldest first.
type TrendSeries struct {
	// Platform is the platform key (layers.PlatformKey).
	Platform string
	Points   []TrendPoint
	// Compressed and Uncompressed set the last point against the first.
	Compressed, Uncompressed Delta
}

// TrendPoint is one image of a series.
type TrendPoint struct {
	Label string
	Image *layers.Image
	// Time is what the point was ordered by: the image's creation time
	// (OrderCreated, OrderSemver, OrderName) or the report's (OrderRecorded,
	// OrderArguments); zero when not known.
	Time time.Time
	// Compressed and Uncompressed set this point against the one before;
	// the first point's are zero (Known false).
	Compressed, Uncompressed Delta
}

// TrendOf orders the inputs, splits them by platform and measures the
// growth between consecutive points and from first to last.
func TrendOf(inputs []TrendInput, opts TrendOptions) (*Trend, error) {
	if opts.Last < 0 {
		return nil, fmt.Errorf("last must not be negative, got %d", opts.Last)
	}
	t := &Trend{Order: opts.Order}
	byPlatform := map[string]int{}
	for _, in := range inputs {
		for _, img := range in.Images {
			if img == nil {
				return nil, fmt.Errorf("trend point %q has no image", in.Label)
			}
			k := layers.PlatformKey(img.Platform)
			i, ok := byPlatform[k]
			if !ok {
				i = len(t.Series)
				byPlatform[k] = i
				t.Series = append(t.Series, TrendSeries{Platform: k})
			}
			p := TrendPoint{Label: in.Label, Image: img, Time: img.Created}
			if opts.Order == OrderRecorded || opts.Order == OrderArguments {
				p.Time = recordedTime(img)
			}
			t.Series[i].Points = append(t.Series[i].Points, p)
		}
	}
	if len(t.Series) > 1 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d platforms: each is its own series, ordered on its own", len(t.Series)))
	}
	var err error
	switch opts.Order {
	case OrderCreated:
		what := "creation time in its config"
		if allRecorded(inputs) {
			// A report written before imgsize recorded creation times
			// says nothing of the config.
			what = "creation time recorded (the image's config has none, or the report predates the field)"
		}
		err = t.byTime(what, "created")
	case OrderRecorded:
		err = t.byTime("time it was written", "recorded")
	case OrderSemver:
		t.bySemver()
	case OrderArguments:
	default:
		return nil, fmt.Errorf("unknown trend order %q", opts.Order)
	}
	if err != nil {
		return nil, err
	}
	for i := range t.Series {
		s := &t.Series[i]
		if opts.Last > 0 && len(s.Points) > opts.Last {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: the newest %d of %d points (--last)", s.Platform, opts.Last, len(s.Points)))
			s.Points = s.Points[len(s.Points)-opts.Last:]
		}
		for j := 1; j < len(s.Points); j++ {
			prev, cur := s.Points[j-1].Image, s.Points[j].Image
			s.Points[j].Compressed = NewDelta(prev.Compressed, cur.Compressed)
			s.Points[j].Uncompressed = NewDelta(prev.Uncompressed, cur.Uncompressed)
		}
		if n := len(s.Points); n > 0 {
			first, last := s.Points[0].Image, s.Points[n-1].Image
			s.Compressed = NewDelta(first.Compressed, last.Compressed)
			s.Uncompressed = NewDelta(first.Uncompressed, last.Uncompressed)
		}
	}
	return t, nil
}

// allRecorded tells whether every image was read from a saved report.
func allRecorded(inputs []TrendInput) bool {
	for _, in := range inputs {
		for _, img := range in.Images {
			if img.Recorded == nil {
				return false
			}
		}
	}
	return len(inputs) > 0
}

// recordedTime is when the report an image was read from was written;
// zero for an image measured in this run.
func recordedTime(img *layers.Image) time.Time {
	if img.Recorded == nil {
		return time.Time{}
	}
	return img.Recorded.Time
}

// byTime orders each series by its points' times, oldest first, ties by
// label. Points without a time are never given one: when some lack it,
// they follow the others, by label (created) or the whole trend keeps
// argument order (recorded), and a note says which points.
func (t *Trend) byTime(what, kind string) error {
	var missing []string
	total := 0
	for _, s := range t.Series {
		for _, p := range s.Points {
			total++
			if p.Time.IsZero() && !slices.Contains(missing, p.Label) {
				missing = append(missing, p.Label)
			}
		}
	}
	if len(missing) > 0 && kind == "recorded" {
		t.Order = OrderArguments
		t.Notes = append(t.Notes, fmt.Sprintf("ordered as given: %s records no %s", listed(missing), what))
		return nil
	}
	if total > 0 && len(missing) == total {
		t.Order = OrderName
		t.Notes = append(t.Notes, "ordered by name: no image has a "+what)
	} else if len(missing) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%s: no %s; listed last, by name", listed(missing), what))
	}
	for i := range t.Series {
		slices.SortStableFunc(t.Series[i].Points, func(a, b TrendPoint) int {
			switch az, bz := a.Time.IsZero(), b.Time.IsZero(); {
			case az && !bz:
				return 1
			case !az && bz:
				return -1
			}
			return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Label, b.Label))
		})
	}
	return nil
}

// bySemver orders each series by its labels read as versions and leaves
// out the points whose labels are not versions (latest, main, sha-…): a
// trend over versions has no place for them.
func (t *Trend) bySemver() {
	var left []string
	for i := range t.Series {
		s := &t.Series[i]
		labels := make([]string, len(s.Points))
		for j, p := range s.Points {
			labels[j] = p.Label
		}
		versions, others := sortVersions(labels)
		for _, j := range others {
			if !slices.Contains(left, labels[j]) {
				left = append(left, labels[j])
			}
		}
		points := make([]TrendPoint, 0, len(versions))
		for _, j := range versions {
			points = append(points, s.Points[j])
		}
		s.Points = points
	}
	if len(left) > 0 {
		t.Notes = append(t.Notes, leftOutNote(left))
	}
	t.Series = slices.DeleteFunc(t.Series, func(s TrendSeries) bool { return len(s.Points) == 0 })
}

// sortVersions returns the indexes of the labels that are semantic
// versions, oldest first (ties by label), and of the others, in order.
func sortVersions(labels []string) (versions, others []int) {
	type versioned struct {
		i int
		v *semver.Version
	}
	var vs []versioned
	for i, l := range labels {
		v, err := semver.NewVersion(l)
		if err != nil {
			others = append(others, i)
			continue
		}
		vs = append(vs, versioned{i, v})
	}
	slices.SortStableFunc(vs, func(a, b versioned) int {
		return cmp.Or(a.v.Compare(b.v), strings.Compare(labels[a.i], labels[b.i]))
	})
	for _, v := range vs {
		versions = append(versions, v.i)
	}
	return versions, others
}

func leftOutNote(labels []string) string {
	return fmt.Sprintf("left out, not semantic versions: %s", listed(labels))
}

// SemverNewest picks, before anything is measured, the last tags of a
// semantic-version trend: the newest last versions among tags, and notes
// saying what was left out (the tags that are not versions, as bySemver
// says, and the older versions not read). last <= 0 keeps every version.
func SemverNewest(tags []string, last int) (keep []string, notes []string) {
	versions, others := sortVersions(tags)
	for _, i := range versions {
		keep = append(keep, tags[i])
	}
	if len(others) > 0 {
		left := make([]string, len(others))
		for k, i := range others {
			left[k] = tags[i]
		}
		notes = append(notes, leftOutNote(left))
	}
	if last > 0 && len(keep) > last {
		notes = append(notes, fmt.Sprintf("the newest %d of %d versions (--last); the %d older were not read", last, len(keep), len(keep)-last))
		keep = keep[len(keep)-last:]
	}
	return keep, notes
}

// listed names up to five labels, and how many more.
func listed(labels []string) string {
	const most = 5
	if len(labels) <= most {
		return strings.Join(labels, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(labels[:most], ", "), len(labels)-most)
}
