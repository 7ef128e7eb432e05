package master

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenNotify binds a datagram socket standing in for systemd's notify socket.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readDatagram(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read notify datagram: %v", err)
	}
	return string(buf[:n])
}

func TestNotifierPathAndAbstract(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify.sock"),
		"@scaffold-test-notify-" + strconv.Itoa(os.Getpid()),
	} {
		conn := listenNotify(t, name)
		n := newNotifier(name)
		if !n.Enabled() {
			t.Fatalf("notifier for %q disabled", name)
		}
		if err := n.Ready("2 workers"); err != nil {
			t.Fatal(err)
		}
		if got, want := readDatagram(t, conn), "READY=1\nSTATUS=2 workers\n"; got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
		if err := n.Status("line1\nFAKE=1"); err != nil {
			t.Fatal(err)
		}
		if got, want := readDatagram(t, conn), "STATUS=line1 FAKE=1\n"; got != want {
			t.Errorf("newline not neutralised: got %q, want %q", got, want)
		}
		_ = n.MainPID(42)
		if got := readDatagram(t, conn); got != "MAINPID=42\n" {
			t.Errorf("MainPID: got %q", got)
		}
		_ = n.Stopping()
		if got := readDatagram(t, conn); got != "STOPPING=1\n" {
			t.Errorf("Stopping: got %q", got)
		}
	}
}

func TestNotifierReloadingCarriesMonotonicClock(t *testing.T) {
	name := filepath.Join(t.TempDir(), "n.sock")
	conn := listenNotify(t, name)
	if err := newNotifier(name).Reloading(); err != nil {
		t.Fatal(err)
	}
	got := readDatagram(t, conn)
	if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("got %q", got)
	}
	usec, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(got, "RELOADING=1\nMONOTONIC_USEC=")), 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC not a number in %q", got)
	}
	// CLOCK_MONOTONIC never runs ahead of CLOCK_BOOTTIME (/proc/uptime).
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Skip("no /proc/uptime to compare with")
	}
	secs, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if float64(usec) > (secs+1)*1e6 || usec < 1 {
		t.Errorf("MONOTONIC_USEC=%d is not CLOCK_MONOTONIC (uptime %.2fs)", usec, secs)
	}
}

func TestNotifierDisabledIsNoop(t *testing.T) {
	var n *Notifier
	if n.Enabled() || n.Ready("") != nil || n.Reloading() != nil || newNotifier("") != nil {
		t.Fatal("nil notifier must be a silent no-op")
	}
	// A socket that nobody listens on is an error, not a hang.
	if err := newNotifier(filepath.Join(t.TempDir(), "absent")).Ready(""); err == nil {
		t.Fatal("want an error for a missing socket")
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"junk", "", 0},
		{"0", "", 0},
		{"2000000", "", time.Second},
		{"2000000", "7", time.Second},
		{"2000000", "8", 0}, // meant for another process
		{"2000000", "x", 0},
	} {
		if got := watchdogInterval(tc.usec, tc.pid, 7); got != tc.want {
			t.Errorf("watchdogInterval(%q,%q) = %v, want %v", tc.usec, tc.pid, got, tc.want)
		}
	}
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	name := filepath.Join(t.TempDir(), "w.sock")
	conn := listenNotify(t, name)
	n := newNotifier(name)
	healthy := make(chan bool, 1)
	healthy <- true
	stop := make(chan struct{})
	defer close(stop)
	n.StartWatchdog(10*time.Millisecond, func() bool {
		select {
		case h := <-healthy:
			return h
		default:
			return false
		}
	}, stop)
	if got := readDatagram(t, conn); got != "WATCHDOG=1\n" {
		t.Fatalf("got %q", got)
	}
	_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 64)); err == nil {
		t.Fatal("watchdog pinged while unhealthy")
	}
}
