package config

import (
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Option changes how Load and Parse read a config file.
type Option func(*parser)

// WithLookupEnv sets where ${VAR} references take their values from;
// the default is the process environment (os.LookupEnv). A CI runner
// sets CI_COMMIT_SHA, SERVICE and the like; tests set their own.
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(p *parser) { p.lookup = lookup }
}

// maxExpanded bounds a value after expansion: an environment variable
// can hold megabytes, and no image reference or budget needs more.
const maxExpanded = 4 << 10

// expand replaces ${VAR} and ${VAR:-default} in every scalar value of the
// tree (keys are left as written: a key that changes with the environment
// would be a different file). $${ stands for a literal ${. A variable that
// is not set, with no default, is an error naming its line: a budget or an
// image that silently became "" would check the wrong thing. As in the
// shell, ":-" takes the default when the variable is unset or empty.
func (p *parser) expand(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return nil
		}
		v, err := p.expandString(n)
		if err != nil {
			return err
		}
		n.Value = v
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := p.expand(n.Content[i]); err != nil {
				return err
			}
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			if err := p.expand(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) expandString(n *yaml.Node) (string, error) {
	lookup := p.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	s := n.Value
	var b strings.Builder
	for {
		i := strings.Index(s, "$")
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			s = s[i+3:]
			continue
		case s[i+1] != '{':
			// $VAR without braces is left as written: image references
			// and sizes never hold a $, so only the braced form expands.
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", p.errorf(n.Line, "%q: ${ without a closing } (write $${ for a literal ${)", n.Value)
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validVarName(name) {
			return "", p.errorf(n.Line, "${%s}: not a variable name (letters, digits and _, not starting with a digit; a default is written ${NAME:-default})", expr)
		}
		val, ok := lookup(name)
		switch {
		case hasDef && val == "":
			val = def
		case !ok:
			return "", p.errorf(n.Line, "${%s} is not set (set it, or give a default: ${%s:-value})", name, name)
		}
		b.WriteString(val)
		if b.Len() > maxExpanded {
			return "", p.errorf(n.Line, "the value is over %d KiB once ${%s} is expanded", maxExpanded>>10, name)
		}
	}
	return b.String(), nil
}

func validVarName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
