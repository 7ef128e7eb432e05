package devrun

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// DefaultBind is used when neither -b nor the project's configuration names an address.
const DefaultBind = "127.0.0.1:8000"

// projectSettings is what the runner reads from the project's configuration: where to
// listen, which directory the app serves from disk, and the production control socket.
type projectSettings struct {
	Bind          string // first server.bind entry, "" when none
	StaticDir     string // app.static_dir relative to the project, slash-separated; "" when none or outside it
	ControlSocket string // server.control_socket, "" when none
}

// projectView is the part of the project's factory.Config the runner uses: the same YAML
// names and types, read by the project's own engine, so the values are the app's.
type projectView struct {
	App struct {
		StaticDir string `yaml:"static_dir"`
	} `yaml:"app"`
	Server appconfig.Server `yaml:"server"`
}

// readProjectSettings reads the project in dir as its entry does in mode, from its root,
// with env (KEY=value pairs) as the app's environment. A folder without config/config.yaml
// gives no settings.
func readProjectSettings(dir, mode string, env []string) (projectSettings, error) {
	var s projectSettings
	configDir := filepath.Join(dir, "config")
	if _, err := os.Stat(filepath.Join(configDir, appconfig.ConfigFile)); errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	var v projectView
	v.App.StaticDir = "web/static"
	v.Server = appconfig.DefaultServer()
	v.Server.Bind = nil
	_, err := appconfig.Load(appconfig.Source{
		// scaffold run runs the project from its source tree, and tells the entry so (withSourceTree).
		Dir: configDir, DefaultMode: mode, Env: env, SourceTree: true, Partial: true,
	}, &v)
	if err != nil {
		return s, err
	}
	if len(v.Server.Bind) > 0 {
		s.Bind = v.Server.Bind[0]
	}
	s.ControlSocket = v.Server.ControlSocket
	if v.App.StaticDir != "" && !filepath.IsAbs(v.App.StaticDir) {
		s.StaticDir = filepath.ToSlash(filepath.Clean(v.App.StaticDir))
	}
	return s, nil
}

// withSourceTree is env with APP_SOURCE_TREE=1 unless it sets the variable itself: the
// entry scaffold run starts is in the project's source tree, as under `make run` and
// `make serve`, and reads .env and setting.yaml's source_tree section.
func withSourceTree(env []string) []string {
	if hasEnv(env, appconfig.EnvSourceTree) {
		return env
	}
	return append(env, appconfig.EnvSourceTree+"=1")
}
