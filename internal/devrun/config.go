package devrun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultBind is used when neither -b nor the project's configuration names an address.
const DefaultBind = "127.0.0.1:8000"

// projectSettings is what the runner reads from the project's configuration: where to
// listen and which directory the app serves from disk in development.
type projectSettings struct {
	Bind      string // first server.bind entry, "" when none
	StaticDir string // app.static_dir relative to the project, slash-separated; "" when none
}

// configFile is the subset of config/config.yaml and a mode section of config/setting.yaml
// the runner needs.
type configFile struct {
	App struct {
		StaticDir *string `yaml:"static_dir"`
	} `yaml:"app"`
	Server struct {
		Bind []string `yaml:"bind"`
	} `yaml:"server"`
}

// readProjectSettings applies the project's own load order for development: config.yaml,
// then the development section of setting.yaml, then APP_SERVER_BIND / APP_APP_STATIC_DIR.
func readProjectSettings(dir string) (projectSettings, error) {
	var s projectSettings
	var base configFile
	if err := readYAML(filepath.Join(dir, "config", "config.yaml"), &base); err != nil {
		return s, err
	}
	var modes struct {
		Development configFile `yaml:"development"`
	}
	if err := readYAML(filepath.Join(dir, "config", "setting.yaml"), &modes); err != nil {
		return s, err
	}
	for _, c := range []configFile{base, modes.Development} {
		if len(c.Server.Bind) > 0 {
			s.Bind = c.Server.Bind[0]
		}
		if c.App.StaticDir != nil {
			s.StaticDir = *c.App.StaticDir
		}
	}
	if v, ok := os.LookupEnv("APP_SERVER_BIND"); ok {
		first, _, _ := strings.Cut(v, ",")
		s.Bind = strings.TrimSpace(first)
	}
	if v, ok := os.LookupEnv("APP_APP_STATIC_DIR"); ok {
		s.StaticDir = v
	}
	if s.StaticDir != "" && !filepath.IsAbs(s.StaticDir) {
		s.StaticDir = filepath.ToSlash(filepath.Clean(s.StaticDir))
	} else {
		s.StaticDir = "" // outside the project: nothing of ours to classify as static
	}
	return s, nil
}

// productionControlSocket returns server.control_socket for production mode (config.yaml,
// then the production section of setting.yaml); "" when none is set.
func productionControlSocket(dir string) string {
	type server struct {
		Server struct {
			ControlSocket *string `yaml:"control_socket"`
		} `yaml:"server"`
	}
	var base server
	var modes struct {
		Production server `yaml:"production"`
	}
	readYAML(filepath.Join(dir, "config", "config.yaml"), &base)
	readYAML(filepath.Join(dir, "config", "setting.yaml"), &modes)
	sock := ""
	for _, c := range []server{base, modes.Production} {
		if c.Server.ControlSocket != nil {
			sock = *c.Server.ControlSocket
		}
	}
	return sock
}

// readYAML decodes path into v; a missing file leaves v as it is.
func readYAML(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("devrun: %w", err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("devrun: %s: %w", path, err)
	}
	return nil
}
