package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imgsize/imgsize/pkg/layers"
)

// Inspect writes the sizes of imgs: for each image its identity, its totals
// and a table of its layers, in the format opts names.
func Inspect(w io.Writer, imgs []*layers.Image, opts Options) error {
	f, err := opts.format()
	if err != nil {
		return err
	}
	for i, img := range imgs {
		if img == nil {
			return fmt.Errorf("inspect report: image %d is nil", i)
		}
	}
	switch f {
	case JSON:
		return writeJSON(w, inspectDocument(imgs, opts))
	case HTML:
		return writeHTML(w, inspectDocument(imgs, opts))
	case CSV:
		if opts.History {
			return historyCSV(w, imgs)
		}
		return inspectCSV(w, imgs)
	case Markdown:
		return inspectMarkdown(w, imgs, opts)
	default:
		return inspectText(w, imgs, opts)
	}
}

// field is one labelled value of a header or totals line.
type field struct{ label, value string }

// imageView is what the table and Markdown formats show of one image.
type imageView struct {
	title  string
	ident  []field // name, digest, platform, media type
	totals []field // sizes and counts
	layers grid
	legend []string
}

func newImageView(img *layers.Image, opts Options) imageView {
	var lg legend
	v := imageView{title: img.Ref}
	if v.title == "" {
		v.title = img.Name
	}
	name := img.Name
	if name == v.title {
		name = "" // said already
	}
	v.ident = nonEmpty(
		field{"Name", name},
		field{"Digest", manifestDigest(img)},
		field{"Image ID", hashString(img.ConfigDigest)},
		field{"Platform", platformString(img.Platform)},
		field{"Media type", string(img.MediaType)},
		field{"Recorded", recordedString(img.Recorded)},
	)
	v.totals = []field{
		{"Compressed", lg.size(img.Compressed, "compressed", opts.Binary)},
		{"Uncompressed", lg.size(img.Uncompressed, "uncompressed", opts.Binary)},
		{"Layers", strconv.Itoa(len(img.Layers))},
		{"Config", configSize(img, &lg, opts.Binary)},
		{"Manifest", manifestSize(img, opts.Binary)},
	}
	v.layers = grid{columns: []column{
		{header: "#", align: right},
		{header: "DIGEST", code: true},
		{header: "COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "RELATIVE", bar: true},
		{header: "CREATED BY", code: true},
	}}
	// The bar shows each layer against the largest, compressed where the
	// image's compressed sizes are known, else uncompressed.
	barSize := func(l layers.Layer) layers.Size { return l.Compressed }
	if !img.Compressed.Known() {
		barSize = func(l layers.Layer) layers.Size { return l.Uncompressed }
	}
	var most int64
	for _, l := range img.Layers {
		if s := barSize(l); s.Known() {
			most = max(most, s.Bytes)
		}
	}
	for i, l := range img.Layers {
		v.layers.add(
			strconv.Itoa(i),
			shortDigest(hashString(l.Digest)),
			lg.size(l.Compressed, "compressed", opts.Binary),
			lg.size(l.Uncompressed, "uncompressed", opts.Binary),
			knownBar(barSize(l), most),
			createdBy(l.CreatedBy),
		)
	}
	if opts.History && img.History != nil {
		v.layers = historyGrid(img, &lg, opts)
	}
	v.legend = lg.Lines()
	if opts.History && img.History == nil {
		v.legend = append(v.legend, "no history: the source gives none, so the layers are listed")
	}
	if opts.History && slices.ContainsFunc(img.History, func(s layers.Step) bool { return s.Empty }) {
		v.legend = append(v.legend, "0 B without # and digest: an empty step (ENV, WORKDIR, CMD…) that made no layer")
	}
	if opts.History && historyUnaligned(img) {
		v.legend = append(v.legend, "the history's steps that made layers do not number the layers, so no step is tied to a layer")
	}
	return v
}

// historyGrid lists every step of img's history oldest first, each step
// that made a layer with that layer's figures and every empty step with
// 0 B, as `docker history` shows them.
func historyGrid(img *layers.Image, lg *legend, opts Options) grid {
	g := grid{columns: []column{
		{header: "#", align: right},
		{header: "DIGEST", code: true},
		{header: "COMPRESSED", align: right},
		{header: "UNCOMPRESSED", align: right},
		{header: "CREATED"},
		{header: "CREATED BY", code: true},
	}}
	zero := FormatBytes(0, opts.Binary)
	for _, s := range img.History {
		index, digest, c, u := "", "", "", ""
		switch {
		case s.Layer >= 0 && s.Layer < len(img.Layers):
			l := img.Layers[s.Layer]
			index, digest = strconv.Itoa(s.Layer), shortDigest(hashString(l.Digest))
			c, u = lg.size(l.Compressed, "compressed", opts.Binary), lg.size(l.Uncompressed, "uncompressed", opts.Binary)
		case s.Empty:
			c, u = zero, zero
		}
		g.add(index, digest, c, u, createdDate(s), createdBy(s.CreatedBy))
	}
	return g
}

func createdDate(s layers.Step) string {
	if s.Created.IsZero() {
		return ""
	}
	return s.Created.UTC().Format("2006-01-02 15:04")
}

func historyUnaligned(img *layers.Image) bool {
	for _, s := range img.History {
		if !s.Empty && s.Layer < 0 {
			return true
		}
	}
	return false
}

// knownBar is bar for a size that may be unknown (no bar then).
func knownBar(s layers.Size, most int64) string {
	if !s.Known() {
		return ""
	}
	return bar(s.Bytes, most)
}

// configSize is the config's size, or the unknown mark and its reason
// when the source did not hand the config out (an engine image).
func configSize(img *layers.Image, lg *legend, binary bool) string {
	if img.ConfigUnknown != "" {
		return lg.size(layers.Size{Provenance: layers.Unknown, Reason: img.ConfigUnknown}, "config", binary)
	}
	return FormatBytes(img.ConfigSize, binary)
}

func nonEmpty(fs ...field) []field {
	out := fs[:0]
	for _, f := range fs {
		if f.value != "" {
			out = append(out, f)
		}
	}
	return out
}

// joinFields prints fields as "Label: value" pairs two spaces apart.
func joinFields(fs []field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.label + ": " + f.value
	}
	return strings.Join(parts, "  ")
}

func inspectText(w io.Writer, imgs []*layers.Image, opts Options) error {
	ew := textWriter(w, opts)
	for i, img := range imgs {
		if i > 0 {
			ew.line("")
		}
		writeImageText(ew, newImageView(img, opts))
	}
	return ew.err
}

func writeImageText(ew *errWriter, v imageView) {
	ew.fields(append([]field{{"Image", v.title}}, v.ident...))
	ew.fields(v.totals)
	ew.line("")
	ew.grid(&v.layers)
	ew.legend(v.legend)
}

func inspectMarkdown(w io.Writer, imgs []*layers.Image, opts Options) error {
	ew := &errWriter{w: w}
	for i, img := range imgs {
		if i > 0 {
			ew.line("")
		}
		writeImageMarkdown(ew, newImageView(img, opts))
	}
	return ew.err
}

func writeImageMarkdown(ew *errWriter, v imageView) {
	ew.mdHeader("## Image "+mdCode(v.title), v.ident, v.totals)
	ew.markdown(&v.layers)
	ew.mdLegend(v.legend)
}

// inspectHeader is the CSV header of an inspect report: one row per layer.
// platform is the image's (os/arch[/variant]), last so that the earlier
// columns keep their places.
var inspectHeader = []string{
	"image", "name", "digest_image", "layer_index", "layer_digest", "diff_id", "media_type",
	"compressed_bytes", "compressed_provenance", "uncompressed_bytes", "uncompressed_provenance",
	"created_by", "platform",
}

func inspectCSV(w io.Writer, imgs []*layers.Image) error {
	cw := newCSVWriter(w)
	if err := cw.Write(inspectHeader); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	for _, img := range imgs {
		for i, l := range img.Layers {
			err := cw.Write([]string{
				img.Ref, img.Name, hashString(img.Digest),
				strconv.Itoa(i), hashString(l.Digest), hashString(l.DiffID), string(l.MediaType),
				csvBytes(l.Compressed), csvProvenance(l.Compressed),
				csvBytes(l.Uncompressed), csvProvenance(l.Uncompressed),
				l.CreatedBy, platformString(img.Platform),
			})
			if err != nil {
				return fmt.Errorf("writing CSV report: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	return nil
}

// historyHeader is the CSV header of inspect --history: one row per step.
var historyHeader = []string{
	"image", "name", "digest_image", "step", "empty_layer", "layer_index", "layer_digest",
	"compressed_bytes", "compressed_provenance", "uncompressed_bytes", "uncompressed_provenance",
	"created", "created_by", "platform",
}

func historyCSV(w io.Writer, imgs []*layers.Image) error {
	rw := newRowWriter(w, historyHeader)
	zero := layers.Size{Provenance: layers.Exact}
	for _, img := range imgs {
		for i, s := range img.History {
			index, digest := "", ""
			var c, u layers.Size
			switch {
			case s.Layer >= 0 && s.Layer < len(img.Layers):
				l := img.Layers[s.Layer]
				index, digest, c, u = strconv.Itoa(s.Layer), hashString(l.Digest), l.Compressed, l.Uncompressed
			case s.Empty:
				c, u = zero, zero
			default:
				c = layers.Size{Provenance: layers.Unknown}
				u = c
			}
			created := ""
			if !s.Created.IsZero() {
				created = s.Created.UTC().Format(time.RFC3339)
			}
			rw.write([]string{
				img.Ref, img.Name, hashString(img.Digest), strconv.Itoa(i), strconv.FormatBool(s.Empty), index, digest,
				csvBytes(c), csvProvenance(c), csvBytes(u), csvProvenance(u), created, s.CreatedBy, platformString(img.Platform),
			})
		}
	}
	return rw.flush()
}

// csvBytes is s as a raw integer, or an empty cell when unknown.
func csvBytes(s layers.Size) string {
	if !s.Known() {
		return ""
	}
	return strconv.FormatInt(s.Bytes, 10)
}

func csvProvenance(s layers.Size) string {
	if s.Provenance == "" {
		return string(layers.Unknown)
	}
	return string(s.Provenance)
}

// errWriter writes lines until the first error and keeps it. Each line
// passes through Terminal: whatever outside text it holds, it stays one
// line and no control reaches the terminal.
//
// For a terminal (textWriter), lines are also fitted to its width and
// coloured; see terminal.go.
type errWriter struct {
	w   io.Writer
	err error
	// width, when above 0, is the terminal's: lines wrap at words and
	// tables shorten their long cells to fit it.
	width int
	color bool
}

// textWriter is the errWriter of the table format, fitted to the
// terminal opts describe.
func textWriter(w io.Writer, opts Options) *errWriter {
	return &errWriter{w: w, width: opts.Width, color: opts.Color}
}

func (e *errWriter) line(s string) {
	for _, l := range wrapWords(Terminal(s), e.width) {
		e.raw(l)
	}
}

// raw writes a line already made safe and fitted.
func (e *errWriter) raw(l string) {
	if e.err != nil {
		return
	}
	if e.color {
		l = colorize(l)
	}
	_, e.err = io.WriteString(e.w, l+"\n")
}

// fields writes "Label: value" fields, as many to a line as fit.
func (e *errWriter) fields(fs []field) {
	safe := make([]field, len(fs))
	for i, f := range fs {
		safe[i] = field{Terminal(f.label), Terminal(f.value)}
	}
	for _, l := range packFields(safe, e.width) {
		e.raw(l)
	}
}

func (e *errWriter) grid(g *grid) {
	if e.err != nil {
		return
	}
	var buf strings.Builder
	if e.err = g.writeTextFit(&buf, e.width); e.err != nil {
		return
	}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		e.raw(l)
	}
}

func (e *errWriter) markdown(g *grid) {
	if e.err == nil {
		e.err = g.writeMarkdown(e.w)
	}
}

func (e *errWriter) legend(lines []string) {
	for _, l := range lines {
		e.line(l)
	}
}

// mdHeader writes a Markdown heading, then identity fields (values in
// code spans) and totals as a list, and a blank line.
func (e *errWriter) mdHeader(heading string, ident, totals []field) {
	e.line(heading)
	e.line("")
	for _, f := range ident {
		e.line("- " + f.label + ": " + mdCode(f.value))
	}
	for _, f := range totals {
		e.line("- " + f.label + ": " + mdText(f.value))
	}
	e.line("")
}

func (e *errWriter) mdLegend(lines []string) {
	if len(lines) == 0 {
		return
	}
	e.line("")
	for _, l := range lines {
		e.line("- " + mdText(l))
	}
}

// manifestDigest names the manifest digest, or says there is none: a
// docker-archive stores no manifest, and the one imgsize makes to read it
// has a digest no registry would show.
func manifestDigest(img *layers.Image) string {
	if img.SyntheticManifest {
		return "none (" + img.Transport + " stores no manifest)"
	}
	return hashString(img.Digest)
}

func manifestSize(img *layers.Image, binary bool) string {
	if img.SyntheticManifest {
		return "none"
	}
	return FormatBytes(img.ManifestSize, binary)
}

// recordedString says where figures read from a saved report were
// measured, so they are not mistaken for this run's.
func recordedString(r *layers.Recorded) string {
	if r == nil {
		return ""
	}
	s := "in " + r.Path
	if r.Ref != "" {
		s += " as " + r.Ref
	}
	if r.Generator != "" {
		s += " by " + strings.TrimSpace(r.Generator+" "+r.Version)
	}
	if !r.Time.IsZero() {
		s += " at " + r.Time.UTC().Format(time.RFC3339)
	}
	return s + "; not re-measured"
}
