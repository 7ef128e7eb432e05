package appconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// project writes config/ and scaffold.yaml into a temporary project root, with a .env.
func dotEnvProject(t *testing.T, dotenv string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range map[string]string{
		"config/" + ConfigFile: baseYAML, "config/" + LoggingFile: loggingYAML, "config/" + SettingFile: settingYAML,
		"scaffold.yaml": "name: demo\n", DotEnvFile: dotenv,
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "config")
}

// loadDir loads dir as the project's Makefile runs its entries: with APP_SOURCE_TREE=1.
func loadDir(dir, mode string, env []string) (project, *Origins, error) {
	cfg := project{Server: DefaultServer(), Logging: DefaultLogging()}
	o, err := Load(Source{Dir: dir, Mode: mode, Env: append([]string{EnvSourceTree + "=1"}, env...)}, &cfg)
	return cfg, o, err
}

func TestDotEnvInDevelopment(t *testing.T) {
	dir := dotEnvProject(t, "# local\nexport APP_SERVER_WORKERS=4\nAPP_APP_NAME=\"my demo\" # quoted\nAPP_SERVER_FORWARDED_ALLOW_IPS='*'\nGOFLAGS=-mod=mod\n")
	cfg, o, err := loadDir(dir, ModeDevelopment, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Workers != 4 || o.Of("server.workers") != ".env:2" || cfg.App.Name != "my demo" || cfg.Server.ForwardedAllowIPs != "*" {
		t.Errorf("development: workers %d from %s, name %q, forwarded %q", cfg.Server.Workers, o.Of("server.workers"), cfg.App.Name, cfg.Server.ForwardedAllowIPs)
	}
	// The real environment wins, as with dotenv everywhere.
	cfg, o, _ = loadDir(dir, ModeDevelopment, []string{"APP_SERVER_WORKERS=6"})
	if cfg.Server.Workers != 6 || o.Of("server.workers") != "env APP_SERVER_WORKERS" {
		t.Errorf("real environment: workers %d from %s", cfg.Server.Workers, o.Of("server.workers"))
	}
	// Never in production, never from an install.
	if cfg, _, _ := loadDir(dir, ModeProduction, nil); cfg.Server.Workers != 2 {
		t.Errorf("production read .env: workers %d", cfg.Server.Workers)
	}
	// Without APP_SOURCE_TREE=1, scaffold.yaml beside config/ does not make it a source tree.
	installed := project{Server: DefaultServer(), Logging: DefaultLogging()}
	if _, err := Load(Source{Dir: dir, Mode: ModeDevelopment}, &installed); err != nil || installed.Server.Workers != 1 {
		t.Errorf("read .env without APP_SOURCE_TREE=1: workers %d, %v", installed.Server.Workers, err)
	}
}

func TestDotEnvRefusals(t *testing.T) {
	for dotenv, want := range map[string]string{
		"APP_SERVER_WORKERS=2\nAPP_SERVER_WROKERS=3\n": `.env:2: APP_SERVER_WROKERS: no such setting (did you mean "APP_SERVER_WORKERS"?)`,
		"APP_SERVER_TIMEOUT=soon\n":                    `.env:1: APP_SERVER_TIMEOUT (server.timeout): must be seconds`,
		"APP_SERVER_WORKERS\n":                         `.env:1: must be KEY=value, got "APP_SERVER_WORKERS"`,
		"APP_APP_NAME=\"open\n":                        `.env:1: APP_APP_NAME: a "quoted value needs its closing quote`,
		"APP_APP_NAME='a' b\n":                         `.env:1: APP_APP_NAME: text after the closing quote: "b"`,
		"APP_SERVER_WORKERS=2\nAPP_SERVER_WORKERS=3\n": `.env:2: APP_SERVER_WORKERS: set twice (first at .env:1); keep one`,
	} {
		_, _, err := loadDir(dotEnvProject(t, dotenv), ModeDevelopment, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf(".env %q: error %v, want %s", dotenv, err, want)
		}
	}
}
