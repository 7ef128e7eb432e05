package devrun

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// printed is the app's --print-config, read back.
type printed struct {
	App struct {
		StaticDir    string `yaml:"static_dir"`
		MaxBodyBytes int64  `yaml:"max_body_bytes"`
		RootPath     string `yaml:"root_path"`
	} `yaml:"app"`
	Server appconfig.Server `yaml:"server"`
}

// TestAppDeployConfigAndRunnerReadTheSameConfig feeds one configuration to the generated
// app (its --print-config), to deploy-config's reader and to the dev runner's, and
// compares every value the two tools take from it: the app is the reference.
func TestAppDeployConfigAndRunnerReadTheSameConfig(t *testing.T) {
	dir := genProject(t)
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "./wsgi", "./run")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	config, err := os.ReadFile(filepath.Join(dir, "config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		"max_body_bytes: 1048576", "max_body_bytes: 2.5MiB",
		"root_path: \"\"", "root_path: /shop",
		"- 127.0.0.1:8000", "- \"[::1]:9123\"\n    - unix:/tmp/demo-parity.sock",
		"workers: 2", "workers: 5",
		"timeout: 30s", "timeout: 0",
		"graceful_timeout: 30s", "graceful_timeout: 7.5",
		"keep_alive: 5s", "keep_alive: 2500ms",
	).Replace(string(config))
	setting := "development:\n  server:\n    workers: 1\nproduction:\n  app:\n    static_dir: /srv/demo/static\n  server:\n    control_socket: /run/demo/demo.ctl\n    timeout: 45s\n"

	cases := []struct {
		name   string
		config string
	}{
		{"as generated", string(config)},
		{"edited", edited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			project := dir
			write := func(name, data string) {
				if err := os.WriteFile(filepath.Join(project, "config", name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("config.yaml", tc.config)
			if tc.name == "edited" {
				write("setting.yaml", setting)
			}
			// The app as installed: its config/ copied where no scaffold.yaml is beside it,
			// with no APP_* variable (deploy-config reads none).
			installed := filepath.Join(t.TempDir(), "config")
			copyDir(t, filepath.Join(project, "config"), installed)
			app := printConfig(t, bin+"/wsgi", installed, nil)
			got, err := deploy.LoadAppConfig(project)
			if err != nil {
				t.Fatal(err)
			}
			want := deploy.AppConfig{
				StaticDir: app.App.StaticDir, MaxBodyBytes: app.App.MaxBodyBytes, RootPath: app.App.RootPath,
				Workers: app.Server.Workers, Timeout: app.Server.Timeout, GracefulTimeout: app.Server.GracefulTimeout,
				KeepAlive: app.Server.KeepAlive, Port: app.Server.Port(),
			}
			if want.Port == 0 {
				want.Port = 8000 // deploy-config's rule when the app binds no TCP port
			}
			if got != want {
				t.Errorf("deploy-config read %+v\nthe app runs with %+v", got, want)
			}

			// The dev runner, in development and in production mode from the project root,
			// with variables the app reads too; the app as the runner starts it (withSourceTree).
			env := []string{"APP_SERVER_BIND=127.0.0.1:9124", "APP_APP_STATIC_DIR=public", "APP_SERVER_CONTROL_SOCKET=bin/x.ctl"}
			for _, run := range []struct{ mode, bin string }{{appconfig.ModeDevelopment, "run"}, {appconfig.ModeProduction, "wsgi"}} {
				for _, e := range [][]string{nil, env} {
					appEnv := append([]string{"APP_ENV=" + run.mode}, e...)
					app := printConfig(t, bin+"/"+run.bin, filepath.Join(project, "config"), withSourceTree(appEnv))
					s, err := readProjectSettings(project, run.mode, appEnv)
					if err != nil {
						t.Fatal(err)
					}
					want := projectSettings{Bind: app.Server.Bind[0], StaticDir: filepath.ToSlash(filepath.Clean(app.App.StaticDir)), ControlSocket: app.Server.ControlSocket}
					if filepath.IsAbs(app.App.StaticDir) {
						want.StaticDir = ""
					}
					if s != want {
						t.Errorf("%s, env %q: the runner read %+v, the app runs with %+v", run.mode, e, s, want)
					}
				}
			}
		})
	}
}

// printConfig runs the entry's --print-config in the configuration directory dir.
func printConfig(t *testing.T, bin, dir string, env []string) printed {
	t.Helper()
	cmd := exec.Command(bin, "-c", dir, "--print-config")
	cmd.Dir = filepath.Dir(dir)
	cmd.Env = append(cleanEnv(os.Environ()), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --print-config: %v\n%s", bin, err, out)
	}
	p := printed{Server: appconfig.DefaultServer()}
	if err := yaml.Unmarshal(out, &p); err != nil {
		t.Fatalf("--print-config is not YAML: %v\n%s", err, out)
	}
	if p.Server.Timeout < 0 || len(p.Server.Bind) == 0 {
		t.Fatalf("--print-config: %+v", p.Server)
	}
	return p
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A database project's DSN, which deploy-config's units order the service after, is the
// app's too: production's from setting.yaml over config.yaml's.
func TestDeployConfigReadsTheAppsDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	pc, err := project.Generate(project.Options{Name: "demo", Database: state.DatabasePostgres})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Commit(pc.Files, dir, false); err != nil {
		t.Fatal(err)
	}
	setting := "production:\n  database:\n    dsn: postgres://demo@db.internal:5433/demo?sslmode=verify-full\n"
	if err := os.WriteFile(filepath.Join(dir, "config", "setting.yaml"), []byte(setting), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./wsgi")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	installed := filepath.Join(t.TempDir(), "config")
	copyDir(t, filepath.Join(dir, "config"), installed)
	cmd := exec.Command(bin, "-c", installed, "--print-config")
	cmd.Env = cleanEnv(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("--print-config: %v\n%s", err, out)
	}
	var app struct {
		Database struct {
			DSN string `yaml:"dsn"`
		} `yaml:"database"`
	}
	if err := yaml.Unmarshal(out, &app); err != nil {
		t.Fatal(err)
	}
	got, err := deploy.LoadAppConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.DatabaseDSN != app.Database.DSN || app.Database.DSN != "postgres://demo@db.internal:5433/demo?sslmode=verify-full" {
		t.Errorf("deploy-config read database.dsn %q, the app runs with %q", got.DatabaseDSN, app.Database.DSN)
	}
}
