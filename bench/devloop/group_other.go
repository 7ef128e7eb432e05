//go:build !unix

package devloop

import (
	"os"
	"os/exec"
)

func setGroup(cmd *exec.Cmd) {}

func stopGroup(pid int, exited <-chan struct{}) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
	<-exited
}
