package supervisor

import (
	"log/slog"
	"time"
)

// stopAll begins a graceful or quick stop of every worker; the loop ends
// when the last one is reaped.
func (s *Supervisor) stopAll(mode stopMode, why string) {
	if s.stop >= mode {
		return
	}
	if s.stop == running {
		if !s.handedOver && s.stopAt.IsZero() {
			s.do(Action{Kind: DoNotify, Arg: NotifyStopping})
		}
		s.StopReason = why
		s.log(slog.LevelInfo, "master stopping", "reason", why, "graceful", mode == stopGraceful, "workers", len(s.Workers))
		s.do(Action{Kind: DoCloseListeners}) // workers close theirs too: new connections are refused, not queued
	}
	s.stop = mode
	for _, w := range s.Workers {
		s.drain(w, ExitShutdown, "master stopping: "+why, mode == stopQuick)
	}
}

// fail stops the master quickly; Run returns err.
func (s *Supervisor) fail(err error) {
	if s.Err == nil {
		s.Err = err
	}
	s.stopAll(stopQuick, err.Error())
}

// drain tells a worker to drain (or quit) and sets its kill deadline.
func (s *Supervisor) drain(w *worker, k exitKind, why string, quick bool) {
	first := !w.Phase.told()
	if !first && !quick {
		return
	}
	cmd := CmdDrain
	if s.stop != running {
		cmd += " stop" // every worker is stopping: each serves the listen backlog first
	}
	if quick {
		cmd = CmdQuit
	}
	s.send(w, cmd)
	if first || w.Phase == phaseDraining {
		if first {
			w.Phase, w.reason, w.kind = phaseDraining, why, k
		}
		s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		s.logw(slog.LevelInfo, "stopping worker", w, []any{"reason", why, "quick", quick, "requests", w.Stats.Requests})
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
	sig := map[bool]string{true: "ABRT", false: "KILL"}[abort && w.Phase != phaseAborting]
	s.logw(slog.LevelError, "killing worker", w, []any{"reason", why, "stopping_for", w.reason,
		"age", Dur(s.now.Sub(w.Started)), "requests", w.Stats.Requests, "in_flight", w.Stats.InFlight,
		"state", w.Phase.String(), "signal", sig})
	s.do(Action{Kind: DoSignal, Worker: w.WorkerInfo, Arg: sig})
	if sig == "ABRT" {
		w.Phase = phaseAborting
		s.setDeadline(w, abortWait, why+"; still running after SIGABRT")
		return
	}
	w.Phase = PhaseKilled
}

func (s *Supervisor) send(w *worker, cmd string) {
	s.do(Action{Kind: DoSend, Worker: w.WorkerInfo, Arg: cmd})
}

func (s *Supervisor) notifyReady(after string) {
	s.do(Action{Kind: DoNotify, Arg: NotifyReady, Text: s.statusText(), Attrs: []any{"after", after}})
	s.takingOver = false
}

// stopping reports whether this master is on its way out (health probes: not ready).
func (s *Supervisor) Stopping() bool { return s.stop != running || s.handedOver || !s.stopAt.IsZero() }
