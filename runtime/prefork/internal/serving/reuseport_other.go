//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package serving

import "syscall"

func SetReusePort(network, address string, c syscall.RawConn) error {
	return ErrNoReusePort
}

// setBacklog is a no-op where the queue length cannot be changed after bind.
func setBacklog(ln any, backlog int) error { return nil }
