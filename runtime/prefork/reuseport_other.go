//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package prefork

import "syscall"

func setReusePort(network, address string, c syscall.RawConn) error {
	return errNoReusePort
}
