package supervisor

import (
	"fmt"
	"log/slog"
	"time"
)

// Binary upgrades (USR2), the supervisor's side: at most one at a time, only
// while this master serves (not while it starts, itself perhaps taking over
// from an old master, nor during a reload or a stop).

// upgrade starts a binary upgrade (USR2): the shell starts the new master.
func (s *Supervisor) upgrade() {
	switch s.phase {
	case MasterServing:
		s.phase = MasterUpgrading
		s.do(StartUpgrade{})
		if s.canaryPol.Window > 0 { // the new master runs a canary beside these workers: spread the clients
			s.spread(true)
		}
	case MasterUpgrading:
		s.log(slog.LevelWarn, "USR2 ignored: an upgrade is already in progress")
	case MasterStarting:
		if s.opt.TakeOver {
			s.log(slog.LevelWarn, "USR2 ignored: this master is itself still taking over from the old one")
		} else {
			s.log(slog.LevelWarn, "USR2 ignored: the master is still starting")
		}
	case MasterReloading, MasterCanary:
		s.log(slog.LevelWarn, "USR2 ignored: a reload is in progress")
	}
}

// upgradeFailed: the new master did not start (started false: the shell
// said why), or must go; this master carries on.
func (s *Supervisor) upgradeFailed(why string, started bool) {
	if s.phase == MasterUpgrading {
		s.phase = MasterServing
		if s.canaryPol.Window > 0 {
			s.spread(false)
		}
	}
	s.record(nil, RecordUpgrade, UpgradeFailedOutcome)
	if !started {
		return
	}
	s.do(KillUpgrade{})
	s.do(WritePidFile{})
	s.log(slog.LevelError, "upgrade failed: new master killed, this master carries on", "reason", why)
	if !s.phase.leaving() {
		s.notifyReady("upgrade failed")
	}
}

// upgradeReady: the new master serves; this one hands over and drains.
func (s *Supervisor) upgradeReady(pid int, took time.Duration) {
	if s.phase != MasterUpgrading {
		s.upgradeFailed("master stopping", true)
		return
	}
	s.do(HandOver{PID: pid})
	s.record(nil, RecordUpgrade, UpgradeHandedOver)
	s.log(slog.LevelInfo, "upgrade: new master ready; draining and exiting", "new_master", pid, "took", Dur(took))
	s.stopAll(MasterHandedOver, fmt.Sprintf("binary upgrade: new master pid %d took over", pid))
}
