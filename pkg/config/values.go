package config

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/imgsize/imgsize/pkg/analysis"
	"github.com/imgsize/imgsize/pkg/errdefs"
)

// maxValueLen bounds the text of one value: the largest size is 19 digits,
// and a longer string would only make the exact arithmetic below slow.
const maxValueLen = 64

// decimal is a non-negative decimal number as people write it: no sign, no
// exponent, no digit separators, so that "1e3" or "0x10" cannot sneak in
// meaning something other than what a reader of the config sees.
const decimal = `(\d+(?:\.\d+)?|\.\d+)`

// The patterns are compiled on first use: package-level regexps are
// compiled before main by every run of imgsize, `imgsize version` included,
// and only runs given a size or a config file read one.
var (
	sizeRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + decimal + `[ \t]*([A-Za-z]*)$`) })
	decimalRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + decimal + `$`) })
)

// units maps a lower-cased unit to its multiplier. Case is ignored because
// nobody writing a budget means megabits by "Mb": every unit counts bytes.
var units = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

// ambiguous lists the bare prefixes other tools accept with differing
// meanings ("50M" is 50·10⁶ to some and 50·2²⁰ to others); they are
// refused with both readings spelled out rather than guessed.
var ambiguous = map[string][2]string{
	"k": {"kB", "KiB"}, "ki": {"kB", "KiB"},
	"m": {"MB", "MiB"}, "mi": {"MB", "MiB"},
	"g": {"GB", "GiB"}, "gi": {"GB", "GiB"},
	"t": {"TB", "TiB"}, "ti": {"TB", "TiB"},
}

const sizeForms = "write a number of bytes such as 1048576, or a number and a unit: kB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB powers of 1024"

// ParseSize reads a byte size: a number of bytes ("123", "123B"), or a
// number and a unit ("50MB", "50 MiB", "1.5GB"). kB, MB, GB and TB are
// powers of 1000; KiB, MiB, GiB and TiB powers of 1024; units ignore case.
// A fraction of a byte left after scaling is rounded to the nearest byte,
// halves up, so "1.0005kB" is 1001 bytes. Sizes are never negative and fit
// an int64. Errors wrap errdefs.ErrUsage.
func ParseSize(s string) (int64, error) {
	n, why := parseSize(s)
	switch {
	case why == "":
		return n, nil
	case why == notSize:
		return 0, usagef("%q is not a size (%s)", s, sizeForms)
	default:
		return 0, usagef("%q is not a size: %s", s, why)
	}
}

// notSize is parseSize's verdict on text that does not look like a size at
// all, as opposed to a size with a specific fault worth naming.
const notSize = "syntax"

// parseSize returns s in bytes, or why it is not a size: notSize, or a
// reason that applies wherever a size is written.
func parseSize(s string) (int64, string) {
	t := strings.TrimSpace(s)
	if len(t) > maxValueLen {
		return 0, "too long to be a size"
	}
	if strings.HasPrefix(t, "-") && sizeRE().MatchString(t[1:]) {
		return 0, "a size cannot be negative"
	}
	m := sizeRE().FindStringSubmatch(t)
	if m == nil {
		return 0, notSize
	}
	unit := strings.ToLower(m[2])
	mult, ok := units[unit]
	if !ok {
		if both, ok := ambiguous[unit]; ok {
			return 0, fmt.Sprintf("say %s (powers of 1000) or %s (powers of 1024)", both[0], both[1])
		}
		return 0, notSize
	}
	// Exact rational arithmetic: float64 holds 16 significant digits, so
	// "9223372036854775.807kB", exactly the int64 limit, would overflow.
	r, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, notSize
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	// Round half up: ⌊(2·num + den) / (2·den)⌋, all terms positive.
	num := new(big.Int).Lsh(r.Num(), 1)
	num.Add(num, r.Denom())
	den := new(big.Int).Lsh(r.Denom(), 1)
	n := num.Quo(num, den)
	if !n.IsInt64() {
		return 0, fmt.Sprintf("too large: sizes go up to %d bytes", int64(math.MaxInt64))
	}
	return n.Int64(), ""
}

// ParseGrowth reads a growth limit: a percentage of the baseline's size
// ("5%", "+5.5%") or a size as ParseSize reads it ("10MB", "+10MB"). A
// limit is the most an image may grow, so it is never negative; "0%" and
// "0" mean the image must not grow at all. Errors wrap errdefs.ErrUsage.
func ParseGrowth(s string) (analysis.Growth, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return analysis.Growth{}, usagef("%q is not a growth limit: it is the most an image may grow, so it cannot be negative", s)
	}
	t = strings.TrimPrefix(t, "+")
	if pct, ok := strings.CutSuffix(t, "%"); ok {
		pct = strings.TrimSpace(pct)
		if len(pct) <= maxValueLen && decimalRE().MatchString(pct) {
			if f, err := strconv.ParseFloat(pct, 64); err == nil {
				return analysis.Growth{Percent: true, Percentage: f}, nil
			}
		}
		return analysis.Growth{}, usagef("%q is not a growth limit (write a percentage of the baseline such as 5%% or a size such as 10MB)", s)
	}
	n, why := parseSize(t)
	switch {
	case why == "":
		return analysis.Growth{Bytes: n}, nil
	case why == notSize:
		return analysis.Growth{}, usagef("%q is not a growth limit (write 5%% or a size such as 10MB)", s)
	default:
		return analysis.Growth{}, usagef("%q is not a growth limit: %s", s, why)
	}
}

// ParseFraction reads the fraction of a limit at which a budget that holds
// is reported as near it: "90%" or "0.9" is 0.9. It must be above 0 and at
// most 1; "off", "none" and any zero ("0", "0%") give 0, which never warns.
// Errors wrap errdefs.ErrUsage.
func ParseFraction(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" || t == "none" {
		return 0, nil
	}
	if strings.HasPrefix(strings.TrimSpace(t), "-") {
		return 0, usagef("%q is not a fraction of a limit: it cannot be negative (write off never to warn)", s)
	}
	f, pct, num, ok := parsePortion(t)
	if !ok {
		return 0, usagef("%q is not a fraction of a limit (write a percentage such as 90%%, a fraction such as 0.9, or off)", s)
	}
	switch {
	case f <= 1:
		return f, nil
	case pct:
		return 0, usagef("%q is not a fraction of a limit: it must be at most 100%%", s)
	case f <= 100:
		return 0, usagef("%q is not a fraction of a limit: it must be at most 1 (for a percentage write %s%%)", s, num)
	default:
		return 0, usagef("%q is not a fraction of a limit: it must be at most 1", s)
	}
}

// ParseBasis reads the size a growth budget is judged on: "compressed" or
// "uncompressed", in any case. Errors wrap errdefs.ErrUsage.
func ParseBasis(s string) (analysis.Basis, error) {
	switch b := analysis.Basis(strings.ToLower(strings.TrimSpace(s))); b {
	case analysis.BasisCompressed, analysis.BasisUncompressed:
		return b, nil
	}
	return "", usagef("%q is not a growth basis (write %s or %s)", s, analysis.BasisCompressed, analysis.BasisUncompressed)
}

func usagef(format string, args ...any) error {
	return errdefs.UsageError(fmt.Errorf(format, args...))
}

// ParseRatio reads a ratio from 0 to 1, as dive's CI rules write
// efficiency and user-wasted figures: "0.9" or "90%". Errors wrap
// errdefs.ErrUsage.
func ParseRatio(s string) (float64, error) {
	f, _, _, ok := parsePortion(strings.ToLower(strings.TrimSpace(s)))
	if !ok {
		return 0, usagef("%q is not a ratio (write a fraction from 0 to 1 such as 0.9, or a percentage such as 90%%)", s)
	}
	if f > 1 {
		return 0, usagef("%q is not a ratio: it must be from 0 to 1 (or 0%% to 100%%)", s)
	}
	return f, nil
}

// parsePortion reads a non-negative decimal, or a percentage of one ("90%"
// is 0.9); num is the decimal as written, pct whether it was a percentage.
func parsePortion(t string) (f float64, pct bool, num string, ok bool) {
	num, pct = strings.CutSuffix(t, "%")
	num = strings.TrimSpace(num)
	if len(num) > maxValueLen || !decimalRE().MatchString(num) {
		return 0, pct, num, false
	}
	// Shifting the decimal point in the text, not dividing by 100, gives
	// "33.3%" the float64 nearest 0.333 rather than 33.3's error scaled.
	text := num
	if pct {
		text += "e-2"
	}
	f, err := strconv.ParseFloat(text, 64)
	return f, pct, num, err == nil
}
