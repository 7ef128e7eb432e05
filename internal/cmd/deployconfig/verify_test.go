package deployconfig_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	deploygen "github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// command runs name in dir, bounded, and returns its combined output and error.
func command(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// `make verify-deploy`, as a user runs it in a generated project: it passes on the files of
// `deploy-config all`, and fails naming the file, the line and the rule on each of three
// deliberate edits: nginx waiting less than the app, a grace period below preStop + the
// graceful timeout, a directive nginx does not know (and a unit key systemd ignores). VERIFY_FLAGS=--require-tools, as the
// generated CI runs it, so a missing tool cannot pass it.
func TestMakeVerifyDeploy(t *testing.T) {
	mk := testenv.Tool(t, "make")
	for _, tool := range []string{"nginx", "systemd-analyze", "kube-score", "kubectl", "promtool"} {
		testenv.Tool(t, tool)
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	scaffold := filepath.Join(work, "scaffold")
	if out, err := command(t, root, "go", "build", "-o", scaffold, "./cmd/scaffold"); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := command(t, work, scaffold, "new", "demo", "--yes"); err != nil {
		t.Fatalf("scaffold new: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "demo")
	if out, err := command(t, dir, scaffold, "deploy-config", "all"); err != nil {
		t.Fatalf("scaffold deploy-config all: %v\n%s", err, out)
	}
	verify := func() (string, error) {
		return command(t, dir, mk, "--no-print-directory", "verify-deploy", "SCAFFOLD="+scaffold, "VERIFY_FLAGS=--require-tools")
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "verify passed:  timeouts:") || strings.Contains(out, "verify skipped") {
		t.Fatalf("make verify-deploy on fresh files: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name, file, old, repl string
		want                  []string // besides file:line
	}{
		{"nginx timeout below the app's", "deploy/nginx/demo.conf", "proxy_read_timeout 40s;", "proxy_read_timeout 20s;",
			[]string{"proxy_read_timeout 20s is not above the app's server.timeout 30s", "rule: " + deploygen.RuleProxyRead}},
		{"grace period below preStop + graceful timeout", "deploy/kubernetes/base/deployment.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30",
			[]string{"terminationGracePeriodSeconds 30 is below preStop 5 + server.graceful_timeout 30", "rule: " + deploygen.RuleGrace}},
		{"broken directive", "deploy/nginx/demo.conf", "server_tokens off;", "server_tokns off;",
			[]string{`unknown directive "server_tokns"`, "rule: " + deploygen.RuleNginxLoads}},
		// and a key systemd ignores, which it only warns about
		{"misspelt unit key", "deploy/systemd/demo.service", "KillMode=mixed", "KilMode=mixed",
			[]string{"Unknown key 'KilMode'", "rule: " + deploygen.RuleUnitsLoad}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, filepath.FromSlash(tc.file))
			orig, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.WriteFile(file, orig, 0o644) })
			lines := strings.Split(string(orig), "\n")
			line := 0
			for i, l := range lines {
				if strings.TrimSpace(l) == tc.old {
					lines[i], line = strings.Replace(l, tc.old, tc.repl, 1), i+1
					break
				}
			}
			if line == 0 {
				t.Fatalf("%s has no line %q", tc.file, tc.old)
			}
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := verify()
			if err == nil {
				t.Fatalf("make verify-deploy passed after %q -> %q in %s:\n%s", tc.old, tc.repl, tc.file, out)
			}
			for _, want := range append([]string{tc.file + ":" + strconv.Itoa(line)}, tc.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("make verify-deploy's output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	if out, err := verify(); err != nil {
		t.Fatalf("make verify-deploy with the edits undone: %v\n%s", err, out)
	}
}

// --verify takes no target, and needs files to verify.
func TestVerifyFlagUsage(t *testing.T) {
	dir := newProject(t)
	code, _, errOut := run(t, "deploy-config", "nginx", "--verify", "--dir", dir)
	if code == 0 || !strings.Contains(errOut, "--verify takes no target") {
		t.Errorf("deploy-config nginx --verify: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "deploy-config", "--verify", "--dir", dir)
	if code == 0 || !strings.Contains(errOut, "run `scaffold deploy-config all` first") {
		t.Errorf("deploy-config --verify with no deploy/: exit %d, %s", code, errOut)
	}
}
