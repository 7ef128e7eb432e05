package prefork

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Environment the master sets for a worker (see the package doc).
const (
	envWorkerID    = master.EnvWorkerID
	envGeneration  = master.EnvGeneration
	envStatusFD    = master.EnvStatusFD  // worker writes: ready, heartbeats
	envControlFD   = master.EnvControlFD // worker reads: commands; EOF = master gone
	envMaxRequests = master.EnvMaxRequests
)

func isWorker() bool { return os.Getenv(envWorkerID) != "" }

type workerEnv struct {
	info        WorkerInfo
	status      *os.File
	control     *os.File
	maxRequests int64
}

// readWorkerEnv parses and unsets the worker's variables and overlays the
// configuration the master handed over onto cfg (keeping cfg's funcs and
// hooks).
func readWorkerEnv(cfg *Config) (workerEnv, error) {
	var we workerEnv
	get := func(k string) (int, error) {
		v := os.Getenv(k)
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("prefork: worker environment %s=%q: must be a number", k, v)
		}
		return n, nil
	}
	var err error
	var statusFD, controlFD, maxReq int
	for _, p := range []struct {
		k string
		v *int
	}{{envWorkerID, &we.info.ID}, {envGeneration, &we.info.Generation}, {envStatusFD, &statusFD}, {envControlFD, &controlFD}, {envMaxRequests, &maxReq}} {
		if *p.v, err = get(p.k); err != nil {
			return we, err
		}
	}
	we.maxRequests = int64(maxReq)
	we.info.PID = os.Getpid()
	h, _, handErr := handedOver()
	for _, k := range []string{envWorkerID, envGeneration, envStatusFD, envControlFD, envConfigFD, envMaxRequests} {
		os.Unsetenv(k)
	}
	master.CloseOnExec(statusFD)
	master.CloseOnExec(controlFD)
	we.status = os.NewFile(uintptr(statusFD), "prefork-status")
	we.control = os.NewFile(uintptr(controlFD), "prefork-control")
	if we.status == nil || we.control == nil {
		return we, errors.New("prefork: worker pipes are not open")
	}
	if handErr != nil { // reported to the master on the status pipe
		return we, handErr
	}
	// the master's settings over the worker's own (handover.go)
	return we, h.overlay(cfg)
}

// runWorker is Run in a worker process: build the app, serve the inherited
// listeners, report to the master until told to stop or the master is gone.
// Every failure is logged through the configured log, also one before the
// master's settings could be read.
func runWorker(cfg Config, app App) error {
	keepHeapFloor(heapFloor)
	we, err := readWorkerEnv(&cfg)
	lg, logErr := observe.NewLog(&cfg.Values, cfg.Logger)
	if logErr != nil {
		lg = observe.StderrLog()
		if err == nil {
			err = logErr
		}
	}
	defer lg.Close()
	if err != nil && we.status == nil {
		lg.Error("worker failed to boot", "err", err)
		return err
	}
	lg.FollowCrashOutput() // runtime dumps (SIGABRT) reach the error log too
	info := we.info
	lg.Logger = lg.With("worker", info.ID, "generation", info.Generation, "pid", info.PID)
	w := &workerProc{cfg: cfg, info: info, log: lg, status: we.status}
	if err != nil {
		lg.Error("worker failed to boot", "err", err)
		w.send(supervisor.MsgFail + " " + strconv.Quote(err.Error()))
		return err
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, master.SigUSR1)
	signal.Ignore(syscall.SIGHUP, master.SigTTIN, master.SigTTOU, master.SigUSR2, master.SigWINCH)
	defer signal.Stop(sigs)

	cmds := make(chan string, 8)
	go w.readControl(we.control, cmds)

	lns, names, err := serving.InheritedListeners()
	if err == nil && cfg.PostFork != nil {
		cfg.PostFork(info)
	}
	var sp *serving.ServingProc
	if err == nil {
		sp, _, err = newServingProc(cfg, app, lns, names, lg)
	}
	if err != nil {
		lg.Error("worker failed to boot", "err", err)
		w.send(supervisor.MsgFail + " " + strconv.Quote(err.Error()))
		return err
	}
	defer sp.Close()
	srv := sp.Srv
	w.metrics = sp.Metrics()
	beat := make(chan struct{}, 1)
	nudge := func() {
		select {
		case beat <- struct{}{}:
		default:
		}
	}
	srv.Tracker().OnErrors = nudge
	if we.maxRequests > 0 {
		srv.Tracker().Limit = we.maxRequests
		srv.Tracker().OnLimit = nudge
	}
	srv.Start()
	if cfg.PostWorkerInit != nil {
		cfg.PostWorkerInit(info)
	}
	w.booted.Store(true)
	w.send(supervisor.MsgReady)
	lg.Debug("worker ready", "listeners", addrs(names))

	tick := time.NewTicker(cfg.heartbeatInterval())
	defer tick.Stop()
	for !w.finished {
		select {
		case <-tick.C:
			w.heartbeat(srv)
		case <-beat:
			w.heartbeat(srv)
		case err := <-w.drained:
			if err != nil {
				lg.Warn("graceful timeout: in-flight requests cut", "after", supervisor.Dur(time.Since(w.drainStart)))
			}
			w.finished = true
		case c, ok := <-cmds:
			if !ok {
				cmds = nil // master gone: drain (all workers are going), or finish the drain regardless
				if w.drained == nil {
					lg.Warn("master is gone; draining", "reason", "control pipe closed")
				}
				w.command(supervisor.CmdDrain+" stop", srv)
				continue
			}
			w.command(c, srv)
		case s := <-sigs:
			w.signal(s, srv)
		}
	}
	w.heartbeat(srv) // final counts for the master's exit log
	if cmds != nil {
		// until the process ends (a slow WorkerExit hook...), a dump asked for
		// before a kill is still written
		go func() {
			for c := range cmds {
				w.command(c, srv)
			}
		}()
	}
	if cfg.WorkerExit != nil {
		cfg.WorkerExit(info)
		w.sendMetrics() // what the hook flushed (spans: ReportSpans)
	}
	return nil
}

// command carries out one command from the master: the worker's one
// dispatcher, for serving, draining and after.
func (w *workerProc) command(line string, srv *serving.HTTPServer) {
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case supervisor.CmdDrain:
		if w.drained == nil && !w.finished {
			// "stop": every worker is stopping, serve the listen backlog first
			w.drainStart = time.Now()
			drained := make(chan error, 1)
			w.drained = drained
			go func() { drained <- srv.Drain(off(w.cfg.GracefulTimeout), arg == "stop") }()
		}
	case supervisor.CmdQuit:
		if w.drained == nil && !w.finished {
			srv.Close()
			w.finished = true
			return
		}
		srv.Cut() // cut the drain short
	case supervisor.CmdDump:
		w.dump(arg)
	case supervisor.CmdReopen:
		w.reopen()
	case supervisor.CmdSpread:
		srv.SetSpreading(arg == "on") // and a canary's window: failures are reported at once
	case supervisor.CmdAllow:
		if n, err := strconv.ParseInt(arg, 10, 64); err == nil {
			srv.Allow(n)
		}
	}
}

// signal maps a signal to the worker onto its command. TERM and INT/QUIT
// while serving tell the master the worker stops on its own (TERM is sent
// to the whole group, as supervisor's stopasgroup does: all are stopping).
func (w *workerProc) signal(s os.Signal, srv *serving.HTTPServer) {
	cmd := map[os.Signal]string{syscall.SIGTERM: supervisor.CmdDrain + " stop", syscall.SIGINT: supervisor.CmdQuit, syscall.SIGQUIT: supervisor.CmdQuit, master.SigUSR1: supervisor.CmdReopen}[s]
	if cmd == "" {
		return
	}
	if cmd != supervisor.CmdReopen && w.drained == nil && !w.finished {
		w.send(supervisor.MsgExiting + " " + strconv.Quote("received "+s.String()))
	}
	w.command(cmd, srv)
}

func (w *workerProc) dump(quotedReason string) {
	reason, err := strconv.Unquote(quotedReason)
	if err != nil {
		reason = quotedReason
	}
	dumpGoroutines(w.log, w.info, reason)
	w.send(supervisor.MsgDumped)
}

func (w *workerProc) reopen() {
	if err := w.log.Reopen(); err != nil {
		w.log.Error("reopen log", "err", err)
		return
	}
	w.log.FollowCrashOutput() // the new file
	w.log.Debug("log file reopened")
}

// workerProc is the worker's side of its pipes.
type workerProc struct {
	cfg    Config
	info   WorkerInfo
	log    *observe.Log
	mu     sync.Mutex
	status *os.File
	booted atomic.Bool
	// serving state, on the worker's loop
	drained    chan error // the drain's result, once draining
	drainStart time.Time
	finished   bool
	metrics    *observe.RequestMetrics // nil unless the master collects them (observe.go)
}

func (w *workerProc) send(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status.Write([]byte(line + "\n")) // a failed write means the master is gone: the control pipe says so too
}

func (w *workerProc) heartbeat(srv *serving.HTTPServer) {
	w.sendMetrics()
	w.send(master.HeartbeatLine(srv.Tracker().Stats(), srv.Tracker().ServedTotal()))
}

// readControl forwards the master's commands; the channel closes on EOF.
// Before the worker is booted nobody reads cmds, so a stop or the master's
// death ends the process right here: a hung App factory never orphans.
func (w *workerProc) readControl(f *os.File, cmds chan<- string) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if verb, _, _ := strings.Cut(line, " "); !w.booted.Load() && (verb == supervisor.CmdDrain || verb == supervisor.CmdQuit) {
			w.log.Info("worker stopped while booting", "command", line)
			os.Exit(0)
		}
		cmds <- line
	}
	if !w.booted.Load() {
		w.log.Warn("master is gone while booting; exiting")
		os.Exit(1)
	}
	close(cmds)
}

// buildApp runs the factory, turning a panic or a nil handler into an error.
func buildApp(app App) (h http.Handler, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("app factory panicked: %v", r)
		}
	}()
	if app == nil {
		return nil, errors.New("prefork: no App given")
	}
	h, err = app()
	if err == nil && h == nil {
		err = errors.New("app factory returned a nil handler")
	}
	return h, err
}

func dumpGoroutines(lg *observe.Log, info WorkerInfo, reason string) {
	buf := make([]byte, 256<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	lg.Error("goroutine dump follows", "reason", reason)
	fmt.Fprintf(lg.Out, "=== goroutine dump of worker %d (pid %d, generation %d): %s ===\n%s\n=== end of goroutine dump of worker %d ===\n",
		info.ID, info.PID, info.Generation, reason, buf, info.ID)
}
