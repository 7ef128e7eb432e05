//go:build !unix

package devrun

import (
	"os"
	"syscall"
)

// forwarded are the signals this system can deliver.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM}

// groupAttr: no process groups here.
func groupAttr() *syscall.SysProcAttr { return nil }

// signalGroup can only end the process itself here.
func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		return p.Kill()
	}
	return p.Signal(sig)
}
