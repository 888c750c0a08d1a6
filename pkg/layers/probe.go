package layers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/source"
)

// Annotations that state a layer's uncompressed size.
const (
	annotationEstargzSize = "io.containers.estargz.uncompressed-size"
	annotationUmociSize   = "ci.umo.uncompressed_blob_size"
	annotationStargzTOC   = "containerd.io/snapshot/stargz/toc.digest"
)

// zstdChunkedPrefixes are the annotation families of zstd:chunked layers:
// containers/storage wrote the first, podman 4.x and later write the
// second. Any key under either means the blob is many zstd frames.
var zstdChunkedPrefixes = []string{"io.github.containers.zstd-chunked.", "io.containers.zstd-chunked."}

// smallBlob is the size under which a layer is simply read whole: that
// costs no more than a ranged request and gives an exact count.
const smallBlob = 1024

// maxISIZE: ISIZE is the length mod 2^32, so a blob of 4 GiB or more
// (whose content is at least that large) cannot be described by it.
const maxISIZE = 1 << 32

// deflateMaxRatio is the most content one byte of deflate can stand for:
// a 258-byte match coded in 2 bits (RFC 1951). No gzip member, whatever
// its writer, holds more than this many times its size.
const deflateMaxRatio = 1032

// Reasons a layer is read whole rather than sized from its bytes' edges.
const (
	// zstd has no cheap path. A frame header's content size describes one
	// frame; a layer may be several concatenated frames (zstd:chunked
	// always is, and nothing obliges a writer to annotate it), and the
	// header cannot say whether its frame ends where the blob does. Telling
	// that would take walking every block header, one ranged request per
	// block of at most 128 KiB: not a few reads. So remote zstd layers are
	// counted by one full read, exact and digest-checked; the ZstdHeader
	// provenance stays defined only because saved reports carry it.
	reasonZstd = "zstd: a frame header describes one frame and a layer may hold several"
	// reasonWrappable is the gate's (Options.CountWrappable).
	reasonWrappable = "counted: a gzip trailer is the size mod 4 GiB and this blob could hold more"
)

// probe is the outcome of the cheap path for one layer.
type probe struct {
	n      int64
	prov   Provenance
	reason string // why the cheap path was not taken, when it was not
	// tail holds the trailer bytes read, when they were read but could not
	// be used.
	tail []byte
}

// cheapUncompressed tries, in order of cost, the ways to learn a remote
// layer's uncompressed size from its bytes without downloading it (an
// annotation, which states it without any bytes, is taken by Load first).
// ok is false when none is trustworthy; the caller then counts the
// stream. With countWrappable, a gzip layer whose trailer could have
// wrapped is not probed at all. With neverRead, a small blob is probed
// too, rather than read whole.
func cheapUncompressed(ctx context.Context, blobs source.BlobRanger, d v1.Descriptor, countWrappable, neverRead bool) (probe, bool, error) {
	if d.Size <= smallBlob && !neverRead {
		return probe{reason: "1 KiB or less, cheaper to read than to probe"}, false, nil
	}
	switch d.MediaType {
	case types.OCILayerZStd:
		if k, ok := zstdChunkedKey(d.Annotations); ok {
			return probe{reason: "zstd:chunked (" + k + ") holds several frames; no frame header gives the layer's size"}, false, nil
		}
		return probe{reason: reasonZstd}, false, nil
	case types.OCILayer, types.DockerLayer:
		if d.Annotations[annotationStargzTOC] != "" {
			return probe{reason: "eStargz: the gzip trailer describes only its last member"}, false, nil
		}
		if d.Size >= maxISIZE {
			return probe{reason: "4 GiB or more: the gzip trailer wraps around"}, false, nil
		}
		if countWrappable && trailerMayWrap(d.Size) {
			return probe{reason: reasonWrappable}, false, nil
		}
		if d.Size < 18 {
			return probe{reason: fmt.Sprintf("a %d-byte blob cannot be a gzip stream", d.Size)}, false, nil
		}
		tail, err := blobs.ReadRange(ctx, d.Digest, d.Size, d.Size-4, d.Size-1)
		if err != nil {
			return rangeFailed(err)
		}
		n, why := gzipTrailerSize(tail, d.Size)
		if why != "" {
			return probe{reason: why, tail: tail}, false, nil
		}
		return probe{n: n, prov: GzipTrailer}, true, nil
	}
	return probe{reason: fmt.Sprintf("no cheap path for media type %s", d.MediaType)}, false, nil
}

// zstdChunkedKey returns the first (in sorted order, so that the reason is
// stable) annotation of either zstd:chunked family.
func zstdChunkedKey(ann map[string]string) (string, bool) {
	var found []string
	for k := range ann {
		for _, p := range zstdChunkedPrefixes {
			if strings.HasPrefix(k, p) {
				found = append(found, k)
			}
		}
	}
	if len(found) == 0 {
		return "", false
	}
	slices.Sort(found)
	return found[0], true
}

// trailerMayWrap reports whether a gzip blob of this size could hold
// 4 GiB or more, in which case its trailer (the size mod 4 GiB) may be
// far below the truth while passing every other check: from about
// 4.16 MB (2^32/1032) on.
func trailerMayWrap(compressed int64) bool { return maxGzipContent(compressed) >= maxISIZE }

// rangeFailed turns an ignored Range into a fallback and passes other
// errors on: a 404 or 401 on a blob is the image's problem, not a reason
// to download more.
func rangeFailed(err error) (probe, bool, error) {
	if errors.Is(err, source.ErrRangeIgnored) {
		return probe{reason: "the registry ignored the Range request"}, false, nil
	}
	if errors.Is(err, source.ErrRangeUnusable) {
		return probe{reason: err.Error()}, false, nil
	}
	return probe{}, false, err
}

func annotatedSize(d v1.Descriptor) (int64, bool) {
	for _, k := range []string{annotationEstargzSize, annotationUmociSize} {
		v, ok := d.Annotations[k]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		// A stated size that deflate could not have produced, that is not
		// a whole number of tar blocks, or that no real layer reaches, is
		// ignored, not believed.
		if err == nil && n > 0 && n%512 == 0 && n >= minGzipContent(d.Size) && n <= maxLayerBytes {
			return n, true
		}
	}
	return 0, false
}

// minGzipContent is the least content a single gzip member of the given
// size can hold: incompressible data goes in stored deflate blocks of 5
// bytes of overhead each, plus an 18-byte header and trailer; 1 KiB of
// slack allows for optional header fields. A stored block may carry up to
// 65535 bytes, but writers use smaller ones (Go's compress/gzip about 16 KiB,
// GNU gzip 32 KiB), so the bound assumes 4 KiB: assuming 64 KiB refused
// true trailers of incompressible layers of a few MiB.
func minGzipContent(compressed int64) int64 {
	c := compressed - 18 - 1024
	if c <= 0 {
		return 0
	}
	return c / 4101 * 4096
}

// gzipTrailerSize validates ISIZE, the last 4 bytes of a gzip stream: the
// length of the last member's content mod 2^32. It is the layer's size
// only for a single-member stream under 4 GiB; every test that can show it
// is not is applied, and why names the one that failed.
func gzipTrailerSize(tail []byte, compressed int64) (n int64, why string) {
	if len(tail) != 4 {
		return 0, "short gzip trailer"
	}
	n = int64(binary.LittleEndian.Uint32(tail))
	switch {
	case compressed < 18:
		// A manifest's size is outside input: below a gzip header and
		// trailer it describes no gzip stream at all.
		return 0, fmt.Sprintf("a %d-byte blob cannot be a gzip stream", compressed)
	case n == 0:
		return 0, "gzip trailer is 0 (an empty last member, as eStargz writes)"
	case n%512 != 0:
		return 0, "gzip trailer is not a whole number of tar blocks (several gzip members?)"
	case n < minGzipContent(compressed):
		return 0, "gzip trailer is smaller than the compressed size allows (several members, or over 4 GiB)"
	case n > maxGzipContent(compressed):
		return 0, fmt.Sprintf("gzip trailer claims %d bytes, more than deflate's %d:1 can hold in a %d-byte blob", n, deflateMaxRatio, compressed)
	}
	return n, ""
}

// maxGzipContent is the most content a gzip stream of the given size can
// hold: deflate's maximum ratio over everything but the 18 bytes of the
// smallest header and trailer, plus 1 KiB of slack for the literals a
// stream starts with and for rounding. A trailer claiming more is not the
// size of this blob's content, whatever else it is.
func maxGzipContent(compressed int64) int64 {
	c := max(compressed-18, 0)
	if c > (math.MaxInt64-1024)/deflateMaxRatio {
		return math.MaxInt64
	}
	return c*deflateMaxRatio + 1024
}
