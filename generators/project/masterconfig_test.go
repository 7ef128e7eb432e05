package project

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestWorkersRunTheMastersConfiguration reproduces a generated service's outage: config/
// edited with no signal (an app: value changed, server.workers broken), then workers
// recycled by max-requests and one SIGKILLed (an OOM kill, say). Workers take the
// configuration their master loaded, so every request is served, with the old app: value;
// a HUP with the broken file changes nothing, and once the file is fixed a HUP applies it.
func TestWorkersRunTheMastersConfiguration(t *testing.T) {
	dir, bin := buildProductionEntry(t, Options{Name: "demo"})
	configPath := filepath.Join(dir, "config", "config.yaml")
	original, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(name, workers string) {
		t.Helper()
		s := strings.Replace(string(original), "\n  name: demo\n", "\n  name: "+name+"\n", 1)
		s = regexp.MustCompile(`\n  workers: \d+\n`).ReplaceAllString(s, "\n  workers: "+workers+"\n")
		if s == string(original) {
			t.Fatal("config/config.yaml has no app.name: demo or server.workers to edit")
		}
		if err := os.WriteFile(configPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	addr := testenv.FreeAddr(t)
	logPath := filepath.Join(t.TempDir(), "demo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-b", addr, "-w", "1", "--max-requests", "3")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APP_ENV=production", "APP_SOURCE_TREE=1") // as make serve
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	master := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(master, syscall.SIGKILL)
		<-done
		for _, pid := range children(master) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("server log:\n%s", log)
		}
	})
	waitOK(t, "http://"+addr+"/healthz", done)

	// A new connection per request: none is left on a killed or drained worker.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	served := func() string {
		t.Helper()
		resp, err := client.Get("http://" + addr + "/api/hello")
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
		defer resp.Body.Close()
		var body struct{ App string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/hello = %d (%v)", resp.StatusCode, err)
		}
		return body.App
	}
	serves := func(want string) {
		t.Helper()
		if got := served(); got != want {
			t.Fatalf("app.name served %q, want %q", got, want)
		}
	}
	waitLog := func(s string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			log, _ := os.ReadFile(logPath)
			if strings.Contains(string(log), s) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log has no %q after 20s", s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	serves("demo")

	edit("edited", "none") // no signal
	seen := map[int]bool{}
	for _, pid := range children(master) {
		seen[pid] = true
	}
	started := func() int { // workers started since the edit
		n := 0
		for _, pid := range children(master) {
			if !seen[pid] {
				seen[pid] = true
				n++
			}
		}
		return n
	}
	// Requests until two workers have been recycled: a recycled worker serves on until its
	// replacement is ready, so a fixed number of quick requests may see only one recycling.
	recycled, requests := 0, 0
	for deadline := time.Now().Add(30 * time.Second); recycled < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers started after %d requests in 30s with --max-requests 3, want recycling", recycled, requests)
		}
		serves("demo")
		requests++
		recycled += started()
	}

	var workers []int
	for deadline := time.Now().Add(10 * time.Second); len(workers) != 1 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		workers = children(master)
	}
	if len(workers) != 1 {
		t.Fatalf("master has workers %v, want 1", workers)
	}
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		serves("demo") // queued until the replacement is ready: none fails
	}
	if slices.Contains(children(master), workers[0]) {
		t.Errorf("worker %d still runs after SIGKILL", workers[0])
	}

	if err := syscall.Kill(master, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("configuration not applied")
	serves("demo")

	edit("fixed", "1")
	if err := syscall.Kill(master, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("reload complete")
	var got string
	for deadline := time.Now().Add(10 * time.Second); got != "fixed" && time.Now().Before(deadline); {
		got = served()
	}
	if got != "fixed" {
		t.Errorf("after the HUP app.name served %q, want the fixed file's %q", got, "fixed")
	}
	if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "failed to boot") {
		t.Error("a worker failed to boot: workers must not read config/")
	}
}
