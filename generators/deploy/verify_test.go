package deploy

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	}{
		{"systemd stop", "systemd/demo.service", "TimeoutStopSec=40", "TimeoutStopSec=30s", RuleStopWait, opts},
		{"supervisor stop", "supervisor/demo.conf", "stopwaitsecs=40", "stopwaitsecs=25", RuleStopWait, opts},
		{"upstream idle", "nginx/demo.conf", "keepalive_timeout 4s;", "keepalive_timeout 1m;", RuleUpstreamIdle, opts},
		{"shutdown delay", "kubernetes/base/deployment.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 44", RuleGrace,
			Options{Targets: []string{"kubernetes"}, KubeVersion: "1.29"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newProject(t, "demo")
			writeDeploy(t, dir, tc.opts)
			line := edit(t, filepath.Join(dir, "deploy", tc.file), tc.old, tc.repl)
			_, err := Verify(context.Background(), dir, "deploy")
			want := "deploy/" + tc.file + ":" + strconv.Itoa(line) + ": "
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
