package appconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A secret setting (secret:"true", a DSN) can come from a file, as the official database
// images take FOO_FILE and systemd's LoadCredential= gives $CREDENTIALS_DIRECTORY: the
// value never has to sit in the environment or in config/.
func TestSecretsAsFiles(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://app:s3cret@db/app"
	secret := filepath.Join(dir, "dsn")
	if err := os.WriteFile(secret, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(dir, "creds")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "database.dsn"), []byte(dsn+"?cred=1"), 0o600); err != nil {
		t.Fatal(err)
	}
	withFile := func(key string) map[string]string {
		return map[string]string{ConfigFile: baseYAML + "database:\n  " + key + "\n"}
	}
	for _, tc := range []struct {
		name    string
		env     []string
		files   map[string]string
		want    string // the DSN
		origin  string
		wantErr string
	}{
		{name: "dsn_file in YAML", files: withFile("dsn_file: " + secret), want: dsn, origin: "config/config.yaml:12 (file " + secret + ")"},
		{name: "APP_DATABASE_DSN_FILE", env: []string{"APP_DATABASE_DSN_FILE=" + secret}, want: dsn, origin: "env APP_DATABASE_DSN_FILE (file " + secret + ")"},
		{name: "credential", env: []string{EnvCredentials + "=" + creds}, want: dsn + "?cred=1", origin: "credential database.dsn"},
		{name: "a variable wins over the credential", env: []string{EnvCredentials + "=" + creds, "APP_DATABASE_DSN=" + dsn + "?env=1"}, want: dsn + "?env=1", origin: "env APP_DATABASE_DSN"},
		{name: "the credential wins over YAML", env: []string{EnvCredentials + "=" + creds}, files: withFile("dsn: postgres:///x"), want: dsn + "?cred=1", origin: "credential database.dsn"},
		{name: "no credential for it", env: []string{EnvCredentials + "=" + dir}, want: "", origin: "default"},
		{name: "both the key and its file", files: map[string]string{ConfigFile: baseYAML + "database:\n  dsn: x\n  dsn_file: " + secret + "\n"},
			wantErr: "config/config.yaml:13: database.dsn_file: database.dsn is set too (line 12); keep one"},
		{name: "both variables", env: []string{"APP_DATABASE_DSN=x", "APP_DATABASE_DSN_FILE=" + secret},
			wantErr: "APP_DATABASE_DSN_FILE: APP_DATABASE_DSN is set too; keep one"},
		{name: "missing file", files: withFile("dsn_file: /nonexistent/dsn"),
			wantErr: "config/config.yaml:12: database.dsn_file: open /nonexistent/dsn: no such file or directory"},
		{name: "missing file from a variable", env: []string{"APP_DATABASE_DSN_FILE=/nonexistent/dsn"},
			wantErr: "APP_DATABASE_DSN_FILE (database.dsn): open /nonexistent/dsn: no such file or directory"},
		{name: "no path", files: withFile("dsn_file:"), wantErr: "config/config.yaml:12: database.dsn_file: must be the path of a file holding database.dsn"},
		{name: "only secrets take a file", env: []string{"APP_SERVER_WORKERS_FILE=" + secret}, wantErr: "APP_SERVER_WORKERS_FILE: no such setting"},
		{name: "only secrets take a file in YAML", files: map[string]string{ConfigFile: strings.Replace(baseYAML, "workers: 2", "workers_file: x", 1)},
			wantErr: `unknown key "workers_file" in server`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, o, err := load(t, Source{Env: tc.env}, tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DB.DSN != tc.want || o.Of("database.dsn") != tc.origin {
				t.Errorf("dsn %q from %s, want %q from %s", cfg.DB.DSN, o.Of("database.dsn"), tc.want, tc.origin)
			}
			var out bytes.Buffer
			if err := Print(&out, &cfg, o); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "s3cret") {
				t.Errorf("--print-config shows the password:\n%s", out.String())
			}
		})
	}
	// A relative dsn_file is taken from the configuration directory.
	cfg := project{Server: DefaultServer(), Logging: DefaultLogging()}
	if _, err := Load(Source{Dir: dir, FS: files(withFile("dsn_file: dsn")), DefaultMode: ModeDevelopment}, &cfg); err != nil || cfg.DB.DSN != dsn {
		t.Errorf("relative dsn_file: %q, %v", cfg.DB.DSN, err)
	}
	// A partial reader (deploy-config) never reads a secret.
	var view struct {
		Server Server `yaml:"server"`
		DB     struct {
			DSN string `yaml:"dsn" secret:"true"`
		} `yaml:"database"`
	}
	view.Server = DefaultServer()
	if _, err := Load(Source{Dir: "config", FS: files(withFile("dsn_file: /nonexistent/dsn")), Mode: ModeProduction, Env: []string{"APP_DATABASE_DSN_FILE=/nonexistent/x", EnvCredentials + "=" + creds}, Partial: true}, &view); err != nil || view.DB.DSN != "" {
		t.Errorf("partial reader: dsn %q, %v; want no secret read and no error", view.DB.DSN, err)
	}
}
