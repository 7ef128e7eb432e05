package prefork

import (
	"fmt"
	"slices"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
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
	if err := settings.ValidBuckets(c.MetricsBuckets); err != nil {
		return bad("metrics-buckets", settings.FormatBuckets(c.MetricsBuckets), err.Error())
	}
	if c.MetricsBind != "" {
		if a, err := settings.ParseAddr(c.MetricsBind); err != nil || a.Network == "fd" {
			return bad("metrics-bind", c.MetricsBind, "must be host:port, [ipv6]:port or unix:/path")
		}
	}
	if long, rule := c.SettingsConflict(); rule != "" {
		return bad(long, c.SettingValue(long), rule)
	}
	if c.MetricsOTLPEndpoint != "" && !settings.ValidOTLPEndpoint(c.MetricsOTLPEndpoint) {
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
