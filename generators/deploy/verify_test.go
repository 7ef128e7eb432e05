package deploy

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

func TestParseNginxTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"40s", 40 * time.Second, true},
		{"40", 40 * time.Second, true},
		{"1500ms", 1500 * time.Millisecond, true},
		{"1m30s", 90 * time.Second, true},
		{"1h", time.Hour, true},
		{"", 0, false},
		{"4x", 0, false},
		{"s4", 0, false},
		{"$var", 0, false},
	} {
		got, ok := parseNginxTime(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseNginxTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSystemdTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"40", 40 * time.Second, true},
		{"40s", 40 * time.Second, true},
		{"1min 30s", 90 * time.Second, true},
		{"2min", 2 * time.Minute, true},
		{"500ms", 500 * time.Millisecond, true},
		{"infinity", time.Duration(1<<63 - 1), true},
		{"soon", 0, false},
		{"40 parsecs", 0, false},
	} {
		got, ok := parseSystemdTime(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSystemdTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The reader knows the block of each directive (keepalive_timeout means one thing in an
// upstream, another in a server), its line, and skips comments and quoted text.
func TestNginxDirectives(t *testing.T) {
	site := "# keepalive_timeout 1s;\nupstream a {\n    server unix:/x.sock;\n    keepalive_timeout 4s;\n}\nserver {\n    keepalive_timeout 75s; # clients\n    add_header X \"a; b { c\";\n    location / {\n        proxy_read_timeout\n            40s;\n    }\n}\n"
	got := map[string]nginxDirective{}
	for _, d := range nginxDirectives([]byte(site)) {
		got[d.Block+"/"+d.Name] = d
	}
	for key, want := range map[string]nginxDirective{
		"upstream/keepalive_timeout":  {Name: "keepalive_timeout", Args: []string{"4s"}, Line: 4, Block: "upstream"},
		"server/keepalive_timeout":    {Name: "keepalive_timeout", Args: []string{"75s"}, Line: 7, Block: "server"},
		"server/add_header":           {Name: "add_header", Args: []string{"X", "a; b { c"}, Line: 8, Block: "server"},
		"location/proxy_read_timeout": {Name: "proxy_read_timeout", Args: []string{"40s"}, Line: 10, Block: "location"},
	} {
		d := got[key]
		if d.Name != want.Name || strings.Join(d.Args, "|") != strings.Join(want.Args, "|") || d.Line != want.Line || d.Block != want.Block {
			t.Errorf("%s: %+v, want %+v", key, d, want)
		}
	}
	if len(got) != 5 { // and server unix:...
		t.Errorf("directives %v, want 5 (a comment read as one?)", got)
	}
}

// Every derived limit passes its own rule, and one step past it does not: the rule and
// the derivation are the same concept, kept in timeouts.go.
func TestTimeoutRulesHoldTheirDerivation(t *testing.T) {
	for _, app := range []time.Duration{time.Second, 1500 * time.Millisecond, 30 * time.Second, 5 * time.Minute} {
		if !proxyReadOK(proxyRead(app), app) || proxyReadOK(app, app) {
			t.Errorf("proxy read rule at app timeout %s", app)
		}
		if !upstreamIdleOK(upstreamIdle(app), app) || upstreamIdleOK(app, app) {
			t.Errorf("upstream idle rule at keep_alive %s", app)
		}
		if !stopWaitOK(stopWait(app), app) || stopWaitOK(app, app) {
			t.Errorf("stop wait rule at graceful_timeout %s", app)
		}
	}
	for _, preStop := range []int{0, 5, 30} {
		g := terminationGrace(preStop, 30)
		if !graceOK(g, preStop, 30) || graceOK(g-1, preStop, 30) {
			t.Errorf("grace rule at preStop %d: %d", preStop, g)
		}
	}
	if !proxyReadOK(time.Second, 0) || !upstreamIdleOK(time.Hour, 0) {
		t.Error("an app with no timeout or keep-alive of its own bounds nginx")
	}
}

// edit replaces old (a whole line's text, trimmed) by repl in file, and returns its line.
func edit(t *testing.T, file, old, repl string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == old {
			lines[i] = strings.Replace(l, old, repl, 1)
			writeFile(t, file, strings.Join(lines, "\n"))
			return i + 1
		}
	}
	t.Fatalf("%s has no line %q", file, old)
	return 0
}

// Verify, on files as edited: the fresh files pass (with every tool here, nothing is
// skipped), and each edit that breaks a timeout rule fails naming the file, the line and
// the rule; the Kubernetes 1.29 variant's preStop is the runtime's --shutdown-delay.
func TestVerifyTimeoutRulesOnEditedFiles(t *testing.T) {
	for _, tool := range []string{"nginx", "systemd-analyze", "kube-score", "kubectl", "promtool"} {
		testenv.Tool(t, tool)
	}
	opts := Options{Targets: append(append([]string(nil), all...), "kubernetes", "container")}
	dir := newProject(t, "demo")
	writeDeploy(t, dir, opts)
	report, err := Verify(context.Background(), dir, "deploy")
	if err != nil {
		t.Fatalf("fresh files: %v", err)
	}
	if len(report.Skipped) > 0 || len(report.Passed) < 7 {
		t.Fatalf("fresh files: passed %q, skipped %q", report.Passed, report.Skipped)
	}
	for _, tc := range []struct {
		name, file, old, repl, rule string
		opts                        Options
		at                          string // where the finding is, when not at the edit
	}{
		{"systemd stop", "systemd/demo.service", "TimeoutStopSec=40", "TimeoutStopSec=30s", RuleStopWait, opts, ""},
		{"supervisor stop", "supervisor/demo.conf", "stopwaitsecs=40", "stopwaitsecs=25", RuleStopWait, opts, ""},
		{"upstream idle", "nginx/demo.conf", "keepalive_timeout 4s;", "keepalive_timeout 1m;", RuleUpstreamIdle, opts, ""},
		{"ingress timeout", "kubernetes/base/ingress.yaml", `nginx.ingress.kubernetes.io/proxy-read-timeout: "40"`, `nginx.ingress.kubernetes.io/proxy-read-timeout: "30"`, RuleProxyRead,
			Options{Targets: []string{"kubernetes"}, Domains: []string{"shop.example.com"}}, ""},
		// The pods read the ConfigMap's copy of config/: a drain made longer there than the
		// grace period allows is caught where the pods read it.
		{"pods' graceful timeout", "kubernetes/base/config/config.yaml", "graceful_timeout: 30s", "graceful_timeout: 40s", RuleGrace,
			Options{Targets: []string{"kubernetes"}}, "deploy/kubernetes/base/deployment.yaml:36: terminationGracePeriodSeconds 45 is below preStop 5 + server.graceful_timeout 40 (deploy/kubernetes/base/config/, production: the pods' ConfigMap)"},
		{"shutdown delay", "kubernetes/base/deployment.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 44", RuleGrace,
			Options{Targets: []string{"kubernetes"}, KubeVersion: "1.29"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newProject(t, "demo")
			writeDeploy(t, dir, tc.opts)
			// The fresh files of the test's own opts passed above; other options' are checked here.
			if !reflect.DeepEqual(tc.opts, opts) {
				if _, err := Verify(context.Background(), dir, "deploy"); err != nil {
					t.Fatalf("fresh files of %+v: %v", tc.opts, err)
				}
			}
			line := edit(t, filepath.Join(dir, "deploy", tc.file), tc.old, tc.repl)
			_, err := Verify(context.Background(), dir, "deploy")
			want := "deploy/" + tc.file + ":" + strconv.Itoa(line) + ": "
			if tc.at != "" {
				want = tc.at
			}
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rule: "+tc.rule) {
				t.Fatalf("Verify after %q -> %q: %v\nwant %q and the rule %q", tc.old, tc.repl, err, want, tc.rule)
			}
		})
	}
}

// A manifest field the API server does not know fails the strict decode, with its line.
func TestVerifyDecodesManifestsStrictly(t *testing.T) {
	dir := newProject(t, "demo")
	writeDeploy(t, dir, Options{Targets: []string{"kubernetes"}})
	line := edit(t, filepath.Join(dir, "deploy", "kubernetes", "base", "service.yaml"), "selector:", "selectr:")
	_, err := Verify(context.Background(), dir, "deploy")
	want := "deploy/kubernetes/base/service.yaml:" + strconv.Itoa(line) + ": Service: "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `unknown field "selectr"`) || !strings.Contains(err.Error(), "rule: "+RuleStrictDecode) {
		t.Fatalf("Verify with an unknown field: %v\nwant %q", err, want)
	}
}

// No deploy files: one error saying what to run.
func TestVerifyWithoutFiles(t *testing.T) {
	dir := newProject(t, "demo")
	_, err := Verify(context.Background(), dir, "deploy")
	if err == nil || !strings.Contains(err.Error(), "run `scaffold deploy-config all` first") {
		t.Fatalf("Verify with no deploy/: %v", err)
	}
}

// An upstream host is resolved by nginx -t: the check points it at 127.0.0.1, line for line.
func TestStandInUpstreams(t *testing.T) {
	site := "upstream a {\n    server app1.internal:8000 max_fails=3;\n    server 10.0.0.2:8000;\n    server unix:/run/a/a.sock fail_timeout=0;\n    server localhost;\n}\nserver {\n    server_name app.example.com;\n}\n"
	want := "upstream a {\n    server 127.0.0.1:8000 max_fails=3;\n    server 10.0.0.2:8000;\n    server unix:/run/a/a.sock fail_timeout=0;\n    server 127.0.0.1;\n}\nserver {\n    server_name app.example.com;\n}\n"
	if got := string(standInUpstreams([]byte(site))); got != want {
		t.Errorf("standInUpstreams:\n%s\nwant\n%s", got, want)
	}
}

// Away from its server, what is the server's alone is stood in for, line for line: logs
// by /dev/null, listen addresses by free loopback ports (one address, one port, across the
// sites), a certificate not on this machine by a self-signed pair nginx can load.
func TestStandInServer(t *testing.T) {
	dir := t.TempDir()
	site := "server {\n    listen 80;\n    listen [::]:80;\n    return 301 https://$host$request_uri;\n}\nserver {\n    listen 443 ssl http2;\n    ssl_certificate     /nonexistent/fullchain.pem;\n    ssl_certificate_key /nonexistent/privkey.pem;\n    access_log /var/log/nginx/demo.access.log;\n    error_log  /var/log/nginx/demo.error.log warn;\n    location /static/ {\n        access_log off;\n    }\n}\n"
	ports := map[string]string{}
	out, notes, err := standInServer([]byte(site), dir, ports)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(out), "\n") != strings.Count(site, "\n") {
		t.Errorf("lines moved:\n%s", out)
	}
	for _, want := range []string{"    listen " + ports["80"] + ";\n", "    listen " + ports["[::]:80"] + ";\n", "    listen " + ports["443"] + " ssl http2;\n",
		"    ssl_certificate     " + filepath.Join(dir, "stand-in.crt") + ";\n", "    ssl_certificate_key " + filepath.Join(dir, "stand-in.key") + ";\n",
		"    access_log /dev/null;\n", "    error_log  /dev/null warn;\n", "        access_log off;\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stand-in site lacks %q:\n%s", want, out)
		}
	}
	if len(ports) != 3 || ports["80"] == ports["443"] || !strings.HasPrefix(ports["80"], "127.0.0.1:") {
		t.Errorf("ports %v", ports)
	}
	if len(notes) != 3 {
		t.Errorf("notes %q, want logs, listen addresses and the certificate", notes)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "stand-in.crt"), filepath.Join(dir, "stand-in.key")); err != nil {
		t.Errorf("the stand-in pair: %v", err)
	}
	// The same address in a second site gets the same port; a certificate that is here stays.
	cert := filepath.Join(dir, "stand-in.crt")
	again, _, err := standInServer([]byte("server {\n    listen 80 default_server;\n    ssl_certificate "+cert+";\n}\n"), dir, ports)
	if err != nil || string(again) != "server {\n    listen "+ports["80"]+" default_server;\n    ssl_certificate "+cert+";\n}\n" {
		t.Errorf("second site: %v\n%s", err, again)
	}
}

// An HTTPS site checked away from its server (no certificate here) passes, saying what
// was stood in.
func TestVerifyHTTPSAwayFromItsServer(t *testing.T) {
	testenv.Tool(t, "nginx")
	dir := newProject(t, "demo")
	writeDeploy(t, dir, Options{Targets: []string{"nginx"}, Domains: []string{"shop.example.com"}, LetsEncrypt: true})
	report, err := Verify(context.Background(), dir, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(report.Notes, "\n"), "/etc/letsencrypt/live/shop.example.com/fullchain.pem") || report.Passed[0] != "nginx -t: the site loads in nginx" {
		t.Errorf("passed %q, notes %q", report.Passed, report.Notes)
	}
}

// A --db postgres project, every target: its unit runs `migrate up` as ExecStartPre from
// the binary not installed yet, stood in like ExecStart's; the rest passes as generated.
func TestVerifyDatabaseProject(t *testing.T) {
	for _, tool := range []string{"nginx", "systemd-analyze", "kube-score", "kubectl", "promtool"} {
		testenv.Tool(t, tool)
	}
	dir := newProjectWith(t, project.Options{Name: "notes", Database: state.DatabasePostgres})
	writeDeploy(t, dir, Options{Targets: append(append([]string(nil), all...), "kubernetes", "container"), Domains: []string{"notes.example.com"}, MaxReplicas: 4})
	report, err := Verify(context.Background(), dir, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Skipped) > 0 || !strings.Contains(strings.Join(report.Notes, "\n"), "/opt/notes/bin/notes is not installed yet") {
		t.Errorf("passed %q, skipped %q, notes %q", report.Passed, report.Skipped, report.Notes)
	}
}
