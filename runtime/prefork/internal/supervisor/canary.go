package supervisor

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// A reload with a canary: the new generation starts with a share of the
// workers (one by default: an extra worker) serving beside the old
// generation at full strength. Over a window the supervisor sums what each
// side served (from the workers' heartbeats); at its end it compares the
// new generation's error rate and latency with the old one's over the same
// window and promotes the new generation (the usual ready-gated rolling
// replacement) or rolls it back (its workers drain, the old generation
// serves on, the reason is logged, counted and shown). A canary worker that
// crashes or fails to boot rolls back at once. Window zero: no canary, a
// reload replaces every worker at once as it always did.

// CanaryPolicy is the canary's settings, taken as they are: the shell passes
// the settings' values with their defaults (the Default* constants) applied.
type CanaryPolicy struct {
	Window           time.Duration // how long the canary serves before the decision; 0: no canary
	Share            float64       // of Workers, rounded up; 0: one worker
	MinRequests      int64         // canary requests the decision needs; fewer: the window extends once, then promote
	MaxErrorIncrease float64       // percentage points over the old error rate
	MaxLatencyRatio  float64       // p50 and p99 at most this times the old ones...
	LatencyFloor     time.Duration // ...plus this (0: none)
}

// P99MinRequests is the fewest canary requests whose p99 is judged: below
// it the p99 is one or two requests, noise (a scheduler hiccup); p50 is
// judged always.
const P99MinRequests = 1000

// The settings' defaults.
const (
	DefaultCanaryMinRequests      = 50
	DefaultCanaryMaxErrorIncrease = 1.0
	DefaultCanaryMaxLatencyRatio  = 1.5
	DefaultCanaryLatencyFloor     = 5 * time.Millisecond
)

// size is the number of canary workers for a target of n: Share of n
// rounded up, at least one, at most n.
func (p CanaryPolicy) size(n int) int {
	if p.Share <= 0 {
		return 1
	}
	return min(max(int(math.Ceil(p.Share*float64(n))), 1), n)
}

// Decisions and reasons of a canary, as metrics labels
// (server_reload_decisions_total{decision,reason}).
const (
	CanaryPromote  = "promote"
	CanaryRollback = "rollback"

	ReasonHealthy     = "healthy"            // promote: within every threshold
	ReasonLowTraffic  = "not_enough_traffic" // promote: fewer than MinRequests even after one extension
	ReasonErrors      = "errors"             // rollback: error rate over the old one + MaxErrorIncrease
	ReasonLatency     = "latency"            // rollback: p50 or p99 over MaxLatencyRatio x the old one + LatencyFloor
	ReasonCrash       = "crash"              // rollback: a canary worker died while serving
	ReasonBootFailure = "boot_failure"       // rollback: a canary worker never became ready
	ReasonSuperseded  = "superseded"         // rollback: another reload came during the canary
	ReasonStopped     = "stopped"            // rollback: the master stops (TERM, INT, QUIT)
)

// CanaryDecisions lists the label pairs always exposed (0 until they happen).
var CanaryDecisions = [][2]string{
	{CanaryPromote, ReasonHealthy}, {CanaryPromote, ReasonLowTraffic},
	{CanaryRollback, ReasonErrors}, {CanaryRollback, ReasonLatency}, {CanaryRollback, ReasonCrash},
	{CanaryRollback, ReasonBootFailure}, {CanaryRollback, ReasonSuperseded}, {CanaryRollback, ReasonStopped},
}

// Figures are what one side of a canary (old or new generation) served in
// the window.
type Figures struct {
	Served
	Workers int // serving workers on this side when the figures were taken
}

// ErrorRate is the share of requests that failed, 0..1.
func (f Figures) ErrorRate() float64 {
	if f.Requests == 0 {
		return 0
	}
	return float64(f.Errors) / float64(f.Requests)
}

// P50 and P99 are latency quantiles (bucket upper bounds; 0 when empty).
func (f Figures) P50() time.Duration { return f.Latency.Quantile(0.50) }
func (f Figures) P99() time.Duration { return f.Latency.Quantile(0.99) }

// canary is a running canary: generation gen, size workers, judged by pol.
// An upgrade's canary (upgrade) is a USR2 master's start-up: its own
// workers (of its generation, gen 0 here: none of them is set apart) are
// the new side, the old master's figures (EvOldServed) the old side.
type canary struct {
	upgrade  bool
	oldLast  Served // upgrade: the old master's last totals
	gen      int
	size     int
	pol      CanaryPolicy
	loaded   *Loaded   // the reload's configuration, applied on promotion (nil: unchanged)
	started  time.Time // the window's start: every canary worker ready (zero: booting)
	ends     time.Time
	extended bool
	old, new Served
	allowed  int64 // the allowance last sent to each canary worker (-1: none yet)
	// based: workers whose first report in the window came; that report
	// covers time before the window and is not counted
	based map[int]bool
}

// CanaryView is a running canary as readers see it (Generation 0: none).
type CanaryView struct {
	Generation int  // 0 for an upgrade's canary
	Upgrade    bool // a USR2 master's start-up, judged against the old master
	Size       int
	Started    time.Time // zero while its workers boot
	Ends       time.Time
	Old, New   Figures
}

// CanaryResult is a canary's decision (Generation 0: none yet).
type CanaryResult struct {
	Generation int
	At         time.Time
	Decision   string // CanaryPromote, CanaryRollback
	Reason     string // Reason*
	Detail     string // the figures that decided, for people
	Old, New   Figures
}

// Judge decides a canary from the window's figures; low reports that the
// canary served fewer than MinRequests (the caller extends the window once,
// then promotes).
func (p CanaryPolicy) Judge(old, cur Figures) (decision, reason, detail string) {
	if cur.Requests < p.MinRequests {
		return CanaryPromote, ReasonLowTraffic, fmt.Sprintf("%d requests in the window, %d needed to judge", cur.Requests, p.MinRequests)
	}
	if limit := old.ErrorRate() + p.MaxErrorIncrease/100; cur.ErrorRate() > limit {
		return CanaryRollback, ReasonErrors, fmt.Sprintf("error rate %.2f%% (%d of %d), old generation %.2f%%, limit %.2f%%",
			100*cur.ErrorRate(), cur.Errors, cur.Requests, 100*old.ErrorRate(), 100*limit)
	}
	for _, q := range []struct {
		name     string
		old, cur time.Duration
	}{{"p99", old.P99(), cur.P99()}, {"p50", old.P50(), cur.P50()}} {
		if old.Requests == 0 {
			break // nothing to compare with: errors only
		}
		if q.name == "p99" && (cur.Requests < P99MinRequests || old.Requests < P99MinRequests) {
			continue
		}
		limit := time.Duration(p.MaxLatencyRatio*float64(q.old)) + p.LatencyFloor
		if q.cur > limit {
			return CanaryRollback, ReasonLatency, fmt.Sprintf("latency %s %s, old generation %s, limit %s", q.name, Dur(q.cur), Dur(q.old), Dur(limit))
		}
	}
	return CanaryPromote, ReasonHealthy, fmt.Sprintf("error rate %.2f%% (old %.2f%%), p50 %s (old %s), p99 %s (old %s) over %d requests",
		100*cur.ErrorRate(), 100*old.ErrorRate(), Dur(cur.P50()), Dur(old.P50()), Dur(cur.P99()), Dur(old.P99()), cur.Requests)
}

// startCanary begins a reload's canary: its workers start beside the
// current generation, which keeps its full strength.
func (s *Supervisor) startCanary(pol CanaryPolicy, nc *Loaded) {
	s.lastGen++
	c := &canary{gen: s.lastGen, size: pol.size(s.target), pol: pol, loaded: nc, allowed: -1, based: map[int]bool{}}
	s.canary = c
	s.phase = MasterCanary
	s.log(slog.LevelInfo, "canary: new generation starting beside the current one", "generation", c.gen, "workers", c.size,
		"of", s.target, "window", Dur(pol.Window))
	policy := s.cfg
	var settings any
	if nc != nil {
		policy, settings = nc.Policy, nc.Settings
	}
	for range c.size {
		s.spawnOf(c.gen, policy, settings)
	}
	s.notifyStatus()
}

// isCanary reports whether w belongs to the running canary (set apart from
// the current generation: never so in an upgrade's canary).
func (s *Supervisor) isCanary(w *worker) bool {
	return s.canary != nil && !s.canary.upgrade && w.Generation == s.canary.gen
}

// startUpgradeCanary begins a USR2 master's start-up with only a canary's
// share of the workers, serving beside the old master's; the rest start on
// promotion, and the take-over follows as without a canary. A rollback ends
// this master with an error (a non-zero exit): the old one serves on.
func (s *Supervisor) startUpgradeCanary(pol CanaryPolicy) {
	c := &canary{upgrade: true, size: pol.size(s.target), pol: pol, allowed: -1, based: map[int]bool{}}
	s.canary, s.target = c, c.size
}

// oldServed takes the old master's totals (an upgrade's canary): what it
// served since its last report is the old side's, from its second report
// in the window on.
func (s *Supervisor) oldServed(total Served) {
	c := s.canary
	if c == nil || !c.upgrade {
		return
	}
	switch {
	case c.started.IsZero():
	case !c.based[oldMasterID]: // its first report in the window spans the opening
		c.based[oldMasterID] = true
	default:
		c.old.add(total.since(c.oldLast))
	}
	c.oldLast = total
}

// oldMasterID stands for the old master's figures in canary.based (worker IDs start at 1).
const oldMasterID = 0

// canaryServed adds what w served since its last report to its side of the window.
func (s *Supervisor) canaryServed(w *worker, d Served) {
	c := s.canary
	if c == nil || c.started.IsZero() || !c.upgrade && w.Generation > c.gen {
		return
	}
	if !c.based[w.ID] { // what it served before the window (it reports at once on spread on)
		c.based[w.ID] = true
		return
	}
	if c.upgrade || w.Generation == c.gen {
		c.new.add(d)
	} else {
		c.old.add(d)
	}
}

// canaryTick opens the window once every canary worker is ready and
// decides at its end.
func (s *Supervisor) canaryTick() {
	c := s.canary
	if c == nil {
		return
	}
	if c.started.IsZero() {
		ready := 0
		for _, w := range s.workers {
			if (c.upgrade || w.Generation == c.gen) && w.Phase == PhaseReady {
				ready++
			}
		}
		if ready < c.size {
			return
		}
		c.started, c.ends = s.now, s.now.Add(c.pol.Window)
		s.log(slog.LevelInfo, "canary: window open", "generation", c.gen, "workers", c.size, "until", Dur(c.pol.Window))
		s.spread(true)
		s.holdCanary()
		s.notifyStatus()
		return
	}
	s.holdCanary()
	old, cur := s.canaryFigures()
	decision, reason, detail := c.pol.Judge(old, cur)
	if s.now.Before(c.ends) {
		// Errors decide early: a canary that has served enough to judge and
		// fails more than the limit allows is rolled back at once, as an
		// analysis's failure limit would. A build that fails fast answers
		// faster than the old one and so takes more than its share of a
		// listen queue the workers share: every tick it serves on costs
		// more requests than its share. Latency is judged over the whole
		// window only: its percentiles need the window's traffic.
		if decision == CanaryRollback && reason == ReasonErrors {
			s.rollback(reason, detail)
		}
		return
	}
	if reason == ReasonLowTraffic && !c.extended {
		c.extended, c.ends = true, s.now.Add(c.pol.Window)
		s.log(slog.LevelWarn, "canary: not enough traffic to judge; window extended once", "generation", c.gen, "detail", detail)
		return
	}
	if decision == CanaryPromote {
		s.promote(reason, detail)
		return
	}
	s.rollback(reason, detail)
}

// canaryFigures are the window's figures so far, old generation and new.
func (s *Supervisor) canaryFigures() (old, cur Figures) {
	c := s.canary
	old, cur = Figures{Served: c.old}, Figures{Served: c.new}
	for _, w := range s.workers {
		if !w.Phase.Serving() {
			continue
		}
		switch {
		case c.upgrade || w.Generation == c.gen:
			cur.Workers++
		case w.Generation <= s.gen:
			old.Workers++
		}
	}
	return old, cur
}

// spread has every serving worker close its older connections after their
// response (on) or no more: while on, kept-alive clients come back through
// the listen queue the workers share, so the canary serves its share of
// them (they would stay with the workers they had).
func (s *Supervisor) spread(on bool) {
	for _, w := range s.workers {
		if w.Phase.Serving() {
			s.send(w, WorkerCommand{Verb: Spread, On: on})
		}
	}
}

// decided ends the canary with a result.
func (s *Supervisor) decided(decision, reason, detail string) {
	if !s.canary.started.IsZero() {
		s.spread(false)
	}
	old, cur := s.canaryFigures()
	s.lastCanary = &CanaryResult{Generation: s.canary.gen, At: s.now, Decision: decision, Reason: reason, Detail: detail, Old: old, New: cur}
	s.do(Record{What: RecordCanary, Outcome: decision, Reason: reason})
	s.canary = nil
}

// promote makes the canary the current generation and rolls the rest of
// the workers over to it, ready-gated as a reload without a canary.
func (s *Supervisor) promote(reason, detail string) {
	c := s.canary
	s.log(slog.LevelInfo, "canary: promoted", "generation", c.gen, "reason", reason, "detail", detail)
	s.decided(CanaryPromote, reason, detail)
	if c.upgrade { // the rest of the workers start; the take-over follows once all are ready
		s.target = s.cfg.Workers
		return
	}
	s.applyLoaded(c.loaded)
	s.rollOver(c.gen)
}

// rollback ends the canary: its workers drain, the current generation
// serves on at full strength, the configuration stays the current one.
func (s *Supervisor) rollback(reason, detail string) {
	c := s.canary
	level := slog.LevelError
	if reason == ReasonSuperseded || reason == ReasonStopped {
		level = slog.LevelWarn
	}
	s.log(level, "canary: rolled back; the current generation keeps serving", "generation", c.gen, "reason", reason, "detail", detail)
	s.decided(CanaryRollback, reason, detail)
	if c.upgrade {
		if reason != ReasonStopped {
			s.fail(fmt.Errorf("prefork: binary upgrade rolled back by its canary (%s): %s", reason, detail))
		}
		return
	}
	for _, w := range s.workers {
		if w.Generation == c.gen {
			s.drain(w, ExitCanaryRollback, "canary rolled back: "+reason, false)
		}
	}
	if s.phase == MasterCanary {
		s.phase = MasterServing
		if reason != ReasonSuperseded && reason != ReasonStopped { // a new canary or the stop follows
			s.notifyReady("canary rolled back")
		}
	}
}

// canaryWorkerEnded rolls the canary back when one of its workers ends
// without being told (a crash, a failed boot, a kill for a timeout).
func (s *Supervisor) canaryWorkerEnded(w *worker, why string) {
	if s.canary == nil || !s.canary.upgrade && !s.isCanary(w) || w.Phase.told() && !w.failure {
		return
	}
	reason := ReasonCrash
	if w.readyAt.IsZero() {
		reason = ReasonBootFailure
	}
	s.rollback(reason, fmt.Sprintf("worker %d (pid %d): %s", w.ID, w.PID, why))
}

// notifyStatus refreshes systemd's STATUS= at once (the canary's steps).
func (s *Supervisor) notifyStatus() {
	if st := s.statusText(); st != s.lastStatus {
		s.lastStatus = st
		s.do(Notify{What: NotifyStatus, Status: st})
	}
}

func (s *Supervisor) canaryView() CanaryView {
	c := s.canary
	if c == nil {
		return CanaryView{}
	}
	old, cur := s.canaryFigures()
	return CanaryView{Generation: c.gen, Upgrade: c.upgrade, Size: c.size, Started: c.started, Ends: c.ends, Old: old, New: cur}
}
