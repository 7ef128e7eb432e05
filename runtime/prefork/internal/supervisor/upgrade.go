package supervisor

import (
	"fmt"
	"log/slog"
	"time"
)

// The supervisor's side: at most one upgrade at a time, none while this
// master itself is still taking over.

// upgrade starts a binary upgrade (USR2): the loop starts the new master.
func (s *Supervisor) upgrade() {
	switch {
	case s.stop != running:
	case s.upgrading:
		s.log(slog.LevelWarn, "USR2 ignored: an upgrade is already in progress")
	case s.takingOver:
		s.log(slog.LevelWarn, "USR2 ignored: this master is itself still taking over from the old one")
	default:
		s.upgrading = true
		s.do(Action{Kind: DoStartUpgrade})
	}
}

// upgradeFailed: the new master did not start (started false: the loop
// said why), or must go; this master carries on.
func (s *Supervisor) upgradeFailed(why string, started bool) {
	s.upgrading = false
	s.record(nil, RecordUpgrade, UpgradeFailedOutcome)
	if !started {
		return
	}
	s.do(Action{Kind: DoKillUpgrade})
	s.do(Action{Kind: DoWritePidFile})
	s.log(slog.LevelError, "upgrade failed: new master killed, this master carries on", "reason", why)
	s.notifyReady("upgrade failed")
}

// upgradeReady: the new master serves; this one hands over and drains.
func (s *Supervisor) upgradeReady(pid int, took time.Duration) {
	if s.stop != running {
		s.upgradeFailed("master stopping", true)
		return
	}
	s.upgrading, s.handedOver = false, true
	s.do(Action{Kind: DoHandOver, N: pid})
	s.record(nil, RecordUpgrade, UpgradeHandedOver)
	s.log(slog.LevelInfo, "upgrade: new master ready; draining and exiting", "new_master", pid, "took", Dur(took))
	s.stopAll(stopGraceful, fmt.Sprintf("binary upgrade: new master pid %d took over", pid))
}
