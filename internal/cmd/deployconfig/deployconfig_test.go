package deployconfig_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	deploygen "github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cli"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

func newProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, err := project.Generate(project.Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Commit(ctx.Files, dir, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = cli.Execute(context.Background(), &cmdutil.Factory{IOStreams: ios}, args)
	return code, out.String(), errOut.String()
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[rel] = string(data)
		}
		return nil
	})
	return files
}

func TestWriteThenUnchanged(t *testing.T) {
	dir := newProject(t)
	code, out, errOut := run(t, "deploy-config", "all", "--dir", dir, "--domain", "shop.example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	deploy := filepath.Join(dir, "deploy")
	got := snapshot(t, deploy)
	for _, f := range []string{"nginx/demo.conf", "nginx/default-server.conf", "supervisor/demo.conf", "tmpfiles/demo.conf", "systemd/demo.service", "systemd/demo.socket", "logrotate/demo", "README.md"} {
		if _, ok := got[f]; !ok {
			t.Errorf("%s not written (have %v)", f, keys(got))
		}
		if !strings.Contains(out, "create    "+filepath.Join(deploy, f)) {
			t.Errorf("output does not report creating %s:\n%s", f, out)
		}
	}
	// scaffold.yaml records each file by its path from the project folder, with the
	// digest of the config it came from.
	digest, err := deploygen.ConfigDigest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.DerivedFrom) != 23 {
		t.Errorf("scaffold.yaml's derived_from has %d files, want 23: %v", len(m.DerivedFrom), m.DerivedFrom)
	}
	for rel, data := range got {
		p := "deploy/" + filepath.ToSlash(rel)
		if m.Files[p] != state.FileChecksum([]byte(data)) || m.DerivedFrom[p] != digest {
			t.Errorf("scaffold.yaml records %s as %q derived from %q, want its checksum derived from %s", p, m.Files[p], m.DerivedFrom[p], digest)
		}
	}
	code, out, errOut = run(t, "deploy-config", "all", "--dir", dir, "--domain", "shop.example.com")
	if code != 0 || strings.Contains(out, "create") || strings.Contains(out, "overwrite") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	// Other options: files scaffold wrote and nobody edited are replaced.
	code, out, errOut = run(t, "deploy-config", "nginx", "--dir", dir, "--domain", "other.example.com")
	if code != 0 || !strings.Contains(out, "overwrite "+filepath.Join(deploy, "nginx/demo.conf")) {
		t.Fatalf("new options: exit %d\n%s%s", code, out, errOut)
	}
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func TestEditedFileKept(t *testing.T) {
	dir := newProject(t)
	if code, _, errOut := run(t, "deploy-config", "all", "--dir", dir); code != 0 {
		t.Fatal(errOut)
	}
	deploy := filepath.Join(dir, "deploy")
	site := filepath.Join(deploy, "nginx", "demo.conf")
	data, _ := os.ReadFile(site)
	edited := append(data, []byte("# my own tweak\n")...)
	if err := os.WriteFile(site, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, deploy)

	// The same options: scaffold's version did not change, so the edit stays and nothing is refused.
	code, out, errOut := run(t, "deploy-config", "all", "--dir", dir)
	if code != 0 || !strings.Contains(out, "kept      "+site) {
		t.Fatalf("edited file, same options: exit %d\n%s%s", code, out, errOut)
	}
	if after := snapshot(t, deploy); after[filepath.Join("nginx", "demo.conf")] != string(edited) {
		t.Error("the edit was lost although scaffold's version did not change")
	}

	code, _, errOut = run(t, "deploy-config", "all", "--dir", dir, "--domain", "shop.example.com")
	if code != 1 || !strings.Contains(errOut, site) || !strings.Contains(errOut, "--force") {
		t.Fatalf("edited file: exit %d, stderr %q", code, errOut)
	}
	after := snapshot(t, deploy)
	for f, c := range before {
		if after[f] != c {
			t.Errorf("%s changed although the run was refused", f)
		}
	}

	code, out, errOut = run(t, "deploy-config", "all", "--dir", dir, "--domain", "shop.example.com", "--dry-run")
	if code != 0 || !strings.Contains(out, "--- a/nginx/demo.conf") || !strings.Contains(out, "-# my own tweak") ||
		!strings.Contains(out, "+    server_name shop.example.com;") || !strings.Contains(errOut, "kept") {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if after := snapshot(t, deploy); after[filepath.Join("nginx", "demo.conf")] != string(edited) {
		t.Error("--dry-run wrote")
	}

	code, out, errOut = run(t, "deploy-config", "all", "--dir", dir, "--domain", "shop.example.com", "--force")
	if code != 0 || !strings.Contains(out, "overwrite "+site) {
		t.Fatalf("--force: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(site); bytes.Contains(data, []byte("my own tweak")) {
		t.Error("--force kept the edit")
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	dir := newProject(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"apache"}, 2, `unknown target "apache"`},
		{[]string{}, 2, "needs a target"},
		{[]string{"nginx", "--domain", "evil.com;include /etc/shadow"}, 2, `--domain "evil.com;include /etc/shadow": must be`},
		{[]string{"all", "--prefix", "/opt/my app"}, 2, `--prefix "/opt/my app": must be an absolute path`},
		{[]string{"all", "--socket", "/run/x/$HOME.sock"}, 2, "--socket"},
		{[]string{"all", "--user", "bob\nUser=root"}, 2, "--user"},
		{[]string{"nginx", "--upstream", "10.0.0.1:80,evil}"}, 2, "--upstream"},
		{[]string{"nginx", "--https"}, 2, "--https"},
		{[]string{"kubernetes", "--namespace", "Prod_1"}, 2, `--namespace "Prod_1": must be a Kubernetes name`},
		{[]string{"kubernetes", "container", "--memory-limit", "lots"}, 2, `--memory-limit "lots": must be a positive Kubernetes quantity`},
		{[]string{"all", "--readiness-path", "healthz"}, 2, `--readiness-path "healthz": must be a URL path starting with /`},
	} {
		code, _, errOut := run(t, append([]string{"deploy-config", "--dir", dir}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "deploy")); !os.IsNotExist(err) {
		t.Errorf("deploy/ exists after bad input: %v", err)
	}
	code, _, errOut := run(t, "deploy-config", "all", "--dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "no scaffold.yaml in ") {
		t.Errorf("not a project: exit %d, %q", code, errOut)
	}
}

func TestCheck(t *testing.T) {
	testenv.Tool(t, "nginx")
	testenv.Tool(t, "systemd-analyze")
	dir := newProject(t)
	prefix := filepath.Join(t.TempDir(), "opt")
	bin := filepath.Join(prefix, "bin", "demo")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	code, out, errOut := run(t, "deploy-config", "all", "--dir", dir, "--check", "--prefix", prefix, "--nginx-log-dir", logs)
	if code != 0 || strings.Contains(errOut, "skipped") {
		t.Fatalf("--check: exit %d\n%s%s", code, out, errOut)
	}
	// What ran is said, not only what did not.
	for _, want := range []string{"check passed: nginx -t: the site loads in nginx\n", "check passed: systemd-analyze verify: the socket and service units\n", "check passed: systemd-analyze security: exposure "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--check does not say %q:\n%s", want, errOut)
		}
	}
	// Before `make install`: the files are checked and written, and the one thing not
	// checked, the missing binary, is named with what to do.
	code, _, errOut = run(t, "deploy-config", "all", "--dir", dir, "--check", "--out", "before-install", "--prefix", filepath.Join(t.TempDir(), "none"), "--nginx-log-dir", logs)
	if code != 0 || !strings.Contains(errOut, "is not installed yet: run `make install`") {
		t.Fatalf("--check before make install: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "before-install", "systemd", "demo.service")); err != nil {
		t.Errorf("--check before make install wrote no unit: %v", err)
	}
	// A certificate that does not exist fails nginx -t: nothing is written.
	code, _, errOut = run(t, "deploy-config", "nginx", "--dir", dir, "--check", "--out", "other", "--https", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem", "--nginx-log-dir", logs)
	if code != 1 || !strings.Contains(errOut, "nginx -t") || !strings.Contains(errOut, "nothing written") {
		t.Fatalf("--check with a missing certificate: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Error("a failed --check wrote files")
	}
}

// Inside the project, as the packaging's `make package-units` runs it: several targets,
// the package layout, no --dir.
func TestInProjectFolderWithPackageLayout(t *testing.T) {
	dir := newProject(t)
	t.Chdir(dir)
	code, out, errOut := run(t, "deploy-config", "systemd", "logrotate", "--prefix", "/usr/share/demo", "--bin", "/usr/bin/demo",
		"--config-dir", "/etc/demo", "--static-dir", "/usr/share/demo/static", "--web-group", "nginx", "--out", "packaging/rpm")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	unit, err := os.ReadFile(filepath.Join(dir, "packaging", "rpm", "systemd", "demo.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=/usr/bin/demo -c /etc/demo -b fd://3\n", "WorkingDirectory=/usr/share/demo\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("demo.service lacks %q", want)
		}
	}
	sock, _ := os.ReadFile(filepath.Join(dir, "packaging", "rpm", "systemd", "demo.socket"))
	if !strings.Contains(string(sock), "SocketGroup=nginx\n") {
		t.Errorf("demo.socket:\n%s", sock)
	}
	if _, err := os.Stat(filepath.Join(dir, "packaging", "rpm", "nginx")); !os.IsNotExist(err) {
		t.Errorf("nginx written although not asked for: %v", err)
	}
}

// The record goes in scaffold.yaml whatever --out is, and the command says so; --out the
// project folder itself is refused (its README.md is the project's), nothing written.
func TestOutRecordedInScaffoldYAML(t *testing.T) {
	dir := newProject(t)
	before := snapshot(t, dir)
	code, _, errOut := run(t, "deploy-config", "nginx", "--dir", dir, "--out", ".")
	if code == 0 || !strings.Contains(errOut, `--out "."`) || !strings.Contains(errOut, "project folder itself") {
		t.Fatalf("--out .: exit %d, want a refusal naming --out:\n%s", code, errOut)
	}
	if after := snapshot(t, dir); len(after) != len(before) || after["README.md"] != before["README.md"] {
		t.Fatal("a refused --out . wrote into the project")
	}
	ops := filepath.Join(filepath.Dir(dir), "ops")
	code, out, errOut := run(t, "deploy-config", "nginx", "--dir", dir, "--out", "../ops")
	if code != 0 || !strings.Contains(out, "create    "+filepath.Join(ops, "nginx/demo.conf")) || !strings.Contains(out, "recorded  "+filepath.Join(dir, "scaffold.yaml")) {
		t.Fatalf("--out ../ops: exit %d\n%s%s", code, out, errOut)
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	site, _ := os.ReadFile(filepath.Join(ops, "nginx", "demo.conf"))
	if m.Files["../ops/nginx/demo.conf"] != state.FileChecksum(site) {
		t.Errorf("scaffold.yaml files: %v, want ../ops/nginx/demo.conf recorded", m.DerivedFrom)
	}
}
