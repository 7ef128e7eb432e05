package prefork

import (
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// App builds the application's handler. It runs once in each worker process
// (and once in Serve), like a WSGI import: an error stops that worker, and at
// start-up it stops the master with the error's message.
type App func() (http.Handler, error)

// WorkerInfo names one worker process for hooks and logs.
type WorkerInfo = supervisor.WorkerInfo

// Config is what Run and Serve take: the settings (plain data, which the
// master hands each worker it starts) and the program's hooks (funcs, never
// serialized: each process sets its own). What ParseArgs noted about the
// command line is not part of it (Parsed). A zero field means its documented default; for
// durations and request limits a negative value means "off" (the flags map
// Gunicorn's 0 to that).
type Config struct {
	Values
	Hooks

	// modes are the octal mode settings (internal/master's), parsed once by
	// withDefaults: nothing parses them again, no error is dropped.
	modes master.Modes
}

// Values are the runtime's settings as plain data (internal/settings): what
// the master hands each worker it starts and what a reload replaces. A Config
// literal names them, prefork.Config{Values: prefork.Values{Workers: 4}}, or
// fields are set one by one (cfg.Workers = 4).
type Values = settings.Values

// Hooks are the program's funcs: the App's surroundings and Gunicorn's server
// hooks. They never travel to a worker (each process sets its own), and a
// reload keeps the ones its new Config leaves unset (see keeping).
type Hooks struct {
	// Logger receives the runtime's log. Default: built from ErrorLog,
	// LogLevel and LogFormat.
	Logger *slog.Logger
	// Reload, when set, is called by the master on HUP to re-read the
	// configuration; the new generation of workers runs with the result.
	// An error keeps the current configuration and workers: nothing restarts.
	Reload func() (Config, error)
	// Middleware wraps the app's handler in each worker, first element
	// outermost. Default none.
	Middleware []func(http.Handler) http.Handler
	// LongLived tells which requests may run longer than Timeout by design,
	// so they never get their worker recycled as stuck (they still count as
	// in flight, and drain like any other). Default: WebSocket upgrades and
	// server-sent event streams (DefaultLongLived).
	LongLived func(r *http.Request) bool
	// OnDrain runs in the worker (and in Serve) when it starts draining, on
	// its own goroutine: end long-lived connections (WebSockets, event
	// streams) here, or they are cut at GracefulTimeout.
	OnDrain func()

	// Hooks, named after Gunicorn's server hooks. Each is optional and runs in
	// the process named in its comment.

	// OnStarting runs in the master before it binds; an error stops it.
	OnStarting func() error
	// WhenReady runs in the master once every start-up worker reported ready.
	WhenReady func()
	// PreFork runs in the master just before a worker is started (PID 0).
	PreFork func(w WorkerInfo)
	// PostFork runs in the worker process before the App factory.
	PostFork func(w WorkerInfo)
	// PostWorkerInit runs in the worker after the App factory returned,
	// before the worker reports ready.
	PostWorkerInit func(w WorkerInfo)
	// WorkerExit runs in the worker after it stopped serving, before it exits.
	WorkerExit func(w WorkerInfo)
	// ChildExit runs in the master after a worker was reaped, with the
	// reason it ended.
	ChildExit func(w WorkerInfo, reason string)
	// OnReload runs in the master on HUP, after Reload, before new workers start.
	OnReload func()
	// NWorkersChanged runs in the master when the target worker count changes
	// (TTIN, TTOU, reload).
	NWorkersChanged func(newCount, oldCount int)
	// OnExit runs in the master just before Run returns.
	OnExit func()
}

// keeping is h, a reloaded Config's hooks, with each hook it leaves unset
// taken from old: a Reload that returns only settings keeps the program's
// funcs, and one that sets a hook (a new Logger) replaces it.
func (h Hooks) keeping(old Hooks) Hooks {
	h.Logger = orOld(h.Logger, h.Logger != nil, old.Logger)
	h.Reload = orOld(h.Reload, h.Reload != nil, old.Reload)
	h.Middleware = orOld(h.Middleware, h.Middleware != nil, old.Middleware)
	h.LongLived = orOld(h.LongLived, h.LongLived != nil, old.LongLived)
	h.OnDrain = orOld(h.OnDrain, h.OnDrain != nil, old.OnDrain)
	h.OnStarting = orOld(h.OnStarting, h.OnStarting != nil, old.OnStarting)
	h.WhenReady = orOld(h.WhenReady, h.WhenReady != nil, old.WhenReady)
	h.PreFork = orOld(h.PreFork, h.PreFork != nil, old.PreFork)
	h.PostFork = orOld(h.PostFork, h.PostFork != nil, old.PostFork)
	h.PostWorkerInit = orOld(h.PostWorkerInit, h.PostWorkerInit != nil, old.PostWorkerInit)
	h.WorkerExit = orOld(h.WorkerExit, h.WorkerExit != nil, old.WorkerExit)
	h.ChildExit = orOld(h.ChildExit, h.ChildExit != nil, old.ChildExit)
	h.OnReload = orOld(h.OnReload, h.OnReload != nil, old.OnReload)
	h.NWorkersChanged = orOld(h.NWorkersChanged, h.NWorkersChanged != nil, old.NWorkersChanged)
	h.OnExit = orOld(h.OnExit, h.OnExit != nil, old.OnExit)
	return h
}

func orOld[T any](v T, set bool, old T) T {
	if set {
		return v
	}
	return old
}

// Defaults as documented on Config.
const (
	DefaultTimeout               = settings.DefaultTimeout
	DefaultGracefulTimeout       = settings.DefaultGracefulTimeout
	DefaultKeepAlive             = settings.DefaultKeepAlive
	DefaultReadHeaderTimeout     = settings.DefaultReadHeaderTimeout
	DefaultLimitRequestLine      = settings.DefaultLimitRequestLine
	DefaultLimitRequestFields    = settings.DefaultLimitRequestFields
	DefaultLimitRequestFieldSize = settings.DefaultLimitRequestFieldSize
	DefaultBind                  = settings.DefaultBind
)

// Defaults of the Gunicorn 24..26 settings (settings.GunicornDefaults applies them).
const (
	DefaultBacklog                   = settings.DefaultBacklog
	DefaultWorkerConnections         = settings.DefaultWorkerConnections
	DefaultUwsgiAllowFrom            = settings.DefaultUwsgiAllowFrom
	DefaultHTTPProtocols             = settings.DefaultHTTPProtocols
	DefaultHTTP2MaxConcurrentStreams = settings.DefaultHTTP2MaxConcurrentStreams
	DefaultHTTP2InitialWindowSize    = settings.DefaultHTTP2InitialWindowSize
	DefaultHTTP2MaxFrameSize         = settings.DefaultHTTP2MaxFrameSize
	DefaultHTTP2MaxHeaderListSize    = settings.DefaultHTTP2MaxHeaderListSize
	DefaultForwarderHeaders          = settings.DefaultForwarderHeaders
	DefaultSyslogTo                  = settings.DefaultSyslogTo
	DefaultControlSocketMode         = settings.DefaultControlSocketMode
)

// The modes of --http2-cleartext (Values.HTTP2Cleartext), as Gunicorn 26.2 names them.
const (
	H2COff            = settings.H2COff
	H2CPriorKnowledge = settings.H2CPriorKnowledge
	H2CUpgrade        = settings.H2CUpgrade
	H2CBoth           = settings.H2CBoth
)

// The platform variables Gunicorn reads as the defaults of bind and workers (Heroku and
// other platforms set them). As in Gunicorn they only give the default: a value set in
// Go, in config/ or by a flag wins, and the start-up log says so.
const (
	EnvPort           = settings.EnvPort
	EnvWebConcurrency = settings.EnvWebConcurrency
)

// PlatformDefault is a default a platform variable gives a setting: PORT=8080 is bind
// 0.0.0.0:8080.
type PlatformDefault = settings.PlatformDefault

// PlatformDefaults lists the platform variables that are set (getenv: os.Getenv), each
// with the default it gives; the setting's rule is SetSetting's.
func PlatformDefaults(getenv func(string) string) []PlatformDefault {
	return settings.PlatformDefaults(getenv)
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first invalid setting.
func (c Config) withDefaults() (Config, error) { return c.withDefaultsFrom(os.Getenv) }

// withDefaultsFrom is withDefaults with the platform variables read through getenv.
func (c Config) withDefaultsFrom(getenv func(string) string) (Config, error) {
	if err := settings.ApplyPlatformDefaults(&c.Values, getenv); err != nil { // ParseArgs notes a flag that wins
		return c, err
	}
	settings.Defaults(&c.Values)
	if err := c.productionDefaults(); err != nil {
		return c, err
	}
	if err := settings.GunicornDefaults(&c.Values); err != nil {
		return c, err
	}
	var err error
	if c.modes, err = master.ParseModes(c.Values); err != nil {
		return c, err
	}
	if _, err := serving.ParsePeers(&c.Values); err != nil { // servingConfig parses them for the chain
		return c, err
	}
	return c, settings.Check(&c.Values)
}

// off maps the "negative means off" convention to a zero duration.
func off(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// heartbeatInterval is how often a worker reports to the master.
func (c Config) heartbeatInterval() time.Duration { return supervisor.HeartbeatFor(c.Timeout) }
