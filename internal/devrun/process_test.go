//go:build unix

package devrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// genProject writes a generated project into a temporary directory.
func genProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	pc, err := project.Generate(project.Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Commit(pc.Files, dir, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

// events records the runner's events and lets the test wait for one.
type events struct {
	mu  sync.Mutex
	all []Event
	ch  chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 1024)} }

func (e *events) record(ev Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

// wait returns the next event of kind k, failing after d.
func (e *events) wait(t *testing.T, k EventKind, d time.Duration, log fmt.Stringer) Event {
	t.Helper()
	return e.waitFor(t, k, func(Event) bool { return true }, d, log)
}

// waitFor returns the next event of kind k that ok accepts, failing after d.
func (e *events) waitFor(t *testing.T, k EventKind, ok func(Event) bool, d time.Duration, log fmt.Stringer) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == k && ok(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s; runner output:\n%s", k, d, log)
		}
	}
}

// latest returns the last recorded event of kind k.
func (e *events) latest(k EventKind) Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.all) - 1; i >= 0; i-- {
		if e.all[i].Kind == k {
			return e.all[i]
		}
	}
	return Event{}
}

func (e *events) count(k EventKind, since time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == k && !ev.Time.Before(since) {
			n++
		}
	}
	return n
}

// poller GETs / over and over until stopped, counting failures.
type poller struct {
	url      string
	ok, fail atomic.Int64
	mu       sync.Mutex
	body     string
	errs     []string
	stop     chan struct{}
	done     chan struct{}
}

func startPoller(url string) *poller {
	p := &poller{url: url, stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			resp, err := client.Get(p.url)
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				if err == nil {
					p.ok.Add(1)
					p.mu.Lock()
					p.body = string(b)
					p.mu.Unlock()
				}
			}
			if err != nil {
				p.fail.Add(1)
				p.mu.Lock()
				p.errs = append(p.errs, err.Error())
				p.mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return p
}

func (p *poller) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.body
}

func (p *poller) halt() {
	close(p.stop)
	<-p.done
}

// waitBody waits until the poller has seen want in a response.
func (p *poller) waitBody(t *testing.T, want string, d time.Duration, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.last(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not served within %s; last body:\n%s\nrunner output:\n%s", want, d, p.last(), log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDevLoop runs the dev loop on a generated project with a client polling throughout:
// a template edit and a Go edit are served with no failed request; a syntax error keeps
// the old build serving and prints file:line; a burst of 20 saves is one build; a crash is
// reported and the next change (config only: no build) serves again; cancelling leaves no
// process and no listener.
func TestDevLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project several times")
	}
	dir := genProject(t)
	home := filepath.Join(dir, "web", "home")
	ev := newEvents()
	var log testenv.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, Options{
			Dir:      dir,
			Bind:     "127.0.0.1:0",
			Debounce: 100 * time.Millisecond, // 50ms by default; wider for busy CI machines
			Grace:    3 * time.Second,
			Env:      testenv.OfflineGoEnv(),
			Stdout:   &log,
			Stderr:   &log,
			OnEvent:  ev.record,
		})
	}()
	addr := ev.wait(t, EventListening, 10*time.Second, &log).Addr
	first := ev.wait(t, EventReady, 90*time.Second, &log)

	// p polls the page (templates), api the JSON handler the Go edits change.
	p, api := startPoller("http://"+addr+"/"), startPoller("http://"+addr+"/api/hello")
	defer func() {
		for _, q := range []*poller{p, api} {
			select {
			case <-q.stop:
			default:
				q.halt()
			}
		}
	}()
	p.waitBody(t, "demo is up and running", 10*time.Second, &log)

	// A template edit is rebuilt (the templates are embedded) and served.
	editFile(t, filepath.Join(home, "templates", "index.html"), "is up and running", "is edited")
	p.waitBody(t, "demo is edited", 60*time.Second, &log)

	// A syntax error: the old build keeps serving, the error names file:line.
	editFile(t, filepath.Join(home, "home.go"), `App: d.Site.Name,`, `App: d.Site.Name + ,`)
	failed := ev.wait(t, EventBuildFailed, 60*time.Second, &log)
	if !strings.Contains(failed.Output, "web/home/home.go:") {
		t.Errorf("build output does not name web/home/home.go:LINE:\n%s", failed.Output)
	}
	if !strings.Contains(log.String(), "web/home/home.go:") || !strings.Contains(log.String(), "keeps serving") {
		t.Errorf("runner output lacks the compiler error or the keeps-serving note:\n%s", log.String())
	}
	time.Sleep(100 * time.Millisecond) // a few more polls against the old build
	if body := p.last(); !strings.Contains(body, "demo is edited") {
		t.Errorf("after a failed build the old text is no longer served:\n%s", body)
	}

	// Fixing it with a changed handler (Go code) serves the new answer, and the edited page.
	editFile(t, filepath.Join(home, "home.go"), `App: d.Site.Name + ,`, `App: d.Site.Name + " (fixed)",`)
	api.waitBody(t, `"demo (fixed)"`, 60*time.Second, &log)
	if body := p.last(); !strings.Contains(body, "demo is edited") {
		t.Errorf("after the fix the edited page is no longer served:\n%s", body)
	}

	// A burst of 20 saves is one build.
	burst := time.Now()
	for i := range 20 {
		editFile(t, filepath.Join(home, "home.go"), fmt.Sprintf(`" (fixed%s)"`, strings.Repeat("!", i)), fmt.Sprintf(`" (fixed%s)"`, strings.Repeat("!", i+1)))
	}
	api.waitBody(t, `"demo (fixed`+strings.Repeat("!", 20)+`)"`, 60*time.Second, &log)
	if n := ev.count(EventBuildStart, burst); n != 1 {
		t.Errorf("a burst of 20 saves started %d builds, want 1", n)
	}
	for _, q := range []*poller{p, api} {
		q.halt()
		if f := q.fail.Load(); f != 0 || q.ok.Load() == 0 {
			t.Errorf("polling %s through the edits: %d ok, %d failed: %v", q.url, q.ok.Load(), f, q.errs)
		}
	}
	t.Logf("polling through 3 swaps and a failed build: %d requests, %d failed", p.ok.Load()+api.ok.Load(), p.fail.Load()+api.fail.Load())

	// A crash is reported; a config change restarts the last build without compiling.
	ready := ev.latest(EventReady)
	if ready.Pid == first.Pid || ready.Pid == 0 {
		t.Fatalf("serving pid %d, first pid %d: no swap recorded", ready.Pid, first.Pid)
	}
	if alive(first.Pid) {
		t.Errorf("the first build (pid %d) still runs after being replaced", first.Pid)
	}
	syscall.Kill(ready.Pid, syscall.SIGKILL)
	exit := ev.waitFor(t, EventExit, func(e Event) bool { return e.Pid == ready.Pid }, 10*time.Second, &log)
	if !exit.Crashed || exit.Pid != ready.Pid {
		t.Errorf("exit event %+v, want a crash of pid %d", exit, ready.Pid)
	}
	beforeCfg := time.Now()
	editFile(t, filepath.Join(dir, "config", "config.yaml"), "max_body_bytes: 1048576", "max_body_bytes: 2097152")
	last := ev.wait(t, EventReady, 30*time.Second, &log)
	if n := ev.count(EventBuildStart, beforeCfg); n != 0 {
		t.Errorf("a config change started %d builds, want a restart only", n)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	resp.Body.Close()

	// Ctrl-C: Run returns nil, the child and its group are gone, nothing listens.
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15s of cancel")
	}
	if alive(last.Pid) || syscall.Kill(-last.Pid, 0) == nil {
		t.Errorf("pid %d or its process group survived the stop", last.Pid)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the stop", addr)
	}
	if !strings.Contains(log.String(), "scaffold run: stopped") {
		t.Errorf("no stop message:\n%s", log.String())
	}
}

// alive reports whether pid exists (a zombie would count; the runner reaps its children).
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestRunRefusesNonProject checks the error for a directory without run/.
func TestRunRefusesNonProject(t *testing.T) {
	err := Run(context.Background(), Options{Dir: t.TempDir(), Bind: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "run/main.go") {
		t.Errorf("err = %v, want it to name run/main.go", err)
	}
}

// TestRunRefusesBusyAddress checks the error when the address is taken.
func TestRunRefusesBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "run"), 0o755)
	os.WriteFile(filepath.Join(dir, "run", "main.go"), []byte("package main\nfunc main() {}\n"), 0o644)
	err = Run(context.Background(), Options{Dir: dir, Bind: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("err = %v, want it to name %s", err, ln.Addr())
	}
}

// TestRunProduction builds ./wsgi, serves through the prefork master on a unix socket,
// forwards HUP (a rolling reload) and turns a cancel into a graceful TERM: exit code 0,
// no master left.
func TestRunProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project")
	}
	dir := genProject(t)
	sock := filepath.Join(t.TempDir(), "app.sock")
	var log testenv.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan int, 1)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := RunProduction(ctx, ProductionOptions{
			Dir:     dir,
			Args:    []string{"-b", "unix:" + sock, "-w", "1"},
			Env:     testenv.OfflineGoEnv(),
			Stdin:   strings.NewReader(""),
			Stdout:  &log,
			Stderr:  &log,
			Started: func(pid int) { started <- pid },
		})
		done <- result{code, err}
	}()
	var pid int
	select {
	case pid = <-started:
	case r := <-done:
		t.Fatalf("RunProduction returned %d, %v before starting:\n%s", r.code, r.err, log.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("not started within 90s:\n%s", log.String())
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://app/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("production entry never answered on %s: %v\n%s", sock, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// HUP to scaffold reaches the master (RunProduction has it registered).
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), "HUP") {
		if time.Now().After(deadline) {
			t.Fatalf("HUP not forwarded to the master:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case r := <-done:
		if r.code != 0 || r.err != nil {
			t.Errorf("RunProduction after cancel: %d, %v; want 0, nil\n%s", r.code, r.err, log.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("RunProduction did not return within 40s of cancel")
	}
	if alive(pid) {
		t.Errorf("master pid %d survived", pid)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("%s still exists after the stop", sock)
	}
	// setting.yaml's source_tree gives web/static (the app refuses to start on a missing
	// static_dir, so the 200 above proves it): no environment patch is needed.
	if strings.Contains(log.String(), "APP_APP_STATIC_DIR") {
		t.Errorf("the runner patched static_dir although source_tree sets it:\n%s", log.String())
	}
}
