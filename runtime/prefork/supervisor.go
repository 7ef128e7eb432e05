package prefork

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The supervisor is the master's whole lifecycle policy as a state machine:
// no processes, no signals, no clock of its own. The loop (loop.go) steps it
// with events, each with the current time, and carries out the actions it
// returns. Every invariant of the package doc is a property of this file.

// tickEvery is how often the loop steps the supervisor with evTick.
const tickEvery = 100 * time.Millisecond

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
type phase int

const (
	phaseBooting  phase = iota // started, App factory running
	phaseReady                 // serving
	phaseRetiring              // serving until a replacement is ready (reason says why)
	phaseDraining              // told to drain or quit; killed at its deadline
	phaseDumping               // drain deadline passed: asked for a goroutine dump, then killed
	phaseAborting              // unresponsive: sent SIGABRT (stack dump), killed at its deadline
	phaseKilled                // sent SIGKILL, waiting to be reaped
)

func (p phase) String() string {
	return [...]string{"booting", "ready", "retiring", "draining", "dumping", "aborting", "killed"}[p]
}

// told reports whether the master has ended this worker's service.
func (p phase) told() bool { return p >= phaseDraining }

// worker is the supervisor's record of one worker process.
type worker struct {
	WorkerInfo
	phase    phase
	reason   string   // why it left ready (retiring or stopping), recorded once
	kind     exitKind // the same as a metrics label, set with reason
	failure  bool     // its end counts towards the crash loop
	failMsg  string   // the App factory's error, from the worker
	started  time.Time
	readyAt  time.Time
	lastSeen time.Time
	stats    workerStats
	rss      int64
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
type supervisor struct {
	cfg        Policy
	jitter     func(n int) int // a random 0..n-1 (max-requests jitter)
	listeners  string          // for log lines
	now        time.Time
	workers    []*worker // by ID
	nextID     int
	gen        int
	target     int
	rollout    int // generation being rolled out by a reload; 0 = none
	everReady  bool
	announced  bool
	stop       stopMode
	stopReason string
	stopAt     time.Time // TERM came with a ShutdownDelay: serve on until then, then stop
	err        error     // Run's result (boot failure)
	crash      crashLoop
	upgrading  bool // a new master started by USR2 is booting
	takingOver bool // this master was started by USR2 and is not ready yet
	handedOver bool // a new master took over: exit without STOPPING=1
	nextStatus time.Time
	lastStatus string
	out        []action
}

func newSupervisor(cfg Policy, jitter func(int) int, listeners string, takingOver bool) *supervisor {
	return &supervisor{cfg: cfg, jitter: jitter, listeners: listeners, gen: 1, target: cfg.Workers, takingOver: takingOver}
}

// Step applies one event at time now and returns what the loop must do.
func (s *supervisor) Step(now time.Time, ev event) []action {
	s.now, s.out = now, nil
	switch ev := ev.(type) {
	case evStart:
	case evTick:
		s.tick()
	case evSignal:
		s.signal(ev.name, ev.name)
	case evCommand:
		s.signal(controlSignals[ev.cmd], "control socket: "+ev.cmd)
	case evConfigLoaded:
		s.reload(ev.cfg, ev.err)
	case evStarted:
		if w := s.find(ev.id); w != nil {
			w.PID, w.started, w.lastSeen = ev.pid, now, now
			s.logw(slog.LevelInfo, "worker started", w, nil)
			s.record(w, recordStart, "")
		}
	case evSpawnFailed:
		s.spawnFailed(ev.id, ev.err)
	case evMessage:
		if w := s.find(ev.id); w != nil {
			s.message(w, ev.line)
		}
	case evExited:
		if w := s.find(ev.id); w != nil {
			s.exited(w, ev.status)
		}
	case evFilesChanged:
		s.signal("HUP", "--reload: changed on disk: "+strings.Join(ev.files, ", "))
	case evRSS:
		if w := s.find(ev.id); w != nil {
			s.memory(w, ev.bytes)
		}
	case evUpgradeFailed:
		s.upgradeFailed(ev.why, ev.started)
	case evUpgradeReady:
		s.upgradeReady(ev.pid, ev.took)
	}
	s.reconcile()
	return s.out
}

// reconcile starts and retires workers so that `target` workers of the
// current generation serve. This is the one place where "retire once a
// replacement is ready" is decided: a retiring worker is told to drain only
// while the others serving still number at least target.
func (s *supervisor) reconcile() {
	if s.stop != running {
		return
	}
	keep := s.inPhase(phaseBooting, phaseReady)
	if extra := len(keep) - s.target; extra > 0 {
		// booting ones first (they serve nothing yet), then the oldest
		slices.SortStableFunc(keep, func(a, b *worker) int { return int(a.phase) - int(b.phase) })
		for _, w := range keep[:extra] {
			s.retire(w, exitScaleDown, "scale down")
		}
		keep = keep[extra:]
	}
	for len(keep) < s.target && !s.now.Before(s.crash.next) {
		keep = append(keep, s.spawn())
	}
	serving := len(s.inPhase(phaseReady, phaseRetiring))
	for _, w := range s.inPhase(phaseRetiring) {
		if serving-1 >= s.target {
			s.drain(w, w.kind, w.reason, false)
			serving--
		}
	}
	if s.rollout != 0 && !slices.ContainsFunc(s.workers, func(w *worker) bool { return isReloadReason(w.reason) }) {
		s.log(slog.LevelInfo, "reload complete", "generation", s.rollout, "workers", len(keep))
		s.record(nil, recordReload, reloadComplete)
		s.rollout = 0
		s.notifyReady("reload")
	}
}

// retire marks a worker to leave once a replacement is ready; one that is
// still booting serves nothing and is told at once.
func (s *supervisor) retire(w *worker, k exitKind, why string) {
	switch w.phase {
	case phaseBooting:
		s.drain(w, k, why, false)
	case phaseReady:
		w.phase, w.reason, w.kind = phaseRetiring, why, k
	}
}

// spawn records a new booting worker of the current generation and asks the
// loop to start it.
func (s *supervisor) spawn() *worker {
	s.nextID++
	w := &worker{WorkerInfo: WorkerInfo{ID: s.nextID, Generation: s.gen}, started: s.now, lastSeen: s.now}
	if s.cfg.MaxRequests > 0 {
		w.maxReq = int64(s.cfg.MaxRequests + s.jitter(s.cfg.MaxRequestsJitter+1))
	}
	s.workers = append(s.workers, w)
	s.do(action{kind: doSpawn, worker: w.WorkerInfo, maxReq: w.maxReq})
	return w
}

func (s *supervisor) spawnFailed(id int, err error) {
	w := s.find(id)
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
func (s *supervisor) message(w *worker, line string) {
	w.lastSeen = s.now
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case msgReady:
		if w.phase != phaseBooting {
			return
		}
		w.phase, w.readyAt = phaseReady, s.now
		s.everReady = true
		s.logw(slog.LevelInfo, "worker ready", w, []any{"boot", dur(s.now.Sub(w.started))})
		s.announce()
	case msgHeartbeat:
		var st workerStats
		var ms int64
		if _, err := fmt.Sscanf(arg, "%d %d %d", &st.Requests, &st.InFlight, &ms); err != nil {
			s.log(slog.LevelWarn, "bad heartbeat", "worker", w.ID, "line", line)
			return
		}
		st.OldestRequest = time.Duration(ms) * time.Millisecond
		w.stats = st
		if w.maxReq > 0 && st.Requests >= w.maxReq && w.phase == phaseReady {
			s.retire(w, exitMaxRequests, fmt.Sprintf("max requests reached (%d)", w.maxReq))
			s.logw(slog.LevelInfo, "recycling worker", w, []any{"reason", w.reason})
		}
	case msgMetrics: // the shell's aggregator keeps them
		s.do(action{kind: doMetrics, worker: w.WorkerInfo, text: arg})
	case msgFail:
		w.failMsg = unquote(arg)
	case msgExiting:
		if !w.phase.told() { // it stops on its own (a signal): replaced, but no crash
			if w.reason == "" {
				w.reason, w.kind = "stopped on its own: "+unquote(arg), exitSignal
			}
			w.phase = phaseDraining
			s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		}
	case msgDumped:
		if w.phase == phaseDumping {
			s.kill(w, "", w.killWhy, false)
		}
	}
}

// announce runs once, when every start-up worker is ready.
func (s *supervisor) announce() {
	if s.announced || s.countServing() < s.target {
		return
	}
	s.announced = true
	s.notifyReady("start-up")
	s.log(slog.LevelInfo, "master ready", "workers", s.countServing(), "listeners", s.listeners)
	s.do(action{kind: doHookReady})
}

// memory handles an RSS sample: over MaxWorkerMemory recycles the worker.
func (s *supervisor) memory(w *worker, rss int64) {
	w.rss = rss
	if limit := s.cfg.MaxWorkerMemory; limit > 0 && rss > limit && w.phase == phaseReady {
		s.retire(w, exitMaxMemory, fmt.Sprintf("memory %s over max-worker-memory %s", formatBytes(rss), formatBytes(limit)))
		s.logw(slog.LevelWarn, "recycling worker", w, []any{"reason", w.reason, "rss", rss, "requests", w.stats.Requests})
	}
}

// tick enforces deadlines and timeouts, and refreshes systemd's status.
func (s *supervisor) tick() {
	if !s.now.Before(s.nextStatus) {
		s.nextStatus = s.now.Add(statusEvery)
		if st := s.statusText(); st != s.lastStatus {
			s.lastStatus = st
			s.do(action{kind: doNotify, arg: notifyStatus, text: st})
		}
	}
	if s.stop == running && !s.stopAt.IsZero() && !s.now.Before(s.stopAt) {
		s.stopAll(stopGraceful, "SIGTERM")
	}
	for _, w := range slices.Clone(s.workers) {
		if w.phase == phaseKilled {
			continue
		}
		if !w.deadline.IsZero() && s.now.After(w.deadline) {
			if w.phase == phaseDraining && !w.dumped && s.now.Sub(w.lastSeen) < 2*s.cfg.Heartbeat+100*time.Millisecond {
				// it still talks: have it log its goroutines before the kill
				w.phase, w.dumped = phaseDumping, true
				s.send(w, cmdDump+" "+strconv.Quote(w.killWhy))
				w.deadline = s.now.Add(dumpWait)
				continue
			}
			s.kill(w, "", w.killWhy, false)
			continue
		}
		if s.cfg.Timeout <= 0 || w.phase == phaseAborting {
			continue
		}
		switch {
		case w.phase == phaseBooting && s.now.Sub(w.started) > s.cfg.Timeout:
			why := fmt.Sprintf("not ready within the timeout (%s)", s.cfg.Timeout)
			s.bootFailed(w, why)
			s.kill(w, exitBootFailure, "boot "+why, true)
		case w.phase != phaseBooting && s.now.Sub(w.lastSeen) > s.cfg.Timeout:
			s.kill(w, exitTimeout, fmt.Sprintf("no heartbeat for %s (timeout %s)", dur(s.now.Sub(w.lastSeen)), s.cfg.Timeout), true)
		case w.phase == phaseReady && w.stats.OldestRequest > s.cfg.Timeout:
			s.retire(w, exitStuck, fmt.Sprintf("a request has run for %s (timeout %s)", dur(w.stats.OldestRequest), s.cfg.Timeout))
			s.logw(slog.LevelWarn, "recycling worker: stuck request", w, []any{"reason", w.reason, "requests", w.stats.Requests})
			w.dumped = true
			s.send(w, cmdDump+" "+strconv.Quote(w.reason))
		}
	}
}

// exited handles a reaped worker: the reason it ended, and whether that was
// the app's failure.
func (s *supervisor) exited(w *worker, status string) {
	s.remove(w)
	s.do(action{kind: doHookChildExit, worker: w.WorkerInfo, text: status})
	s.record(w, recordExit, string(exitKindOf(w, status)))
	attrs := []any{"exit", status, "age", dur(s.now.Sub(w.started)), "requests", w.stats.Requests}
	switch {
	case w.phase.told() && !w.failure:
		s.logw(slog.LevelInfo, "worker exited", w, append(attrs, "reason", w.reason))
		return
	case w.phase == phaseBooting:
		why := w.failMsg
		if why == "" {
			why = "exited before ready: " + status
		}
		s.logw(slog.LevelError, "worker failed to boot", w, append(attrs, "reason", why))
		s.bootFailed(w, why)
	default:
		why := w.reason
		switch {
		case w.phase.told():
		case strings.HasSuffix(status, "signal: killed"):
			// Someone else ended a worker that was serving: the app did not fail,
			// so this is not a crash loop and the replacement starts at once
			// (a backoff here would leave the port without workers while an
			// operator or the OOM killer picks them off one by one).
			s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", "SIGKILL from outside the master (the kernel's OOM killer? see dmesg)"))
			return
		case strings.Contains(status, "signal: "):
			why = "killed by a signal from outside the master"
		case w.stats.InFlight > 0:
			why = fmt.Sprintf("unexpected exit with %d requests in flight (a panic or os.Exit in the app? see its output above)", w.stats.InFlight)
		default:
			why = "unexpected exit (a panic or os.Exit in the app? see its output above)"
		}
		s.logw(slog.LevelError, "worker died", w, append(attrs, "reason", why))
	}
	s.recordFailure()
}

// exitKindOf names why a reaped worker ended, by the same decisions as
// exited's log lines: what the master told it (w.kind), else what the wait
// status says.
func exitKindOf(w *worker, status string) exitKind {
	switch {
	case w.phase.told() && w.kind != "":
		return w.kind
	case w.phase == phaseBooting:
		return exitBootFailure
	case w.phase.told(): // told by a path that gives no kind (none today)
		return exitOther
	case strings.HasSuffix(status, "signal: killed"):
		return exitKilled
	case strings.Contains(status, "signal: "):
		return exitSignal
	}
	return exitCrash
}

// bootFailed handles a worker that never became ready: at start-up it stops
// the master; during a reload it abandons the new generation.
func (s *supervisor) bootFailed(w *worker, why string) {
	if w.phase.told() {
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

// recordFailure counts one failure of the app towards the crash loop.
func (s *supervisor) recordFailure() {
	if s.crash.record(s.now, max(5, s.target)) {
		s.log(slog.LevelError, "crash loop: delaying the next worker start", "failures", len(s.crash.failures),
			"window", dur(crashWindow), "delay", dur(s.crash.backoff))
	}
}

// signal handles a signal to the master, or the control command that means
// the same (by names the source in logs).
func (s *supervisor) signal(sig, by string) {
	switch sig {
	case "TERM":
		if s.stop == running && s.stopAt.IsZero() && s.cfg.ShutdownDelay > 0 {
			// Endpoints and proxies still send for a moment: serve on, unready.
			s.stopAt = s.now.Add(s.cfg.ShutdownDelay)
			if !s.handedOver {
				s.do(action{kind: doNotify, arg: notifyStopping})
			}
			s.log(slog.LevelInfo, "master stopping after the shutdown delay", "reason", "SIGTERM", "shutdown_delay", s.cfg.ShutdownDelay, "by", by)
			return
		}
		s.stopAll(stopGraceful, "SIGTERM")
	case "INT", "QUIT":
		s.stopAll(stopQuick, "SIG"+sig)
	case "HUP":
		if s.stop != running || !s.stopAt.IsZero() {
			return
		}
		s.do(action{kind: doNotify, arg: notifyReloading})
		s.log(slog.LevelInfo, "reload requested", "by", by, "generation", s.gen+1)
		s.do(action{kind: doLoadConfig})
	case "TTIN":
		s.setTarget(s.target+1, by)
	case "TTOU":
		if s.target <= 1 {
			s.log(slog.LevelWarn, "TTOU ignored: never fewer than 1 worker", "by", by)
			return
		}
		s.setTarget(s.target-1, by)
	case "USR1":
		s.do(action{kind: doReopenLogs})
		for _, w := range s.workers {
			s.send(w, cmdReopen)
		}
		s.log(slog.LevelInfo, "log files reopened (USR1)")
	case "USR2":
		s.upgrade()
	}
}

// controlSignals maps the control socket's commands to the signal they stand for.
var controlSignals = map[string]string{ControlStatus: "", ControlReload: "HUP", ControlTTIN: "TTIN", ControlTTOU: "TTOU"}

func (s *supervisor) setTarget(n int, why string) {
	if s.stop != running || n == s.target {
		return
	}
	old := s.target
	s.target = n
	s.log(slog.LevelInfo, "worker count changed", "from", old, "to", n, "reason", why)
	s.do(action{kind: doHookWorkers, n: n, old: old})
}

// reload starts a new generation with the configuration the loop loaded
// (nil: the current one). One that failed to load starts nothing.
func (s *supervisor) reload(nc *Policy, err error) {
	if s.stop != running || !s.stopAt.IsZero() {
		return
	}
	if err != nil {
		s.log(slog.LevelError, "reload: configuration not applied; nothing restarted, the current workers keep serving", "err", err)
		s.notifyReady("reload failed")
		return
	}
	if nc != nil {
		was := s.cfg.Workers
		s.cfg = *nc
		s.do(action{kind: doApplyConfig})
		if nc.Workers != was { // a TTIN/TTOU count stands until the file changes
			s.setTarget(nc.Workers, "reload")
		}
	}
	s.do(action{kind: doHookReload})
	s.gen++
	s.rollout = s.gen
	for _, w := range s.workers {
		s.retire(w, exitReload, reloadReason(s.gen))
	}
}

const reloadPrefix = "reload: replaced by generation "

func reloadReason(gen int) string    { return reloadPrefix + strconv.Itoa(gen) }
func isReloadReason(why string) bool { return strings.HasPrefix(why, reloadPrefix) }

// abandonReload gives up a generation that failed to boot: its booting
// workers quit and the workers it was to replace serve on.
func (s *supervisor) abandonReload(why string) {
	s.log(slog.LevelError, "reload abandoned: the new generation failed to boot; the current workers keep serving",
		"generation", s.rollout, "reason", why)
	s.record(nil, recordReload, reloadAbandoned)
	for _, w := range s.workers {
		switch {
		case w.Generation == s.rollout && w.phase == phaseBooting:
			s.drain(w, exitBootFailure, "abandoned generation", true)
		case w.phase == phaseRetiring && isReloadReason(w.reason):
			w.phase, w.reason, w.kind = phaseReady, "", ""
		}
	}
	s.rollout = 0
	s.notifyReady("reload abandoned")
}

// stopAll begins a graceful or quick stop of every worker; the loop ends
// when the last one is reaped.
func (s *supervisor) stopAll(mode stopMode, why string) {
	if s.stop >= mode {
		return
	}
	if s.stop == running {
		if !s.handedOver && s.stopAt.IsZero() {
			s.do(action{kind: doNotify, arg: notifyStopping})
		}
		s.stopReason = why
		s.log(slog.LevelInfo, "master stopping", "reason", why, "graceful", mode == stopGraceful, "workers", len(s.workers))
		s.do(action{kind: doCloseListeners}) // workers close theirs too: new connections are refused, not queued
	}
	s.stop = mode
	for _, w := range s.workers {
		s.drain(w, exitShutdown, "master stopping: "+why, mode == stopQuick)
	}
}

// fail stops the master quickly; Run returns err.
func (s *supervisor) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.stopAll(stopQuick, err.Error())
}

// drain tells a worker to drain (or quit) and sets its kill deadline.
func (s *supervisor) drain(w *worker, k exitKind, why string, quick bool) {
	first := !w.phase.told()
	if !first && !quick {
		return
	}
	cmd := cmdDrain
	if s.stop != running {
		cmd += " stop" // every worker is stopping: each serves the listen backlog first
	}
	if quick {
		cmd = cmdQuit
	}
	s.send(w, cmd)
	if first || w.phase == phaseDraining {
		if first {
			w.phase, w.reason, w.kind = phaseDraining, why, k
		}
		s.setDeadline(w, s.cfg.GracefulTimeout+killSlack, "graceful timeout exceeded")
		s.logw(slog.LevelInfo, "stopping worker", w, []any{"reason", why, "quick", quick, "requests", w.stats.Requests})
	}
}

func (s *supervisor) setDeadline(w *worker, after time.Duration, why string) {
	w.deadline, w.killWhy = s.now.Add(after), why
}

// kill ends a worker that did not stop in time, or (k set) one that failed
// while serving, for reason k. With abort, SIGABRT first makes the Go
// runtime print every goroutine's stack (to the error log), and KILL
// follows if it is still there.
func (s *supervisor) kill(w *worker, k exitKind, why string, abort bool) {
	if w.phase == phaseKilled {
		return
	}
	if !w.phase.told() {
		w.reason, w.kind, w.failure = why, k, true
	}
	sig := map[bool]string{true: "ABRT", false: "KILL"}[abort && w.phase != phaseAborting]
	s.logw(slog.LevelError, "killing worker", w, []any{"reason", why, "stopping_for", w.reason,
		"age", dur(s.now.Sub(w.started)), "requests", w.stats.Requests, "in_flight", w.stats.InFlight,
		"state", w.phase.String(), "signal", sig})
	s.do(action{kind: doSignal, worker: w.WorkerInfo, arg: sig})
	if sig == "ABRT" {
		w.phase = phaseAborting
		s.setDeadline(w, abortWait, why+"; still running after SIGABRT")
		return
	}
	w.phase = phaseKilled
}

func (s *supervisor) send(w *worker, cmd string) {
	s.do(action{kind: doSend, worker: w.WorkerInfo, arg: cmd})
}

func (s *supervisor) notifyReady(after string) {
	s.do(action{kind: doNotify, arg: notifyReady, text: s.statusText(), attrs: []any{"after", after}})
	s.takingOver = false
}

// stopping reports whether this master is on its way out (health probes: not ready).
func (s *supervisor) stopping() bool { return s.stop != running || s.handedOver || !s.stopAt.IsZero() }

// formatBytes renders a size for humans (status table, logs).
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + string("KMGTP"[exp]) + "iB"
}

// heartbeatFor is how often a worker reports to the master under a timeout: a
// second, or a quarter of a shorter timeout, never under 10ms.
func heartbeatFor(timeout time.Duration) time.Duration {
	iv := time.Second
	if timeout > 0 && timeout/4 < iv {
		iv = timeout / 4
	}
	if iv < 10*time.Millisecond {
		iv = 10 * time.Millisecond
	}
	return iv
}
