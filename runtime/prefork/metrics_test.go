package prefork

import (
	"bytes"
	"errors"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
	"math"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

func TestClasses(t *testing.T) {
	for _, c := range []struct {
		method string
		want   string
	}{{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"DELETE", "DELETE"}, {"get", "other"}, {"PROPFIND", "other"}, {"", "other"}} {
		if got := methodClasses[methodClass(c.method)]; got != c.want {
			t.Errorf("methodClass(%q) = %s, want %s", c.method, got, c.want)
		}
	}
	for _, c := range []struct {
		code int
		want string
	}{{100, "1xx"}, {101, "1xx"}, {200, "2xx"}, {204, "2xx"}, {304, "3xx"}, {404, "4xx"}, {499, "4xx"}, {500, "5xx"}, {599, "5xx"}, {0, "5xx"}, {600, "5xx"}, {99, "5xx"}} {
		if got := statusClasses[statusClass(c.code)]; got != c.want {
			t.Errorf("statusClass(%d) = %s, want %s", c.code, got, c.want)
		}
	}
}

func TestRequestMetricsObserveAndEncode(t *testing.T) {
	m := newRequestMetrics([]float64{0.01, 0.1, 1})
	m.observe("GET", 200, 100, 5*time.Millisecond)     // bucket 0
	m.observe("GET", 200, 50, 10*time.Millisecond)     // bucket 0: le is inclusive
	m.observe("POST", 503, 0, 50*time.Millisecond)     // bucket 1
	m.observe("BREW", 418, 7, 2*time.Second)           // +Inf
	m.observe("DELETE", 204, 0, 1000*time.Millisecond) // bucket 2
	s := m.snapshot()
	if s.Requests[0][1] != 2 || s.Requests[2][4] != 1 || s.Requests[7][3] != 1 || s.Requests[5][1] != 1 {
		t.Errorf("requests = %v", s.Requests)
	}
	if want := []uint64{2, 1, 1, 1}; !reflect.DeepEqual(s.Buckets, want) {
		t.Errorf("buckets = %v, want %v", s.Buckets, want)
	}
	if s.ResponseBytes != 157 || s.DurationNanos != uint64(3065*time.Millisecond) {
		t.Errorf("bytes %d, duration %d", s.ResponseBytes, s.DurationNanos)
	}
	if s.Goroutines < 1 || s.HeapBytes <= 0 {
		t.Errorf("runtime gauges not read: goroutines %d heap %d", s.Goroutines, s.HeapBytes)
	}
	line := s.encode()
	if strings.ContainsAny(line, "\n\r") || len(line) > 400 {
		t.Errorf("encoded line %q: must be one short line", line)
	}
	got, err := decodeMetrics(line)
	if err != nil {
		t.Fatalf("decode(%q): %v", line, err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, s)
	}
}

func TestDecodeMetrics(t *testing.T) {
	for _, c := range []struct {
		line string
		ok   bool
	}{
		{"r= b=0,0 d=0 o=0 gc=0 g=1 h=2", true},
		{"r=0.1:5,7.4:1 b=5,1 d=10 o=3 gc=1 g=4 h=100 future=9", true}, // unknown keys are ignored
		{"r=8.1:5 b=1", false},                                         // method class out of range
		{"r=0.5:5 b=1", false},                                         // status class out of range
		{"r=0.1:-5 b=1", false},                                        // negative count
		{"r=0.1 b=1", false},                                           // no count
		{"b=1,x", false},                                               // bad bucket
		{"d=abc", false},                                               // bad number
		{"garbage", false},                                             // no key=value
		{"b=" + strings.Repeat("1,", 40) + "1", false},                 // too many buckets
	} {
		_, err := decodeMetrics(c.line)
		if (err == nil) != c.ok {
			t.Errorf("decodeMetrics(%q) err = %v, want ok=%v", c.line, err, c.ok)
		}
		if err != nil && !errors.Is(err, errBadMetrics) {
			t.Errorf("decodeMetrics(%q): error %v is not errBadMetrics", c.line, err)
		}
	}
}

func snap(get uint64, buckets ...uint64) metricsSnapshot {
	var s metricsSnapshot
	s.Requests[0][1] = get
	s.Buckets = buckets
	s.Goroutines = 10
	return s
}

// The sums never go backwards: a worker's last report is kept when it
// exits (graceful, crash or SIGKILL), and its replacement counts from 0.
func TestMetricsAggMonotonicAcrossWorkerReplacement(t *testing.T) {
	a := newMetricsAgg()
	var last uint64
	check := func(step string, want uint64, goroutines int64) {
		t.Helper()
		tot := a.totals()
		n := tot.requestCount()
		if n != want {
			t.Errorf("%s: total %d, want %d", step, n, want)
		}
		if n < last {
			t.Errorf("%s: total went back from %d to %d", step, last, n)
		}
		if tot.Goroutines != goroutines {
			t.Errorf("%s: goroutines %d, want %d (live workers only)", step, tot.Goroutines, goroutines)
		}
		last = n
	}
	a.update(1, snap(10, 10, 0))
	a.update(2, snap(5, 4, 1))
	check("two workers", 15, 20)
	a.update(1, snap(12, 12, 0))
	check("worker 1 reports again", 17, 20)
	a.retire(1) // exits (its final report came first)
	check("worker 1 exited", 17, 10)
	a.update(3, snap(0, 0, 0)) // its replacement starts from zero
	check("replacement booted", 17, 20)
	a.update(3, snap(4, 4, 0))
	a.retire(2) // SIGKILLed: the last report is what it served, as far as we know
	check("worker 2 killed", 21, 10)
	a.retire(2) // reaped twice cannot count twice
	a.retire(99)
	check("unknown retire", 21, 10)
	if b := a.totals().Buckets; !reflect.DeepEqual(b, []uint64{20, 1}) {
		t.Errorf("buckets %v, want [20 1]", b)
	}
}

func sampleView() metricsView {
	tot := snap(1234, 1000, 200, 30, 4)
	tot.Requests[2][4] = 3
	tot.Requests[7][3] = 2
	tot.DurationNanos = uint64(61 * time.Second / 2)
	tot.ResponseBytes = 1 << 20
	tot.GCCycles = 17
	tot.HeapBytes = 3 << 20
	return metricsView{Bounds: []float64{0.01, 0.1, 1}, Totals: tot, InFlight: 3,
		States: map[string]int{"booting": 0, "ready": 2, "draining": 1}, Target: 2, Generation: 3, Starts: 5,
		Exits: map[string]uint64{string(supervisor.ExitKilled): 1, string(supervisor.ExitReload): 2}, Reloads: map[string]uint64{"complete": 2},
		Upgrades: map[string]uint64{}, RSSSum: 30 << 20, RSSMax: 16 << 20, AgeMin: 1.5, AgeMax: 60,
		StartTime: time.Unix(1764578000, 500000000), Backlog: []backlogSample{{Listener: "127.0.0.1:8000", Queued: 3, Limit: 4096}}}
}

func TestExposition(t *testing.T) {
	var b bytes.Buffer
	if err := writeExposition(&b, sampleView()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE prefork_http_requests_total counter\n",
		`prefork_http_requests_total{method="GET",code="2xx"} 1234` + "\n",
		`prefork_http_requests_total{method="POST",code="5xx"} 3` + "\n",
		`prefork_http_requests_total{method="other",code="4xx"} 2` + "\n",
		`prefork_http_requests_total{method="PUT",code="5xx"} 0` + "\n", // 5xx always present: alerts need a series
		"# TYPE prefork_http_request_duration_seconds histogram\n",
		`prefork_http_request_duration_seconds_bucket{le="0.01"} 1000` + "\n",
		`prefork_http_request_duration_seconds_bucket{le="0.1"} 1200` + "\n",
		`prefork_http_request_duration_seconds_bucket{le="1"} 1230` + "\n",
		`prefork_http_request_duration_seconds_bucket{le="+Inf"} 1234` + "\n",
		"prefork_http_request_duration_seconds_sum 30.5\n",
		"prefork_http_request_duration_seconds_count 1234\n",
		`prefork_workers{state="draining"} 1` + "\n",
		`prefork_worker_exits_total{reason="killed"} 1` + "\n",
		`prefork_worker_exits_total{reason="crash"} 0` + "\n",
		`prefork_reloads_total{outcome="abandoned"} 0` + "\n",
		`prefork_upgrades_total{outcome="handed_over"} 0` + "\n",
		"prefork_master_start_time_seconds 1764578000.5\n",
		"prefork_generation 3\n",
		`prefork_listen_backlog{listener="127.0.0.1:8000"} 3` + "\n",
		`prefork_listen_backlog_limit{listener="127.0.0.1:8000"} 4096` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(out, `code="3xx"} 0`) {
		t.Errorf("zero series outside 5xx are left out, got:\n%s", out)
	}
}

// promtool (Debian's prometheus package) lints the exposition: types,
// HELP, _total suffixes, units, histogram shape.
func TestExpositionPassesPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	for name, v := range map[string]metricsView{"sample": sampleView(), "empty": {Bounds: DefaultMetricsBuckets, States: map[string]int{"ready": 0}}} {
		var b bytes.Buffer
		if err := writeExposition(&b, v); err != nil {
			t.Fatal(err)
		}
		promtoolCheck(t, promtool, name, b.Bytes())
	}
}

func promtoolCheck(t *testing.T, promtool, name string, exposition []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics (%s): %v\n%s\nexposition:\n%s", name, err, out, exposition)
	}
}

func TestAppendLabelValue(t *testing.T) {
	got := string(appendLabelValue(nil, "a\"b\\c\nd"))
	if want := `"a\"b\\c\nd"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMetricsConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"defaults", Config{}, ""},
		{"metrics tcp", Config{MetricsBind: "127.0.0.1:9100"}, ""},
		{"metrics unix", Config{MetricsBind: "unix:/run/x/metrics.sock"}, ""},
		{"metrics fd", Config{MetricsBind: "fd://3"}, "metrics-bind"},
		{"metrics bad", Config{MetricsBind: "9100"}, "metrics-bind"},
		{"metrics on the app's listener", Config{Bind: []string{"127.0.0.1:8000"}, MetricsBind: "127.0.0.1:8000"}, "must not be one of the app's"},
		{"buckets descending", Config{MetricsBuckets: []float64{1, 0.5}}, "ascending"},
		{"buckets zero", Config{MetricsBuckets: []float64{0}}, "positive"},
		{"statsd host only", Config{StatsDHost: "localhost"}, ""},
		{"statsd unix", Config{StatsDHost: "unix:///run/statsd.sock"}, ""},
		{"statsd bad port", Config{StatsDHost: "localhost:99999"}, "statsd-host"},
		{"statsd empty unix", Config{StatsDHost: "unix:"}, "statsd-host"},
		{"tags with pipe", Config{DogStatsDTags: "a:b|c"}, "dogstatsd-tags"},
		{"negative flush", Config{AccessLogFlush: -time.Second}, "access-log-flush"},
	} {
		_, err := c.cfg.withDefaults()
		if c.err == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errInvalid)) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.err)
		}
	}
	c, err := Config{}.withDefaults()
	if err != nil || !reflect.DeepEqual(c.MetricsBuckets, DefaultMetricsBuckets) || c.AccessLogBuffer != DefaultAccessLogBuffer || c.AccessLogFlush != DefaultAccessLogFlush {
		t.Errorf("defaults: %v %v %d %s", err, c.MetricsBuckets, c.AccessLogBuffer, c.AccessLogFlush)
	}
}

func TestParseBuckets(t *testing.T) {
	if bs, err := parseBuckets("0.1, 0.5,2"); err != nil || !reflect.DeepEqual(bs, []float64{0.1, 0.5, 2}) {
		t.Errorf("parseBuckets: %v %v", bs, err)
	}
	for _, bad := range []string{"", "a", "1,1", "-1", "+Inf", strings.Repeat("1,", 30) + "1"} {
		if _, err := parseBuckets(bad); err == nil {
			t.Errorf("parseBuckets(%q) accepted", bad)
		}
	}
}

func TestQuantileBound(t *testing.T) {
	bounds := []float64{0.01, 0.1, 1}
	inf := math.Inf(1)
	for _, c := range []struct {
		q       float64
		buckets []uint64
		want    float64
	}{
		{0.5, []uint64{0, 0, 0, 0}, 0},
		{0.5, []uint64{10, 0, 0, 0}, 0.01},
		{0.99, []uint64{10, 0, 0, 0}, 0.01},
		{0.5, []uint64{0, 10, 0, 0}, 0.1},
		{0.99, []uint64{90, 9, 1, 0}, 0.1}, // rank 99 ends the second bucket
		{0.99, []uint64{90, 8, 2, 0}, 1},
		{0.99, []uint64{50, 0, 0, 50}, inf}, // above the highest bound
		{0.5, []uint64{1, 1, 1, 1}, 0.1},
		{1, []uint64{3, 0, 1, 0}, 1}, // empty buckets are skipped
	} {
		if got := quantileBound(c.q, bounds, c.buckets); got != c.want {
			t.Errorf("quantileBound(%v, %v) = %v, want %v", c.q, c.buckets, got, c.want)
		}
	}
	if millisBound(inf) != -1 || millisBound(0.0025) != 2.5 {
		t.Error("millisBound")
	}
}

func TestStatusTableShowsMetrics(t *testing.T) {
	st := Status{PID: 1, Started: time.Now(), Workers: []WorkerReport{
		{ID: 1, State: "ready", Metrics: true, RequestsPerSecond: 123.45, P50Millis: 2.5, P99Millis: 1000, Errors5xx: 3}, {ID: 3, State: "ready", Metrics: true, P99Millis: -1},
		{ID: 2, State: "booting"},
	}}
	var b bytes.Buffer
	if err := st.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"REQ/S", "P50", "P99", "5XX", "123.5", "<=2.5ms", "<=1s", ">max"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// BenchmarkRequestMetricsObserve is what metrics add to each request.
func BenchmarkRequestMetricsObserve(b *testing.B) {
	m := newRequestMetrics(DefaultMetricsBuckets)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe("GET", 200, 41, 30*time.Microsecond)
		}
	})
}
