package observe

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

func TestSemconvAttributes(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "CONNECT": "CONNECT", "get": "_OTHER", "PROPFIND": "_OTHER", "": "GET"} {
		if got := SemconvMethod(in); got != want {
			t.Errorf("SemconvMethod(%q) = %s, want %s", in, got, want)
		}
	}
	for _, c := range []struct {
		major, minor int
		want         string
	}{{1, 1, "1.1"}, {1, 0, "1.0"}, {2, 0, "2"}, {3, 0, "3"}} {
		if got := ProtocolVersion(c.major, c.minor); got != c.want {
			t.Errorf("ProtocolVersion(%d, %d) = %s, want %s", c.major, c.minor, got, c.want)
		}
	}
}

var getItems = Attrs{Method: "GET", Status: 200, Route: "/items/{id}", Scheme: "http", Proto: "1.1"}

func TestRequestMetricsObserveAndEncode(t *testing.T) {
	m := NewRequestMetrics([]float64{0.01, 0.1, 1})
	post := Attrs{Method: "POST", Status: 503, Route: "/items", Scheme: "https", Proto: "2"}
	m.Observe(getItems, 0, 100, 5*time.Millisecond, "")                                                    // bucket 0
	m.Observe(getItems, 0, 50, 10*time.Millisecond, "0af7651916cd43dd8448eb211c80319c")                    // bucket 0: le is inclusive
	m.Observe(post, 30, 0, 50*time.Millisecond, "")                                                        // bucket 1
	m.Observe(Attrs{Method: "_OTHER", Status: 404, Scheme: "http", Proto: "1.1"}, 0, 7, 2*time.Second, "") // +Inf, no route
	active := m.Begin("GET", "http")
	s := m.Snapshot()
	if s.RequestCount() != 4 || s.Errors5xx() != 1 {
		t.Errorf("requests %d, 5xx %d", s.RequestCount(), s.Errors5xx())
	}
	if want := []uint64{2, 1, 0, 1}; !reflect.DeepEqual(s.DurationBuckets(), want) {
		t.Errorf("buckets = %v, want %v", s.DurationBuckets(), want)
	}
	var got Series
	for _, r := range s.Series {
		if r.Attrs == getItems {
			got = r
		}
	}
	if got.Duration.Count() != 2 || got.ResponseSize.Sum != 150 || got.Duration.Sum < 0.0149 || got.Duration.Sum > 0.0151 {
		t.Errorf("GET series: %+v", got)
	}
	if len(got.Exemplars) != 4 || got.Exemplars[0].TraceID != "0af7651916cd43dd8448eb211c80319c" || got.Exemplars[0].Value != 0.01 || got.Exemplars[1].TraceID != "" {
		t.Errorf("exemplars: %+v", got.Exemplars)
	}
	if len(s.Active) != 1 || s.Active[0].N != 1 {
		t.Errorf("active: %+v", s.Active)
	}
	active.Add(-1)
	if s.Goroutines < 1 || s.HeapBytes <= 0 {
		t.Errorf("runtime gauges not read: goroutines %d heap %d", s.Goroutines, s.HeapBytes)
	}
	line := s.Encode()
	if strings.ContainsAny(line, "\n\r") {
		t.Errorf("encoded line %q: must be one line", line)
	}
	back, err := DecodeMetrics(line, 3)
	if err != nil {
		t.Fatalf("decode(%q): %v", line, err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, s)
	}
	if _, err := DecodeMetrics(line, 4); !errors.Is(err, errBadMetrics) {
		t.Errorf("a report with other buckets than the master's: %v", err)
	}
}

// Past MaxSeries, new attribute sets are counted under one overflow route.
func TestRequestMetricsBoundsSeries(t *testing.T) {
	m := NewRequestMetrics(DefaultMetricsBuckets)
	for i := range MaxSeries + 50 {
		m.Observe(Attrs{Method: "GET", Status: 200, Route: "/r" + strconv.Itoa(i), Scheme: "http", Proto: "1.1"}, 0, 0, time.Millisecond, "")
	}
	s := m.Snapshot()
	if len(s.Series) != MaxSeries+1 || s.RequestCount() != MaxSeries+50 {
		t.Errorf("%d series, %d requests", len(s.Series), s.RequestCount())
	}
}

func TestDecodeMetricsRefusesGarbage(t *testing.T) {
	for _, line := range []string{"garbage", `{"h":[{"m":"GET","d":{"c":[1]}}]}`, `{"h":5}`} {
		if _, err := DecodeMetrics(line, 3); !errors.Is(err, errBadMetrics) {
			t.Errorf("DecodeMetrics(%q) err = %v, want errBadMetrics", line, err)
		}
	}
}

func snap(n uint64) MetricsSnapshot {
	s := MetricsSnapshot{Goroutines: 10}
	s.Series = []Series{{Attrs: getItems, Duration: Histogram{Counts: []uint64{n, 0, 0, 0}, Sum: 0.001 * float64(n)},
		RequestSize: Histogram{Counts: make([]uint64, len(SizeBuckets)+1)}, ResponseSize: Histogram{Counts: make([]uint64, len(SizeBuckets)+1)}}}
	return s
}

func sampleView() MetricsView {
	tot := snap(1000)
	tot.Add(MetricsSnapshot{Series: []Series{{Attrs: getItems, Duration: Histogram{Counts: []uint64{0, 200, 30, 4}, Sum: 29.5},
		Exemplars: []Exemplar{{}, {TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Value: 0.05, Time: 1764578000250000000}, {}, {}}}}})
	tot.Add(MetricsSnapshot{Series: []Series{{Attrs: Attrs{Method: "POST", Status: 503, Scheme: "http", Proto: "1.1"}, Duration: Histogram{Counts: []uint64{3, 0, 0, 0}}}}})
	tot.Active = []Active{{Method: "GET", Scheme: "http", N: 3}}
	tot.GCCycles = 17
	tot.Add(MetricsSnapshot{Spans: &SpanCounts{Exported: 90, Failed: 7, QueueFull: 3}})
	tot.HeapBytes = 3 << 20
	return MetricsView{Bounds: []float64{0.01, 0.1, 1}, Totals: tot,
		States: map[string]int{"booting": 0, "ready": 2, "draining": 1}, Target: 2, Generation: 3, Starts: 5,
		Exits: map[string]uint64{string(supervisor.ExitKilled): 1, string(supervisor.ExitReload): 2}, Reloads: map[string]uint64{"complete": 2},
		Upgrades: map[string]uint64{}, Decisions: map[[2]string]uint64{{supervisor.CanaryRollback, supervisor.ReasonErrors}: 2}, RSSSum: 30 << 20, RSSMax: 16 << 20, AgeMin: 1.5, AgeMax: 60,
		StartTime: time.Unix(1764578000, 500000000), Backlog: []BacklogSample{{Listener: "127.0.0.1:8000", Queued: 3, Limit: 4096}}}
}

func TestExposition(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExposition(&b, sampleView(), false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	const get = `http_request_method="GET",http_response_status_code="200",http_route="/items/{id}",network_protocol_version="1.1",url_scheme="http"`
	for _, want := range []string{
		"# TYPE http_server_request_duration_seconds histogram\n",
		`http_server_request_duration_seconds_bucket{` + get + `,le="0.01"} 1000` + "\n",
		`http_server_request_duration_seconds_bucket{` + get + `,le="0.1"} 1200` + "\n",
		`http_server_request_duration_seconds_bucket{` + get + `,le="1"} 1230` + "\n",
		`http_server_request_duration_seconds_bucket{` + get + `,le="+Inf"} 1234` + "\n",
		`http_server_request_duration_seconds_sum{` + get + `} 30.5` + "\n",
		`http_server_request_duration_seconds_count{` + get + `} 1234` + "\n",
		// no route matched: no http_route label, never the path
		`http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="503",network_protocol_version="1.1",url_scheme="http"} 3` + "\n",
		`http_server_active_requests{http_request_method="GET",url_scheme="http"} 3` + "\n",
		"# TYPE http_server_response_body_size_bytes histogram\n",
		`server_workers{phase="draining"} 1` + "\n",
		"# TYPE server_worker_exits_total counter\n",
		`server_worker_exits_total{reason="killed"} 1` + "\n",
		`server_worker_exits_total{reason="crash"} 0` + "\n",
		`server_reloads_total{outcome="abandoned"} 0` + "\n",
		`server_upgrades_total{outcome="handed_over"} 0` + "\n",
		"# TYPE server_reload_decisions_total counter\n",
		`server_reload_decisions_total{decision="rollback",reason="errors"} 2` + "\n",
		`server_reload_decisions_total{decision="promote",reason="healthy"} 0` + "\n",
		"server_start_time_seconds 1764578000.5\n",
		"server_generation 3\n",
		`server_listen_backlog{listener="127.0.0.1:8000"} 3` + "\n",
		`server_listen_backlog_limit{listener="127.0.0.1:8000"} 4096` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(out, "prefork_") || strings.Contains(out, "# {") || strings.Contains(out, "# EOF") {
		t.Errorf("the text format has old names, exemplars or an EOF:\n%s", out)
	}
}

// OpenMetrics: counters' families without _total, exemplars on the duration
// buckets, # EOF at the end.
func TestExpositionOpenMetrics(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExposition(&b, sampleView(), true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE server_worker_exits counter\n",
		`server_worker_exits_total{reason="killed"} 1` + "\n",
		`le="0.1"} 1200 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.05 1764578000.250` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("OpenMetrics lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "# EOF\n") || strings.Count(out, "# {") != 1 {
		t.Errorf("OpenMetrics: want one exemplar and # EOF last:\n%s", out)
	}
}

// promtool (Debian's prometheus package) lints the exposition: types,
// HELP, _total suffixes, units, histogram shape.
func TestExpositionPassesPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	for name, v := range map[string]MetricsView{"sample": sampleView(), "empty": {Bounds: DefaultMetricsBuckets, States: map[string]int{"ready": 0}}} {
		var b bytes.Buffer
		if err := WriteExposition(&b, v, false); err != nil {
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
			m.Observe(getItems, 0, 41, 30*time.Microsecond, "")
		}
	})
}

// http.server.active_requests has a series for each method and scheme once counted (a
// scheme other than http and https too), at zero once the requests ended.
func TestActiveRequests(t *testing.T) {
	m := NewRequestMetrics(DefaultMetricsBuckets)
	get, post := m.Begin("GET", "https"), m.Begin("POST", "http")
	other := m.Begin("_OTHER", "wss")
	m.Begin("GET", "https")
	get.Add(-1)
	post.Add(-1)
	got := map[activeKey]int64{}
	for _, a := range m.Snapshot().Active {
		got[activeKey{a.Method, a.Scheme}] = a.N
	}
	want := map[activeKey]int64{{"GET", "https"}: 1, {"POST", "http"}: 0, {"_OTHER", "wss"}: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("active %v, want %v", got, want)
	}
	if other != m.Begin("_OTHER", "wss") {
		t.Error("a scheme of its own got a second counter")
	}
}

// BenchmarkRequestMetricsBegin is what counting a request as active costs.
func BenchmarkRequestMetricsBegin(b *testing.B) {
	m := NewRequestMetrics(DefaultMetricsBuckets)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Begin("GET", "http").Add(-1)
		}
	})
}
