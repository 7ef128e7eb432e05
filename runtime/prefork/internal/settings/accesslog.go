package settings

import (
	"fmt"
	"net/http"
	"strings"
)

// accessLogFormatJSON selects one JSON object per line instead of atoms.
const accessLogFormatJSON = "json"

// IsJSONAccessLogFormat reports whether format selects JSON lines ("json", any case).
func IsJSONAccessLogFormat(format string) bool {
	return strings.EqualFold(strings.TrimSpace(format), accessLogFormatJSON)
}

// CheckAccessLogFormat is the rule of --access-logformat: "json" or Gunicorn's atoms.
func CheckAccessLogFormat(format string) error {
	if IsJSONAccessLogFormat(format) {
		return nil
	}
	_, err := ParseAccessLogFormat(format)
	return err
}

// LogAtom is one piece of a parsed access log format: literal text or a %(x)s atom.
type LogAtom struct {
	Literal string
	Code    byte   // 0 for a literal
	Header  string // canonical header name for i/o atoms
}

// ParseAccessLogFormat is the one parser of access log formats (Gunicorn's atoms,
// "%(h)s %(r)s ..."): the format as literal text and atoms.
func ParseAccessLogFormat(format string) ([]LogAtom, error) {
	var atoms []LogAtom
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			atoms = append(atoms, LogAtom{Literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(format) || format[i+1] != '(' {
			return nil, fmt.Errorf("prefork: access log format %q: '%%' at offset %d must start an atom like %%(h)s (write %%%% for a percent sign)", format, i)
		}
		end := strings.Index(format[i:], ")s")
		if end < 0 {
			return nil, fmt.Errorf("prefork: access log format %q: atom at offset %d is not closed with \")s\"", format, i)
		}
		name := format[i+2 : i+end]
		i += end + 1
		flush()
		at, err := parseAtom(name)
		if err != nil {
			return nil, fmt.Errorf("prefork: access log format %q: %w", format, err)
		}
		atoms = append(atoms, at)
	}
	flush()
	return atoms, nil
}

func parseAtom(name string) (LogAtom, error) {
	if len(name) > 3 && name[0] == '{' && name[len(name)-2] == '}' {
		kind, h := name[len(name)-1], name[1:len(name)-2]
		if kind == 'i' || kind == 'o' {
			return LogAtom{Code: kind, Header: http.CanonicalHeaderKey(h)}, nil
		}
	}
	if name == "trace_id" { // the request's trace (SetTraceID), beside %({X-Request-Id}i)s
		return LogAtom{Code: 'x'}, nil
	}
	if len(name) == 1 && strings.IndexByte("hlutrmUqHsBbfapTMDL", name[0]) >= 0 {
		return LogAtom{Code: name[0]}, nil
	}
	return LogAtom{}, fmt.Errorf("unknown atom %%(%s)s (known: h l u t r m U q H s B b f a p T M D L trace_id {Header}i {Header}o)", name)
}
