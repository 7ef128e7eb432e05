package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// The master's shell: one goroutine turns what happens to the process
// (signals, worker pipes and exits, control requests, time) into supervisor
// events and carries out the supervisor's actions. Production features hang
// off it: systemd.go, upgrade.go, control.go, privdrop.go.

// master is the shell's state; only the loop's goroutine touches it, other
// goroutines go through ask.
type masterShell struct {
	cfg       Config
	log       *observe.Log
	shared    atomic.Pointer[observe.Log] // log, for goroutines off the loop
	sup       *supervisor.Supervisor
	exe       string
	args      []string
	lns       []net.Listener
	names     []string
	files     []*os.File
	inherited bool
	setProcs  bool // the user set GOMAXPROCS: workers keep it
	children  map[int]*child
	nextRSS   time.Time
	msgs      chan workerMsg
	exits     chan workerExit
	calls     chan func(*masterShell) // run on the loop: see ask
	sigs      chan os.Signal
	done      chan struct{}
	prod      *masterProd // production features (systemd.go, upgrade.go, control.go)
	watch     *FileWatch  // --reload
	obs       masterObs   // metrics and StatsD (metrics_agg.go)
}

type workerMsg struct {
	id   int
	line string
}

type workerExit struct {
	c   *child
	err error
}

// Run runs the master until it stops: it binds (or inherits) the listeners,
// starts the workers and carries out the supervisor's actions. cfg is
// defaulted and checked; notes are the command line's (logged once).
func Run(cfg Config, notes []string) error {
	lg, err := observe.NewLog(&cfg.Values, cfg.Logger)
	if err != nil {
		return err
	}
	if cfg.OnStarting != nil {
		if err := cfg.OnStarting(); err != nil {
			lg.Close()
			return fmt.Errorf("prefork: on_starting hook: %w", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		lg.Close()
		return fmt.Errorf("prefork: cannot find the executable to start workers from: %w", err)
	}
	ApplyUmask(cfg.Modes)
	parent := upgradeChildPipe() // started by an old master's USR2
	lns, names, inherited, err := serving.Listen(cfg.Bind, cfg.ReusePort, cfg.Backlog)
	if err != nil {
		lg.Close()
		return err
	}
	files, err := serving.ListenerFiles(lns)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		lg.Close()
		return err
	}
	m := &masterShell{
		cfg: cfg, log: lg, exe: exe, args: os.Args, lns: lns, names: names, files: files,
		inherited: inherited, setProcs: os.Getenv("GOMAXPROCS") != "",
		children: make(map[int]*child),
		msgs:     make(chan workerMsg, 64), exits: make(chan workerExit, 16),
		calls: make(chan func(*masterShell)), sigs: make(chan os.Signal, 16), done: make(chan struct{}),
		sup: supervisor.New(supervisor.Options{Policy: policyOf(cfg), Canary: canaryOf(cfg), Jitter: rand.IntN, Listeners: addrs(names),
			Inherited: inherited, TakeOver: parent != nil}),
		obs: masterObs{upgradeChild: parent != nil},
	}
	m.shared.Store(lg)
	defer func() { m.log.Close() }()
	if figures := inheritedPipe(envUpgradeFiguresFD, "upgrade-figures"); figures != nil {
		go m.readOldFigures(figures) // the old master's totals, for this master's canary
	}
	if cfg.ReloadOnChange {
		m.watch = NewFileWatch(append([]string{exe}, cfg.ReloadExtraFiles...))
	}
	if cfg.PidFile != "" && parent == nil { // an upgrading master writes it once ready
		if err := WritePidFile(cfg.PidFile); err != nil {
			m.closeListeners()
			return err
		}
	}
	if err := m.startProduction(); err != nil {
		m.stopProduction()
		m.closeListeners()
		if cfg.PidFile != "" {
			RemovePidFile(cfg.PidFile) // nothing half-done is left behind
		}
		return err
	}
	m.prod.parent = parent
	signal.Notify(m.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP,
		SigTTIN, SigTTOU, SigUSR1, SigUSR2)
	defer signal.Stop(m.sigs)
	lg.Info("master starting", "pid", os.Getpid(), "listeners", addrs(names), "inherited", inherited, "workers", cfg.Workers)
	ReportNoEffect(cfg.Values, notes, lg)
	return m.loop()
}

func (m *masterShell) loop() error {
	tick := time.NewTicker(supervisor.TickEvery)
	defer tick.Stop()
	m.step(supervisor.EvStart{})
	for !m.sup.View().Done {
		select {
		case s := <-m.sigs:
			m.log.Debug("signal", "signal", s)
			m.step(supervisor.EvSignal{Sig: MasterSignals[s]})
		case msg := <-m.msgs:
			m.step(StatusEvent(msg.id, msg.line))
		case ex := <-m.exits:
			delete(m.children, ex.c.info.ID)
			ex.c.control.Close()
			m.step(supervisor.EvExited{ID: ex.c.info.ID, Exit: ExitOf(ex.c.cmd.ProcessState, ex.err)})
		case f := <-m.calls:
			f(m)
		case now := <-tick.C:
			m.sampleRSS(now)
			if files := m.watch.Check(now); len(files) > 0 {
				m.step(supervisor.EvFilesChanged{Files: files})
			}
			m.step(supervisor.EvTick{})
			m.tickObservability(now)
			m.sendFigures(now)
		}
	}
	return m.finish()
}

// step runs ev through the supervisor and carries out its actions; an
// action's answer (a worker started, a configuration loaded) is stepped next.
func (m *masterShell) step(ev supervisor.Event) {
	for queue := []supervisor.Event{ev}; len(queue) > 0; queue = queue[1:] {
		for _, a := range m.sup.Step(time.Now(), queue[0]) {
			if next := m.act(a); next != nil {
				queue = append(queue, next)
			}
		}
	}
}

// act carries out one action; it returns the event that answers it, if any.
func (m *masterShell) act(a supervisor.Action) supervisor.Event {
	switch a := a.(type) {
	case supervisor.StartWorker:
		return m.spawn(a.Worker, a.MaxRequests, a.Settings)
	case supervisor.Send:
		if c := m.children[a.Worker.ID]; c != nil {
			c.send(a.Command.String(), m.log)
		}
	case supervisor.SignalWorker:
		if c := m.children[a.Worker.ID]; c != nil {
			c.signal(a.Sig)
		}
	case supervisor.Log:
		m.log.Log(context.Background(), a.Level, a.Msg, a.Attrs...)
	case supervisor.Notify:
		m.notify(a)
	case supervisor.TakeOver:
		m.takeOver(a.Status)
	case supervisor.LoadConfig:
		return m.loadConfig()
	case supervisor.ApplyConfig:
		m.applyConfig(a.Settings.(Config))
	case supervisor.CloseListeners:
		m.closeListeners()
	case supervisor.ReopenLogs:
		if err := m.log.Reopen(); err != nil {
			m.log.Error("reopen log", "err", err)
		}
	case supervisor.StartUpgrade:
		return m.startUpgrade()
	case supervisor.KillUpgrade:
		m.killUpgrade()
	case supervisor.WritePidFile:
		if m.cfg.PidFile != "" {
			if err := WritePidFile(m.cfg.PidFile); err != nil {
				m.log.Error("pid file", "err", err)
			}
		}
	case supervisor.HandOver:
		m.handOver(a.PID)
	case supervisor.HookReady:
		if m.cfg.WhenReady != nil {
			m.cfg.WhenReady()
		}
	case supervisor.HookChildExit:
		if m.cfg.ChildExit != nil {
			m.cfg.ChildExit(a.Worker, a.Exit.Desc)
		}
	case supervisor.HookWorkers:
		if m.cfg.NWorkersChanged != nil {
			m.cfg.NWorkersChanged(a.N, a.Old)
		}
	case supervisor.Record:
		m.record(a)
	case supervisor.Metrics:
		m.metricsLine(a.Worker, a.Report.(string))
	case supervisor.HookReload:
		if m.cfg.OnReload != nil {
			m.cfg.OnReload()
		}
	}
	return nil
}

// Errors of ask.
var (
	errStopping = errors.New("master is stopping")
	errBusy     = errors.New("master busy")
)

// ask runs f on the loop's goroutine and returns once it ran: the way any
// other goroutine (the control socket, systemd's watchdog, a status or probe
// endpoint) reads or changes the master's state, e.g.
//
//	var ready bool
//	err := m.ask(time.Second, func(m *master) { ready = m.sup.View().Serving })
//
// It fails when the loop does not take f within timeout or has ended.
func (m *masterShell) ask(timeout time.Duration, f func(*masterShell)) error {
	ran := make(chan struct{})
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m.calls <- func(m *masterShell) { f(m); close(ran) }:
	case <-m.done:
		return errStopping
	case <-t.C:
		return errBusy
	}
	<-ran // the loop runs f as soon as it takes it
	return nil
}

// loadConfig runs Config.Reload for a HUP and checks the result. What the
// supervisor does with it is its reload rule; the shell keeps what only a
// restart can change (its listeners and metrics sums) and the program's funcs.
func (m *masterShell) loadConfig() supervisor.Event {
	if m.cfg.Reload == nil {
		return supervisor.EvConfigLoaded{}
	}
	nc, err := m.cfg.Reload() // defaulted and checked, the unset hooks kept
	if err != nil {
		return supervisor.EvConfigLoaded{Err: err}
	}
	l := &supervisor.Loaded{Policy: policyOf(nc), Canary: canaryOf(nc)}
	if !slices.Equal(nc.Bind, m.cfg.Bind) {
		l.Bind = nc.Bind
	}
	nc.Bind = m.cfg.Bind
	nc.MetricsBind, nc.MetricsBuckets = m.cfg.MetricsBind, m.cfg.MetricsBuckets // the master's listener and sums stay as started
	l.Settings = nc
	return supervisor.EvConfigLoaded{Loaded: l}
}

// applyConfig makes a reloaded configuration current: new workers get it,
// and the master's own log follows its level, format and file; what the
// previous logging opened is closed.
func (m *masterShell) applyConfig(nc Config) {
	m.cfg = nc
	lg, err := observe.NewLog(&nc.Values, nc.Logger)
	if err != nil {
		m.log.Error("reload: log not reopened, keeping the current one", "err", err)
		return
	}
	old := m.log
	m.log = lg
	m.shared.Store(lg)
	old.Close()
}

// sampleRSS reads each live worker's memory once a second.
func (m *masterShell) sampleRSS(now time.Time) {
	if now.Before(m.nextRSS) {
		return
	}
	m.nextRSS = now.Add(time.Second)
	for _, w := range m.sup.View().Workers {
		if w.PID == 0 || w.Phase == supervisor.PhaseKilled {
			continue
		}
		if rss, err := observe.ReadRSS(w.PID); err == nil {
			m.step(supervisor.EvRSS{ID: w.ID, Bytes: rss})
		}
	}
}

func (m *masterShell) finish() error {
	close(m.done)
	m.stopProduction()
	m.closeListeners()
	if m.cfg.PidFile != "" {
		RemovePidFile(m.cfg.PidFile)
	}
	if m.cfg.OnExit != nil {
		m.cfg.OnExit()
	}
	v := m.sup.View()
	if v.Err != nil {
		m.log.Error("master stopped", "err", v.Err)
		return v.Err
	}
	m.log.Info("master stopped", "reason", v.StopReason)
	return nil
}

// closeListeners closes the master's listeners and its duplicates of them:
// the socket must leave an SO_REUSEPORT group the moment the master stops,
// or the kernel keeps queueing connections on it that nobody will accept,
// and resets them when the drained master exits.
func (m *masterShell) closeListeners() {
	for _, ln := range m.lns {
		ln.Close() // unix sockets this master bound are unlinked here
	}
	for _, f := range m.files {
		f.Close()
	}
	m.lns, m.files = nil, nil
}

// addrs is the listeners' names as one log value.
func addrs(names []string) string { return strings.Join(names, ",") }

// sharedLog is the current logger, for goroutines off the loop.
func (m *masterShell) sharedLog() *slog.Logger { return m.shared.Load().Logger }

// policyOf is what the supervisor reads of c.
func policyOf(c Config) supervisor.Policy {
	return supervisor.Policy{Workers: c.Workers, Timeout: c.Timeout, GracefulTimeout: max(c.GracefulTimeout, 0), ShutdownDelay: c.ShutdownDelay,
		Heartbeat: supervisor.HeartbeatFor(c.Timeout), MaxRequests: c.MaxRequests, MaxRequestsJitter: c.MaxRequestsJitter, MaxWorkerMemory: c.MaxWorkerMemory}
}
