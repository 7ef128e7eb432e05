package devrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// child is one running build of the app.
type child struct {
	gen     int
	bin     string
	cmd     *exec.Cmd
	pid     int
	notify  *net.UnixConn // this child's private $NOTIFY_SOCKET
	started time.Time
	ready   bool
	exited  chan struct{} // closed once Wait returned
	state   *os.ProcessState
	waitErr error
	stopped bool // the runner asked it to stop
}

// childEvent is what a child's goroutines report to the loop.
type childEvent struct {
	c     *child
	ready bool // READY=1 arrived; otherwise the process exited
}

// startChild runs bin in dir in a new process group, with the listeners as fds 3.. and a
// private notify socket in tmp. Its goroutines report readiness and exit on events until
// done is closed.
func startChild(gen int, bin, dir, tmp string, args, env []string, lnFiles []*os.File,
	stdout, stderr io.Writer, events chan<- childEvent, done <-chan struct{}) (*child, error) {
	sockPath := filepath.Join(tmp, "notify-"+strconv.Itoa(gen)+".sock")
	os.Remove(sockPath)
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("the app's notify socket: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(env, "NOTIFY_SOCKET="+sockPath)
	cmd.ExtraFiles = lnFiles
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = groupAttr()
	cmd.WaitDelay = 2 * time.Second // a grandchild holding the output pipe must not block Wait
	if err := cmd.Start(); err != nil {
		nc.Close()
		os.Remove(sockPath)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c := &child{gen: gen, bin: bin, cmd: cmd, pid: cmd.Process.Pid, notify: nc, started: time.Now(), exited: make(chan struct{})}
	report := func(ev childEvent) {
		select {
		case events <- ev:
		case <-done:
		}
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := nc.ReadFromUnix(buf)
			if err != nil {
				return // closed when the child exits
			}
			for _, line := range bytes.Split(buf[:n], []byte("\n")) {
				if string(line) == "READY=1" {
					report(childEvent{c: c, ready: true})
				}
			}
		}
	}()
	go func() {
		c.waitErr = cmd.Wait()
		c.state = cmd.ProcessState
		// Whatever the app left in its group goes with it.
		signalGroup(c.pid, syscall.SIGKILL)
		nc.Close()
		os.Remove(sockPath)
		close(c.exited)
		report(childEvent{c: c})
	}()
	return c, nil
}

// stop asks the child's process group to stop (TERM) and kills it after grace. It does
// not wait; the exit arrives as a childEvent.
func (c *child) stop(grace time.Duration) {
	if c.stopped {
		return
	}
	c.stopped = true
	if err := signalGroup(c.pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		c.cmd.Process.Signal(syscall.SIGTERM)
	}
	go func() {
		select {
		case <-c.exited:
		case <-time.After(grace):
			signalGroup(c.pid, syscall.SIGKILL)
		}
	}()
}

// exitText describes how the child ended.
func (c *child) exitText() string {
	if c.state == nil {
		if c.waitErr != nil {
			return c.waitErr.Error()
		}
		return "unknown status"
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return c.state.String()
}
