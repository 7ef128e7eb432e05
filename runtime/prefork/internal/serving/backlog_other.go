//go:build !linux

package serving

import "net"

// listenBacklog: only Linux reports a listener's queue (TCP_INFO).
func ListenBacklog(net.Listener) (queued, limit int64, ok bool) { return 0, 0, false }
