package project

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own look at pg_stat_activity

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// dbServer is a generated project's production entry started by a test, with its output.
type dbServer struct {
	cmd    *exec.Cmd
	base   string
	stderr *testenv.Buffer
	done   chan error
}

// buildDBProject generates a --db project, fills the module cache and builds its
// production entry.
func buildDBProject(t *testing.T, opts Options) (dir, bin string) {
	t.Helper()
	dir = generateInto(t, opts)
	downloadDBModules(t, dir)
	bin = filepath.Join(t.TempDir(), opts.Name)
	goCmd(t, dir, "build", "-o", bin, "./wsgi")
	return dir, bin
}

// prodEnv is production mode from the source tree (as `make serve`), pointed at dsn.
func prodEnv(dsn string, extra ...string) []string {
	return append(append(os.Environ(), "APP_ENV=production", "APP_SOURCE_TREE=1", "APP_APP_STATIC_DIR=web/static",
		"APP_SERVER_CONTROL_SOCKET=", "APP_LOGGING_ACCESS_LOG_ENABLED=false", "APP_DATABASE_DSN="+dsn), extra...)
}

// runBin runs bin with args to completion and returns its combined output and error.
func runBin(t *testing.T, dir, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v still running after 60s:\n%s", bin, args, out)
	}
	return string(out), err
}

// startDBServer starts the production entry with workers workers and waits for /readyz.
func startDBServer(t *testing.T, dir, bin string, env []string, workers int) *dbServer {
	t.Helper()
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(bin, "-b", addr, "-w", fmt.Sprint(workers))
	cmd.Dir = dir
	cmd.Env = env
	s := &dbServer{cmd: cmd, base: "http://" + addr, stderr: &testenv.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.stderr)
		}
	})
	s.waitStatus(t, "/readyz", http.StatusOK, 1, 30*time.Second)
	return s
}

// waitStatus waits until path answers want n times in a row.
func (s *dbServer) waitStatus(t *testing.T, path string, want, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	streak := 0
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("server exited (%v) while waiting for %s to answer %d:\n%s", err, path, want, s.stderr)
		default:
		}
		code := 0
		if resp, err := http.Get(s.base + path); err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		if code == want {
			if streak++; streak >= n {
				return
			}
		} else {
			streak = 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d %d times in a row within %s", path, want, n, within)
}

// loadResult counts a load run's answers.
type loadResult struct {
	ok, failed int64
	failures   map[string]int // by status or error
	ids        []int64        // of the notes created
	elapsed    time.Duration
}

func (r *loadResult) String() string {
	return fmt.Sprintf("%d requests, %d failed %v, in %s (%.0f req/s)", r.ok+r.failed, r.failed, r.failures, r.elapsed.Round(time.Millisecond), float64(r.ok+r.failed)/r.elapsed.Seconds())
}

// load sends requests from clients concurrent clients, each alternating POST /api/notes and
// GET /api/notes (writeOnly: POST only), until total requests are sent or within has passed.
func load(base string, clients, total int, within time.Duration, writeOnly bool) *loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	res := &loadResult{failures: map[string]int{}}
	var mu sync.Mutex
	var sent atomic.Int64
	deadline := time.Now().Add(within)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if n := sent.Add(1); n > int64(total) || time.Now().After(deadline) {
					return
				}
				var resp *http.Response
				var err error
				write := writeOnly || i%2 == 0
				if write {
					resp, err = client.Post(base+"/api/notes", "application/json", strings.NewReader(`{"body":"load"}`))
				} else {
					resp, err = client.Get(base + "/api/notes")
				}
				why := ""
				var id int64
				if err != nil {
					why = err.Error()
				} else {
					var note struct {
						ID int64 `json:"id"`
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					want := http.StatusOK
					if write {
						want = http.StatusCreated
						_ = json.Unmarshal(body, &note)
						id = note.ID
					}
					if resp.StatusCode != want {
						why = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
					}
				}
				mu.Lock()
				if why == "" {
					res.ok++
					if id > 0 {
						res.ids = append(res.ids, id)
					}
				} else {
					res.failed++
					res.failures[why]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// connMonitor samples the client connections to database every 10ms until stopped and
// keeps the largest count seen.
type connMonitor struct {
	max, samples atomic.Int64
	stop         chan struct{}
	done         chan struct{}
}

func watchConnections(t *testing.T, pg *testenv.Postgres, database string) *connMonitor {
	t.Helper()
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@/postgres?host=%s&sslmode=disable", pg.Dir))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	m := &connMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		defer db.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var n int64
			if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", database).Scan(&n); err == nil {
				m.samples.Add(1)
				if n > m.max.Load() {
					m.max.Store(n)
				}
			}
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *connMonitor) finish() (max, samples int64) {
	close(m.stop)
	<-m.done
	return m.max.Load(), m.samples.Load()
}

// TestPostgresEndToEnd drives a generated --db postgres project against a real PostgreSQL
// server of its own: migrations as a deploy step, the pool cap across 4 workers under load,
// a HUP under load, the database stopped and started mid-run, and bad DSNs at boot.
func TestPostgresEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project and starts PostgreSQL; skipped with -short")
	}
	pg := testenv.StartPostgres(t, "app")
	dir, bin := buildDBProject(t, Options{Name: "notes-pg", Database: state.DatabasePostgres})
	const capTotal = 8
	env := prodEnv(pg.DSN(), fmt.Sprintf("APP_DATABASE_MAX_TOTAL_CONNS=%d", capTotal))

	t.Run("bad DSN at boot", func(t *testing.T) {
		for name, dsn := range map[string]string{
			"unreachable server": "postgres://app:s3cret@127.0.0.1:1/app?connect_timeout=3",
			"no socket":          "postgres://app:s3cret@/app?host=" + filepath.Join(pg.Dir, "nowhere"),
			"malformed":          "postgres://app:s3cret@[bad/app",
		} {
			out, err := runBin(t, dir, bin, prodEnv(dsn), "-b", testenv.FreeAddr(t), "-w", "4")
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("%s: exit %v, want a non-zero exit:\n%s", name, err, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "notes-pg: ") || !strings.Contains(last, "database.dsn") || !strings.Contains(last, "APP_DATABASE_DSN") {
				t.Errorf("%s: last line %q, want the one error naming database.dsn and APP_DATABASE_DSN:\n%s", name, last, out)
			}
			if strings.Contains(out, "s3cret") || strings.Contains(out, "goroutine ") || strings.Count(out, "database.dsn") != 1 {
				t.Errorf("%s: output leaks the password, has a stack trace or repeats the error:\n%s", name, out)
			}
			t.Logf("%s: %s", name, last)
		}
	})

	t.Run("migrate up and status", func(t *testing.T) {
		out, err := runBin(t, dir, bin, env, "migrate", "status")
		if err != nil || !strings.Contains(out, "pending") || !strings.Contains(out, "00001_create_notes.sql") {
			t.Fatalf("migrate status before up: %v\n%s", err, out)
		}
		out, err = runBin(t, dir, bin, env, "migrate", "up")
		if err != nil || !strings.Contains(out, "up 00001_create_notes.sql") || !strings.Contains(out, "database at version 1") {
			t.Fatalf("migrate up: %v\n%s", err, out)
		}
		out, err = runBin(t, dir, bin, env, "migrate", "status")
		if err != nil || !strings.Contains(out, "applied") || strings.Contains(out, "pending") || !strings.Contains(out, "database at version 1") {
			t.Fatalf("migrate status after up: %v\n%s", err, out)
		}
		t.Logf("migrate status:\n%s", out)
		out, err = runBin(t, dir, bin, env, "migrate", "up")
		if err != nil || !strings.Contains(out, "no pending migrations") {
			t.Fatalf("second migrate up: %v\n%s", err, out)
		}
		out, err = runBin(t, dir, bin, env, "migrate", "sideways")
		if err == nil || !strings.Contains(out, `unknown action "sideways"`) {
			t.Errorf("migrate sideways: %v\n%s", err, out)
		}
	})
	// The DSN as a file (APP_DATABASE_DSN_FILE, systemd's $CREDENTIALS_DIRECTORY): the app
	// connects with it, and it is in no process's environment, only its path.
	t.Run("DSN as a file, never in the environment", func(t *testing.T) {
		secrets := t.TempDir()
		file := filepath.Join(secrets, "database.dsn")
		// A password the test server (trust on its socket) does not ask for, to look for.
		dsn := strings.Replace(pg.DSN(), "://postgres@", "://postgres:s3cret@", 1)
		if dsn == pg.DSN() {
			t.Fatalf("no user in %s to give a password", pg.DSN())
		}
		if err := os.WriteFile(file, []byte(dsn+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fileEnv := append(slices.DeleteFunc(prodEnv(""), func(kv string) bool { return strings.HasPrefix(kv, "APP_DATABASE_DSN=") }), "APP_DATABASE_DSN_FILE="+file)
		srv := startDBServer(t, dir, bin, fileEnv, 2) // /readyz 200: the workers reach the database
		pids := append([]int{srv.cmd.Process.Pid}, children(srv.cmd.Process.Pid)...)
		if len(pids) != 3 {
			t.Fatalf("master and workers %v, want 3 processes", pids)
		}
		for _, pid := range pids {
			environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(environ), "s3cret") || !strings.Contains(string(environ), "APP_DATABASE_DSN_FILE="+file) {
				t.Errorf("process %d: the password is in its environment, or the file's path is not", pid)
			}
		}
		if log := srv.stderr.String(); strings.Contains(log, "s3cret") || !strings.Contains(log, "postgres:xxxxx@") {
			t.Errorf("the log shows the password, or not the DSN masked:\n%s", log)
		}
		out, err := runBin(t, dir, bin, fileEnv, "--print-config")
		if err != nil || !strings.Contains(out, "# env APP_DATABASE_DSN_FILE (file "+file+")") || strings.Contains(out, "s3cret") {
			t.Errorf("--print-config with APP_DATABASE_DSN_FILE: %v\n%s", err, out)
		}
		credEnv := append(slices.DeleteFunc(prodEnv(""), func(kv string) bool { return strings.HasPrefix(kv, "APP_DATABASE_DSN=") }), "CREDENTIALS_DIRECTORY="+secrets)
		out, err = runBin(t, dir, bin, credEnv, "--print-config")
		if err != nil || !strings.Contains(out, "# credential database.dsn") || strings.Contains(out, "s3cret") {
			t.Errorf("--print-config with a systemd credential: %v\n%s", err, out)
		}
	})
	if t.Failed() {
		return
	}

	srv := startDBServer(t, dir, bin, env, 4)
	if !strings.Contains(srv.stderr.String(), "pool_per_worker=2") && !strings.Contains(srv.stderr.String(), `"pool_per_worker":2`) {
		t.Errorf("start-up log lacks the pool size (8 / 4 workers = 2):\n%s", srv.stderr)
	}

	t.Run("pool cap across 4 workers under load", func(t *testing.T) {
		mon := watchConnections(t, pg, "app")
		res := load(srv.base, 32, 20000, 60*time.Second, false)
		max, samples := mon.finish()
		t.Logf("4 workers, max_total_conns %d, 32 clients: %s; connections: max %d in %d samples of pg_stat_activity", capTotal, res, max, samples)
		if res.failed > 0 || res.ok == 0 {
			t.Errorf("load: %s", res)
		}
		if max > capTotal || max < 2 {
			t.Errorf("at most %d connections seen, want 2..%d (the cap)", max, capTotal)
		}
	})

	t.Run("HUP under load", func(t *testing.T) {
		mon := watchConnections(t, pg, "app")
		before := children(srv.cmd.Process.Pid)
		var res *loadResult
		loaded := make(chan struct{})
		go func() { res = load(srv.base, 16, 1_000_000, 8*time.Second, false); close(loaded) }()
		pids := before
		for i := 0; i < 2; i++ {
			time.Sleep(time.Second)
			if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			pids = waitNewWorkers(t, srv.cmd.Process.Pid, pids, 4, 30*time.Second)
		}
		<-loaded
		max, samples := mon.finish()
		t.Logf("2 HUPs under load (16 clients): %s; connections: max %d in %d samples (cap %d per generation)", res, max, samples, capTotal)
		if res.failed > 0 || res.ok == 0 {
			t.Errorf("load across HUPs: %s", res)
		}
	})

	t.Run("database stopped mid-run", func(t *testing.T) {
		pids := children(srv.cmd.Process.Pid)
		pg.Stop()
		srv.waitStatus(t, "/readyz", http.StatusServiceUnavailable, 8, 20*time.Second)
		srv.waitStatus(t, "/healthz", http.StatusOK, 1, 5*time.Second)
		resp, err := http.Post(srv.base+"/api/notes", "application/json", strings.NewReader(`{"body":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("POST /api/notes with the database down = %d, want 503", resp.StatusCode)
		}
		down := time.Now()
		pg.Start()
		srv.waitStatus(t, "/readyz", http.StatusOK, 8, 30*time.Second)
		t.Logf("readiness red while the database was down, green %s after it was back", time.Since(down).Round(time.Millisecond))
		res := load(srv.base, 8, 400, 30*time.Second, false)
		if res.failed > 0 {
			t.Errorf("load after the database came back: %s", res)
		}
		after := children(srv.cmd.Process.Pid)
		slices.Sort(pids)
		slices.Sort(after)
		if !slices.Equal(pids, after) {
			t.Errorf("workers %v became %v: a worker was replaced while the database was down (want none)", pids, after)
		}
	})
}

// waitNewWorkers waits until master has n workers, none of them in old, and returns them.
func waitNewWorkers(t *testing.T, master int, old []int, n int, within time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		kids := children(master)
		fresh := len(kids) == n
		for _, k := range kids {
			fresh = fresh && !slices.Contains(old, k)
		}
		if fresh {
			return kids
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("master %d did not replace its workers %v within %s", master, old, within)
	return nil
}

// TestSQLiteConcurrentWriters: 4 workers of a generated --db sqlite project write to one
// file under load, and no request fails (no "database is locked").
func TestSQLiteConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	dir, bin := buildDBProject(t, Options{Name: "notes-lite", Database: state.DatabaseSQLite})
	// max_open_conns 10 x 4 workers is above max_total_conns 20: said at start-up, and capped.
	env := prodEnv(filepath.Join(t.TempDir(), "state", "app.db"), "APP_DATABASE_MAX_OPEN_CONNS=10")
	if out, err := runBin(t, dir, bin, env, "migrate", "up"); err != nil || !strings.Contains(out, "database at version 1") {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	srv := startDBServer(t, dir, bin, env, 4)
	if log := srv.stderr.String(); !strings.Contains(log, "database.max_open_conns 10 x 4 workers = 40 exceeds database.max_total_conns 20: using 5 per worker") {
		t.Errorf("start-up log lacks the warning about the pool sizes:\n%s", log)
	}
	res := load(srv.base, 32, 3000, 60*time.Second, true)
	t.Logf("4 workers, 32 clients writing to one SQLite file: %s", res)
	if res.failed > 0 || res.ok == 0 {
		t.Errorf("load: %s", res)
	}
	seen := map[int64]bool{}
	for _, id := range res.ids {
		seen[id] = true
	}
	if len(seen) != int(res.ok) {
		t.Errorf("%d notes created, %d distinct ids", res.ok, len(seen))
	}
	for _, bad := range []string{"database is locked", "SQLITE_BUSY"} {
		if strings.Contains(srv.stderr.String(), bad) {
			t.Errorf("server log has %q:\n%s", bad, srv.stderr)
		}
	}
}

// TestDBGoModIsTidy: a generated project's go.mod and go.sum (with each --db, and without:
// every project has the OpenTelemetry SDK) are complete and tidy,
// so a user's first `go build -mod=readonly` and `go mod tidy` change nothing. tidy
// considers the tests of every dependency too (goose's need testify, pgx's more), which
// only the module proxy is sure to have, so the check asks it, as a user's tidy would,
// instead of trusting whatever this machine's module cache happens to hold. The "broken"
// subtests prove the check can fail: one requirement dropped from go.mod, one line from go.sum.
func TestDBGoModIsTidy(t *testing.T) {
	for _, db := range state.Databases {
		t.Run(db, func(t *testing.T) {
			dir := generateInto(t, Options{Name: "tidy", Database: db})
			if diff := tidyDiff(t, dir); diff != "" {
				t.Errorf("go mod tidy would change the generated go.mod/go.sum (update baseModules or dbModules in moddeps.go):\n%s", diff)
			}
			t.Run("broken", func(t *testing.T) {
				driver, sum := map[string]string{
					state.DatabaseNone:     "go.opentelemetry.io/otel/sdk ",
					state.DatabaseSQLite:   "modernc.org/sqlite ",
					state.DatabasePostgres: "github.com/jackc/pgx/v5 ",
				}[db], "github.com/pressly/goose/v3 "
				if db == state.DatabaseNone {
					sum = "go.opentelemetry.io/otel/trace "
				}
				for _, c := range []struct{ file, drop string }{
					{"go.mod", "\t" + driver},
					{"go.sum", sum},
				} {
					path := filepath.Join(dir, c.file)
					data := readFile(t, path)
					lines := strings.SplitAfter(data, "\n")
					i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, c.drop) })
					if i < 0 {
						t.Fatalf("%s has no line starting %q to drop", c.file, c.drop)
					}
					writeFile(t, path, strings.Join(slices.Delete(lines, i, i+1), ""))
					if diff := tidyDiff(t, dir); !strings.Contains(diff, strings.TrimSpace(c.drop)) {
						t.Errorf("with a line starting %q dropped from %s, the tidy check passed; diff:\n%s", c.drop, c.file, diff)
					}
					writeFile(t, path, data)
				}
			})
		})
	}
}

// tidyDiff is what `go mod tidy` would change in dir's go.mod and go.sum ("" when they are
// tidy), from the module proxy, never from the cache's state alone.
func tidyDiff(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("go mod tidy -diff in %s: %v\n%s", dir, err, stderr.String())
	}
	return string(out)
}
