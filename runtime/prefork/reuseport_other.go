//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package prefork

import "syscall"

func setReusePort(network, address string, c syscall.RawConn) error {
	return errNoReusePort
}

// setBacklog is a no-op where the queue length cannot be changed after bind.
func setBacklog(ln any, backlog int) error { return nil }
