package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// BlobRanger reads parts of blobs without downloading them whole. Registry
// images have one; local images do not need one.
type BlobRanger interface {
	// ReadRange returns bytes [start, end] (inclusive) of blob h, whose
	// total size is size. It returns ErrRangeIgnored, having read none of
	// the body, when the server answers a Range request with the whole blob.
	ReadRange(ctx context.Context, h v1.Hash, size, start, end int64) ([]byte, error)
}

// ErrRangeIgnored means the server sent 200 to a Range request. The caller
// should fall back to reading the blob whole, once.
var ErrRangeIgnored = errors.New("registry ignored the Range request")

// ErrRangeUnusable marks a ranged answer that cannot be trusted (another
// range or total in Content-Range, a body of the wrong length, 416). The
// caller should fall back to reading the blob whole, which checks its digest.
var ErrRangeUnusable = errors.New("registry's answer to the Range request is unusable")

// maxRange bounds a ranged read; the cheap paths need a few bytes.
const maxRange = 64 << 10

// registryRanger shares the image's authenticated transport.
type registryRanger struct {
	repo   name.Repository
	client *http.Client
}

func (r *registryRanger) ReadRange(ctx context.Context, h v1.Hash, size, start, end int64) ([]byte, error) {
	if start < 0 || end < start || end >= size || end-start+1 > maxRange {
		return nil, fmt.Errorf("invalid range %d-%d of blob %s (%d bytes)", start, end, h, size)
	}
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", r.repo.Scheme(), r.repo.RegistryStr(), r.repo.RepositoryStr(), h)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("range request for blob %s: %w", h, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		// Closing without reading drops the connection instead of
		// downloading the blob here and again in the fallback.
		return nil, ErrRangeIgnored
	case http.StatusRequestedRangeNotSatisfiable:
		return nil, fmt.Errorf("%w: blob %s: 416 for bytes %d-%d of %d", ErrRangeUnusable, h, start, end, size)
	default:
		return nil, classifyRemote(fmt.Errorf("range request for blob %s: %w", h, transport.CheckError(resp, http.StatusPartialContent)))
	}
	if err := checkContentRange(resp.Header.Get("Content-Range"), start, end, size); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%w: blob %s: %w", ErrRangeUnusable, h, err))
	}
	want := end - start + 1
	b, err := io.ReadAll(io.LimitReader(resp.Body, want+1))
	if err != nil {
		return nil, fmt.Errorf("reading range of blob %s: %w", h, err)
	}
	if int64(len(b)) != want {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("%w: blob %s: range %d-%d returned %d bytes", ErrRangeUnusable, h, start, end, len(b)))
	}
	return b, nil
}

// checkContentRange accepts exactly "bytes START-END/SIZE": a server that
// answers another range, or believes the blob has another size, is not
// trusted with a size computation.
func checkContentRange(v string, start, end, size int64) error {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return fmt.Errorf("206 without a valid Content-Range (%q)", v)
	}
	rng, total, ok := strings.Cut(rest, "/")
	if !ok {
		return fmt.Errorf("malformed Content-Range %q", v)
	}
	s, e, ok := strings.Cut(rng, "-")
	if !ok {
		return fmt.Errorf("malformed Content-Range %q", v)
	}
	gs, err1 := strconv.ParseInt(s, 10, 64)
	ge, err2 := strconv.ParseInt(e, 10, 64)
	if err1 != nil || err2 != nil || gs != start || ge != end {
		return fmt.Errorf("asked for bytes %d-%d, got Content-Range %q", start, end, v)
	}
	if total != "*" {
		if gt, err := strconv.ParseInt(total, 10, 64); err != nil || gt != size {
			return fmt.Errorf("manifest says %d bytes, Content-Range says %q", size, v)
		}
	}
	return nil
}
