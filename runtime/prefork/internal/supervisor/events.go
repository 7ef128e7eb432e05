package supervisor

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// Events the loop steps the supervisor with (supervisor.go).
type Event any

type (
	EvStart  struct{} // the master has bound its listeners: start workers
	EvTick   struct{} // time passed: deadlines, timeouts, status
	EvSignal struct {
		Name string // TERM, INT, QUIT, HUP, TTIN, TTOU, USR1, USR2
	}
	EvCommand struct {
		Cmd string // a control socket command (ControlReload...)
	}
	EvConfigLoaded struct { // answer to DoLoadConfig
		Cfg *Policy // nil: no Config.Reload, keep the current settings
		Err error
	}
	EvStarted struct { // answer to DoSpawn: the process runs
		ID, PID int
	}
	EvSpawnFailed struct { // answer to DoSpawn: no process
		ID  int
		Err error
	}
	EvMessage struct { // one line on a worker's status pipe
		ID   int
		Line string
	}
	EvExited struct { // a worker was reaped
		ID     int
		Status string // "exit status 0", "signal: killed"...
	}
	EvFilesChanged struct { // --reload: the binary or a --reload-extra-file changed and settled
		Files []string
	}
	EvRSS struct { // a worker's resident memory was read
		ID    int
		Bytes int64
	}
	EvUpgradeFailed struct { // the new master of a USR2 upgrade did not become ready
		Why     string
		Started bool // false: it never started (already logged)
	}
	EvUpgradeReady struct { // the new master of a USR2 upgrade serves
		PID  int
		Took time.Duration
	}
)

// actKind is what an action asks of the loop.
type actKind int

const (
	DoSpawn          actKind = iota // start worker (ID, Generation) with maxReq; answer EvStarted or EvSpawnFailed
	DoSend                          // write command arg to the worker's control pipe
	DoSignal                        // send the worker signal arg: ABRT or KILL
	DoLog                           // log text at level with attrs
	DoNotify                        // tell systemd arg (notifyReady...) with status text
	DoLoadConfig                    // run Config.Reload; answer EvConfigLoaded
	DoApplyConfig                   // the new configuration cfg: logging, new workers' settings
	DoCloseListeners                // stop accepting: the master is stopping
	DoReopenLogs                    // reopen the master's log files (USR1)
	DoStartUpgrade                  // start the new master (USR2); answer EvUpgradeReady or EvUpgradeFailed
	DoKillUpgrade                   // kill the new master of a failed upgrade
	DoWritePidFile                  // (re)write the pid file
	DoHandOver                      // the new master (pid n) serves: MAINPID=n, sockets are its now
	DoHookReady                     // Config.WhenReady
	DoHookChildExit                 // Config.ChildExit(worker, text)
	DoHookWorkers                   // Config.NWorkersChanged(n, old)
	DoHookReload                    // Config.OnReload
	DoRecord                        // count an outcome for the metrics: arg is what (RecordStart...), text the outcome; worker when it is about one
	DoMetrics                       // the worker's metrics report text (a "metrics" status line) for the shell's aggregator
)

// What DoRecord counts.
const (
	RecordStart   = "start"   // a worker process started
	RecordExit    = "exit"    // a worker was reaped; text is its ExitKind
	RecordReload  = "reload"  // a reload (HUP) ended: reloadComplete, reloadAbandoned
	RecordUpgrade = "upgrade" // a binary upgrade (USR2) ended: upgradeHandedOver, upgradeFailedOutcome
)

// Outcomes of reloads and binary upgrades, as metrics labels.
const (
	ReloadComplete       = "complete"
	ReloadAbandoned      = "abandoned"
	UpgradeHandedOver    = "handed_over"
	UpgradeFailedOutcome = "failed"
)

// ExitKind is why a worker ended, in the supervisor's own terms (the label
// values of prefork_worker_exits_total).
type exitKind string

const (
	ExitBootFailure exitKind = "boot_failure"      // never became ready (factory error, boot timeout, abandoned generation)
	ExitCrash       exitKind = "crash"             // exited on its own while serving (panic, os.Exit)
	ExitKilled      exitKind = "killed"            // SIGKILL from outside the master (OOM killer, an operator)
	ExitSignal      exitKind = "signal"            // another signal from outside (TERM/INT to the worker itself...)
	ExitTimeout     exitKind = "heartbeat_timeout" // silent for longer than Timeout: killed by the master
	ExitMaxRequests exitKind = "max_requests"
	ExitMaxMemory   exitKind = "max_memory"
	ExitStuck       exitKind = "stuck_request"
	ExitReload      exitKind = "reload"
	ExitScaleDown   exitKind = "scale_down"
	ExitShutdown    exitKind = "shutdown" // the master is stopping (TERM, INT, QUIT, a hand-over)
	ExitOther       exitKind = "other"
)

// What DoNotify tells systemd.
const (
	NotifyReady     = "ready"
	NotifyReloading = "reloading"
	NotifyStopping  = "stopping"
	NotifyStatus    = "status"
)

// action is one thing for the loop to do; which fields matter depends on kind.
type Action struct {
	Kind   actKind
	Worker WorkerInfo
	MaxReq int64
	Arg    string
	Text   string
	Level  slog.Level
	Attrs  []any
	N, Old int
}

// The supervisor's queries and small helpers.

// Serving reports whether the target number of workers is ready and no
// stop has begun: the service's readiness.
func (s *Supervisor) Serving() bool {
	return s.stop == running && s.stopAt.IsZero() && s.CountServing() >= s.Target
}

// Done reports whether the master has stopped (every worker reaped).
func (s *Supervisor) Done() bool { return s.stop != running && len(s.Workers) == 0 }

func (s *Supervisor) statusText() string {
	var reqs int64
	for _, w := range s.Workers {
		reqs += w.Stats.Requests
	}
	return fmt.Sprintf("%d workers ready (target %d), generation %d, %d requests served by current workers", s.CountServing(), s.Target, s.Gen, reqs)
}

func (s *Supervisor) CountServing() int { return len(s.inPhase(PhaseReady, PhaseRetiring)) }

func (s *Supervisor) inPhase(ps ...Phase) []*worker {
	var out []*worker
	for _, w := range s.Workers {
		if slices.Contains(ps, w.Phase) {
			out = append(out, w)
		}
	}
	return out
}

func (s *Supervisor) Find(id int) *worker {
	i := slices.IndexFunc(s.Workers, func(w *worker) bool { return w.ID == id })
	if i < 0 {
		return nil
	}
	return s.Workers[i]
}

func (s *Supervisor) remove(w *worker) {
	s.Workers = slices.DeleteFunc(s.Workers, func(x *worker) bool { return x == w })
}

func (s *Supervisor) do(a Action) { s.out = append(s.out, a) }

// record counts one outcome for the metrics (w may be nil).
func (s *Supervisor) record(w *worker, what, outcome string) {
	a := Action{Kind: DoRecord, Arg: what, Text: outcome}
	if w != nil {
		a.Worker = w.WorkerInfo
	}
	s.do(a)
}

func (s *Supervisor) log(level slog.Level, msg string, attrs ...any) {
	s.do(Action{Kind: DoLog, Level: level, Text: msg, Attrs: attrs})
}

// logw logs about one worker.
func (s *Supervisor) logw(level slog.Level, msg string, w *worker, attrs []any) {
	s.log(level, msg, append([]any{"worker", w.ID, "generation", w.Generation, "pid", w.PID}, attrs...)...)
}

// dur is how the runtime logs a duration: one readable unit, rounded.
func Dur(d time.Duration) string { return d.Round(time.Millisecond).String() }

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
	MsgReady     = "ready"
	MsgHeartbeat = "hb"      // hb <requests> <in-flight> <oldest-ms>
	MsgMetrics   = "metrics" // metrics <metricsSnapshot.encode()>: cumulative counts, just before hb (runtime/prefork, observe.go)
	MsgFail      = "fail"    // fail <quoted error>: the App factory failed
	MsgDumped    = "dumped"  // the goroutine dump asked for is in the log
	MsgExiting   = "exiting" // exiting <quoted reason>: stopping on its own (a signal), not told by the master
)

// Commands on the control pipe (master to worker), one per line.
const (
	CmdDrain  = "drain"  // drain [stop]: stop accepting, finish in-flight requests, exit; "stop": all workers are stopping, serve the listen backlog first
	CmdQuit   = "quit"   // exit at once
	CmdDump   = "dump"   // dump <quoted reason>: log every goroutine's stack
	CmdReopen = "reopen" // reopen log files
)

// workerStats is what a worker reports in each heartbeat (and what a status
// view shows per worker).
type WorkerStats struct {
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

// Control commands understood by the control socket. The status
// subcommand of a generated binary maps scale-up/scale-down to ttin/ttou.
const (
	ControlStatus = "status"
	ControlReload = "reload"
	ControlTTIN   = "ttin"
	ControlTTOU   = "ttou"
)

// FormatBytes renders a size for humans (status table, logs).
func FormatBytes(n int64) string {
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

// HeartbeatFor is how often a worker reports to the master under a timeout: a
// second, or a quarter of a shorter timeout, never under 10ms.
func HeartbeatFor(timeout time.Duration) time.Duration {
	iv := time.Second
	if timeout > 0 && timeout/4 < iv {
		iv = timeout / 4
	}
	if iv < 10*time.Millisecond {
		iv = 10 * time.Millisecond
	}
	return iv
}

// The label values always exposed (0 until they happen), so alerts never
// see "no data". ExitKind and the outcomes are this package's.
var (
	ExitReasons = []string{string(ExitBootFailure), string(ExitCrash), string(ExitKilled), string(ExitSignal),
		string(ExitTimeout), string(ExitMaxRequests), string(ExitMaxMemory), string(ExitStuck), string(ExitReload),
		string(ExitScaleDown), string(ExitShutdown), string(ExitOther)}
	ReloadOutcomes  = []string{ReloadComplete, ReloadAbandoned}
	UpgradeOutcomes = []string{UpgradeHandedOver, UpgradeFailedOutcome}
)
