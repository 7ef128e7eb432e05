package project

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
	"github.com/scaffoldgo/scaffold/internal/testgen"
)

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return goCmdEnv(t, dir, nil, args...)
}

// goCmdEnv is goCmd with extra environment variables.
func goCmdEnv(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// From the module cache only, as a user without network would build; plain
	// `go build` works too wherever the proxy is reachable.
	cmd.Env = testenv.OfflineGoEnv(env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// generateInto writes the project generated with opts into a folder of the test's, at the
// path the last test with a project of that name had (internal/testgen): what an earlier
// test built there is in the build cache.
func generateInto(t *testing.T, opts Options) string {
	t.Helper()
	ctx, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return testgen.Commit(t, ctx.Files, opts.Name)
}

// TestGeneratedProjectBuildsVetsAndTests runs, for each option set that changes the
// output, what a user runs first: go build, go vet, go test (the project's own unit and
// integration tests, which start both real servers).
func TestGeneratedProjectBuildsVetsAndTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds generated projects; skipped with -short")
	}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := generateInto(t, tc.opts)
			pkgs := []string{"/factory", "/test", "/web", "/web/home", "/web/httpjson", "/web/layout"}
			for _, m := range tc.opts.Modules {
				pkgs = append(pkgs, "/"+m.Dir())
			}
			var env []string
			if tc.opts.Database != "" && tc.opts.Database != state.DatabaseNone {
				downloadDBModules(t, dir)
				pkgs = append(pkgs, "/web/notes")
			}
			if tc.opts.Database == state.DatabasePostgres {
				pg := testenv.StartPostgres(t, "notes")
				env = append(env, "TEST_DATABASE_DSN="+pg.DSN())
			}
			goCmd(t, dir, "build", "./...")
			goCmd(t, dir, "vet", "./...")
			out := goCmdEnv(t, dir, env, "test", "-count=1", "-v", "./...")
			if strings.Contains(out, "--- SKIP") {
				t.Errorf("a test of the generated project skipped:\n%s", out)
			}
			for _, pkg := range pkgs {
				if !strings.Contains(out, "ok  \t"+tc.opts.moduleOrName()+pkg) {
					t.Errorf("go test output lacks a passing %s:\n%s", pkg, out)
				}
			}
			if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("gofmt -l: %v %s", err, out)
			}
			if len(tc.opts.Modules) > 0 {
				checkModulesServed(t, dir, tc.opts.Modules)
			}
		})
	}
}

// checkModulesServed starts the development entry and asks each module's routes.
func checkModulesServed(t *testing.T, dir string, modules []state.Module) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dev")
	goCmd(t, dir, "build", "-o", bin, "./run")
	addr := testenv.FreeAddr(t)
	_, done := startServer(t, dir, bin, "-b", addr)
	base := "http://" + addr
	waitOK(t, base+"/healthz", done)
	for _, m := range modules {
		var paths []string
		if m.Page {
			paths = append(paths, "/"+m.Name+"/")
		}
		if m.API {
			paths = append(paths, "/api/"+m.Name)
		}
		for _, p := range paths {
			resp, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), m.GoName()) {
				t.Errorf("GET %s = %d %s, want 200 naming %s", p, resp.StatusCode, body, m.GoName())
			}
		}
	}
}

func (o Options) moduleOrName() string {
	if o.Module != "" {
		return o.Module
	}
	return o.Name
}

// TestProductionEntryRunsWorkerProcesses checks the prefork model from outside: with -w 2
// the master has two worker children, and the page is served.
func TestProductionEntryRunsWorkerProcesses(t *testing.T) {
	dir, bin := buildProductionEntry(t, Options{Name: "demo"})

	checkEnvironmentPolicy(t, dir, bin)
	checkSourceTreeIsChosen(t, dir, bin)

	addr, metrics := testenv.FreeAddr(t), testenv.FreeAddr(t)
	t.Setenv("APP_SERVER_METRICS_BIND", metrics) // config.yaml's server.metrics_bind
	t.Setenv("APP_PORT", "tcp://10.96.0.7:8000") // a Service named app: warned about, never fatal
	cmd, done := startServer(t, dir, bin, "-b", addr, "-w", "2")
	waitOK(t, "http://"+addr+"/", done)
	checkMetricsAndRequestID(t, addr, metrics)
	var kids []int
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if kids = children(cmd.Process.Pid); len(kids) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(kids) != 2 {
		t.Fatalf("master %d has %d children %v, want 2 workers", cmd.Process.Pid, len(kids), kids)
	}
	if err := stopServer(t, cmd, done); err != nil {
		t.Fatalf("after SIGTERM the master exited with %v, want status 0", err)
	}
	for _, pid := range kids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("worker %d still alive after the master stopped", pid)
		}
	}
}

// buildProductionEntry generates a project and builds its production entry (./wsgi) as
// bin; it skips with -short.
func buildProductionEntry(t *testing.T, opts Options) (dir, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	dir = generateInto(t, opts)
	bin = filepath.Join(t.TempDir(), opts.Name)
	goCmd(t, dir, "build", "-o", bin, "./wsgi")
	return dir, bin
}

// checkEnvironmentPolicy runs `demo --check-config` as a platform would leave the
// environment: an APP_* variable naming no section is one warning line and exit 0; a
// misspelt key of a known section is refused, naming the closest key.
func checkEnvironmentPolicy(t *testing.T, dir, bin string) {
	t.Helper()
	run := func(env ...string) (string, error) {
		cmd := exec.Command(bin, "--check-config")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"APP_SOURCE_TREE=1"}, env...)...) // as make serve
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("APP_FOO=1")
	if err != nil {
		t.Fatalf("APP_FOO=1 demo --check-config: %v, want exit 0\n%s", err, out)
	}
	var warnings []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "APP_FOO") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "warning: APP_FOO: no effect: names no section of config") || !strings.Contains(out, "configuration OK") {
		t.Errorf("APP_FOO=1 demo --check-config: want one warning line about APP_FOO, then configuration OK; got\n%s", out)
	}
	out, err = run("APP_SERVER_WROKERS=3")
	if err == nil || !strings.Contains(out, `APP_SERVER_WROKERS: no such setting (did you mean "APP_SERVER_WORKERS"?)`) {
		t.Errorf("APP_SERVER_WROKERS=3 demo --check-config: %v, want a refusal naming APP_SERVER_WORKERS; got\n%s", err, out)
	}
}

// checkSourceTreeIsChosen runs `demo --print-config` in production mode from the project
// root, scaffold.yaml beside config/: setting.yaml's source_tree section applies only with
// APP_SOURCE_TREE=1 (what make serve sets), never because of where the binary starts; a
// value other than 1 or 0 is refused, naming the variable.
func checkSourceTreeIsChosen(t *testing.T, dir, bin string) {
	t.Helper()
	run := func(env ...string) (string, error) {
		cmd := exec.Command(bin, "--print-config")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"APP_ENV=production", "APP_SOURCE_TREE="}, env...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if _, err := os.Stat(filepath.Join(dir, state.ManifestFile)); err != nil {
		t.Fatalf("the project root has no %s to tempt the binary: %v", state.ManifestFile, err)
	}
	out, err := run()
	if err != nil || !strings.Contains(out, "static_dir: static # config/setting.yaml:") {
		t.Errorf("demo --print-config from the project root, untold: %v; want production's static_dir, not source_tree's:\n%s", err, out)
	}
	out, err = run("APP_SOURCE_TREE=1")
	if err != nil || !strings.Contains(out, "static_dir: web/static # config/setting.yaml:") {
		t.Errorf("APP_SOURCE_TREE=1 demo --print-config: %v; want source_tree's static_dir:\n%s", err, out)
	}
	if out, err = run("APP_SOURCE_TREE=yes"); err == nil || !strings.Contains(out, "APP_SOURCE_TREE: must be 1") {
		t.Errorf("APP_SOURCE_TREE=yes demo --print-config: %v, want a refusal naming the variable:\n%s", err, out)
	}
}

// TestDevelopmentEntryServesOnBind checks `go run ./run -b ADDR` answers 200 on /.
func TestDevelopmentEntryServesOnBind(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	dir := generateInto(t, Options{Name: "shop-api"})
	bin := filepath.Join(t.TempDir(), "shop-api-dev")
	goCmd(t, dir, "build", "-o", bin, "./run")
	addr := testenv.FreeAddr(t)
	_, done := startServer(t, dir, bin, "-b", addr)
	waitOK(t, "http://"+addr+"/", done)
}

// startServer starts bin in dir (development mode, unless the test set APP_ENV) and kills
// it when the test ends. The returned channel yields Wait's result once; a reader that is
// not the last puts it back.
func startServer(t *testing.T, dir, bin string, args ...string) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"APP_ENV=development"}, os.Environ()...) // the last of a name wins
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done
}

// stopServer sends the master SIGTERM and waits, 30 s at most, for it to exit; it returns
// Wait's result and puts it back for the next reader of done.
func stopServer(t *testing.T, cmd *exec.Cmd, done chan error) error {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("master still running 30s after SIGTERM")
		return nil
	}
}

func waitOK(t *testing.T, url string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("server exited before answering %s: %v", url, err)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 20s", url)
}

// children lists the pids whose parent is pid, from /proc.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// downloadDBModules fills the module cache with what a --db project needs (its go.mod pins
// scaffold's own versions), so the offline build that follows finds them; a fresh machine
// fetches them here once, as a user's first build does.
func downloadDBModules(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod download in %s: %v\n%s", dir, err, out)
	}
}

// checkMetricsAndRequestID: a page's answer carries an X-Request-Id, and the master's
// metrics listener counts the page once a heartbeat brought the worker's figures.
func checkMetricsAndRequestID(t *testing.T, addr, metrics string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); len(id) != 32 {
		t.Errorf("X-Request-Id %q, want 32 hex digits", id)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var body []byte
		if resp, err := http.Get("http://" + metrics + "/metrics"); err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		for _, l := range strings.Split(string(body), "\n") {
			// the route label is the app's ServeMux pattern, read back through its middleware
			if series, v, ok := strings.Cut(l, " "); ok && strings.HasPrefix(series, "http_server_request_duration_seconds_count{") &&
				strings.Contains(series, `http_route="/api/hello"`) && strings.Contains(series, `http_response_status_code="200"`) {
				if n, _ := strconv.Atoi(v); n >= 1 {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics at %s do not count the requests:\n%s", metrics, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
