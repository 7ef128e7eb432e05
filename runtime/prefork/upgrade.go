package prefork

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Binary upgrade (USR2), the way tableflip does it, with systemd in mind:
//
//  1. The old master starts the binary on disk (the path it was started
//     from) with the same arguments, handing over its listeners
//     (PREFORK_LISTEN_FDS) and the write end of a pipe (PREFORK_UPGRADE_FD).
//  2. The new master boots its workers. Once all are ready it writes the
//     pidfile, sends MAINPID=<its pid> and READY=1 to systemd, and writes
//     "ready <pid>" on the pipe.
//  3. The old master sends MAINPID=<new pid> as well (with NotifyAccess=main
//     only the current main process is listened to), then drains its
//     workers and exits 0 without STOPPING=1 and without unlinking the
//     unix sockets or the pidfile, which now belong to the new master.
//
// If the new master exits, or is not ready within UpgradeTimeout, it is
// killed (its workers see their control pipe close and exit), the old
// master rewrites its pidfile and carries on serving. At any time at most
// one upgrade is in progress, and at most one master is not ready.

// EnvUpgradeFD names the fd on which a new master started by USR2 reports
// "ready <pid>" to the old one.
const EnvUpgradeFD = "PREFORK_UPGRADE_FD"

// masterProd is the master's state for the production features; only the
// master's loop goroutine touches it, except where noted.
type masterProd struct {
	notify     *Notifier
	control    *controlServer
	health     *healthServer
	creds      *Credentials
	started    time.Time
	rss        map[int]int64 // worker ID -> last RSS read
	nextRSS    time.Time
	statusLine string
	nextStatus time.Time
	stopWD     chan struct{}
	upgrading  *upgradeState
	handedOver bool     // a new master took over: exit quietly
	parent     *os.File // this master was started by USR2: report ready here
}

type upgradeState struct {
	cmd     *exec.Cmd
	started time.Time
}

// upgradeChildPipe takes the pipe to the old master when this master was
// started by a USR2 upgrade, and unsets the variable.
func upgradeChildPipe() *os.File {
	s := os.Getenv(EnvUpgradeFD)
	if s == "" {
		return nil
	}
	os.Unsetenv(EnvUpgradeFD)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil
	}
	closeOnExec(fd) // workers must not hold the old master's pipe open
	return os.NewFile(uintptr(fd), "upgrade-pipe")
}

// startProduction runs in the master after binding: unix socket access,
// log files for the dropped user, the control socket, the privilege drop,
// and systemd's watchdog.
func (m *master) startProduction() error {
	p := &masterProd{notify: NewNotifier(), started: time.Now(), rss: map[int]int64{}, stopWD: make(chan struct{})}
	m.prod = p
	var err error
	if p.creds, err = LookupCredentials(m.cfg.User, m.cfg.Group); err != nil {
		return err
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
		var mode os.FileMode
		if m.cfg.BindMode != "" {
			v, _ := ParseOctalMode("bind-mode", m.cfg.BindMode, 0o777)
			mode = os.FileMode(v)
		}
		if err := applyUnixSocketAccess(m.lns, mode, uid, gid); err != nil {
			return err
		}
	}
	for _, path := range []string{m.cfg.AccessLog, m.cfg.ErrorLog} {
		if err := prepareLogFile(path, p.creds); err != nil {
			return err
		}
	}
	if m.cfg.ControlSocket != "" {
		p.control, err = listenControl(m.cfg.ControlSocket, m.controlCommand, m.log.Logger)
		if err != nil {
			return err
		}
		if p.creds.needsChange() {
			os.Lchown(m.cfg.ControlSocket, int(p.creds.UID), int(p.creds.GID))
		}
	}
	if m.cfg.HealthBind != "" {
		if p.health, err = listenHealth(m.cfg.HealthBind, m.queryHealth, m.log.Logger); err != nil {
			return err
		}
	}
	if p.creds.needsChange() {
		if err := p.creds.Drop(); err != nil {
			return err
		}
		m.log.Info("privileges dropped", "user", m.cfg.User, "group", m.cfg.Group, "uid", p.creds.UID, "gid", p.creds.GID)
	}
	p.notify.StartWatchdog(WatchdogInterval(), m.responsive, p.stopWD)
	return nil
}

// responsive reports whether the master's loop answers within a second
// (called from the watchdog goroutine).
func (m *master) responsive() bool {
	ok := make(chan struct{})
	select {
	case m.calls <- func(*master) { close(ok) }:
	case <-m.done:
		return false
	case <-time.After(time.Second):
		return false
	}
	select {
	case <-ok:
		return true
	case <-time.After(time.Second):
		return false
	}
}

// stopProduction runs as the master finishes.
func (m *master) stopProduction() {
	p := m.prod
	if p == nil {
		return
	}
	close(p.stopWD)
	p.control.Close()
	p.health.Close()
	if p.parent != nil {
		p.parent.Close()
	}
}

// sdReady tells systemd the service is ready (start-up, end of a reload),
// and a master started by USR2 takes over from the old one.
func (m *master) sdReady(what string) {
	p := m.prod
	if p == nil {
		return
	}
	status := m.statusText()
	if p.parent != nil {
		parent := p.parent
		p.parent = nil
		if m.cfg.PidFile != "" {
			if err := writePidFile(m.cfg.PidFile); err != nil {
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
		return
	}
	if err := p.notify.Ready(status); err != nil {
		m.log.Warn("sd_notify", "err", err)
	}
	m.log.Debug("sd_notify READY=1", "after", what)
}

func (m *master) sdReloading() {
	if m.prod != nil {
		m.prod.notify.Reloading()
	}
}

func (m *master) sdStopping() {
	if m.prod != nil && !m.prod.handedOver {
		m.prod.notify.Stopping()
	}
}

// statusText is systemd's STATUS= line.
func (m *master) statusText() string {
	ready, reqs := 0, int64(0)
	for _, w := range m.workers {
		if w.state == stateReady {
			ready++
		}
		reqs += w.stats.Requests
	}
	return fmt.Sprintf("%d workers ready (target %d), generation %d, %d requests served by current workers", ready, m.target, m.gen, reqs)
}

// tickProduction runs on the master's tick: memory recycling and STATUS=.
func (m *master) tickProduction(now time.Time) {
	p := m.prod
	if p == nil {
		return
	}
	if now.After(p.nextStatus) && p.notify.Enabled() {
		p.nextStatus = now.Add(5 * time.Second)
		if s := m.statusText(); s != p.statusLine {
			p.statusLine = s
			p.notify.Status(s)
		}
	}
	if now.Before(p.nextRSS) {
		return
	}
	p.nextRSS = now.Add(time.Second)
	for id := range p.rss {
		if _, ok := m.workers[id]; !ok {
			delete(p.rss, id)
		}
	}
	for _, w := range m.sorted() {
		if w.PID == 0 || w.killed {
			continue
		}
		rss, err := ReadRSS(w.PID)
		if err != nil {
			continue
		}
		p.rss[w.ID] = rss
		limit := m.cfg.MaxWorkerMemory
		if limit > 0 && rss > limit && w.state == stateReady && w.replace == "" && w.stopReason == "" {
			w.replace = fmt.Sprintf("memory %s over max-worker-memory %s", formatBytes(rss), formatBytes(limit))
			m.log.Warn("recycling worker", "worker", w.ID, "generation", w.Generation, "pid", w.PID,
				"reason", w.replace, "rss", rss, "requests", w.stats.Requests)
		}
	}
}

// controlCommand answers the control socket (from its goroutine) by
// running on the master's loop.
func (m *master) controlCommand(cmd string) (Status, error) {
	type result struct {
		st  Status
		err error
	}
	res := make(chan result, 1)
	call := func(m *master) {
		switch cmd {
		case ControlStatus:
		case ControlReload:
			m.reload()
		case ControlTTIN:
			m.setTarget(m.target+1, "control socket: ttin")
		case ControlTTOU:
			if m.target > 1 {
				m.setTarget(m.target-1, "control socket: ttou")
			}
		default:
			res <- result{err: fmt.Errorf("unknown command %q (want status, reload, ttin or ttou)", cmd)}
			return
		}
		res <- result{st: m.status()}
	}
	select {
	case m.calls <- call:
	case <-m.done:
		return Status{}, errors.New("master is stopping")
	case <-time.After(controlTimeout):
		return Status{}, errors.New("master busy")
	}
	r := <-res
	if r.err != nil {
		return Status{}, r.err
	}
	for i, w := range r.st.Workers { // fresh RSS, read off the loop
		if rss, err := ReadRSS(w.PID); err == nil {
			r.st.Workers[i].RSSBytes = rss
		}
	}
	return r.st, nil
}

// status builds the status report (on the loop).
func (m *master) status() Status {
	st := Status{PID: os.Getpid(), Generation: m.gen, Workers: []WorkerReport{}}
	if m.prod != nil {
		st.Started = m.prod.started
	}
	now := time.Now()
	for _, w := range m.snapshot() {
		st.Workers = append(st.Workers, WorkerReport{
			ID: w.ID, Generation: w.Generation, PID: w.PID, State: w.State,
			AgeSeconds: now.Sub(w.Started).Seconds(), Requests: w.Requests, InFlight: w.InFlight,
			RSSBytes: m.prod.rss[w.ID],
		})
	}
	return st
}

// upgrade starts the binary on disk as a new master (USR2).
func (m *master) upgrade() {
	p := m.prod
	switch {
	case p == nil || m.stopping != running:
		return
	case p.upgrading != nil:
		m.log.Warn("USR2 ignored: an upgrade is already in progress", "new_master", p.upgrading.cmd.Process.Pid)
		return
	case p.parent != nil:
		m.log.Warn("USR2 ignored: this master is itself still taking over from the old one")
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		m.log.Error("upgrade failed", "err", err)
		return
	}
	files := append(slices.Clone(m.files), w)
	cmd := exec.Command(m.exe)
	cmd.Args = m.args
	env := InheritEnv(m.files, m.names)
	// systemd meant WATCHDOG_PID for this process; the new master pings as main pid
	env = slices.DeleteFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "WATCHDOG_PID=") || strings.HasPrefix(kv, EnvUpgradeFD+"=")
	})
	cmd.Env = append(env, EnvUpgradeFD+"="+strconv.Itoa(3+len(m.files)))
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		m.log.Error("upgrade failed: cannot start the new master", "exe", m.exe, "err", err)
		return
	}
	up := &upgradeState{cmd: cmd, started: time.Now()}
	p.upgrading = up
	m.log.Info("upgrade: new master started (USR2)", "pid", cmd.Process.Pid, "exe", m.exe, "timeout", m.cfg.UpgradeTimeout)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // the one Wait; it lives on if the new master takes over
	go func() {
		line := make(chan string, 1)
		go func() {
			s, _ := bufio.NewReader(r).ReadString('\n')
			line <- s
		}()
		var why string
		newPID := 0
		select {
		case s := <-line:
			if f := strings.Fields(s); len(f) == 2 && f[0] == "ready" {
				newPID, _ = strconv.Atoi(f[1])
			} else {
				select {
				case err := <-exited:
					why = fmt.Sprintf("new master exited before ready: %v", err)
				case <-time.After(time.Second):
					why = "new master closed the upgrade pipe before ready"
				}
			}
		case <-time.After(m.cfg.UpgradeTimeout):
			why = fmt.Sprintf("new master not ready within %s", m.cfg.UpgradeTimeout)
		}
		r.Close()
		select {
		case m.calls <- func(m *master) { m.upgradeDone(up, newPID, why) }:
		case <-m.done:
			if newPID == 0 {
				cmd.Process.Kill()
			}
		}
	}()
}

// upgradeDone ends an upgrade on the loop: hand over, or kill the new
// master and carry on.
func (m *master) upgradeDone(up *upgradeState, newPID int, why string) {
	p := m.prod
	p.upgrading = nil
	if newPID == 0 || m.stopping != running {
		if why == "" {
			why = "master stopping"
		}
		up.cmd.Process.Kill()
		if m.cfg.PidFile != "" {
			if err := writePidFile(m.cfg.PidFile); err != nil {
				m.log.Error("pid file", "err", err)
			}
		}
		m.log.Error("upgrade failed: new master killed, this master carries on", "new_master", up.cmd.Process.Pid, "reason", why)
		p.notify.Ready(m.statusText())
		return
	}
	p.handedOver = true
	p.notify.MainPID(newPID)
	for _, ln := range m.lns {
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false) // the socket file serves the new master now
		}
	}
	m.log.Info("upgrade: new master ready; draining and exiting", "new_master", newPID,
		"took", time.Since(up.started).Round(time.Millisecond))
	m.stop(stopGraceful, fmt.Sprintf("binary upgrade: new master pid %d took over", newPID))
}
