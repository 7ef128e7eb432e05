package prefork

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// Events the loop steps the supervisor with (supervisor.go).
type event any

type (
	evStart  struct{} // the master has bound its listeners: start workers
	evTick   struct{} // time passed: deadlines, timeouts, status
	evSignal struct {
		name string // TERM, INT, QUIT, HUP, TTIN, TTOU, USR1, USR2
	}
	evCommand struct {
		cmd string // a control socket command (ControlReload...)
	}
	evConfigLoaded struct { // answer to doLoadConfig
		cfg *Policy // nil: no Config.Reload, keep the current settings
		err error
	}
	evStarted struct { // answer to doSpawn: the process runs
		id, pid int
	}
	evSpawnFailed struct { // answer to doSpawn: no process
		id  int
		err error
	}
	evMessage struct { // one line on a worker's status pipe
		id   int
		line string
	}
	evExited struct { // a worker was reaped
		id     int
		status string // "exit status 0", "signal: killed"...
	}
	evFilesChanged struct { // --reload: the binary or a --reload-extra-file changed and settled
		files []string
	}
	evRSS struct { // a worker's resident memory was read
		id    int
		bytes int64
	}
	evUpgradeFailed struct { // the new master of a USR2 upgrade did not become ready
		why     string
		started bool // false: it never started (already logged)
	}
	evUpgradeReady struct { // the new master of a USR2 upgrade serves
		pid  int
		took time.Duration
	}
)

// actKind is what an action asks of the loop.
type actKind int

const (
	doSpawn          actKind = iota // start worker (ID, Generation) with maxReq; answer evStarted or evSpawnFailed
	doSend                          // write command arg to the worker's control pipe
	doSignal                        // send the worker signal arg: ABRT or KILL
	doLog                           // log text at level with attrs
	doNotify                        // tell systemd arg (notifyReady...) with status text
	doLoadConfig                    // run Config.Reload; answer evConfigLoaded
	doApplyConfig                   // the new configuration cfg: logging, new workers' settings
	doCloseListeners                // stop accepting: the master is stopping
	doReopenLogs                    // reopen the master's log files (USR1)
	doStartUpgrade                  // start the new master (USR2); answer evUpgradeReady or evUpgradeFailed
	doKillUpgrade                   // kill the new master of a failed upgrade
	doWritePidFile                  // (re)write the pid file
	doHandOver                      // the new master (pid n) serves: MAINPID=n, sockets are its now
	doHookReady                     // Config.WhenReady
	doHookChildExit                 // Config.ChildExit(worker, text)
	doHookWorkers                   // Config.NWorkersChanged(n, old)
	doHookReload                    // Config.OnReload
	doRecord                        // count an outcome for the metrics: arg is what (recordStart...), text the outcome; worker when it is about one
	doMetrics                       // the worker's metrics report text (a "metrics" status line) for the shell's aggregator
)

// What doRecord counts.
const (
	recordStart   = "start"   // a worker process started
	recordExit    = "exit"    // a worker was reaped; text is its exitKind
	recordReload  = "reload"  // a reload (HUP) ended: reloadComplete, reloadAbandoned
	recordUpgrade = "upgrade" // a binary upgrade (USR2) ended: upgradeHandedOver, upgradeFailedOutcome
)

// Outcomes of reloads and binary upgrades, as metrics labels.
const (
	reloadComplete       = "complete"
	reloadAbandoned      = "abandoned"
	upgradeHandedOver    = "handed_over"
	upgradeFailedOutcome = "failed"
)

// exitKind is why a worker ended, in the supervisor's own terms (the label
// values of prefork_worker_exits_total).
type exitKind string

const (
	exitBootFailure exitKind = "boot_failure"      // never became ready (factory error, boot timeout, abandoned generation)
	exitCrash       exitKind = "crash"             // exited on its own while serving (panic, os.Exit)
	exitKilled      exitKind = "killed"            // SIGKILL from outside the master (OOM killer, an operator)
	exitSignal      exitKind = "signal"            // another signal from outside (TERM/INT to the worker itself...)
	exitTimeout     exitKind = "heartbeat_timeout" // silent for longer than Timeout: killed by the master
	exitMaxRequests exitKind = "max_requests"
	exitMaxMemory   exitKind = "max_memory"
	exitStuck       exitKind = "stuck_request"
	exitReload      exitKind = "reload"
	exitScaleDown   exitKind = "scale_down"
	exitShutdown    exitKind = "shutdown" // the master is stopping (TERM, INT, QUIT, a hand-over)
	exitOther       exitKind = "other"
)

// What doNotify tells systemd.
const (
	notifyReady     = "ready"
	notifyReloading = "reloading"
	notifyStopping  = "stopping"
	notifyStatus    = "status"
)

// action is one thing for the loop to do; which fields matter depends on kind.
type action struct {
	kind   actKind
	worker WorkerInfo
	maxReq int64
	arg    string
	text   string
	level  slog.Level
	attrs  []any
	n, old int
}

// The supervisor's queries and small helpers.

// Serving reports whether the target number of workers is ready and no
// stop has begun: the service's readiness.
func (s *supervisor) Serving() bool {
	return s.stop == running && s.stopAt.IsZero() && s.countServing() >= s.target
}

// Done reports whether the master has stopped (every worker reaped).
func (s *supervisor) Done() bool { return s.stop != running && len(s.workers) == 0 }

func (s *supervisor) statusText() string {
	var reqs int64
	for _, w := range s.workers {
		reqs += w.stats.Requests
	}
	return fmt.Sprintf("%d workers ready (target %d), generation %d, %d requests served by current workers", s.countServing(), s.target, s.gen, reqs)
}

func (s *supervisor) countServing() int { return len(s.inPhase(phaseReady, phaseRetiring)) }

func (s *supervisor) inPhase(ps ...phase) []*worker {
	var out []*worker
	for _, w := range s.workers {
		if slices.Contains(ps, w.phase) {
			out = append(out, w)
		}
	}
	return out
}

func (s *supervisor) find(id int) *worker {
	i := slices.IndexFunc(s.workers, func(w *worker) bool { return w.ID == id })
	if i < 0 {
		return nil
	}
	return s.workers[i]
}

func (s *supervisor) remove(w *worker) {
	s.workers = slices.DeleteFunc(s.workers, func(x *worker) bool { return x == w })
}

func (s *supervisor) do(a action) { s.out = append(s.out, a) }

// record counts one outcome for the metrics (w may be nil).
func (s *supervisor) record(w *worker, what, outcome string) {
	a := action{kind: doRecord, arg: what, text: outcome}
	if w != nil {
		a.worker = w.WorkerInfo
	}
	s.do(a)
}

func (s *supervisor) log(level slog.Level, msg string, attrs ...any) {
	s.do(action{kind: doLog, level: level, text: msg, attrs: attrs})
}

// logw logs about one worker.
func (s *supervisor) logw(level slog.Level, msg string, w *worker, attrs []any) {
	s.log(level, msg, append([]any{"worker", w.ID, "generation", w.Generation, "pid", w.PID}, attrs...)...)
}

// dur is how the runtime logs a duration: one readable unit, rounded.
func dur(d time.Duration) string { return d.Round(time.Millisecond).String() }

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// crashLoop is the backoff state of the crash-loop policy.
type crashLoop struct {
	failures []time.Time // within crashWindow
	last     time.Time
	backoff  time.Duration
	next     time.Time // no worker starts before
}

// record adds a failure at now; it reports whether starts are now delayed.
func (c *crashLoop) record(now time.Time, threshold int) bool {
	if now.Sub(c.last) > crashStable {
		c.backoff = 0
	}
	c.last = now
	c.failures = slices.DeleteFunc(c.failures, func(t time.Time) bool { return now.Sub(t) >= crashWindow })
	c.failures = append(c.failures, now)
	if len(c.failures) <= threshold {
		return false
	}
	c.backoff = min(max(2*c.backoff, crashBackoffMin), crashBackoffMax)
	c.next = now.Add(c.backoff)
	return true
}

// Messages on the status pipe (worker to master), one per line.
const (
	msgReady     = "ready"
	msgHeartbeat = "hb"      // hb <requests> <in-flight> <oldest-ms>
	msgMetrics   = "metrics" // metrics <metricsSnapshot.encode()>: cumulative counts, just before hb (observe.go)
	msgFail      = "fail"    // fail <quoted error>: the App factory failed
	msgDumped    = "dumped"  // the goroutine dump asked for is in the log
	msgExiting   = "exiting" // exiting <quoted reason>: stopping on its own (a signal), not told by the master
)

// Commands on the control pipe (master to worker), one per line.
const (
	cmdDrain  = "drain"  // drain [stop]: stop accepting, finish in-flight requests, exit; "stop": all workers are stopping, serve the listen backlog first
	cmdQuit   = "quit"   // exit at once
	cmdDump   = "dump"   // dump <quoted reason>: log every goroutine's stack
	cmdReopen = "reopen" // reopen log files
)

// workerStats is what a worker reports in each heartbeat (and what a status
// view shows per worker).
type workerStats struct {
	Requests      int64         // requests started since the worker began
	InFlight      int           // requests running now
	OldestRequest time.Duration // age of the oldest running request
}

// WorkerInfo names one worker process for hooks and logs.
type WorkerInfo struct {
	ID         int // unique for the master's lifetime, starting at 1
	Generation int // 1 at start-up, incremented by every reload (HUP)
	PID        int // 0 before the process exists
}
