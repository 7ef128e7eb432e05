package supervisor

import (
	"log/slog"
	"strconv"
	"strings"
)

// signal handles a signal to the master, or the control command that means
// the same (by names the source in logs).
func (s *Supervisor) signal(sig, by string) {
	switch sig {
	case "TERM":
		if s.stop == running && s.stopAt.IsZero() && s.cfg.ShutdownDelay > 0 {
			// Endpoints and proxies still send for a moment: serve on, unready.
			s.stopAt = s.now.Add(s.cfg.ShutdownDelay)
			if !s.handedOver {
				s.do(Action{Kind: DoNotify, Arg: NotifyStopping})
			}
			s.log(slog.LevelInfo, "master stopping after the shutdown delay", "reason", "SIGTERM", "shutdown_delay", s.cfg.ShutdownDelay, "by", by)
			return
		}
		s.stopAll(stopGraceful, "SIGTERM")
	case "INT", "QUIT":
		s.stopAll(stopQuick, "SIG"+sig)
	case "HUP":
		if s.stop != running || !s.stopAt.IsZero() {
			return
		}
		s.do(Action{Kind: DoNotify, Arg: NotifyReloading})
		s.log(slog.LevelInfo, "reload requested", "by", by, "generation", s.Gen+1)
		s.do(Action{Kind: DoLoadConfig})
	case "TTIN":
		s.setTarget(s.Target+1, by)
	case "TTOU":
		if s.Target <= 1 {
			s.log(slog.LevelWarn, "TTOU ignored: never fewer than 1 worker", "by", by)
			return
		}
		s.setTarget(s.Target-1, by)
	case "USR1":
		s.do(Action{Kind: DoReopenLogs})
		for _, w := range s.Workers {
			s.send(w, CmdReopen)
		}
		s.log(slog.LevelInfo, "log files reopened (USR1)")
	case "USR2":
		s.upgrade()
	}
}

// controlSignals maps the control socket's commands to the signal they stand for.
var ControlSignals = map[string]string{ControlStatus: "", ControlReload: "HUP", ControlTTIN: "TTIN", ControlTTOU: "TTOU"}

func (s *Supervisor) setTarget(n int, why string) {
	if s.stop != running || n == s.Target {
		return
	}
	old := s.Target
	s.Target = n
	s.log(slog.LevelInfo, "worker count changed", "from", old, "to", n, "reason", why)
	s.do(Action{Kind: DoHookWorkers, N: n, Old: old})
}

// reload starts a new generation with the configuration the loop loaded
// (nil: the current one). One that failed to load starts nothing.
func (s *Supervisor) reload(nc *Policy, err error) {
	if s.stop != running || !s.stopAt.IsZero() {
		return
	}
	if err != nil {
		s.log(slog.LevelError, "reload: configuration not applied; nothing restarted, the current workers keep serving", "err", err)
		s.notifyReady("reload failed")
		return
	}
	if nc != nil {
		was := s.cfg.Workers
		s.cfg = *nc
		s.do(Action{Kind: DoApplyConfig})
		if nc.Workers != was { // a TTIN/TTOU count stands until the file changes
			s.setTarget(nc.Workers, "reload")
		}
	}
	s.do(Action{Kind: DoHookReload})
	s.Gen++
	s.rollout = s.Gen
	for _, w := range s.Workers {
		s.retire(w, ExitReload, reloadReason(s.Gen))
	}
}

const reloadPrefix = "reload: replaced by generation "

func reloadReason(gen int) string    { return reloadPrefix + strconv.Itoa(gen) }
func isReloadReason(why string) bool { return strings.HasPrefix(why, reloadPrefix) }

// abandonReload gives up a generation that failed to boot: its booting
// workers quit and the workers it was to replace serve on.
func (s *Supervisor) abandonReload(why string) {
	s.log(slog.LevelError, "reload abandoned: the new generation failed to boot; the current workers keep serving",
		"generation", s.rollout, "reason", why)
	s.record(nil, RecordReload, ReloadAbandoned)
	for _, w := range s.Workers {
		switch {
		case w.Generation == s.rollout && w.Phase == PhaseBooting:
			s.drain(w, ExitBootFailure, "abandoned generation", true)
		case w.Phase == PhaseRetiring && isReloadReason(w.reason):
			w.Phase, w.reason, w.kind = PhaseReady, "", ""
		}
	}
	s.rollout = 0
	s.notifyReady("reload abandoned")
}
