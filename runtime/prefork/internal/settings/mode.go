package settings

import (
	"fmt"
	"strconv"
)

// ParseOctalMode parses a Gunicorn-style octal value ("0o660", "0660",
// "660", "022") for --umask and --bind-mode; max is the largest valid value.
func ParseOctalMode(flagName, s string, max uint64) (uint32, error) {
	t := s
	if len(t) > 2 && (t[:2] == "0o" || t[:2] == "0O") {
		t = t[2:]
	}
	v, err := strconv.ParseUint(t, 8, 32)
	if err != nil || v > max {
		return 0, fmt.Errorf("prefork: --%s %q: want an octal mode between 0 and %#o (e.g. 0660)", flagName, s, max)
	}
	return uint32(v), nil
}
