//go:build unix

package prefork

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the program under test: with
// PREFORK_TEST_HELPER=run it is a master (and its workers, which re-execute
// it), with =serve a single Serve process.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PREFORK_TEST_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	// The process tests mostly wait on child processes: run more of them at
	// once than GOMAXPROCS unless -parallel was given.
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "4")
	}
	os.Exit(m.Run())
}

func helperMain(mode string) int {
	fs := flag.NewFlagSet("helper", flag.ContinueOnError)
	var cfg Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if p := os.Getenv("PREFORK_TEST_RELOAD_FILE"); p != "" {
		// HUP re-reads the worker count from a file, as an entry would re-read its YAML
		base := cfg
		cfg.Reload = func() (Config, error) {
			b, err := os.ReadFile(p)
			if err != nil {
				return Config{}, err
			}
			n, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				return Config{}, fmt.Errorf("%s: workers: %w", p, err)
			}
			c := base
			c.Workers = n
			return c, nil
		}
	}
	if p := os.Getenv("PREFORK_TEST_PROGRAM_CONFIG"); p != "" && !isWorker() {
		// the master reads the program's configuration, and again on HUP;
		// workers take it from the master (/program-config)
		base := cfg
		load := func() (Config, error) {
			b, err := os.ReadFile(p)
			if err == nil && bytes.HasPrefix(b, []byte("broken")) {
				err = fmt.Errorf("%s: broken", p)
			}
			c := base
			c.ProgramConfig = b
			return c, err
		}
		var err error
		if cfg, err = load(); err != nil {
			fmt.Fprintln(os.Stderr, "helper error:", err)
			return 1
		}
		cfg.Reload = load
	}
	if os.Getenv("PREFORK_TEST_HOOKS") != "" {
		hook := func(name string, args ...any) {
			fmt.Fprintf(os.Stderr, "hook %s pid=%d %v\n", name, os.Getpid(), args)
		}
		cfg.OnStarting = func() error { hook("on_starting"); return nil }
		cfg.WhenReady = func() { hook("when_ready") }
		cfg.PreFork = func(w WorkerInfo) { hook("pre_fork", w) }
		cfg.PostFork = func(w WorkerInfo) { hook("post_fork", w) }
		cfg.PostWorkerInit = func(w WorkerInfo) { hook("post_worker_init", w) }
		cfg.WorkerExit = func(w WorkerInfo) {
			hook("worker_exit", w)
			if os.Getenv("PREFORK_TEST_HOOKS") == "hang-exit" {
				select {} // a worker that never finishes exiting
			}
		}
		cfg.ChildExit = func(w WorkerInfo, reason string) { hook("child_exit", w, reason) }
		cfg.OnReload = func() { hook("on_reload") }
		cfg.NWorkersChanged = func(n, old int) { hook("nworkers_changed", n, old) }
		cfg.OnExit = func() { hook("on_exit") }
	}
	var err error
	if mode == "serve" {
		err = Serve(cfg, helperApp)
	} else {
		err = Run(cfg, helperApp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper error:", err)
		return 1
	}
	return 0
}

var spinSink atomic.Int64

// spinHandler never returns: a stuck request (named, to find it in dumps).
func spinHandler(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, "spinning")
	w.(http.Flusher).Flush()
	for {
		spinSink.Add(1)
	}
}

func helperApp() (http.Handler, error) {
	if msg := os.Getenv("PREFORK_TEST_FAIL"); msg != "" {
		return nil, errors.New(msg)
	}
	if p := os.Getenv("PREFORK_TEST_FAIL_FILE"); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			return nil, errors.New(strings.TrimSpace(string(b)))
		}
	}
	if p := os.Getenv("PREFORK_TEST_BOOT_GATE"); p != "" {
		for { // a slow App factory: boots once the file exists
			if _, err := os.Stat(p); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if p := os.Getenv("PREFORK_TEST_HANG_FILE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			select {} // an App factory that never returns
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("/inherit", func(w http.ResponseWriter, r *http.Request) {
		// what a child of this worker would inherit: variables and descriptors
		for _, k := range []string{EnvListenFDs, EnvListenNames, envWorkerID, envStatusFD, envControlFD, envConfigFD, "LISTEN_FDS", "NOTIFY_SOCKET"} {
			if v, ok := os.LookupEnv(k); ok {
				fmt.Fprintf(w, "env %s=%s\n", k, v)
			}
		}
		outer := os.Getenv("PREFORK_TEST_OUTER_FDS")
		for _, fd := range inheritableFDs() {
			if !slices.Contains(strings.Fields(outer), strconv.Itoa(fd)) {
				fmt.Fprintf(w, "fd %d without close-on-exec\n", fd)
			}
		}
	})
	mux.HandleFunc("/program-config", func(w http.ResponseWriter, r *http.Request) {
		c, worker, err := Inherited()
		if !worker || err != nil {
			http.Error(w, fmt.Sprintf("worker %v: %v", worker, err), http.StatusInternalServerError)
			return
		}
		w.Write(c.ProgramConfig)
	})
	mux.HandleFunc("/gomaxprocs", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, runtime.GOMAXPROCS(0))
	})
	mux.HandleFunc("/gogc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC() // the heap floor's tuner runs after a collection (heapfloor_test.go)
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		fmt.Fprint(w, s[0].Value.Uint64(), " ", s[1].Value.Uint64())
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		fmt.Fprintln(w, "started")
		w.(http.Flusher).Flush()
		time.Sleep(d)
		fmt.Fprintln(w, "done")
	})
	mux.HandleFunc("/spin", spinHandler)
	mux.HandleFunc("/work", canaryWork()) // canary_process_test.go
	prodTestRoutes(mux)                   // production_test.go
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	return mux, nil
}

// inheritableFDs lists this process's descriptors above 2 that a child would
// inherit (no close-on-exec).
func inheritableFDs() []int {
	var out []int
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		if fd < 3 {
			continue
		}
		if fl, err := fcntl(fd, syscall.F_GETFD); err == nil && fl&syscall.FD_CLOEXEC == 0 {
			out = append(out, fd)
		}
	}
	return out
}

// proc is a helper process started by a test.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{}
	err     error
	seen    map[int]bool // every worker pid observed, killed in cleanup
}

// startHelper starts the test binary as mode ("run" or "serve") on a fresh
// loopback listener handed over as fd://3.
func startHelper(t *testing.T, mode string, args []string, env ...string) *proc {
	t.Helper()
	return startHelperAt(t, os.Args[0], mode, args, env...)
}

// startHelperAt is startHelper running the test binary from path bin (a copy).
func startHelperAt(t *testing.T, bin, mode string, args []string, env ...string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	files, err := ListenerFiles([]net.Listener{ln})
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, addr: ln.Addr().String(), logPath: filepath.Join(t.TempDir(), "stderr.log"), done: make(chan struct{}), seen: map[int]bool{}}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, append([]string{"-b", "fd://3"}, args...)...)
	p.cmd.ExtraFiles = files
	// descriptors the test itself inherited from whoever started it pass down
	// to every process; only the runtime's own must not
	outer := strings.Trim(fmt.Sprint(inheritableFDs()), "[]")
	p.cmd.Env = append(cleanEnv(os.Environ()), append([]string{"PREFORK_TEST_HELPER=" + mode, "PREFORK_TEST_OUTER_FDS=" + outer}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	ln.Close()
	p.launch(files)
	return p
}

// launch starts p.cmd, closes the test's copies of the listener files, and
// makes sure the process and every worker seen are gone when the test ends.
func (p *proc) launch(files []*os.File) {
	p.t.Helper()
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	p.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		for pid := range p.seen {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if p.t.Failed() {
			p.t.Logf("helper log:\n%s", p.log())
		}
	})
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// waitLog waits until the log holds n occurrences of s.
func (p *proc) waitLog(s string, n int, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for strings.Count(p.log(), s) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("log has %d of %q after %s, want %d", strings.Count(p.log(), s), s, within, n)
		}
		select {
		case <-p.done:
			p.t.Fatalf("helper exited (%v) before logging %q", p.err, s)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// workers returns the pids of the master's live children.
func (p *proc) workers() []int {
	pids := childPids(p.cmd.Process.Pid)
	for _, pid := range pids {
		p.seen[pid] = true
	}
	return pids
}

// waitWorkers waits until the master has exactly n children, all serving
// (each answered /pid at least once is not required: ready is in the log).
func (p *proc) waitWorkers(n int, within time.Duration, cond func([]int) bool) []int {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ws := p.workers()
		if len(ws) == n && (cond == nil || cond(ws)) {
			return ws
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("master has workers %v after %s, want %d", ws, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) signal(s syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// exit waits for the helper to exit and returns its exit code.
func (p *proc) exit(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.t.Fatalf("helper still running after %s", within)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) get(c *http.Client, path string) (string, error) {
	resp, err := c.Get("http://" + p.addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

func (p *proc) pidOf(c *http.Client) int {
	p.t.Helper()
	s, err := p.get(c, "/pid")
	if err != nil {
		p.t.Fatal(err)
	}
	n, _ := strconv.Atoi(s)
	return n
}

func newClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
}

// childPids lists the live (not zombie) processes whose parent is ppid.
func childPids(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if pp, _ := strconv.Atoi(f[1]); pp == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid still exists and is not a zombie, allowing a
// process that is already exiting a moment to finish (a loaded machine can
// take a while to tear down a big one).
func alive(pid int) bool {
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) == 0 || f[0] == "Z" || f[0] == "X" {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func needProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to find worker processes")
	}
}

// load runs n keep-alive clients against path until stop closes, counting
// successes and failures (with the first errors).
type load struct {
	ok, failed atomic.Int64
	errs       chan error
	pids       chan int
	stop       chan struct{}
	done       chan struct{}
}

// readLine reads one line of a streamed response body.
func readLine(r *bufio.Reader) string {
	s, _ := r.ReadString('\n')
	return strings.TrimSpace(s)
}

// noneOf is a waitWorkers condition: none of the workers is one of before (every old
// worker was replaced, as after a reload).
func noneOf(before []int) func([]int) bool {
	return func(pids []int) bool {
		for _, pid := range pids {
			if slices.Contains(before, pid) {
				return false
			}
		}
		return true
	}
}
