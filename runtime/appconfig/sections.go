package appconfig

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Server is the server section of config.yaml: the prefork runtime's settings, with
// Gunicorn's meanings. Its keys are the runtime's settings table's (prefork.ServerKeys),
// and every value passes through the setting's one rule, as its flag does: a zero
// duration means off (timeout 0 never recycles a silent worker, keep_alive 0 closes each
// connection after its response), worker_connections 0 means no limit, backlog 0 the
// default.
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
	MaxWorkerMemory   Size          `yaml:"max_worker_memory"` // recycle a worker above this RSS (0: never)
	BindMode          string        `yaml:"bind_mode"`         // octal mode of bound unix sockets ("": by umask)

	// A reload's canary (0: off): the new generation serves beside the current one
	// for canary_window, then is promoted or rolled back on its errors and latency.
	CanaryWindow           time.Duration `yaml:"canary_window"`
	CanaryShare            float64       `yaml:"canary_share"`
	CanaryMinRequests      int           `yaml:"canary_min_requests"`
	CanaryMaxErrorIncrease float64       `yaml:"canary_max_error_increase"`
	CanaryMaxLatencyRatio  float64       `yaml:"canary_max_latency_ratio"`
	CanaryLatencyFloor     time.Duration `yaml:"canary_latency_floor"`
}

// DefaultServer is the runtime's defaults for config.yaml (prefork.ServerDefaults).
func DefaultServer() Server {
	var s Server
	v := reflect.ValueOf(&s).Elem()
	defaults := prefork.ServerDefaults()
	for _, k := range prefork.ServerKeys() {
		if err := setLeaf(serverField(v, k.Key), defaults[k.Key], true); err != nil {
			panic("appconfig: the runtime's default of server." + k.Key + ": " + err.Error())
		}
	}
	return s
}

// Validate checks the section's rules, each key by its setting's one rule in the
// runtime's settings table; path is where it sits ("server").
func (s Server) Validate(c *Checker, path string) {
	at := func(key string) string { return path + "." + key }
	c.Check(len(s.Bind) > 0, at("bind"), "needs at least one address")
	v := reflect.ValueOf(s)
	for _, k := range prefork.ServerKeys() {
		f := serverField(v, k.Key)
		if f.Kind() == reflect.Slice {
			for _, item := range spell(f) { // a list: each item by the rule, named
				var probe prefork.Config
				if err := probe.SetSetting(k.Flag, item); err != nil {
					c.Check(false, at(k.Key), "%q: %v", item, err)
				}
			}
			continue
		}
		var probe prefork.Config
		if err := probe.SetSetting(k.Flag, spell(f)...); err != nil {
			c.Check(false, at(k.Key), "%v, got %q", err, spell(f)[0])
		}
	}
	if p, err := s.Prefork(Logging{}); err == nil { // each key's own rule passed: now the rules between keys
		if long, rule := p.SettingsConflict(); rule != "" {
			c.Check(false, at(keyOf(long)), "%s, got %q", rule, p.SettingValue(long))
		}
	}
}

// keyOf is the server section's key of the setting with this long flag.
func keyOf(long string) string {
	for _, k := range prefork.ServerKeys() {
		if k.Flag == long {
			return k.Key
		}
	}
	return long
}

// serverField is the field of Server (a reflect.Value of one) keyed key; the settings
// table and Server agree (TestServerKeysAreTheTable).
func serverField(v reflect.Value, key string) reflect.Value {
	f, ok := fieldByName(v, key)
	if !ok {
		panic("appconfig: Server has no key " + key)
	}
	return f
}

// spell writes a field's value as its flag takes it: the values a list holds, a
// duration as Go writes it, a size in bytes.
func spell(f reflect.Value) []string {
	switch {
	case f.Type() == durationType:
		return []string{time.Duration(f.Int()).String()}
	case f.Kind() == reflect.Slice:
		return slices.Clone(f.Interface().([]string))
	case f.CanInt():
		return []string{strconv.FormatInt(f.Int(), 10)}
	case f.CanFloat():
		return []string{strconv.FormatFloat(f.Float(), 'f', -1, 64)}
	}
	return []string{f.String()}
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

// Prefork maps the server section and the access log onto the runtime's configuration,
// each key through its setting's rule (as Validate checks them).
func (s Server) Prefork(l Logging) (prefork.Config, error) {
	var c prefork.Config
	for _, ls := range logSettings {
		if v := ls.to(l); v != "" { // "" is the setting's zero: its default
			if err := c.SetSetting(ls.flag, v); err != nil {
				return c, fmt.Errorf("logging: %v", err)
			}
		}
	}
	c.LogFormat = l.Format
	v := reflect.ValueOf(s)
	for _, k := range prefork.ServerKeys() {
		if err := c.SetSetting(k.Flag, spell(serverField(v, k.Key))...); err != nil {
			return c, fmt.Errorf("server.%s: %v", k.Key, err)
		}
	}
	return c, nil
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

// logSettings ties logging.yaml's keys to the runtime settings they set, both ways: one
// row per setting, read by Prefork (section to runtime) and FromFlags (a flag back to
// the section). log format has no flag; Prefork sets it as is.
var logSettings = []struct {
	flag string   // the runtime setting's long flag
	keys []string // the keys of logging.yaml it stands for
	to   func(Logging) string
	from func(l *Logging, v string)
}{
	{"error-logfile", []string{"output"}, Logging.errorLog, func(l *Logging, v string) {
		switch v {
		case "-", "/dev/stderr":
			l.Output = "stderr"
		case "/dev/stdout":
			l.Output = "stdout"
		default:
			l.Output = v
		}
	}},
	{"log-level", []string{"level"}, func(l Logging) string { return l.Level }, func(l *Logging, v string) { l.Level = v }},
	{"access-logfile", []string{"access_log.enabled", "access_log.output"}, func(l Logging) string { return l.AccessLog.path() }, func(l *Logging, v string) {
		l.AccessLog.Enabled = v != ""
		switch v {
		case "-":
			l.AccessLog.Output = "stdout"
		case "/dev/stderr":
			l.AccessLog.Output = "stderr"
		case "":
		default:
			l.AccessLog.Output = v
		}
	}},
	{"access-logformat", []string{"access_log.format"}, func(l Logging) string { return l.AccessLog.format() }, func(l *Logging, v string) {
		if l.AccessLog.Format = v; v == "" {
			l.AccessLog.Format = "combined"
		}
	}},
}

// FromFlags copies back the log settings the command line gave (c after ParseArgs, p
// what it returned), each by its logSettings row: --error-logfile and --log-level set logging's output and
// level (one log, the app's and the runtime's, in logging's format), --access-logfile
// and --access-logformat what access_log sets; so the section and its origins say what
// runs. path is where the section sits.
func (l *Logging) FromFlags(c prefork.Config, p *prefork.Parsed, o *Origins, path string) {
	for _, s := range logSettings {
		if !p.Given(s.flag) {
			continue
		}
		s.from(l, c.SettingValue(s.flag))
		for _, k := range s.keys {
			o.Set(path+"."+k, "flag --"+s.flag)
		}
	}
}

// FromFlags copies back the values the command line gave (c after ParseArgs, p what it
// returned), so the
// section and its origins say what the server runs with, in the setting's one spelling;
// path is where the section sits.
func (s *Server) FromFlags(c prefork.Config, p *prefork.Parsed, o *Origins, path string) error {
	v := reflect.ValueOf(s).Elem()
	for _, k := range prefork.ServerKeys() {
		if !p.Given(k.Flag) {
			continue
		}
		if err := setLeaf(serverField(v, k.Key), c.SettingValue(k.Flag), true); err != nil {
			return fmt.Errorf("%s.%s: %v", path, k.Key, err)
		}
		o.Set(path+"."+k.Key, "flag --"+k.Flag)
	}
	return nil
}

var rootPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// RootPathRule is app.root_path's rule; ValidRootPath applies it. The value also stays
// safe inside nginx's location directives.
const RootPathRule = "must be empty or a path such as /shop (segments of letters, digits and ._~-, no trailing slash)"

// ValidRootPath reports whether p, a URL path the app is mounted under, keeps RootPathRule.
func ValidRootPath(p string) bool { return p == "" || rootPath.MatchString(p) }
