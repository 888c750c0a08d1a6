package schema

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// Decode reads a JSON report written by imgsize and checks it: a schema
// version this package does not read is an error wrapping
// errdefs.ErrUnsupported; malformed or inconsistent content, or a
// schemaVersion that is missing or not a positive integer, one wrapping
// errdefs.ErrCorrupt. An error of r itself is returned wrapped as it is,
// so a reader that knows why it stopped (a size limit) keeps its kind.
//
// It reads r once, as a stream: each element of the report's lists is
// decoded as it arrives, so memory holds the document being built and one
// element's JSON, never the whole file beside it.
func Decode(r io.Reader) (*Document, error) {
	src := &errReader{r: bufio.NewReaderSize(r, 64<<10)}
	s := &stream{dec: json.NewDecoder(src)}
	var d Document
	version, err := s.document(&d)
	if err != nil {
		if src.err != nil {
			return nil, fmt.Errorf("reading JSON report: %w", src.err)
		}
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	// The version decides how the rest reads: a newer report may have
	// changed a field's type, which must read as "too new", not "corrupt";
	// so it is judged before any type error the rest gave.
	switch {
	case version == nil:
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, errors.New("reading JSON report: invalid schema version (missing); not an imgsize report"))
	case !positiveInt(version):
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: invalid schema version %s; not an imgsize report", shortJSON(version)))
	}
	n, err := strconv.Atoi(string(version))
	if err != nil || !slices.Contains(Versions, n) {
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("reading JSON report: schema version %s is not supported (this imgsize reads versions 1 to %d; a newer imgsize wrote it)", shortJSON(version), Version))
	}
	d.SchemaVersion = n
	if s.typeErr != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", s.typeErr))
	}
	if err := d.validate(); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("reading JSON report: %w", err))
	}
	if d.Comparison != nil {
		for i := range d.Comparison.Rows {
			if d.Comparison.Rows[i].MatchedBy == "" {
				// Written before rows said; imgsize then matched by digest.
				d.Comparison.Rows[i].MatchedBy = MatchDigest
			}
		}
	}
	return &d, nil
}

// positiveInt reports whether a JSON value is a whole number above 0
// written as such ("1", not "1.0", "01" or "\"1\""). Comparing the text
// with Version's afterwards cannot overflow, whatever the number's size.
func positiveInt(v json.RawMessage) bool {
	if len(v) == 0 || v[0] < '1' || v[0] > '9' {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// shortJSON is a JSON value for a one-line message: compacted (JSON
// strings hold no raw newline) and cut to 40 bytes.
func shortJSON(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return "(malformed)"
	}
	if b.Len() > 40 {
		return strings.ToValidUTF8(b.String()[:40], "") + "…"
	}
	return b.String()
}

// errReader fills the JSON decoder's reads and keeps the first error of
// the reader under it, which tells a failed read from malformed JSON.
//
// It fills each read whole: the decoder rescans all the whitespace it has
// buffered each time it reads more while looking for a token, so a pipe's
// short reads (64 KiB at most) made 64 MiB of blanks between two tokens
// cost half a minute; reads as large as the decoder asks make it linear.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := io.ReadAtLeast(e.r, p, len(p))
	switch {
	case err == io.ErrUnexpectedEOF:
		err = io.EOF // short of len(p) at the end: n bytes, then EOF
		if n > 0 {
			err = nil
		}
	case err != nil && err != io.EOF && e.err == nil:
		e.err = err
	}
	return n, err
}

// errTruncated is a document that ends before its last brace.
var errTruncated = errors.New("unexpected end of JSON input")

// stream decodes a Document from a json.Decoder one object field and one
// list element at a time, so the decoder never buffers more than one
// element. Structs (and pointers to them) are walked field by field and
// slices element by element; anything else, and every list element, is
// one Decode. Like encoding/json it matches keys case-insensitively, lets
// a later key win, skips unknown keys and, on a value of the wrong type,
// keeps the first such error and decodes on, so the version can still be
// read after it.
type stream struct {
	dec     *json.Decoder
	typeErr error
}

// document decodes the top-level object into d and returns the raw
// schemaVersion value (nil when there is none).
func (s *stream) document(d *Document) (json.RawMessage, error) {
	tok, err := s.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("the report is %s, not a JSON object", describe(tok))
	}
	var version json.RawMessage
	v := reflect.ValueOf(d).Elem()
	fields := fieldsOf(v.Type())
	for s.dec.More() {
		key, err := s.key()
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(key, "schemaVersion") {
			version = nil
			if err := s.dec.Decode(&version); err != nil {
				return nil, s.fatal(err)
			}
			continue
		}
		if err := s.field(v, fields, key, key); err != nil {
			return nil, err
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the document")
	}
	return version, nil
}

// value decodes the next JSON value into v; path names it in type errors.
// Only malformed JSON and read errors are returned.
func (s *stream) value(v reflect.Value, path string) error {
	t := v.Type()
	if !walked(t) {
		return s.decode(v.Addr().Interface())
	}
	tok, err := s.token()
	if err != nil {
		return err
	}
	if tok == nil {
		// As encoding/json: null empties a pointer or a slice and leaves
		// a struct as it was.
		if t.Kind() != reflect.Struct {
			v.SetZero()
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Slice:
		if tok != json.Delim('[') {
			return s.mismatch(tok, t, path)
		}
		v.Set(reflect.MakeSlice(t, 0, 0))
		zero := reflect.Zero(t.Elem())
		for n := 0; s.dec.More(); n++ {
			// Decoded in place, in the slot appended for it.
			v.Set(reflect.Append(v, zero))
			if err := s.decode(v.Index(n).Addr().Interface()); err != nil {
				return err
			}
		}
		return s.end()
	case reflect.Pointer:
		if tok != json.Delim('{') {
			return s.mismatch(tok, t, path)
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return s.object(v.Elem(), path)
	default:
		if tok != json.Delim('{') {
			return s.mismatch(tok, t, path)
		}
		return s.object(v, path)
	}
}

// object decodes the fields of an object whose '{' has been read into the
// struct v.
func (s *stream) object(v reflect.Value, path string) error {
	fields := fieldsOf(v.Type())
	for s.dec.More() {
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.field(v, fields, key, path+"."+key); err != nil {
			return err
		}
	}
	return s.end()
}

// field decodes the value of key into its field of v, or skips it.
func (s *stream) field(v reflect.Value, fields map[string]int, key, path string) error {
	i, ok := fields[key]
	if !ok {
		for name, j := range fields {
			if strings.EqualFold(name, key) {
				i, ok = j, true
				break
			}
		}
	}
	if !ok {
		var skip json.RawMessage
		return s.decode(&skip)
	}
	return s.value(v.Field(i), path)
}

// decode is one Decode: a value of the wrong type is kept as the first
// type error and decoding goes on (the decoder has read past it).
func (s *stream) decode(p any) error {
	err := s.dec.Decode(p)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if s.typeErr == nil {
			s.typeErr = err
		}
		return nil
	}
	return s.fatal(err)
}

// mismatch records that tok, where a value of type t was due, is of the
// wrong type, and reads past the rest of it.
func (s *stream) mismatch(tok json.Token, t reflect.Type, path string) error {
	if s.typeErr == nil {
		s.typeErr = fmt.Errorf("json: cannot unmarshal %s into Go struct field %s of type %s", describe(tok), path, t)
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		for depth := 1; depth > 0; {
			tok, err := s.token()
			if err != nil {
				return err
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
	}
	return nil
}

func (s *stream) key() (string, error) {
	tok, err := s.token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("an object key is %s", describe(tok))
	}
	return key, nil
}

// end reads the '}' or ']' that closes an object or array.
func (s *stream) end() error {
	_, err := s.token()
	return err
}

func (s *stream) token() (json.Token, error) {
	tok, err := s.dec.Token()
	return tok, s.fatal(err)
}

// fatal turns the end of input inside the document into errTruncated.
func (s *stream) fatal(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return err
}

func describe(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	}
	if tok == json.Delim('[') {
		return "an array"
	}
	return "an object"
}

// walked reports whether stream walks values of type t itself: structs
// without their own UnmarshalJSON, pointers to them, and slices.
func walked(t reflect.Type) bool {
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	switch t.Kind() {
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8 && !reflect.PointerTo(t).Implements(unmarshaler)
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.Struct && !t.Implements(unmarshaler)
	case reflect.Struct:
		return !reflect.PointerTo(t).Implements(unmarshaler)
	}
	return false
}

var fieldCache sync.Map // reflect.Type → map[string]int

// fieldsOf maps each JSON key of struct type t to its field index, as the
// json tags name them. The schema's structs embed none.
func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = i
	}
	fieldCache.Store(t, m)
	return m
}

func (d *Document) validate() error {
	if !slices.Contains(Kinds, d.Kind) {
		return fmt.Errorf("unknown kind %q", d.Kind)
	}
	// Each kind but inspect has its record, and no other kind's.
	for _, r := range []struct {
		kind, name string
		present    bool
	}{
		{KindCompare, "comparison", d.Comparison != nil},
		{KindCheck, "check", d.Check != nil},
		{KindFiles, "files", d.Files != nil},
		{KindDiff, "diff", d.Diff != nil},
		{KindTrend, "trend", d.Trend != nil},
		{KindPackages, "packages", d.Packages != nil},
	} {
		switch {
		case r.kind == d.Kind && !r.present:
			return fmt.Errorf("kind %q without a %s record", d.Kind, r.name)
		case r.kind != d.Kind && r.present:
			return fmt.Errorf("kind %q with a %s record", d.Kind, r.name)
		}
	}
	for i, img := range d.Images {
		if err := img.validate(); err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
	}
	for i, x := range d.Indexes {
		if err := x.validate(len(d.Images)); err != nil {
			return fmt.Errorf("index %d: %w", i, err)
		}
	}
	if c := d.Comparison; c != nil {
		if err := c.validate(len(d.Images), len(d.Indexes)); err != nil {
			return err
		}
	}
	if c := d.Check; c != nil {
		if err := c.validate(len(d.Images), len(d.Indexes)); err != nil {
			return err
		}
	}
	if f := d.Files; f != nil {
		if err := f.validate(d.Images); err != nil {
			return fmt.Errorf("files: %w", err)
		}
	}
	if df := d.Diff; df != nil {
		if err := df.validate(d.Images); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	}
	if tr := d.Trend; tr != nil {
		if err := tr.validate(len(d.Images)); err != nil {
			return fmt.Errorf("trend: %w", err)
		}
	}
	if p := d.Packages; p != nil {
		if err := p.validate(d.Images); err != nil {
			return fmt.Errorf("packages: %w", err)
		}
	}
	return nil
}

func (img *ImageRecord) validate() error {
	if img.SyntheticManifest && (img.Digest != "" || img.MediaType != "" || img.ManifestBytes != nil) {
		return errors.New("a synthetic manifest with a digest, media type or size")
	}
	if img.ManifestBytes != nil && *img.ManifestBytes < 0 {
		return fmt.Errorf("negative manifest size %d", *img.ManifestBytes)
	}
	next := 0
	for i, s := range img.History {
		switch {
		case s.Layer == nil:
		case s.EmptyLayer:
			return fmt.Errorf("history step %d is empty but names layer %d", i, *s.Layer)
		case *s.Layer != next || *s.Layer >= len(img.Layers):
			return fmt.Errorf("history step %d names layer %d: steps name the layers in order, 0 to %d", i, *s.Layer, len(img.Layers)-1)
		default:
			next++
		}
	}
	if img.ConfigBytes != nil && *img.ConfigBytes < 0 {
		return fmt.Errorf("negative config size %d", *img.ConfigBytes)
	}
	if err := img.Compressed.validate(); err != nil {
		return fmt.Errorf("compressed: %w", err)
	}
	if err := img.Uncompressed.validate(); err != nil {
		return fmt.Errorf("uncompressed: %w", err)
	}
	for j, l := range img.Layers {
		if err := l.Compressed.validate(); err != nil {
			return fmt.Errorf("layer %d compressed: %w", j, err)
		}
		if err := l.Uncompressed.validate(); err != nil {
			return fmt.Errorf("layer %d uncompressed: %w", j, err)
		}
	}
	return nil
}

// inRange reports whether p is nil or a position in a list of n.
func inRange(p *int, n int) bool { return p == nil || (*p >= 0 && *p < n) }

func (x *IndexRecord) validate(images int) error {
	for _, p := range x.Platforms {
		if !inRange(&p, images) {
			return fmt.Errorf("platform image %d is not an image index", p)
		}
	}
	for _, l := range x.SharedLayers {
		for _, p := range l.Images {
			if !inRange(&p, images) {
				return fmt.Errorf("shared layer %s: image %d is not an image index", l.Digest, p)
			}
		}
		if err := l.Compressed.validate(); err != nil {
			return fmt.Errorf("shared layer %s: %w", l.Digest, err)
		}
	}
	for j, a := range x.Artifacts {
		if err := a.Bytes.validate(); err != nil {
			return fmt.Errorf("artifact %d: %w", j, err)
		}
	}
	if err := x.Stored.validate(); err != nil {
		return fmt.Errorf("stored: %w", err)
	}
	return nil
}

func (c *ComparisonRecord) validate(images, indexes int) error {
	if c.Baseline < 0 || c.Baseline >= images {
		return fmt.Errorf("comparison baseline %d is not an image index", c.Baseline)
	}
	for i, p := range c.Platforms {
		if !inRange(p.Baseline, images) {
			return fmt.Errorf("comparison platform %d: baseline is not an image index", i)
		}
		if len(p.Images) != indexes {
			return fmt.Errorf("comparison platform %d: %d images for %d indexes", i, len(p.Images), indexes)
		}
		for _, img := range p.Images {
			if !inRange(img, images) {
				return fmt.Errorf("comparison platform %d: image is not an image index", i)
			}
		}
		for _, r := range p.Rows {
			if !inRange(&r, len(c.Rows)) {
				return fmt.Errorf("comparison platform %d: row %d is not a row", i, r)
			}
		}
	}
	if len(c.Stored) != 0 && len(c.Stored) != indexes {
		return fmt.Errorf("comparison: %d stored deltas for %d indexes", len(c.Stored), indexes)
	}
	for i, r := range c.Rows {
		if r.Image < 0 || r.Image >= images {
			return fmt.Errorf("comparison row %d: image %d is not an image index", i, r.Image)
		}
		if !inRange(r.Baseline, images) {
			return fmt.Errorf("comparison row %d: baseline %d is not an image index", i, *r.Baseline)
		}
		if r.MatchedBy != "" && !slices.Contains(MatchKinds, r.MatchedBy) {
			return fmt.Errorf("comparison row %d: unknown matchedBy %q", i, r.MatchedBy)
		}
		sizes := []struct {
			what string
			size SizeRecord
		}{
			{"shared compressed", r.Shared.Compressed},
			{"shared uncompressed", r.Shared.Uncompressed},
			{"unique compressed", r.Unique.Compressed},
			{"unique uncompressed", r.Unique.Uncompressed},
		}
		if rc := r.Recompressed; rc != nil {
			sizes = append(sizes, []struct {
				what string
				size SizeRecord
			}{
				{"recompressed compressed", rc.Compressed},
				{"recompressed uncompressed", rc.Uncompressed},
			}...)
		}
		for _, s := range sizes {
			if err := s.size.validate(); err != nil {
				return fmt.Errorf("comparison row %d %s: %w", i, s.what, err)
			}
		}
	}
	return nil
}

func (c *CheckRecord) validate(images, indexes int) error {
	for i, r := range c.Results {
		if !inRange(r.Image, images) || !inRange(r.Baseline, images) {
			return fmt.Errorf("check result %d: image or baseline is not an image index", i)
		}
		if !inRange(r.Index, indexes) {
			return fmt.Errorf("check result %d: index %d is not an index of the report", i, *r.Index)
		}
		for j, b := range r.Budgets {
			if err := b.validate(); err != nil {
				return fmt.Errorf("check result %d budget %d: %w", i, j, err)
			}
		}
	}
	return nil
}

func (b *BudgetRecord) validate() error {
	if !slices.Contains(Budgets, b.Budget) {
		return fmt.Errorf("unknown budget %q", b.Budget)
	}
	if !slices.Contains(Units, b.Unit) {
		return fmt.Errorf("unknown unit %q", b.Unit)
	}
	// Min says which way the margin is measured; only a floor has it.
	if b.Min != (b.Budget == BudgetLowestEfficiency) {
		return fmt.Errorf("budget %q with min %v", b.Budget, b.Min)
	}
	switch b.Status {
	case StatusUnknown:
		if b.Actual != nil || b.Margin != nil {
			return errors.New("an unknown status with an actual figure")
		}
	case StatusPass, StatusFail:
		if b.Actual == nil || b.Margin == nil {
			return fmt.Errorf("status %q without an actual figure", b.Status)
		}
	default:
		return fmt.Errorf("unknown status %q", b.Status)
	}
	if !slices.Contains(Provenances, b.Provenance) {
		return fmt.Errorf("unknown provenance %q", b.Provenance)
	}
	return nil
}

func (s SizeRecord) validate() error {
	switch {
	case s.Provenance == "unknown":
		if s.Bytes != nil {
			return errors.New("unknown size with bytes")
		}
		return nil
	case slices.Contains(Provenances, s.Provenance):
		if s.Bytes == nil {
			return fmt.Errorf("%s size without bytes", s.Provenance)
		}
		if *s.Bytes < 0 {
			return fmt.Errorf("negative size %d", *s.Bytes)
		}
		return nil
	default:
		return fmt.Errorf("unknown provenance %q", s.Provenance)
	}
}

// layerIndex reports whether i is the index of one of img's layers.
func layerIndex(img ImageRecord, i int) bool { return i >= 0 && i < len(img.Layers) }

func (f *FilesRecord) validate(images []ImageRecord) error {
	if f.Image < 0 || f.Image >= len(images) {
		return fmt.Errorf("image %d is not an image index", f.Image)
	}
	img := images[f.Image]
	for i, l := range f.Layers {
		if !layerIndex(img, l.Index) {
			return fmt.Errorf("layer record %d: layer %d is not a layer of image %d", i, l.Index, f.Image)
		}
	}
	for i, l := range f.Largest {
		if !layerIndex(img, l.Layer) {
			return fmt.Errorf("largest file %d: layer %d is not a layer of image %d", i, l.Layer, f.Image)
		}
	}
	for i, r := range f.Reclaimable {
		if !layerIndex(img, r.Layer) || !layerIndex(img, r.ByLayer) {
			return fmt.Errorf("reclaimable item %d: layer %d or %d is not a layer of image %d", i, r.Layer, r.ByLayer, f.Image)
		}
		switch r.Why {
		case ReclaimSuperseded, ReclaimDeleted:
		default:
			return fmt.Errorf("reclaimable item %d: unknown why %q", i, r.Why)
		}
	}
	for i, h := range f.Hints {
		for _, l := range h.Layers {
			if !layerIndex(img, l) {
				return fmt.Errorf("hint %d (%q): layer %d is not a layer of image %d", i, h.ID, l, f.Image)
			}
		}
	}
	return nil
}

func (d *DiffRecord) validate(images []ImageRecord) error {
	for _, i := range []int{d.ImageA, d.ImageB} {
		if i < 0 || i >= len(images) {
			return fmt.Errorf("image %d is not an image index", i)
		}
	}
	a, b := images[d.ImageA], images[d.ImageB]
	for i, e := range d.Entries {
		var wantA, wantB bool
		switch e.Change {
		case ChangeAdded:
			wantB = true
		case ChangeRemoved:
			wantA = true
		case ChangeChanged:
			wantA, wantB = true, true
		default:
			return fmt.Errorf("entry %d (%q): unknown change %q", i, e.Path, e.Change)
		}
		if (e.A != nil) != wantA || (e.B != nil) != wantB {
			return fmt.Errorf("entry %d (%q): a %s path needs %s", i, e.Path, e.Change, map[string]string{
				ChangeAdded: "b and no a", ChangeRemoved: "a and no b", ChangeChanged: "both a and b",
			}[e.Change])
		}
		for _, side := range []struct {
			name string
			info *FileInfoRecord
			img  ImageRecord
		}{{"a", e.A, a}, {"b", e.B, b}} {
			if side.info == nil {
				continue
			}
			if !slices.Contains(FileTypes, side.info.Type) {
				return fmt.Errorf("entry %d (%q) %s: unknown type %q", i, e.Path, side.name, side.info.Type)
			}
			if !layerIndex(side.img, side.info.Layer) {
				return fmt.Errorf("entry %d (%q) %s: layer %d is not a layer of its image", i, e.Path, side.name, side.info.Layer)
			}
		}
		for _, f := range e.Fields {
			if !slices.Contains(DiffFields, f) {
				return fmt.Errorf("entry %d (%q): unknown field %q", i, e.Path, f)
			}
		}
	}
	return nil
}

func (t *TrendRecord) validate(images int) error {
	if !slices.Contains(TrendOrders, t.Order) {
		return fmt.Errorf("unknown order %q", t.Order)
	}
	for _, s := range t.Series {
		for _, p := range s.Points {
			if !inRange(&p.Image, images) {
				return fmt.Errorf("point %q: image %d is not an image index", p.Label, p.Image)
			}
		}
	}
	return nil
}

func (p *PackagesRecord) validate(images []ImageRecord) error {
	if p.Image < 0 || p.Image >= len(images) {
		return fmt.Errorf("image %d is not an image index", p.Image)
	}
	img := images[p.Image]
	for i, r := range p.Packages {
		if !slices.Contains(PackageKinds, r.Kind) {
			return fmt.Errorf("package %d (%q): unknown kind %q", i, r.Name, r.Kind)
		}
		for _, l := range r.Layers {
			if !layerIndex(img, l.Layer) {
				return fmt.Errorf("package %d (%q): layer %d is not a layer of image %d", i, r.Name, l.Layer, p.Image)
			}
		}
	}
	for _, l := range p.Unowned.Layers {
		if !layerIndex(img, l.Layer) {
			return fmt.Errorf("unowned: layer %d is not a layer of image %d", l.Layer, p.Image)
		}
	}
	return nil
}
