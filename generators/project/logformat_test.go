package project

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestOneLogFormat: logging.yaml's format holds for every line, wherever the log goes:
// with format json and --error-logfile FILE, the master's, the workers' and the app's
// lines in FILE are all JSON (the runtime used to switch to text), and --print-config
// shows that output, level and format, with where each came from.
func TestOneLogFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	dir := generateInto(t, Options{Name: "demo"})
	bin := filepath.Join(t.TempDir(), "demo")
	goCmd(t, dir, "build", "-o", bin, "./wsgi")
	logFile := filepath.Join(t.TempDir(), "error.log")
	t.Setenv("APP_LOGGING_FORMAT", "json")

	cmd := exec.Command(bin, "--print-config", "--error-logfile", logFile, "--log-level", "debug")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APP_ENV=development")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--print-config: %v\n%s", err, out)
	}
	for _, want := range []string{
		"format: json # env APP_LOGGING_FORMAT",
		"output: " + logFile + " # flag --error-logfile",
		"level: debug # flag --log-level",
		"#   errorlog = " + logFile,
		"#   loglevel = debug",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}

	addr := testenv.FreeAddr(t)
	server, done := startServer(t, dir, bin, "-b", addr, "-w", "1", "--error-logfile", logFile)
	waitOK(t, "http://"+addr+"/healthz", done)
	if resp, err := http.Get("http://" + addr + "/no-such-page"); err == nil {
		resp.Body.Close()
	}
	stopServer(t, server, done)
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	pids := map[float64]bool{}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON line in %s: %q", logFile, line)
			continue
		}
		if pid, ok := rec["pid"].(float64); ok {
			pids[pid] = true
		}
	}
	// The master and its worker both wrote there (their lines carry their pid).
	if len(pids) < 2 {
		t.Errorf("%s has lines from %d processes, want the master's and the worker's:\n%s", logFile, len(pids), data)
	}
}
