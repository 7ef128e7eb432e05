package supervisor

import (
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// tick enforces deadlines and timeouts, and refreshes systemd's status.
func (s *Supervisor) tick() {
	if !s.now.Before(s.nextStatus) {
		s.nextStatus = s.now.Add(statusEvery)
		if st := s.statusText(); st != s.lastStatus {
			s.lastStatus = st
			s.do(Notify{What: NotifyStatus, Status: st})
		}
	}
	s.canaryTick()
	if s.phase == MasterDelaying && !s.now.Before(s.stopAt) {
		s.stopAll(MasterStopping, "SIGTERM")
	}
	for _, w := range slices.Clone(s.workers) {
		if w.Phase == PhaseKilled {
			continue
		}
		if !w.deadline.IsZero() && s.now.After(w.deadline) {
			if w.Phase == phaseDraining && !w.dumped && s.now.Sub(w.lastSeen) < 2*s.cfg.Heartbeat+100*time.Millisecond {
				// it still talks: have it log its goroutines before the kill
				w.Phase, w.dumped = phaseDumping, true
				s.send(w, WorkerCommand{Verb: Dump, Reason: w.killWhy})
				w.deadline = s.now.Add(dumpWait)
				continue
			}
			s.kill(w, "", w.killWhy, false)
			continue
		}
		if s.cfg.Timeout <= 0 || w.Phase == phaseAborting {
			continue
		}
		switch {
		case w.Phase == PhaseBooting && s.now.Sub(w.started) > s.cfg.Timeout:
			why := fmt.Sprintf("not ready within the timeout (%s)", s.cfg.Timeout)
			s.bootFailed(w, why)
			s.kill(w, ExitBootFailure, "boot "+why, true)
		case w.Phase != PhaseBooting && s.now.Sub(w.lastSeen) > s.cfg.Timeout:
			s.kill(w, ExitTimeout, fmt.Sprintf("no heartbeat for %s (timeout %s)", Dur(s.now.Sub(w.lastSeen)), s.cfg.Timeout), true)
		case w.Phase == PhaseReady && w.stats.OldestRequest > s.cfg.Timeout && s.isCanary(w):
			s.rollback(ReasonLatency, fmt.Sprintf("worker %d: a request has run for %s (timeout %s)", w.ID, Dur(w.stats.OldestRequest), s.cfg.Timeout))
		case w.Phase == PhaseReady && w.stats.OldestRequest > s.cfg.Timeout:
			s.retire(w, ExitStuck, fmt.Sprintf("a request has run for %s (timeout %s)", Dur(w.stats.OldestRequest), s.cfg.Timeout))
			s.logw(slog.LevelWarn, "recycling worker: stuck request", w, []any{"reason", w.reason, "requests", w.stats.Requests})
			w.dumped = true
			s.send(w, WorkerCommand{Verb: Dump, Reason: w.reason})
		}
	}
}

// exited handles a reaped worker: the reason it ended, and whether that was
// the app's failure.
func (s *Supervisor) exited(w *worker, ex Exit) {
	s.remove(w)
	s.canaryWorkerEnded(w, "exited: "+ex.Desc)
	s.do(HookChildExit{Worker: w.WorkerInfo, Exit: ex})
	s.record(w, RecordExit, string(exitKindOf(w, ex)))
	attrs := []any{"exit", ex.Desc, "age", Dur(s.now.Sub(w.started)), "requests", w.stats.Requests}
	switch {
	case w.Phase.told() && !w.failure:
		s.logw(slog.LevelInfo, "worker exited", w, append(attrs, "reason", w.reason))
		return
	case w.Phase == PhaseBooting:
		why := w.failMsg
		if why == "" {
			why = "exited before ready: " + ex.Desc
		}
		s.logw(slog.LevelError, "worker failed to boot", w, append(attrs, "reason", why))
		s.bootFailed(w, why)
	default:
		why := w.reason
		switch {
		case w.Phase.told():
		case ex.Signal == SignalKill:
			// Someone else ended a worker that was serving: the app did not fail,
			// so this is not a crash loop and the replacement starts at once
			// (a backoff here would leave the port without workers while an
			// operator or the OOM killer picks them off one by one).
			s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", "SIGKILL from outside the master (the kernel's OOM killer? see dmesg)"))
			return
		case ex.Signal == SignalOther:
			why = "killed by a signal from outside the master"
		case w.stats.InFlight > 0:
			why = fmt.Sprintf("unexpected exit with %d requests in flight (a panic or os.Exit in the app? see its output above)", w.stats.InFlight)
		default:
			why = "unexpected exit (a panic or os.Exit in the app? see its output above)"
		}
		s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", why))
	}
	s.recordFailure()
}

// exitKindOf names why a reaped worker ended, by the same decisions as
// exited's log lines: what the master told it (w.kind), else how it ended.
func exitKindOf(w *worker, ex Exit) exitKind {
	switch {
	case w.Phase.told() && w.kind != "":
		return w.kind
	case w.Phase == PhaseBooting:
		return ExitBootFailure
	case w.Phase.told(): // told by a path that gives no kind (none today)
		return ExitOther
	case ex.Signal == SignalKill:
		return ExitKilled
	case ex.Signal == SignalOther:
		return ExitSignal
	}
	return ExitCrash
}

// bootFailed handles a worker that never became ready: at start-up it stops
// the master; during a reload it abandons the new generation.
func (s *Supervisor) bootFailed(w *worker, why string) {
	if w.Phase.told() {
		return
	}
	if w.failMsg != "" {
		why = w.failMsg
	}
	switch {
	case s.isCanary(w):
		s.rollback(ReasonBootFailure, fmt.Sprintf("worker %d (pid %d): %s", w.ID, w.PID, why))
	case s.phase == MasterStarting:
		s.fail(fmt.Errorf("prefork: worker failed to boot: %s", why))
	case s.phase == MasterReloading && w.Generation == s.gen:
		s.abandonReload(fmt.Sprintf("worker %d (pid %d): %s", w.ID, w.PID, why))
	}
}

// recordFailure counts one failure of the app towards the crash loop.
func (s *Supervisor) recordFailure() {
	if s.crash.record(s.now, max(5, s.target)) {
		s.log(slog.LevelError, "crash loop: delaying the next worker start", "failures", len(s.crash.failures),
			"window", Dur(crashWindow), "delay", Dur(s.crash.backoff))
	}
}

// crashLoop is the backoff state of the crash-loop policy.
type crashLoop struct {
	failures []time.Time // within crashWindow
	last     time.Time
	backoff  time.Duration
	next     time.Time // no worker starts before
}

// record adds a failure at now; it reports whether starts are now delayed.
func (c *crashLoop) record(now time.Time, threshold int) bool {
	if now.Sub(c.last) > crashStable {
		c.backoff = 0
	}
	c.last = now
	c.failures = slices.DeleteFunc(c.failures, func(t time.Time) bool { return now.Sub(t) >= crashWindow })
	c.failures = append(c.failures, now)
	if len(c.failures) <= threshold {
		return false
	}
	c.backoff = min(max(2*c.backoff, crashBackoffMin), crashBackoffMax)
	c.next = now.Add(c.backoff)
	return true
}
