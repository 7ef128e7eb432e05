package observe

import "sync/atomic"

// The app's span export figures, reported by each worker with its request
// metrics and summed by the master like them (monotonic across reloads and
// recycling). The runtime makes no spans: the app's tracing hands it its
// counts (prefork.ReportSpans), and they are served under OpenTelemetry's
// SDK self-observability names:
//
//	otel_sdk_exporter_span_exported_total   (otel.sdk.exporter.span.exported)
//	    no error_type: spans the Collector took; error_type="export_failed": spans
//	    whose export failed for good (retries over), dropped
//	otel_sdk_processor_span_processed_total (otel.sdk.processor.span.processed)
//	    no error_type: spans the batch processor handed to the exporter;
//	    error_type="queue_full": spans a full queue turned away, dropped (counted
//	    when the worker stops: the SDK tells no earlier)

// SpanCounts are one worker's span figures since it started (counters).
type SpanCounts struct {
	Exported  uint64 `json:"e,omitempty"` // reached the Collector
	Failed    uint64 `json:"f,omitempty"` // in exports that failed: dropped
	QueueFull uint64 `json:"q,omitempty"` // turned away by the processor's full queue: dropped
}

// Dropped is the spans that never reached the Collector.
func (c SpanCounts) Dropped() uint64 { return c.Failed + c.QueueFull }

func (c *SpanCounts) add(o SpanCounts) {
	c.Exported += o.Exported
	c.Failed += o.Failed
	c.QueueFull += o.QueueFull
}

// spanSource is the app's count, set once its exporter starts.
var spanSource atomic.Pointer[func() SpanCounts]

// SetSpanSource makes every Snapshot of this process carry counts()'s figures.
func SetSpanSource(counts func() SpanCounts) { spanSource.Store(&counts) }

// readSpans fills s.Spans when the app reports spans.
func readSpans(s *MetricsSnapshot) {
	if f := spanSource.Load(); f != nil {
		c := (*f)()
		s.Spans = &c
	}
}

// addSpans sums o's span figures into s's.
func (s *MetricsSnapshot) addSpans(o MetricsSnapshot) {
	if o.Spans == nil {
		return
	}
	if s.Spans == nil {
		s.Spans = &SpanCounts{}
	}
	s.Spans.add(*o.Spans)
}

// Span families' names, in Prometheus and in OTLP.
const (
	promSpansExported  = "otel_sdk_exporter_span_exported_total"
	promSpansProcessed = "otel_sdk_processor_span_processed_total"
	otlpSpansExported  = "otel.sdk.exporter.span.exported"
	otlpSpansProcessed = "otel.sdk.processor.span.processed"
)

// writeSpans writes the span families when a worker ever reported spans.
func writeSpans(e *exposition, t MetricsSnapshot) {
	c := t.Spans
	if c == nil {
		return
	}
	e.family(promSpansExported, "counter", "Spans whose export finished (otel.sdk.exporter.span.exported): error_type set for those dropped by a failed export.")
	e.sample(promSpansExported, float64(c.Exported))
	e.sample(promSpansExported, float64(c.Failed), "error_type", "export_failed")
	e.family(promSpansProcessed, "counter", "Spans the batch processor handled (otel.sdk.processor.span.processed): error_type=queue_full for those a full queue dropped.")
	e.sample(promSpansProcessed, float64(c.Exported+c.Failed))
	e.sample(promSpansProcessed, float64(c.QueueFull), "error_type", "queue_full")
}

// otlpSpans is the span families as OTLP metrics (none when no worker reported spans).
func otlpSpans(t MetricsSnapshot, start, at string) []otlpMetric {
	c := t.Spans
	if c == nil {
		return nil
	}
	errType := func(v string) []otlpKV { return []otlpKV{kvString("error.type", v)} }
	sum := func(ok, dropped uint64, why string) *otlpSum {
		return &otlpSum{AggregationTemporality: aggregationCumulative, IsMonotonic: true, DataPoints: []otlpNumberPoint{
			intPoint(nil, start, at, int64(ok)), intPoint(errType(why), start, at, int64(dropped))}}
	}
	return []otlpMetric{
		{Name: otlpSpansExported, Unit: "{span}", Description: "Spans whose export finished, error.type set for failed ones.", Sum: sum(c.Exported, c.Failed, "export_failed")},
		{Name: otlpSpansProcessed, Unit: "{span}", Description: "Spans the batch processor handled, error.type=queue_full for dropped ones.", Sum: sum(c.Exported+c.Failed, c.QueueFull, "queue_full")},
	}
}
