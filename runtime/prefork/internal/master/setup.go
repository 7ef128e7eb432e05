package master

import (
	"fmt"
	"os"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// masterProd is the master's state for the production features; only the
// loop's goroutine touches it.
type masterProd struct {
	notify    *Notifier
	control   *controlServer
	health    *serving.SideServer
	creds     *credentials
	started   time.Time
	stopWD    chan struct{}
	upgrading *upgradeState
	parent    *os.File // this master was started by USR2: report ready here
}

// startProduction runs in the master after binding: unix socket access,
// log files for the dropped user, the control socket, the privilege drop,
// and systemd's watchdog.
func (m *masterShell) startProduction() error {
	p := &masterProd{notify: NotifierFromEnv(), started: time.Now(), stopWD: make(chan struct{})}
	m.prod = p
	var err error
	if p.creds, err = lookupCredentials(m.cfg.User, m.cfg.Group); err != nil {
		return err
	}
	if p.creds != nil && !m.cfg.Initgroups {
		p.creds.Groups = []uint32{p.creds.GID} // as Gunicorn: the user's other groups only with --initgroups
	}
	if !m.inherited || m.cfg.BindMode != "" || m.cfg.BindGroup != "" {
		uid, gid := -1, -1
		if p.creds.needsChange() && !m.inherited {
			uid, gid = int(p.creds.UID), int(p.creds.GID) // so the dropped master can unlink them
		}
		if m.cfg.BindGroup != "" {
			g, err := lookupGroupID(m.cfg.BindGroup)
			if err != nil {
				return fmt.Errorf("prefork: --bind-group %s: %w", m.cfg.BindGroup, err)
			}
			gid = int(g)
		}
		if err := applyUnixSocketAccess(m.lns, m.cfg.Modes.BindMode, uid, gid); err != nil {
			return err
		}
	}
	for _, path := range []string{m.cfg.AccessLog, m.cfg.ErrorLog} {
		if err := prepareLogFile(path, p.creds); err != nil {
			return err
		}
	}
	if m.cfg.ControlSocket != "" && !m.cfg.NoControlSocket {
		mode := m.cfg.Modes.ControlSocket // withDefaults parsed it (default 0600)
		// the control socket never takes the service down: a directory that
		// cannot be made or written is reported once, and the server serves
		p.control, err = ListenControl(m.cfg.ControlSocket, mode, m.controlCommand, m.sharedLog)
		if err != nil {
			m.log.Warn("control socket not available; serving without it", "err", err)
		} else if p.creds.needsChange() {
			os.Lchown(m.cfg.ControlSocket, int(p.creds.UID), int(p.creds.GID))
		}
	}
	if m.cfg.ReusePort && !m.inherited && serving.MigrateReqOff() {
		m.log.Warn("reuse-port: while net.ipv4.tcp_migrate_req is 0, connections still queued on this master's sockets when it stops are reset instead of handed to the other processes on the port; set it to 1 (sysctl -w net.ipv4.tcp_migrate_req=1)")
	}
	if m.cfg.HealthBind != "" {
		if p.health, err = listenHealth(m.cfg.HealthBind, m.queryHealth, m.log.Logger); err != nil {
			return err
		}
	}
	if err := m.startObservability(); err != nil { // before the privilege drop: a low port still binds
		return err
	}
	if p.creds.needsChange() {
		if err := p.creds.Drop(); err != nil {
			return err
		}
		m.log.Info("privileges dropped", "user", m.cfg.User, "group", m.cfg.Group, "uid", p.creds.UID, "gid", p.creds.GID)
	}
	p.notify.StartWatchdog(WatchdogIntervalFromEnv(), m.responsive, p.stopWD)
	return nil
}

// stopProduction runs as the master finishes.
func (m *masterShell) stopProduction() {
	p := m.prod
	if p == nil {
		return
	}
	close(p.stopWD)
	p.control.Close()
	p.health.Close()
	m.stopObservability()
	if p.parent != nil {
		p.parent.Close()
	}
}

// prepareLogFile creates path (unless "-" or empty) and gives it to the
// user the processes will run as, so a worker that dropped privileges can
// still open it, as Gunicorn's workers inherit theirs.
func prepareLogFile(path string, cr *credentials) error {
	if path == "" || path == "-" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("prefork: log file: %w", err)
	}
	defer f.Close()
	if cr.needsChange() {
		if err := f.Chown(int(cr.UID), int(cr.GID)); err != nil {
			return fmt.Errorf("prefork: log file %s: chown to %s: %w", path, cr, err)
		}
	}
	return nil
}
