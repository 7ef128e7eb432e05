//go:build unix && !linux

package devrun

import "syscall"

// setParentDeathSignal: not offered here; a runner killed with KILL leaves its app running.
func setParentDeathSignal(attr *syscall.SysProcAttr) {}
