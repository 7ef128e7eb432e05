package devrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/appconfig"
	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Options configure Run. Zero fields take the documented defaults.
type Options struct {
	Dir          string        // project directory; default "."
	Bind         string        // address to listen on; default the project's server.bind[0], else DefaultBind
	Debounce     time.Duration // quiet period that ends a burst of saves; default 50ms
	Poll         time.Duration // > 0: poll the files this often instead of using inotify
	Grace        time.Duration // how long a stopped child may drain before KILL; default 5s
	ReadyTimeout time.Duration // how long a new child may take to report ready; default 30s
	Args         []string      // passed to the app after the runner's own
	Env          []string      // environment of builds and children; default os.Environ()
	GoCmd        string        // the go command; default "go"
	BuildFlags   []string      // go build flags; nil: DefaultBuildFlags, empty: none
	Stdout       io.Writer     // the app's standard output; default os.Stdout
	Stderr       io.Writer     // the runner's messages and the app's standard error; default os.Stderr
	Color        bool          // colour the messages and compiler errors (a terminal)
	// OnEvent, when set, sees every event from the runner's loop; it must return quickly.
	OnEvent func(Event)
}

// EventKind names what happened.
type EventKind int

const (
	EventListening   EventKind = iota // Addr is bound
	EventChange                       // Files changed (after debounce); Static: no rebuild needed
	EventBuildStart                   // build Gen started
	EventBuildOK                      // build Gen succeeded in Took
	EventBuildFailed                  // build Gen failed; Output holds the compiler's output
	EventReady                        // child Gen (Pid) reported ready Took after its start
	EventExit                         // child Gen (Pid) exited; Err describes how, Crashed if unasked
	EventStopped                      // the runner stopped: no child, no listener
)

var eventNames = [...]string{"listening", "change", "build-start", "build-ok", "build-failed", "ready", "exit", "stopped"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step of the dev loop, for tests, benchmarks and tools.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Gen     int
	Pid     int
	Addr    string
	Files   []string
	Static  bool
	Took    time.Duration
	Output  string
	Err     error
	Crashed bool
}

// runner is the loop's state; only the goroutine running loop touches it.
type runner struct {
	o         Options
	dir       string
	tmp       string
	settings  projectSettings
	out, errw io.Writer
	lnFiles   []*os.File
	lnEnv     []string
	addr      string

	gen         int                // last build number
	buildCancel context.CancelFunc // the running build, nil when none
	buildGen    int
	lastBin     string // last good binary
	serving     *child
	starting    *child
	builds      chan buildResult
	childEvents chan childEvent
	readyLate   chan *child
	done        chan struct{}
}

// Run watches the project in o.Dir and serves its development entry on o.Bind until ctx
// is cancelled, then stops every child and returns nil. It returns an error only when it
// cannot start: not a project, the address cannot be bound, no watcher.
func Run(ctx context.Context, o Options) error {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Debounce <= 0 {
		o.Debounce = 50 * time.Millisecond
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 30 * time.Second
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.GoCmd == "" {
		o.GoCmd = "go"
	}
	if o.BuildFlags == nil {
		o.BuildFlags = DefaultBuildFlags
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("project folder: %w", err)
	}
	if err := checkEntry(dir, "run"); err != nil {
		return err
	}
	settings, err := readProjectSettings(dir, appconfig.ModeDevelopment, o.Env)
	if err != nil {
		return err
	}
	bind := o.Bind
	if bind == "" {
		bind = settings.Bind
	}
	if bind == "" {
		bind = DefaultBind
	}
	lns, err := prefork.Bind([]string{bind})
	if err != nil {
		return err
	}
	defer lns[0].Close()
	lnFiles, err := prefork.ListenerFiles(lns)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range lnFiles {
			f.Close()
		}
	}()
	tmp, err := os.MkdirTemp("", "scaffold-run-")
	if err != nil {
		return fmt.Errorf("temporary build folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	w := newWatcher(dir, settings.StaticDir, o.Debounce, o.Poll)
	if err := w.start(wctx); err != nil {
		return fmt.Errorf("watch %s: %w (try --poll 500ms)", dir, err)
	}

	out, errw := lockedWriters(o.Stdout, o.Stderr)
	addr := listenerAddr(lns[0])
	r := &runner{
		o: o, dir: dir, tmp: tmp, settings: settings, out: out, errw: errw,
		lnFiles: lnFiles, addr: addr,
		lnEnv: []string{
			prefork.EnvListenFDs + "=1",
			prefork.EnvListenNames + "=" + strings.ReplaceAll(addr, ",", "_"),
		},
		builds:      make(chan buildResult),
		childEvents: make(chan childEvent),
		readyLate:   make(chan *child),
		done:        make(chan struct{}),
	}
	defer close(r.done)
	return r.loop(ctx, w)
}

// checkEntry makes sure dir/pkg holds Go files: the command must run inside a project.
func checkEntry(dir, pkg string) error {
	matches, _ := filepath.Glob(filepath.Join(dir, pkg, "*.go"))
	if len(matches) == 0 {
		return fmt.Errorf("%s has no %s/main.go: run inside a project made by `scaffold new` (or pass --dir)", dir, pkg)
	}
	return nil
}

func listenerAddr(ln net.Listener) string {
	a := ln.Addr()
	if a.Network() == "unix" {
		return "unix:" + a.String()
	}
	return a.String()
}

func (r *runner) loop(ctx context.Context, w *watcher) error {
	r.emit(Event{Kind: EventListening, Addr: r.addr})
	where := "http://" + r.addr
	if strings.HasPrefix(r.addr, "unix:") {
		where = r.addr
	}
	r.logf("", "listening on %s; watching %s (Ctrl-C stops)", where, r.dir)
	r.startBuild(nil)
	stopping := ctx.Done()
	var deadline <-chan time.Time
	for {
		select {
		case <-stopping:
			stopping = nil
			if r.buildCancel != nil {
				r.buildCancel()
				r.buildCancel = nil
			}
			for _, c := range []*child{r.serving, r.starting} {
				if c != nil {
					c.stop(r.o.Grace)
				}
			}
			deadline = time.After(r.o.Grace + 3*time.Second)
		case <-deadline:
			r.logf(ansiRed, "children did not exit in time; giving up")
			r.emit(Event{Kind: EventStopped})
			return nil
		case b := <-w.out:
			if stopping != nil {
				r.onChange(b)
			}
		case err := <-w.errs:
			r.logf(ansiRed, "watch: %v", err)
		case res := <-r.builds:
			r.onBuild(res, stopping == nil)
		case ev := <-r.childEvents:
			r.onChild(ev, stopping == nil)
		case c := <-r.readyLate:
			if c == r.starting && !c.ready {
				r.logf(ansiRed, "build %d (pid %d) did not report ready within %s; killed, the previous build keeps serving", c.gen, c.pid, r.o.ReadyTimeout)
				c.stop(0)
			}
		}
		if stopping == nil && r.serving == nil && r.starting == nil {
			r.logf("", "stopped")
			r.emit(Event{Kind: EventStopped})
			return nil
		}
	}
}

func (r *runner) onChange(b batch) {
	r.emit(Event{Kind: EventChange, Files: b.files, Static: b.kind == changeStatic})
	what := describeFiles(b.files)
	switch b.kind {
	case changeStatic:
		r.logf("", "%s changed: served from disk, no rebuild", what)
	case changeConfig:
		if r.buildCancel == nil && r.lastBin != "" {
			r.logf("", "%s changed: restarting", what)
			r.gen++
			r.launch(r.gen, r.lastBin)
			return
		}
		r.startBuild(b.files)
	case changeCode:
		r.startBuild(b.files)
	}
}

func describeFiles(files []string) string {
	switch len(files) {
	case 0:
		return "nothing"
	case 1:
		return files[0]
	}
	return fmt.Sprintf("%s and %d more", files[0], len(files)-1)
}

// startBuild cancels a build in progress (its result is stale) and starts a new one.
func (r *runner) startBuild(files []string) {
	if r.buildCancel != nil {
		r.buildCancel()
	}
	r.gen++
	gen := r.gen
	bctx, cancel := context.WithCancel(context.Background())
	r.buildCancel, r.buildGen = cancel, gen
	bin := filepath.Join(r.tmp, "app-"+strconv.Itoa(gen))
	if len(files) > 0 {
		r.logf("", "%s changed: building", describeFiles(files))
	} else {
		r.logf("", "building ./run")
	}
	r.emit(Event{Kind: EventBuildStart, Gen: gen, Files: files})
	env := r.o.Env
	go func() {
		start := time.Now()
		out, err := goBuild(bctx, r.o.GoCmd, r.dir, "./run", bin, r.o.BuildFlags, env)
		res := buildResult{gen: gen, bin: bin, output: out, err: err, took: time.Since(start)}
		select {
		case r.builds <- res:
		case <-r.done:
		}
	}()
}

func (r *runner) onBuild(res buildResult, stopping bool) {
	if res.gen != r.buildGen || stopping {
		os.Remove(res.bin) // superseded by a newer save
		return
	}
	r.buildCancel()
	r.buildCancel = nil
	if res.err != nil {
		os.Remove(res.bin)
		keeps := "nothing is serving yet"
		if r.serving != nil {
			keeps = fmt.Sprintf("build %d keeps serving", r.serving.gen)
		}
		r.logf(ansiRed, "build %d failed (%s); %s; save to retry:", res.gen, res.err, keeps)
		io.WriteString(r.errw, formatBuildOutput(res.output, r.o.Color))
		r.emit(Event{Kind: EventBuildFailed, Gen: res.gen, Took: res.took, Output: res.output, Err: res.err})
		return
	}
	r.emit(Event{Kind: EventBuildOK, Gen: res.gen, Took: res.took})
	r.logf("", "build %d done in %s", res.gen, res.took.Round(time.Millisecond))
	r.lastBin = res.bin
	r.launch(res.gen, res.bin)
}

// launch starts bin as the next child; a child still starting is superseded.
func (r *runner) launch(gen int, bin string) {
	if r.starting != nil {
		r.starting.stop(0)
		r.starting = nil
	}
	env := withSourceTree(append(cleanEnv(r.o.Env), r.lnEnv...))
	if !hasEnv(env, "APP_ENV") {
		env = append(env, "APP_ENV=development")
	}
	c, err := startChild(gen, bin, r.dir, r.tmp, r.o.Args, env, r.lnFiles, r.out, r.errw, r.childEvents, r.done)
	if err != nil {
		r.logf(ansiRed, "%v", err)
		return
	}
	r.starting = c
	time.AfterFunc(r.o.ReadyTimeout, func() {
		select {
		case r.readyLate <- c:
		case <-r.done:
		case <-c.exited:
		}
	})
}

func (r *runner) onChild(ev childEvent, stopping bool) {
	c := ev.c
	if ev.ready {
		if c != r.starting || c.ready || stopping {
			return
		}
		c.ready = true
		r.emit(Event{Kind: EventReady, Gen: c.gen, Pid: c.pid, Took: time.Since(c.started)})
		old := r.serving
		r.serving, r.starting = c, nil
		if old != nil {
			r.logf(ansiGreen, "build %d ready in %s (pid %d); stopping build %d (pid %d)", c.gen, time.Since(c.started).Round(time.Millisecond), c.pid, old.gen, old.pid)
			old.stop(r.o.Grace)
		} else {
			r.logf(ansiGreen, "build %d ready in %s (pid %d)", c.gen, time.Since(c.started).Round(time.Millisecond), c.pid)
		}
		return
	}
	crashed := !c.stopped
	r.emit(Event{Kind: EventExit, Gen: c.gen, Pid: c.pid, Err: errors.New(c.exitText()), Crashed: crashed})
	switch {
	case c == r.starting:
		r.starting = nil
		if crashed {
			keeps := "nothing is serving"
			if r.serving != nil {
				keeps = fmt.Sprintf("build %d keeps serving", r.serving.gen)
			}
			r.logf(ansiRed, "build %d (pid %d) exited before it was ready: %s; %s; waiting for a change", c.gen, c.pid, c.exitText(), keeps)
		}
	case c == r.serving:
		r.serving = nil
		if crashed {
			r.logf(ansiRed, "app (build %d, pid %d) exited: %s; waiting for a change (requests wait in the queue)", c.gen, c.pid, c.exitText())
		}
	}
	if c.bin != r.lastBin && (r.serving == nil || r.serving.bin != c.bin) && (r.starting == nil || r.starting.bin != c.bin) {
		os.Remove(c.bin)
	}
}

func (r *runner) emit(ev Event) {
	if r.o.OnEvent != nil {
		ev.Time = time.Now()
		r.o.OnEvent(ev)
	}
}

const ansiGreen = "\x1b[32m"

// logf prints one runner message, coloured on a terminal.
func (r *runner) logf(color, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.o.Color && color != "" {
		msg = color + msg + ansiReset
	}
	fmt.Fprintf(r.errw, "scaffold run: %s\n", msg)
}

// cleanEnv drops what describes this process's descriptors and notify socket, which the
// runner sets for each child.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case prefork.EnvListenFDs, prefork.EnvListenNames, "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// lockedWriter serialises the runner's and the children's writes.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lockedWriters wraps out and errw; one lock when they are the same writer. *os.File
// writers are left alone so children write to them directly.
func lockedWriters(out, errw io.Writer) (io.Writer, io.Writer) {
	wrap := func(w io.Writer, mu *sync.Mutex) io.Writer {
		if _, ok := w.(*os.File); ok {
			return w
		}
		return lockedWriter{mu: mu, w: w}
	}
	mu := &sync.Mutex{}
	if out == errw {
		return wrap(out, mu), wrap(errw, mu)
	}
	return wrap(out, mu), wrap(errw, &sync.Mutex{})
}
