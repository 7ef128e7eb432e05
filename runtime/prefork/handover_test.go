//go:build unix

package prefork

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

// handTo makes this process a worker's reader of cfg's hand-over, as a
// master's pipe would be (the test sets PREFORK_WORKER_ID itself).
func handTo(t *testing.T, cfg Config) {
	t.Helper()
	handed, err := master.EncodeHandOver(cfg.Values)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(handed); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fd, err := syscall.Dup(int(r.Fd())) // the reader closes its own copy, as a child's is its own
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envConfigFD, strconv.Itoa(fd))
	fromMaster = new(handedConfig)
	t.Cleanup(func() { fromMaster = new(handedConfig) })
}

func TestInheritedIsTheMastersConfiguration(t *testing.T) {
	if _, worker, _ := Inherited(); worker {
		t.Fatal("Inherited says worker in a process no master started")
	}
	masterCfg, _ := Config{Values: Values{Workers: 3, Timeout: 7 * time.Second, ProgramConfig: []byte(`{"dsn":"postgres://u:secret@db/x"}`)}}.withDefaults()
	masterCfg.OnExit = func() {}
	// the settings only: what the master's parse noted (Parsed) stays with it
	if b, err := master.EncodeHandOver(masterCfg.Values); err != nil || strings.Count(string(b), `"config":`) != 1 || strings.Contains(string(b), `"given"`) {
		t.Errorf("hand-over %s, %v: want the settings alone", b, err)
	}
	handTo(t, masterCfg)
	t.Setenv(envWorkerID, "1")
	for range 2 { // the pipe is read once; the entry and Run both ask
		got, worker, err := Inherited()
		if !worker || err != nil {
			t.Fatalf("Inherited = worker %v, %v", worker, err)
		}
		if got.Workers != 3 || got.Timeout != 7*time.Second || !bytes.Equal(got.ProgramConfig, masterCfg.ProgramConfig) || got.Bind[0] != DefaultBind {
			t.Errorf("worker has %+v, want the master's settings", got)
		}
		if got.OnExit != nil {
			t.Error("a hook travelled: hooks are the worker's own")
		}
	}
}

// Workers run the configuration their master loaded, handed over a pipe: an
// edit on disk reaches no worker, not even one started after it (a SIGKILLed
// worker's replacement), until a HUP loads it; a HUP whose configuration does
// not load changes nothing. Its secret never shows in a worker's environment.
func TestWorkersTakeTheMastersConfiguration(t *testing.T) {
	needProc(t)
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "program.conf")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("secret-1")
	p := startHelper(t, "run", []string{"-w", "1"}, "PREFORK_TEST_PROGRAM_CONFIG="+conf)
	p.waitLog("master ready", 1, bootWithin)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	serves := func(want string) {
		t.Helper()
		if got, err := p.get(c, "/program-config"); err != nil || got != want {
			t.Errorf("worker has %q (%v), want the master's %q", got, err, want)
		}
	}
	serves("secret-1")

	write("secret-2") // no signal
	killed := p.waitWorkers(1, 5*time.Second, nil)[0]
	syscall.Kill(killed, syscall.SIGKILL)
	next := p.waitWorkers(1, 5*time.Second, func(ws []int) bool { return ws[0] != killed })[0]
	serves("secret-1")
	if env, err := os.ReadFile("/proc/" + strconv.Itoa(next) + "/environ"); err != nil || bytes.Contains(env, []byte("secret")) {
		t.Errorf("worker environment (%v) holds the configuration", err)
	}

	write("broken")
	p.signal(syscall.SIGHUP)
	p.waitLog("configuration not applied", 1, bootWithin)
	serves("secret-1")

	write("secret-3")
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, bootWithin)
	serves("secret-3")
}
