package prefork

import (
	"fmt"
	"strconv"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

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
