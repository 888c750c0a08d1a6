package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/source"
)

// tagServer serves a tag list of pages, following Link headers, as a
// registry would; pages[i] is page i. served counts the pages asked for.
func tagServer(t *testing.T, pages [][]string) (host string, served *atomic.Int64) {
	t.Helper()
	served = &atomic.Int64{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		i := 0
		fmt.Sscan(r.URL.Query().Get("page"), &i)
		if i+1 < len(pages) {
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d>; rel="next"`, srv.URL, r.URL.Path, i+1))
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "app", "tags": pages[i]})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), served
}

func TestListTags(t *testing.T) {
	host, _ := tagServer(t, [][]string{{"v1.0", "v1.1", "bad\x1bname", "latest"}, {"v2.0", "v1.1", "v1.2"}})
	opts := anonymous.opts()
	repo, err := source.ParseRepository(host+"/app", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, glob, re string
		max            int
		want           string
		matched        int
	}{
		{name: "all", max: 100, want: "v1.0 v1.1 latest v2.0 v1.2", matched: 5},
		{name: "glob", glob: "v1.*", max: 100, want: "v1.0 v1.1 v1.2", matched: 3},
		{name: "regexp", re: `^v\d\.0$`, max: 100, want: "v1.0 v2.0", matched: 2},
		{name: "bounded", max: 2, want: "v1.0 v1.1", matched: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := source.ParseTagSelection(tc.glob, tc.re, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			got, err := source.ListTags(context.Background(), repo, opts, sel)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got.Tags, " "); s != tc.want || got.Matched != tc.matched || got.Listed != 7 || got.Invalid != 1 || got.Truncated {
				t.Errorf("got %q %+v, want %q, %d matched of 7 listed, 1 invalid", s, got, tc.want, tc.matched)
			}
		})
	}
}

// A registry that lists names without end is read up to MaxListedTags.
func TestListTagsTruncated(t *testing.T) {
	var pages [][]string
	for p := range source.MaxListedTags/1000 + 2 {
		var page []string
		for i := range 1000 {
			page = append(page, fmt.Sprintf("t%d-%d", p, i))
		}
		pages = append(pages, page)
	}
	host, served := tagServer(t, pages)
	opts := anonymous.opts()
	repo, _ := source.ParseRepository(host+"/app", opts)
	sel, _ := source.ParseTagSelection("", "", 10)
	got, err := source.ListTags(context.Background(), repo, opts, sel)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || got.Listed != source.MaxListedTags || len(got.Tags) != 10 || got.Matched != source.MaxListedTags {
		t.Errorf("got listed %d, matched %d, %d tags, truncated %v", got.Listed, got.Matched, len(got.Tags), got.Truncated)
	}
	// The bound stops the listing, not only what is kept of it: the
	// pages holding the first MaxListedTags names, and the one that shows
	// there are more (a Link header alone may lead to an empty page), are
	// asked for; the last page is not.
	if n, want := served.Load(), int64(source.MaxListedTags/1000+1); n != want {
		t.Errorf("%d pages asked for, want %d: the %d that hold the first %d names and one more", n, want, want-1, source.MaxListedTags)
	}
}

// TestListTagsPageTooLarge: a tag list page over the 4 MiB bound is a
// corrupt answer, said as a tag list's, not a manifest's.
// hugeTagPage is a tag list page of 300,000 tags, tag-000000000000000 on,
// about 6.6 MB of JSON. It is spelled out byte by byte: fmt and
// encoding/json take a second of CPU for it under the race detector.
func hugeTagPage() []byte {
	const n = 300_000
	b := make([]byte, 0, 32+n*len(`"tag-000000000000000",`))
	b = append(b, `{"name":"app","tags":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"tag-000000000000000"`...)
		var scratch [20]byte
		digits := strconv.AppendInt(scratch[:0], int64(i), 10)
		copy(b[len(b)-1-len(digits):], digits)
	}
	return append(b, "]}\n"...)
}

func TestListTagsPageTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Write(hugeTagPage())
	}))
	t.Cleanup(srv.Close)
	opts := anonymous.opts()
	repo, err := source.ParseRepository(strings.TrimPrefix(srv.URL, "http://")+"/app", opts)
	if err != nil {
		t.Fatal(err)
	}
	sel, _ := source.ParseTagSelection("", "", 10)
	_, err = source.ListTags(context.Background(), repo, opts, sel)
	if !errors.Is(err, errdefs.ErrCorrupt) || !strings.Contains(err.Error(), "a page of the tag list of app is larger than 4 MiB, imgsize's bound on one page") {
		t.Errorf("err = %v, want a corrupt answer naming the tag list page", err)
	}
}

func TestParseRepositoryAndSelection(t *testing.T) {
	for _, bad := range []string{"example.com/app:v1", "example.com/App", "user:pw@example.com/app"} {
		if _, err := source.ParseRepository(bad, source.Options{}); !errors.Is(err, errdefs.ErrUsage) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
	for _, tc := range []struct{ glob, re string }{{"v1.*", "v1"}, {"[", ""}, {"", "("}} {
		if _, err := source.ParseTagSelection(tc.glob, tc.re, 10); !errors.Is(err, errdefs.ErrUsage) {
			t.Errorf("glob %q regexp %q: %v, want a usage error", tc.glob, tc.re, err)
		}
	}
}
