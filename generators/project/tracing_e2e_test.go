package project

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// The caller's trace in the traceparent the tests send: trace ID and parent span ID.
const (
	callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID  = "00f067aa0ba902b7"
	traceparent   = "00-" + callerTraceID + "-" + callerSpanID + "-01"
)

// TestTracesReachARealCollector runs the production entry (the prefork master, 2 workers)
// with observability.endpoint at a real OpenTelemetry Collector and sampling 1.0, sends a
// routed request, a 404 and a request with a traceparent from a trusted proxy (127.0.0.1),
// stops the master (each worker flushes its spans as it exits), and reads the Collector's
// file export: one server span per request, named by its route, with the semantic
// conventions' route and status, and the caller's trace as the parent.
func TestTracesReachARealCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	col := testenv.StartCollector(t)
	dir, bin := buildProductionEntry(t, Options{Name: "traced"})
	spans := tracedRun(t, col, dir, bin, "127.0.0.1,::1")

	byPath := map[string][]testenv.Span{}
	for _, s := range spans {
		byPath[s.Attributes["url.path"]] = append(byPath[s.Attributes["url.path"]], s)
	}
	for _, c := range []struct {
		path, name, route, status string
	}{
		{"/healthz", "GET /healthz", "/healthz", "200"},
		{"/no/such/page", "GET", "", "404"},
		{"/api/hello", "GET /api/hello", "/api/hello", "200"},
	} {
		got := byPath[c.path]
		if len(got) != 1 {
			t.Errorf("%s: %d spans, want one: %+v", c.path, len(got), got)
			continue
		}
		s := got[0]
		if s.Name != c.name || s.Attributes["http.route"] != c.route || s.Attributes["http.response.status_code"] != c.status {
			t.Errorf("%s: span %q, http.route %q, status %q; want %q, %q, %q", c.path, s.Name, s.Attributes["http.route"], s.Attributes["http.response.status_code"], c.name, c.route, c.status)
		}
		if s.Kind != 2 || s.Attributes["http.request.method"] != "GET" || s.Attributes["url.scheme"] != "http" || s.Resource["service.name"] != "traced" {
			t.Errorf("%s: kind %d, attributes %v, resource %v; want a server span of service traced", c.path, s.Kind, s.Attributes, s.Resource)
		}
		parented := s.TraceID == callerTraceID && s.ParentSpanID == callerSpanID
		if want := c.path == "/api/hello"; parented != want {
			t.Errorf("%s: trace %s parent %s; child of the traceparent sent: %v, want %v", c.path, s.TraceID, s.ParentSpanID, parented, want)
		}
	}

	// The master pushed every worker's metrics to the same Collector (one endpoint for
	// both signals), the last push after the workers' final reports: one request per
	// route, the unmatched one without http.route.
	byRoute := map[string]float64{}
	for _, d := range waitMetric(t, col, "http.server.request.duration").Data {
		if d.Attributes["http.response.status_code"] == "404" {
			byRoute["404:"+d.Attributes["http.route"]] += d.Value
		} else {
			byRoute[d.Attributes["http.route"]] += d.Value
		}
	}
	if byRoute["/healthz"] != 1 || byRoute["/api/hello"] != 1 || byRoute["404:"] != 1 {
		t.Errorf("pushed request counts by route: %v", byRoute)
	}

	t.Run("untrusted peer", func(t *testing.T) { // the same binary, served again
		for _, s := range tracedRun(t, testenv.StartCollector(t), dir, bin, "none") {
			if s.Attributes["url.path"] == "/api/hello" && (s.TraceID == callerTraceID || s.ParentSpanID != "") {
				t.Errorf("a traceparent from an untrusted client was honoured: trace %s parent %s", s.TraceID, s.ParentSpanID)
			}
		}
	})
}

// tracedRun serves bin with its spans sent to col (sampling 1.0, the peers allowIPs
// trusted), sends the three requests once each, stops the master and returns the spans.
func tracedRun(t *testing.T, col *testenv.Collector, dir, bin, allowIPs string) []testenv.Span {
	t.Helper()
	t.Setenv("APP_SOURCE_TREE", "1")
	t.Setenv("APP_OBSERVABILITY_ENDPOINT", col.Endpoint)
	t.Setenv("APP_OBSERVABILITY_SAMPLING_RATIO", "1")
	t.Setenv("APP_SERVER_FORWARDED_ALLOW_IPS", allowIPs)
	addr := testenv.FreeAddr(t)
	cmd, done := startServer(t, dir, bin, "-b", addr, "-w", "2")
	waitOK(t, "http://"+addr+"/", done) // spans of their own, under url.path "/"
	for _, r := range []struct {
		path, traceparent string
		status            int
	}{
		{"/healthz", "", 200},
		{"/no/such/page", "", 404},
		{"/api/hello", traceparent, 200},
	} {
		req, err := http.NewRequest("GET", "http://"+addr+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.traceparent != "" {
			req.Header.Set("traceparent", r.traceparent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != r.status {
			t.Fatalf("GET %s: %d, want %d", r.path, resp.StatusCode, r.status)
		}
	}
	stopServer(t, cmd, done)
	// Each worker exported its spans before it exited; the file export follows within
	// its flush interval. Four at least: the readiness request's and the three.
	return col.WaitSpans(t, 4, 10*time.Second)
}

// waitMetric waits (10 s at most) for the Collector to have written metric name.
func waitMetric(t *testing.T, col *testenv.Collector, name string) testenv.MetricTotal {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m, ok := col.Metrics(t)[name]; ok || time.Now().After(deadline) {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCollectorDownCountsDroppedSpans runs the production entry (2 workers, sampling 1.0)
// against a real Collector, stops the Collector and sends requests: the master's metrics
// listener counts their spans as dropped (otel_sdk_exporter_span_exported_total with
// error_type), summed over the workers, and every request's span is either exported or
// counted as dropped.
func TestCollectorDownCountsDroppedSpans(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	col := testenv.StartCollector(t)
	dir, bin := buildProductionEntry(t, Options{Name: "traced"})
	metrics, addr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	t.Setenv("APP_SOURCE_TREE", "1")
	t.Setenv("APP_OBSERVABILITY_ENDPOINT", col.Endpoint)
	t.Setenv("APP_OBSERVABILITY_SAMPLING_RATIO", "1")
	t.Setenv("APP_SERVER_METRICS_BIND", metrics)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100") // the SDK's batch delay, ms: export at once
	_, done := startServer(t, dir, bin, "-b", addr, "-w", "2")
	waitOK(t, "http://"+addr+"/", done)

	const exported, failed, requests = "otel_sdk_exporter_span_exported_total", "otel_sdk_exporter_span_exported_total:export_failed", "http_server_request_duration_seconds_count"
	up := waitSums(t, metrics, "every span so far exported", func(m map[string]float64) bool {
		return m[exported] >= 1 && m[exported] == m[requests] && m[failed] == 0
	})
	col.Stop()
	const n = 20
	for range n {
		resp, err := http.Get("http://" + addr + "/api/hello")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	down := waitSums(t, metrics, "the spans sent while the Collector is down counted as dropped", func(m map[string]float64) bool {
		return m[requests] == up[requests]+n && m[failed] == n && m[exported] == up[exported]
	})
	t.Logf("exported %v, dropped %v of %v requests", down[exported], down[failed], down[requests])
}

// waitSums scrapes the metrics listener at addr (60 s at most: a failed export may be
// retried first) until ok says yes of its sums by family name, ":error_type" appended
// where a sample has one, and returns them.
func waitSums(t *testing.T, addr, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sums := map[string]float64{}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, l := range strings.Split(string(body), "\n") {
				series, v, found := strings.Cut(l, " ")
				f, err := strconv.ParseFloat(v, 64)
				if !found || err != nil || strings.HasPrefix(l, "#") {
					continue
				}
				name, labels, _ := strings.Cut(series, "{")
				if _, et, ok := strings.Cut(labels, `error_type="`); ok {
					name += ":" + et[:strings.IndexByte(et, '"')]
				}
				sums[name] += f
			}
		}
		if ok(sums) {
			return sums
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics at %s: not %s within 60s: %v", addr, what, sums)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
