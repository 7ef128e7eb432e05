//go:build unix

package master

import "syscall"

// The signals of the table in doc.go; on other systems they never arrive.
const (
	SigTTIN  = syscall.SIGTTIN
	SigTTOU  = syscall.SIGTTOU
	SigUSR1  = syscall.SIGUSR1
	SigUSR2  = syscall.SIGUSR2
	SigWINCH = syscall.SIGWINCH
)

// preforkSupported: workers can inherit descriptors (exec.Cmd.ExtraFiles).
const PreforkSupported = true

func CloseOnExec(fd int) { syscall.CloseOnExec(fd) }

// daemonAttr detaches a --daemon child into its own session.
func DaemonAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
