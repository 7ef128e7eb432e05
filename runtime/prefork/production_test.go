//go:build linux

package prefork

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// killMasterTree kills a master that is not the test's child (an upgraded
// one) and its workers.
func killMasterTree(pid int) {
	for _, w := range childPids(pid) {
		syscall.Kill(w, syscall.SIGKILL)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func readPidFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// notifyListener is the systemd stand-in's notify socket; it records each
// datagram with the sender's pid (SO_PASSCRED), as systemd does.
type notifyListener struct {
	conn *net.UnixConn
	path string
	msgs chan notifyMsg
}

type notifyMsg struct {
	pid  int
	text string
}

func listenNotifySocket(t *testing.T) *notifyListener {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := conn.SyscallConn()
	raw.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1) })
	n := &notifyListener{conn: conn, path: path, msgs: make(chan notifyMsg, 256)}
	go func() {
		buf, oob := make([]byte, 4096), make([]byte, 1024)
		for {
			nb, noob, _, _, err := conn.ReadMsgUnix(buf, oob)
			if err != nil {
				close(n.msgs)
				return
			}
			m := notifyMsg{text: string(buf[:nb])}
			if scms, err := syscall.ParseSocketControlMessage(oob[:noob]); err == nil && len(scms) > 0 {
				if cred, err := syscall.ParseUnixCredentials(&scms[0]); err == nil {
					m.pid = int(cred.Pid)
				}
			}
			n.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return n
}

// next returns the next datagram that is not a plain STATUS= or WATCHDOG=1.
func (n *notifyListener) next(t *testing.T, within time.Duration, seen *[]notifyMsg) notifyMsg {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-n.msgs:
			*seen = append(*seen, m)
			if strings.HasPrefix(m.text, "STATUS=") || m.text == "WATCHDOG=1\n" {
				continue
			}
			return m
		case <-deadline:
			t.Fatalf("no sd_notify message within %s; seen %+v", within, *seen)
		}
	}
}

// TestSystemdStandIn plays systemd: it binds the socket and passes it as fd
// 3 with LISTEN_FDS/LISTEN_PID (set to the service's own pid by a shim that
// execs, as systemd does after fork), and reads the notify socket.
func TestSystemdStandIn(t *testing.T) {
	needProc(t)
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	files, err := ListenerFiles([]net.Listener{ln})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // the service holds the socket now
	notify := listenNotifySocket(t)
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	p := &proc{t: t, addr: ln.Addr().String(), logPath: filepath.Join(t.TempDir(), "stderr.log"), done: make(chan struct{}), seen: map[int]bool{}}
	logf, _ := os.Create(p.logPath)
	defer logf.Close()
	// The shim: LISTEN_PID and WATCHDOG_PID must name the service's own pid.
	p.cmd = exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ WATCHDOG_PID=$$ exec "$0" "$@"`, os.Args[0],
		"-w", "2", "--pid", pidFile, "--upgrade-timeout", "20")
	p.cmd.ExtraFiles = files
	p.cmd.Env = append(cleanEnv(os.Environ()), "PREFORK_TEST_HELPER=run", "LISTEN_FDS=1", "LISTEN_FDNAMES=web",
		"NOTIFY_SOCKET="+notify.path, "WATCHDOG_USEC=400000")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files[0].Close()
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	masterPID := p.cmd.Process.Pid
	newMaster := 0
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if newMaster != 0 {
			killMasterTree(newMaster)
		}
		for pid := range p.seen {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("service log:\n%s", p.log())
		}
	})

	var seen []notifyMsg
	m := notify.next(t, bootWithin, &seen)
	if !strings.HasPrefix(m.text, "READY=1\n") || m.pid != masterPID {
		t.Fatalf("first message %q from pid %d, want READY=1 from the master %d", m.text, m.pid, masterPID)
	}
	c := newClient()
	if body, err := p.get(c, "/"); err != nil || body != "hello\n" {
		t.Fatalf("service does not answer on the passed socket: %q %v", body, err)
	}
	if !strings.Contains(p.log(), "inherited=true") {
		t.Error("master did not report inherited listeners")
	}

	p.signal(syscall.SIGHUP)
	m = notify.next(t, 5*time.Second, &seen)
	if !strings.HasPrefix(m.text, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("after HUP got %q, want RELOADING=1 with MONOTONIC_USEC", m.text)
	}
	if m = notify.next(t, bootWithin, &seen); !strings.HasPrefix(m.text, "READY=1\n") {
		t.Fatalf("after the reload got %q, want READY=1", m.text)
	}

	p.signal(syscall.SIGUSR2)
	// the new master announces itself, and the old one moves MAINPID too
	m = notify.next(t, bootWithin, &seen)
	if !strings.HasPrefix(m.text, "MAINPID=") {
		t.Fatalf("after USR2 got %q, want MAINPID=", m.text)
	}
	newMaster, _ = strconv.Atoi(strings.TrimSpace(strings.SplitN(strings.TrimPrefix(m.text, "MAINPID="), "\n", 2)[0]))
	if newMaster == 0 || newMaster == masterPID || m.pid != newMaster {
		t.Fatalf("MAINPID=%d sent by %d; old master %d", newMaster, m.pid, masterPID)
	}
	if m = notify.next(t, 5*time.Second, &seen); m.text != fmt.Sprintf("MAINPID=%d\n", newMaster) || m.pid != masterPID {
		t.Fatalf("old master should confirm MAINPID=%d, got %q from %d", newMaster, m.text, m.pid)
	}
	if code := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("old master exit code %d after the upgrade", code)
	}
	if got := readPidFile(t, pidFile); got != newMaster {
		t.Errorf("pid file holds %d, want the new master %d", got, newMaster)
	}
	if body, err := p.get(c, "/"); err != nil || body != "hello\n" {
		t.Fatalf("new master does not serve: %q %v", body, err)
	}
	// the watchdog keeps being fed, now by the new master
	deadline := time.After(5 * time.Second)
	for fed := false; !fed; {
		select {
		case msg := <-notify.msgs:
			seen = append(seen, msg)
			fed = msg.text == "WATCHDOG=1\n" && msg.pid == newMaster
		case <-deadline:
			t.Fatalf("no WATCHDOG=1 from the new master; seen %+v", seen)
		}
	}

	syscall.Kill(newMaster, syscall.SIGTERM)
	if m = notify.next(t, 5*time.Second, &seen); m.text != "STOPPING=1\n" || m.pid != newMaster {
		t.Fatalf("after TERM got %q from %d, want STOPPING=1 from %d", m.text, m.pid, newMaster)
	}
	for _, s := range seen {
		if s.text == "STOPPING=1\n" && s.pid == masterPID {
			t.Error("the old master sent STOPPING=1 while handing over")
		}
	}
	gotWD := false
	for _, s := range seen {
		gotWD = gotWD || (s.text == "WATCHDOG=1\n" && s.pid == masterPID)
	}
	if !gotWD {
		t.Error("no WATCHDOG=1 from the first master")
	}
	for deadline := time.Now().Add(15 * time.Second); alive(newMaster); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("new master did not stop on TERM")
		}
	}
}

// accessLines reads the JSON access log lines.
func accessLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line is not valid JSON: %q: %v", line, err)
		}
		if len(m) != accessLogJSONFields {
			t.Fatalf("access log line has %d fields, want %d: %q", len(m), accessLogJSONFields, line)
		}
		out = append(out, m)
	}
	return out
}

func waitFileLines(t *testing.T, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has fewer than %d lines:\n%s", path, n, b)
		}
	}
}

func rawHTTP(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b)
}

func TestForwardedProxyProtocolAndJSONAccessLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	p := startHelper(t, "run", []string{"-w", "1", "--access-logfile", logPath, "--access-logformat", "json",
		"--forwarded-allow-ips", "127.0.0.1", "--proxy-protocol"})
	p.waitLog("master ready", 1, bootWithin)

	// trusted peer: X-Forwarded-* honoured
	got := rawHTTP(t, p.addr, "GET /prod/whoami HTTP/1.1\r\nHost: internal\r\nX-Forwarded-For: 1.2.3.4, 198.51.100.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "200 OK 198.51.100.7:0 https shop.example") {
		t.Errorf("trusted peer's forwarded headers: %q", got)
	}
	// PROXY protocol v1 from the trusted peer sets the client address
	got = rawHTTP(t, p.addr, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 80\r\nGET /prod/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "200 OK 203.0.113.9:40000 http x") {
		t.Errorf("PROXY header: %q", got)
	}
	// hostile values: quotes, backslashes, invalid UTF-8, tab, an encoded newline in the path
	hostile := "GET /a%0A%22b%22%7D?q=%22%0D%0A HTTP/1.1\r\nHost: x\r\nUser-Agent: evil\", \"status\": 500, \"x\": \"\\\xff\xfe\t}\r\nReferer: \"}{\"forged\":1}\r\nX-Request-Id: \x80\x81\"\r\nConnection: close\r\n\r\n"
	got = rawHTTP(t, p.addr, hostile)
	if !strings.HasPrefix(got, "200") {
		t.Errorf("hostile request answered %q, want it served (and logged)", got)
	}
	waitFileLines(t, logPath, 3)
	lines := accessLines(t, logPath)
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3", len(lines))
	}
	if lines[0]["remote_addr"] != "198.51.100.7" || lines[1]["remote_addr"] != "203.0.113.9" {
		t.Errorf("remote_addr not the client: %v / %v", lines[0]["remote_addr"], lines[1]["remote_addr"])
	}
	h := lines[2]
	if h["path"] != "/a\n\"b\"}" || !strings.HasPrefix(h["user_agent"].(string), `evil", "status": 500`) || h["status"].(float64) == 500 {
		t.Errorf("hostile line decoded to %v", h)
	}

	// untrusted peer (127.0.0.1 not in the list): headers ignored, PROXY refused
	q := startHelper(t, "run", []string{"-w", "1", "--forwarded-allow-ips", "192.0.2.1", "--proxy-protocol"})
	q.waitLog("master ready", 1, bootWithin)
	got = rawHTTP(t, q.addr, "GET /prod/whoami HTTP/1.1\r\nHost: internal\r\nX-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "200 OK 127.0.0.1:") || !strings.Contains(got, " http internal") {
		t.Errorf("untrusted peer's forwarded headers were honoured: %q", got)
	}
	if got = rawHTTP(t, q.addr, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 80\r\nGET /prod/whoami HTTP/1.1\r\nHost: x\r\n\r\n"); strings.Contains(got, "203.0.113.9") {
		t.Errorf("untrusted peer's PROXY header was honoured: %q", got)
	}

	// USR1 reopens the access log after logrotate moved it
	os.Rename(logPath, logPath+".1")
	p.signal(syscall.SIGUSR1)
	p.waitLog("log files reopened", 1, 5*time.Second)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rawHTTP(t, p.addr, "GET /after-rotate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte("/after-rotate")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no access log line in the reopened file")
		}
	}
}

func TestWorkerOverMemoryLimitIsReplaced(t *testing.T) {
	needProc(t)
	t.Parallel()
	p := startHelper(t, "run", []string{"-w", "1", "--max-worker-memory", "150MiB"})
	p.waitLog("master ready", 1, bootWithin)
	fat := p.waitWorkers(1, 5*time.Second, nil)[0]
	if rss, err := observe.ReadRSS(fat); err != nil || rss > 100<<20 {
		t.Fatalf("a fresh worker already has RSS %d (%v): the limit would recycle every worker", rss, err)
	}
	c := &http.Client{Timeout: 60 * time.Second}
	if s, err := p.get(c, "/prod/alloc?mb=160"); err != nil || s != strconv.Itoa(fat) {
		t.Fatalf("alloc: %q %v", s, err)
	}
	p.waitLog("over max-worker-memory", 1, 10*time.Second)
	p.waitWorkers(1, bootWithin, func(ws []int) bool { return ws[0] != fat })
	if alive(fat) {
		t.Errorf("worker %d over the limit still alive", fat)
	}
	if pid := p.pidOf(c); pid == fat {
		t.Error("still served by the recycled worker")
	}
	if strings.Count(p.log(), `msg="recycling worker"`) != 1 {
		t.Errorf("the replacement was recycled too (limit too low for a fresh worker?)")
	}
}

func TestStatusSubcommandShowsEveryWorker(t *testing.T) {
	needProc(t)
	t.Parallel()
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	p := startHelper(t, "run", []string{"-w", "3", "--control-socket", ctl})
	p.waitLog("master ready", 1, bootWithin)
	workers := p.waitWorkers(3, 5*time.Second, nil)
	if fi, err := os.Stat(ctl); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}
	var out bytes.Buffer
	if handled, err := RunControlCommand([]string{"status"}, ctl, &out); !handled || err != nil {
		t.Fatalf("status: %v %v", handled, err)
	}
	table := out.String()
	for _, w := range workers {
		if !strings.Contains(table, " "+strconv.Itoa(w)+" ") {
			t.Errorf("worker %d missing from the status table:\n%s", w, table)
		}
	}
	if !strings.Contains(table, fmt.Sprintf("master %d ", p.cmd.Process.Pid)) || strings.Count(table, "ready") != 3 || !strings.Contains(table, "MiB") {
		t.Errorf("status table:\n%s", table)
	}
	out.Reset()
	if _, err := RunControlCommand([]string{"scale-up"}, ctl, &out); err != nil {
		t.Fatal(err)
	}
	p.waitWorkers(4, bootWithin, nil)
	if _, err := RunControlCommand([]string{"scale-down", "2"}, ctl, &out); err != nil {
		t.Fatal(err)
	}
	p.waitWorkers(2, bootWithin, nil)
	if _, err := RunControlCommand([]string{"reload"}, ctl, &out); err != nil {
		t.Fatal(err)
	}
	p.waitLog("reload complete", 1, bootWithin)
	st, err := Control(ctl, ControlStatus)
	if err != nil || st.Generation != 2 || len(st.Workers) != 2 {
		t.Fatalf("after reload: %+v %v", st, err)
	}
	for _, w := range st.Workers {
		if w.Generation != 2 || w.State != "ready" || w.RSSBytes <= 0 {
			t.Errorf("worker after reload: %+v", w)
		}
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
	if _, err := os.Stat(ctl); !os.IsNotExist(err) {
		t.Errorf("control socket left after stop: %v", err)
	}
}

func TestTLSServesHTTPS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, der := writeTestCert(t, t.TempDir(), 7)
	p := startHelper(t, "run", []string{"-w", "1", "--certfile", certFile, "--keyfile", keyFile})
	p.waitLog("master ready", 1, bootWithin)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := c.Get("https://" + p.addr + "/prod/whoami")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || !strings.Contains(string(body), " https ") {
		t.Errorf("got %s %q, want HTTP/2.0 and scheme https", resp.Proto, body)
	}
}

// The control socket never takes the service down (Gunicorn 25.1's
// default-on socket broke non-root containers): a missing directory is
// created, one that cannot be is reported once and the server serves.
func TestControlSocketNeverStopsService(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(blocker, "ctl.sock")
	p := startHelper(t, "run", []string{"-w", "1", "--control-socket", bad})
	p.waitLog("master ready", 1, bootWithin)
	if n := strings.Count(p.log(), "control socket not available"); n != 1 || !strings.Contains(p.log(), bad) {
		t.Errorf("want one warning naming %s, got %d:\n%s", bad, n, p.log())
	}
	if _, err := p.get(http.DefaultClient, "/pid"); err != nil {
		t.Errorf("not serving: %v", err)
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)

	created := filepath.Join(dir, "run", "app", "ctl.sock")
	q := startHelper(t, "run", []string{"-w", "1", "--control-socket", created, "--control-socket-mode", "0660"})
	q.waitLog("master ready", 1, bootWithin)
	fi, err := os.Stat(created)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("control socket in a created directory: %v %v", fi, err)
	}
	if _, err := Control(created, ControlStatus); err != nil {
		t.Errorf("status over the created socket: %v", err)
	}
	q.signal(syscall.SIGTERM)
	q.exit(15 * time.Second)
}

// accessLogJSONFields is how many keys a JSON access log line has (observe's
// accesslog_test lists them).
const accessLogJSONFields = 16
