package observe

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// RequestTracker counts requests, remembers when each running one began and
// what the finished ones served (a canary's figures), with no lock on the
// request path: an ordinary request takes a free slot (one compare-and-swap,
// no allocation) found from its number, and ends it with a swap that reads
// its start; the served counters are atomics. Only when the slots a request
// tries are all busy (more requests at once than slots) does it take the
// overflow map's lock. Stats reads the slots, so drain, the heartbeat and the
// stuck-request report see the requests in flight and the oldest one's age.
type RequestTracker struct {
	total    atomic.Int64
	Long     atomic.Int64 // long-lived requests in flight (not aged)
	slots    [trackerSlots]trackerSlot
	mu       sync.Mutex
	seq      uint64
	overflow map[uint64]int64 // start (trackerClock) of requests without a slot, under mu
	Limit    int64            // notify once total reaches it (max-requests); 0 = never
	OnLimit  func()           // called once, from the request that reached limit
	// completed requests (not long-lived ones), a canary's figures: the
	// requests are the latency buckets' sum
	errors  atomic.Int64
	latency [supervisor.LatencyBuckets]atomic.Int64
	// During a canary's window (urgent), every errorNudge-th failed request
	// calls OnErrors, so the worker reports at once and the master can roll a
	// failing canary back within a tick instead of a heartbeat interval.
	Urgent   atomic.Bool
	OnErrors func()
}

// errorNudge is how many failed requests make a worker report early while urgent.
const errorNudge = 16

const (
	trackerSlots  = 256 // a power of two
	trackerProbes = 8   // slots a request tries before the overflow map
	overflowID    = 1 << 63
)

// trackerSlot holds a running request's start, 0 when free, on a cache line
// of its own: requests on other Ps write their slots without sharing one.
type trackerSlot struct {
	start atomic.Int64
	_     [56]byte
}

// trackerEpoch anchors trackerClock, which reads the monotonic clock (a wall
// clock step never ages a request) and is never 0 (a free slot).
var trackerEpoch = time.Now()

func trackerClock() int64 { return int64(time.Since(trackerEpoch)) + 1 }

// NewRequestTracker returns a tracker with nothing counted.
func NewRequestTracker() *RequestTracker {
	return &RequestTracker{overflow: make(map[uint64]int64)}
}

// trackerTime is trackerClock's reading for at, a time read with its
// monotonic clock: the request's own start, no second clock read.
func trackerTime(at time.Time) int64 { return max(int64(at.Sub(trackerEpoch)), 0) + 1 }

// Begin counts a request that began at start (time.Now, read once per
// request for the tracker, the metrics and the access log) and returns its
// ID: its slot, or an overflow ID.
func (t *RequestTracker) Begin(start time.Time) uint64 {
	n := t.total.Add(1)
	if t.Limit > 0 && n == t.Limit && t.OnLimit != nil {
		t.OnLimit()
	}
	now := trackerTime(start)
	for i := uint64(0); i < trackerProbes; i++ {
		slot := (uint64(n) + i) & (trackerSlots - 1)
		if t.slots[slot].start.CompareAndSwap(0, now) {
			return slot
		}
	}
	t.mu.Lock()
	t.seq++
	id := t.seq | overflowID
	t.overflow[id] = now
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

// End records request id's end: its final status (0: none written, a 200),
// whether a panic aborted it (net/http resets the connection) and how long
// it took (the caller's one clock read at its end).
func (t *RequestTracker) End(id uint64, status int, aborted bool, took time.Duration) {
	var start int64
	if id&overflowID == 0 {
		start = t.slots[id].start.Swap(0)
	} else {
		t.mu.Lock()
		start = t.overflow[id]
		delete(t.overflow, id)
		t.mu.Unlock()
	}
	if start == 0 {
		return
	}
	if aborted || status >= 500 {
		if n := t.errors.Add(1); n%errorNudge == 0 && t.Urgent.Load() && t.OnErrors != nil {
			defer t.OnErrors() // after the request is counted
		}
	}
	t.latency[supervisor.LatencyBucket(took)].Add(1)
}

// ServedTotal is what the worker served so far (a canary's figures). Each
// counter is read once, not all at one instant: a request ending meanwhile
// may be in the errors and not yet in the requests, never the other way.
func (t *RequestTracker) ServedTotal() supervisor.Served {
	var s supervisor.Served
	for i := range t.latency {
		s.Latency[i] = t.latency[i].Load()
		s.Requests += s.Latency[i]
	}
	s.Errors = min(t.errors.Load(), s.Requests)
	return s
}

// Stats are the figures of a heartbeat: requests so far, in flight, the
// oldest running one's age.
func (t *RequestTracker) Stats() supervisor.WorkerStats {
	now := trackerClock()
	st := supervisor.WorkerStats{Requests: t.total.Load(), InFlight: int(t.Long.Load())}
	oldest := now
	for i := range t.slots {
		if start := t.slots[i].start.Load(); start != 0 {
			st.InFlight++
			oldest = min(oldest, start)
		}
	}
	t.mu.Lock()
	st.InFlight += len(t.overflow)
	for _, start := range t.overflow {
		oldest = min(oldest, start)
	}
	t.mu.Unlock()
	st.OldestRequest = time.Duration(max(0, now-oldest))
	return st
}
