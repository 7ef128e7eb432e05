package prefork

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

type fakeMaster struct {
	mu      sync.Mutex
	workers int
	cmds    []string
}

func (f *fakeMaster) handle(cmd string) (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, cmd)
	switch cmd {
	case ControlStatus, ControlReload:
	case ControlTTIN:
		f.workers++
	case ControlTTOU:
		if f.workers > 1 {
			f.workers--
		}
	default:
		return Status{}, errors.New("unknown command " + cmd)
	}
	st := Status{PID: 100, Generation: 2, Started: time.Now().Add(-time.Hour)}
	for i := 1; i <= f.workers; i++ {
		st.Workers = append(st.Workers, WorkerReport{ID: i, Generation: 2, PID: 1000 + i, State: "ready", AgeSeconds: 61, Requests: int64(10 * i), InFlight: i - 1, RSSBytes: 20 << 20})
	}
	return st, nil
}

func TestControlSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	fm := &fakeMaster{workers: 2}
	srv, err := master.ListenControl(path, 0o600, fm.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %v mode %v, want a 0600 socket", err, fi.Mode())
	}
	st, err := Control(path, ControlStatus)
	if err != nil || st.PID != 100 || len(st.Workers) != 2 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := Control(path, "format-disk"); err == nil || !strings.Contains(err.Error(), "unknown command format-disk") {
		t.Fatalf("unknown command: %v", err)
	}

	var out bytes.Buffer
	handled, err := RunControlCommand([]string{"scale-up", "2", "--control-socket", path}, "", &out)
	if !handled || err != nil {
		t.Fatalf("scale-up: %v %v", handled, err)
	}
	table := out.String()
	if !strings.Contains(table, "master 100  generation 2") || strings.Count(table, "ready") != 4 {
		t.Errorf("table after scale-up 2 should list 4 workers:\n%s", table)
	}
	for _, col := range []string{"PID", "STATE", "AGE", "REQUESTS", "IN-FLIGHT", "RSS", "1004", "20.0MiB", "1m1s"} {
		if !strings.Contains(table, col) {
			t.Errorf("table lacks %q:\n%s", col, table)
		}
	}
	out.Reset()
	if handled, err := RunControlCommand([]string{"scale-down"}, path, &out); !handled || err != nil || strings.Count(out.String(), "ready") != 3 {
		t.Fatalf("scale-down: %v %v\n%s", handled, err, out.String())
	}
	out.Reset()
	if handled, err := RunControlCommand([]string{"status", "--json"}, path, &out); !handled || err != nil || !json.Valid(out.Bytes()) {
		t.Fatalf("status --json: %v %v %s", handled, err, out.String())
	}
	if handled, err := RunControlCommand([]string{"reload"}, path, &out); !handled || err != nil {
		t.Fatalf("reload: %v", err)
	}
	fm.mu.Lock()
	if got := strings.Join(fm.cmds, ","); !strings.Contains(got, "ttin,ttin,ttou,status,reload") {
		t.Errorf("commands seen by the master: %s", got)
	}
	fm.mu.Unlock()

	if handled, _ := RunControlCommand([]string{"serve"}, path, &out); handled {
		t.Error("an unknown subcommand must be left to the program")
	}
	if handled, _ := RunControlCommand(nil, path, &out); handled {
		t.Error("no args must be left to the program")
	}
	if _, err := RunControlCommand([]string{"status"}, "", &out); err == nil || !strings.Contains(err.Error(), "--control-socket") {
		t.Errorf("missing socket path: %v", err)
	}
	if _, err := RunControlCommand([]string{"reload", "3"}, path, &out); err == nil {
		t.Error("reload takes no count")
	}

	// A newer master's socket at the same path survives the old one's Close.
	srv2, err := master.ListenControl(path, 0o600, fm.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := Control(path, ControlStatus); err != nil {
		t.Fatalf("new master's socket removed by the old one: %v", err)
	}
	srv2.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Close: %v", err)
	}
	if _, err := Control(path, ControlStatus); err == nil || !strings.Contains(err.Error(), "is the server running") {
		t.Errorf("no server: %v", err)
	}
}
