package supervisor

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Supervisor is the master's whole lifecycle policy as a state machine:
// no processes, no signals, no clock of its own. The master's loop
// (runtime/prefork, loop.go) steps it with events, each with the current time,
// and carries out the actions it returns. Every invariant of runtime/prefork's
// package doc is a property of this package.

// tickEvery is how often the loop steps the supervisor with EvTick.
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

// phase is where a worker is in its life; it only moves forward, except that
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

// worker is the supervisor's record of one worker process.
type worker struct {
	WorkerInfo
	Phase    Phase
	reason   string   // why it left ready (retiring or stopping), recorded once
	kind     exitKind // the same as a metrics label, set with reason
	failure  bool     // its end counts towards the crash loop
	failMsg  string   // the App factory's error, from the worker
	Started  time.Time
	ReadyAt  time.Time
	lastSeen time.Time
	Stats    WorkerStats
	RSS      int64
	maxReq   int64     // this worker's max-requests incl. jitter; 0 = none
	deadline time.Time // draining, dumping, aborting: when to escalate
	killWhy  string    // what the escalation at deadline is for
	dumped   bool      // a goroutine dump was asked for already
}

type stopMode int

const (
	running stopMode = iota
	stopGraceful
	stopQuick
)

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

// supervisor owns every piece of lifecycle state.
type Supervisor struct {
	cfg        Policy
	jitter     func(n int) int // a random 0..n-1 (max-requests jitter)
	listeners  string          // for log lines
	now        time.Time
	Workers    []*worker // by ID
	nextID     int
	Gen        int
	Target     int
	rollout    int // generation being rolled out by a reload; 0 = none
	everReady  bool
	Announced  bool
	stop       stopMode
	StopReason string
	stopAt     time.Time // TERM came with a ShutdownDelay: serve on until then, then stop
	Err        error     // Run's result (boot failure)
	crash      crashLoop
	upgrading  bool // a new master started by USR2 is booting
	takingOver bool // this master was started by USR2 and is not ready yet
	handedOver bool // a new master took over: exit without STOPPING=1
	nextStatus time.Time
	lastStatus string
	out        []Action
}

func NewSupervisor(cfg Policy, jitter func(int) int, listeners string, takingOver bool) *Supervisor {
	return &Supervisor{cfg: cfg, jitter: jitter, listeners: listeners, Gen: 1, Target: cfg.Workers, takingOver: takingOver}
}

// Step applies one event at time now and returns what the loop must do.
func (s *Supervisor) Step(now time.Time, ev Event) []Action {
	s.now, s.out = now, nil
	switch ev := ev.(type) {
	case EvStart:
	case EvTick:
		s.tick()
	case EvSignal:
		s.signal(ev.Name, ev.Name)
	case EvCommand:
		s.signal(ControlSignals[ev.Cmd], "control socket: "+ev.Cmd)
	case EvConfigLoaded:
		s.reload(ev.Cfg, ev.Err)
	case EvStarted:
		if w := s.Find(ev.ID); w != nil {
			w.PID, w.Started, w.lastSeen = ev.PID, now, now
			s.logw(slog.LevelInfo, "worker started", w, nil)
			s.record(w, RecordStart, "")
		}
	case EvSpawnFailed:
		s.spawnFailed(ev.ID, ev.Err)
	case EvMessage:
		if w := s.Find(ev.ID); w != nil {
			s.message(w, ev.Line)
		}
	case EvExited:
		if w := s.Find(ev.ID); w != nil {
			s.exited(w, ev.Status)
		}
	case EvFilesChanged:
		s.signal("HUP", "--reload: changed on disk: "+strings.Join(ev.Files, ", "))
	case EvRSS:
		if w := s.Find(ev.ID); w != nil {
			s.memory(w, ev.Bytes)
		}
	case EvUpgradeFailed:
		s.upgradeFailed(ev.Why, ev.Started)
	case EvUpgradeReady:
		s.upgradeReady(ev.PID, ev.Took)
	}
	s.reconcile()
	return s.out
}

// reconcile starts and retires workers so that `target` workers of the
// current generation serve. This is the one place where "retire once a
// replacement is ready" is decided: a retiring worker is told to drain only
// while the others serving still number at least target.
func (s *Supervisor) reconcile() {
	if s.stop != running {
		return
	}
	keep := s.inPhase(PhaseBooting, PhaseReady)
	if extra := len(keep) - s.Target; extra > 0 {
		// booting ones first (they serve nothing yet), then the oldest
		slices.SortStableFunc(keep, func(a, b *worker) int { return int(a.Phase) - int(b.Phase) })
		for _, w := range keep[:extra] {
			s.retire(w, ExitScaleDown, "scale down")
		}
		keep = keep[extra:]
	}
	for len(keep) < s.Target && !s.now.Before(s.crash.next) {
		keep = append(keep, s.spawn())
	}
	serving := len(s.inPhase(PhaseReady, PhaseRetiring))
	for _, w := range s.inPhase(PhaseRetiring) {
		if serving-1 >= s.Target {
			s.drain(w, w.kind, w.reason, false)
			serving--
		}
	}
	if s.rollout != 0 && !slices.ContainsFunc(s.Workers, func(w *worker) bool { return isReloadReason(w.reason) }) {
		s.log(slog.LevelInfo, "reload complete", "generation", s.rollout, "workers", len(keep))
		s.record(nil, RecordReload, ReloadComplete)
		s.rollout = 0
		s.notifyReady("reload")
	}
}

// retire marks a worker to leave once a replacement is ready; one that is
// still booting serves nothing and is told at once.
func (s *Supervisor) retire(w *worker, k exitKind, why string) {
	switch w.Phase {
	case PhaseBooting:
		s.drain(w, k, why, false)
	case PhaseReady:
		w.Phase, w.reason, w.kind = PhaseRetiring, why, k
	}
}

// spawn records a new booting worker of the current generation and asks the
// loop to start it.
func (s *Supervisor) spawn() *worker {
	s.nextID++
	w := &worker{WorkerInfo: WorkerInfo{ID: s.nextID, Generation: s.Gen}, Started: s.now, lastSeen: s.now}
	if s.cfg.MaxRequests > 0 {
		w.maxReq = int64(s.cfg.MaxRequests + s.jitter(s.cfg.MaxRequestsJitter+1))
	}
	s.Workers = append(s.Workers, w)
	s.do(Action{Kind: DoSpawn, Worker: w.WorkerInfo, MaxReq: w.maxReq})
	return w
}

func (s *Supervisor) spawnFailed(id int, err error) {
	w := s.Find(id)
	if w == nil {
		return
	}
	s.remove(w)
	s.log(slog.LevelError, "cannot start worker", "err", err)
	if !s.everReady {
		s.fail(fmt.Errorf("prefork: cannot start worker: %w", err))
		return
	}
	s.recordFailure()
}

// message handles one line from a worker's status pipe.
func (s *Supervisor) message(w *worker, line string) {
	w.lastSeen = s.now
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case MsgReady:
		if w.Phase != PhaseBooting {
			return
		}
		w.Phase, w.ReadyAt = PhaseReady, s.now
		s.everReady = true
		s.logw(slog.LevelInfo, "worker ready", w, []any{"boot", Dur(s.now.Sub(w.Started))})
		s.announce()
	case MsgHeartbeat:
		var st WorkerStats
		var ms int64
		if _, err := fmt.Sscanf(arg, "%d %d %d", &st.Requests, &st.InFlight, &ms); err != nil {
			s.log(slog.LevelWarn, "bad heartbeat", "worker", w.ID, "line", line)
			return
		}
		st.OldestRequest = time.Duration(ms) * time.Millisecond
		w.Stats = st
		if w.maxReq > 0 && st.Requests >= w.maxReq && w.Phase == PhaseReady {
			s.retire(w, ExitMaxRequests, fmt.Sprintf("max requests reached (%d)", w.maxReq))
			s.logw(slog.LevelInfo, "recycling worker", w, []any{"reason", w.reason})
		}
	case MsgMetrics: // the shell's aggregator keeps them
		s.do(Action{Kind: DoMetrics, Worker: w.WorkerInfo, Text: arg})
	case MsgFail:
		w.failMsg = unquote(arg)
	case MsgExiting:
		if !w.Phase.told() { // it stops on its own (a signal): replaced, but no crash
			if w.reason == "" {
				w.reason, w.kind = "stopped on its own: "+unquote(arg), ExitSignal
			}
			w.Phase = phaseDraining
			s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		}
	case MsgDumped:
		if w.Phase == phaseDumping {
			s.kill(w, "", w.killWhy, false)
		}
	}
}

// announce runs once, when every start-up worker is ready.
func (s *Supervisor) announce() {
	if s.Announced || s.CountServing() < s.Target {
		return
	}
	s.Announced = true
	s.notifyReady("start-up")
	s.log(slog.LevelInfo, "master ready", "workers", s.CountServing(), "listeners", s.listeners)
	s.do(Action{Kind: DoHookReady})
}

// memory handles an RSS sample: over MaxWorkerMemory recycles the worker.
func (s *Supervisor) memory(w *worker, rss int64) {
	w.RSS = rss
	if limit := s.cfg.MaxWorkerMemory; limit > 0 && rss > limit && w.Phase == PhaseReady {
		s.retire(w, ExitMaxMemory, fmt.Sprintf("memory %s over max-worker-memory %s", FormatBytes(rss), FormatBytes(limit)))
		s.logw(slog.LevelWarn, "recycling worker", w, []any{"reason", w.reason, "rss", rss, "requests", w.Stats.Requests})
	}
}

// tick enforces deadlines and timeouts, and refreshes systemd's status.
func (s *Supervisor) tick() {
	if !s.now.Before(s.nextStatus) {
		s.nextStatus = s.now.Add(statusEvery)
		if st := s.statusText(); st != s.lastStatus {
			s.lastStatus = st
			s.do(Action{Kind: DoNotify, Arg: NotifyStatus, Text: st})
		}
	}
	if s.stop == running && !s.stopAt.IsZero() && !s.now.Before(s.stopAt) {
		s.stopAll(stopGraceful, "SIGTERM")
	}
	for _, w := range slices.Clone(s.Workers) {
		if w.Phase == PhaseKilled {
			continue
		}
		if !w.deadline.IsZero() && s.now.After(w.deadline) {
			if w.Phase == phaseDraining && !w.dumped && s.now.Sub(w.lastSeen) < 2*s.cfg.Heartbeat+100*time.Millisecond {
				// it still talks: have it log its goroutines before the kill
				w.Phase, w.dumped = phaseDumping, true
				s.send(w, CmdDump+" "+strconv.Quote(w.killWhy))
				w.deadline = s.now.Add(dumpWait)
				continue
			}
			s.kill(w, "", w.killWhy, false)
			continue
		}
		if s.cfg.Timeout <= 0 || w.Phase == phaseAborting {
			continue
		}
		switch {
		case w.Phase == PhaseBooting && s.now.Sub(w.Started) > s.cfg.Timeout:
			why := fmt.Sprintf("not ready within the timeout (%s)", s.cfg.Timeout)
			s.bootFailed(w, why)
			s.kill(w, ExitBootFailure, "boot "+why, true)
		case w.Phase != PhaseBooting && s.now.Sub(w.lastSeen) > s.cfg.Timeout:
			s.kill(w, ExitTimeout, fmt.Sprintf("no heartbeat for %s (timeout %s)", Dur(s.now.Sub(w.lastSeen)), s.cfg.Timeout), true)
		case w.Phase == PhaseReady && w.Stats.OldestRequest > s.cfg.Timeout:
			s.retire(w, ExitStuck, fmt.Sprintf("a request has run for %s (timeout %s)", Dur(w.Stats.OldestRequest), s.cfg.Timeout))
			s.logw(slog.LevelWarn, "recycling worker: stuck request", w, []any{"reason", w.reason, "requests", w.Stats.Requests})
			w.dumped = true
			s.send(w, CmdDump+" "+strconv.Quote(w.reason))
		}
	}
}

// exited handles a reaped worker: the reason it ended, and whether that was
// the app's failure.
func (s *Supervisor) exited(w *worker, status string) {
	s.remove(w)
	s.do(Action{Kind: DoHookChildExit, Worker: w.WorkerInfo, Text: status})
	s.record(w, RecordExit, string(exitKindOf(w, status)))
	attrs := []any{"exit", status, "age", Dur(s.now.Sub(w.Started)), "requests", w.Stats.Requests}
	switch {
	case w.Phase.told() && !w.failure:
		s.logw(slog.LevelInfo, "worker exited", w, append(attrs, "reason", w.reason))
		return
	case w.Phase == PhaseBooting:
		why := w.failMsg
		if why == "" {
			why = "exited before ready: " + status
		}
		s.logw(slog.LevelError, "worker failed to boot", w, append(attrs, "reason", why))
		s.bootFailed(w, why)
	default:
		why := w.reason
		switch {
		case w.Phase.told():
		case strings.HasSuffix(status, "signal: killed"):
			// Someone else ended a worker that was serving: the app did not fail,
			// so this is not a crash loop and the replacement starts at once
			// (a backoff here would leave the port without workers while an
			// operator or the OOM killer picks them off one by one).
			s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", "SIGKILL from outside the master (the kernel's OOM killer? see dmesg)"))
			return
		case strings.Contains(status, "signal: "):
			why = "killed by a signal from outside the master"
		case w.Stats.InFlight > 0:
			why = fmt.Sprintf("unexpected exit with %d requests in flight (a panic or os.Exit in the app? see its output above)", w.Stats.InFlight)
		default:
			why = "unexpected exit (a panic or os.Exit in the app? see its output above)"
		}
		s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", why))
	}
	s.recordFailure()
}

// ExitKindOf names why a reaped worker ended, by the same decisions as
// exited's log lines: what the master told it (w.kind), else what the wait
// status says.
func exitKindOf(w *worker, status string) exitKind {
	switch {
	case w.Phase.told() && w.kind != "":
		return w.kind
	case w.Phase == PhaseBooting:
		return ExitBootFailure
	case w.Phase.told(): // told by a path that gives no kind (none today)
		return ExitOther
	case strings.HasSuffix(status, "signal: killed"):
		return ExitKilled
	case strings.Contains(status, "signal: "):
		return ExitSignal
	}
	return ExitCrash
}

// bootFailed handles a worker that never became ready: at start-up it stops
// the master; during a reload it abandons the new generation.
func (s *Supervisor) bootFailed(w *worker, why string) {
	if w.Phase.told() {
		return
	}
	if w.failMsg != "" {
		why = w.failMsg
	}
	switch {
	case !s.everReady:
		s.fail(fmt.Errorf("prefork: worker failed to boot: %s", why))
	case s.rollout != 0 && w.Generation == s.rollout:
		s.abandonReload(fmt.Sprintf("worker %d (pid %d): %s", w.ID, w.PID, why))
	}
}

// RecordFailure counts one failure of the app towards the crash loop.
func (s *Supervisor) recordFailure() {
	if s.crash.record(s.now, max(5, s.Target)) {
		s.log(slog.LevelError, "crash loop: delaying the next worker start", "failures", len(s.crash.failures),
			"window", Dur(crashWindow), "delay", Dur(s.crash.backoff))
	}
}
