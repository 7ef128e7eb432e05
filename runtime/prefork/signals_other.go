//go:build !unix

package prefork

import (
	"errors"
	"syscall"
)

// Signals this system does not have: values no signal will ever carry.
const (
	sigTTIN  = syscall.Signal(-21)
	sigTTOU  = syscall.Signal(-22)
	sigUSR1  = syscall.Signal(-10)
	sigUSR2  = syscall.Signal(-12)
	sigWINCH = syscall.Signal(-28)
)

// preforkSupported is false: exec.Cmd.ExtraFiles is not available here, so
// Run serves in one process (see Run).
const preforkSupported = false

func closeOnExec(int) {}

func dupCloexec(int) (int, error) {
	return -1, errors.New("descriptor hand-over is not supported on this system")
}

func daemonAttr() *syscall.SysProcAttr { return nil }
