//go:build unix

package prefork

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

func TestHealthBindRefusesDescriptors(t *testing.T) {
	for _, bad := range []string{"fd://3", "nonsense", "127.0.0.1:99999"} {
		if _, err := (Config{Values: Values{HealthBind: bad}}).withDefaults(); err == nil || !strings.Contains(err.Error(), "health-bind") {
			t.Errorf("HealthBind %q: err %v, want one naming health-bind", bad, err)
		}
	}
}

// freePort returns a loopback port nobody listened on a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func probe(c *http.Client, addr, path string) (int, string) {
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func waitProbe(t *testing.T, c *http.Client, addr, path string, code int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, body := probe(c, addr, path)
		if got == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %q after %s, want %d", path, got, body, within, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The probes follow the master's lifecycle: live at once, started and ready
// only when the (slow) App factories returned, unready from the TERM on while
// a slow request drains, gone when the master exits.
func TestHealthProbesFollowTheLifecycle(t *testing.T) {
	needProc(t)
	t.Parallel()
	gate := filepath.Join(t.TempDir(), "boot")
	health := "127.0.0.1:" + freePort(t)
	p := startHelper(t, "run", []string{"-w", "2", "--health-bind", health, "--graceful-timeout", "10"}, "PREFORK_TEST_BOOT_GATE="+gate)
	c := &http.Client{Timeout: 3 * time.Second}
	waitProbe(t, c, health, "/livez", 200, 10*time.Second)
	p.waitWorkers(2, 10*time.Second, nil)
	for _, path := range []string{"/startupz", "/readyz"} {
		if code, body := probe(c, health, path); code != 503 || !strings.Contains(body, "starting: 0/2") {
			t.Errorf("%s while the App factories run: %d %q, want 503 starting: 0/2", path, code, body)
		}
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitProbe(t, c, health, "/readyz", 200, 10*time.Second)
	if code, body := probe(c, health, "/startupz"); code != 200 {
		t.Errorf("/startupz once ready: %d %q", code, body)
	}
	if _, err := p.get(c, "/healthz"); err != nil {
		// the app's own routes stay the app's: this helper answers "hello" for any path
		t.Errorf("app route on the app listener: %v", err)
	}

	resp, err := c.Get("http://" + p.addr + "/slow?d=1500ms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if l := readLine(br); l != "started" {
		t.Fatalf("slow request: %q", l)
	}
	p.signal(syscall.SIGTERM)
	body := waitProbe(t, c, health, "/readyz", 503, 2*time.Second)
	if !strings.Contains(body, "stopping") {
		t.Errorf("/readyz after TERM: %q, want stopping", body)
	}
	if code, body := probe(c, health, "/livez"); code != 200 {
		t.Errorf("/livez while draining: %d %q, want 200 (a draining master must not be restarted)", code, body)
	}
	if l := readLine(br); l != "done" {
		t.Errorf("slow request after TERM: %q, want done", l)
	}
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if code, _ := probe(c, health, "/livez"); code != 0 {
		t.Errorf("/livez after exit answered %d, want no listener", code)
	}
}

// --shutdown-delay: after TERM the master is unready at once but its workers take new
// connections until the delay runs out (a cluster without preStop sleep); then it drains.
func TestShutdownDelayServesUnreadyThenStops(t *testing.T) {
	needProc(t)
	t.Parallel()
	health := "127.0.0.1:" + freePort(t)
	p := startHelper(t, "run", []string{"-w", "1", "--health-bind", health, "--shutdown-delay", "1.5"})
	c := &http.Client{Timeout: 3 * time.Second}
	waitProbe(t, c, health, "/readyz", 200, 10*time.Second)
	p.signal(syscall.SIGTERM)
	termAt := time.Now()
	if body := waitProbe(t, c, health, "/readyz", 503, time.Second); !strings.Contains(body, "stopping") {
		t.Errorf("/readyz after TERM: %q, want stopping", body)
	}
	// New connections (keep-alive off: each request its own) are still served.
	fresh := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for time.Since(termAt) < time.Second {
		if _, err := p.get(fresh, "/"); err != nil {
			t.Fatalf("a new connection %s after TERM, within the 1.5s delay: %v", time.Since(termAt).Round(time.Millisecond), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if took := time.Since(termAt); took < 1500*time.Millisecond {
		t.Errorf("exited %s after TERM, before the 1.5s shutdown delay ran out", took)
	}
}

// With --reuse-port two masters listen on one TCP port (two pods on one host
// during a rollout) and both serve it; without it the second is refused. The
// health port is shared either way.
func TestReusePortLetsTwoMastersShareAPort(t *testing.T) {
	needProc(t)
	t.Parallel()
	port, health := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	args := []string{"-w", "1", "-b", port, "--health-bind", health}
	a := startHelper(t, "run", append(args, "--reuse-port"))
	a.waitLog("master ready", 1, 10*time.Second)
	refused := startHelper(t, "run", args)
	if code := refused.exit(10 * time.Second); code == 0 || !strings.Contains(refused.log(), "address already in use") {
		t.Errorf("second master without --reuse-port: exit %d, log:\n%s", code, refused.log())
	}
	b := startHelper(t, "run", append(args, "--reuse-port"))
	b.waitLog("master ready", 1, 10*time.Second)
	if warned := strings.Contains(b.log(), "tcp_migrate_req is 0"); warned != serving.MigrateReqOff() {
		t.Errorf("tcp_migrate_req warning logged: %v, want %v (the sysctl reads off: %v)", warned, serving.MigrateReqOff(), serving.MigrateReqOff())
	}
	wa, wb := a.workers(), b.workers()
	seen := map[int]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + port + "/pid")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pid, _ := strconv.Atoi(string(s))
		seen[pid] = true
	}
	if len(wa) != 1 || len(wb) != 1 || !seen[wa[0]] || !seen[wb[0]] {
		t.Errorf("workers %v and %v, answers from %v: want both masters' workers to answer", wa, wb, seen)
	}
	c := &http.Client{Timeout: 3 * time.Second}
	if code, body := probe(c, health, "/readyz"); code != 200 {
		t.Errorf("shared health port: %d %q", code, body)
	}
}

// A master that stops leaves the SO_REUSEPORT group at once: while it drains
// a slow request, every new connection to the shared port is answered by the
// other master, none waits on the stopping one's socket (to be reset when it
// exits, as pods deleted during a rollout saw).
func TestStoppingMasterLeavesTheReusePortGroup(t *testing.T) {
	needProc(t)
	t.Parallel()
	port := "127.0.0.1:" + freePort(t)
	args := []string{"-w", "1", "-b", port, "--reuse-port", "--graceful-timeout", "10"}
	stopping := startHelper(t, "run", args)
	stopping.waitLog("master ready", 1, 10*time.Second)
	staying := startHelper(t, "run", args)
	staying.waitLog("master ready", 1, 10*time.Second)

	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + stopping.addr + "/slow?d=3s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if l := readLine(bufio.NewReader(resp.Body)); l != "started" {
		t.Fatalf("slow request: %q", l)
	}
	stopping.signal(syscall.SIGTERM)
	stopping.waitLog("master stopping", 1, 5*time.Second)
	time.Sleep(1200 * time.Millisecond) // past the workers' backlog drain (at most 1s)
	fresh := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	failed := 0
	for range 60 {
		resp, err := fresh.Get("http://" + port + "/pid")
		if err != nil {
			failed++
			continue
		}
		resp.Body.Close()
	}
	if failed > 0 {
		t.Errorf("%d of 60 new connections to the shared port were not answered while one master drained", failed)
	}
	if code := stopping.exit(15 * time.Second); code != 0 {
		t.Errorf("drained master exit code %d", code)
	}
}
