//go:build unix

package devrun

import (
	"os"
	"syscall"
)

// forwarded are the signals the production master understands (see the runtime's doc).
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU}

// groupAttr puts a child in a process group of its own, so stopping it reaches everything
// it started and a terminal's Ctrl-C reaches it only through the runner. Where the system
// offers it, the child is also told (TERM) when the runner dies without cleaning up.
func groupAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(attr)
	return attr
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }
