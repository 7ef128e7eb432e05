//go:build unix && !linux

package serving

import "syscall"

// dupCloexec duplicates fd with close-on-exec set, holding ForkLock so no
// child started meanwhile inherits it; the socket's blocking mode is untouched.
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(nfd)
	return nfd, nil
}
