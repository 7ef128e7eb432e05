package devrun

import "syscall"

// setParentDeathSignal: a runner killed with KILL leaves no app serving on its port.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGTERM }
