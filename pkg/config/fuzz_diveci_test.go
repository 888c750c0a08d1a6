package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// diveErrorRE is the shape of every error ParseDiveCI returns: the file's
// name, a line, and one line of text.
var diveErrorRE = regexp.MustCompile(`^fuzz\.dive-ci:([0-9]+): [^\n]+$`)

// FuzzDiveCI feeds arbitrary bytes to ParseDiveCI, the reader of dive's
// .dive-ci. Whatever the bytes:
//   - an error wraps errdefs.ErrUsage and is one line "NAME:LINE: ..."
//     naming a line of the file;
//   - settings it accepts hold dive's three rules and nothing else, no
//     ratio is NaN, no byte count negative, and they survive a round trip:
//     written back as a .dive-ci (each rule's value, or disabled) they
//     parse to the same settings.
func FuzzDiveCI(f *testing.F) {
	for _, s := range []string{
		"",
		"rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n",
		"rules:\n  LOWESTEFFICIENCY: disabled\n  highestwastedbytes: 5M\n",
		"rules:\n  lowestEfficiency: 5e-1\n  highestWastedBytes: 1Ki\n  highestUserWastedPercent: 0x1p-1\n",
		"rules:\n  highestWastedBytes: 2,000\n",
		"other: 1\nrules:\n  highestWastedBytes: 1MiB\n  somethingNew: 3\n",
		"rules:\n  lowestEfficiency: 90%\n",
		"rules: [1, 2]\n",
		"rules:\n  highestWastedBytes: [1]\n",
		"rules:\n  lowestEfficiency: &a 0.5\n  highestUserWastedPercent: *a\n",
		"Rules:\n  highestWastedBytes: 9223372036854775807\n",
		"rules:\n  lowestEfficiency: .nan\n",
		"- a\n",
		"rules:\r\n  highestUserWastedPercent: 1e400\r\n",
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseDiveCI("fuzz.dive-ci", data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("error %q does not wrap errdefs.ErrUsage", err)
			}
			m := diveErrorRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error %q is not one line starting fuzz.dive-ci:LINE: ", err)
			}
			if line, _ := strconv.Atoi(m[1]); line < 1 || line > max(lastLine(data), 1) {
				t.Errorf("error %q names line %d of a file of %d", err, line, lastLine(data))
			}
			return
		}
		dive := Settings{LowestEfficiency: s.LowestEfficiency, HighestUserWastedPercent: s.HighestUserWastedPercent, HighestWastedBytes: s.HighestWastedBytes}
		if diff := cmp.Diff(dive, s); diff != "" {
			t.Errorf("settings beyond dive's three rules (-want +got):\n%s", diff)
		}
		for name, r := range map[string]*float64{"lowestEfficiency": s.LowestEfficiency, "highestUserWastedPercent": s.HighestUserWastedPercent} {
			if r != nil && math.IsNaN(*r) {
				t.Errorf("%s is NaN", name)
			}
		}
		if b := s.HighestWastedBytes; b != nil && *b < 0 {
			t.Errorf("highestWastedBytes = %d", *b)
		}
		if b := s.HighestWastedBytes; b != nil && *b > 1<<53 {
			// A float64 carries dive's byte figures: above 2^53 the
			// round trip may round.
			return
		}
		again, err := ParseDiveCI("fuzz.dive-ci", []byte(diveCIOf(s)))
		if err != nil {
			t.Fatalf("settings %s written back do not parse: %v\nfile:\n%s", fmtSettings(s), err, diveCIOf(s))
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Errorf("round trip through\n%s\nchanged the settings (-first +second):\n%s", diveCIOf(s), diff)
		}
	})
}

// diveCIOf writes settings as a .dive-ci: each rule's value, or disabled.
func diveCIOf(s Settings) string {
	ratio := func(p *float64) string {
		if p == nil {
			return "disabled"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	bytes := "disabled"
	if s.HighestWastedBytes != nil {
		bytes = strconv.FormatInt(*s.HighestWastedBytes, 10)
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	fmt.Fprintf(&b, "  lowestEfficiency: %s\n", ratio(s.LowestEfficiency))
	fmt.Fprintf(&b, "  highestWastedBytes: %s\n", bytes)
	fmt.Fprintf(&b, "  highestUserWastedPercent: %s\n", ratio(s.HighestUserWastedPercent))
	return b.String()
}

func fmtSettings(s Settings) string {
	str := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	b := "nil"
	if s.HighestWastedBytes != nil {
		b = strconv.FormatInt(*s.HighestWastedBytes, 10)
	}
	return fmt.Sprintf("{lowestEfficiency %s, highestWastedBytes %s, highestUserWastedPercent %s}", str(s.LowestEfficiency), b, str(s.HighestUserWastedPercent))
}
