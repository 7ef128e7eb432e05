//go:build unix

package devloop

import (
	"os/exec"
	"syscall"
	"time"
)

// setGroup runs cmd in its own process group, so stopping it reaches the app it started.
func setGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stopGroup interrupts the group led by pid (air stops its app on INT), then kills it.
func stopGroup(pid int, exited <-chan struct{}) {
	syscall.Kill(-pid, syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pid, syscall.SIGKILL)
}
