package master

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// notifier speaks systemd's sd_notify protocol: newline-separated
// KEY=VALUE assignments in one datagram to the unix socket named by
// $NOTIFY_SOCKET ("@name" is an abstract socket). A nil *notifier, or one
// built without NOTIFY_SOCKET, is a no-op so callers never need to check.
type Notifier struct {
	addr *net.UnixAddr
	mu   sync.Mutex // one datagram at a time keeps READY/RELOADING ordered
}

// notifierFromEnv returns a notifier for $NOTIFY_SOCKET, or nil when it is unset.
func NotifierFromEnv() *Notifier {
	return newNotifier(os.Getenv("NOTIFY_SOCKET"))
}

func newNotifier(socket string) *Notifier {
	if socket == "" || strings.HasPrefix(socket, "vsock:") {
		return nil // vsock needs AF_VSOCK, which the standard library cannot dial
	}
	// Go maps a leading '@' to the abstract namespace itself.
	return &Notifier{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}}
}

// Enabled reports whether notifications go anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// Notify sends the given assignments (e.g. "READY=1", "STATUS=3 workers")
// in one datagram. Values must not contain newlines: they would be read as
// further assignments, so they are replaced by spaces.
func (n *Notifier) Notify(assignments ...string) error {
	if !n.Enabled() || len(assignments) == 0 {
		return nil
	}
	var b strings.Builder
	for _, a := range assignments {
		b.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(a))
		b.WriteByte('\n')
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("prefork: sd_notify %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("prefork: sd_notify %s: %w", n.addr.Name, err)
	}
	return nil
}

// Ready tells systemd the service is up (Type=notify), with an optional status line.
func (n *Notifier) Ready(status string) error {
	if status == "" {
		return n.Notify("READY=1")
	}
	return n.Notify("READY=1", "STATUS="+status)
}

// Reloading starts a reload (Type=notify-reload protocol): systemd wants
// RELOADING=1 with MONOTONIC_USEC set to CLOCK_MONOTONIC now, then READY=1
// when the reload is over.
func (n *Notifier) Reloading() error {
	if !n.Enabled() {
		return nil
	}
	usec, err := monotonicUsec()
	if err != nil {
		return n.Notify("RELOADING=1")
	}
	return n.Notify("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatUint(usec, 10))
}

// Stopping tells systemd a stop is under way (not sent by a master that
// hands over to a new one in a binary upgrade: the service keeps running).
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Status sets the free-form status line shown by systemctl status.
func (n *Notifier) Status(status string) error { return n.Notify("STATUS=" + status) }

// MainPID moves systemd's idea of the service's main process (binary upgrade).
func (n *Notifier) MainPID(pid int) error { return n.Notify("MAINPID=" + strconv.Itoa(pid)) }

// Watchdog sends one keep-alive ping.
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// watchdogIntervalFromEnv returns how often to ping systemd's watchdog: half of
// $WATCHDOG_USEC, as sd_watchdog_enabled(3) recommends. It returns 0 when the
// watchdog is off or meant for another process ($WATCHDOG_PID differs).
func WatchdogIntervalFromEnv() time.Duration {
	return watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

func watchdogInterval(usecStr, pidStr string, self int) time.Duration {
	if usecStr == "" {
		return 0
	}
	usec, err := strconv.ParseUint(usecStr, 10, 63)
	if err != nil || usec == 0 {
		return 0
	}
	if pidStr != "" {
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid != self {
			return 0
		}
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// StartWatchdog pings the watchdog every interval while healthy() is true,
// until stop is closed. A master that stops being healthy (its event loop
// stuck) stops pinging, and systemd restarts the service. It returns at once
// when interval is 0 or the notifier is disabled.
func (n *Notifier) StartWatchdog(interval time.Duration, healthy func() bool, stop <-chan struct{}) {
	if !n.Enabled() || interval <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if healthy == nil || healthy() {
					_ = n.Watchdog()
				}
			}
		}
	}()
}
