package layers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgsize/imgsize/pkg/source"
)

// Annotations that state a layer's uncompressed size.
const (
	annotationEstargzSize = "io.containers.estargz.uncompressed-size"
	annotationUmociSize   = "ci.umo.uncompressed_blob_size"
	annotationStargzTOC   = "containerd.io/snapshot/stargz/toc.digest"
	annotationZstdChunked = "io.github.containers.zstd-chunked.manifest-checksum"
)

// smallBlob is the size under which a layer is simply read whole: that
// costs no more than a ranged request and gives an exact count.
const smallBlob = 1024

// zstdHeadLen covers the largest zstd frame header (4 magic + 14).
const zstdHeadLen = 18

// maxISIZE: ISIZE is the length mod 2^32, so a blob of 4 GiB or more
// (whose content is at least that large) cannot be described by it.
const maxISIZE = 1 << 32

// probe is the outcome of the cheap path for one layer.
type probe struct {
	n      int64
	prov   Provenance
	reason string // why the cheap path was not taken, when it was not
}

// cheapUncompressed tries, in order of cost, the ways to learn a remote
// layer's uncompressed size from its bytes without downloading it (an
// annotation, which states it without any bytes, is taken by Load first). ok is false when none
// is trustworthy; the caller then counts the stream.
func cheapUncompressed(ctx context.Context, blobs source.BlobRanger, d v1.Descriptor) (probe, bool, error) {
	if d.Size <= smallBlob {
		return probe{reason: "1 KiB or less, cheaper to read than to probe"}, false, nil
	}
	switch d.MediaType {
	case types.OCILayerZStd:
		if d.Annotations[annotationZstdChunked] != "" {
			return probe{reason: "zstd:chunked has many frames; the first frame's size is not the layer's"}, false, nil
		}
		head, err := blobs.ReadRange(ctx, d.Digest, d.Size, 0, min(zstdHeadLen, d.Size)-1)
		if err != nil {
			return rangeFailed(err)
		}
		n, why := zstdContentSize(head, d.Size)
		if why != "" {
			return probe{reason: why}, false, nil
		}
		return probe{n: n, prov: ZstdHeader}, true, nil
	case types.OCILayer, types.DockerLayer:
		if d.Annotations[annotationStargzTOC] != "" {
			return probe{reason: "eStargz: the gzip trailer describes only its last member"}, false, nil
		}
		if d.Size >= maxISIZE {
			return probe{reason: "4 GiB or more: the gzip trailer wraps around"}, false, nil
		}
		tail, err := blobs.ReadRange(ctx, d.Digest, d.Size, d.Size-4, d.Size-1)
		if err != nil {
			return rangeFailed(err)
		}
		n, why := gzipTrailerSize(tail, d.Size)
		if why != "" {
			return probe{reason: why}, false, nil
		}
		return probe{n: n, prov: GzipTrailer}, true, nil
	}
	return probe{reason: fmt.Sprintf("no cheap path for media type %s", d.MediaType)}, false, nil
}

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
		// A stated size that deflate could not have produced, or that is
		// not a whole number of tar blocks, is ignored, not believed.
		if err == nil && n > 0 && n%512 == 0 && n >= minGzipContent(d.Size) {
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
	case n == 0:
		return 0, "gzip trailer is 0 (an empty last member, as eStargz writes)"
	case n%512 != 0:
		return 0, "gzip trailer is not a whole number of tar blocks (several gzip members?)"
	case n < minGzipContent(compressed):
		return 0, "gzip trailer is smaller than the compressed size allows (several members, or over 4 GiB)"
	}
	return n, ""
}

// zstdContentSize reads Frame_Content_Size from a zstd frame header
// (RFC 8878 §3.1.1.1). Many writers omit it; then why says so.
func zstdContentSize(head []byte, compressed int64) (n int64, why string) {
	if len(head) < 5 || binary.LittleEndian.Uint32(head) != 0xFD2FB528 {
		return 0, "not a zstd frame (skippable frame or mislabelled layer)"
	}
	fhd := head[4]
	fcsFlag := fhd >> 6
	single := fhd&0x20 != 0
	if fhd&0x08 != 0 {
		return 0, "zstd frame header has its reserved bit set"
	}
	pos := 5
	if !single {
		pos++ // Window_Descriptor
	}
	pos += [4]int{0, 1, 2, 4}[fhd&0x03] // Dictionary_ID
	size := [4]int{0, 2, 4, 8}[fcsFlag]
	if fcsFlag == 0 && single {
		size = 1
	}
	if size == 0 {
		return 0, "zstd frame header omits the content size"
	}
	if len(head) < pos+size {
		return 0, "zstd frame header truncated"
	}
	b := head[pos : pos+size]
	switch size {
	case 1:
		n = int64(b[0])
	case 2:
		n = int64(binary.LittleEndian.Uint16(b)) + 256
	case 4:
		n = int64(binary.LittleEndian.Uint32(b))
	case 8:
		u := binary.LittleEndian.Uint64(b)
		if u > 1<<62 {
			return 0, "zstd content size out of range"
		}
		n = int64(u)
	}
	// A raw block costs 3 bytes; a content size below what the blob must
	// hold means the first frame is not the whole layer. Blocks hold up to
	// 128 KiB, but klauspost's fastest level writes 64 KiB ones and small
	// windows smaller still, so the bound assumes 4 KiB.
	minContent := (compressed - 18 - 4) / 4099 * 4096
	switch {
	case n == 0 || n%512 != 0:
		return 0, "zstd content size is not a whole number of tar blocks (several frames?)"
	case n < minContent:
		return 0, "zstd content size is smaller than the compressed size allows (several frames)"
	}
	return n, ""
}
