package supervisor

import "math"

// A canary takes no more than its share of the window's requests, by
// construction: the listen queue the workers share does not see to it (an
// idle new worker wins more accepts than busy old ones, a build that fails
// fast answers more requests per connection, kept-alive clients stay where
// they are). Each canary worker is allowed as many requests in the window
// as the old generation's average worker has reported serving in it; past
// its allowance it answers with Connection: close and stops accepting
// until the next report raises it, so clients go back to the old workers.
// The old side's figures lag by up to a heartbeat, which only lowers the
// allowance: the canary's share of the window's requests is at most its
// share of the workers, plus the requests already on its connections when
// it stops (one per connection).

// canaryAllowance is each canary worker's allowance: what the old
// generation's average worker served in the window so far (no limit while
// no old worker serves).
func (s *Supervisor) canaryAllowance() int64 {
	c := s.canary
	old, _ := s.canaryFigures()
	n := old.Workers
	if c.upgrade {
		n = s.cfg.Workers // the old master's workers, as its figures are theirs
	}
	if n <= 0 {
		return math.MaxInt64 // no old worker serves just now: the canary takes the queue rather than leave it waiting
	}
	return c.old.Requests / int64(n)
}

// holdCanary sends the canary's workers their allowance when it changed.
func (s *Supervisor) holdCanary() {
	c := s.canary
	if c == nil || c.started.IsZero() {
		return
	}
	a := s.canaryAllowance()
	if a == c.allowed {
		return
	}
	c.allowed = a
	for _, w := range s.workers {
		if w.Phase.Serving() && (c.upgrade || w.Generation == c.gen) {
			s.send(w, WorkerCommand{Verb: Allow, Allow: a})
		}
	}
}
