package prefork

import "github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"

// SpanCounts are the app's span export figures since its process started, all
// counters: Exported spans reached the Collector, Failed ones were in exports
// that failed for good, QueueFull ones a full queue turned away.
type SpanCounts = observe.SpanCounts

// ReportSpans hands the runtime the app's span counts: each worker's metrics
// report carries counts()'s figures from then on, and the master sums them
// over every worker and generation, as it does the request metrics, on the
// metrics listener (otel_sdk_exporter_span_exported_total{error_type} and
// otel_sdk_processor_span_processed_total{error_type}, OpenTelemetry's SDK
// self-observability names) and in its OTLP push. counts is called on the
// worker's report goroutine, before every heartbeat and once more after
// WorkerExit (so spans lost in the exit's flush are counted): it must be safe
// to call concurrently with requests, and cheap (atomic loads). The latest
// call wins; in a process that reports no metrics it is never called.
func ReportSpans(counts func() SpanCounts) { observe.SetSpanSource(counts) }
