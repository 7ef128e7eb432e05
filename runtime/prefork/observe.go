package prefork

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Worker-side wiring of the observability features: one response recorder
// per request feeds the metrics, StatsD and the access log.

// startObservability sets up the serving process's counters (when the
// master serves --metrics-bind) and StatsD (--statsd-host).
func (s *servingChain) startObservability(c Config) error {
	if c.MetricsBind != "" || c.ControlSocket != "" { // the master's status view shows them too
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

// observe records each request's status, size and duration once, for the
// metrics, StatsD and the access log (which sees the forwarded client
// address: it runs inside the forwarded-header handling).
func (s *servingChain) observe(next http.Handler) http.Handler {
	if s.access == nil && s.metrics == nil && s.statsd == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &observe.ResponseRecorder{ResponseWriter: w}
		defer func() {
			d := time.Since(start)
			status := rec.Status
			if status == 0 {
				status = http.StatusOK
			}
			if s.metrics != nil {
				s.metrics.Observe(r.Method, status, rec.Bytes, d)
			}
			s.statsd.Request(status, d)
			if s.access != nil {
				s.access.Log(r, status, rec.Bytes, rec.Header(), start, d)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// sendMetrics sends the worker's cumulative counts (before each heartbeat).
func (w *workerProc) sendMetrics() {
	if w.metrics != nil {
		w.send(supervisor.MsgMetrics + " " + w.metrics.Snapshot().Encode())
	}
}

// metricsColumns are the status table's REQ/S, P50, P99 and 5XX cells.
func (wk WorkerReport) metricsColumns() string {
	if !wk.Metrics {
		return "-\t-\t-\t-"
	}
	return fmt.Sprintf("%.1f\t%s\t%s\t%d", wk.RequestsPerSecond, fmtBound(wk.P50Millis), fmtBound(wk.P99Millis), wk.Errors5xx)
}

// fmtBound shows a latency bound from the histogram: "<=2.5ms", ">10s"
// (-1), "-" when nothing was served yet.
func fmtBound(ms float64) string {
	switch {
	case ms < 0:
		return ">max"
	case ms == 0:
		return "-"
	case ms >= 1000:
		return "<=" + strconv.FormatFloat(ms/1000, 'f', -1, 64) + "s"
	}
	return "<=" + strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
}
