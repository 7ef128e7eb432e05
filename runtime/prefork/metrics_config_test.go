package prefork

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

func TestMetricsConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"defaults", Config{}, ""},
		{"metrics tcp", Config{Values: Values{MetricsBind: "127.0.0.1:9100"}}, ""},
		{"metrics unix", Config{Values: Values{MetricsBind: "unix:/run/x/metrics.sock"}}, ""},
		{"metrics fd", Config{Values: Values{MetricsBind: "fd://3"}}, "metrics-bind"},
		{"metrics bad", Config{Values: Values{MetricsBind: "9100"}}, "metrics-bind"},
		{"metrics on the app's listener", Config{Values: Values{Bind: []string{"127.0.0.1:8000"}, MetricsBind: "127.0.0.1:8000"}}, "must not be one of the app's"},
		{"buckets descending", Config{Values: Values{MetricsBuckets: []float64{1, 0.5}}}, "ascending"},
		{"buckets zero", Config{Values: Values{MetricsBuckets: []float64{0}}}, "positive"},
		{"statsd host only", Config{Values: Values{StatsDHost: "localhost"}}, ""},
		{"statsd unix", Config{Values: Values{StatsDHost: "unix:///run/statsd.sock"}}, ""},
		{"statsd bad port", Config{Values: Values{StatsDHost: "localhost:99999"}}, "statsd-host"},
		{"statsd empty unix", Config{Values: Values{StatsDHost: "unix:"}}, "statsd-host"},
		{"tags with pipe", Config{Values: Values{DogStatsDTags: "a:b|c"}}, "dogstatsd-tags"},
		{"negative flush", Config{Values: Values{AccessLogFlush: -time.Second}}, "access-log-flush"},
	} {
		_, err := c.cfg.withDefaults()
		if c.err == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, settings.ErrInvalid)) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.err)
		}
	}
	c, err := Config{}.withDefaults()
	if err != nil || !reflect.DeepEqual(c.MetricsBuckets, observe.DefaultMetricsBuckets) || c.AccessLogBuffer != observe.DefaultAccessLogBuffer || c.AccessLogFlush != observe.DefaultAccessLogFlush {
		t.Errorf("defaults: %v %v %d %s", err, c.MetricsBuckets, c.AccessLogBuffer, c.AccessLogFlush)
	}
}
