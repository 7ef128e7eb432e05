package deploy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
	"github.com/scaffoldgo/scaffold/templates"
)

// TestEndToEnd installs a generated project with `make install`, runs it under a real
// supervisord with the generated program file, puts a real nginx with the generated site
// in front on a loopback port, and checks what the issue promises: the app answers
// through nginx, nginx alone answers /static/ and a 502 page while the app is stopped,
// dotfiles are refused, a stop leaves no process, and neither a HUP reload nor workers
// SIGKILLed under load fail a request.
func TestEndToEnd(t *testing.T) {
	ctx, deadline := endToEnd(t, "builds a project and starts supervisord and nginx", 6*time.Minute, "nginx", "supervisord", "supervisorctl", "make", "go")
	// The installed production config runs a canary on every reload (20 s, twice without
	// traffic); a short one here, inherited by supervisord's and the unit's app.
	t.Setenv("APP_SERVER_CANARY_WINDOW", "2")

	dir := newProject(t, "demo")
	prefix := filepath.Join(t.TempDir(), "opt")
	install := exec.CommandContext(ctx, "make", "install", "PREFIX="+prefix)
	install.Dir = dir
	// Without cgo, as make image and goreleaser build: -trimpath's compiles of the standard
	// library and the dependencies are then the ones TestCluster's image left in the build
	// cache (with cgo they are another set, 40 s of CPU); the installed layout is the same.
	install.Env = testenv.OfflineGoEnv("CGO_ENABLED=0")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	t.Run("supervisor and nginx", func(t *testing.T) { supervisorAndNginx(t, ctx, deadline, dir, prefix, "http") })
	// nginx to the app over uwsgi_pass and fastcgi_pass (deploy-config --protocol)
	t.Run("supervisor and nginx over uwsgi", func(t *testing.T) { supervisorAndNginx(t, ctx, deadline, dir, prefix, "uwsgi") })
	t.Run("supervisor and nginx over fastcgi", func(t *testing.T) { supervisorAndNginx(t, ctx, deadline, dir, prefix, "fastcgi") })
	t.Run("systemd service", func(t *testing.T) { systemdService(t, ctx, deadline, dir, prefix) })
}

func supervisorAndNginx(t *testing.T, ctx context.Context, deadline time.Time, dir, prefix, protocol string) {
	tmp := t.TempDir()
	bin := filepath.Join(prefix, "bin", "demo")

	for _, d := range []string{"run", "log", "nginx/tmp", "nginx/log", "acme"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// As in production, supervisord runs as root and the app as an unprivileged user
	// (nobody here), when the test runs as root; otherwise as the current user.
	runAs := currentUser(t)
	if os.Geteuid() == 0 {
		if u, ok := lookupUser("nobody"); ok {
			runAs = u
			// The temporary folders above the install and the socket must be enterable by it.
			openUp(t, tmp)
			openUp(t, prefix)
		}
	}
	webGroup := "www-data" // nginx's group on Debian; nginx runs as root in this test anyway
	if _, err := user.LookupGroup(webGroup); err != nil {
		webGroup = runAs.group
	}
	port := testenv.FreePort(t)
	socket := filepath.Join(tmp, "run", "demo.sock")
	gen := writeDeploy(t, dir, Options{
		Targets: []string{"nginx", "supervisor", "systemd", "logrotate"},
		Prefix:  prefix, Socket: socket, LogDir: filepath.Join(tmp, "log"),
		Listen: "127.0.0.1:" + strconv.Itoa(port), Domains: []string{"demo.test"},
		User: runAs.name, Group: runAs.group, WebGroup: webGroup,
		NginxLogDir: filepath.Join(tmp, "nginx", "log"), ACMERoot: filepath.Join(tmp, "acme"),
		Protocol: protocol,
	})
	out := filepath.Join(dir, "deploy")
	// The generated tmpfiles.d entry creates the socket and log folders for the app's user.
	if os.Geteuid() == 0 {
		tmpfiles := filepath.Join(out, "tmpfiles", "demo.conf")
		if _, err := exec.LookPath("systemd-tmpfiles"); err == nil {
			if outb, err := exec.CommandContext(ctx, "systemd-tmpfiles", "--create", tmpfiles).CombinedOutput(); err != nil {
				t.Fatalf("systemd-tmpfiles --create %s: %v\n%s", tmpfiles, err, outb)
			}
		} else {
			t.Log("systemd-tmpfiles not installed: doing what its entry says by hand")
			for _, d := range []string{"run", "log"} {
				if err := os.Chown(filepath.Join(tmp, d), runAs.uid, runAs.gid); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, d := range []string{"run", "log"} {
			if fi, err := os.Stat(filepath.Join(tmp, d)); err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != runAs.uid {
				t.Fatalf("%s not owned by %s after tmpfiles: %v", d, runAs.name, err)
			}
		}
	}

	// supervisord, in the foreground, with the generated program file included.
	supConf := filepath.Join(tmp, "supervisord.conf")
	writeFile(t, supConf, fmt.Sprintf(`[unix_http_server]
file=%[1]s/supervisor.sock
[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock
[include]
files = %[2]s/supervisor/*.conf
`, tmp, out))
	supervisord := startDaemon(t, "supervisord", "-c", supConf)
	ctl := func(args ...string) string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		outb, err := exec.CommandContext(c, "supervisorctl", append([]string{"-c", supConf}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("supervisorctl %s: %v\n%s\nsupervisord log:\n%s", strings.Join(args, " "), err, outb, tail(filepath.Join(tmp, "log", "supervisor-stderr.log")))
		}
		return string(outb)
	}
	t.Cleanup(func() {
		// Stop through supervisor first (the app drains), then make sure nothing is left.
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = exec.CommandContext(c, "supervisorctl", "-c", supConf, "shutdown").Run()
		supervisord.stop(10 * time.Second)
		for _, pid := range processesOf(bin) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitFor(t, "the app's socket", deadline, func() error {
		if st, _ := exec.CommandContext(ctx, "supervisorctl", "-c", supConf, "status", "demo").CombinedOutput(); strings.Contains(string(st), "FATAL") {
			t.Fatalf("supervisor gave up on the app: %s\napp stderr:\n%s", st, tail(filepath.Join(tmp, "log", "supervisor-stderr.log")))
		}
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err
	})

	// nginx (another user in production) may connect: the socket is 0666 inside a folder
	// that tmpfiles.d opens to the web server's group only.
	if fi, err := os.Stat(socket); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o666 {
		t.Errorf("socket %s: mode %v, want 0666", socket, fi.Mode().Perm())
	}

	// nginx, in the foreground, with the generated site in a wrapper config.
	nginxDir := filepath.Join(tmp, "nginx")
	// The site and the catch-all default server beside it, as installed.
	nginxConf := filepath.Join(nginxDir, "nginx.conf")
	writeFile(t, nginxConf, string(NginxWrapper(nginxDir, filepath.Join(out, "nginx", "*.conf"))))
	nginx := startDaemon(t, "nginx", "-p", nginxDir, "-e", "stderr", "-c", nginxConf, "-g", "daemon off;")
	t.Cleanup(func() { nginx.stop(10 * time.Second) })
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "nginx", deadline, func() error {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err
	})

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path, host string) (*http.Response, string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		if err != nil {
			return nil, "", err
		}
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, string(body), err
	}
	expect := func(path string, status int, bodyHas string) *http.Response {
		t.Helper()
		resp, body, err := get(path, "demo.test")
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if resp.StatusCode != status || !strings.Contains(body, bodyHas) {
			t.Fatalf("GET %s: %d, want %d with %q; body:\n%.400s", path, resp.StatusCode, status, bodyHas, body)
		}
		return resp
	}

	// The app answers through nginx, with nginx's security headers on top.
	resp := expect("/", 200, "<title>demo</title>")
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Server") != "nginx" {
		t.Errorf("/ headers: %v", resp.Header)
	}
	// Static files come from PREFIX/static with cache headers: the stylesheet under the
	// fingerprinted name the app's page writes for a year, immutable; its plain name briefly.
	_, page, err := get("/", "demo.test")
	if err != nil {
		t.Fatal(err)
	}
	stylesheet := regexp.MustCompile(`href="(/static/css/style\.[0-9a-f]+\.css)"`).FindStringSubmatch(page)
	if stylesheet == nil {
		t.Fatalf("the page names no fingerprinted stylesheet:\n%s", page)
	}
	for path, want := range map[string]string{stylesheet[1]: templates.Static.Immutable, "/static/css/style.css": templates.Static.Brief} {
		resp = expect(path, 200, "font-family")
		if cc := resp.Header.Get("Cache-Control"); cc != want {
			t.Errorf("GET %s through nginx: Cache-Control %q, want %q", path, cc, want)
		}
	}
	// Dotfiles are refused, also under /static/.
	for _, p := range []string{"/.env", "/.git/config", "/static/.htpasswd"} {
		expect(p, 403, "")
	}
	// The ACME challenge is served from disk, never by the app.
	writeFile(t, filepath.Join(tmp, "acme", ".well-known", "acme-challenge", "tok"), "token-from-disk")
	expect("/.well-known/acme-challenge/tok", 200, "token-from-disk")
	expect("/.well-known/acme-challenge/missing", 404, "")
	// Other host names are refused by the default server (444: connection closed).
	if resp, _, err := get("/", "evil.test"); err == nil {
		t.Errorf("unknown host answered %d", resp.StatusCode)
	}

	// The master runs as the configured user.
	if uid := processUID(t, supervisorPid(t, ctl)); uid != runAs.uid {
		t.Errorf("the app runs as uid %d, want %d (%s)", uid, runAs.uid, runAs.name)
	}

	// The control socket is where the generated files put it.
	status := exec.CommandContext(ctx, bin, "status", "--control-socket", gen.Data.ControlSocket)
	if outb, err := status.CombinedOutput(); err != nil || len(outb) == 0 {
		t.Errorf("%s status: %v\n%s", bin, err, outb)
	}

	// load sends requests for / through nginx from 4 clients (see startLoad).
	load := func(max int) (stop func() (ok, failed int64, first error)) {
		return startLoad(4, max, func() error {
			resp, body, err := get("/", "demo.test")
			if err == nil && (resp.StatusCode != 200 || !strings.Contains(body, "<title>demo</title>")) {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		})
	}

	// HUP: a rolling reload under continuous requests fails none of them.
	master := supervisorPid(t, ctl)
	before := childrenOf(master)
	if len(before) == 0 {
		t.Fatalf("master %d has no workers", master)
	}
	stop := load(2000)
	ctl("signal", "HUP", "demo")
	waitReplaced(t, deadline, master, before)
	ok, failed, first := stop()
	t.Logf("HUP reload under load: %d requests answered, %d failed", ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("HUP reload: %d of %d requests failed (first: %v)", failed, ok+failed, first)
	}

	if protocol != "http" {
		// uwsgi and FastCGI take one connection per request: a worker SIGKILLed with a
		// request in flight fails that request (nginx has no kept-alive connection to
		// retry), as with Gunicorn or uWSGI; the reload above is what must lose nothing.
		site, _ := gen.Files.Get("nginx/demo.conf")
		if !strings.Contains(string(site.Data), protocol+"_pass demo_app;") {
			t.Errorf("the site does not use %s_pass:\n%s", protocol, site.Data)
		}
		return
	}
	// SIGKILL of workers (an OOM killer, an operator) under load: the master replaces them
	// at once, and nginx retries a request whose kept-alive upstream connection died with
	// its worker, so no client sees an error.
	workers := len(childrenOf(master))
	stop = load(20000)
	var killed []int
	for range 5 {
		time.Sleep(300 * time.Millisecond)
		if now := childrenOf(master); len(now) > 0 && syscall.Kill(now[0], syscall.SIGKILL) == nil {
			killed = append(killed, now[0])
		}
	}
	waitFor(t, "the killed workers to be replaced", deadline, func() error {
		now := childrenOf(master)
		for _, pid := range now {
			if slices.Contains(killed, pid) {
				return fmt.Errorf("killed worker %d still listed (workers %v)", pid, now)
			}
		}
		if len(now) != workers {
			return fmt.Errorf("%d workers, want %d", len(now), workers)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // requests also reach the replacements
	ok, failed, first = stop()
	t.Logf("%d workers SIGKILLed under load: %d requests answered, %d failed", len(killed), ok, failed)
	if len(killed) != 5 {
		t.Errorf("%d of 5 kills reached a worker", len(killed))
	}
	if ok+failed == 4*20000 {
		t.Errorf("the load ran out before the kills ended: raise its bound")
	}
	if failed > 0 || ok == 0 {
		t.Errorf("workers killed under load: %d of %d requests failed through nginx (first: %v)", failed, ok+failed, first)
	}
	if pid := supervisorPid(t, ctl); pid != master {
		t.Errorf("HUP replaced the master (%d -> %d)", master, pid)
	}

	// logrotate: the generated postrotate script (run where supervisorctl finds this
	// supervisord's config, as systemd is not running here) makes the app reopen its log.
	appLog := filepath.Join(tmp, "log", "demo.log")
	if _, err := os.Stat(appLog); err != nil {
		t.Fatalf("the app's log (APP_LOGGING_OUTPUT): %v", err)
	}
	if _, err := exec.LookPath("logrotate"); err != nil {
		for _, p := range []string{appLog, filepath.Join(tmp, "log", "access.log")} {
			if err := os.Rename(p, p+".1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	lr, _ := gen.Files.Get("logrotate/demo")
	var rotate *exec.Cmd
	if _, err := exec.LookPath("logrotate"); err == nil {
		// The real logrotate, forced, with a state file of its own.
		rotate = exec.CommandContext(ctx, "logrotate", "-v", "-f", "-s", filepath.Join(tmp, "logrotate.state"), filepath.Join(out, "logrotate", "demo"))
	} else {
		script := between(string(lr.Data), "postrotate\n", "endscript")
		if script == "" {
			t.Fatalf("no postrotate script in:\n%s", lr.Data)
		}
		t.Log("logrotate not installed: running the postrotate script alone")
		rotate = exec.CommandContext(ctx, "sh", "-c", script)
	}
	rotate.Dir = tmp // where supervisorctl finds supervisord.conf
	if outb, err := rotate.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", rotate, err, outb)
	}
	// Requests after the rotation land in the new access log: every process reopened it.
	accessLog := filepath.Join(tmp, "log", "access.log")
	waitFor(t, "requests in the new "+accessLog+" after USR1", deadline, func() error {
		for range 8 {
			expect("/", 200, "<title>demo</title>")
		}
		fi, err := os.Stat(accessLog)
		if err == nil && fi.Size() == 0 {
			err = fmt.Errorf("%s is empty", accessLog)
		}
		return err
	})
	rotated, _ := filepath.Glob(filepath.Join(tmp, "log", "access.log?*"))
	if len(rotated) == 0 {
		t.Errorf("no rotated access log beside %s", accessLog)
	}

	// Stopped by supervisor: no process of the app is left; nginx alone still serves
	// /static/ and answers / with a 502 and its own page.
	ctl("stop", "demo")
	if left := processesOf(bin); len(left) > 0 {
		t.Errorf("processes of %s left after supervisorctl stop: %v", bin, left)
	}
	expect("/static/css/style.css", 200, "")
	expect("/", 502, "Temporarily unavailable")

	ctl("start", "demo")
	waitFor(t, "the app after start", deadline, func() error {
		resp, _, err := get("/", "demo.test")
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	})
}

// systemdService runs the generated service the way systemd would, without systemd: the
// listening socket of demo.socket handed over as fd 3 (LISTEN_FDS/LISTEN_PID), the unit's
// Environment= and ExecStart=, a NOTIFY_SOCKET and a watchdog; then ExecReload's HUP and
// KillSignal's TERM, as systemctl reload and stop send them.
func systemdService(t *testing.T, ctx context.Context, deadline time.Time, dir, prefix string) {
	tmp := t.TempDir()
	bin := filepath.Join(prefix, "bin", "demo")
	if err := os.MkdirAll(filepath.Join(tmp, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(tmp, "run", "demo.sock")
	gen, err := Generate(dir, Options{Targets: []string{"systemd"}, Prefix: prefix, Socket: socket, LogDir: filepath.Join(tmp, "log")})
	if err != nil {
		t.Fatal(err)
	}
	unit, _ := gen.Files.Get("systemd/demo.service")
	sockUnit, _ := gen.Files.Get("systemd/demo.socket")
	if got := unitValues(sockUnit.Data, "ListenStream"); len(got) != 1 || got[0] != socket {
		t.Fatalf("demo.socket ListenStream=%v, want %s", got, socket)
	}
	execStart := strings.Fields(unitValues(unit.Data, "ExecStart")[0])
	if execStart[0] != bin {
		t.Fatalf("ExecStart runs %s, want %s", execStart[0], bin)
	}

	// What systemd does for demo.socket: bind, and keep the socket open across restarts.
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lnFile, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lnFile.Close()
	notifyPath := filepath.Join(tmp, "notify.sock")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	// Like systemd's own notify socket: any service user may send to it.
	if err := os.Chmod(notifyPath, 0o777); err != nil {
		t.Fatal(err)
	}
	messages := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := notify.ReadFromUnix(buf)
			if err != nil {
				close(messages)
				return
			}
			for _, m := range strings.Split(string(buf[:n]), "\n") {
				messages <- m
			}
		}
	}()
	await := func(want string) {
		t.Helper()
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		for {
			select {
			case m, ok := <-messages:
				if !ok {
					t.Fatalf("notify socket closed before %s", want)
				}
				if m == want {
					return
				}
			case <-timer.C:
				t.Fatalf("no %s on NOTIFY_SOCKET", want)
			}
		}
	}

	// LISTEN_PID and WATCHDOG_PID must name the service's main process: a shell learns
	// its pid and execs the binary in place. The watchdog is 1s here so that pings show.
	shim := `LISTEN_PID=$$ WATCHDOG_PID=$$ exec "$0" "$@"`
	cmd := exec.Command("sh", append([]string{"-c", shim}, execStart...)...)
	cmd.Dir = unitValues(unit.Data, "WorkingDirectory")[0]
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES=demo.socket", "NOTIFY_SOCKET="+notifyPath, "WATCHDOG_USEC=1000000")
	cmd.Env = append(cmd.Env, unitValues(unit.Data, "Environment")...)
	cmd.ExtraFiles = []*os.File{lnFile}
	if u, ok := lookupUser("nobody"); ok && os.Geteuid() == 0 {
		// User=: an unprivileged user, owning what LogsDirectory= and RuntimeDirectory= create.
		openUp(t, tmp)
		openUp(t, prefix)
		for _, d := range []string{filepath.Join(tmp, "log"), filepath.Dir(socket)} {
			if err := os.Chown(d, u.uid, u.gid); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
		for _, pid := range processesOf(bin) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("service output:\n%s\nlog:\n%s", out.String(), tail(filepath.Join(tmp, "log", "demo.log")))
		}
	})
	await("READY=1")
	await("WATCHDOG=1")

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	get := func() error {
		resp, err := client.Get("http://demo.test/")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>demo</title>") {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil {
		t.Fatalf("GET / on the socket-activated service: %v", err)
	}

	// systemctl reload: ExecReload, `NAME reload --wait` over the control socket, run as
	// the service with its environment; it returns once the reload is decided, 0 when
	// the new generation took over.
	execReload := unitValues(unit.Data, "ExecReload")
	if len(execReload) != 1 || !strings.HasSuffix(execReload[0], " reload --wait") {
		t.Fatalf("ExecReload=%v", execReload)
	}
	argv := strings.Fields(execReload[0])
	reload := exec.CommandContext(ctx, argv[0], argv[1:]...)
	reload.Dir, reload.SysProcAttr = cmd.Dir, cmd.SysProcAttr
	reload.Env = append(os.Environ(), unitValues(unit.Data, "Environment")...)
	if out, err := reload.CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %s: %v\n%s", execReload[0], err, out)
	}
	await("RELOADING=1")
	await("READY=1")
	if err := get(); err != nil {
		t.Fatalf("GET / after reload: %v", err)
	}

	// systemctl stop: KillSignal to the main process, at most TimeoutStopSec.
	stopWait := time.Duration(gen.Data.StopWait) * time.Second
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	await("STOPPING=1")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("service exited with %v after TERM", err)
		}
	case <-time.After(stopWait):
		t.Fatalf("service still running %s (TimeoutStopSec) after TERM", stopWait)
	}
	if left := processesOf(bin); len(left) > 0 {
		t.Errorf("processes left after stop: %v", left)
	}
	// The socket stays with "systemd": the next start would find it open.
	if _, err := os.Stat(socket); err != nil {
		t.Errorf("the service removed the socket it inherited: %v", err)
	}
}

// unitValues returns the values of key= lines of a unit file.
func unitValues(unit []byte, key string) []string {
	var vals []string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			vals = append(vals, v)
		}
	}
	return vals
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// endToEnd skips an end-to-end test under -short (what says what it starts), fails or
// skips it without one of tools (testenv.Tool), and returns a context ending at the
// returned deadline, limit from now.
func endToEnd(t *testing.T, what string, limit time.Duration, tools ...string) (context.Context, time.Time) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: " + what)
	}
	for _, tool := range tools {
		testenv.Tool(t, tool)
	}
	deadline := time.Now().Add(limit)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx, deadline
}

// waitFor polls cond until it returns nil, failing the test at deadline with its last error.
func waitFor(t *testing.T, what string, deadline time.Time, cond func() error) {
	t.Helper()
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", what, err)
}

// startLoad runs request from clients goroutines until the returned stop is called (at
// most max times each), and stop reports how many succeeded and failed, with the first
// error.
func startLoad(clients, max int, request func() error) (stop func() (ok, failed int64, first error)) {
	var okN, failedN atomic.Int64
	var firstErr atomic.Value
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < max; n++ {
				select {
				case <-done:
					return
				default:
				}
				if err := request(); err != nil {
					failedN.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				okN.Add(1)
			}
		}()
	}
	return func() (int64, int64, error) {
		close(done)
		wg.Wait()
		err, _ := firstErr.Load().(error)
		return okN.Load(), failedN.Load(), err
	}
}

// waitReplaced waits until the master has workers again and none of before (its workers
// before a reload) is left: the end of a rolling reload.
func waitReplaced(t *testing.T, deadline time.Time, master int, before []int) {
	t.Helper()
	waitFor(t, "the old workers to be replaced", deadline, func() error {
		now := childrenOf(master)
		for _, pid := range now {
			for _, old := range before {
				if pid == old {
					return fmt.Errorf("old worker %d still running (workers %v)", pid, now)
				}
			}
		}
		if len(now) == 0 {
			return fmt.Errorf("no workers")
		}
		return nil
	})
}

type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *strings.Builder
}

// startDaemon starts a foreground server in its own process group; its output is logged
// when the test fails.
func startDaemon(t *testing.T, name string, args ...string) *daemon {
	t.Helper()
	return startDaemonIn(t, "", nil, name, args...)
}

// startDaemonIn is startDaemon in the folder dir with the environment env (nil: this
// process's).
func startDaemonIn(t *testing.T, dir string, env []string, name string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var buf strings.Builder
	var mu sync.Mutex
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			buf.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{}), out: &buf}
	go func() { _ = cmd.Wait(); pw.Close(); close(d.done) }()
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", name, buf.String())
			mu.Unlock()
		}
	})
	return d
}

// stop sends TERM to the daemon's process group, then KILL after grace.
func (d *daemon) stop(grace time.Duration) {
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.done
	}
}

func supervisorPid(t *testing.T, ctl func(...string) string) int {
	t.Helper()
	s := strings.TrimSpace(ctl("pid", "demo"))
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("supervisorctl pid demo: %q", s)
	}
	return pid
}

// processesOf lists the pids whose executable is bin.
func processesOf(bin string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.TrimSuffix(exe, " (deleted)") == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// childrenOf lists the live child processes of pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[0] != "Z" && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids
}

func tail(p string) string {
	data, _ := os.ReadFile(p)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// between returns the text of s after the first from and before the following to.
func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	in, _, ok := strings.Cut(after, to)
	if !ok {
		return ""
	}
	return in
}

type account struct {
	name, group string
	uid, gid    int
}

func currentUser(t *testing.T) account {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	a, ok := lookupUser(me.Username)
	if !ok {
		t.Fatalf("cannot look up %s", me.Username)
	}
	return a
}

func lookupUser(name string) (account, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, false
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return account{}, false
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return account{name: u.Username, group: g.Name, uid: uid, gid: gid}, true
}

// openUp makes dir and its parents up to the system temp folder enterable by others
// (t.TempDir's top folder is 0700).
func openUp(t *testing.T, dir string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); d != top && d != "/" && strings.HasPrefix(d, top); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o055); err != nil {
			t.Fatal(err)
		}
	}
}

// processUID reads the real uid of pid from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return -1
}
