//go:build !linux

package prefork

import "net"

// listenBacklog: only Linux reports a listener's queue (TCP_INFO).
func listenBacklog(net.Listener) (queued, limit int64, ok bool) { return 0, 0, false }
