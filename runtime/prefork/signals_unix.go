//go:build unix

package prefork

import "syscall"

// The signals of the table in doc.go; on other systems they never arrive.
const (
	sigTTIN  = syscall.SIGTTIN
	sigTTOU  = syscall.SIGTTOU
	sigUSR1  = syscall.SIGUSR1
	sigUSR2  = syscall.SIGUSR2
	sigWINCH = syscall.SIGWINCH
)

// preforkSupported: workers can inherit descriptors (exec.Cmd.ExtraFiles).
const preforkSupported = true

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }

// daemonAttr detaches a --daemon child into its own session.
func daemonAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
