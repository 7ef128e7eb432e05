package observe

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// RequestTracker counts a serving process's requests and remembers when each
// running one began: what its worker reports to the master (in flight, the
// oldest request's age, a canary's served figures).
type RequestTracker struct {
	total    atomic.Int64
	Long     atomic.Int64 // long-lived requests in flight (not aged)
	mu       sync.Mutex
	seq      uint64
	inflight map[uint64]time.Time
	Limit    int64             // notify once total reaches it (max-requests); 0 = never
	OnLimit  func()            // called once, from the request that reached limit
	served   supervisor.Served // completed requests (not long-lived ones), under mu: a canary's figures
	// During a canary's window (urgent), every errorNudge-th failed request
	// calls onErrors, so the worker reports at once and the master can roll a
	// failing canary back within a tick instead of a heartbeat interval.
	Urgent   atomic.Bool
	OnErrors func()
}

// errorNudge is how many failed requests make a worker report early while urgent.
const errorNudge = 16

// NewRequestTracker returns a tracker with nothing counted.
func NewRequestTracker() *RequestTracker {
	return &RequestTracker{inflight: make(map[uint64]time.Time)}
}

// Begin counts a request that starts now, whose end End records.
func (t *RequestTracker) Begin() uint64 {
	n := t.total.Add(1)
	if t.Limit > 0 && n == t.Limit && t.OnLimit != nil {
		t.OnLimit()
	}
	now := time.Now()
	t.mu.Lock()
	t.seq++
	id := t.seq
	t.inflight[id] = now
	t.mu.Unlock()
	return id
}

// BeginLong counts a long-lived request, which is never reported as stuck;
// its end is Long.Add(-1).
func (t *RequestTracker) BeginLong() {
	n := t.total.Add(1)
	if t.Limit > 0 && n == t.Limit && t.OnLimit != nil {
		t.OnLimit()
	}
	t.Long.Add(1)
}

// End records request id's end: its final status (0: none written, a 200)
// and whether a panic aborted it (net/http resets the connection).
func (t *RequestTracker) End(id uint64, status int, aborted bool) {
	now := time.Now()
	nudge := false
	t.mu.Lock()
	if start, ok := t.inflight[id]; ok {
		t.served.Requests++
		if aborted || status >= 500 {
			t.served.Errors++
			nudge = t.served.Errors%errorNudge == 0 && t.Urgent.Load() && t.OnErrors != nil
		}
		t.served.Latency[supervisor.LatencyBucket(now.Sub(start))]++
	}
	delete(t.inflight, id)
	t.mu.Unlock()
	if nudge {
		t.OnErrors()
	}
}

// ServedTotal is what the worker served so far (a canary's figures).
func (t *RequestTracker) ServedTotal() supervisor.Served {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.served
}

// Stats are the figures of a heartbeat: requests so far, in flight, the
// oldest running one's age.
func (t *RequestTracker) Stats() supervisor.WorkerStats {
	now := time.Now()
	st := supervisor.WorkerStats{Requests: t.total.Load()}
	t.mu.Lock()
	st.InFlight = len(t.inflight) + int(t.Long.Load())
	for _, start := range t.inflight {
		if age := now.Sub(start); age > st.OldestRequest {
			st.OldestRequest = age
		}
	}
	t.mu.Unlock()
	return st
}
