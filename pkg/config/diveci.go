package config

import (
	"io"
	"os"
	"regexp"
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
				values[rk], lines[rk] = rv.Value, rv.Line
			}
		}
	}
	var s Settings
	for key, def := range diveDefaults {
		text, given := values[key]
		if !given {
			text = def
		}
		if strings.EqualFold(strings.TrimSpace(text), "disabled") {
			continue
		}
		var err error
		switch key {
		case "lowestefficiency":
			s.LowestEfficiency, err = parsePtr(text, ParseRatio)
		case "highestuserwastedpercent":
			s.HighestUserWastedPercent, err = parsePtr(text, ParseRatio)
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

// bareUnit is a size with a one-letter unit, which dive's byte parser
// (go-humanize) reads as SI: 20M is 20,000,000 bytes.
var bareUnit = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT])\s*$`)

// parseDiveBytes reads highestWastedBytes as dive does: sizes as
// ParseSize, and also with a bare SI letter ("20M").
func parseDiveBytes(s string) (int64, error) {
	if m := bareUnit.FindStringSubmatch(s); m != nil {
		return ParseSize(m[1] + strings.ToUpper(m[2]) + "B")
	}
	return ParseSize(s)
}
