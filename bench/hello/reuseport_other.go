//go:build !linux

package main

import "syscall"

// reusePort does nothing here: -procs above 1 needs Linux's SO_REUSEPORT (the second
// process fails with "address already in use").
func reusePort(network, address string, c syscall.RawConn) error { return nil }
