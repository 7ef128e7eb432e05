package serving

import "syscall"

// dupCloexec duplicates fd atomically with close-on-exec set; the socket's
// blocking mode is untouched.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
