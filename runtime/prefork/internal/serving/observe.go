package serving

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// Worker-side wiring of the observability features: one response recorder
// per request feeds the metrics, StatsD and the access log.

// startObservability sets up the serving process's counters (when the
// master serves --metrics-bind) and StatsD (--statsd-host).
func (s *ServingChain) startObservability(c Config) error {
	if c.MetricsBind != "" || c.ControlSocket != "" || c.MetricsOTLPEndpoint != "" { // the master's status view shows them too
		bounds := c.MetricsBuckets
		if len(bounds) == 0 {
			bounds = observe.DefaultMetricsBuckets
		}
		s.metrics = observe.NewRequestMetrics(bounds)
	}
	if c.StatsDHost != "" {
		var err error
		if s.statsd, err = observe.NewStatsD(c.StatsDHost, c.StatsDPrefix, c.DogStatsDTags); err != nil {
			return err
		}
	}
	return nil
}

// observe records each request's status, sizes, duration, route and trace
// once, for the metrics, StatsD and the access log (which sees the forwarded
// client address: it runs inside the forwarded-header handling). The route
// and the trace ID come back from the inner layers in the request state
// (RequestState), set by the request ID layer outside this one.
func (s *ServingChain) observe(next http.Handler) http.Handler {
	if s.access == nil && s.metrics == nil && s.statsd == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var start time.Time
		rec, record := outerRecorder(w)
		if record != nil {
			start = record.start // the request's one clock read at its start
		} else {
			start = time.Now()
		}
		var active *atomic.Int64
		var body *countingBody
		method, scheme := observe.SemconvMethod(r.Method), ""
		if s.metrics != nil {
			scheme = RequestScheme(r)
			active = s.metrics.Begin(method, scheme)
			if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
				body = &countingBody{ReadCloser: r.Body}
				r.Body = body
			}
		}
		defer func() {
			d := time.Since(start)
			if record != nil {
				record.took, record.timed = d, true // the tracker's too
			}
			status := rec.Status
			if status == 0 {
				status = http.StatusOK
			}
			st := StateOf(r.Context())
			var traceID string
			if st != nil {
				traceID = st.TraceID
			}
			if s.metrics != nil {
				active.Add(-1)
				reqBytes := r.ContentLength
				if body != nil {
					reqBytes = body.n
				}
				a := observe.Attrs{Method: method, Status: status, Route: st.FullRoute(), Scheme: scheme, Proto: observe.ProtocolVersion(r.ProtoMajor, r.ProtoMinor)}
				s.metrics.Observe(a, reqBytes, rec.Bytes, d, traceID)
			}
			s.statsd.Request(status, d)
			if s.access != nil {
				s.access.LogTraced(r, status, rec.Bytes, rec.Header(), start, d, traceID)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// countingBody counts a request body of unknown length as the app reads it
// (http.server.request.body.size: what was read, for a chunked body).
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// outerRecorder is the recorder of w's request record when nothing was written to it
// yet (the worker's request tracker puts one around the whole chain), and the record:
// it sees the same status and bytes, and a request allocates one recorder instead of
// two. Else a new one, and no record.
func outerRecorder(w http.ResponseWriter) (*observe.ResponseRecorder, *requestRecord) {
	if rec := recordOf(w); rec != nil {
		return &rec.ResponseRecorder, rec
	}
	return &observe.ResponseRecorder{ResponseWriter: w}, nil
}
