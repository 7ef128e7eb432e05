//go:build !unix

package master

import "syscall"

// Signals this system does not have: values no signal will ever carry.
const (
	SigTTIN  = syscall.Signal(-21)
	SigTTOU  = syscall.Signal(-22)
	SigUSR1  = syscall.Signal(-10)
	SigUSR2  = syscall.Signal(-12)
	SigWINCH = syscall.Signal(-28)
)

// preforkSupported is false: exec.Cmd.ExtraFiles is not available here, so
// Run serves in one process (see Run).
const PreforkSupported = false

func CloseOnExec(int) {}

func DaemonAttr() *syscall.SysProcAttr { return nil }
