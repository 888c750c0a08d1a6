package source

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// StdinArg is the argument that names an archive piped in on standard
// input, alone or after docker-archive: or oci-archive:.
const StdinArg = "-"

// errNoStdin is returned when an argument names standard input but
// Options.Stdin is nil.
var errNoStdin = errors.New("no standard input")

// IsStdin reports whether arg reads standard input: "-", "-:REF", or
// docker-archive: or oci-archive: followed by either. Standard input can
// be read once, so a caller lets at most one argument of a run do so.
func IsStdin(arg string) bool {
	for _, p := range []string{"", string(DockerArchive) + ":", string(OCIArchive) + ":"} {
		if rest, ok := strings.CutPrefix(arg, p); ok && (rest == StdinArg || strings.HasPrefix(rest, StdinArg+":")) {
			return true
		}
	}
	return false
}

// openStdin reads an archive piped in on opts.Stdin: spooled once to a
// temporary file (decompressed if gzip or zstd), removed when the image is
// closed. An empty transport detects the format as openDetected does for
// a path.
func openStdin(ctx context.Context, tr Transport, ref string, opts Options) (*Image, error) {
	img, err := openStdinArchive(ctx, tr, ref, opts)
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	return img, nil
}

func openStdinArchive(ctx context.Context, tr Transport, ref string, opts Options) (*Image, error) {
	if opts.Stdin == nil {
		return nil, errdefs.UsageError(errNoStdin)
	}
	t, err := openTarStream(ctx, opts.Stdin)
	if err != nil {
		return nil, err
	}
	if tr == "" {
		tr = OCIArchive
		if t.has("manifest.json") || !t.has("index.json") {
			tr = DockerArchive
		}
	}
	var img *Image
	if tr == DockerArchive {
		img, err = openDockerArchiveTar(ctx, t, StdinArg, ref)
	} else {
		img, err = openOCIArchiveTar(ctx, t, StdinArg, ref, opts.Platform)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return img, nil
}
