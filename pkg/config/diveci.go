package config

import (
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DiveCIPath is where dive looks for its CI rules.
const DiveCIPath = ".dive-ci"

// The defaults dive applies to a rule its file does not mention (dive's
// CI evaluator): a .dive-ci read here judges what dive would judge.
var diveDefaults = map[string]string{
	"lowestefficiency":         "0.9",
	"highestwastedbytes":       "disabled",
	"highestuserwastedpercent": "0.1",
}

// LoadDiveCI reads dive's CI rules file as it is, into settings for the
// three rules it defines: lowestEfficiency, highestWastedBytes and
// highestUserWastedPercent, under "rules:" (keys in any case, as dive's
// configuration library reads them). A rule the file does not mention takes
// dive's default (0.9, disabled, 0.1); "disabled" turns one off. Keys dive
// does not know are ignored, as dive ignores them. Errors name the file and
// line and wrap errdefs.ErrUsage.
func LoadDiveCI(path string) (Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		return Settings{}, readError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Settings{}, readError(path, err)
	}
	return ParseDiveCI(path, data)
}

// ParseDiveCI is LoadDiveCI on the file's contents; name is used in
// messages.
func ParseDiveCI(name string, data []byte) (Settings, error) {
	p := &parser{name: name, last: lastLine(data)}
	root, err := p.decode(data)
	if err != nil {
		return Settings{}, err
	}
	values := map[string]string{}
	lines := map[string]int{}
	if root != nil {
		if err := p.noAliases(root); err != nil {
			return Settings{}, err
		}
		if root.Kind != yaml.MappingNode {
			return Settings{}, p.errorf(root.Line, "expected dive's CI rules (rules: with lowestEfficiency, highestWastedBytes, highestUserWastedPercent), found %s", describe(root))
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			if !strings.EqualFold(k.Value, "rules") || isNull(v) {
				continue
			}
			if v.Kind != yaml.MappingNode {
				return Settings{}, p.errorf(v.Line, "rules: expected a mapping of dive's rules, found %s", describe(v))
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				rk, rv := strings.ToLower(v.Content[j].Value), v.Content[j+1]
				if _, known := diveDefaults[rk]; !known {
					continue
				}
				if rv.Kind != yaml.ScalarNode || isNull(rv) {
					return Settings{}, p.errorf(rv.Line, "%s: expected a value or disabled, found %s", v.Content[j].Value, describe(rv))
				}
				values[rk], lines[rk] = diveString(rv), rv.Line
			}
		}
	}
	var s Settings
	for key, def := range diveDefaults {
		text, given := values[key]
		if !given {
			text = def
		}
		// dive compares with "disabled" exactly; any other spelling is a
		// value its parser then refuses.
		if text == "disabled" {
			continue
		}
		var err error
		switch key {
		case "lowestefficiency":
			s.LowestEfficiency, err = parsePtr(text, parseDiveRatio)
		case "highestuserwastedpercent":
			s.HighestUserWastedPercent, err = parsePtr(text, parseDiveRatio)
		case "highestwastedbytes":
			s.HighestWastedBytes, err = parsePtr(text, parseDiveBytes)
		}
		if err != nil {
			return Settings{}, p.errorf(lines[key], "%s: %v", diveName[key], err)
		}
	}
	return s, nil
}

var diveName = map[string]string{
	"lowestefficiency":         "lowestEfficiency",
	"highestwastedbytes":       "highestWastedBytes",
	"highestuserwastedpercent": "highestUserWastedPercent",
}

// diveString is a value as dive's configuration library hands it to the
// rules: a YAML number formatted back as Go formats a float64 ("2e3" is
// "2000", "5e-1" is "0.5"), anything else as written.
func diveString(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return n.Value
}

// parseDiveRatio reads a ratio as dive does (strconv.ParseFloat): "0.9",
// "5e-1"; not "90%", which dive refuses as misconfigured.
func parseDiveRatio(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, usagef("%q is not a number dive reads (write a ratio such as 0.9, or disabled)", s)
	}
	return f, nil
}

// diveByteUnits are the units dive's byte parser (go-humanize's
// ParseBytes) knows, lower-cased; a bare number is bytes.
var diveByteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1e15, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1e18, "ei": 1 << 60, "eib": 1 << 60,
}

// parseDiveBytes reads highestWastedBytes as dive does: a number of
// digits, dots and commas (commas dropped), then an optional SI or IEC
// unit in any case ("20MB", "1Ki", "2,000"), truncated to whole bytes.
func parseDiveBytes(s string) (int64, error) {
	end := strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.' || r == ',') })
	if end < 0 {
		end = len(s)
	}
	num := strings.ReplaceAll(s[:end], ",", "")
	f, err := strconv.ParseFloat(num, 64)
	unit, known := diveByteUnits[strings.ToLower(strings.TrimSpace(s[end:]))]
	if err != nil || !known || f*unit >= math.MaxInt64 {
		return 0, usagef("%q is not a size dive reads (write one such as 20MB or 1MiB, or disabled)", s)
	}
	return int64(f * unit), nil
}
