package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestGeneratedTestsNeverPassStale proves the generated integration tests cannot report a
// cached pass after a change they would fail on: first a broken handler in web/app.go
// under `make test` (what the README tells users to run), then a broken entry in run/,
// which test/ only reaches through the `go build` subprocess Go's test cache cannot see.
// Without -count=1 both times, and only after checking the cache is really in use.
func TestGeneratedTestsNeverPassStale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a generated project several times; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")
	dir := generateInto(t, Options{Name: "demo", Version: "v0.0.0-test"})
	// Go refuses to cache a run that read a file changed in the last 2 s; date every file
	// an hour back, so the runs below are cacheable and a cached result would be reused.
	base := time.Now().Add(-time.Hour)
	age(t, dir, base)
	goTest := func(wantFail bool) string {
		t.Helper()
		cmd := exec.Command("go", "test", "./test/")
		cmd.Dir = dir
		cmd.Env = testenv.OfflineGoEnv()
		out, err := cmd.CombinedOutput()
		if (err != nil) != wantFail {
			t.Fatalf("go test ./test/: err = %v, want failure %v\n%s", err, wantFail, out)
		}
		return string(out)
	}
	goTest(false)
	if out := goTest(false); !strings.Contains(out, "(cached)") {
		t.Fatalf("an unchanged second run was not cached, so this test would prove nothing:\n%s", out)
	}

	// 1. /healthz broken in web/app.go: `make test` fails.
	appGo := filepath.Join(dir, "web", "app.go")
	original := readFile(t, appGo)
	broken := strings.Replace(original, "`{\"status\":\"ok\"}`", "`{\"status\":\"broken\"}`", 1)
	if broken == original {
		t.Fatal("web/app.go has no healthz body to break")
	}
	writeFile(t, appGo, broken)
	setTime(t, appGo, base.Add(10*time.Minute))
	cmd := exec.Command(makeBin, "test")
	cmd.Dir = dir
	cmd.Env = testenv.OfflineGoEnv()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make test passed with /healthz broken in web/app.go:\n%s", out)
	}
	if !strings.Contains(string(out), "FAIL\tdemo/") {
		t.Errorf("make test failed, but not on a test:\n%s", out)
	}
	writeFile(t, appGo, original)
	setTime(t, appGo, base)
	goTest(false)

	// 2. The development entry broken: test/ does not import run/, only builds it.
	runGo := filepath.Join(dir, "run", "main.go")
	original = readFile(t, runGo)
	broken = strings.Replace(original, "func run(args []string) error {\n", "func run(args []string) error {\n\treturn errors.New(\"broken on purpose\")\n", 1)
	if broken == original {
		t.Fatal("run/main.go has no run function to break")
	}
	// It still compiles: go test vets without the unreachable-code check.
	writeFile(t, runGo, broken)
	setTime(t, runGo, base.Add(20*time.Minute))
	if out := goTest(true); strings.Contains(out, "(cached)") || !strings.Contains(out, "TestDevelopmentEntry") {
		t.Errorf("go test ./test/ after breaking run/main.go:\n%s", out)
	}
}

// age sets every file's times under dir to at.
func age(t *testing.T, dir string, at time.Time) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func setTime(t *testing.T, p string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}
