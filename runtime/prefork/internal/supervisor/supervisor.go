package supervisor

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// The Supervisor is the master's whole lifecycle policy as a state machine:
// no processes, no signals, no clock of its own. The master's shell steps it
// with typed events, each with the current time, and carries out the typed
// actions it returns. Every invariant of runtime/prefork's package doc is a
// property of this package.

// TickEvery is how often the loop steps the supervisor with EvTick.
const TickEvery = 100 * time.Millisecond

// Crash-loop policy: more than max(5, Workers) failures within crashWindow
// delay the next start, doubling from crashBackoffMin up to crashBackoffMax;
// crashStable without failures resets it.
const (
	crashWindow     = 10 * time.Second
	crashBackoffMin = 500 * time.Millisecond
	crashBackoffMax = 30 * time.Second
	crashStable     = 30 * time.Second
	killSlack       = time.Second     // past the graceful timeout before KILL
	abortWait       = 2 * time.Second // after SIGABRT (runtime stack dump) before KILL
	dumpWait        = time.Second     // for a requested goroutine dump before KILL
	statusEvery     = 5 * time.Second // systemd STATUS= refresh
)

// MasterPhase is where the master is in its life. Transitions happen only
// in setPhase's callers in this package; each phase's rules are in the
// handler of the event that may change it.
type MasterPhase int

const (
	MasterStarting   MasterPhase = iota // start-up workers boot; nothing announced yet; a boot failure stops the master
	MasterServing                       // announced: Target workers of the current generation serve
	MasterReloading                     // a HUP's generation (Gen) replaces the older ones
	MasterCanary                        // a HUP's generation serves with a share of the workers beside the current one, to be judged (canary.go)
	MasterUpgrading                     // a new master (USR2) boots; this one serves on
	MasterDelaying                      // TERM with a ShutdownDelay: serving, unready, until stopAt
	MasterStopping                      // graceful stop: every worker drains
	MasterHandedOver                    // a new master took over: graceful stop, no STOPPING=1
	MasterQuitting                      // quick stop: every worker quits
)

func (p MasterPhase) String() string {
	return [...]string{"starting", "serving", "reloading", "canary", "upgrading", "delaying", "stopping", "handed over", "quitting"}[p]
}

// stopped reports whether workers are being stopped for good: no new ones start.
func (p MasterPhase) stopped() bool { return p >= MasterStopping }

// leaving reports whether the master is on its way out (unready).
func (p MasterPhase) leaving() bool { return p >= MasterDelaying }

// Phase is where a worker is in its life; it only moves forward, except that
// an abandoned reload returns the workers it meant to retire to ready.
type Phase int

const (
	PhaseBooting  Phase = iota // started, App factory running
	PhaseReady                 // serving
	PhaseRetiring              // serving until a replacement is ready (reason says why)
	phaseDraining              // told to drain or quit; killed at its deadline
	phaseDumping               // drain deadline passed: asked for a goroutine dump, then killed
	phaseAborting              // unresponsive: sent SIGABRT (stack dump), killed at its deadline
	PhaseKilled                // sent SIGKILL, waiting to be reaped
)

func (p Phase) String() string {
	return [...]string{"booting", "ready", "retiring", "draining", "dumping", "aborting", "killed"}[p]
}

// told reports whether the master has ended this worker's service.
func (p Phase) told() bool { return p >= phaseDraining }

// Serving reports whether the phase counts as serving (ready or retiring).
func (p Phase) Serving() bool { return p == PhaseReady || p == PhaseRetiring }

// worker is the supervisor's record of one worker process.
type worker struct {
	WorkerInfo
	Phase    Phase
	reason   string   // why it left ready (retiring or stopping), recorded once
	kind     exitKind // the same as a metrics label, set with reason
	failure  bool     // its end counts towards the crash loop
	onItsOwn bool     // it said it stops on its own (EvExiting)
	failMsg  string   // the App factory's error, from the worker
	started  time.Time
	readyAt  time.Time
	lastSeen time.Time
	stats    WorkerStats
	served   Served // its last report's (not in the View: 1.3 KB a worker)
	rss      int64
	maxReq   int64     // this worker's max-requests incl. jitter; 0 = none
	deadline time.Time // draining, dumping, aborting: when to escalate
	killWhy  string    // what the escalation at deadline is for
	dumped   bool      // a goroutine dump was asked for already
}

// Policy is what the supervisor reads of the settings: worker count, limits and
// timeouts (GracefulTimeout already mapped from "negative means off" to zero).
type Policy struct {
	Workers           int
	Timeout           time.Duration // boot, heartbeat and request limit; zero or negative: none
	GracefulTimeout   time.Duration // drain bound before the kill
	ShutdownDelay     time.Duration // serve on after TERM
	Heartbeat         time.Duration // how often a worker reports
	MaxRequests       int
	MaxRequestsJitter int
	MaxWorkerMemory   int64
}

// Options are what a supervisor is made with.
type Options struct {
	Policy    Policy
	Canary    CanaryPolicy    // of reloads (a reload's Loaded brings its own)
	Jitter    func(n int) int // a random 0..n-1 (max-requests jitter)
	Listeners string          // for log lines
	Inherited bool            // the listeners came from systemd or an old master: a reload cannot rebind them
	TakeOver  bool            // started by an old master's USR2: its first READY takes over
}

// Supervisor owns every piece of lifecycle state.
type Supervisor struct {
	opt        Options
	cfg        Policy
	now        time.Time
	phase      MasterPhase
	workers    []*worker // by ID
	nextID     int
	gen        int // the current generation: new workers belong to it
	lastGen    int // the newest generation started (a canary's, a rolled-back one's)
	target     int
	stopReason string
	stopAt     time.Time // Delaying: then the graceful stop
	err        error     // Run's result (boot failure)
	crash      crashLoop
	nextStatus time.Time
	lastStatus string
	out        []Action
	view       View
	canaryPol  CanaryPolicy  // of the next reload
	canary     *canary       // running; nil: none
	lastCanary *CanaryResult // the last canary's decision
	reloadErr  error         // the last reload's configuration did not load
	served     Served        // by every worker ever, from their heartbeats (monotonic)
	// twoBootingGenerations breaks the supervisor on purpose (tests of the
	// fuzzer only): a reload leaves the older generation's booting workers booting.
	twoBootingGenerations bool
}

func New(opt Options) *Supervisor {
	s := &Supervisor{opt: opt, cfg: opt.Policy, gen: 1, lastGen: 1, target: opt.Policy.Workers, canaryPol: opt.Canary}
	if opt.TakeOver && opt.Canary.Window > 0 {
		s.startUpgradeCanary(opt.Canary)
	}
	s.view = s.snapshot()
	return s
}

// Step applies one event at time now and returns what the shell must do;
// View is up to date when it returns.
func (s *Supervisor) Step(now time.Time, ev Event) []Action {
	s.now, s.out = now, nil
	s.step(ev)
	s.reconcile()
	s.view = s.snapshot()
	return s.out
}

func (s *Supervisor) step(ev Event) {
	if we, ok := ev.(workerEvent); ok {
		w := s.find(we.workerID())
		if w == nil {
			return
		}
		s.onWorker(w, ev)
		return
	}
	switch ev := ev.(type) {
	case EvTick:
		s.tick()
	case EvSignal:
		s.signal(ev.Sig, ev.Sig.String())
	case EvCommand:
		if sig := ev.Cmd.signal(); sig != 0 {
			s.signal(sig, "control socket: "+ev.Cmd.String())
		}
	case EvConfigLoaded:
		s.reload(ev.Loaded, ev.Err)
	case EvSpawnFailed:
		s.spawnFailed(ev.ID, ev.Err)
	case EvFilesChanged:
		s.signal(SigHup, "--reload: changed on disk: "+strings.Join(ev.Files, ", "))
	case EvUpgradeFailed:
		s.upgradeFailed(ev.Why, ev.Started)
	case EvUpgradeReady:
		s.upgradeReady(ev.PID, ev.Took)
	case EvOldServed:
		s.oldServed(ev.Total)
	}
}

// reconcile starts and retires workers so that `target` workers of the
// current generation serve. This is the one place where "retire once a
// replacement is ready" is decided: a retiring worker is told to drain only
// while the others serving still number at least target.
func (s *Supervisor) reconcile() {
	if s.phase.stopped() {
		return
	}
	keep := slices.DeleteFunc(s.inPhase(PhaseBooting, PhaseReady), s.isCanary)
	if s.twoBootingGenerations {
		keep = slices.DeleteFunc(keep, func(w *worker) bool { return w.Generation != s.gen })
	}
	if extra := len(keep) - s.target; extra > 0 {
		// booting ones first (they serve nothing yet), then the oldest
		slices.SortStableFunc(keep, func(a, b *worker) int { return int(a.Phase) - int(b.Phase) })
		for _, w := range keep[:extra] {
			s.retire(w, ExitScaleDown, "scale down")
		}
		keep = keep[extra:]
	}
	for len(keep) < s.target && !s.now.Before(s.crash.next) {
		keep = append(keep, s.spawn())
	}
	serving := s.countServing()
	for _, w := range s.inPhase(PhaseRetiring) {
		if serving-1 >= s.target {
			s.drain(w, w.kind, w.reason, false)
			serving--
		}
	}
	if s.phase == MasterReloading && !slices.ContainsFunc(s.workers, func(w *worker) bool { return w.Generation < s.gen }) {
		s.log(slog.LevelInfo, "reload complete", "generation", s.gen, "workers", len(keep))
		s.record(nil, RecordReload, ReloadComplete)
		s.phase = MasterServing
		s.notifyReady("reload")
	}
}

// retire marks a worker to leave once a replacement is ready; one that is
// still booting serves nothing and is told at once.
func (s *Supervisor) retire(w *worker, k exitKind, why string) {
	switch w.Phase {
	case PhaseBooting:
		if !s.twoBootingGenerations || k != ExitReload {
			s.drain(w, k, why, false)
		}
	case PhaseReady:
		w.Phase, w.reason, w.kind = PhaseRetiring, why, k
	}
}

// spawn records a new booting worker of the current generation and asks the
// loop to start it.
func (s *Supervisor) spawn() *worker {
	return s.spawnOf(s.gen, s.cfg, nil)
}

// spawnOf starts a worker of generation gen under policy p; settings are
// the shell's configuration for it (nil: the current one).
func (s *Supervisor) spawnOf(gen int, p Policy, settings any) *worker {
	s.nextID++
	w := &worker{WorkerInfo: WorkerInfo{ID: s.nextID, Generation: gen}, started: s.now, lastSeen: s.now}
	if p.MaxRequests > 0 {
		w.maxReq = int64(p.MaxRequests + s.opt.Jitter(p.MaxRequestsJitter+1))
	}
	s.workers = append(s.workers, w)
	s.do(StartWorker{Worker: w.WorkerInfo, MaxRequests: w.maxReq, Settings: settings})
	return w
}

func (s *Supervisor) spawnFailed(id int, err error) {
	w := s.find(id)
	if w == nil {
		return
	}
	s.remove(w)
	s.log(slog.LevelError, "cannot start worker", "err", err)
	if s.isCanary(w) {
		s.canaryWorkerEnded(w, "cannot start: "+err.Error())
	}
	if s.phase == MasterStarting {
		s.fail(fmt.Errorf("prefork: cannot start worker: %w", err))
		return
	}
	s.recordFailure()
}

// onWorker handles an event about worker w.
func (s *Supervisor) onWorker(w *worker, ev Event) {
	switch ev := ev.(type) {
	case EvStarted:
		w.PID, w.started, w.lastSeen = ev.PID, s.now, s.now
		s.logw(slog.LevelInfo, "worker started", w, nil)
		s.record(w, RecordStart, "")
		return
	case EvExited:
		s.exited(w, ev.Exit)
		return
	case EvRSS:
		s.memory(w, ev.Bytes)
		return
	}
	w.lastSeen = s.now // anything on its status pipe: it is alive
	switch ev := ev.(type) {
	case EvReady:
		if w.Phase != PhaseBooting {
			return
		}
		w.Phase, w.readyAt = PhaseReady, s.now
		s.logw(slog.LevelInfo, "worker ready", w, []any{"boot", Dur(s.now.Sub(w.started))})
		s.announce()
	case EvHeartbeat:
		d := ev.Served.since(w.served)
		w.served = ev.Served
		s.served.add(d)
		s.canaryServed(w, d)
		w.stats = ev.Stats
		if w.maxReq > 0 && ev.Stats.Requests >= w.maxReq && w.Phase == PhaseReady && !s.isCanary(w) { // a canary serves its window whole
			s.retire(w, ExitMaxRequests, fmt.Sprintf("max requests reached (%d)", w.maxReq))
			s.logw(slog.LevelInfo, "recycling worker", w, []any{"reason", w.reason})
		}
	case EvBadMessage:
		s.log(slog.LevelWarn, "bad status line", "worker", w.ID, "line", ev.Line)
	case EvMetrics: // the shell's aggregator keeps them
		s.do(Metrics{Worker: w.WorkerInfo, Report: ev.Report})
	case EvFailed:
		w.failMsg = ev.Msg
	case EvExiting:
		if !w.Phase.told() { // it stops on its own (a signal): replaced, but no crash
			if w.reason == "" {
				w.reason, w.kind = "stopped on its own: "+ev.Reason, ExitSignal
			}
			w.Phase, w.onItsOwn = phaseDraining, true
			s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		}
	case EvDumped:
		if w.Phase == phaseDumping {
			s.kill(w, "", w.killWhy, false)
		}
	}
}

// announce runs once, when every start-up worker is ready: the end of Starting.
func (s *Supervisor) announce() {
	if s.phase != MasterStarting || s.countServing() < s.target || s.canary != nil { // an upgrade's canary decides first
		return
	}
	s.phase = MasterServing
	if s.opt.TakeOver {
		s.do(TakeOver{Status: s.statusText()})
	} else {
		s.notifyReady("start-up")
	}
	s.log(slog.LevelInfo, "master ready", "workers", s.countServing(), "listeners", s.opt.Listeners)
	s.do(HookReady{})
}

// memory handles an RSS sample: over MaxWorkerMemory recycles the worker.
func (s *Supervisor) memory(w *worker, rss int64) {
	w.rss = rss
	if limit := s.cfg.MaxWorkerMemory; limit > 0 && rss > limit && w.Phase == PhaseReady && !s.isCanary(w) {
		s.retire(w, ExitMaxMemory, fmt.Sprintf("memory %s over max-worker-memory %s", FormatBytes(rss), FormatBytes(limit)))
		s.logw(slog.LevelWarn, "recycling worker", w, []any{"reason", w.reason, "rss", rss, "requests", w.stats.Requests})
	}
}
