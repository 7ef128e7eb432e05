package prefork

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestUpgradeUnderLoadZeroFailures(t *testing.T) {
	needProc(t)
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	p := startHelper(t, "run", []string{"-w", "2", "--pid", pidFile, "--control-socket", ctl})
	p.waitLog("master ready", 1, bootWithin)
	old := p.cmd.Process.Pid
	oldWorkers := p.waitWorkers(2, 5*time.Second, nil)
	newMaster := 0
	t.Cleanup(func() {
		if newMaster != 0 {
			killMasterTree(newMaster)
		}
	})
	l := startLoad(p, 4, "/pid")
	time.Sleep(300 * time.Millisecond)
	p.signal(syscall.SIGUSR2)
	if code := p.exit(30 * time.Second); code != 0 {
		t.Fatalf("old master exit code %d", code)
	}
	newMaster = readPidFile(t, pidFile)
	if newMaster == 0 || newMaster == old || !alive(newMaster) {
		t.Fatalf("pid file %d after the upgrade (old master %d)", newMaster, old)
	}
	newWorkers := childPids(newMaster)
	time.Sleep(300 * time.Millisecond)
	ok, pids := l.finish(t)
	if ok < 50 {
		t.Errorf("only %d requests succeeded", ok)
	}
	for _, w := range oldWorkers {
		if alive(w) {
			t.Errorf("old worker %d still alive", w)
		}
	}
	servedByNew := false
	for _, w := range newWorkers {
		servedByNew = servedByNew || pids[w]
	}
	if !servedByNew {
		t.Errorf("no request served by the new master's workers %v (served: %v)", newWorkers, pids)
	}
	if st, err := Control(ctl, ControlStatus); err != nil || st.PID != newMaster {
		t.Errorf("control socket after the upgrade: %+v %v, want the new master %d", st, err, newMaster)
	}
	t.Logf("%d requests, 0 failed, across USR2 (old master %d -> new %d)", ok, old, newMaster)
}

func TestUpgradeWithBrokenBinaryKeepsOldMaster(t *testing.T) {
	needProc(t)
	t.Parallel()
	failFile := filepath.Join(t.TempDir(), "fail")
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	p := startHelper(t, "run", []string{"-w", "1", "--pid", pidFile}, "PREFORK_TEST_FAIL_FILE="+failFile)
	p.waitLog("master ready", 1, bootWithin)
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	os.WriteFile(failFile, []byte("new release cannot reach its database"), 0o644)
	l := startLoad(p, 2, "/pid")
	p.signal(syscall.SIGUSR2)
	p.waitLog("upgrade failed: new master killed, this master carries on", 1, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	l.finish(t)
	if !strings.Contains(p.log(), "new release cannot reach its database") {
		t.Error("the new master's boot error is not in the log")
	}
	select {
	case <-p.done:
		t.Fatal("old master exited")
	default:
	}
	if pid := p.pidOf(newClient()); pid != worker {
		t.Errorf("served by %d, want the old worker %d", pid, worker)
	}
	if got := readPidFile(t, pidFile); got != p.cmd.Process.Pid {
		t.Errorf("pid file %d, want the old master %d", got, p.cmd.Process.Pid)
	}
	// and a later upgrade, once the binary is fixed, still works
	os.Remove(failFile)
	p.signal(syscall.SIGUSR2)
	if code := p.exit(30 * time.Second); code != 0 {
		t.Fatalf("old master exit code %d after the second upgrade", code)
	}
	killMasterTree(readPidFile(t, pidFile))
}

func TestUpgradeTimeoutKillsHungNewMaster(t *testing.T) {
	needProc(t)
	t.Parallel()
	hang := filepath.Join(t.TempDir(), "hang")
	p := startHelper(t, "run", []string{"-w", "1", "--upgrade-timeout", "1"}, "PREFORK_TEST_HANG_FILE="+hang)
	p.waitLog("master ready", 1, bootWithin)
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	os.WriteFile(hang, nil, 0o644)
	p.signal(syscall.SIGUSR2)
	p.waitLog("upgrade: new master started", 1, 5*time.Second)
	newMaster := 0
	for _, pid := range p.workers() {
		if pid != worker {
			newMaster = pid
		}
	}
	p.waitLog("new master not ready within 1s", 1, 10*time.Second)
	if newMaster != 0 {
		for deadline := time.Now().Add(5 * time.Second); alive(newMaster); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("hung new master %d not killed", newMaster)
			}
		}
	}
	if pid := p.pidOf(newClient()); pid != worker {
		t.Errorf("served by %d, want the old worker %d", pid, worker)
	}
}
