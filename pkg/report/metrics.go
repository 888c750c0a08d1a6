package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/layers"
)

// Metrics writes a check run in the OpenMetrics text format, as GitLab's
// metrics report (artifacts:reports:metrics) reads it and shows it in the
// merge request beside the target branch's values: per image (and
// platform), its compressed and uncompressed bytes and layer count, the
// growth against its baseline, and whether every budget held (1) or not
// (0). A figure that is not known is left out, never written as 0; an image
// that could not be read has only its imgsize_check_passed 0.
func Metrics(w io.Writer, run *analysis.CheckRun) error {
	if err := validRun(run); err != nil {
		return err
	}
	var b strings.Builder
	type family struct{ name, help, unit string }
	families := []family{
		{"imgsize_compressed_bytes", "Compressed size: what a pull transfers and a registry stores (for an index, every blob once).", "bytes"},
		{"imgsize_uncompressed_bytes", "Uncompressed size: the layers' tar streams.", "bytes"},
		{"imgsize_layers", "Number of layers.", ""},
		{"imgsize_growth_bytes", "Growth against the baseline, on the growth budget's basis.", "bytes"},
		{"imgsize_check_passed", "1 when the image was read and every budget held, else 0.", ""},
	}
	// One sample per family and label set, as OpenMetrics requires: an
	// image listed twice (two entries of a config) has the same figures,
	// and passed only if both checks passed.
	samples := map[string]*metricFamily{}
	for _, f := range families {
		samples[f.name] = &metricFamily{values: map[string]int64{}}
	}
	for _, ic := range run.Images {
		labels := `image="` + metricLabel(ic.Arg) + `"`
		if ic.Platform != "" {
			labels += `,platform="` + metricLabel(ic.Platform) + `"`
		}
		if ic.Index != nil {
			labels += `,platform="index"`
		}
		add := func(name string, s layers.Size) {
			if s.Known() {
				samples[name].set(labels, s.Bytes)
			}
		}
		switch {
		case ic.Image != nil:
			add("imgsize_compressed_bytes", ic.Image.Compressed)
			add("imgsize_uncompressed_bytes", ic.Image.Uncompressed)
			samples["imgsize_layers"].set(labels, int64(len(ic.Image.Layers)))
		case ic.Index != nil:
			add("imgsize_compressed_bytes", ic.Index.Stored)
		}
		for _, r := range checkedResults(ic) {
			if r.Budget == analysis.MaxGrowth && r.Growth != nil && r.Growth.Known {
				samples["imgsize_growth_bytes"].set(labels, r.Growth.Bytes)
			}
		}
		passed := int64(0)
		if ic.Passed() {
			passed = 1
		}
		p := samples["imgsize_check_passed"]
		if v, ok := p.values[labels]; ok {
			passed = min(passed, v)
		}
		p.set(labels, passed)
	}
	for _, f := range families {
		fam := samples[f.name]
		if len(fam.order) == 0 {
			continue
		}
		b.WriteString("# TYPE " + f.name + " gauge\n")
		if f.unit != "" {
			b.WriteString("# UNIT " + f.name + " " + f.unit + "\n")
		}
		b.WriteString("# HELP " + f.name + " " + f.help + "\n")
		for _, labels := range fam.order {
			b.WriteString(f.name + "{" + labels + "} " + strconv.FormatInt(fam.values[labels], 10) + "\n")
		}
	}
	b.WriteString("# EOF\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// metricFamily holds one family's samples by label set, in first-seen
// order.
type metricFamily struct {
	order  []string
	values map[string]int64
}

func (f *metricFamily) set(labels string, v int64) {
	if _, ok := f.values[labels]; !ok {
		f.order = append(f.order, labels)
	}
	f.values[labels] = v
}

// metricLabel escapes a label value as OpenMetrics requires, and drops
// control characters, so an image reference cannot break the file.
func metricLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
