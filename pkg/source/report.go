package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
)

// Recorded is an image as a saved imgsize report recorded it: figures
// measured by an earlier run, read without touching any registry or file
// the image lives in.
type Recorded struct {
	// Path is the report file as the user named it.
	Path      string
	Generator schema.Generator
	// Time is when the report was made; zero if it did not say.
	Time  time.Time
	Image schema.ImageRecord
}

// maxReport bounds the size of a file read as a report: reports of
// hundreds of images are far smaller, and a huge file is not one. A
// variable only so that tests can try the bound without 64 MiB of JSON.
var maxReport int64 = 64 << 20

// tooLarge is the error for a report over maxReport: never parsed short,
// which would read as a corrupt report.
func tooLarge(detail string) error {
	return errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("report larger than %d MiB%s; imgsize reads reports up to that size", maxReport>>20, detail))
}

// openReport reads the image selected from a saved JSON report: by index
// in its images array, or by the image's recorded argument or name. With
// no selector the report must hold exactly one image.
func openReport(path, selector string) (*Image, error) {
	doc, err := ReadReport(path)
	if err != nil {
		return nil, err
	}
	i, err := selectRecorded(doc, selector)
	if err != nil {
		return nil, err
	}
	return recordedImage(path, doc, doc.Images[i]), nil
}

func recordedImage(path string, doc *schema.Document, rec schema.ImageRecord) *Image {
	return &Image{
		Transport: Report,
		Name:      rec.Name,
		Recorded:  &Recorded{Path: path, Generator: doc.Generator, Time: doc.Time, Image: rec},
	}
}

// ReadReport reads and checks the saved report at path, bounded.
func ReadReport(path string) (*schema.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("opening report: %w", err))
	}
	defer f.Close()
	// A file that says it is too large is refused before a byte is read;
	// one that cannot say (a pipe) or grows while read is stopped at the
	// limit by capReader, with the same error.
	if fi, err := f.Stat(); err == nil && fi.Size() > maxReport {
		return nil, tooLarge(fmt.Sprintf(" (%d bytes)", fi.Size()))
	}
	// The caller names the argument, and with it the file, in any error.
	return schema.Decode(&capReader{r: f, left: maxReport})
}

// capReader reads at most left bytes of r and fails with tooLarge if r
// holds more, where io.LimitReader would end early and quietly.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.left <= 0 {
		var one [1]byte
		if _, err := io.ReadFull(c.r, one[:]); err != nil {
			return 0, err // io.EOF: the report ends at the limit
		}
		return 0, tooLarge("")
	}
	p = p[:min(int64(len(p)), c.left)]
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func selectRecorded(doc *schema.Document, selector string) (int, error) {
	n := len(doc.Images)
	if n == 0 {
		return 0, errdefs.Wrap(errdefs.ErrNotFound, errors.New("the report holds no image"))
	}
	if selector == "" {
		if n == 1 {
			return 0, nil
		}
		return 0, errdefs.UsageError(fmt.Errorf("the report holds %d images (%s); choose one with report:PATH:N (0 to %d) or report:PATH:REF", n, recordedRefs(doc), n-1))
	}
	if i, err := strconv.Atoi(selector); err == nil {
		if i < 0 || i >= n {
			return 0, errdefs.UsageError(fmt.Errorf("image %d is not in the report: it holds images 0 to %d", i, n-1))
		}
		return i, nil
	}
	found := -1
	for i, img := range doc.Images {
		if img.Ref != selector && img.Name != selector {
			continue
		}
		if found >= 0 && !sameRecord(doc.Images[found], img) {
			return 0, errdefs.UsageError(fmt.Errorf("%q names images %d and %d of the report; choose one by number", selector, found, i))
		}
		if found < 0 {
			found = i
		}
	}
	if found < 0 {
		return 0, errdefs.Wrap(errdefs.ErrNotFound, fmt.Errorf("no image %q in the report (it holds %s)", selector, recordedRefs(doc)))
	}
	return found, nil
}

// sameRecord: a check report lists a baseline that is also checked once
// per role; choosing either is choosing the same figures.
func sameRecord(a, b schema.ImageRecord) bool {
	return a.Ref == b.Ref && a.Digest == b.Digest && a.ConfigDigest == b.ConfigDigest
}

func recordedRefs(doc *schema.Document) string {
	refs := make([]string, 0, len(doc.Images))
	for i, img := range doc.Images {
		if i == 5 {
			refs = append(refs, fmt.Sprintf("and %d more", len(doc.Images)-i))
			break
		}
		refs = append(refs, fmt.Sprintf("%d: %s", i, Redact(img.Ref)))
	}
	return strings.Join(refs, ", ")
}

// looksLikeReport reports whether the file at path starts like a JSON
// document: image archives are tars, which never start with "{".
func looksLikeReport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, 4096))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}
