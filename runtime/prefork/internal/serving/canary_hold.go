package serving

import (
	"net"
	"sync/atomic"
	"time"
)

// canaryHold keeps a canary worker within the requests the master allows
// it in the window (the allow command; see the supervisor's holdCanary):
// past them a response closes its connection and the worker stops
// accepting, so clients go back through the listen queue to the old
// generation's workers until a larger allowance comes. Off (spread off, or
// never a canary): no effect.
type canaryHold struct {
	on      atomic.Bool
	begun   atomic.Int64 // requests begun since the first allowance
	allow   atomic.Int64
	beating atomic.Bool // beatWhileUrgent runs
}

// set takes an allowance (requests in the window so far).
func (h *canaryHold) set(n int64) {
	if !h.on.Load() {
		h.begun.Store(0)
	}
	h.allow.Store(n)
	h.on.Store(true)
}

// end lifts the hold (the canary was decided).
func (h *canaryHold) end() { h.on.Store(false) }

// request counts a request begun and reports whether its response should
// close the connection: the allowance is used up.
func (h *canaryHold) request() bool {
	return h.on.Load() && h.begun.Add(1) >= h.allow.Load()
}

// held reports whether the worker should not accept now.
func (h *canaryHold) held() bool {
	return h.on.Load() && h.begun.Load() >= h.allow.Load()
}

// holdPoll is how often a held listener looks whether it may accept again.
const holdPoll = 5 * time.Millisecond

// heldListener waits, before each accept, while the worker's canary hold
// is on (and it is not stopping); a connection a waiting accept takes
// anyway is served, never refused.
type heldListener struct {
	net.Listener
	s *HTTPServer
}

func (l heldListener) Accept() (net.Conn, error) {
	for l.s.hold.held() && !l.s.draining.Load() && !l.s.closing.Load() {
		time.Sleep(holdPoll)
	}
	return l.Listener.Accept()
}

// urgentBeat is how often a worker reports during a canary's window: the
// canary's allowance follows the old workers' reports, and a second's lag
// would starve it (or, for the report that spans the window's opening,
// overfeed it: the master does not count that one).
const urgentBeat = 200 * time.Millisecond

// beatWhileUrgent has the worker report at once (the master's baseline
// for the window), then every urgentBeat while the window lasts (spread on).
func (s *HTTPServer) beatWhileUrgent() {
	nudge := s.tracker.OnErrors // the worker's early report
	if nudge == nil {
		return
	}
	nudge()
	if !s.hold.beating.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.hold.beating.Store(false)
		for time.Sleep(urgentBeat); s.tracker.Urgent.Load(); time.Sleep(urgentBeat) {
			nudge()
		}
	}()
}
