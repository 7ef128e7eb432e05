package prefork

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestINTStopsQuickly(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2", "--graceful-timeout", "30"})
	p.waitLog("master ready", 1, bootWithin)
	workers := p.waitWorkers(2, 5*time.Second, nil)
	resp, err := newClient().Get("http://" + p.addr + "/slow?d=20s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := readLine(bufio.NewReader(resp.Body)); got != "started" {
		t.Fatalf("slow response began with %q", got)
	}
	start := time.Now()
	p.signal(syscall.SIGINT)
	if code := p.exit(10 * time.Second); code != 0 {
		t.Errorf("exit code %d after INT", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("quick stop took %s with a 20s request in flight", d)
	}
	for _, pid := range workers {
		if alive(pid) {
			t.Errorf("worker %d alive after quick stop", pid)
		}
	}
}

func TestStopServesTheListenBacklog(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--graceful-timeout", "5"})
	p.waitLog("master ready", 1, bootWithin)
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	// queue connections in the kernel that the stopped worker cannot accept yet
	if err := syscall.Kill(worker, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
	}
	p.signal(syscall.SIGTERM)
	p.waitLog("master stopping", 1, 5*time.Second)
	if err := syscall.Kill(worker, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	served := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			served++
		}
	}
	if served != len(conns) {
		t.Errorf("%d of %d queued connections served during the stop", served, len(conns))
	}
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestWorkerStoppedBySignalIsReplacedWithoutCrashReport(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1"})
	p.waitLog("master ready", 1, bootWithin)
	first := p.waitWorkers(1, 5*time.Second, nil)[0]
	if err := syscall.Kill(first, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog("worker ready", 2, bootWithin)
	p.waitWorkers(1, 5*time.Second, func(ws []int) bool { return ws[0] != first })
	p.waitLog(`reason="stopped on its own: received terminated"`, 1, 5*time.Second)
	if strings.Contains(p.log(), "worker died") {
		t.Error("a worker stopped by a signal was reported as a crash")
	}
}

// A worker SIGKILLed from outside (an operator, the OOM killer) is not the app
// failing: however often it happens, the replacement starts at once instead of
// waiting out a crash-loop backoff with the port unserved.
func TestWorkersKilledFromOutsideAreNotACrashLoop(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1"})
	p.waitLog("master ready", 1, bootWithin)
	pid := p.waitWorkers(1, 5*time.Second, nil)[0]
	const kills = 8 // more than the crash-loop threshold, max(5, workers)
	for i := range kills {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.waitLog("worker ready", i+2, bootWithin)
		prev := pid
		pid = p.waitWorkers(1, 5*time.Second, func(ws []int) bool { return ws[0] != prev })[0]
	}
	log := p.log()
	if strings.Contains(log, "crash loop") {
		t.Errorf("%d outside kills were taken for a crash loop:\n%s", kills, log)
	}
	if n := strings.Count(log, "SIGKILL from outside the master"); n != kills {
		t.Errorf("%d of %d kills logged with their likely cause", n, kills)
	}
}

func TestWorkerStuckAfterDrainIsDumpedThenKilled(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--graceful-timeout", "1"}, "PREFORK_TEST_HOOKS=hang-exit")
	p.waitLog("master ready", 1, bootWithin)
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	log := p.log()
	dump := strings.Index(log, "=== goroutine dump of worker 1")
	kill := strings.Index(log, `msg="killing worker"`)
	if dump < 0 || kill < 0 || dump > kill {
		t.Errorf("want a goroutine dump, then the kill (dump at %d, kill at %d)", dump, kill)
	}
	if !strings.Contains(log, "graceful timeout exceeded") {
		t.Error("the kill's reason is not logged")
	}
	if alive(worker) {
		t.Errorf("worker %d alive", worker)
	}
}

func TestReloadWithHangingBootIsAbandonedAfterTimeout(t *testing.T) {
	needProc(t)
	t.Parallel()
	hang := filepath.Join(t.TempDir(), "hang")
	p := startHelper(t, "run", []string{"-w", "1", "-t", "2"}, "PREFORK_TEST_HANG_FILE="+hang)
	p.waitLog("master ready", 1, bootWithin)
	old := p.waitWorkers(1, 5*time.Second, nil)[0]
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.waitLog("reload abandoned", 1, bootWithin)
	if !strings.Contains(p.log(), "not ready within the timeout (2s)") {
		t.Error("the abandon reason does not name the boot timeout")
	}
	p.waitWorkers(1, 10*time.Second, func(ws []int) bool { return ws[0] == old })
	if pid := p.pidOf(newClient()); pid != old {
		t.Errorf("served by %d, want the old worker %d", pid, old)
	}
}

// Everything the runtime writes to the error log follows its format, the
// boot errors of workers included: the only other line is the program's
// own report of Run's error.
func TestBootFailureLinesFollowTheLogFormat(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2"}, "PREFORK_TEST_FAIL=database unreachable")
	if code := p.exit(bootWithin); code == 0 {
		t.Fatal("master exited 0 although every worker failed to boot")
	}
	for _, line := range strings.Split(strings.TrimSpace(p.log()), "\n") {
		if !strings.HasPrefix(line, "time=") && line != "helper error: prefork: worker failed to boot: database unreachable" {
			t.Errorf("a line not in the log's format: %q", line)
		}
	}
	if n := strings.Count(p.log(), "helper error:"); n != 1 {
		t.Errorf("%d plain error lines, want only the master's one", n)
	}
}
