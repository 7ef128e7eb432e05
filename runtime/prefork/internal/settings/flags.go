package settings

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rules of the settings kept as text (see value.go for the flag values):
// each takes a flag's text and gives the field, or an error stating the rule.

// checkBind is --bind's rule for one address.
func checkBind(s string) error {
	if _, err := ParseAddr(s); err != nil {
		return errors.Unwrap(err)
	}
	return nil
}

// ParseDuration is the one parser of durations, for flags and for the configuration
// engine: seconds as Gunicorn takes them ("30", "0.5") or a Go duration ("30s",
// "500ms"); never negative. The error states the rule only.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || secs > math.MaxInt64/float64(time.Second) {
			return 0, errors.New("must be a non-negative number of seconds")
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("must be seconds (e.g. 30, 0.5) or a Go duration (e.g. 30s, 500ms)")
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// parseLevel is --log-level: kept as given once it names a level.
func parseLevel(s string) (string, error) {
	if _, err := ParseLogLevel(s); err != nil {
		return "", errors.New("must be one of debug, info, warning, error, critical")
	}
	return s, nil
}

// parseTrusted is a list of trusted peers; "" is Gunicorn's empty list, trust
// no IP, kept as "none" (the zero value means the default).
func parseTrusted(s string) (string, error) {
	if _, err := ParsePeers(s); err != nil {
		return "", errors.New(TrimPkg(err))
	}
	if s == "" {
		s = "none"
	}
	return s, nil
}

// octal keeps one spelling of a mode ("0660" for 660, 0660 or 0o660); "" leaves it
// unset (the default), as config.yaml's empty value means.
func octal(name string, max uint64) func(string) (string, error) {
	return func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		m, err := ParseOctalMode(name, s, max)
		if err != nil {
			return "", errors.New(TrimPkg(err))
		}
		return fmt.Sprintf("%04o", m), nil
	}
}

// parseListenAddr is a master's own listener: host:port or unix:/path; "" is
// off, as config.yaml's empty value means.
func parseListenAddr(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	a, err := ParseAddr(s)
	if err != nil {
		return "", errors.Unwrap(err)
	}
	if a.Network == "fd" {
		return "", errors.New("must be host:port or unix:/path")
	}
	return s, nil
}

// checkPath is a file path: anything but a line break or a NUL byte.
func checkPath(s string) error {
	if strings.ContainsAny(s, "\n\x00") {
		return errors.New("must be a path (no line break or NUL byte)")
	}
	return nil
}

// checkOTLPEndpoint refuses anything but an http(s) URL; "" is off.
func checkOTLPEndpoint(s string) error {
	if s != "" && !ValidOTLPEndpoint(s) {
		return errors.New("must be an http:// or https:// URL (the Collector's OTLP/HTTP base, e.g. http://127.0.0.1:4318)")
	}
	return nil
}

// choice takes one of a fixed set of words (case-insensitive), kept lower-case.
func choice(choices ...string) func(string) (string, error) {
	return func(s string) (string, error) {
		v := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(choices, v) {
			return "", errors.New("must be one of " + strings.Join(choices, ", "))
		}
		return v, nil
	}
}

// TrimPkg drops the "prefork: " prefix: the flag package names the flag itself.
func TrimPkg(err error) string {
	s := err.Error()
	if len(s) > 9 && s[:9] == "prefork: " {
		return s[9:]
	}
	return s
}

// Seconds is a duration in its flag's spelling: seconds, 0 for off (negative).
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(max(d, 0).Seconds(), 'f', -1, 64)
}

// limit is a limit in its flag's spelling: 0 for none (negative).
func limit(n int) string {
	return strconv.Itoa(max(n, 0))
}

// exactSize spells a size so that it parses back to the same number of bytes: the
// largest binary unit that divides it, else bytes ("512MiB", "1000000000").
func exactSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
