package settings

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// MaxMetricsBuckets bounds the duration histogram's size.
const MaxMetricsBuckets = 30

// ValidOTLPEndpoint accepts an http:// or https:// URL with a host.
func ValidOTLPEndpoint(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == ""
}

// ValidBuckets is the rule of --metrics-buckets: at most MaxMetricsBuckets positive,
// finite bounds in seconds, ascending.
func ValidBuckets(bs []float64) error {
	if len(bs) > MaxMetricsBuckets {
		return fmt.Errorf("at most %d buckets", MaxMetricsBuckets)
	}
	for i, b := range bs {
		if b <= 0 || math.IsInf(b, 0) || math.IsNaN(b) {
			return fmt.Errorf("each bound must be a positive number of seconds (+Inf is implied)")
		}
		if i > 0 && b <= bs[i-1] {
			return fmt.Errorf("bounds must be ascending")
		}
	}
	return nil
}

// ParseBuckets is the one parser of --metrics-buckets: comma-separated seconds.
func ParseBuckets(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number of seconds", strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	if err := ValidBuckets(out); err != nil {
		return nil, err
	}
	return out, nil
}

// FormatBuckets is ParseBuckets' spelling of bs.
func FormatBuckets(bs []float64) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = strconv.FormatFloat(b, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
