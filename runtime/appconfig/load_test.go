package appconfig

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// project is the shape of a generated project's Config.
type project struct {
	Mode    string  `yaml:"-"`
	App     app     `yaml:"app"`
	Server  Server  `yaml:"server"`
	Logging Logging `yaml:"logging"`
	DB      struct {
		DSN string `yaml:"dsn" secret:"true"`
	} `yaml:"database"`
}

type app struct {
	Name         string `yaml:"name"`
	StaticDir    string `yaml:"static_dir"`
	MaxBodyBytes Size   `yaml:"max_body_bytes"`
	Debug        bool   `yaml:"debug"`
}

const baseYAML = `app:
  name: demo
  static_dir: web/static
  max_body_bytes: 1048576
server:
  bind:
    - 127.0.0.1:8000
  workers: 2
  timeout: 30s
  keep_alive: 5s
`

const loggingYAML = "level: info\nformat: text\noutput: stderr\n"

const settingYAML = `development:
  app:
    debug: true
  server:
    workers: 1
production:
  server:
    control_socket: /run/demo/demo.ctl
  logging:
    format: json
source_tree:
  server:
    control_socket: bin/demo.ctl
`

func files(overrides map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		ConfigFile:  {Data: []byte(baseYAML)},
		LoggingFile: {Data: []byte(loggingYAML)},
		SettingFile: {Data: []byte(settingYAML)},
	}
	for name, data := range overrides {
		if data == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func load(t *testing.T, src Source, overrides map[string]string) (project, *Origins, error) {
	t.Helper()
	cfg := project{Server: DefaultServer(), Logging: DefaultLogging()}
	src.Dir, src.FS = "config", files(overrides)
	if src.Mode == "" && src.DefaultMode == "" {
		src.DefaultMode = ModeDevelopment
	}
	o, err := Load(src, &cfg)
	return cfg, o, err
}

func TestLoadOrderAndOrigins(t *testing.T) {
	cfg, o, err := load(t, Source{Mode: ModeProduction, Env: []string{"APP_SERVER_WORKERS=6", "PATH=/bin", "APP_ENV=development"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Workers != 6 || o.Of("server.workers") != "env APP_SERVER_WORKERS" {
		t.Errorf("workers = %d from %s, want 6 from the variable", cfg.Server.Workers, o.Of("server.workers"))
	}
	if cfg.Server.ControlSocket != "/run/demo/demo.ctl" || o.Of("server.control_socket") != "config/setting.yaml:8" {
		t.Errorf("control_socket = %q from %s, want production's from setting.yaml:8", cfg.Server.ControlSocket, o.Of("server.control_socket"))
	}
	if cfg.Logging.Format != "json" || cfg.Logging.Level != "info" || o.Of("logging.level") != "config/logging.yaml:1" {
		t.Errorf("logging = %+v (level from %s)", cfg.Logging, o.Of("logging.level"))
	}
	if cfg.App.Debug || o.Of("server.graceful_timeout") != "default" || cfg.Server.GracefulTimeout != 30*time.Second {
		t.Errorf("development's section applied in production, or a default lost: %+v", cfg)
	}
	if o.Mode() != ModeProduction {
		t.Errorf("Mode = %q: the Source's mode wins over APP_ENV", o.Mode())
	}

	// APP_ENV picks the mode when the Source does not; the source tree applies only then.
	cfg, o, err = load(t, Source{DefaultMode: ModeProduction, Env: []string{"APP_ENV=development"}, SourceTree: true}, nil)
	if err != nil || o.Mode() != ModeDevelopment || !cfg.App.Debug || cfg.Server.ControlSocket != "" {
		t.Errorf("APP_ENV=development: mode %q, debug %v, control_socket %q, err %v", o.Mode(), cfg.App.Debug, cfg.Server.ControlSocket, err)
	}
	cfg, o, _ = load(t, Source{Mode: ModeProduction, SourceTree: true}, nil)
	if cfg.Server.ControlSocket != "bin/demo.ctl" || o.Of("server.control_socket") != "config/setting.yaml:13" {
		t.Errorf("source tree: control_socket %q from %s", cfg.Server.ControlSocket, o.Of("server.control_socket"))
	}
	// APP_SOURCE_TREE=1 says the same; unset or 0 it is an installed copy; anything else
	// is refused, naming the variable.
	for env, want := range map[string]string{"APP_SOURCE_TREE=1": "bin/demo.ctl", "APP_SOURCE_TREE=0": "/run/demo/demo.ctl", "": "/run/demo/demo.ctl"} {
		cfg, _, err = load(t, Source{Mode: ModeProduction, Env: []string{env}}, nil)
		if err != nil || cfg.Server.ControlSocket != want {
			t.Errorf("%q: control_socket %q, err %v; want %q", env, cfg.Server.ControlSocket, err, want)
		}
	}
	if _, _, err = load(t, Source{Mode: ModeProduction, Env: []string{"APP_SOURCE_TREE=yes"}}, nil); err == nil || !strings.Contains(err.Error(), `APP_SOURCE_TREE: must be 1 (run from the project's source tree) or 0, got "yes"`) {
		t.Errorf("APP_SOURCE_TREE=yes: err %v, want the variable and its values named", err)
	}
}

func TestLoadRefusals(t *testing.T) {
	cases := []struct {
		name  string
		src   Source
		files map[string]string
		want  string
	}{
		{"unknown key", Source{}, map[string]string{ConfigFile: baseYAML + "  wrokers: 3\n"},
			`config/config.yaml:11: unknown key "wrokers" in server (did you mean "workers"?)`},
		{"unknown key of the other mode", Source{}, map[string]string{SettingFile: settingYAML + "  app:\n    statc_dir: x\n"},
			`config/setting.yaml:15: unknown key "statc_dir" in app (did you mean "static_dir"?)`},
		{"unknown section", Source{}, map[string]string{SettingFile: "prodution:\n  app: {}\n"},
			`config/setting.yaml:1: unknown section "prodution" (did you mean "production"?)`},
		{"duplicate key", Source{}, map[string]string{ConfigFile: baseYAML + "  workers: 4\n"},
			`config/config.yaml:11: server.workers: set twice (first at line 8); keep one`},
		{"logging in config.yaml", Source{}, map[string]string{ConfigFile: baseYAML + "logging:\n  level: debug\n"},
			`config/config.yaml:11: logging: belongs in config/logging.yaml`},
		{"type error", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "workers: 2", "workers: two", 1)},
			`config/config.yaml:8: server.workers: must be a whole number, got "two"`},
		{"bad duration", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "timeout: 30s", "timeout: 30 seconds", 1)},
			`config/config.yaml:9: server.timeout: must be seconds (e.g. 30, 0.5) or a Go duration (e.g. 30s, 500ms), got "30 seconds"`},
		{"bad size", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "1048576", "1 parsec", 1)},
			`config/config.yaml:4: app.max_body_bytes: unknown unit "parsec"`},
		{"mapping for a value", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "workers: 2", "workers:\n    n: 2", 1)},
			`config/config.yaml:9: server.workers: must be a whole number, got a mapping`},
		{"empty value", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "workers: 2", "workers:", 1)},
			`config/config.yaml:8: server.workers: must be a whole number, got nothing`},
		{"unknown variable", Source{Env: []string{"APP_SERVER_WROKERS=3"}}, nil,
			`APP_SERVER_WROKERS: no such setting (did you mean "APP_SERVER_WORKERS"?)`},
		{"bad variable", Source{Env: []string{"APP_SERVER_TIMEOUT=soon"}}, nil,
			`APP_SERVER_TIMEOUT (server.timeout): must be seconds (e.g. 30, 0.5) or a Go duration (e.g. 30s, 500ms), got "soon"`},
		{"bad APP_ENV", Source{Env: []string{"APP_ENV=prod"}}, nil,
			`APP_ENV: must be development or production, got "prod"`},
		{"indentation, reported where it is", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "  timeout: 30s", "   timeout: 30s", 1)},
			`config/config.yaml:9: indented 3 spaces, deeper than the line above allows`},
		{"deeper indentation", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "  workers: 2", "    workers: 2", 1)},
			`config/config.yaml:8: indented 4 spaces, like the list items above it`},
		{"shallower indentation", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "  keep_alive: 5s", " keep_alive: 5s", 1)},
			`config/config.yaml:10: indented 1 spaces, which matches no enclosing level`},
		{"tab", Source{}, map[string]string{ConfigFile: strings.Replace(baseYAML, "  workers: 2", "\tworkers: 2", 1)},
			`config/config.yaml:8: indented with a tab`},
		{"missing config.yaml", Source{}, map[string]string{ConfigFile: ""},
			`config/config.yaml: not found: run from the project's root, or name the configuration directory with -c DIR`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.src, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("want one line, got %q", err)
			}
		})
	}
}

func TestPartialLeavesUnknownKeysToTheApp(t *testing.T) {
	var view struct {
		Server Server `yaml:"server"`
	}
	view.Server = DefaultServer()
	o, err := Load(Source{Dir: "config", FS: files(map[string]string{ConfigFile: baseYAML + "modules:\n  blog:\n    title: x\n"}), Mode: ModeDevelopment, Env: []string{"APP_MODULES_BLOG_TITLE=y"}, Partial: true}, &view)
	if err != nil {
		t.Fatal(err)
	}
	if view.Server.Workers != 1 || o.Of("server.workers") != "config/setting.yaml:5" {
		t.Errorf("workers = %d from %s", view.Server.Workers, o.Of("server.workers"))
	}
}

// A partial reader still judges the engine's own sections: they are the app's types too.
func TestPartialStillChecksTheEnginesSections(t *testing.T) {
	var view struct {
		Server Server `yaml:"server"`
	}
	for _, tc := range []struct {
		config string
		env    []string
		want   string
	}{
		{baseYAML + "  wrokers: 3\n", nil, `config/config.yaml:11: unknown key "wrokers" in server (did you mean "workers"?)`},
		{baseYAML, []string{"APP_SERVER_KEEPALIVE=3s"}, `APP_SERVER_KEEPALIVE: no such setting (did you mean "APP_SERVER_KEEP_ALIVE"?)`},
	} {
		view.Server = DefaultServer()
		_, err := Load(Source{Dir: "config", FS: files(map[string]string{ConfigFile: tc.config}), Mode: ModeProduction, Env: tc.env, Partial: true}, &view)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %s", err, tc.want)
		}
	}
}

func TestZeroMeansOffInYAMLEnvAndFlags(t *testing.T) {
	yamlZero, _, err := load(t, Source{Env: []string{"APP_SERVER_TIMEOUT=0"}}, map[string]string{ConfigFile: strings.Replace(baseYAML, "keep_alive: 5s", "keep_alive: 0s", 1)})
	if err != nil {
		t.Fatal(err)
	}
	fromFiles := mustPrefork(t, yamlZero.Server, yamlZero.Logging)
	flags := mustPrefork(t, DefaultServer(), DefaultLogging())
	if _, err := flags.ParseArgs(prefork.CommandLine{Program: "demo", Env: func(string) string { return "" }}, []string{"--keep-alive", "0", "-t", "0"}); err != nil {
		t.Fatal(err)
	}
	if fromFiles.KeepAlive != flags.KeepAlive || fromFiles.Timeout != flags.Timeout || flags.KeepAlive >= 0 || flags.Timeout >= 0 {
		t.Errorf("keep_alive/timeout 0 gave %v/%v from YAML and env, %v/%v from flags: want both off (<0)", fromFiles.KeepAlive, fromFiles.Timeout, flags.KeepAlive, flags.Timeout)
	}
}

// server.shutdown_delay reaches the runtime from YAML, a variable and the flag alike.
func TestShutdownDelayMapsOntoTheRuntime(t *testing.T) {
	cfg, o, err := load(t, Source{Env: []string{"APP_SERVER_SHUTDOWN_DELAY=5"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := mustPrefork(t, cfg.Server, cfg.Logging)
	if pc.ShutdownDelay != 5*time.Second || o.Of("server.shutdown_delay") != "env APP_SERVER_SHUTDOWN_DELAY" {
		t.Errorf("env: runtime ShutdownDelay %s from %s, want 5s", pc.ShutdownDelay, o.Of("server.shutdown_delay"))
	}
	p, err := pc.ParseArgs(prefork.CommandLine{Program: "demo", Env: func(string) string { return "" }}, []string{"--shutdown-delay", "8"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Server.FromFlags(pc, p, o, "server"); err != nil {
		t.Fatal(err)
	}
	if pc.ShutdownDelay != 8*time.Second || cfg.Server.ShutdownDelay != 8*time.Second || o.Of("server.shutdown_delay") != "flag --shutdown-delay" {
		t.Errorf("flag: runtime %s, section %s from %s, want 8s from the flag", pc.ShutdownDelay, cfg.Server.ShutdownDelay, o.Of("server.shutdown_delay"))
	}
	if cfg, _, _ := load(t, Source{}, nil); mustPrefork(t, cfg.Server, cfg.Logging).ShutdownDelay > 0 {
		t.Error("the default is no shutdown delay")
	}
}

func TestFromFlagsAndPrint(t *testing.T) {
	cfg, o, err := load(t, Source{Mode: ModeProduction, Env: []string{"APP_DATABASE_DSN=postgres://app:s3cret@db/app"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := mustPrefork(t, cfg.Server, cfg.Logging)
	p, err := pc.ParseArgs(prefork.CommandLine{Program: "demo", Env: func(string) string { return "" }}, []string{"-w", "7", "--keep-alive", "0", "-b", "[::1]:9000", "--access-logfile", "/var/log/demo/access.log", "--log-level", "debug", "--error-logfile", "/var/log/demo/error.log"})
	if err != nil {
		t.Fatal(err)
	}
	// One log: the runtime's follows logging's output, level and format (setting.yaml's json).
	if pc.LogFormat != "json" || pc.ErrorLog != "/var/log/demo/error.log" || pc.LogLevel != "debug" {
		t.Errorf("the runtime's log: format %q, file %q, level %q; want json, the flag's file and level", pc.LogFormat, pc.ErrorLog, pc.LogLevel)
	}
	if err := cfg.Server.FromFlags(pc, p, o, "server"); err != nil {
		t.Fatal(err)
	}
	cfg.Logging.FromFlags(pc, p, o, "logging")
	var out bytes.Buffer
	if err := Print(&out, &cfg, o); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"workers: 7 # flag --workers", "keep_alive: 0s # flag --keep-alive", `bind: ["[::1]:9000"] # flag --bind`,
		"name: demo # config/config.yaml:2", "graceful_timeout: 30s # default", "format: json # config/setting.yaml:10",
		"dsn: postgres://app:xxxxx@db/app # env APP_DATABASE_DSN", `forwarded_allow_ips: 127.0.0.1,::1 # default`,
		"output: /var/log/demo/access.log # flag --access-logfile", "level: debug # flag --log-level",
		"output: /var/log/demo/error.log # flag --error-logfile",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("print lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "s3cret") {
		t.Errorf("the password is printed:\n%s", text)
	}
	// What it prints is a configuration again: read back, it gives the same values.
	var back project
	back.Server, back.Logging = DefaultServer(), DefaultLogging()
	if err := yaml.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("print is not YAML: %v\n%s", err, text)
	}
	if back.Server.Workers != 7 || back.Server.Bind[0] != "[::1]:9000" || back.App.MaxBodyBytes != 1<<20 || back.Logging.Format != "json" {
		t.Errorf("read back: %+v", back)
	}
}

func TestValidateNamesTheOrigin(t *testing.T) {
	cfg, o, err := load(t, Source{Env: []string{"APP_SERVER_WORKERS=0"}}, map[string]string{ConfigFile: strings.Replace(baseYAML, "127.0.0.1:8000", "127.0.0.1:99999", 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := o.Checker()
	cfg.Server.Validate(c, "server")
	cfg.Logging.Level = "loud"
	cfg.Logging.Validate(c, "logging")
	got := c.Err().Error()
	for _, want := range []string{
		`config/config.yaml:7: server.bind: "127.0.0.1:99999": port must be a number from 0 to 65535`,
		`env APP_SERVER_WORKERS: server.workers: must be at least 1, got "0"`,
		`config/logging.yaml:1: logging.level: must be one of debug, info, warning, error, critical, got "loud"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

// A rule between two keys is the runtime's (Config.SettingsConflict), named at the key.
func TestValidateChecksTheRulesBetweenKeys(t *testing.T) {
	cfg, o, err := load(t, Source{Env: []string{"APP_SERVER_METRICS_BIND=127.0.0.1:8000"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := o.Checker()
	cfg.Server.Validate(c, "server")
	want := `env APP_SERVER_METRICS_BIND: server.metrics_bind: must not be one of the app's --bind addresses, got "127.0.0.1:8000"`
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wrokers", "workers"}, {"keepalive", "keep_alive"}, {"timeotu", "timeout"}, {"zzz", ""},
	} {
		got := suggest(tc.in, keys(DefaultServer().typ()))
		if (tc.want == "" && got != "") || (tc.want != "" && got != ` (did you mean "`+tc.want+`"?)`) {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h/db":           "postgres://u:xxxxx@h/db",
		"host=h password=pw dbname=d":    "host=h password=xxxxx dbname=d",
		"postgres:///demo?host=/var/run": "postgres:///demo?host=/var/run",
		"data/demo.db":                   "data/demo.db",
		// The generated factory's cases (it logs the DSN through Mask).
		"postgres://app:s3cret@db.example.com:5432/app?sslmode=require": "postgres://app:xxxxx@db.example.com:5432/app?sslmode=require",
		"postgres://app@/app?host=/var/run/postgresql&password=s3cret":  "postgres://app@/app?host=%2Fvar%2Frun%2Fpostgresql&password=xxxxx",
		"host=/var/run/postgresql dbname=app password=s3cret user=app":  "host=/var/run/postgresql dbname=app password=xxxxx user=app",
		"host=db password='s3 cret' dbname=app":                         "host=db password=xxxxx dbname=app",
		"data/app.db":                                                   "data/app.db",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(Mask(in), "s3") {
			t.Errorf("Mask(%q) leaks the password", in)
		}
	}
}

func (s Server) typ() reflect.Type { return reflect.TypeOf(s) }

// mustPrefork is the runtime's configuration of a section Validate accepted.
func mustPrefork(t *testing.T, s Server, l Logging) prefork.Config {
	t.Helper()
	c, err := s.Prefork(l)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
