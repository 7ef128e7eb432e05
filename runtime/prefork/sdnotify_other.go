//go:build !linux

package prefork

// monotonicUsec: systemd only exists on Linux; RELOADING=1 goes without a timestamp elsewhere.
func monotonicUsec() (uint64, error) { return 0, errNoMonotonic }
