package master

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// notify tells systemd what the supervisor decided (a Notify action).
func (m *masterShell) notify(a supervisor.Notify) {
	p := m.prod
	if p == nil {
		return
	}
	switch a.What {
	case supervisor.NotifyReloading:
		p.notify.Reloading()
	case supervisor.NotifyStopping:
		p.notify.Stopping()
	case supervisor.NotifyStatus:
		p.notify.Status(a.Status)
	case supervisor.NotifyReady:
		if err := p.notify.Ready(a.Status); err != nil {
			m.log.Warn("sd_notify", "err", err)
		}
		m.log.Debug("sd_notify READY=1", "after", a.After)
	}
}

// takeOver ends this master's start as a USR2 upgrade: pidfile, MAINPID and
// READY=1, then "ready <pid>" to the old master.
func (m *masterShell) takeOver(status string) {
	p := m.prod
	if p == nil || p.parent == nil {
		return
	}
	parent := p.parent
	p.parent = nil
	if m.cfg.PidFile != "" {
		if err := WritePidFile(m.cfg.PidFile); err != nil {
			m.log.Error("upgrade: pid file", "err", err)
		}
	}
	p.notify.Notify("MAINPID="+strconv.Itoa(os.Getpid()), "READY=1", "STATUS="+status)
	parent.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintf(parent, "ready %d\n", os.Getpid()); err != nil {
		m.log.Warn("upgrade: could not tell the old master", "err", err)
	}
	parent.Close()
	m.log.Info("upgrade: new master ready, took over", "pid", os.Getpid())
}

// responsive reports whether the master's loop answers within a second
// (called from the watchdog goroutine).
func (m *masterShell) responsive() bool {
	return m.ask(time.Second, func(*masterShell) {}) == nil
}
