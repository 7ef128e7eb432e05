package supervisor

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// stopAll begins a graceful (MasterStopping, MasterHandedOver) or quick
// (MasterQuitting) stop of every worker; the loop ends when the last one is
// reaped.
func (s *Supervisor) stopAll(mode MasterPhase, why string) {
	if s.phase >= mode {
		return
	}
	if s.canary != nil {
		s.rollback(ReasonStopped, "the master stops: "+why)
	}
	if !s.phase.stopped() {
		if mode != MasterHandedOver && s.phase != MasterDelaying { // else STOPPING=1 went already, or is the new master's
			s.do(Notify{What: NotifyStopping})
		}
		s.stopReason = why
		s.log(slog.LevelInfo, "master stopping", "reason", why, "graceful", mode != MasterQuitting, "workers", len(s.workers))
		s.do(CloseListeners{}) // workers close theirs too: new connections are refused, not queued
	}
	s.phase, s.stopAt = mode, time.Time{}
	for _, w := range s.workers {
		s.drain(w, ExitShutdown, "master stopping: "+why, mode == MasterQuitting)
	}
}

// fail stops the master quickly; Run returns err.
func (s *Supervisor) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.stopAll(MasterQuitting, err.Error())
}

// drain tells a worker to drain (or quit) and sets its kill deadline.
func (s *Supervisor) drain(w *worker, k exitKind, why string, quick bool) {
	first := !w.Phase.told()
	if !first && !quick {
		return
	}
	cmd := WorkerCommand{Verb: Drain, Stop: s.phase.stopped()} // every worker is stopping: each serves the listen backlog first
	if quick {
		cmd = WorkerCommand{Verb: Quit}
	}
	s.send(w, cmd)
	if first || w.Phase == phaseDraining {
		if first {
			w.Phase, w.reason, w.kind = phaseDraining, why, k
		}
		s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		s.logw(slog.LevelInfo, "stopping worker", w, []any{"reason", why, "quick", quick, "requests", w.stats.Requests})
	}
}

func (s *Supervisor) setDeadline(w *worker, after time.Duration, why string) {
	w.deadline, w.killWhy = s.now.Add(after), why
}

// kill ends a worker that did not stop in time, or (k set) one that failed
// while serving, for reason k. With abort, SIGABRT first makes the Go
// runtime print every goroutine's stack (to the error log), and KILL
// follows if it is still there.
func (s *Supervisor) kill(w *worker, k exitKind, why string, abort bool) {
	if w.Phase == PhaseKilled {
		return
	}
	if !w.Phase.told() {
		w.reason, w.kind, w.failure = why, k, true
	}
	sig := Kill
	if abort && w.Phase != phaseAborting {
		sig = Abort
	}
	s.logw(slog.LevelError, "killing worker", w, []any{"reason", why, "stopping_for", w.reason,
		"age", Dur(s.now.Sub(w.started)), "requests", w.stats.Requests, "in_flight", w.stats.InFlight,
		"state", w.Phase.String(), "signal", sig.String()})
	s.do(SignalWorker{Worker: w.WorkerInfo, Sig: sig})
	if sig == Abort {
		w.Phase = phaseAborting
		s.setDeadline(w, abortWait, why+"; still running after SIGABRT")
		return
	}
	w.Phase, w.deadline = PhaseKilled, time.Time{}
}

func (s *Supervisor) send(w *worker, cmd WorkerCommand) {
	s.do(Send{Worker: w.WorkerInfo, Command: cmd})
}

// notifyReady sends READY=1 again after a reload or a failed upgrade; at
// start-up announce sends the first.
func (s *Supervisor) notifyReady(after string) {
	if s.phase == MasterStarting {
		return
	}
	s.do(Notify{What: NotifyReady, Status: s.statusText(), After: after})
}

func itoa(n int) string { return strconv.Itoa(n) }

func joinComma(s []string) string { return strings.Join(s, ",") }
