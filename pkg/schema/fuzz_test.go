package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/errdefs"
	"github.com/imgsize/imgsize/pkg/schema"
)

// maxDecodeSeed bounds the golden reports taken as seeds (compacted): the
// fuzzer mutates and minimises inputs of about a seed's size.
const maxDecodeSeed = 12 << 10

// FuzzDecode feeds arbitrary bytes to Decode, the reader of saved reports
// (the report: transport and --baseline). Whatever the bytes:
//   - an error wraps exactly one of errdefs.ErrCorrupt and
//     errdefs.ErrUnsupported (the exit code), and is one line starting
//     "reading JSON report: ";
//   - a document it accepts has this package's Version and a known kind,
//     encodes with encoding/json, and is a fixed point: decoding its
//     encoding succeeds and encodes to the same bytes, so nothing Decode
//     accepts changes meaning when imgsize writes it again.
//
// Seeds are the report package's golden JSON reports (compacted) and a few
// hand-made near misses.
func FuzzDecode(f *testing.F) {
	goldens, err := filepath.Glob(goldenGlob)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range goldens {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		if buf.Len() <= maxDecodeSeed {
			f.Add(buf.Bytes())
		}
	}
	for _, s := range []string{
		`{"schemaVersion":1,"kind":"inspect","images":[]}`,
		`{"schemaVersion":2,"kind":"inspect"}`,
		`{"SCHEMAVERSION":1,"Kind":"inspect","kind":"compare","comparison":{"baseline":0,"rows":[]},"images":[{}]}`,
		`{"schemaVersion":1.0}`,
		`{"schemaVersion":"1"}`,
		`{"schemaVersion":1,"kind":"files","images":[{"layers":[{}]}],"files":{"image":0,"largest":[{"layer":0}]}}`,
		`{"schemaVersion":1,"kind":"diff","images":[{},{}],"diff":{"imageA":0,"imageB":1,"entries":[{"change":"added","b":{"type":"file","layer":0}}]}}`,
		`{"schemaVersion":1,"kind":"check","images":[{}],"check":{"results":[{"budgets":[{"budget":"max-layers","unit":"layers","status":"unknown","provenance":"exact"}]}]}}`,
		`[1,2,3]`,
		`{"schemaVersion":1,"kind":"inspect"} {}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := schema.Decode(bytes.NewReader(data))
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if !slices.Contains(schema.Versions, d.SchemaVersion) {
			t.Errorf("SchemaVersion = %d, want one of %v", d.SchemaVersion, schema.Versions)
		}
		if !slices.Contains(schema.Kinds, d.Kind) {
			t.Errorf("Kind = %q, not one of %v", d.Kind, schema.Kinds)
		}
		enc, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("a decoded document does not encode: %v", err)
		}
		d2, err := schema.Decode(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("Decode(encoding of a decoded document) = %v\nencoding: %s", err, enc)
		}
		enc2, err := json.Marshal(d2)
		if err != nil {
			t.Fatalf("a decoded document does not encode the second time: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Errorf("not a fixed point:\nfirst:  %s\nsecond: %s", enc, enc2)
		}
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	corrupt, unsupported := errors.Is(err, errdefs.ErrCorrupt), errors.Is(err, errdefs.ErrUnsupported)
	if corrupt == unsupported {
		t.Errorf("error %q: ErrCorrupt %v, ErrUnsupported %v; want exactly one", err, corrupt, unsupported)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q is more than one line", msg)
	}
	if !strings.HasPrefix(msg, "reading JSON report: ") {
		t.Errorf("error %q does not start with \"reading JSON report: \"", msg)
	}
}
