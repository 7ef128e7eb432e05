package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AppConfig is what the deploy files take from the project's config/: the production
// values, i.e. config/config.yaml with the production section of config/setting.yaml over it.
type AppConfig struct {
	StaticDir       string        // app.static_dir, relative to the working directory or absolute
	MaxBodyBytes    int64         // app.max_body_bytes
	Workers         int           // server.workers
	Timeout         time.Duration // server.timeout; <= 0 means off
	GracefulTimeout time.Duration // server.graceful_timeout
	Port            int           // port of server.bind's first host:port; 8000 when it binds none
	DatabaseDSN     string        // database.dsn (projects made with --db), "" otherwise
	RootPath        string        // app.root_path: "" or the URL path the app is mounted under
}

// yamlSections mirrors the keys of config.yaml this generator reads; pointers tell a key
// that is absent from one that is zero.
type yamlSections struct {
	App struct {
		StaticDir    *string `yaml:"static_dir"`
		MaxBodyBytes *int64  `yaml:"max_body_bytes"`
		RootPath     *string `yaml:"root_path"`
	} `yaml:"app"`
	Server struct {
		Bind            []string `yaml:"bind"`
		Workers         *int     `yaml:"workers"`
		Timeout         *string  `yaml:"timeout"`
		GracefulTimeout *string  `yaml:"graceful_timeout"`
	} `yaml:"server"`
	Database struct {
		DSN *string `yaml:"dsn"`
	} `yaml:"database"`
}

// LoadAppConfig reads dir/config/config.yaml and the production section of
// dir/config/setting.yaml (which may be absent).
func LoadAppConfig(dir string) (AppConfig, error) { return LoadAppConfigFS(os.DirFS(dir), dir) }

// LoadAppConfigFS is LoadAppConfig for a project seen through fsys; dir names it in errors.
func LoadAppConfigFS(fsys fs.FS, dir string) (AppConfig, error) {
	cfg := AppConfig{StaticDir: "static", MaxBodyBytes: 1 << 20, Workers: 1, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second, Port: 8000}
	base := filepath.Join(dir, "config", "config.yaml")
	data, err := fs.ReadFile(fsys, "config/config.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, fmt.Errorf("%s not found: deploy-config reads the project's config/ (run it inside a project made by `scaffold new`)", base)
	}
	if err != nil {
		return cfg, err
	}
	var sec yamlSections
	if err := yaml.Unmarshal(data, &sec); err != nil {
		return cfg, fmt.Errorf("%s: %v", base, err)
	}
	if err := cfg.apply(base, sec); err != nil {
		return cfg, err
	}
	settings := filepath.Join(dir, "config", "setting.yaml")
	data, err = fs.ReadFile(fsys, "config/setting.yaml")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return cfg, err
	default:
		var modes struct {
			Production yamlSections `yaml:"production"`
		}
		if err := yaml.Unmarshal(data, &modes); err != nil {
			return cfg, fmt.Errorf("%s: %v", settings, err)
		}
		if err := cfg.apply(settings+" (production)", modes.Production); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func (c *AppConfig) apply(file string, s yamlSections) error {
	if s.App.StaticDir != nil {
		if *s.App.StaticDir == "" {
			return fmt.Errorf("%s: app.static_dir: must not be empty", file)
		}
		c.StaticDir = *s.App.StaticDir
	}
	if s.App.MaxBodyBytes != nil {
		if *s.App.MaxBodyBytes < 0 {
			return fmt.Errorf("%s: app.max_body_bytes: must not be negative", file)
		}
		c.MaxBodyBytes = *s.App.MaxBodyBytes
	}
	if s.Server.Bind != nil {
		c.Port = 8000
		for _, b := range s.Server.Bind {
			if _, port, err := net.SplitHostPort(b); err == nil && !strings.Contains(b, "/") {
				if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
					c.Port = n
					break
				}
			}
		}
	}
	if s.App.RootPath != nil {
		if p := *s.App.RootPath; p != "" && !rootPathRule.MatchString(p) {
			return fmt.Errorf("%s: app.root_path: must be empty or a path such as /shop (segments of letters, digits and ._~-, no trailing slash), got %q", file, p)
		}
		c.RootPath = *s.App.RootPath
	}
	if s.Server.Workers != nil {
		c.Workers = *s.Server.Workers
	}
	if s.Database.DSN != nil {
		c.DatabaseDSN = *s.Database.DSN
	}
	for _, d := range []struct {
		key string
		raw *string
		to  *time.Duration
	}{{"server.timeout", s.Server.Timeout, &c.Timeout}, {"server.graceful_timeout", s.Server.GracefulTimeout, &c.GracefulTimeout}} {
		if d.raw == nil {
			continue
		}
		v, err := parseDuration(*d.raw)
		if err != nil {
			return fmt.Errorf("%s: %s: %v", file, d.key, err)
		}
		*d.to = v
	}
	return nil
}

// rootPathRule is the project's own rule for app.root_path; it also keeps the value safe
// inside nginx's location directives.
var rootPathRule = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// parseDuration accepts what the project's config factory accepts: Go durations ("30s")
// and plain seconds ("30", "0.5").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be a duration such as 30s or a number of seconds, got %q", s)
	}
	return d, nil
}
