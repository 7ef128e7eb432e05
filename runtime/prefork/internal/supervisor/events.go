package supervisor

import (
	"time"
)

// Events the shell steps the supervisor with (supervisor.go). Every field is
// typed: the shell parses the worker's status lines, the wait status and
// the signal before the supervisor sees them, and nothing here is parsed.
type Event interface{ event() }

type (
	EvStart  struct{} // the master has bound its listeners: start workers
	EvTick   struct{} // time passed: deadlines, timeouts, status
	EvSignal struct { // a signal to the master
		Sig Signal
	}
	EvCommand struct { // a control socket command
		Cmd Control
	}
	EvConfigLoaded struct { // answer to LoadConfig
		Loaded *Loaded // nil: no Config.Reload, keep the current settings
		Err    error
	}
	EvStarted struct { // answer to StartWorker: the process runs
		ID, PID int
	}
	EvSpawnFailed struct { // answer to StartWorker: no process
		ID  int
		Err error
	}
	EvReady struct { // the worker's App factory returned: it serves
		ID int
	}
	EvHeartbeat struct { // the worker's periodic report
		ID     int
		Stats  WorkerStats
		Served Served // completed requests, failures and latency, cumulative (a canary's figures)
	}
	EvMetrics struct { // the worker's metrics report, kept by the shell's aggregator
		ID     int
		Report any // opaque here: passed back in a Metrics action
	}
	EvFailed struct { // the worker's App factory failed
		ID  int
		Msg string
	}
	EvExiting struct { // the worker stops on its own (a signal), not told by the master
		ID     int
		Reason string
	}
	EvDumped struct { // the goroutine dump asked for is in the log
		ID int
	}
	EvBadMessage struct { // a status line the shell could not read (logged; the worker is alive)
		ID   int
		Line string
	}
	EvExited struct { // a worker was reaped
		ID   int
		Exit Exit
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
	EvOldServed struct { // a USR2 master: the old master's Served(), for its canary
		Total Served
	}
)

func (EvStart) event()         {}
func (EvTick) event()          {}
func (EvSignal) event()        {}
func (EvCommand) event()       {}
func (EvConfigLoaded) event()  {}
func (EvStarted) event()       {}
func (EvSpawnFailed) event()   {}
func (EvReady) event()         {}
func (EvHeartbeat) event()     {}
func (EvMetrics) event()       {}
func (EvFailed) event()        {}
func (EvExiting) event()       {}
func (EvDumped) event()        {}
func (EvBadMessage) event()    {}
func (EvExited) event()        {}
func (EvFilesChanged) event()  {}
func (EvRSS) event()           {}
func (EvUpgradeFailed) event() {}
func (EvUpgradeReady) event()  {}
func (EvOldServed) event()     {}

// workerEvent is an event about one worker (Step ignores one about a worker it does not know).
type workerEvent interface{ workerID() int }

func (e EvStarted) workerID() int    { return e.ID }
func (e EvReady) workerID() int      { return e.ID }
func (e EvHeartbeat) workerID() int  { return e.ID }
func (e EvMetrics) workerID() int    { return e.ID }
func (e EvFailed) workerID() int     { return e.ID }
func (e EvExiting) workerID() int    { return e.ID }
func (e EvDumped) workerID() int     { return e.ID }
func (e EvBadMessage) workerID() int { return e.ID }
func (e EvExited) workerID() int     { return e.ID }
func (e EvRSS) workerID() int        { return e.ID }

// Signal is a signal to the master, by meaning (the shell maps os.Signal).
type Signal int

const (
	SigTerm Signal = iota + 1 // graceful stop (after ShutdownDelay)
	SigInt                    // quick stop
	SigQuit                   // quick stop
	SigHup                    // reload
	SigTTIN                   // one more worker
	SigTTOU                   // one fewer worker
	SigUSR1                   // reopen log files
	SigUSR2                   // binary upgrade
)

// Signals lists every signal the master handles.
var Signals = []Signal{SigTerm, SigInt, SigQuit, SigHup, SigTTIN, SigTTOU, SigUSR1, SigUSR2}

func (s Signal) String() string {
	if s < SigTerm || s > SigUSR2 {
		return "signal(?)"
	}
	return [...]string{"TERM", "INT", "QUIT", "HUP", "TTIN", "TTOU", "USR1", "USR2"}[s-1]
}

// Control is a control socket command (its wire names are the shell's).
type Control int

const (
	ControlStatus Control = iota // report only
	ControlReload                // as HUP
	ControlTTIN                  // as TTIN
	ControlTTOU                  // as TTOU
)

// signal is the signal a control command stands for (0: none).
func (c Control) signal() Signal {
	return [...]Signal{0, SigHup, SigTTIN, SigTTOU}[c]
}

func (c Control) String() string { return [...]string{"status", "reload", "ttin", "ttou"}[c] }

// Exit is how a reaped worker ended, decided once by the shell from the
// process's wait status.
type Exit struct {
	Code   int        // the exit status; meaningful when Signal is NotSignaled
	Signal SignalKind // whether a signal ended it, and which kind
	Desc   string     // "exit status 2", "signal: killed": for logs and the ChildExit hook only
}

// SignalKind says whether a signal ended a worker.
type SignalKind int

const (
	NotSignaled SignalKind = iota // it exited (Code)
	SignalKill                    // SIGKILL: the OOM killer, an operator, or the master
	SignalOther                   // any other signal (SIGABRT from the master, a segfault...)
)

// Loaded is a configuration the shell loaded for a reload.
type Loaded struct {
	Policy   Policy
	Canary   CanaryPolicy // of this reload and the next
	Settings any          // the shell's whole configuration: opaque here, handed back in ApplyConfig
	Bind     []string     // its listen addresses, when they differ from the running ones (nil: the same)
}

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

// The worker protocol's words. The shell writes and parses the lines; the
// supervisor sees typed events (above) and typed commands (actions.go).

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
	// spread on|off: while on, a response closes its connection if that is
	// older than a moment, so clients come back through the listen queue and
	// a canary gets its share of them
	CmdSpread = "spread"
	// allow <n>: a canary worker in its window serves at most n requests
	// (counted from the first allow); past them it answers with
	// Connection: close and stops accepting until a larger n comes. spread
	// off ends it.
	CmdAllow = "allow"
)
