//go:build !linux

package master

import "errors"

// monotonicUsec: systemd only exists on Linux; RELOADING=1 goes without a timestamp elsewhere.
func monotonicUsec() (uint64, error) {
	return 0, errors.New("prefork: CLOCK_MONOTONIC not available on this platform")
}
