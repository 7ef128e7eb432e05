//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package prefork

import "syscall"

// setReusePort is a net.ListenConfig.Control that sets SO_REUSEPORT before
// bind, so several processes (two pods on one host during a rollout, or an
// old and a new master) can listen on one port; the kernel spreads new
// connections across them.
func setReusePort(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); err != nil {
		return err
	}
	return serr
}
