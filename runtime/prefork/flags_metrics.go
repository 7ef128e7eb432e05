package prefork

import (
	"errors"
	"flag"
)

// registerMetricsFlags registers the observability flags, with Gunicorn's
// names where Gunicorn has the setting (statsd).
func (c *Config) registerMetricsFlags(fs *flag.FlagSet) {
	fs.Var(&stringFlag{p: &c.MetricsBind}, "metrics-bind", "serve Prometheus metrics of all workers from the master at http://ADDR/metrics: host:port or unix:/path (default: off)")
	fs.Var(&bucketsFlag{p: &c.MetricsBuckets}, "metrics-buckets", "request duration histogram bounds in seconds, comma-separated (default 0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10)")
	fs.Var(&stringFlag{p: &c.StatsDHost}, "statsd-host", "send Gunicorn's StatsD metrics over UDP to host:port (or unix:/path)")
	fs.Var(&stringFlag{p: &c.StatsDPrefix}, "statsd-prefix", `prefix of every StatsD metric name (a "." is added)`)
	fs.Var(&stringFlag{p: &c.DogStatsDTags}, "dogstatsd-tags", "Datadog tags appended to every StatsD metric: tag1:value1,tag2:value2")
	fs.Var(&bufferFlag{p: &c.AccessLogBuffer}, "access-log-buffer", `access log buffer ("4KiB", bytes); 0 writes every line through (default 4096)`)
	fs.Var(&durationFlag{p: &c.AccessLogFlush}, "access-log-flush", "longest time a line waits in the access log buffer, seconds (default 1)")
}

type bucketsFlag struct{ p *[]float64 }

func (f *bucketsFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return formatBuckets(*f.p)
}

func (f *bucketsFlag) Set(s string) error {
	bs, err := parseBuckets(s)
	if err != nil {
		return err
	}
	*f.p = bs
	return nil
}

// bufferFlag maps 0 to write-through (-1), as Gunicorn maps 0 to off.
type bufferFlag struct{ p *int }

func (f *bufferFlag) String() string {
	if f == nil || f.p == nil || *f.p <= 0 {
		return "0"
	}
	return formatBytes(int64(*f.p))
}

func (f *bufferFlag) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return errors.New(trimPkg(err))
	}
	if n > 16<<20 {
		return errors.New("must be at most 16MiB")
	}
	if n == 0 {
		n = -1
	}
	*f.p = int(n)
	return nil
}
