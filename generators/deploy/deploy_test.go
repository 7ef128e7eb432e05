package deploy

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testgen"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// newProject writes a generated project named name into a temporary folder.
func newProject(t *testing.T, name string) string {
	t.Helper()
	return newProjectWith(t, project.Options{Name: name})
}

// newProjectWith writes a generated project made with opts into a temporary folder, at the
// path the last project of that name had (internal/testgen), so its builds hit the cache.
func newProjectWith(t *testing.T, opts project.Options) string {
	t.Helper()
	ctx, err := project.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return testgen.Commit(t, ctx.Files, opts.Name)
}

var all = []string{"nginx", "supervisor", "systemd", "logrotate"}

// goldenCases are the option sets whose output is kept under testdata/golden/<name>.
var goldenCases = []struct {
	name string
	opts Options
	db   string // the project's --db; "" for none
}{
	{"default", Options{Targets: all}, ""},
	{"domain", Options{Targets: all, Domains: []string{"shop.example.com", "www.shop.example.com"}}, ""},
	{"https", Options{Targets: []string{"nginx"}, Domains: []string{"shop.example.com"}, HTTPS: true, Cert: "/etc/ssl/shop.pem", Key: "/etc/ssl/private/shop.key"}, ""},
	{"letsencrypt", Options{Targets: []string{"nginx"}, Domains: []string{"shop.example.com"}, LetsEncrypt: true}, ""},
	{"upstreams", Options{Targets: []string{"nginx"}, Domains: []string{"shop.example.com"}, Upstreams: []string{"10.0.0.2:8000", "10.0.0.3:8000", "[fd00::4]:8000"}}, ""},
	{"packaged", Options{Targets: all, Prefix: "/usr/lib/demo", Bin: "/usr/bin/demo", ConfigDir: "/etc/demo", StaticDir: "/usr/share/demo/static",
		LogDir: "/srv/log/demo", Socket: "/srv/run/demo.sock", User: "web", Group: "web", WebGroup: "nginx", Listen: "127.0.0.1:8080"}, ""},
	{"kubernetes", kubeVariants["default"], ""},
	{"kubernetes-full", kubeVariants["full"], ""},
	{"kubernetes-postgres", kubeVariants["default"], state.DatabasePostgres},
	{"sqlite", Options{Targets: all}, state.DatabaseSQLite},
	{"postgres", Options{Targets: all}, state.DatabasePostgres},
	{"uwsgi", Options{Targets: all, Protocol: "uwsgi"}, ""},
	{"fastcgi", Options{Targets: []string{"nginx", "supervisor"}, Protocol: "fastcgi"}, ""},
}

func TestGolden(t *testing.T) {
	projects := map[string]string{}
	for _, tc := range goldenCases {
		dir, ok := projects[tc.db]
		if !ok {
			dir = newProjectWith(t, project.Options{Name: "demo", Database: tc.db})
			projects[tc.db] = dir
		}
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := Generate(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.RemoveAll(root); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range ctx.Files.Files() {
				golden := filepath.Join(root, filepath.FromSlash(f.Path)+".golden")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./generators/deploy/ -update)", err)
				}
				if !bytes.Equal(f.Data, want) {
					t.Errorf("%s differs from %s:\n%s", f.Path, golden, diff.Diff(golden, want, f.Path, f.Data))
				}
			}
			// Same input, same output.
			again, err := Generate(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range ctx.Files.Files() {
				g, _ := again.Files.Get(f.Path)
				if !bytes.Equal(f.Data, g.Data) {
					t.Errorf("%s: a second run differs", f.Path)
				}
			}
		})
	}
}

func TestTargetsSelectFiles(t *testing.T) {
	dir := newProject(t, "demo")
	for target, want := range map[string][]string{
		"nginx":      {"README.md", "nginx/demo.conf"},
		"supervisor": {"README.md", "supervisor/demo.conf", "tmpfiles/demo.conf"},
		"systemd":    {"README.md", "systemd/demo.service", "systemd/demo.socket"},
		"logrotate":  {"README.md", "logrotate/demo"},
		"container":  {"README.md", "container/.dockerignore", "container/Containerfile", "container/group", "container/passwd", "container/run/README"},
		"kubernetes": {"README.md", "kubernetes/base/config/config.yaml", "kubernetes/base/config/logging.yaml", "kubernetes/base/config/setting.yaml",
			"kubernetes/base/deployment.yaml", "kubernetes/base/kustomization.yaml", "kubernetes/base/networkpolicy.yaml", "kubernetes/base/pdb.yaml",
			"kubernetes/base/service.yaml", "kubernetes/production/kustomization.yaml"},
	} {
		targets, err := ParseTargets([]string{target})
		if err != nil {
			t.Fatal(err)
		}
		ctx, err := Generate(dir, Options{Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range ctx.Files.Files() {
			got = append(got, f.Path)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: files %v, want %v", target, got, want)
		}
	}
	if got, err := ParseTargets([]string{"all"}); err != nil || len(got) != len(Targets) {
		t.Errorf("all: %v %v", got, err)
	}
	if _, err := ParseTargets([]string{"apache"}); err == nil || !strings.Contains(err.Error(), `unknown target "apache"`) {
		t.Errorf("apache: %v", err)
	}
}

// The limits of the tools around the app follow the project's production config.
func TestValuesFollowProjectConfig(t *testing.T) {
	dir := newProject(t, "demo")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "timeout: 30s", "timeout: 45s")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "max_body_bytes: 1048576", "max_body_bytes: 10485760")
	settings := "development:\n  server:\n    graceful_timeout: 5s\nproduction:\n  app:\n    static_dir: /srv/assets\n  server:\n    graceful_timeout: 50\n"
	if err := os.WriteFile(filepath.Join(dir, "config", "setting.yaml"), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, err := Generate(dir, Options{Targets: all})
	if err != nil {
		t.Fatal(err)
	}
	for file, wants := range map[string][]string{
		"nginx/demo.conf":      {"proxy_read_timeout 55s;", "client_max_body_size 10485760;", "alias /srv/assets/;"},
		"supervisor/demo.conf": {"stopwaitsecs=60\n", "-b unix:/run/demo/demo.sock "},
		"systemd/demo.service": {"TimeoutStopSec=60\n", "-b fd://3\n"},
		"systemd/demo.socket":  {"ListenStream=/run/demo/demo.sock\n"},
	} {
		f, ok := ctx.Files.Get(file)
		if !ok {
			t.Fatalf("%s not generated", file)
		}
		for _, w := range wants {
			if !bytes.Contains(f.Data, []byte(w)) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
	// The graceful timeout 50s (setting.yaml) beat config.yaml's 30s: the app's drain ends
	// before supervisor and systemd give up on it.
	if ctx.Data.StopWait <= ctx.Data.GracefulTimeout || ctx.Data.ProxyReadTimeout <= ctx.Data.Timeout {
		t.Errorf("margins: %+v", ctx.Data)
	}
}

func replace(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s lacks %q", file, old)
	}
	if err := os.WriteFile(file, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHostileInput(t *testing.T) {
	dir := newProject(t, "demo")
	for _, tc := range []struct {
		flag string
		opts Options
	}{
		{"--domain", Options{Domains: []string{"example.com; include /etc/passwd"}}},
		{"--domain", Options{Domains: []string{"example.com\nserver_name evil"}}},
		{"--domain", Options{Domains: []string{"exa mple.com"}}},
		{"--domain", Options{Domains: []string{"http://example.com"}}},
		{"--domain", Options{Domains: []string{"Example.com}"}}},
		{"--prefix", Options{Prefix: "/opt/my app"}},
		{"--prefix", Options{Prefix: "opt/demo"}},
		{"--prefix", Options{Prefix: "/opt/$demo"}},
		{"--prefix", Options{Prefix: "/opt/../etc"}},
		{"--socket", Options{Socket: "/run/demo/demo.sock;"}},
		{"--socket", Options{Socket: "/run/" + strings.Repeat("x", 120) + ".sock"}},
		{"--log-dir", Options{LogDir: "/var/log/\"demo\""}},
		{"--static-dir", Options{StaticDir: "/srv/{static}"}},
		{"--bin", Options{Bin: "/usr/bin/demo\n[program:evil]"}},
		{"--config-dir", Options{ConfigDir: "/etc/demo'"}},
		{"--user", Options{User: "root; rm"}},
		{"--user", Options{User: "$USER"}},
		{"--group", Options{Group: "a b"}},
		{"--web-group", Options{WebGroup: "www data"}},
		{"--listen", Options{Listen: "80; evil"}},
		{"--listen", Options{Listen: "70000"}},
		{"--protocol", Options{Protocol: "uwsgi; evil"}},
		{"--https-listen", Options{HTTPSListen: "a:b:c"}},
		{"--upstream", Options{Upstreams: []string{"10.0.0.1"}}},
		{"--upstream", Options{Upstreams: []string{"10.0.0.1:80 backup"}}},
		{"--upstream", Options{Upstreams: []string{"10.0.0.1:0"}}},
		{"--https", Options{HTTPS: true}},
		{"--cert", Options{HTTPS: true, Cert: "/etc/ssl/a b.pem", Key: "/etc/ssl/k.pem"}},
		{"--cert/--key", Options{Cert: "/etc/ssl/a.pem"}},
		{"--letsencrypt", Options{LetsEncrypt: true}},
		{"--letsencrypt", Options{LetsEncrypt: true, Domains: []string{"a.example"}, Cert: "/a.pem"}},
	} {
		tc.opts.Targets = all
		_, err := Generate(dir, tc.opts)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Flag != tc.flag {
			t.Errorf("%+v: error %v, want one naming %s", tc.opts, err, tc.flag)
			continue
		}
		if !strings.Contains(err.Error(), "must") && !strings.Contains(err.Error(), "need") && !strings.Contains(err.Error(), "cannot") {
			t.Errorf("%s: error %q states no rule", tc.flag, err)
		}
	}
}

func TestMissingProjectFiles(t *testing.T) {
	empty := t.TempDir()
	if _, err := Generate(empty, Options{Targets: all}); err == nil || !strings.Contains(err.Error(), "scaffold.yaml") {
		t.Errorf("no manifest: %v", err)
	}
	dir := newProject(t, "demo")
	if err := os.Remove(filepath.Join(dir, "config", "config.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, Options{Targets: all}); err == nil || !strings.Contains(err.Error(), "config.yaml not found") {
		t.Errorf("no config.yaml: %v", err)
	}
	dir = newProject(t, "demo")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "timeout: 30s", "timeout: soon")
	if _, err := Generate(dir, Options{Targets: all}); err == nil || !strings.Contains(err.Error(), "server.timeout") {
		t.Errorf("bad timeout: %v", err)
	}
	// A key the app would refuse in its server section is refused here too, where it is;
	// one of the app's own sections (app:, modules:) is the app's to judge.
	dir = newProject(t, "demo")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "  keep_alive: 5s", "  keepalive: 5s")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "  debug: false", "  debug: false\n  theme: dark")
	if _, err := Generate(dir, Options{Targets: all}); err == nil || !regexp.MustCompile(`config/config.yaml:\d+: unknown key "keepalive" in server \(did you mean "keep_alive"\?\)`).MatchString(err.Error()) {
		t.Errorf("typo in server: %v", err)
	}
}

func TestLocalPostgres(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres:///demo?host=/var/run/postgresql":          true,
		"postgres://demo@localhost:5432/demo":                true,
		"postgresql://demo:pw@127.0.0.1/demo":                true,
		"postgres://demo@[::1]:5432/demo":                    true,
		"postgres:///demo":                                   true, // libpq's default socket
		"host=/var/run/postgresql dbname=demo":               true,
		"postgres://demo@db.internal:5432/demo":              false,
		"postgres://demo@10.1.2.3/demo":                      false,
		"host=db.example.com dbname=demo":                    false,
		"postgres://demo@localhost,db.example.com/demo":      false, // a remote one among them
		"postgres:///demo?host=/var/run/postgresql,10.0.0.9": false,
	} {
		if got := LocalPostgres(dsn); got != want {
			t.Errorf("LocalPostgres(%q) = %v, want %v", dsn, got, want)
		}
	}
}

// A --db project's units run the migrations before the master, order a local PostgreSQL
// first, and give SQLite a state directory; --db none gets none of it.
func TestDatabaseUnits(t *testing.T) {
	for _, tc := range []struct {
		db         string
		want, lack []string
	}{
		{"", nil, []string{"ExecStartPre=", "postgresql.service", "StateDirectory="}},
		{state.DatabaseSQLite, []string{"ExecStartPre=/opt/demo/bin/demo migrate -c /opt/demo/config up", "StateDirectory=demo"}, []string{"postgresql.service"}},
		{state.DatabasePostgres, []string{"ExecStartPre=/opt/demo/bin/demo migrate -c /opt/demo/config up", "After=network.target demo.socket postgresql.service", "Wants=postgresql.service",
			"#LoadCredential=database.dsn:/etc/demo/database.dsn"}, []string{"StateDirectory=", "\nLoadCredential="}},
	} {
		dir := newProjectWith(t, project.Options{Name: "demo", Database: tc.db})
		ctx, err := Generate(dir, Options{Targets: []string{"systemd", "supervisor"}})
		if err != nil {
			t.Fatal(err)
		}
		svc, _ := ctx.Files.Get("systemd/demo.service")
		// The local socket takes no password: no DSN file for supervisor either.
		if prog, _ := ctx.Files.Get("supervisor/demo.conf"); bytes.Contains(prog.Data, []byte("APP_DATABASE_DSN_FILE")) {
			t.Errorf("--db %q: the supervisor program names a DSN file:\n%s", tc.db, prog.Data)
		}
		for _, w := range tc.want {
			if !bytes.Contains(svc.Data, []byte("\n"+w+"\n")) {
				t.Errorf("--db %q: demo.service lacks %q", tc.db, w)
			}
		}
		for _, l := range tc.lack {
			if bytes.Contains(svc.Data, []byte(l)) {
				t.Errorf("--db %q: demo.service has %q", tc.db, l)
			}
		}
	}
	// A remote server is not ordered after (nor pulled in).
	dir := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	cfg := filepath.Join(dir, "config", "config.yaml")
	data, _ := os.ReadFile(cfg)
	data = bytes.Replace(data, []byte("dsn: postgres:///demo?host=/var/run/postgresql"), []byte("dsn: postgres://demo@db.example.com/demo"), 1)
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, err := Generate(dir, Options{Targets: []string{"systemd", "supervisor"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := ctx.Files.Get("systemd/demo.service")
	// supervisor has no credentials: its program names the DSN's file in the environment.
	prog, _ := ctx.Files.Get("supervisor/demo.conf")
	if !bytes.Contains(prog.Data, []byte(`,APP_DATABASE_DSN_FILE="/etc/demo/database.dsn"`+"\n")) {
		t.Errorf("a remote database.dsn: the supervisor program does not name its file:\n%s", prog.Data)
	}
	if bytes.Contains(svc.Data, []byte("postgresql.service")) {
		t.Error("a remote database.dsn still orders the unit after postgresql.service")
	}
	// A remote server takes a password: the unit loads the DSN as a credential.
	if !bytes.Contains(svc.Data, []byte("\nLoadCredential=database.dsn:/etc/demo/database.dsn\n")) {
		t.Errorf("a remote database.dsn: demo.service loads no credential:\n%s", svc.Data)
	}
}

// Every value derived from the app's config follows its written rule, for settings at,
// around and away from the margins: nginx reads longer than the app's timeout; supervisor
// and systemd wait longer than the graceful timeout; nginx closes idle upstream
// connections before the app's keep_alive does (and keeps none when it is off); nginx's
// body limit is the app's.
func TestDerivedValuesFollowTheirRules(t *testing.T) {
	directive := regexp.MustCompile(`(?m)^\s*(proxy_read_timeout|keepalive_timeout|client_max_body_size|stopwaitsecs|TimeoutStopSec)[ =]([0-9.]+)(ms|s)?;?$`)
	for _, tc := range []struct{ timeout, graceful, keepAlive, body string }{
		{"30s", "30s", "5s", "1048576"},
		{"0", "0", "0", "0"},
		{"1", "0.5", "1s", "1"},
		{"45.5s", "7.5", "2500ms", "2.5MiB"},
		{"3600", "120s", "75s", "1GiB"},
		{"100ms", "1ms", "3", "10MB"},
	} {
		dir := newProject(t, "demo")
		config := filepath.Join(dir, "config", "config.yaml")
		replace(t, config, "timeout: 30s", "timeout: "+tc.timeout)
		replace(t, config, "graceful_timeout: 30s", "graceful_timeout: "+tc.graceful)
		replace(t, config, "keep_alive: 5s", "keep_alive: "+tc.keepAlive)
		replace(t, config, "max_body_bytes: 1048576", "max_body_bytes: "+tc.body)
		app, err := LoadAppConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx, err := Generate(dir, Options{Targets: all})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]time.Duration{}
		for _, file := range []string{"nginx/demo.conf", "supervisor/demo.conf", "systemd/demo.service"} {
			f, _ := ctx.Files.Get(file)
			for _, m := range directive.FindAllStringSubmatch(string(f.Data), -1) {
				n, _ := strconv.ParseFloat(m[2], 64)
				unit := time.Second
				if m[3] == "ms" {
					unit = time.Millisecond
				}
				if m[1] == "client_max_body_size" {
					unit = 1
				}
				got[m[1]] = time.Duration(n * float64(unit))
			}
		}
		name := fmt.Sprintf("timeout %s, graceful %s, keep_alive %s, body %s", tc.timeout, tc.graceful, tc.keepAlive, tc.body)
		if app.Timeout > 0 && got["proxy_read_timeout"] <= app.Timeout || app.Timeout == 0 && got["proxy_read_timeout"] < time.Hour {
			t.Errorf("%s: proxy_read_timeout %v, app timeout %v", name, got["proxy_read_timeout"], app.Timeout)
		}
		for _, wait := range []string{"stopwaitsecs", "TimeoutStopSec"} {
			if got[wait] <= app.GracefulTimeout {
				t.Errorf("%s: %s %v is not above graceful_timeout %v", name, wait, got[wait], app.GracefulTimeout)
			}
		}
		idle, kept := got["keepalive_timeout"]
		if app.KeepAlive > 0 && (!kept || idle <= 0 || idle >= app.KeepAlive) || app.KeepAlive == 0 && kept {
			t.Errorf("%s: upstream keepalive_timeout %v (set %v), app keep_alive %v", name, idle, kept, app.KeepAlive)
		}
		if int64(got["client_max_body_size"]) != app.MaxBodyBytes {
			t.Errorf("%s: client_max_body_size %d, app max_body_bytes %d", name, got["client_max_body_size"], app.MaxBodyBytes)
		}
		// and Verify's reading of the same files finds them keeping the same rules
		for file, rules := range map[string]func([]byte, AppConfig) []*Finding{
			"nginx/demo.conf": nginxTimeouts, "supervisor/demo.conf": supervisorTimeouts, "systemd/demo.service": systemdTimeouts,
		} {
			f, _ := ctx.Files.Get(file)
			for _, finding := range rules(f.Data, app) {
				t.Errorf("%s: %s: %v", name, file, finding)
			}
		}
	}
}

// The standard OpenTelemetry variables follow config/'s observability section: the
// Collector's address set where each platform takes its environment when config/ names
// one (commented out, or empty in the ConfigMap, when it does not), service.name always;
// a value that could break out of its line is refused, naming the key.
func TestOTelVariablesFollowProjectConfig(t *testing.T) {
	dir := newProject(t, "demo")
	conf := filepath.Join(dir, "config", "config.yaml")
	replace(t, conf, `  endpoint: ""`, "  endpoint: http://collector.internal:4318")
	replace(t, conf, `  service_name: ""`, "  service_name: shop")
	ctx, err := Generate(dir, Options{Targets: append([]string{"container", "kubernetes"}, all...)})
	if err != nil {
		t.Fatal(err)
	}
	for file, wants := range map[string][]string{
		"systemd/demo.service":                     {"\nEnvironment=OTEL_EXPORTER_OTLP_ENDPOINT=http://collector.internal:4318\n", "\nEnvironment=OTEL_SERVICE_NAME=shop\n"},
		"supervisor/demo.conf":                     {`,OTEL_SERVICE_NAME="shop",OTEL_EXPORTER_OTLP_ENDPOINT="http://collector.internal:4318"` + "\n"},
		"container/Containerfile":                  {"\nENV OTEL_SERVICE_NAME=shop OTEL_EXPORTER_OTLP_ENDPOINT=http://collector.internal:4318\n"},
		"kubernetes/base/kustomization.yaml":       {"\n      - OTEL_EXPORTER_OTLP_ENDPOINT=http://collector.internal:4318\n"},
		"kubernetes/production/kustomization.yaml": {"\n      app.kubernetes.io/version: "},
		"kubernetes/base/deployment.yaml":          {"fieldPath: metadata.labels['app.kubernetes.io/name']", "value: service.version=$(SERVICE_VERSION)"},
	} {
		f, ok := ctx.Files.Get(file)
		if !ok {
			t.Fatalf("%s not generated", file)
		}
		for _, w := range wants {
			if !bytes.Contains(f.Data, []byte(w)) {
				t.Errorf("%s lacks %q:\n%s", file, w, f.Data)
			}
		}
	}

	replace(t, conf, "  endpoint: http://collector.internal:4318", `  endpoint: "http://x:4318\"\nExecStartPre=/bin/evil"`)
	_, err = Generate(dir, Options{Targets: all})
	if err == nil || !strings.Contains(err.Error(), "observability.endpoint") {
		t.Errorf("a hostile endpoint: %v, want an error naming observability.endpoint", err)
	}
}
