package supervisor

import (
	"log/slog"
	"strconv"
)

// Action is one thing the shell must do; the shell switches on its type.
type Action interface{ action() }

type (
	// StartWorker starts worker (ID, Generation); answer EvStarted or EvSpawnFailed.
	StartWorker struct {
		Worker      WorkerInfo
		MaxRequests int64 // incl. jitter; 0: none
		Settings    any   // a canary's configuration (EvConfigLoaded's, untouched); nil: the current one
	}
	// Send writes a command to the worker's control pipe.
	Send struct {
		Worker  WorkerInfo
		Command WorkerCommand
	}
	// SignalWorker sends the worker a signal.
	SignalWorker struct {
		Worker WorkerInfo
		Sig    WorkerSignal
	}
	// Log is one line of the master's log.
	Log struct {
		Level slog.Level
		Msg   string
		Attrs []any
	}
	// Notify tells systemd.
	Notify struct {
		What   NotifyKind
		Status string // STATUS= text (NotifyReady, NotifyStatus)
		After  string // what a READY=1 follows (for the debug log)
	}
	// TakeOver ends a USR2 master's start: pid file, MAINPID, READY=1 and
	// "ready <pid>" to the old master.
	TakeOver struct{ Status string }
	// LoadConfig runs Config.Reload; answer EvConfigLoaded.
	LoadConfig struct{}
	// ApplyConfig makes a loaded configuration current (logging, new
	// workers' settings); Settings is EvConfigLoaded's, untouched.
	ApplyConfig struct{ Settings any }
	// CloseListeners stops accepting: the master is stopping.
	CloseListeners struct{}
	// ReopenLogs reopens the master's log files (USR1).
	ReopenLogs struct{}
	// StartUpgrade starts the new master (USR2); answer EvUpgradeReady or EvUpgradeFailed.
	StartUpgrade struct{}
	// KillUpgrade kills the new master of a failed upgrade.
	KillUpgrade struct{}
	// WritePidFile (re)writes the pid file.
	WritePidFile struct{}
	// HandOver: the new master (PID) serves: MAINPID, the sockets are its now.
	HandOver struct{ PID int }
	// HookReady runs Config.WhenReady.
	HookReady struct{}
	// HookChildExit runs Config.ChildExit.
	HookChildExit struct {
		Worker WorkerInfo
		Exit   Exit
	}
	// HookWorkers runs Config.NWorkersChanged.
	HookWorkers struct{ N, Old int }
	// HookReload runs Config.OnReload.
	HookReload struct{}
	// Record counts an outcome for the metrics (Worker when it is about one).
	Record struct {
		What    RecordKind
		Outcome string // a metrics label value: an ExitKind, ReloadComplete, CanaryPromote...
		Reason  string // RecordCanary: why (Reason*)
		Worker  WorkerInfo
	}
	// Metrics hands a worker's metrics report to the shell's aggregator.
	Metrics struct {
		Worker WorkerInfo
		Report any // EvMetrics's, untouched
	}
)

func (StartWorker) action()    {}
func (Send) action()           {}
func (SignalWorker) action()   {}
func (Log) action()            {}
func (Notify) action()         {}
func (TakeOver) action()       {}
func (LoadConfig) action()     {}
func (ApplyConfig) action()    {}
func (CloseListeners) action() {}
func (ReopenLogs) action()     {}
func (StartUpgrade) action()   {}
func (KillUpgrade) action()    {}
func (WritePidFile) action()   {}
func (HandOver) action()       {}
func (HookReady) action()      {}
func (HookChildExit) action()  {}
func (HookWorkers) action()    {}
func (HookReload) action()     {}
func (Record) action()         {}
func (Metrics) action()        {}

// WorkerCommand is a command on a worker's control pipe.
type WorkerCommand struct {
	Verb   CommandVerb
	Stop   bool   // Drain: every worker is stopping, serve the listen backlog first
	On     bool   // Spread: on or off
	Allow  int64  // Allow: the canary worker's requests allowed in the window so far
	Reason string // Dump: why (the worker logs it)
}

// CommandVerb is what a WorkerCommand asks.
type CommandVerb int

const (
	Drain  CommandVerb = iota // stop accepting, finish in-flight requests, exit
	Quit                      // exit at once
	Dump                      // log every goroutine's stack
	Reopen                    // reopen log files
	Spread                    // close older connections after their response (On), or no more
	Allow                     // a canary worker: serve at most Allow requests in the window (see holdCanary)
)

// String is the command's line on the wire (without the newline).
func (c WorkerCommand) String() string {
	switch c.Verb {
	case Drain:
		if c.Stop {
			return CmdDrain + " stop"
		}
		return CmdDrain
	case Quit:
		return CmdQuit
	case Dump:
		return CmdDump + " " + strconv.Quote(c.Reason)
	case Spread:
		if c.On {
			return CmdSpread + " on"
		}
		return CmdSpread + " off"
	case Allow:
		return CmdAllow + " " + strconv.FormatInt(c.Allow, 10)
	}
	return CmdReopen
}

// WorkerSignal is a signal the master sends a worker.
type WorkerSignal int

const (
	Abort WorkerSignal = iota // SIGABRT: the Go runtime dumps every goroutine, then exits
	Kill                      // SIGKILL
)

func (s WorkerSignal) String() string { return [...]string{"ABRT", "KILL"}[s] }

// NotifyKind is what Notify tells systemd.
type NotifyKind int

const (
	NotifyReady NotifyKind = iota
	NotifyReloading
	NotifyStopping
	NotifyStatus
)

func (k NotifyKind) String() string {
	return [...]string{"ready", "reloading", "stopping", "status"}[k]
}

// RecordKind is what a Record counts.
type RecordKind int

const (
	RecordStart   RecordKind = iota // a worker process started
	RecordExit                      // a worker was reaped; Outcome is its ExitKind
	RecordReload                    // a reload (HUP) ended: ReloadComplete, ReloadAbandoned
	RecordUpgrade                   // a binary upgrade (USR2) ended: UpgradeHandedOver, UpgradeFailedOutcome
	RecordCanary                    // a canary was decided: Outcome CanaryPromote or CanaryRollback, Reason why
)

func (k RecordKind) String() string {
	return [...]string{"start", "exit", "reload", "upgrade", "canary"}[k]
}

// Outcomes of reloads and binary upgrades, as metrics labels.
const (
	ReloadComplete       = "complete"
	ReloadAbandoned      = "abandoned"
	UpgradeHandedOver    = "handed_over"
	UpgradeFailedOutcome = "failed"
)

// ExitKind is why a worker ended, in the supervisor's own terms (the label
// values of server_worker_exits_total).
type exitKind string

const (
	ExitBootFailure    exitKind = "boot_failure"      // never became ready (factory error, boot timeout, abandoned generation)
	ExitCrash          exitKind = "crash"             // exited on its own while serving (panic, os.Exit)
	ExitKilled         exitKind = "killed"            // SIGKILL from outside the master (OOM killer, an operator)
	ExitSignal         exitKind = "signal"            // another signal from outside (TERM/INT to the worker itself...)
	ExitTimeout        exitKind = "heartbeat_timeout" // silent for longer than Timeout: killed by the master
	ExitMaxRequests    exitKind = "max_requests"
	ExitMaxMemory      exitKind = "max_memory"
	ExitStuck          exitKind = "stuck_request"
	ExitReload         exitKind = "reload"
	ExitCanaryRollback exitKind = "canary_rollback" // a canary's worker, its generation rolled back
	ExitScaleDown      exitKind = "scale_down"
	ExitShutdown       exitKind = "shutdown" // the master is stopping (TERM, INT, QUIT, a hand-over)
	ExitOther          exitKind = "other"
)

// The label values always exposed (0 until they happen), so alerts never
// see "no data". ExitKind and the outcomes are this package's.
var (
	ExitReasons = []string{string(ExitBootFailure), string(ExitCrash), string(ExitKilled), string(ExitSignal),
		string(ExitTimeout), string(ExitMaxRequests), string(ExitMaxMemory), string(ExitStuck), string(ExitReload),
		string(ExitCanaryRollback), string(ExitScaleDown), string(ExitShutdown), string(ExitOther)}
	ReloadOutcomes  = []string{ReloadComplete, ReloadAbandoned}
	UpgradeOutcomes = []string{UpgradeHandedOver, UpgradeFailedOutcome}
)
