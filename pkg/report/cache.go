package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/imgsize/imgsize/pkg/cache"
)

// The JSON of imgsize cache: a small, stable shape of its own, apart from
// the report schema (it describes no image). Bytes are the sizes of the
// cache's files on disk.
type (
	// CacheUsage is what one kind of entry (or all of them) occupies.
	CacheUsage struct {
		Kind    string `json:"kind,omitempty"`
		Entries int    `json:"entries"`
		Bytes   int64  `json:"bytes"`
	}
	// CacheSummary is usage by kind and in all.
	CacheSummary struct {
		Kinds []CacheUsage `json:"kinds"`
		Total CacheUsage   `json:"total"`
	}
	// CacheInfo is the JSON of imgsize cache info.
	CacheInfo struct {
		Dir   string       `json:"dir"`
		Kinds []CacheUsage `json:"kinds"`
		Total CacheUsage   `json:"total"`
	}
	// CachePrune is the JSON of imgsize cache prune.
	CachePrune struct {
		Dir     string       `json:"dir"`
		Removed CacheSummary `json:"removed"`
		Kept    CacheSummary `json:"kept"`
	}
)

func cacheSummary(s cache.Summary) CacheSummary {
	out := CacheSummary{Kinds: []CacheUsage{}, Total: CacheUsage{Entries: s.Total.Entries, Bytes: s.Total.Bytes}}
	for _, u := range s.Kinds {
		out.Kinds = append(out.Kinds, CacheUsage{Kind: u.Kind, Entries: u.Entries, Bytes: u.Bytes})
	}
	return out
}

// WriteCacheInfo writes what the cache holds, by kind: a table or JSON.
func WriteCacheInfo(w io.Writer, s cache.Summary, opts Options) error {
	if opts.Format == JSON {
		sum := cacheSummary(s)
		return writeIndented(w, CacheInfo{Dir: s.Dir, Kinds: sum.Kinds, Total: sum.Total})
	}
	if _, err := fmt.Fprintf(w, "Cache: %s\n\n", Terminal(s.Dir)); err != nil {
		return err
	}
	g := &grid{columns: []column{{header: "KIND"}, {header: "ENTRIES", align: right}, {header: "BYTES ON DISK", align: right}}}
	for _, u := range append(s.Kinds, cache.Usage{Kind: "total", Entries: s.Total.Entries, Bytes: s.Total.Bytes}) {
		g.add(u.Kind, strconv.Itoa(u.Entries), FormatBytes(u.Bytes, opts.Binary))
	}
	return g.writeText(w)
}

// WriteCachePrune writes what a prune removed and kept, by kind.
func WriteCachePrune(w io.Writer, res cache.PruneResult, opts Options) error {
	if opts.Format == JSON {
		return writeIndented(w, CachePrune{Dir: res.Removed.Dir, Removed: cacheSummary(res.Removed), Kept: cacheSummary(res.Kept)})
	}
	if _, err := fmt.Fprintf(w, "Pruned %s: removed %d entries (%s on disk), kept %d (%s)\n\n", Terminal(res.Removed.Dir),
		res.Removed.Total.Entries, FormatBytes(res.Removed.Total.Bytes, opts.Binary),
		res.Kept.Total.Entries, FormatBytes(res.Kept.Total.Bytes, opts.Binary)); err != nil {
		return err
	}
	removed, kept := byKind(res.Removed), byKind(res.Kept)
	var kinds []string
	for k := range removed {
		kinds = append(kinds, k)
	}
	for k := range kept {
		if _, ok := removed[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	g := &grid{columns: []column{{header: "KIND"}, {header: "REMOVED", align: right}, {header: "BYTES", align: right},
		{header: "KEPT", align: right}, {header: "BYTES", align: right}}}
	row := func(kind string, r, k cache.Usage) {
		g.add(kind, strconv.Itoa(r.Entries), FormatBytes(r.Bytes, opts.Binary), strconv.Itoa(k.Entries), FormatBytes(k.Bytes, opts.Binary))
	}
	for _, k := range kinds {
		row(k, removed[k], kept[k])
	}
	row("total", res.Removed.Total, res.Kept.Total)
	return g.writeText(w)
}

func byKind(s cache.Summary) map[string]cache.Usage {
	m := map[string]cache.Usage{}
	for _, u := range s.Kinds {
		m[u.Kind] = u
	}
	return m
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
