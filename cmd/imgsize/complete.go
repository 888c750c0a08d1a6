package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/imgsize/imgsize/pkg/layers"
	"github.com/imgsize/imgsize/pkg/source"
)

// Shell completion of values: flag values, transport prefixes, and the
// tags and platforms of local layouts and archives. Completion reads only
// local files, bounded, within completeTimeout; it never reaches a
// registry or an engine, and never prints an error.

const completeTimeout = 2 * time.Second

// maxCompleteFile bounds what completion reads of an index.json or a
// manifest.json.
const maxCompleteFile = 1 << 20

// maxInflateForCompletion: a compressed archive smaller than this is
// inflated to find its platforms; a larger one is left alone.
const maxInflateForCompletion = 16 << 20

var transportPrefixes = []string{
	"docker://\ta registry reference",
	"docker-archive:\ta docker save tarball",
	"docker-daemon:\tan image in a local Docker-API engine",
	"oci:\tan OCI image layout directory",
	"oci-archive:\ta tar of an OCI layout",
	"dir:\ta skopeo/podman dir directory",
	"report:\ta JSON report saved by imgsize",
}

var commonPlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/ppc64le", "linux/s390x", "linux/riscv64", "windows/amd64"}

// registerCompletions adds value completion to the command tree.
func registerCompletions(root *cobra.Command) {
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("format", fixed(
		"table\ta table for people (fits the terminal)", "json\tthe JSON report", "markdown\tfor pull requests",
		"csv\tone row per layer, image or budget", "html\tone self-contained page"))
	_ = root.RegisterFlagCompletionFunc("platform", completePlatform)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("growth-basis") != nil {
			_ = c.RegisterFlagCompletionFunc("growth-basis", fixed("compressed\twhat a pull transfers", "uncompressed\twhat the layers unpack to"))
		}
		if c.Flags().Lookup("behavior") != nil {
			_ = c.RegisterFlagCompletionFunc("behavior", fixed("update\tedit the comment in place", "new\tadd a comment each run", "delete-and-new\tdelete the old ones, add one"))
		}
		if c.Name() == "trend" {
			_ = c.RegisterFlagCompletionFunc("sort", fixed(
				"created\ttags or saved reports, by the creation time in their configs", "semver\ttags, by semantic version",
				"recorded\tsaved reports, by the time each was written", "args\tsaved reports, as given"))
		}
		switch c.Name() {
		case "inspect", "compare", "check", "files", "diff":
			c.ValidArgsFunction = completeImage
		case "trend", "comment":
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeImage completes an image argument: the transports for a word
// that names none yet, paths after a local transport, and tags after
// oci:PATH:, oci-archive:PATH: and docker-archive:PATH:.
func completeImage(_ *cobra.Command, _ []string, word string) ([]string, cobra.ShellCompDirective) {
	for _, pre := range []string{"oci:", "oci-archive:", "docker-archive:", "dir:", "report:"} {
		rest, ok := strings.CutPrefix(word, pre)
		if !ok {
			continue
		}
		if path, partial, ok := cutTag(rest); ok {
			var tags []string
			switch pre {
			case "oci:":
				tags = layoutTags(filepath.Join(path, "index.json"))
			case "oci-archive:":
				tags = archiveTags(path, "index.json")
			case "docker-archive:":
				tags = archiveTags(path, "manifest.json")
			}
			var out []string
			for _, tag := range tags {
				// A tag holding a tab would pass for a value and its
				// description.
				if strings.HasPrefix(tag, partial) && !strings.ContainsRune(tag, '\t') {
					out = append(out, pre+path+":"+tag)
				}
			}
			return clean(out), cobra.ShellCompDirectiveNoFileComp
		}
		return clean(pathsFor(pre, rest)), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	if strings.Contains(word, "/") || strings.HasPrefix(word, ".") {
		return nil, cobra.ShellCompDirectiveDefault // a path: the shell's own
	}
	var out []string
	for _, t := range transportPrefixes {
		if strings.HasPrefix(t, word) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		// No transport starts so: a file name in this directory
		// ("app.tar") or a registry name, and only the shell knows files.
		return nil, cobra.ShellCompDirectiveDefault
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// cutTag splits "PATH:TAG" where PATH exists; ok is false otherwise.
func cutTag(rest string) (path, tag string, ok bool) {
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] == ':' {
			if _, err := os.Stat(rest[:i]); err == nil {
				return rest[:i], rest[i+1:], true
			}
		}
	}
	return "", "", false
}

// pathsFor lists the files and directories that complete a partial path,
// each with the transport prefix; a directory ends in "/" so completion
// goes on into it.
func pathsFor(prefix, partial string) []string {
	dir, base := filepath.Split(partial)
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	entries, err := os.ReadDir(readDir)
	if err != nil {
		return nil
	}
	var out []string
	for i, e := range entries {
		if i > 1000 {
			break
		}
		if !strings.HasPrefix(e.Name(), base) || strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		name := prefix + dir + e.Name()
		if e.IsDir() {
			name += "/"
		}
		out = append(out, name)
	}
	return out
}

// layoutTags reads the tags an OCI layout's index.json names.
func layoutTags(indexJSON string) []string {
	f, err := os.Open(indexJSON)
	if err != nil {
		return nil
	}
	defer f.Close()
	return tagsOf(io.LimitReader(f, maxCompleteFile), "index.json")
}

// archiveTags reads the tags named by index.json (an OCI archive) or
// manifest.json (a docker archive) in a tar, stopping at that file.
func archiveTags(path, name string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for range 10_000 {
		h, err := tr.Next()
		if err != nil {
			return nil
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return tagsOf(io.LimitReader(tr, maxCompleteFile), name)
		}
	}
	return nil
}

func tagsOf(r io.Reader, name string) []string {
	var out []string
	if name == "manifest.json" {
		var m []struct{ RepoTags []string }
		if json.NewDecoder(r).Decode(&m) != nil {
			return nil
		}
		for _, e := range m {
			out = append(out, e.RepoTags...)
		}
		return out
	}
	var idx v1.IndexManifest
	if json.NewDecoder(r).Decode(&idx) != nil {
		return nil
	}
	for _, d := range idx.Manifests {
		if t := d.Annotations["org.opencontainers.image.ref.name"]; t != "" {
			out = append(out, t)
		} else if t := d.Annotations["io.containerd.image.name"]; t != "" {
			out = append(out, t)
		}
	}
	return out
}

// completePlatform offers "all", the platforms of a local multi-platform
// image already on the command line, then the common ones.
func completePlatform(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	out := []string{"all\tevery platform of the index"}
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
	defer cancel()
	for _, a := range args {
		if !localImage(a) {
			continue
		}
		x, err := source.OpenIndex(ctx, a, source.Options{}, source.Platforms{All: true})
		if err != nil {
			continue
		}
		for _, e := range x.Entries {
			if e.Platform != nil {
				if k := layers.PlatformKey(e.Platform); !seen[k] {
					seen[k] = true
					out = append(out, k+"\tin "+a)
				}
			}
		}
		x.Close()
	}
	for _, p := range commonPlatforms {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return clean(out), cobra.ShellCompDirectiveNoFileComp
}

// localImage: an argument completion may read (a layout or an archive on
// this machine), never a registry or an engine.
func localImage(arg string) bool {
	for _, pre := range []string{"oci:", "oci-archive:"} {
		if strings.HasPrefix(arg, pre) {
			return true
		}
	}
	if strings.Contains(arg, "://") || strings.HasPrefix(arg, "docker-daemon:") {
		return false
	}
	return !compressedFile(arg)
}

// compressedFile: arg is neither a directory (a bare OCI layout) nor a
// regular file one can read (opening a named pipe would block completion
// until something writes to it), or it is a large file compressed whole (a
// docker save piped through gzip or zstd); reading its index would mean
// inflating it, which completion cannot afford.
func compressedFile(arg string) bool {
	fi, err := os.Stat(arg)
	switch {
	case err != nil:
		return true
	case fi.IsDir():
		return false
	case !fi.Mode().IsRegular():
		return true
	case fi.Size() < maxInflateForCompletion:
		return false
	}
	f, err := os.Open(arg)
	if err != nil {
		return true
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	return source.IsCompressed(magic[:n])
}

// clean drops candidates a shell would mangle: control characters and
// whitespace (the description after a tab excepted).
func clean(in []string) []string {
	out := in[:0]
	for _, s := range in {
		// One tab parts a value from its description; a second means
		// the value itself held one.
		if strings.Count(s, "\t") > 1 {
			continue
		}
		value, _, _ := strings.Cut(s, "\t")
		if strings.IndexFunc(value, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
			continue
		}
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
			continue
		}
		out = append(out, s)
	}
	return out
}
