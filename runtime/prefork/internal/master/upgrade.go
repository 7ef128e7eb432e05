package master

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Binary upgrade (USR2), the way tableflip does it, with systemd in mind:
//
//  1. The old master starts the binary on disk (the path it was started
//     from) with the same arguments, handing over its listeners
//     (PREFORK_LISTEN_FDS) and the write end of a pipe (PREFORK_UPGRADE_FD).
//  2. The new master boots its workers. Once all are ready it writes the
//     pidfile, sends MAINPID=<its pid> and READY=1 to systemd, and writes
//     "ready <pid>" on the pipe (systemd.go, takeOver).
//  3. The old master sends MAINPID=<new pid> as well (with NotifyAccess=main
//     only the current main process is listened to), then drains its
//     workers and exits 0 without STOPPING=1 and without unlinking the
//     unix sockets or the pidfile, which now belong to the new master.
//
// If the new master exits, or is not ready within UpgradeTimeout, it is
// killed (its workers see their control pipe close and exit), the old
// master rewrites its pidfile and carries on serving. At any time at most
// one upgrade is in progress, and at most one master is not ready (the
// supervisor's upgrade, upgradeFailed and upgradeReady).

// envUpgradeFD names the fd on which a new master started by USR2 reports
// "ready <pid>" to the old one; envUpgradeFiguresFD the one on which the old
// master sends its totals ("served <ServedText>", once a second), which
// the new master's canary, when it runs one, compares its workers with.
const (
	envUpgradeFD        = "PREFORK_UPGRADE_FD"
	envUpgradeFiguresFD = "PREFORK_UPGRADE_FIGURES_FD"
)

// The loop's side.

type upgradeState struct {
	cmd      *exec.Cmd
	started  time.Time
	figures  *os.File // the write end of the figures pipe
	nextSend time.Time
}

// upgradeChildPipe takes the pipe to the old master when this master was
// started by a USR2 upgrade, and unsets the variable.
func upgradeChildPipe() *os.File { return inheritedPipe(envUpgradeFD, "upgrade-pipe") }

// inheritedPipe takes the pipe whose fd the variable names, and unsets it.
func inheritedPipe(env, name string) *os.File {
	s := os.Getenv(env)
	if s == "" {
		return nil
	}
	os.Unsetenv(env)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil
	}
	CloseOnExec(fd) // workers must not hold the old master's pipe open
	return os.NewFile(uintptr(fd), name)
}

// readOldFigures steps the old master's totals, as they come, into this
// (new) master's supervisor, until the pipe closes.
func (m *masterShell) readOldFigures(f *os.File) {
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		text, ok := strings.CutPrefix(sc.Text(), "served ")
		total, ok2 := ParseServed(text)
		if !ok || !ok2 {
			continue
		}
		select {
		case m.calls <- func(m *masterShell) { m.step(supervisor.EvOldServed{Total: total}) }:
		case <-m.done:
			return
		}
	}
}

// sendFigures writes this master's totals to the new master of an
// upgrade in progress, once a second; a new master that does not read them
// (no canary) only fills the pipe, and a full pipe drops the line.
func (m *masterShell) sendFigures(now time.Time) {
	up := m.prod.upgrading
	if up == nil || up.figures == nil || now.Before(up.nextSend) {
		return
	}
	up.nextSend = now.Add(time.Second)
	up.figures.SetWriteDeadline(now.Add(10 * time.Millisecond))
	up.figures.Write([]byte("served " + ServedText(m.sup.Served()) + "\n"))
}

// startUpgrade starts the binary on disk as a new master (doStartUpgrade);
// its answer comes later through ask, or at once if it cannot start.
func (m *masterShell) startUpgrade() supervisor.Event {
	r, w, err := os.Pipe()
	if err != nil {
		m.log.Error("upgrade failed", "err", err)
		return supervisor.EvUpgradeFailed{Why: err.Error()}
	}
	figR, figW, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		m.log.Error("upgrade failed", "err", err)
		return supervisor.EvUpgradeFailed{Why: err.Error()}
	}
	cmd := exec.Command(m.exe)
	cmd.Args = m.args
	env := InheritEnv(m.files, m.names)
	// systemd meant WATCHDOG_PID for this process; the new master pings as main pid
	env = slices.DeleteFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "WATCHDOG_PID=") || strings.HasPrefix(kv, envUpgradeFD+"=") || strings.HasPrefix(kv, envUpgradeFiguresFD+"=")
	})
	cmd.Env = append(env, envUpgradeFD+"="+strconv.Itoa(3+len(m.files)), envUpgradeFiguresFD+"="+strconv.Itoa(4+len(m.files)))
	cmd.ExtraFiles = append(slices.Clone(m.files), w, figR)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Start()
	w.Close()
	figR.Close()
	if err != nil {
		r.Close()
		figW.Close()
		m.log.Error("upgrade failed: cannot start the new master", "exe", m.exe, "err", err)
		return supervisor.EvUpgradeFailed{Why: err.Error()}
	}
	up := &upgradeState{cmd: cmd, started: time.Now(), figures: figW}
	m.prod.upgrading = up
	m.log.Info("upgrade: new master started (USR2)", "pid", cmd.Process.Pid, "exe", m.exe, "timeout", supervisor.Dur(m.cfg.UpgradeTimeout))
	go m.awaitUpgrade(up, r)
	return nil
}

// awaitUpgrade waits for the new master's "ready <pid>", its exit or the
// timeout, and steps the answer on the loop.
func (m *masterShell) awaitUpgrade(up *upgradeState, r *os.File) {
	exited := make(chan error, 1)
	go func() { exited <- up.cmd.Wait() }() // the one Wait; it lives on if the new master takes over
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- s
	}()
	var ev supervisor.Event
	select {
	case s := <-line:
		if f := strings.Fields(s); len(f) == 2 && f[0] == "ready" {
			pid, _ := strconv.Atoi(f[1])
			ev = supervisor.EvUpgradeReady{PID: pid, Took: time.Since(up.started)}
			break
		}
		select {
		case err := <-exited:
			ev = supervisor.EvUpgradeFailed{Why: fmt.Sprintf("new master exited before ready: %v", err), Started: true}
		case <-time.After(time.Second):
			ev = supervisor.EvUpgradeFailed{Why: "new master closed the upgrade pipe before ready", Started: true}
		}
	case <-time.After(m.cfg.UpgradeTimeout):
		ev = supervisor.EvUpgradeFailed{Why: fmt.Sprintf("new master not ready within %s", m.cfg.UpgradeTimeout), Started: true}
	}
	r.Close()
	step := func(m *masterShell) { m.step(ev) }
	select {
	case m.calls <- step:
	case <-m.done:
		if _, ok := ev.(supervisor.EvUpgradeReady); !ok {
			up.cmd.Process.Kill()
		}
	}
}

// killUpgrade ends the new master of a failed upgrade.
func (m *masterShell) killUpgrade() {
	if up := m.prod.upgrading; up != nil {
		up.cmd.Process.Kill()
		up.figures.Close()
		m.log.Info("upgrade: new master killed", "new_master", up.cmd.Process.Pid)
		m.prod.upgrading = nil
	}
}

// handOver: the new master serves. systemd follows it, and the unix socket
// files are its now.
func (m *masterShell) handOver(pid int) {
	if up := m.prod.upgrading; up != nil {
		up.figures.Close()
	}
	m.prod.upgrading = nil
	m.prod.notify.MainPID(pid)
	m.obs.server.Close() // the new master binds --metrics-bind next
	for _, ln := range m.lns {
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false) // the socket file serves the new master now
		}
	}
}
