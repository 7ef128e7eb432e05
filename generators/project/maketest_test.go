package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// runMake runs make in dir with the environment a developer has (offline Go, no database
// variables of this machine's) and returns its output and whether it exited 0.
func runMake(t *testing.T, makeBin, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(makeBin, args...)
	cmd.Dir = dir
	for _, kv := range testenv.OfflineGoEnv() {
		if !strings.HasPrefix(kv, "TEST_DATABASE_DSN=") && !strings.HasPrefix(kv, "APP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// TestMakeTestSkipsNothingSilently: in a --db postgres project, `make db` starts a
// throwaway PostgreSQL (data/postgres, unix socket only) and `make test` then runs every
// test, none skipped; after `make db-stop` the database's tests skip and `make test`
// names them on one line with the command that runs them. A --db sqlite project's tests
// never skip, and `make serve` says .env is not read in production mode.
func TestMakeTestSkipsNothingSilently(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests generated projects; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")

	t.Run("postgres", func(t *testing.T) {
		if bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(bins) == 0 {
			testenv.Tool(t, "pg_ctl", "apt-get install postgresql")
		}
		// As root, the cluster belongs to the postgres user, who must reach it: testgen's
		// folders are 0755, where t.TempDir's top folder is 0700. TestPostgresEndToEnd's
		// name and options, so the packages it compiled there are in the build cache.
		dir := generateInto(t, Options{Name: "notes-pg", Database: state.DatabasePostgres})
		downloadDBModules(t, dir)

		out, ok := runMake(t, makeBin, dir, "db")
		t.Cleanup(func() { runMake(t, makeBin, dir, "db-stop") })
		if !ok || !strings.Contains(out, "PostgreSQL runs on data/postgres") {
			t.Fatalf("make db:\n%s", out)
		}
		if out, ok := runMake(t, makeBin, dir, "db"); !ok {
			t.Fatalf("make db a second time (the server runs already):\n%s", out)
		}
		out, ok = runMake(t, makeBin, dir, "test")
		if !ok || strings.Contains(out, "SKIPPED") || !strings.Contains(out, "ok  \tnotes-pg/web/notes") || !strings.Contains(out, "ok  \tnotes-pg/test") {
			t.Fatalf("make test with make db's server: want every test run, none skipped:\n%s", out)
		}

		if out, ok := runMake(t, makeBin, dir, "db-stop"); !ok {
			t.Fatalf("make db-stop:\n%s", out)
		}
		out, ok = runMake(t, makeBin, dir, "test")
		var skipLines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "SKIPPED ") {
				skipLines = append(skipLines, l)
			}
		}
		if !ok || len(skipLines) != 1 || !strings.Contains(skipLines[0], "notes-pg/web/notes TestCreateGetList") ||
			!strings.Contains(skipLines[0], "notes-pg/test TestDevelopmentEntry") || !strings.Contains(skipLines[0], "run `make db`") {
			t.Fatalf("make test without a database: want it to pass and one line naming the skipped tests and make db:\n%s", out)
		}
	})

	t.Run("sqlite", func(t *testing.T) {
		dir := generateInto(t, Options{Name: "notes-lite", Database: state.DatabaseSQLite}) // as the golden sqlite case: in the build cache
		downloadDBModules(t, dir)
		out, ok := runMake(t, makeBin, dir, "test")
		if !ok || strings.Contains(out, "SKIPPED") || !strings.Contains(out, "ok  \tnotes-lite/web/notes") || !strings.Contains(out, "ok  \tnotes-lite/test") {
			t.Fatalf("make test: want every test run, none skipped:\n%s", out)
		}
		// .env is development-only: make serve says so where it would otherwise surprise.
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("APP_DATABASE_DSN=data/other.db\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok = runMake(t, makeBin, dir, "serve", "BIND=256.0.0.1:1") // refused at once: nothing serves
		if ok || !strings.Contains(out, "note: .env is read in development only (make run); make serve runs production mode, which ignores it") {
			t.Errorf("make serve with a .env:\n%s", out)
		}
	})
}
