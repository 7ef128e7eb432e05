package prefork

import (
	"log/slog"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// The access log's and the metrics' defaults, as Config documents them.
const (
	DefaultAccessLogFormat               = observe.DefaultAccessLogFormat
	DefaultAccessLogBuffer               = observe.DefaultAccessLogBuffer
	DefaultAccessLogFlush  time.Duration = observe.DefaultAccessLogFlush
)

// DefaultMetricsBuckets are the request duration histogram's upper bounds in seconds
// (--metrics-buckets).
var DefaultMetricsBuckets = observe.DefaultMetricsBuckets

// DefaultMetricsOTLPInterval is how often the master pushes OTLP metrics
// (--metrics-otlp-interval).
const DefaultMetricsOTLPInterval = 10 * time.Second

// ParseSize is the one parser of byte sizes, for flags and for the configuration engine:
// a plain number of bytes, or a number with a unit, case-insensitive: KB, MB, GB, TB are
// powers of 1000; KiB, MiB, GiB, TiB and K, M, G, T powers of 1024 (settings.ParseSize).
func ParseSize(s string) (int64, error) { return settings.ParseSize(s) }

// ParseDuration is the one parser of durations, for flags and for the configuration
// engine: seconds as Gunicorn takes them ("30", "0.5") or a Go duration ("30s",
// "500ms"); never negative (settings.ParseDuration).
func ParseDuration(s string) (time.Duration, error) { return settings.ParseDuration(s) }

// DefaultCiphers is --ciphers' default: Mozilla's intermediate TLS 1.2 AEAD suites.
const DefaultCiphers = settings.DefaultCiphers

// ParseLevel is the one parser of log levels (settings.ParseLevel), for the
// configuration engine: debug, info, warning (or warn), error, critical, in any case;
// "" is info.
func ParseLevel(s string) (slog.Level, error) { return settings.ParseLevel(s) }
