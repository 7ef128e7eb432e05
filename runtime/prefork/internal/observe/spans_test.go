package observe

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The app's span counts travel in a worker's report, are summed by the master like the
// request counters (a report without them adds nothing), and are served under
// OpenTelemetry's SDK self-observability names in Prometheus text and in OTLP.
func TestSpanCountsSummedAndExposed(t *testing.T) {
	SetSpanSource(func() SpanCounts { return SpanCounts{Exported: 40, Failed: 5} })
	defer spanSource.Store(nil)
	line := NewRequestMetrics(DefaultMetricsBuckets).Snapshot().Encode()
	w1, err := DecodeMetrics(line, len(DefaultMetricsBuckets))
	if err != nil || w1.Spans == nil || *w1.Spans != (SpanCounts{Exported: 40, Failed: 5}) {
		t.Fatalf("decoded report %s: spans %+v, %v", line, w1.Spans, err)
	}
	var tot MetricsSnapshot
	tot.Add(w1)
	tot.Add(MetricsSnapshot{}) // a worker that reports no spans
	tot.Add(MetricsSnapshot{Spans: &SpanCounts{Exported: 2, Failed: 1, QueueFull: 4}})
	if want := (SpanCounts{Exported: 42, Failed: 6, QueueFull: 4}); *tot.Spans != want || w1.Spans.Exported != 40 {
		t.Fatalf("sum %+v, want %+v (and the first report unchanged: %+v)", *tot.Spans, want, *w1.Spans)
	}
	var b bytes.Buffer
	if err := WriteExposition(&b, MetricsView{Bounds: DefaultMetricsBuckets, Totals: tot}, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE otel_sdk_exporter_span_exported_total counter\n",
		"otel_sdk_exporter_span_exported_total 42\n",
		`otel_sdk_exporter_span_exported_total{error_type="export_failed"} 6` + "\n",
		"otel_sdk_processor_span_processed_total 48\n",
		`otel_sdk_processor_span_processed_total{error_type="queue_full"} 4` + "\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("exposition lacks %q:\n%s", want, b.String())
		}
	}
	otlp, err := EncodeOTLP(MetricsView{Bounds: DefaultMetricsBuckets, Totals: tot}, Resource{ServiceName: "x"}, time.Now())
	if err != nil || !strings.Contains(string(otlp), `"name":"otel.sdk.exporter.span.exported"`) || !strings.Contains(string(otlp), `"stringValue":"queue_full"`) {
		t.Errorf("OTLP lacks the span metrics (%v):\n%s", err, otlp)
	}

	b.Reset() // no worker reported spans: no span families
	if err := WriteExposition(&b, MetricsView{Bounds: DefaultMetricsBuckets}, false); err != nil || strings.Contains(b.String(), "otel_sdk") {
		t.Errorf("span families without spans reported (%v):\n%s", err, b.String())
	}
}
