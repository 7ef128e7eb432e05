//go:build unix

package prefork

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const bootWithin = 20 * time.Second // generous: -race binaries on 2 busy cores

func TestWorkersStartAndCrashedWorkerIsReplaced(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2"})
	p.waitLog("master ready", 1, bootWithin)
	first := p.waitWorkers(2, 5*time.Second, nil)
	c := newClient()
	if pid := p.pidOf(c); !slices.Contains(first, pid) {
		t.Fatalf("/pid answered by %d, not one of the workers %v", pid, first)
	}

	victim := first[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.waitLog("worker died", 1, 5*time.Second)
	p.waitLog("SIGKILL from outside the master", 1, time.Second)
	p.waitLog("worker ready", 3, bootWithin)
	now := p.waitWorkers(2, 5*time.Second, func(ws []int) bool { return !slices.Contains(ws, victim) })
	if !slices.Contains(now, first[1]) {
		t.Errorf("the healthy worker %d was replaced too: %v", first[1], now)
	}
	if _, err := p.get(c, "/"); err != nil {
		t.Fatal(err)
	}
	if leak, err := p.get(c, "/inherit"); err != nil || leak != "" {
		t.Errorf("a worker's children would inherit:\n%s(%v)", leak, err)
	}
}

func TestTTINAndTTOU(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--graceful-timeout", "2"})
	p.waitLog("master ready", 1, bootWithin)
	p.signal(syscall.SIGTTIN)
	p.waitLog("worker ready", 2, bootWithin)
	p.waitWorkers(2, 5*time.Second, nil)
	p.signal(syscall.SIGTTOU)
	p.waitLog("reason=\"scale down\"", 1, 5*time.Second)
	p.waitWorkers(1, 10*time.Second, nil)
	p.signal(syscall.SIGTTOU) // never below 1
	p.waitLog("TTOU ignored", 1, 5*time.Second)
	p.waitWorkers(1, time.Second, nil)
}

func TestReloadUnderLoadFailsNoRequest(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2", "--graceful-timeout", "5"})
	p.waitLog("master ready", 1, bootWithin)
	old := p.waitWorkers(2, 5*time.Second, nil)
	fdsBefore := countFDs(t, p.cmd.Process.Pid)

	l := startLoad(p, 4, "/pid")
	const reloads = 3
	for i := range reloads {
		time.Sleep(500 * time.Millisecond)
		p.signal(syscall.SIGHUP)
		p.waitLog("reload complete", i+1, bootWithin)
	}
	time.Sleep(300 * time.Millisecond)
	ok, pids := l.finish(t)
	t.Logf("%d requests served by %d distinct workers across %d reloads", ok, len(pids), reloads)
	if ok == 0 {
		t.Fatal("no request succeeded")
	}
	now := p.waitWorkers(2, 10*time.Second, func(ws []int) bool {
		for _, pid := range old {
			if slices.Contains(ws, pid) {
				return false
			}
		}
		return true
	})
	for _, pid := range old {
		if alive(pid) {
			t.Errorf("old worker %d still alive (workers now %v)", pid, now)
		}
	}
	if !strings.Contains(p.log(), "generation=4") {
		t.Errorf("no generation 4 in the log after %d reloads", reloads)
	}
	if fdsAfter := countFDs(t, p.cmd.Process.Pid); fdsAfter > fdsBefore {
		t.Errorf("master holds %d descriptors after %d reloads, %d before: a leak", fdsAfter, reloads, fdsBefore)
	}
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestReloadWithBrokenNewGenerationKeepsOldWorkers(t *testing.T) {
	needProc(t)
	t.Parallel()
	failFile := filepath.Join(t.TempDir(), "fail")
	p := startHelper(t, "run", []string{"-w", "2"}, "PREFORK_TEST_FAIL_FILE="+failFile)
	p.waitLog("master ready", 1, bootWithin)
	old := p.waitWorkers(2, 5*time.Second, nil)
	if err := os.WriteFile(failFile, []byte("config broken: missing DSN"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.waitLog("reload abandoned", 1, bootWithin)
	if !strings.Contains(p.log(), "config broken: missing DSN") {
		t.Error("the new generation's boot error is not in the log")
	}
	p.waitWorkers(2, 10*time.Second, func(ws []int) bool {
		return slices.Equal(ws, old) || (len(ws) == 2 && slices.Contains(old, ws[0]) && slices.Contains(old, ws[1]))
	})
	c := newClient()
	if pid := p.pidOf(c); !slices.Contains(old, pid) {
		t.Errorf("served by %d, want one of the old workers %v", pid, old)
	}
}

func TestTermDrainsSlowRequest(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--graceful-timeout", "10"})
	p.waitLog("master ready", 1, bootWithin)
	workers := p.waitWorkers(1, 5*time.Second, nil)

	resp, err := newClient().Get("http://" + p.addr + "/slow?d=1500ms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if got := readLine(r); got != "started" {
		t.Fatalf("slow response began with %q", got)
	}
	p.signal(syscall.SIGTERM)
	if got := readLine(r); got != "done" {
		t.Fatalf("slow request was cut during graceful stop: got %q", got)
	}
	if resp.Header.Get("Connection") != "" && resp.Header.Get("Connection") != "close" {
		t.Errorf("Connection: %q", resp.Header.Get("Connection"))
	}
	if code := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("master exit code %d after TERM, want 0", code)
	}
	if alive(workers[0]) {
		t.Errorf("worker %d still alive after the master stopped", workers[0])
	}
	if strings.Contains(p.log(), "requests cut") {
		t.Error("a drain that finished in time was logged as cut")
	}
}

func TestBootFailureStopsMasterWithAppError(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2"}, "PREFORK_TEST_FAIL=database unreachable: dial tcp 127.0.0.1:1")
	if code := p.exit(bootWithin); code == 0 {
		t.Fatal("master exited 0 although every worker failed to boot")
	}
	if log := p.log(); !strings.Contains(log, "helper error: prefork: worker failed to boot: database unreachable") {
		t.Fatalf("Run's error does not carry the app's message; log:\n%s", log)
	}
}

func TestStuckRequestGetsWorkerRecycled(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "-t", "2", "--graceful-timeout", "1"})
	p.waitLog("master ready", 1, bootWithin)
	stuck := p.waitWorkers(1, 5*time.Second, nil)[0]

	go func() {
		c := &http.Client{Timeout: 30 * time.Second}
		resp, err := c.Get("http://" + p.addr + "/spin")
		if err == nil {
			resp.Body.Close() // cut when the worker is killed
		}
	}()
	p.waitLog("recycling worker: stuck request", 1, 10*time.Second)
	p.waitLog("goroutine dump of worker", 1, 5*time.Second)
	p.waitWorkers(1, bootWithin, func(ws []int) bool { return ws[0] != stuck })
	if alive(stuck) {
		t.Errorf("stuck worker %d still alive", stuck)
	}
	c := newClient()
	if pid := p.pidOf(c); pid == stuck {
		t.Errorf("still served by the stuck worker %d", pid)
	}
	if !strings.Contains(p.log(), "prefork.spinHandler") {
		t.Error("the goroutine dump does not show the spinning handler")
	}
}

func TestMaxRequestsRecyclingUnderLoad(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2", "--max-requests", "150", "--max-requests-jitter", "50", "--graceful-timeout", "5"})
	p.waitLog("master ready", 1, bootWithin)
	l := startLoad(p, 4, "/pid")
	p.waitLog("max requests reached", 2, bootWithin)
	p.waitLog("worker exited", 2, bootWithin)
	ok, pids := l.finish(t)
	t.Logf("%d requests served by %d distinct workers", ok, len(pids))
	if len(pids) < 3 {
		t.Errorf("requests served by %d workers, want recycling to bring in at least 3", len(pids))
	}
}

func TestMasterKilledLeavesNoWorker(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "2", "--graceful-timeout", "3"})
	p.waitLog("master ready", 1, bootWithin)
	workers := p.waitWorkers(2, 5*time.Second, nil)
	p.signal(syscall.SIGKILL)
	p.exit(5 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range workers {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d outlived its master by 10s", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !strings.Contains(p.log(), "master is gone") {
		t.Error("workers did not log noticing the master's death")
	}
}

func TestSlowHeaderClientDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1"})
	p.waitLog("master ready", 1, bootWithin)
	var slow []net.Conn
	for range 20 {
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ") // never finished
		slow = append(slow, conn)
	}
	c := newClient()
	start := time.Now()
	for range 5 {
		if _, err := p.get(c, "/"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5 requests took %s next to %d slow-header clients", d, len(slow))
	}
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--limit-request-fields", "10"})
	p.waitLog("master ready", 1, bootWithin)
	c := newClient()
	do := func(path string, hdr map[string]string) int {
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	many := map[string]string{}
	for i := range 12 {
		many[fmt.Sprintf("X-H%d", i)] = "v"
	}
	for _, tc := range []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"ok", "/", nil, 200},
		{"long request line", "/" + strings.Repeat("a", 5000), nil, http.StatusRequestURITooLong},
		{"large field", "/", map[string]string{"X-Big": strings.Repeat("b", 9000)}, http.StatusRequestHeaderFieldsTooLarge},
		{"too many fields", "/", many, http.StatusRequestHeaderFieldsTooLarge},
	} {
		if got := do(tc.path, tc.hdr); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestServeInheritedListenerAndNotify(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p := startHelper(t, "serve", []string{"--graceful-timeout", "5"}, "NOTIFY_SOCKET="+sock)
	nc.SetReadDeadline(time.Now().Add(bootWithin))
	buf := make([]byte, 512)
	n, err := nc.Read(buf)
	if err != nil {
		t.Fatalf("no readiness datagram: %v\n%s", err, p.log())
	}
	if !strings.Contains(string(buf[:n]), "READY=1") {
		t.Fatalf("readiness datagram %q", buf[:n])
	}
	c := newClient()
	if pid := p.pidOf(c); pid != p.cmd.Process.Pid {
		t.Errorf("served by pid %d, want the Serve process %d itself", pid, p.cmd.Process.Pid)
	}
	resp, err := c.Get("http://" + p.addr + "/slow?d=500ms")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	readLine(r)
	p.signal(syscall.SIGTERM)
	if got := readLine(r); got != "done" {
		t.Errorf("in-flight request cut by TERM: %q", got)
	}
	resp.Body.Close()
	if code := p.exit(10 * time.Second); code != 0 {
		t.Errorf("Serve exit code %d after TERM", code)
	}
	n, _ = nc.Read(buf)
	if !strings.Contains(string(buf[:n]), "STOPPING=1") {
		t.Errorf("stop datagram %q", buf[:n])
	}
}

func TestSilentWorkerIsKilledAndReplaced(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "-t", "1"})
	p.waitLog("master ready", 1, bootWithin)
	hung := p.waitWorkers(1, 5*time.Second, nil)[0]
	if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	p.waitLog("no heartbeat for", 1, 10*time.Second)
	p.waitWorkers(1, bootWithin, func(ws []int) bool { return ws[0] != hung })
	if alive(hung) {
		t.Errorf("silent worker %d still alive", hung)
	}
	if log := p.log(); !strings.Contains(log, "signal=ABRT") || !strings.Contains(log, "still running after SIGABRT") {
		t.Error("the kill was not ABRT (stack dump) then KILL")
	}
	if _, err := p.get(newClient(), "/"); err != nil {
		t.Fatal(err)
	}
}

func TestHUPReReadsConfiguration(t *testing.T) {
	needProc(t)
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "workers")
	if err := os.WriteFile(conf, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startHelper(t, "run", []string{"-w", "1"}, "PREFORK_TEST_RELOAD_FILE="+conf)
	p.waitLog("master ready", 1, bootWithin)
	if err := os.WriteFile(conf, []byte("3"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, bootWithin)
	p.waitWorkers(3, 5*time.Second, nil)
	if err := os.WriteFile(conf, []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := p.waitWorkers(3, 5*time.Second, nil)
	p.signal(syscall.SIGHUP)
	p.waitLog("configuration not applied", 1, bootWithin)
	// a configuration that does not load starts nothing: the same workers serve
	if got := p.waitWorkers(3, 5*time.Second, nil); !slices.Equal(got, before) {
		t.Errorf("workers %v after a bad configuration, want the same %v", got, before)
	}
	if n := strings.Count(p.log(), "reload complete"); n != 1 {
		t.Errorf("%d reloads completed, want only the good one", n)
	}
}

func TestHooksRunInTheirProcesses(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1"}, "PREFORK_TEST_HOOKS=1")
	p.waitLog("master ready", 1, bootWithin)
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, bootWithin)
	p.signal(syscall.SIGTTIN)
	p.waitLog("worker ready", 3, bootWithin)
	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	masterPID := fmt.Sprintf("pid=%d ", p.cmd.Process.Pid)
	log := p.log()
	for _, tc := range []struct {
		hook     string
		inMaster bool
		count    int
	}{
		{"on_starting", true, 1}, {"when_ready", true, 1}, {"pre_fork", true, 3}, {"on_reload", true, 1},
		{"nworkers_changed", true, 1}, {"child_exit", true, 3}, {"on_exit", true, 1},
		{"post_fork", false, 3}, {"post_worker_init", false, 3}, {"worker_exit", false, 3},
	} {
		var lines []string
		for _, l := range strings.Split(log, "\n") {
			if strings.HasPrefix(l, "hook "+tc.hook+" ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != tc.count {
			t.Errorf("hook %s ran %d times, want %d", tc.hook, len(lines), tc.count)
		}
		for _, l := range lines {
			if strings.Contains(l, masterPID) != tc.inMaster {
				t.Errorf("hook %s ran in the wrong process (master is %s): %s", tc.hook, masterPID, l)
			}
		}
	}
}

func TestWorkerGOMAXPROCSIsTheMastersShare(t *testing.T) {
	needProc(t)
	t.Parallel()
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		name string
		env  string // "GOMAXPROCS=" (empty) counts as unset, for the runtime too
		want int
	}{
		{"share", "GOMAXPROCS=", max(1, cpus/2)},
		{"user's choice", "GOMAXPROCS=3", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startHelper(t, "run", []string{"-w", "2"}, tc.env)
			p.waitLog("master ready", 1, bootWithin)
			got, err := p.get(newClient(), "/gomaxprocs")
			if err != nil {
				t.Fatal(err)
			}
			if got != fmt.Sprint(tc.want) {
				t.Errorf("worker GOMAXPROCS %s, want %d (%d CPUs, 2 workers)", got, tc.want, cpus)
			}
		})
	}
}
