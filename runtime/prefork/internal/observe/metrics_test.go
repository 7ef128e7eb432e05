package observe

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"

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
	m := NewRequestMetrics([]float64{0.01, 0.1, 1})
	m.Observe("GET", 200, 100, 5*time.Millisecond)     // bucket 0
	m.Observe("GET", 200, 50, 10*time.Millisecond)     // bucket 0: le is inclusive
	m.Observe("POST", 503, 0, 50*time.Millisecond)     // bucket 1
	m.Observe("BREW", 418, 7, 2*time.Second)           // +Inf
	m.Observe("DELETE", 204, 0, 1000*time.Millisecond) // bucket 2
	s := m.Snapshot()
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
	line := s.Encode()
	if strings.ContainsAny(line, "\n\r") || len(line) > 400 {
		t.Errorf("encoded line %q: must be one short line", line)
	}
	got, err := DecodeMetrics(line)
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
		_, err := DecodeMetrics(c.line)
		if (err == nil) != c.ok {
			t.Errorf("decodeMetrics(%q) err = %v, want ok=%v", c.line, err, c.ok)
		}
		if err != nil && !errors.Is(err, errBadMetrics) {
			t.Errorf("decodeMetrics(%q): error %v is not errBadMetrics", c.line, err)
		}
	}
}

func snap(get uint64, buckets ...uint64) MetricsSnapshot {
	var s MetricsSnapshot
	s.Requests[0][1] = get
	s.Buckets = buckets
	s.Goroutines = 10
	return s
}

func sampleView() MetricsView {
	tot := snap(1234, 1000, 200, 30, 4)
	tot.Requests[2][4] = 3
	tot.Requests[7][3] = 2
	tot.DurationNanos = uint64(61 * time.Second / 2)
	tot.ResponseBytes = 1 << 20
	tot.GCCycles = 17
	tot.HeapBytes = 3 << 20
	return MetricsView{Bounds: []float64{0.01, 0.1, 1}, Totals: tot, InFlight: 3,
		States: map[string]int{"booting": 0, "ready": 2, "draining": 1}, Target: 2, Generation: 3, Starts: 5,
		Exits: map[string]uint64{string(supervisor.ExitKilled): 1, string(supervisor.ExitReload): 2}, Reloads: map[string]uint64{"complete": 2},
		Upgrades: map[string]uint64{}, RSSSum: 30 << 20, RSSMax: 16 << 20, AgeMin: 1.5, AgeMax: 60,
		StartTime: time.Unix(1764578000, 500000000), Backlog: []BacklogSample{{Listener: "127.0.0.1:8000", Queued: 3, Limit: 4096}}}
}

func TestExposition(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExposition(&b, sampleView()); err != nil {
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
	for name, v := range map[string]MetricsView{"sample": sampleView(), "empty": {Bounds: DefaultMetricsBuckets, States: map[string]int{"ready": 0}}} {
		var b bytes.Buffer
		if err := WriteExposition(&b, v); err != nil {
			t.Fatal(err)
		}
		testenv.PromtoolCheck(t, promtool, name, b.Bytes())
	}
}

func TestAppendLabelValue(t *testing.T) {
	got := string(appendLabelValue(nil, "a\"b\\c\nd"))
	if want := `"a\"b\\c\nd"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// BenchmarkRequestMetricsObserve is what metrics add to each request.
func BenchmarkRequestMetricsObserve(b *testing.B) {
	m := NewRequestMetrics(DefaultMetricsBuckets)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe("GET", 200, 41, 30*time.Microsecond)
		}
	})
}
