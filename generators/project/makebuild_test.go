package project

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestMakeBuildStampsVersion: `make build` stamps git describe's version into both
// binaries, so -v says v1.2.3, not Go's "(devel)".
func TestMakeBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")
	git := testenv.Tool(t, "git")
	dir := generateInto(t, Options{Name: "demo"})
	for _, args := range [][]string{
		{"init", "--quiet"}, {"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "first"},
		{"tag", "v1.2.3"},
	} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, ok := runMake(t, makeBin, dir, "build"); !ok {
		t.Fatalf("make build:\n%s", out)
	}
	for _, bin := range []string{"demo", "demo-dev"} {
		cmd := exec.Command("./bin/"+bin, "-v") // from the project's root, as the README says
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != bin+" (version v1.2.3)\n" {
			t.Errorf("bin/%s -v = %q (%v), want %q", bin, out, err, bin+" (version v1.2.3)\n")
		}
	}
}

// TestMakeHelpShowsValues: every target's line in `make help` shows values (the image tag is
// VERSION without its v, as goreleaser tags), never a
// make variable such as $(IMAGE):$(TAG).
func TestMakeHelpShowsValues(t *testing.T) {
	makeBin := testenv.Tool(t, "make")
	dir := generateInto(t, Options{Name: "demo", Database: state.DatabasePostgres})
	out, ok := runMake(t, makeBin, dir, "help", "VERSION=v9")
	if !ok || strings.Contains(out, "$(") || !strings.Contains(out, "localhost/demo:9") || !strings.Contains(out, "/opt/demo") {
		t.Errorf("make help:\n%s", out)
	}
}

// TestMakeServeAfterRunRecompilesNothing: `make run` and `make build` (which `make serve`
// runs) build with the same flags, so after the first, the second compiles no dependency
// and no standard library package again: only the other entry's main package. Each
// compile's build cache key is its action ID, the first half of the -buildid that go
// build -n prints for it: from an empty build cache, as a new user's first hour, -n lists
// every compile the build would run, with its key, and runs none (compiling them for real,
// the standard library first, cost a minute and a half of CPU for the same answer). A
// package of make build's with a key make run's compiles lack would compile again.
func TestMakeServeAfterRunRecompilesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("plans a generated project's builds from an empty build cache; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")
	dir := generateInto(t, Options{Name: "demo"})
	cache := t.TempDir()
	run := func(args ...string) map[string]bool {
		t.Helper()
		cmd := exec.Command(makeBin, args...)
		cmd.Dir = dir
		cmd.Env = testenv.OfflineGoEnv("GOCACHE="+cache, "GOFLAGS=-mod=mod -n")
		out, _ := cmd.CombinedOutput() // make run fails after go build -n: no binary to start
		return compileKeys(t, string(out))
	}
	first := run("run", "BIND=256.0.0.1:1")
	if !hasPackage(first, "fmt") || !hasPackage(first, "demo/internal/prefork") {
		t.Fatalf("make run from an empty cache would compile %d packages, without fmt or demo/internal/prefork: want the standard library and the runtime", len(first))
	}
	var again []string
	for compile := range run("build") { // both entries' builds: each must find its keys
		if !first[compile] {
			pkg, _, _ := strings.Cut(compile, " ")
			again = append(again, pkg)
		}
	}
	if len(again) > 0 {
		slices.Sort(again)
		t.Errorf("make build after make run would compile %d packages again (%s ...): the two builds' flags differ", len(again), strings.Join(again[:min(5, len(again))], " "))
	}
}

// compileKeys is the set of "package actionID" of each compile of a package other than
// main in go build -n output (the action ID is the build cache's key: -buildid
// ACTION/CONTENT). A package two builds compile with different flags is in it twice.
func compileKeys(t *testing.T, out string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "/compile ") {
			continue
		}
		var pkg, id string
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "-p":
				pkg = f[i+1]
			case "-buildid":
				id, _, _ = strings.Cut(f[i+1], "/")
			}
		}
		if pkg == "" || id == "" {
			t.Fatalf("a compile line without -p or -buildid: %s", l)
		}
		if pkg != "main" {
			keys[pkg+" "+id] = true
		}
	}
	return keys
}

// hasPackage says whether compiles, as compileKeys returns them, compile pkg.
func hasPackage(compiles map[string]bool, pkg string) bool {
	for c := range compiles {
		if strings.HasPrefix(c, pkg+" ") {
			return true
		}
	}
	return false
}

// TestSQLiteFirstBuildSaysAMinute: the first build of a --db sqlite project, which compiles
// the SQLite driver (about a minute), says so before it starts; once it is in the build
// cache, nothing is said.
func TestSQLiteFirstBuildSaysAMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")
	dir := generateInto(t, Options{Name: "notes-lite", Database: state.DatabaseSQLite}) // as the golden sqlite case: in the build cache
	downloadDBModules(t, dir)
	const notice = "First build with the SQLite driver (modernc.org/sqlite): compiling it takes about a minute, once"

	// From an empty build cache: the notice comes first; the build itself is not waited for.
	cmd := exec.Command(makeBin, "build")
	cmd.Dir = dir
	cmd.Env = testenv.OfflineGoEnv("GOCACHE=" + t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Stopped once its first line is in: left running until the test ends, the cold build
	// compiled beside the rest of it, half the test's CPU (12 of 24 s, measured).
	stop := sync.OnceFunc(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	defer stop()
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stderr).ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if !strings.Contains(line, notice) {
			t.Errorf("make build's first line from an empty cache = %q, want the notice", line)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("make build said nothing in 60s")
	}
	stop()

	// With the driver in the cache (the test suite's own build cache), nothing is said.
	goCmd(t, dir, "build", "./...")
	out, ok := runMake(t, makeBin, dir, "build")
	if !ok || strings.Contains(out, notice) {
		t.Errorf("make build with a warm cache:\n%s", out)
	}
}

// TestConfigSaysTemplatesAreEmbedded: config.yaml promises no template reloading: the
// page templates are embedded in the binary.
func TestConfigSaysTemplatesAreEmbedded(t *testing.T) {
	dir := generateInto(t, Options{Name: "demo"})
	cfg, err := os.ReadFile(filepath.Join(dir, "config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.ReadFile(filepath.Join(dir, "web", "home", "home.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(cfg)), "template reloading") || !strings.Contains(string(cfg), "Templates are compiled in.") {
		t.Errorf("config.yaml's debug comment:\n%s", cfg)
	}
	if !strings.Contains(string(home), "//go:embed templates/") {
		t.Error("web/home no longer embeds its templates: config.yaml's comment is wrong")
	}
}
