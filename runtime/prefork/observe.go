package prefork

import (
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// sendMetrics sends the worker's cumulative counts (before each heartbeat).
func (w *workerProc) sendMetrics() {
	if w.metrics != nil {
		w.send(supervisor.MsgMetrics + " " + w.metrics.Snapshot().Encode())
	}
}
