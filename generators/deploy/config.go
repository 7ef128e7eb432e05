package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// AppConfig is what the deploy files take from the project's config/: the production
// values, read by the project's own configuration engine (runtime/appconfig, vendored
// into the project as internal/appconfig) in production mode, as an install runs it.
type AppConfig struct {
	StaticDir       string        // app.static_dir, relative to the working directory or absolute
	MaxBodyBytes    int64         // app.max_body_bytes
	Workers         int           // server.workers
	Timeout         time.Duration // server.timeout; 0 means off
	GracefulTimeout time.Duration // server.graceful_timeout
	KeepAlive       time.Duration // server.keep_alive; 0 means off
	Port            int           // port of server.bind's first host:port; 8000 when it binds none
	DatabaseDSN     string        // database.dsn (projects made with --db), "" otherwise
	RootPath        string        // app.root_path: "" or the URL path the app is mounted under
	OTelEndpoint    string        // observability.endpoint: the OTLP/HTTP base URL, "" when unset
	ServiceName     string        // observability.service_name, "" when unset (the project's name)
}

// projectView is the part of a generated project's factory.Config that deploy files
// derive from: the same YAML names and types, so the engine parses each value as the
// app does. Keys it does not have are the app's to judge (appconfig.Source.Partial).
type projectView struct {
	App struct {
		StaticDir    string         `yaml:"static_dir"`
		MaxBodyBytes appconfig.Size `yaml:"max_body_bytes"`
		RootPath     string         `yaml:"root_path"`
	} `yaml:"app"`
	Server   appconfig.Server  `yaml:"server"`
	Logging  appconfig.Logging `yaml:"logging"`
	Database struct {
		DSN string `yaml:"dsn"`
	} `yaml:"database"`
	Observability struct {
		Endpoint    string `yaml:"endpoint"`
		ServiceName string `yaml:"service_name"`
	} `yaml:"observability"`
}

// otelSafe is what an observability value written into a unit, a supervisor line, a
// Containerfile or a manifest may hold: a URL's or a name's characters, nothing quoting
// or whitespace could break out of.
var otelSafe = regexp.MustCompile(`^[A-Za-z0-9._~:/%@+-]*$`)

// LoadAppConfig reads dir/config as the production entry of an install does.
func LoadAppConfig(dir string) (AppConfig, error) { return LoadAppConfigFS(os.DirFS(dir), dir) }

// LoadAppConfigFS is LoadAppConfig for a project seen through fsys; dir names it in
// errors. The environment is not read: the files are for the machine the app runs on.
func LoadAppConfigFS(fsys fs.FS, dir string) (AppConfig, error) {
	var v projectView
	// The generated factory's defaults (factory.Defaults) for keys config/ leaves out.
	v.App.StaticDir, v.App.MaxBodyBytes = "web/static", 1<<20
	v.Server, v.Logging = appconfig.DefaultServer(), appconfig.DefaultLogging()
	configDir := filepath.Join(dir, "config")
	sub, err := fs.Sub(fsys, "config")
	if err != nil {
		return AppConfig{}, err
	}
	if _, err := fs.Stat(sub, appconfig.ConfigFile); errors.Is(err, fs.ErrNotExist) {
		return AppConfig{}, fmt.Errorf("%s not found: deploy-config reads the project's config/ (run it inside a project made by `scaffold new`)", filepath.Join(configDir, appconfig.ConfigFile))
	}
	origins, err := appconfig.Load(appconfig.Source{Dir: configDir, FS: sub, Mode: appconfig.ModeProduction, Partial: true}, &v)
	if err != nil {
		return AppConfig{}, err
	}
	check := origins.Checker()
	v.Server.Validate(check, "server")
	v.Logging.Validate(check, "logging")
	// The app's own rules for the keys the files use (factory/config.go's validate).
	check.Check(v.App.StaticDir != "", "app.static_dir", "must not be empty")
	check.Check(v.App.MaxBodyBytes >= 0, "app.max_body_bytes", "must not be negative, got %d", v.App.MaxBodyBytes)
	check.Check(appconfig.ValidRootPath(v.App.RootPath), "app.root_path", appconfig.RootPathRule+", got %q", v.App.RootPath)
	for _, o := range []struct{ key, value string }{{"endpoint", v.Observability.Endpoint}, {"service_name", v.Observability.ServiceName}} {
		check.Check(otelSafe.MatchString(o.value), "observability."+o.key, "deploy-config writes it into the service's environment: only letters, digits and . _ ~ : / %% @ + -, got %q", o.value)
	}
	if err := check.Err(); err != nil {
		return AppConfig{}, err
	}
	port := v.Server.Port()
	if port == 0 {
		port = 8000
	}
	return AppConfig{
		StaticDir: v.App.StaticDir, MaxBodyBytes: int64(v.App.MaxBodyBytes), RootPath: v.App.RootPath,
		Workers: v.Server.Workers, Timeout: v.Server.Timeout, GracefulTimeout: v.Server.GracefulTimeout,
		KeepAlive: v.Server.KeepAlive, Port: port, DatabaseDSN: v.Database.DSN,
		OTelEndpoint: v.Observability.Endpoint, ServiceName: v.Observability.ServiceName,
	}, nil
}
