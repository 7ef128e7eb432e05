package appconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// sourceCase is one value of one server setting, given by each of its four sources. Every
// name, value and expected result is written by hand, never taken from the settings
// table: the table is what is under test.
type sourceCase struct {
	key, variable, flag string // server.KEY in config.yaml, APP_SERVER_*, --flag
	value               string
	want                string // the --print-config line it gives; "" when refused
	rule                string // what every source's refusal says
}

var sourceCases = []sourceCase{
	// backlog: 0 is the default (net/http's zero rule); above 65535 is refused.
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "0", "backlog = 2048", ""},
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "64", "backlog = 64", ""},
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "65535", "backlog = 65535", ""},
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "100000", "", "must be at most 65535"},
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "-1", "", "must be at least 0"},
	{"backlog", "APP_SERVER_BACKLOG", "--backlog", "lots", "", "must be a whole number"},
	// worker_connections: "no limit" is 0, everywhere; -1 is refused everywhere.
	{"worker_connections", "APP_SERVER_WORKER_CONNECTIONS", "--worker-connections", "0", "worker_connections = 0", ""},
	{"worker_connections", "APP_SERVER_WORKER_CONNECTIONS", "--worker-connections", "250", "worker_connections = 250", ""},
	{"worker_connections", "APP_SERVER_WORKER_CONNECTIONS", "--worker-connections", "-1", "", "0 for unlimited"},
	// workers
	{"workers", "APP_SERVER_WORKERS", "--workers", "3", "workers = 3", ""},
	{"workers", "APP_SERVER_WORKERS", "--workers", "0", "", "must be at least 1"},
	{"workers", "APP_SERVER_WORKERS", "--workers", "2000", "", "must be at most 1024"},
	// durations: seconds or Go durations; 0 is off; negative is refused.
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "0", "timeout = 0", ""},
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "45", "timeout = 45", ""},
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "1m", "timeout = 60", ""},
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "0.5", "timeout = 0.5", ""},
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "-1", "", "must be a non-negative number of seconds"},
	{"timeout", "APP_SERVER_TIMEOUT", "--timeout", "soon", "", "must be seconds (e.g. 30, 0.5) or a Go duration"},
	{"graceful_timeout", "APP_SERVER_GRACEFUL_TIMEOUT", "--graceful-timeout", "90s", "graceful_timeout = 90", ""},
	{"graceful_timeout", "APP_SERVER_GRACEFUL_TIMEOUT", "--graceful-timeout", "0", "graceful_timeout = 0", ""},
	{"keep_alive", "APP_SERVER_KEEP_ALIVE", "--keep-alive", "0", "keepalive = 0", ""},
	{"keep_alive", "APP_SERVER_KEEP_ALIVE", "--keep-alive", "2", "keepalive = 2", ""},
	{"shutdown_delay", "APP_SERVER_SHUTDOWN_DELAY", "--shutdown-delay", "5", "shutdown_delay = 5", ""},
	{"shutdown_delay", "APP_SERVER_SHUTDOWN_DELAY", "--shutdown-delay", "-2s", "", "must not be negative"},
	// counts
	{"max_requests", "APP_SERVER_MAX_REQUESTS", "--max-requests", "1000", "max_requests = 1000", ""},
	{"max_requests", "APP_SERVER_MAX_REQUESTS", "--max-requests", "-1", "", "must be at least 0"},
	{"max_requests_jitter", "APP_SERVER_MAX_REQUESTS_JITTER", "--max-requests-jitter", "-1", "", "must be at least 0"},
	// sizes: bytes or a unit, printed so they parse back to the same bytes.
	{"max_worker_memory", "APP_SERVER_MAX_WORKER_MEMORY", "--max-worker-memory", "512MiB", "max_worker_memory = 512MiB", ""},
	{"max_worker_memory", "APP_SERVER_MAX_WORKER_MEMORY", "--max-worker-memory", "1GB", "max_worker_memory = 1000000000", ""},
	{"max_worker_memory", "APP_SERVER_MAX_WORKER_MEMORY", "--max-worker-memory", "0", "max_worker_memory = 0", ""},
	{"max_worker_memory", "APP_SERVER_MAX_WORKER_MEMORY", "--max-worker-memory", "-1", "", "must be a number of bytes"},
	{"max_worker_memory", "APP_SERVER_MAX_WORKER_MEMORY", "--max-worker-memory", "2 parsecs", "", `unknown unit "parsecs"`},
	// the canary: a duration window (0 off), a share of the workers, a ratio of at least 1.
	{"canary_window", "APP_SERVER_CANARY_WINDOW", "--canary-window", "30s", "canary_window = 30", ""},
	{"canary_window", "APP_SERVER_CANARY_WINDOW", "--canary-window", "-5", "", "must be a non-negative number of seconds"},
	{"canary_share", "APP_SERVER_CANARY_SHARE", "--canary-share", "0.25", "canary_share = 0.25", ""},
	{"canary_share", "APP_SERVER_CANARY_SHARE", "--canary-share", "1.5", "", "must be a fraction of the workers from 0 to 1"},
	{"canary_max_latency_ratio", "APP_SERVER_CANARY_MAX_LATENCY_RATIO", "--canary-max-latency-ratio", "2", "canary_max_latency_ratio = 2", ""},
	{"canary_max_latency_ratio", "APP_SERVER_CANARY_MAX_LATENCY_RATIO", "--canary-max-latency-ratio", "0.5", "", "must be a ratio from 1 to 1000"},
	{"canary_max_error_increase", "APP_SERVER_CANARY_MAX_ERROR_INCREASE", "--canary-max-error-increase", "0.5", "canary_max_error_increase = 0.5", ""},
	{"canary_min_requests", "APP_SERVER_CANARY_MIN_REQUESTS", "--canary-min-requests", "some", "", "must be a whole number"},
	// octal modes: one spelling, whatever was written.
	{"bind_mode", "APP_SERVER_BIND_MODE", "--bind-mode", "0660", "bind_mode = 0660", ""},
	{"bind_mode", "APP_SERVER_BIND_MODE", "--bind-mode", "0o640", "bind_mode = 0640", ""},
	{"bind_mode", "APP_SERVER_BIND_MODE", "--bind-mode", "600", "bind_mode = 0600", ""},
	{"bind_mode", "APP_SERVER_BIND_MODE", "--bind-mode", "0999", "", "want an octal mode between 0 and 0777"},
	// words, addresses and lists
	{"protocol", "APP_SERVER_PROTOCOL", "--protocol", "uwsgi", "protocol = uwsgi", ""},
	{"protocol", "APP_SERVER_PROTOCOL", "--protocol", "FastCGI", "protocol = fastcgi", ""},
	{"protocol", "APP_SERVER_PROTOCOL", "--protocol", "spdy", "", "must be one of http, uwsgi, fastcgi"},
	{"forwarded_allow_ips", "APP_SERVER_FORWARDED_ALLOW_IPS", "--forwarded-allow-ips", "10.0.0.0/8", "forwarded_allow_ips = 10.0.0.0/8", ""},
	{"forwarded_allow_ips", "APP_SERVER_FORWARDED_ALLOW_IPS", "--forwarded-allow-ips", "", "forwarded_allow_ips = none", ""},
	{"forwarded_allow_ips", "APP_SERVER_FORWARDED_ALLOW_IPS", "--forwarded-allow-ips", "nginx", "", `"nginx" is not an IP address, a CIDR range or *`},
	{"bind", "APP_SERVER_BIND", "--bind", "127.0.0.1:9001", "bind = 127.0.0.1:9001", ""},
	{"bind", "APP_SERVER_BIND", "--bind", "127.0.0.1:99999", "", "port must be a number from 0 to 65535"},
	{"metrics_bind", "APP_SERVER_METRICS_BIND", "--metrics-bind", "127.0.0.1:9102", "metrics_bind = 127.0.0.1:9102", ""},
	{"metrics_bind", "APP_SERVER_METRICS_BIND", "--metrics-bind", "", "metrics_bind = ", ""},
	{"metrics_bind", "APP_SERVER_METRICS_BIND", "--metrics-bind", "fd://3", "", "must be host:port or unix:/path"},
	{"control_socket", "APP_SERVER_CONTROL_SOCKET", "--control-socket", "/run/demo.sock", "control_socket = /run/demo.sock", ""},
	{"control_socket", "APP_SERVER_CONTROL_SOCKET", "--control-socket", "/run/a\nb", "", "must be a path"},
}

// The four sources of a server setting accept and refuse the same values with the same
// meaning: config.yaml, its APP_SERVER_* variable, the flag and GUNICORN_CMD_ARGS.
func TestEverySourceMeansTheSame(t *testing.T) {
	t.Setenv("PORT", "")
	t.Setenv("WEB_CONCURRENCY", "")
	t.Setenv(prefork.EnvCmdArgs, "")
	for _, tc := range sourceCases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			sources := []struct {
				name  string // what the refusal must name
				value func(t *testing.T) ([]string, error)
			}{
				{"server." + tc.key, func(t *testing.T) ([]string, error) {
					return fromFiles(t, "server:\n  "+tc.key+": "+strconv.Quote(tc.value)+"\n")
				}},
				{tc.variable, func(t *testing.T) ([]string, error) {
					t.Setenv(tc.variable, tc.value)
					return fromFiles(t, "")
				}},
				{tc.flag, func(t *testing.T) ([]string, error) {
					return fromArgs(t, "", []string{tc.flag + "=" + tc.value})
				}},
				{prefork.EnvCmdArgs, func(t *testing.T) ([]string, error) {
					return fromArgs(t, tc.flag+"='"+tc.value+"'", nil)
				}},
			}
			for _, src := range sources {
				lines, err := src.value(t)
				switch {
				case tc.want != "" || tc.rule == "":
					if err != nil {
						t.Errorf("%s %q refused: %v; want %q", src.name, tc.value, err, tc.want)
					} else if !slices.Contains(lines, tc.want) {
						t.Errorf("%s %q: settings lack %q:\n%s", src.name, tc.value, tc.want, strings.Join(lines, "\n"))
					}
				case err == nil:
					t.Errorf("%s %q accepted; want refused: %s", src.name, tc.value, tc.rule)
				case !strings.Contains(err.Error(), tc.rule) || !strings.Contains(err.Error(), src.name):
					t.Errorf("%s %q: error %q, want it to name %s and say %q", src.name, tc.value, err, src.name, tc.rule)
				}
			}
		})
	}
}

// fromFiles loads a configuration directory holding config.yaml as the production entry
// does (the variables set with t.Setenv apply) and returns the runtime's settings.
func fromFiles(t *testing.T, configYAML string) ([]string, error) {
	t.Helper()
	cfg, o, err := loadProduction(t, configYAML)
	if err != nil {
		return nil, err
	}
	check := o.Checker()
	cfg.Server.Validate(check, "server")
	if err := check.Err(); err != nil {
		return nil, err
	}
	pc, err := cfg.Server.Prefork(cfg.Logging)
	if err != nil {
		t.Fatalf("Prefork after Validate: %v", err)
	}
	return pc.Settings()
}

// fromArgs parses a command line (and GUNICORN_CMD_ARGS) over the defaults, as the
// production entry does, and returns the runtime's settings.
func fromArgs(t *testing.T, cmdArgs string, args []string) ([]string, error) {
	t.Helper()
	pc := mustPrefork(t, DefaultServer(), DefaultLogging())
	cl := prefork.CommandLine{Program: "demo", Env: func(k string) string {
		if k == prefork.EnvCmdArgs {
			return cmdArgs
		}
		return ""
	}}
	if _, err := pc.ParseArgs(cl, args); err != nil {
		return nil, err
	}
	return pc.Settings()
}

// Every key of the server section is a setting of the runtime's table, and back.
func TestServerKeysAreTheTable(t *testing.T) {
	var yamlKeys, tableKeys []string
	st := reflect.TypeOf(Server{})
	for i := 0; i < st.NumField(); i++ {
		yamlKeys = append(yamlKeys, yamlName(st.Field(i)))
	}
	for _, k := range prefork.ServerKeys() {
		tableKeys = append(tableKeys, k.Key)
	}
	slices.Sort(yamlKeys)
	slices.Sort(tableKeys)
	if !slices.Equal(yamlKeys, tableKeys) {
		t.Errorf("Server's keys %v, the settings table's %v", yamlKeys, tableKeys)
	}
}

// $PORT and $WEB_CONCURRENCY apply as Gunicorn applies them: as the defaults of bind and
// workers when nothing sets them; when config/ or a flag sets one, one line says which won.
func TestPlatformVariablesAsGunicorn(t *testing.T) {
	t.Setenv(prefork.EnvCmdArgs, "")
	t.Setenv("PORT", "8123")
	t.Setenv("WEB_CONCURRENCY", "3")
	platformLines := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if strings.HasPrefix(l, "PORT=") || strings.HasPrefix(l, "WEB_CONCURRENCY=") {
				out = append(out, l)
			}
		}
		return out
	}
	load := func(t *testing.T, configYAML string) (project, *Origins) {
		t.Helper()
		cfg, o, err := loadProduction(t, configYAML)
		if err != nil {
			t.Fatal(err)
		}
		return cfg, o
	}

	t.Run("nothing sets them", func(t *testing.T) {
		cfg, o := load(t, "")
		if !slices.Equal(cfg.Server.Bind, []string{"0.0.0.0:8123"}) || cfg.Server.Workers != 3 {
			t.Errorf("bind %v workers %d, want 0.0.0.0:8123 and 3", cfg.Server.Bind, cfg.Server.Workers)
		}
		if o.Of("server.bind") != "env PORT" || o.Of("server.workers") != "env WEB_CONCURRENCY" {
			t.Errorf("origins %s, %s", o.Of("server.bind"), o.Of("server.workers"))
		}
		if w := platformLines(o.Warnings()); len(w) != 0 {
			t.Errorf("warnings %q, want none", w)
		}
	})
	t.Run("config sets them", func(t *testing.T) {
		cfg, o := load(t, "server:\n  bind: 127.0.0.1:9001\n  workers: 2\n")
		if !slices.Equal(cfg.Server.Bind, []string{"127.0.0.1:9001"}) || cfg.Server.Workers != 2 {
			t.Errorf("bind %v workers %d, want config.yaml's", cfg.Server.Bind, cfg.Server.Workers)
		}
		cfg.Mode = "production"
		data, err := Encode(&struct {
			project
			Origins *Origins `yaml:"-"`
		}{cfg, o})
		if err != nil {
			t.Fatalf("the configuration does not travel to workers: %v", err)
		}
		var back struct {
			project
			Origins *Origins `yaml:"-"`
		}
		if err := Decode(data, &back); err != nil || !slices.Equal(back.Origins.Warnings(), o.Warnings()) {
			t.Errorf("a worker's warnings %q (%v), the master's %q", back.Origins.Warnings(), err, o.Warnings())
		}
		w := platformLines(o.Warnings())
		if len(w) != 2 || !strings.Contains(w[0], "PORT=8123: not used: server.bind is set by ") || !strings.Contains(w[0], "config.yaml:2") ||
			!strings.Contains(w[1], "WEB_CONCURRENCY=3: not used: server.workers is set by ") {
			t.Errorf("warnings %q, want one line for each variable naming config.yaml's line", w)
		}
	})
	t.Run("a flag sets bind", func(t *testing.T) {
		cfg, o := load(t, "server:\n  bind: 127.0.0.1:9001\n")
		pc := mustPrefork(t, cfg.Server, cfg.Logging)
		p, err := pc.ParseArgs(prefork.CommandLine{Program: "demo"}, []string{"--bind", "127.0.0.1:9002"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Server.FromFlags(pc, p, o, "server"); err != nil {
			t.Fatal(err)
		}
		lines := platformLines(append(o.Warnings(), p.NoEffect()...))
		if len(lines) != 1 || !strings.Contains(lines[0], "PORT=8123") || !strings.Contains(lines[0], "--bind") {
			t.Errorf("lines %q, want one saying --bind won over PORT", lines)
		}
	})
	t.Run("a bad value", func(t *testing.T) {
		t.Setenv("WEB_CONCURRENCY", "lots")
		if _, _, err := loadProduction(t, ""); err == nil || !strings.Contains(err.Error(), `WEB_CONCURRENCY="lots" (server.workers): must be a whole number`) {
			t.Errorf("WEB_CONCURRENCY=lots: %v", err)
		}
	})
}

// loadProduction loads a configuration directory holding configYAML as the production entry
// does: from the disk, with the process's environment (t.Setenv).
func loadProduction(t *testing.T, configYAML string) (project, *Origins, error) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{ConfigFile: configYAML, LoggingFile: loggingYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := project{Server: DefaultServer(), Logging: DefaultLogging()}
	o, err := Load(Source{Dir: dir, Mode: ModeProduction, Env: os.Environ()}, &cfg)
	return cfg, o, err
}

// The server section's defaults are the runtime's (Gunicorn's), written here by hand.
func TestDefaultServerIsTheRuntimes(t *testing.T) {
	want := Server{
		Bind: []string{"127.0.0.1:8000"}, Workers: 1, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second,
		KeepAlive: 5 * time.Second, ForwardedAllowIPs: "127.0.0.1,::1", Backlog: 2048, WorkerConnections: 1000, Protocol: "http",
		CanaryMinRequests: 50, CanaryMaxErrorIncrease: 1, CanaryMaxLatencyRatio: 1.5, CanaryLatencyFloor: 5 * time.Millisecond,
	}
	if got := DefaultServer(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultServer()\n%+v\nwant\n%+v", got, want)
	}
}
