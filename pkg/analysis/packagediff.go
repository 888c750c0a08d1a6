package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/imgsize/imgsize/pkg/packages"
)

// PackageChangeKind says how a package differs between two images.
type PackageChangeKind string

// The ways a package differs.
const (
	PackageAdded   PackageChangeKind = "added"
	PackageRemoved PackageChangeKind = "removed"
	// PackageUpgraded: another version (not necessarily a newer one: the
	// versions are not ordered, only compared).
	PackageUpgraded PackageChangeKind = "upgraded"
	// PackageResized: the same version, other bytes.
	PackageResized PackageChangeKind = "resized"
)

// PackageChange is one package that differs between A and B.
type PackageChange struct {
	Kind   packages.Kind
	Name   string
	Change PackageChangeKind
	// OldVersion and NewVersion are empty on the side without it; several
	// versions of a name (npm installs some twice) are joined by ", ".
	OldVersion, NewVersion string
	OldBytes, NewBytes     int64
	// Delta is NewBytes − OldBytes.
	Delta int64
}

// PackageDiff is what differs between the packages of two images.
type PackageDiff struct {
	A, B    *PackageReport
	Changes []PackageChange
	// Unowned is the unowned bytes of B minus A's.
	UnownedDelta int64
	// Notes say which side has a database that was not read: its
	// packages are missing there, so they may show as added or removed
	// (and their files as unowned) when they are not.
	Notes []string
}

// DiffPackages compares two package reports: packages added, removed,
// of another version, or of the same version with other bytes, by their
// kind and name, largest |Delta| first (then kind and name).
func DiffPackages(a, b *PackageReport) *PackageDiff {
	type side struct {
		versions []string
		bytes    int64
	}
	type key struct {
		kind packages.Kind
		name string
	}
	collect := func(r *PackageReport) map[key]*side {
		m := map[key]*side{}
		for _, p := range r.Packages {
			k := key{p.Kind, p.Name}
			s := m[k]
			if s == nil {
				s = &side{}
				m[k] = s
			}
			if !slices.Contains(s.versions, p.Version) {
				s.versions = append(s.versions, p.Version)
			}
			s.bytes += p.Owned.Bytes
		}
		return m
	}
	ma, mb := collect(a), collect(b)
	d := &PackageDiff{A: a, B: b, UnownedDelta: b.Unowned.Bytes - a.Unowned.Bytes}
	for _, s := range []struct {
		name string
		r    *PackageReport
	}{{"A", a}, {"B", b}} {
		for _, db := range s.r.Databases {
			if !db.Read {
				d.Notes = append(d.Notes, fmt.Sprintf("in %s, %s; the packages it lists are missing on that side and may show as added or removed", s.name, notRead(db)))
			}
		}
	}
	version := func(s *side) string {
		slices.Sort(s.versions)
		return strings.Join(s.versions, ", ")
	}
	for k, sa := range ma {
		c := PackageChange{Kind: k.kind, Name: k.name, OldVersion: version(sa), OldBytes: sa.bytes}
		sb, ok := mb[k]
		switch {
		case !ok:
			c.Change = PackageRemoved
		default:
			c.NewVersion, c.NewBytes = version(sb), sb.bytes
			switch {
			case c.NewVersion != c.OldVersion:
				c.Change = PackageUpgraded
			case c.NewBytes != c.OldBytes:
				c.Change = PackageResized
			default:
				continue
			}
		}
		c.Delta = c.NewBytes - c.OldBytes
		d.Changes = append(d.Changes, c)
	}
	for k, sb := range mb {
		if _, ok := ma[k]; ok {
			continue
		}
		d.Changes = append(d.Changes, PackageChange{Kind: k.kind, Name: k.name, Change: PackageAdded, NewVersion: version(sb), NewBytes: sb.bytes, Delta: sb.bytes})
	}
	slices.SortFunc(d.Changes, func(x, y PackageChange) int {
		return cmp.Or(cmp.Compare(abs64(y.Delta), abs64(x.Delta)), cmp.Compare(x.Kind.Rank(), y.Kind.Rank()), strings.Compare(x.Name, y.Name))
	})
	return d
}
