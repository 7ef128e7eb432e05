package prefork

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// metricsDefaults applies the observability settings' defaults and
// validates them (called by productionDefaults).
func (c *Config) metricsDefaults() error {
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, settings.ErrInvalid)
	}
	if len(c.MetricsBuckets) == 0 {
		c.MetricsBuckets = slices.Clone(observe.DefaultMetricsBuckets)
	}
	if err := validBuckets(c.MetricsBuckets); err != nil {
		return bad("metrics-buckets", formatBuckets(c.MetricsBuckets), err.Error())
	}
	if c.MetricsBind != "" {
		if a, err := serving.ParseAddr(c.MetricsBind); err != nil || a.Network == "fd" {
			return bad("metrics-bind", c.MetricsBind, "must be host:port, [ipv6]:port or unix:/path")
		}
	}
	if long, rule := c.SettingsConflict(); rule != "" {
		return bad(long, c.SettingValue(long), rule)
	}
	if c.MetricsOTLPEndpoint != "" && !validOTLPEndpoint(c.MetricsOTLPEndpoint) {
		return bad("metrics-otlp-endpoint", c.MetricsOTLPEndpoint, "must be an http:// or https:// URL (the Collector's OTLP/HTTP base, e.g. http://127.0.0.1:4318)")
	}
	if c.MetricsOTLPInterval < 0 {
		return bad("metrics-otlp-interval", c.MetricsOTLPInterval, "must be positive")
	}
	if c.MetricsOTLPInterval == 0 {
		c.MetricsOTLPInterval = DefaultMetricsOTLPInterval
	}
	if c.StatsDHost != "" {
		if _, _, err := observe.ParseStatsDHost(c.StatsDHost); err != nil {
			return err
		}
	}
	if !observe.ValidStatsDTags(c.DogStatsDTags) || !observe.ValidStatsDTags(c.StatsDPrefix) {
		return bad("dogstatsd-tags/statsd-prefix", c.DogStatsDTags+" "+c.StatsDPrefix, `must not contain "|", "#", spaces or newlines`)
	}
	if c.AccessLogFlush < 0 {
		return bad("access-log-flush", c.AccessLogFlush, "must not be negative")
	}
	if c.AccessLogBuffer == 0 {
		c.AccessLogBuffer = observe.DefaultAccessLogBuffer
	}
	if c.AccessLogFlush == 0 {
		c.AccessLogFlush = observe.DefaultAccessLogFlush
	}
	return nil
}

// SettingsConflict is the first rule between settings that c breaks: the long
// flag of the setting it names and the rule ("", "" when none). withDefaults and
// config.yaml's validation both check it, so the rule is written once.
func (c Config) SettingsConflict() (long, rule string) {
	if c.MetricsBind != "" && slices.Contains(c.Bind, c.MetricsBind) {
		return "metrics-bind", "must not be one of the app's --bind addresses"
	}
	return "", ""
}

func validBuckets(bs []float64) error {
	if len(bs) > observe.MaxMetricsBuckets {
		return fmt.Errorf("at most %d buckets", observe.MaxMetricsBuckets)
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

func parseBuckets(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number of seconds", strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	if err := validBuckets(out); err != nil {
		return nil, err
	}
	return out, nil
}

func formatBuckets(bs []float64) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = strconv.FormatFloat(b, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
