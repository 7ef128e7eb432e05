//go:build unix

package prefork

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
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

func TestUSR1ReopensLogsOfMasterAndWorkers(t *testing.T) {
	needProc(t)
	t.Parallel()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	p := startHelper(t, "run", []string{"-w", "1", "--error-logfile", logPath, "--log-level", "debug"})
	deadline := time.Now().Add(bootWithin)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "master ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 'master ready' in %s:\n%s", logPath, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	if err := os.Rename(logPath, logPath+".1"); err != nil { // logrotate
		t.Fatal(err)
	}
	p.signal(syscall.SIGUSR1)
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("log not reopened: %v", err)
	}
	if !strings.Contains(string(b), "master stopped") {
		t.Errorf("master did not write to the reopened log:\n%s", b)
	}
	if !strings.Contains(string(b), fmt.Sprintf("msg=\"log file reopened\" worker=1 generation=1 pid=%d", worker)) {
		t.Errorf("worker %d did not write to the reopened log:\n%s", worker, b)
	}
}

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
}

func TestUnixSocketFromSystemdActivation(t *testing.T) {
	needProc(t)
	t.Parallel()
	// systemd's LISTEN_FDS (LISTEN_PID left out: unknown before exec) on a
	// unix socket; the -b given is overridden by the inherited socket.
	sock := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	files, err := ListenerFiles([]net.Listener{ln})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "log")
	logf, _ := os.Create(logPath)
	defer logf.Close()
	cmd := exec.Command(os.Args[0], "-w", "2", "-b", "127.0.0.1:1")
	cmd.ExtraFiles = files
	cmd.Env = append(cleanEnv(os.Environ()), "PREFORK_TEST_HELPER=run", "LISTEN_FDS=1", "LISTEN_FDNAMES=web")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files[0].Close()
	ln.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log:\n%s", b)
		}
	}()
	c := unixClient(sock)
	resp, err := c.Get("http://app/pid")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), "inherited=true") || !strings.Contains(string(b), "listeners=web") {
		t.Errorf("master did not use the activated socket:\n%s", b)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("an inherited socket's path must stay (systemd owns it): %v", err)
	}
}

func TestUnixBindServesAndIsRemovedOnExit(t *testing.T) {
	needProc(t)
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "app.sock")
	p := startHelper(t, "run", []string{"-w", "1", "-b", "unix:" + sock})
	p.waitLog("master ready", 1, bootWithin)
	if _, err := unixClient(sock).Get("http://app/"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.get(newClient(), "/"); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left after exit: %v", sock, err)
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
	master := fmt.Sprintf("pid=%d ", p.cmd.Process.Pid)
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
			if strings.Contains(l, master) != tc.inMaster {
				t.Errorf("hook %s ran in the wrong process (master is %s): %s", tc.hook, master, l)
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
