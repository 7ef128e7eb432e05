package prefork

import (
	"log/slog"
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
		cfg *Config // nil: no Config.Reload, keep the current settings
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
	cfg    *Config
	n, old int
}
