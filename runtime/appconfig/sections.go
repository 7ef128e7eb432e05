package appconfig

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Server is the server section of config.yaml: the prefork runtime's settings, with
// Gunicorn's meanings. A zero duration means off, as the flags' 0 does: timeout 0 never
// recycles a silent worker, keep_alive 0 closes each connection after its response,
// graceful_timeout 0 stops workers without waiting.
type Server struct {
	Bind              []string      `yaml:"bind"`
	Workers           int           `yaml:"workers"`
	Timeout           time.Duration `yaml:"timeout"`
	GracefulTimeout   time.Duration `yaml:"graceful_timeout"`
	ShutdownDelay     time.Duration `yaml:"shutdown_delay"` // serve on, unready, after TERM (0: off)
	KeepAlive         time.Duration `yaml:"keep_alive"`
	MaxRequests       int           `yaml:"max_requests"`
	MaxRequestsJitter int           `yaml:"max_requests_jitter"`
	ForwardedAllowIPs string        `yaml:"forwarded_allow_ips"`
	ControlSocket     string        `yaml:"control_socket"`
	Backlog           int           `yaml:"backlog"`
	WorkerConnections int           `yaml:"worker_connections"`
	Protocol          string        `yaml:"protocol"`
	MetricsBind       string        `yaml:"metrics_bind"`
}

// DefaultServer is Gunicorn's defaults, as the runtime applies them.
func DefaultServer() Server {
	return Server{
		Bind:              []string{prefork.DefaultBind},
		Workers:           1,
		Timeout:           prefork.DefaultTimeout,
		GracefulTimeout:   prefork.DefaultGracefulTimeout,
		KeepAlive:         prefork.DefaultKeepAlive,
		ForwardedAllowIPs: "127.0.0.1,::1",
		Backlog:           2048,
		WorkerConnections: 1000,
		Protocol:          "http",
	}
}

// Protocols are what server.protocol takes.
var Protocols = []string{"http", "uwsgi", "fastcgi"}

// Validate checks the section's rules; path is where it sits ("server").
func (s Server) Validate(c *Checker, path string) {
	at := func(key string) string { return path + "." + key }
	c.Check(len(s.Bind) > 0, at("bind"), "needs at least one address")
	for _, b := range s.Bind {
		if err := prefork.CheckBind(b); err != nil {
			c.Check(false, at("bind"), "%q: %v", b, err)
		}
	}
	c.Check(s.Workers >= 1 && s.Workers <= 1024, at("workers"), "must be between 1 and 1024, got %d", s.Workers)
	c.Check(s.MaxRequests >= 0, at("max_requests"), "must not be negative (0: never), got %d", s.MaxRequests)
	c.Check(s.MaxRequestsJitter >= 0, at("max_requests_jitter"), "must not be negative, got %d", s.MaxRequestsJitter)
	c.Check(s.Backlog >= 0, at("backlog"), "must not be negative, got %d", s.Backlog)
	c.Check(s.WorkerConnections >= 1 || s.WorkerConnections == -1, at("worker_connections"), "must be at least 1, or -1 for no limit, got %d", s.WorkerConnections)
	c.Check(slices.Contains(Protocols, s.Protocol), at("protocol"), "must be one of %s, got %q", strings.Join(Protocols, ", "), s.Protocol)
	if s.MetricsBind != "" {
		err := prefork.CheckBind(s.MetricsBind)
		c.Check(err == nil && !strings.HasPrefix(s.MetricsBind, "fd://"), at("metrics_bind"), "must be host:port, [ipv6]:port or unix:/path, got %q", s.MetricsBind)
		c.Check(!slices.Contains(s.Bind, s.MetricsBind), at("metrics_bind"), "must not be one of bind's addresses, got %q", s.MetricsBind)
	}
	c.Check(!strings.ContainsAny(s.ControlSocket, "\n\x00"), at("control_socket"), "must be a path")
}

// Port is the port of the first host:port of bind; 0 when it binds none.
func (s Server) Port() int {
	for _, b := range s.Bind {
		if p := prefork.BindPort(b); p > 0 {
			return p
		}
	}
	return 0
}

// Logging is logging.yaml: the app's log and the access log.
type Logging struct {
	Level     string    `yaml:"level"`  // debug, info, warning (warn), error, critical
	Format    string    `yaml:"format"` // text or json
	Output    string    `yaml:"output"` // stderr, stdout or a file path
	AccessLog AccessLog `yaml:"access_log"`
}

// AccessLog is the access_log section of logging.yaml.
type AccessLog struct {
	Enabled bool   `yaml:"enabled"`
	Format  string `yaml:"format"` // combined, json or a Gunicorn format string
	Output  string `yaml:"output"` // stdout, stderr or a file path
}

// DefaultLogging is the generated logging.yaml's values.
func DefaultLogging() Logging {
	return Logging{Level: "info", Format: "text", Output: "stderr", AccessLog: AccessLog{Enabled: true, Format: "combined", Output: "stdout"}}
}

// Validate checks the section's rules; path is where it sits ("logging").
func (l Logging) Validate(c *Checker, path string) {
	_, err := prefork.ParseLevel(l.Level)
	c.Check(err == nil, path+".level", "%v, got %q", err, l.Level)
	c.Check(l.Format == "text" || l.Format == "json", path+".format", "must be text or json, got %q", l.Format)
	c.Check(l.Output != "", path+".output", "must be stderr, stdout or a file path")
	c.Check(!l.AccessLog.Enabled || l.AccessLog.Format != "", path+".access_log.format", "must be combined, json or a format string")
	c.Check(!l.AccessLog.Enabled || l.AccessLog.Output != "", path+".access_log.output", "must be stdout, stderr or a file path")
}

// Prefork maps the server section and the access log onto the runtime's configuration.
func (s Server) Prefork(l Logging) prefork.Config {
	return prefork.Config{
		Bind:              slices.Clone(s.Bind),
		Workers:           s.Workers,
		Timeout:           offIfZero(s.Timeout),
		GracefulTimeout:   offIfZero(s.GracefulTimeout),
		ShutdownDelay:     s.ShutdownDelay, // 0 is off for both
		KeepAlive:         offIfZero(s.KeepAlive),
		MaxRequests:       s.MaxRequests,
		MaxRequestsJitter: s.MaxRequestsJitter,
		ForwardedAllowIPs: s.ForwardedAllowIPs,
		ControlSocket:     s.ControlSocket,
		Backlog:           s.Backlog,
		WorkerConnections: s.WorkerConnections,
		Protocol:          s.Protocol,
		MetricsBind:       s.MetricsBind,
		AccessLog:         l.AccessLog.path(),
		AccessLogFormat:   l.AccessLog.format(),
		ErrorLog:          l.errorLog(),
		LogLevel:          l.Level,
		LogFormat:         l.Format,
	}
}

// errorLog maps logging's output onto the runtime's error log: one log, the app's and
// the runtime's lines alike.
func (l Logging) errorLog() string {
	switch l.Output {
	case "stderr", "":
		return "-"
	case "stdout":
		return "/dev/stdout"
	}
	return l.Output
}

// offIfZero maps the configuration's 0 (off) onto the runtime's, where 0 is the default.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// path maps access_log's output onto the runtime's (none when off).
func (a AccessLog) path() string {
	switch {
	case !a.Enabled:
		return ""
	case a.Output == "stdout":
		return "-"
	case a.Output == "stderr":
		return "/dev/stderr"
	}
	return a.Output
}

// format maps "combined" to the runtime's default (Gunicorn's combined format).
func (a AccessLog) format() string {
	if a.Format == "combined" {
		return ""
	}
	return a.Format
}

// flagged ties a key of the server section to the runtime flag that overrides it.
var flagged = []struct {
	key, flag string
	copy      func(s *Server, c *prefork.Config)
}{
	{"bind", "bind", func(s *Server, c *prefork.Config) { s.Bind = slices.Clone(c.Bind) }},
	{"workers", "workers", func(s *Server, c *prefork.Config) { s.Workers = c.Workers }},
	{"timeout", "timeout", func(s *Server, c *prefork.Config) { s.Timeout = max(c.Timeout, 0) }},
	{"graceful_timeout", "graceful-timeout", func(s *Server, c *prefork.Config) { s.GracefulTimeout = max(c.GracefulTimeout, 0) }},
	{"shutdown_delay", "shutdown-delay", func(s *Server, c *prefork.Config) { s.ShutdownDelay = max(c.ShutdownDelay, 0) }},
	{"keep_alive", "keep-alive", func(s *Server, c *prefork.Config) { s.KeepAlive = max(c.KeepAlive, 0) }},
	{"max_requests", "max-requests", func(s *Server, c *prefork.Config) { s.MaxRequests = c.MaxRequests }},
	{"max_requests_jitter", "max-requests-jitter", func(s *Server, c *prefork.Config) { s.MaxRequestsJitter = c.MaxRequestsJitter }},
	{"forwarded_allow_ips", "forwarded-allow-ips", func(s *Server, c *prefork.Config) { s.ForwardedAllowIPs = c.ForwardedAllowIPs }},
	{"control_socket", "control-socket", func(s *Server, c *prefork.Config) { s.ControlSocket = c.ControlSocket }},
	{"backlog", "backlog", func(s *Server, c *prefork.Config) { s.Backlog = c.Backlog }},
	{"worker_connections", "worker-connections", func(s *Server, c *prefork.Config) { s.WorkerConnections = c.WorkerConnections }},
	{"protocol", "protocol", func(s *Server, c *prefork.Config) { s.Protocol = c.Protocol }},
	{"metrics_bind", "metrics-bind", func(s *Server, c *prefork.Config) { s.MetricsBind = c.MetricsBind }},
}

// FromFlags copies back the log settings the command line gave (c after ParseArgs):
// --error-logfile and --log-level set logging's output and level (one log, the app's and
// the runtime's, in logging's format), --access-logfile and --access-logformat what
// access_log sets; so the section and its origins say what runs. path is where the
// section sits.
func (l *Logging) FromFlags(c prefork.Config, o *Origins, path string) {
	if c.Given("error-logfile") {
		switch c.ErrorLog {
		case "-", "/dev/stderr":
			l.Output = "stderr"
		case "/dev/stdout":
			l.Output = "stdout"
		default:
			l.Output = c.ErrorLog
		}
		o.Set(path+".output", "flag --error-logfile")
	}
	if c.Given("log-level") {
		l.Level = c.LogLevel
		o.Set(path+".level", "flag --log-level")
	}
	if c.Given("access-logfile") {
		l.AccessLog.Enabled = c.AccessLog != ""
		switch c.AccessLog {
		case "-":
			l.AccessLog.Output = "stdout"
		case "/dev/stderr":
			l.AccessLog.Output = "stderr"
		case "":
		default:
			l.AccessLog.Output = c.AccessLog
		}
		o.Set(path+".access_log.enabled", "flag --access-logfile")
		o.Set(path+".access_log.output", "flag --access-logfile")
	}
	if c.Given("access-logformat") {
		l.AccessLog.Format = c.AccessLogFormat
		if l.AccessLog.Format == "" {
			l.AccessLog.Format = "combined"
		}
		o.Set(path+".access_log.format", "flag --access-logformat")
	}
}

// FromFlags copies back the values the command line gave (c after ParseArgs), so the
// section and its origins say what the server runs with; path is where the section sits.
func (s *Server) FromFlags(c prefork.Config, o *Origins, path string) {
	for _, f := range flagged {
		if c.Given(f.flag) {
			f.copy(s, &c)
			o.Set(path+"."+f.key, "flag --"+f.flag)
		}
	}
}

var rootPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// RootPathRule is app.root_path's rule; ValidRootPath applies it. The value also stays
// safe inside nginx's location directives.
const RootPathRule = "must be empty or a path such as /shop (segments of letters, digits and ._~-, no trailing slash)"

// ValidRootPath reports whether p, a URL path the app is mounted under, keeps RootPathRule.
func ValidRootPath(p string) bool { return p == "" || rootPath.MatchString(p) }
