package serving

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Environment of the listener hand-over protocol (see the package doc).
const (
	// EnvListenFDs is the number N of inherited listeners, at fds 3..3+N-1.
	EnvListenFDs = "PREFORK_LISTEN_FDS"
	// EnvListenNames is the comma-separated list of the listeners' addresses,
	// in fd order (informational).
	EnvListenNames = "PREFORK_LISTEN_NAMES"
)

// Bind listens on each Address: "host:port", "[::1]:port", "unix:/path" (a
// stale socket file left by a dead process is removed first; a live one is an
// error) or "fd://N" (an already-listening descriptor). On error nothing stays
// open.
func Bind(addrs []string) ([]net.Listener, error) {
	return bind(addrs, false, 0)
}

var ErrNoReusePort = errors.New("SO_REUSEPORT is not supported on this system")

// migrateReqOff reports whether Linux's net.ipv4.tcp_migrate_req is 0: a listener of an
// SO_REUSEPORT group that closes then resets the connections in its accept queue rather
// than moving them to another socket of the group. False where there is no such setting.
func MigrateReqOff() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	return err == nil && strings.TrimSpace(string(b)) == "0"
}

// bind is Bind, with SO_REUSEPORT set on TCP sockets when reusePort is
// true, and the listen queue set to backlog when positive (--backlog).
func bind(addrs []string, reusePort bool, backlog int) ([]net.Listener, error) {
	var lns []net.Listener
	var lc net.ListenConfig
	if reusePort {
		lc.Control = SetReusePort
	}
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	for _, s := range addrs {
		a, err := settings.ParseAddr(s)
		if err != nil {
			return fail(err)
		}
		var ln net.Listener
		switch a.Network {
		case "tcp":
			ln, err = lc.Listen(context.Background(), "tcp", a.Address)
		case "unix":
			if err = RemoveStaleSocket(a.Address); err == nil {
				ln, err = net.Listen("unix", a.Address)
			}
		case "fd":
			f := os.NewFile(uintptr(a.FD), s)
			if f == nil {
				err = errors.New("not an open descriptor")
				break
			}
			ln, err = net.FileListener(f)
			f.Close()
		}
		if err == nil && backlog > 0 && a.Network != "fd" {
			err = setBacklog(ln, backlog)
		}
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return fail(fmt.Errorf("prefork: bind %s: %w", s, err))
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// removeStaleSocket removes path if it is a socket nobody listens on.
func RemoveStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s: another process is listening on it", path)
	}
	return os.Remove(path)
}

// ListenerFiles duplicates each listener's descriptor (close-on-exec, without
// switching the socket to blocking mode as (*net.TCPListener).File would, see
// golang/go#24942) for exec.Cmd.ExtraFiles. The caller closes the files; the
// listeners stay usable.
func ListenerFiles(lns []net.Listener) ([]*os.File, error) {
	files := make([]*os.File, 0, len(lns))
	for _, ln := range lns {
		f, err := listenerFile(ln)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func listenerFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("prefork: listener %s (%T) has no file descriptor", ln.Addr(), ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("prefork: listener %s: %w", ln.Addr(), err)
	}
	var nfd int
	var dupErr error
	if err := rc.Control(func(fd uintptr) { nfd, dupErr = dupCloexec(int(fd)) }); err != nil {
		return nil, fmt.Errorf("prefork: listener %s: %w", ln.Addr(), err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("prefork: duplicate listener %s: %w", ln.Addr(), dupErr)
	}
	return os.NewFile(uintptr(nfd), ln.Addr().Network()+":"+ln.Addr().String()), nil
}

// listenNames joins names for PREFORK_LISTEN_NAMES; a comma inside a name
// (a unix socket path could have one) becomes "_" so the count stays right.
func ListenNames(names []string) string {
	ns := make([]string, len(names))
	for i, n := range names {
		ns[i] = strings.ReplaceAll(n, ",", "_")
	}
	return strings.Join(ns, ",")
}

// inheritedListeners returns listeners handed over by a parent: first
// PREFORK_LISTEN_FDS, then systemd socket activation (LISTEN_FDS for this
// pid). It unsets the variables so children of this process inherit nothing.
// No variables: nil, nil.
func InheritedListeners() ([]net.Listener, []string, error) {
	n, names, err := inheritedFDCount()
	if err != nil || n == 0 {
		return nil, nil, err
	}
	var lns []net.Listener
	var out []string
	for i := 0; i < n; i++ {
		fd := 3 + i
		name := ""
		if i < len(names) {
			name = names[i]
		}
		f := os.NewFile(uintptr(fd), name)
		if f == nil {
			err = fmt.Errorf("prefork: inherited listener fd %d is not open", fd)
			break
		}
		ln, lerr := net.FileListener(f) // dups with close-on-exec
		f.Close()
		if lerr != nil {
			err = fmt.Errorf("prefork: inherited fd %d (%s): %w", fd, name, lerr)
			break
		}
		if name == "" {
			name = ln.Addr().String()
		}
		out = append(out, name)
		lns = append(lns, ln)
	}
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, nil, err
	}
	return lns, out, nil
}

func inheritedFDCount() (int, []string, error) {
	if s := os.Getenv(EnvListenFDs); s != "" {
		names := splitNames(os.Getenv(EnvListenNames), ",")
		os.Unsetenv(EnvListenFDs)
		os.Unsetenv(EnvListenNames)
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, nil, fmt.Errorf("prefork: %s=%q: must be a number of descriptors", EnvListenFDs, s)
		}
		return n, names, nil
	}
	s, pid := os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID")
	if s == "" {
		return 0, nil, nil
	}
	names := splitNames(os.Getenv("LISTEN_FDNAMES"), ":")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, nil, nil // meant for another process
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, nil, fmt.Errorf("prefork: LISTEN_FDS=%q: must be a number of descriptors", s)
	}
	return n, names, nil
}

func splitNames(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// listen returns the inherited listeners, or binds addrs (with SO_REUSEPORT
// when reusePort, and a listen queue of backlog).
func Listen(addrs []string, reusePort bool, backlog int) ([]net.Listener, []string, bool, error) {
	lns, names, err := InheritedListeners()
	if err != nil {
		return nil, nil, false, err
	}
	if len(lns) > 0 {
		return lns, names, true, nil
	}
	lns, err = bind(addrs, reusePort, backlog)
	if err != nil {
		return nil, nil, false, err
	}
	names = make([]string, len(lns))
	for i, ln := range lns {
		names[i] = addrs[i]
		if strings.HasSuffix(addrs[i], ":0") {
			names[i] = ln.Addr().String()
		}
	}
	return lns, names, false, nil
}
