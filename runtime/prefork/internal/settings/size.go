package settings

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseByteSize parses a memory size for --max-worker-memory: a plain
// number of bytes ("536870912"), or a number with a unit, case-insensitive:
// KB, MB, GB, TB are powers of 1000 (SI); KiB, MiB, GiB, TiB and the
// single letters K, M, G, T are powers of 1024 (like docker and the JVM).
// Fractions are allowed ("1.5GiB"). "0" or "" means no limit.
func ParseByteSize(s string) (int64, error) {
	n, err := ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("prefork: invalid size %q: %w", s, err)
	}
	return n, nil
}

// ParseSize is the one parser of byte sizes, for flags and for the configuration
// engine: a plain number of bytes ("1048576"), or a number with a unit, case-insensitive:
// KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB and K, M, G, T powers of 1024.
// Fractions are allowed ("1.5GiB"); "" is 0. The error states the rule only.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, nil
	}
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	if num == "" {
		return 0, errors.New("must be a number of bytes, optionally with a unit (e.g. 512MiB, 1GB)")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", num)
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", strings.TrimSpace(in[i:]))
	}
	bytes := v * mult
	if bytes >= math.MaxInt64 {
		return 0, errors.New("too large")
	}
	return int64(bytes), nil
}
