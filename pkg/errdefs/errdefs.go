// Package errdefs holds the error kinds every imgsize package may return.
//
// It sits beside the data flow rather than in it: sources, the model and the
// analysis wrap their errors with one of these sentinels so that cmd/imgsize
// can map a failure to the documented exit code with errors.Is, without
// parsing messages.
package errdefs

import "errors"

var (
	// ErrUsage marks a mistake in how imgsize was called (bad flag value,
	// unknown transport, malformed platform). Exit code 2.
	ErrUsage = errors.New("usage error")

	// ErrNotFound: the file, tag, digest, platform or repository does not exist.
	ErrNotFound = errors.New("not found")

	// ErrUnauthorized: the registry refused the credentials (or their absence).
	ErrUnauthorized = errors.New("unauthorized")

	// ErrCorrupt: the image was found but its bytes are not what they claim to
	// be (truncated tar, bad gzip, digest mismatch, malformed JSON).
	ErrCorrupt = errors.New("corrupt image")

	// ErrUnsupported: a well-formed input imgsize does not know how to read
	// (unknown media type, a tar that is not an image).
	ErrUnsupported = errors.New("unsupported")
)

// UsageError wraps err so that errors.Is(err, ErrUsage) holds.
func UsageError(err error) error { return &kindError{kind: ErrUsage, err: err} }

// Wrap marks err with kind while keeping err's own chain for errors.Is/As.
func Wrap(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }
