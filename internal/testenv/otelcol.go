package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// CollectorTool is the OpenTelemetry Collector .ci/build-otelcol builds into GOPATH/bin:
// the OTLP receiver and the file exporter, at the versions .ci/otelcol/go.mod pins.
const CollectorTool = "otelcol-scaffold"

// probeService is the service.name of the span StartCollector sends to know the
// Collector's pipeline works; Spans leaves it out.
const probeService = "scaffold-testenv-probe"

// Collector is an OpenTelemetry Collector of a test's own: OTLP/HTTP in on a loopback
// port, every span written as OTLP JSON lines to a file the test reads.
type Collector struct {
	Endpoint    string // the OTLP/HTTP base URL, http://127.0.0.1:PORT
	file        string
	metricsFile string
	log         *Buffer
	stop        func()
}

// StartCollector starts the Collector for t and stops it (by its pid) when t ends. It
// returns once a probe span sent with the OpenTelemetry SDK came out in the file, so the
// whole pipeline is known to work. Without the Collector the test is skipped, or fails
// under SCAFFOLD_REQUIRE_TOOLS=1.
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	bin := Tool(t, CollectorTool, ".ci/build-otelcol (the Collector's modules from the module proxy)")
	dir := t.TempDir()
	addr := FreeAddr(t)
	c := &Collector{Endpoint: "http://" + addr, file: filepath.Join(dir, "spans.jsonl"), metricsFile: filepath.Join(dir, "metrics.jsonl"), log: &Buffer{}}
	exporters, traces, metrics := fileExporters(c.file, c.metricsFile)
	config := CollectorConfig(addr, exporters, traces, metrics)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", path)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	c.stop = sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(c.stop)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s exited before it was ready: %v\n%s", CollectorTool, err, c.log)
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			if c.probe() {
				return c
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: no probe span came out within 30s:\n%s", CollectorTool, c.log)
	return nil
}

// CollectorConfig is the Collector's configuration: OTLP/HTTP in on addr, then spans to
// the exporter named traces and metrics to the one named metrics, both declared in
// exporters (YAML under "exporters:", indented by two spaces). The Collector's own
// metrics are off: their default listener is a fixed port.
func CollectorConfig(addr, exporters, traces, metrics string) string {
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
%sservice:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [%s]
    metrics:
      receivers: [otlp]
      exporters: [%s]
`, addr, exporters, traces, metrics)
}

// fileExporters write spans and metrics as OTLP JSON lines to their files, what the
// tests read.
func fileExporters(spansFile, metricsFile string) (exporters, traces, metrics string) {
	return fmt.Sprintf(`  file:
    path: %s
    flush_interval: 100ms
  file/metrics:
    path: %s
    flush_interval: 100ms
`, spansFile, metricsFile), "file", "file/metrics"
}

// Stop stops the Collector now (a test of what its clients do when it is down); its
// files stay readable.
func (c *Collector) Stop() { c.stop() }

// probe sends one span through the Collector with the SDK and says whether one arrived.
func (c *Collector) probe() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.Endpoint+"/v1/traces"), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		return false
	}
	res := sdkresource.NewSchemaless(attribute.String("service.name", probeService))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	_, span := tp.Tracer("testenv").Start(ctx, "probe")
	span.End()
	_ = tp.Shutdown(ctx)
	for range 10 {
		data, _ := os.ReadFile(c.file)
		if bytes.Contains(data, []byte(probeService)) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// Span is what a test reads of an exported span: attribute values as strings.
type Span struct {
	Name         string
	TraceID      string
	SpanID       string
	ParentSpanID string
	Kind         int // 2: server
	StatusCode   int // 0 unset, 1 ok, 2 error
	Attributes   map[string]string
	Resource     map[string]string
}

// Spans returns the spans the Collector has written so far, the probes left out.
func (c *Collector) Spans(t testing.TB) []Span {
	t.Helper()
	f, err := os.Open(c.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var spans []Span
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line otlpTraces
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: a line that is not OTLP JSON: %v\n%s", c.file, err, sc.Bytes())
		}
		for _, rs := range line.ResourceSpans {
			resource := rs.Resource.Attributes.strings()
			if resource["service.name"] == probeService {
				continue
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, Span{
						Name: s.Name, TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID,
						Kind: s.Kind, StatusCode: s.Status.Code, Attributes: s.Attributes.strings(), Resource: resource,
					})
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return spans
}

// WaitSpans waits until at least n spans came out (at most within) and returns them all.
func (c *Collector) WaitSpans(t testing.TB, n int, within time.Duration) []Span {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		spans := c.Spans(t)
		if len(spans) >= n || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Log is what the Collector printed.
func (c *Collector) Log() string { return c.log.String() }

// otlpTraces is the OTLP JSON encoding of ExportTraceServiceRequest, what the file
// exporter writes one per line.
type otlpTraces struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes otlpAttributes `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []struct {
			Spans []struct {
				TraceID      string         `json:"traceId"`
				SpanID       string         `json:"spanId"`
				ParentSpanID string         `json:"parentSpanId"`
				Name         string         `json:"name"`
				Kind         int            `json:"kind"`
				Attributes   otlpAttributes `json:"attributes"`
				Status       struct {
					Code int `json:"code"`
				} `json:"status"`
			} `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

type otlpAttributes []struct {
	Key   string                     `json:"key"`
	Value map[string]json.RawMessage `json:"value"` // {"stringValue": "x"}, {"intValue": "404"}
}

// strings maps each key to its value's text: a JSON string unquoted, anything else as is.
func (as otlpAttributes) strings() map[string]string {
	out := map[string]string{}
	for _, a := range as {
		for _, raw := range a.Value {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				out[a.Key] = s
			} else {
				out[a.Key] = string(raw)
			}
		}
	}
	return out
}

// MetricTotal is one metric as the last export that carried it says: the sum over its
// data points of a histogram's count or a sum's (counter's) value, and the resource.
type MetricTotal struct {
	Value    float64
	Points   int
	Resource map[string]string
	Data     []MetricPoint
}

// MetricPoint is one data point: its attributes, its value (a histogram's count) and
// the trace IDs of its exemplars.
type MetricPoint struct {
	Attributes map[string]string
	Value      float64
	Exemplars  []string
}

// Metrics returns, for each metric name, the totals of the last export that carried it
// (cumulative temporality: the last is the running total). Empty until metrics came.
func (c *Collector) Metrics(t testing.TB) map[string]MetricTotal {
	t.Helper()
	data, err := os.ReadFile(c.metricsFile)
	if err != nil {
		return map[string]MetricTotal{}
	}
	out := map[string]MetricTotal{}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m otlpMetrics
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: a line that is not OTLP JSON: %v\n%s", c.metricsFile, err, line)
		}
		for _, rm := range m.ResourceMetrics {
			resource := rm.Resource.Attributes.strings()
			for _, sm := range rm.ScopeMetrics {
				for _, mt := range sm.Metrics {
					total := MetricTotal{Resource: resource}
					for _, p := range append(mt.Histogram.DataPoints, mt.Sum.DataPoints...) {
						n := float64(p.Count + p.AsInt) // a point has one of them
						mp := MetricPoint{Attributes: p.Attributes.strings(), Value: n}
						for _, e := range p.Exemplars {
							mp.Exemplars = append(mp.Exemplars, e.TraceID)
						}
						total.Value += n
						total.Points++
						total.Data = append(total.Data, mp)
					}
					out[mt.Name] = total
				}
			}
		}
	}
	return out
}

// otlpMetrics is the OTLP JSON encoding of ExportMetricsServiceRequest, as the file
// exporter writes it: 64-bit integers as strings.
type otlpMetrics struct {
	ResourceMetrics []struct {
		Resource struct {
			Attributes otlpAttributes `json:"attributes"`
		} `json:"resource"`
		ScopeMetrics []struct {
			Metrics []struct {
				Name      string `json:"name"`
				Histogram struct {
					DataPoints []otlpPoint `json:"dataPoints"`
				} `json:"histogram"`
				Sum struct {
					DataPoints []otlpPoint `json:"dataPoints"`
				} `json:"sum"`
			} `json:"metrics"`
		} `json:"scopeMetrics"`
	} `json:"resourceMetrics"`
}

type otlpPoint struct {
	Attributes otlpAttributes `json:"attributes"`
	Count      flexInt        `json:"count"`
	AsInt      flexInt        `json:"asInt"`
	Exemplars  []struct {
		TraceID string `json:"traceId"`
	} `json:"exemplars"`
}

// flexInt is a 64-bit integer as protobuf's JSON writes it (a string) or as a number.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(bytes.Trim(b, `"`)), 10, 64)
	*f = flexInt(n)
	return err
}
