//go:build unix

package prompter

import (
	"bytes"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"golang.org/x/sys/unix"
)

// answersQueries asks the terminal for its background colour and cursor position (the
// queries huh's styling sends) and reports whether any answer comes within timeout. The
// cursor report ends the answer: every terminal that answers anything answers it.
func answersQueries(in, out *os.File, timeout time.Duration) bool {
	state, err := term.MakeRaw(in.Fd())
	if err != nil {
		return true // not ours to judge: let the form try
	}
	defer func() { _ = term.Restore(in.Fd(), state) }()
	if _, err := out.WriteString("\x1b]11;?\x1b\\\x1b[6n"); err != nil {
		return true
	}
	var reply []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return len(reply) > 0
		}
		fds := []unix.PollFd{{Fd: int32(in.Fd()), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return len(reply) > 0
		}
		k, err := unix.Read(int(in.Fd()), buf)
		if err != nil || k <= 0 {
			return len(reply) > 0
		}
		reply = append(reply, buf[:k]...)
		if bytes.Contains(reply, []byte("\x1b[")) && bytes.HasSuffix(reply, []byte("R")) {
			return true
		}
	}
}
