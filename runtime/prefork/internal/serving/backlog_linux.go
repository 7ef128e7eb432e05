package serving

import (
	"net"
	"syscall"
	"unsafe"
)

// listenBacklog reads a TCP listener's accept queue from TCP_INFO, as
// Gunicorn's --enable-backlog-metric does: for a listening socket Linux
// reports the connections waiting to be accepted in tcpi_unacked and the
// queue's limit in tcpi_sacked.
func ListenBacklog(ln net.Listener) (queued, limit int64, ok bool) {
	tl, isTCP := ln.(*net.TCPListener)
	if !isTCP {
		return 0, 0, false
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var info syscall.TCPInfo
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if errno != 0 || info.State != 10 { // TCP_LISTEN
		return 0, 0, false
	}
	return int64(info.Unacked), int64(info.Sacked), true
}
