//go:build linux

package main

import "syscall"

// soReusePort is SO_REUSEPORT (syscall.SO_REUSEPORT is missing on some Linux ports).
const soReusePort = 0xf

// reusePort lets several -bare processes listen on one port, as the runtime's workers
// share the master's socket: the kernel spreads new connections over them.
func reusePort(network, address string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
