package master

import (
	"log/slog"
	"os"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Config is what the master's shell runs with: the settings, already
// defaulted and checked by the public package (the plain data each worker
// is handed), the octal modes parsed from them once, and the master's hooks.
type Config struct {
	settings.Values
	Hooks
	Modes Modes
}

// Modes are the octal mode settings, parsed once (the public package's
// withDefaults): nothing parses them again.
type Modes struct {
	Umask         os.FileMode // --umask, when UmaskSet (0 is a umask too)
	UmaskSet      bool
	BindMode      os.FileMode // --bind-mode; 0: by umask
	ControlSocket os.FileMode // --control-socket-mode
}

// ParseModes parses v's octal mode settings, the one parse each gets (0:
// leave the mode as created); the error names the setting and its rule.
func ParseModes(v settings.Values) (Modes, error) {
	var m Modes
	for _, s := range []struct {
		name, val string
		p         *os.FileMode
	}{{"umask", v.Umask, &m.Umask}, {"bind-mode", v.BindMode, &m.BindMode}, {"control-socket-mode", v.ControlSocketMode, &m.ControlSocket}} {
		if s.val == "" {
			continue
		}
		m.UmaskSet = m.UmaskSet || s.name == "umask"
		n, err := settings.ParseOctalMode(s.name, s.val, 0o777)
		if err != nil {
			return m, err
		}
		*s.p = os.FileMode(n)
	}
	return m, nil
}

// WorkerInfo names one worker process for hooks and logs.
type WorkerInfo = supervisor.WorkerInfo

// Hooks are the program's funcs the master calls, each optional; the
// public Config documents each (Gunicorn's server hooks).
type Hooks struct {
	// Logger receives the master's log; nil: built from the settings.
	Logger *slog.Logger
	// Reload re-reads the configuration on HUP: the result is defaulted,
	// checked and keeps the hooks it leaves unset (the public package wraps
	// the program's Reload so). An error keeps the current configuration.
	Reload func() (Config, error)
	// OnStarting runs before the master binds; an error stops it.
	OnStarting func() error
	// WhenReady runs once every start-up worker reported ready.
	WhenReady func()
	// PreFork runs just before a worker is started (PID 0).
	PreFork func(w WorkerInfo)
	// ChildExit runs after a worker was reaped, with why it ended.
	ChildExit func(w WorkerInfo, reason string)
	// OnReload runs on HUP, after Reload, before new workers start.
	OnReload func()
	// NWorkersChanged runs when the target worker count changes.
	NWorkersChanged func(newCount, oldCount int)
	// OnExit runs just before Run returns.
	OnExit func()
}

// ApplyUmask sets --umask for the whole process (before anything is bound
// or created), as the public package parsed it.
func ApplyUmask(m Modes) {
	if m.UmaskSet {
		setUmask(int(m.Umask))
	}
}

// canaryOf is the canary policy of c's reloads (a duration stored negative
// for "off" or "none" is zero: no window, no floor).
func canaryOf(c Config) supervisor.CanaryPolicy {
	return supervisor.CanaryPolicy{Window: max(c.CanaryWindow, 0), Share: c.CanaryShare, MinRequests: int64(c.CanaryMinRequests),
		MaxErrorIncrease: c.CanaryMaxErrorIncrease, MaxLatencyRatio: c.CanaryMaxLatencyRatio, LatencyFloor: max(c.CanaryLatencyFloor, 0)}
}

// ReportNoEffect logs, once, each note of the parse (Parsed.NoEffect): a Gunicorn
// setting given that means nothing here; and what part of --http2-cleartext upgrade or
// both Go cannot do. The master and Serve's one process call it at start-up.
func ReportNoEffect(v settings.Values, notes []string, lg *observe.Log) {
	for _, n := range notes {
		lg.Warn("setting has no effect", "setting", n)
	}
	if settings.H2CUpgradeOn(v.HTTP2Cleartext) {
		lg.Warn("http2_cleartext="+v.HTTP2Cleartext+": "+settings.H2CUpgradeNote, "setting", "--http2-cleartext")
	}
}
