//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package serving

import "syscall"

// setReusePort is a net.ListenConfig.Control that sets SO_REUSEPORT before
// bind, so several processes (two pods on one host during a rollout, or an
// old and a new master) can listen on one port; the kernel spreads new
// connections across them.
func SetReusePort(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); err != nil {
		return err
	}
	return serr
}

// setBacklog calls listen(2) again on a bound socket: on Linux and the
// BSDs that only changes the length of its accept queue (--backlog; the
// kernel caps it at somaxconn).
func setBacklog(ln any, backlog int) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	return lerr
}
