package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/internal/testutil"
)

// What complete_test.go leaves out: that completion stays off the
// network and within its time, that hostile tags never reach the shell,
// and the directives that decide whether the shell adds a space or
// completes files itself.

// completeLines runs cobra's completion request and returns the raw
// candidate lines (descriptions kept: a tab inside a value must show)
// and the directive.
func completeLines(t *testing.T, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	r := runInProcess(t, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	n, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("__complete %q: no directive line in %q", args, r.stdout)
	}
	return lines[:len(lines)-1], cobra.ShellCompDirective(n)
}

func values(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _, _ = strings.Cut(l, "\t")
	}
	return out
}

// staticPlatforms is what --platform completes to when no argument on the
// command line may be read.
func staticPlatforms() []string { return append([]string{"all"}, commonPlatforms...) }

func TestCompletionStaysOffTheNetwork(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		// A registry that never answers: reading it would blow the time
		// limit below, not merely count a hit.
		time.Sleep(5 * time.Second)
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, arg := range []string{
		host + "/app:v1",
		"docker://" + host + "/app:v1",
		"docker-daemon:" + host + "/app:v1",
		"registry.invalid/app:v1",
	} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			lines, directive := completeLines(t, "inspect", arg, "--platform", "")
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s, want under 2s", d)
			}
			if got, want := values(lines), staticPlatforms(); !slices.Equal(got, want) {
				t.Errorf("got %q, want the static list %q", got, want)
			}
			if directive != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive %d, want NoFileComp", directive)
			}
		})
	}
	// The argument being completed is never resolved either.
	for _, word := range []string{"docker://" + host + "/ap", host + "/app:", "docker-daemon:ap"} {
		if lines, _ := completeLines(t, "inspect", word); len(lines) != 0 {
			t.Errorf("%s: got %q, want nothing (no registry or engine is asked)", word, lines)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the registry got %d requests, want 0", n)
	}
}

func TestCompletionDropsHostileTags(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"good", "esc\x1b[31m", "two words", "new\nline", "nul\x00", "tab\tbed"} {
		img := testutil.RandomImage(t, 64, 1)
		if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := completeLines(t, "inspect", "oci:"+dir+":")
	if want := []string{"oci:" + dir + ":good"}; !slices.Equal(lines, want) {
		t.Errorf("got %q, want only %q", lines, want)
	}
}

func TestCompletionDirectives(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"img.tar", "images/a.tar"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const (
		noSpace = cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		noFiles = cobra.ShellCompDirectiveNoFileComp
	)
	for _, tc := range []struct {
		name      string
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"a partial transport", []string{"diff", "oci-"}, []string{"oci-archive:"}, noSpace},
		{"a path", []string{"files", "./"}, nil, cobra.ShellCompDirectiveDefault},
		// No transport starts with "app": a file in this directory,
		// which only the shell can list.
		{"a plain file name", []string{"inspect", "app"}, nil, cobra.ShellCompDirectiveDefault},
		{"paths after a transport", []string{"check", "docker-archive:" + dir + "/i"},
			[]string{"docker-archive:" + dir + "/images/", "docker-archive:" + dir + "/img.tar"}, noSpace},
		{"comment reads JSON reports", []string{"comment", ""}, []string{"json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"format", []string{"-f", ""}, []string{"table", "json", "markdown", "csv", "html"}, noFiles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, directive := completeLines(t, tc.args...)
			if got := values(lines); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if directive != tc.directive {
				t.Errorf("directive %d, want %d", directive, tc.directive)
			}
		})
	}
}
