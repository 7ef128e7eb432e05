package supervisor

import (
	"log/slog"
)

// signal handles a signal to the master, or the control command that means
// the same (by names the source in logs).
func (s *Supervisor) signal(sig Signal, by string) {
	switch sig {
	case SigTerm:
		if s.phase.leaving() {
			s.stopAll(MasterStopping, "SIGTERM")
			return
		}
		if s.cfg.ShutdownDelay > 0 {
			if s.canary != nil { // the master is on its way out: nothing to promote
				s.rollback(ReasonStopped, "SIGTERM")
			}
			// Endpoints and proxies still send for a moment: serve on, unready.
			s.phase, s.stopAt = MasterDelaying, s.now.Add(s.cfg.ShutdownDelay)
			s.do(Notify{What: NotifyStopping})
			s.log(slog.LevelInfo, "master stopping after the shutdown delay", "reason", "SIGTERM", "shutdown_delay", s.cfg.ShutdownDelay, "by", by)
			return
		}
		s.stopAll(MasterStopping, "SIGTERM")
	case SigInt, SigQuit:
		s.stopAll(MasterQuitting, "SIG"+sig.String())
	case SigHup:
		s.hup(by)
	case SigTTIN:
		s.setTarget(s.target+1, by)
	case SigTTOU:
		if s.target <= 1 {
			s.log(slog.LevelWarn, "TTOU ignored: never fewer than 1 worker", "by", by)
			return
		}
		s.setTarget(s.target-1, by)
	case SigUSR1:
		s.do(ReopenLogs{})
		for _, w := range s.workers {
			s.send(w, WorkerCommand{Verb: Reopen})
		}
		s.log(slog.LevelInfo, "log files reopened (USR1)")
	case SigUSR2:
		s.upgrade()
	}
}

// hup asks for the configuration of a reload: none while leaving or while a
// binary upgrade boots (the new master reads config/ itself).
func (s *Supervisor) hup(by string) {
	switch s.phase {
	case MasterStarting, MasterServing, MasterReloading, MasterCanary:
	case MasterUpgrading:
		s.log(slog.LevelWarn, "reload ignored: a binary upgrade (USR2) is in progress", "by", by)
		return
	default:
		return
	}
	if s.canary != nil && s.canary.upgrade { // reloading the judged workers would muddle the decision
		s.log(slog.LevelWarn, "reload ignored: this master is a binary upgrade's (USR2) new one, and its canary is deciding whether it takes over", "by", by)
		return
	}
	if s.phase != MasterStarting { // nothing was announced yet: READY=1 comes with the start-up's end
		s.do(Notify{What: NotifyReloading})
	}
	s.log(slog.LevelInfo, "reload requested", "by", by, "generation", s.lastGen+1)
	s.do(LoadConfig{})
}

func (s *Supervisor) setTarget(n int, why string) {
	if s.phase.stopped() || n == s.target {
		return
	}
	old := s.target
	s.target = n
	s.log(slog.LevelInfo, "worker count changed", "from", old, "to", n, "reason", why)
	s.do(HookWorkers{N: n, Old: old})
}

// reload starts a new generation with the configuration the shell loaded
// (nil: the current one). One that failed to load starts nothing. This is
// the reload merge: the policy is taken whole, a worker count changed by
// TTIN/TTOU stands until the file changes it, and listen addresses stay as
// bound (ApplyConfig's Settings are the loaded ones; the shell keeps its
// listeners). With a canary window the new generation is a canary first
// (canary.go), and the configuration applies on its promotion; a reload
// during a canary supersedes it.
func (s *Supervisor) reload(nc *Loaded, err error) {
	switch s.phase {
	case MasterStarting, MasterServing, MasterReloading, MasterCanary:
	default:
		return
	}
	s.reloadErr = err
	if err != nil {
		s.log(slog.LevelError, "reload: configuration not applied; nothing restarted, the current workers keep serving", "err", err)
		if s.phase != MasterCanary { // READY=1 comes with the canary's decision
			s.notifyReady("reload failed")
		}
		return
	}
	if nc != nil && nc.Bind != nil && !s.opt.Inherited {
		s.log(slog.LevelWarn, "reload: bind addresses changed; a restart (or USR2) is needed to apply them", "bind", joinComma(nc.Bind))
	}
	s.do(HookReload{})
	if s.canary != nil { // never an upgrade's: hup refuses reloads during it
		s.rollback(ReasonSuperseded, "a newer reload came during the canary")
	}
	pol := s.canaryPol
	if nc != nil {
		pol = nc.Canary
	}
	if pol.Window > 0 && s.phase == MasterServing {
		s.startCanary(pol, nc)
		return
	}
	s.applyLoaded(nc)
	s.lastGen++
	s.rollOver(s.lastGen)
}

// applyLoaded makes a loaded configuration current (nil: none loaded).
func (s *Supervisor) applyLoaded(nc *Loaded) {
	if nc == nil {
		return
	}
	was := s.cfg.Workers
	s.cfg, s.canaryPol = nc.Policy, nc.Canary
	s.do(ApplyConfig{Settings: nc.Settings})
	if nc.Policy.Workers != was { // a TTIN/TTOU count stands until the file changes
		s.setTarget(nc.Policy.Workers, "reload")
	}
}

// rollOver makes gen the current generation: the older ones retire as its
// workers become ready.
func (s *Supervisor) rollOver(gen int) {
	s.gen = gen
	if s.phase != MasterStarting { // at start-up the new generation is simply the start-up's
		s.phase = MasterReloading
	}
	for _, w := range s.workers {
		if w.Generation < s.gen {
			s.retire(w, ExitReload, "reload: replaced by generation "+itoa(s.gen))
		}
	}
}

// abandonReload gives up a generation that failed to boot: its booting
// workers quit and the workers it was to replace serve on.
func (s *Supervisor) abandonReload(why string) {
	s.log(slog.LevelError, "reload abandoned: the new generation failed to boot; the current workers keep serving",
		"generation", s.gen, "reason", why)
	s.record(nil, RecordReload, ReloadAbandoned)
	for _, w := range s.workers {
		switch {
		case w.Generation == s.gen && w.Phase == PhaseBooting:
			s.drain(w, ExitBootFailure, "abandoned generation", true)
		case w.Generation < s.gen && w.Phase == PhaseRetiring && w.kind == ExitReload:
			w.Phase, w.reason, w.kind = PhaseReady, "", ""
		}
	}
	s.phase = MasterServing
	s.notifyReady("reload abandoned")
}
