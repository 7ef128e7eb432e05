//go:build unix

package prefork

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Reloads that check themselves, with real processes: the build a reload
// brings is the test's canary file, read by each worker as it boots
// ("ok", "500", "slow 2": 2x the base latency). A bounded load of
// keep-alive clients on 127.0.0.1 runs across each `reload --wait`.

const canaryBase = 30 * time.Millisecond // /work's latency in a good build

// canaryWork is /work as the worker's build makes it (the file as it was
// when the worker booted).
func canaryWork() http.HandlerFunc {
	mode, factor := "ok", 1.0
	if p := os.Getenv("PREFORK_TEST_CANARY_FILE"); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			f := strings.Fields(string(b))
			if len(f) > 0 {
				mode = f[0]
			}
			if len(f) > 1 {
				factor, _ = strconv.ParseFloat(f[1], 64)
			}
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(factor * float64(canaryBase)))
		if mode == "500" {
			http.Error(w, "broken build", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, os.Getpid())
	}
}

func TestCanaryReloadUnderLoad(t *testing.T) {
	needProc(t)
	for _, tc := range []struct {
		build    string
		rollback string // "": promoted
	}{
		{"ok", ""},
		{"500", "errors"},
		{"slow 2", "latency"},
		{"slow 1.2", ""},
	} {
		t.Run(strings.ReplaceAll(tc.build, " ", "-"), func(t *testing.T) {
			t.Parallel()
			ctl := filepath.Join(t.TempDir(), "ctl.sock")
			p, build := startCanaryHelper(t, nil, "--control-socket", ctl)
			l := startLoad(p, 6, "/work")
			time.Sleep(1500 * time.Millisecond) // a baseline for the old generation
			if err := os.WriteFile(build, []byte(tc.build), 0o644); err != nil {
				t.Fatal(err)
			}
			before := l.ok.Load() + l.failed.Load()
			window := watchWindow(ctl, func() int64 { return l.ok.Load() + l.failed.Load() })
			var out bytes.Buffer
			_, err := RunControlCommand([]string{"reload", "--wait"}, ctl, &out)
			during := l.ok.Load() + l.failed.Load() - before
			ok, failed := l.stopCounting()
			inWindow := window()
			st, serr := Control(ctl, ControlStatus)
			if serr != nil {
				t.Fatal(serr)
			}
			d := st.LastCanary
			if d == nil {
				t.Fatalf("no canary decision in the status:\n%s", out.String())
			}
			t.Logf("%s: %s (%s) %s; %d requests during the reload, %d failed of %d in all", tc.build, d.Decision, d.Reason, d.Detail, during, failed, ok+failed)
			if tc.rollback == "" {
				if err != nil || d.Decision != "promote" || st.Generation != 2 {
					t.Fatalf("reload --wait: %v; decided %s (%s), generation %d: want promoted to generation 2\n%s", err, d.Decision, d.Reason, st.Generation, out.String())
				}
				if failed != 0 {
					t.Errorf("%d requests failed across a promoted reload, want 0", failed)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "rolled back ("+tc.rollback+")") {
				t.Fatalf("reload --wait returned %v, want an error for a rollback on %s\n%s", err, tc.rollback, out.String())
			}
			if d.Decision != "rollback" || d.Reason != tc.rollback || st.Generation != 1 {
				t.Fatalf("decided %s (%s), generation %d: want a rollback on %s, generation 1", d.Decision, d.Reason, st.Generation, tc.rollback)
			}
			// The bar: failed requests at most the canary's share of the workers,
			// plus 5 points, of the window's requests (the canary's allowance holds it to its
			// share, see the supervisor's holdCanary).
			share := float64(d.New.Workers) / float64(max(d.New.Workers+d.Old.Workers, 1))
			bar := (share + 0.05) * float64(inWindow)
			t.Logf("failed %d of the window's %d requests (%.0f%%); the bar: %.0f (%.0f%% + 5%%)", failed, inWindow, 100*float64(failed)/float64(max(inWindow, 1)), bar, 100*share)
			if inWindow == 0 || float64(failed) > bar {
				t.Errorf("%d requests failed, over the bar of %.0f: the canary's share %.0f%% + 5%% of the window's %d requests", failed, bar, 100*share, inWindow)
			}
			assertFullStrength(t, p, ctl)
		})
	}
}

// startCanaryHelper starts a master of 2 workers whose reloads run a canary
// of 3 s, its build "ok" until the test writes another into build.
func startCanaryHelper(t *testing.T, env []string, args ...string) (p *proc, build string) {
	t.Helper()
	build = filepath.Join(t.TempDir(), "build")
	if err := os.WriteFile(build, []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = startHelper(t, "run", append([]string{"-w", "2", "--canary-window", "3", "--canary-min-requests", "50"}, args...),
		append(env, "PREFORK_TEST_CANARY_FILE="+build)...)
	p.waitLog("master ready", 1, bootWithin)
	return p, build
}

// assertFullStrength: after a rollback the old generation serves with every
// worker, the canary is gone, and every request succeeds.
func assertFullStrength(t *testing.T, p *proc, ctl string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := Control(ctl, ControlStatus)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, w := range st.Workers {
			if w.Generation == 1 && w.State == "ready" {
				ready++
			}
		}
		if ready == 2 && len(st.Workers) == 2 && st.Phase == "serving" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the rollback: %d of 2 generation-1 workers ready, %d workers, phase %s", ready, len(st.Workers), st.Phase)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := newClient()
	defer c.CloseIdleConnections()
	for i := range 40 {
		if _, err := p.get(c, "/work"); err != nil {
			t.Fatalf("request %d after the rollback: %v", i, err)
		}
	}
}

// watchWindow follows a reload's canary on the control socket: the
// returned func gives count's growth from the window's opening to the
// decision (0 if no window was seen), waiting for the decision.
func watchWindow(ctl string, count func() int64) func() int64 {
	done := make(chan int64, 1)
	go func() {
		start, opened := int64(0), false
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			st, err := Control(ctl, ControlStatus)
			switch {
			case err != nil:
			case !opened && st.Canary != nil && !st.Canary.Booting:
				start, opened = count(), true
			case opened && st.Canary == nil:
				done <- count() - start
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- 0
	}()
	return func() int64 { return <-done }
}

// stopCounting ends the load and returns its counts, without judging them.
func (l *load) stopCounting() (ok, failed int64) {
	close(l.stop)
	<-l.done
	return l.ok.Load(), l.failed.Load()
}

// USR2 with a canary: the new master starts one worker beside the old
// master's and judges it against the old master's figures; a bad build's
// new master exits non-zero and the old one serves on, a good one takes over.
func TestCanaryUpgradeUnderLoad(t *testing.T) {
	needProc(t)
	for _, tc := range []struct {
		build    string
		rollback string
	}{{"500", "errors"}, {"ok", ""}} {
		t.Run(tc.build, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "app.pid")
			p, build := startCanaryHelper(t, nil, "--pid", pidFile)
			old := p.cmd.Process.Pid
			t.Cleanup(func() {
				if pid := readPidFile(t, pidFile); pid != 0 && pid != old {
					killMasterTree(pid)
				}
			})
			l := startLoad(p, 6, "/work")
			time.Sleep(1500 * time.Millisecond)
			if err := os.WriteFile(build, []byte(tc.build), 0o644); err != nil {
				t.Fatal(err)
			}
			p.signal(syscall.SIGUSR2)
			if tc.rollback == "" {
				if code := p.exit(60 * time.Second); code != 0 {
					t.Fatalf("old master exit code %d after a promoted upgrade", code)
				}
				ok, failed := l.stopCounting()
				if failed != 0 || !strings.Contains(p.log(), "canary: promoted\" generation=0 reason=healthy") {
					t.Fatalf("promoted upgrade: %d of %d requests failed, promoted logged %v", failed, ok+failed, strings.Contains(p.log(), "canary: promoted"))
				}
				return
			}
			p.waitLog("upgrade failed", 1, 60*time.Second)
			ok, failed := l.stopCounting()
			logText := p.log()
			if !strings.Contains(logText, "rolled back by its canary ("+tc.rollback+")") || !strings.Contains(logText, "exited before ready: exit status 1") {
				t.Fatalf("want the new master to exit 1 on its canary's rollback (%s); log:\n%s", tc.rollback, logText)
			}
			if !alive(old) {
				t.Fatal("the old master is gone after a rolled-back upgrade")
			}
			if pid := readPidFile(t, pidFile); pid != old {
				t.Fatalf("pid file %d after the rollback, want the old master %d", pid, old)
			}
			t.Logf("USR2 rolled back: %d of %d requests failed", failed, ok+failed)
			c := newClient()
			defer c.CloseIdleConnections()
			for i := range 40 {
				if _, err := p.get(c, "/work"); err != nil {
					t.Fatalf("request %d after the rollback: %v", i, err)
				}
			}
		})
	}
}

// systemd hears RELOADING=1 from the HUP until the canary is decided, the
// canary's figures in STATUS= lines meanwhile, then READY=1.
func TestCanaryNotifiesSystemd(t *testing.T) {
	needProc(t)
	t.Parallel()
	notify := listenNotifySocket(t)
	p, build := startCanaryHelper(t, []string{"NOTIFY_SOCKET=" + notify.path})
	var seen []notifyMsg
	if m := notify.next(t, bootWithin, &seen); !strings.HasPrefix(m.text, "READY=1\n") {
		t.Fatalf("first message %q, want READY=1", m.text)
	}
	l := startLoad(p, 6, "/work")
	time.Sleep(time.Second)
	// A build twice as slow: latency is judged at the window's end (errors would roll it
	// back at the first tick past the minimum), so the whole window passes in RELOADING.
	if err := os.WriteFile(build, []byte("slow 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup := time.Now()
	p.signal(syscall.SIGHUP)
	if m := notify.next(t, 5*time.Second, &seen); !strings.HasPrefix(m.text, "RELOADING=1\n") {
		t.Fatalf("after HUP got %q, want RELOADING=1", m.text)
	}
	m := notify.next(t, 30*time.Second, &seen)
	took := time.Since(hup)
	l.stopCounting()
	if !strings.HasPrefix(m.text, "READY=1\n") || took < 3*time.Second {
		t.Fatalf("got %q %s after the HUP; want READY=1 once the 3 s window is over", m.text, took)
	}
	canaryStatus := false
	for _, s := range seen {
		canaryStatus = canaryStatus || strings.HasPrefix(s.text, "STATUS=") && strings.Contains(s.text, "canary generation 2 (1 of the workers)")
	}
	if !canaryStatus {
		t.Fatalf("no STATUS= line showed the canary; seen %+v", seen)
	}
	if !strings.Contains(p.log(), "canary: rolled back") {
		t.Fatal("the 500 build was not rolled back")
	}
}

// reload (with or without --wait) while a USR2 upgrade's canary decides is
// refused: the new master (whose control socket replaced the old one's)
// reloads nothing while its canary decides, so it must not report success.
func TestReloadRefusedDuringAnUpgrade(t *testing.T) {
	needProc(t)
	t.Parallel()
	dir := t.TempDir()
	pidFile, ctl := filepath.Join(dir, "app.pid"), filepath.Join(dir, "ctl.sock")
	p, _ := startCanaryHelper(t, nil, "--pid", pidFile, "--control-socket", ctl)
	old := p.cmd.Process.Pid
	t.Cleanup(func() {
		if pid := readPidFile(t, pidFile); pid != 0 && pid != old {
			killMasterTree(pid)
		}
	})
	l := startLoad(p, 4, "/work")
	p.signal(syscall.SIGUSR2)
	deadline := time.Now().Add(30 * time.Second)
	for { // the new master's control socket replaces the old one's as it starts
		st, err := Control(ctl, ControlStatus)
		if err == nil && st.Canary != nil && st.Canary.Upgrade {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upgrade canary in the status within 30 s (last phase %s, %v)", st.Phase, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, args := range [][]string{{"reload", "--wait"}, {"reload"}} {
		var out bytes.Buffer
		_, err := RunControlCommand(args, ctl, &out)
		if err == nil || !strings.Contains(err.Error(), "reload: refused, nothing reloaded") || !strings.Contains(err.Error(), "binary upgrade") {
			t.Fatalf("%v during the upgrade returned %v, want the refusal\n%s", args, err, out.String())
		}
	}
	if code := p.exit(60 * time.Second); code != 0 {
		t.Fatalf("old master exit code %d after the upgrade", code)
	}
	ok, failed := l.stopCounting()
	if failed != 0 {
		t.Errorf("%d of %d requests failed across the upgrade", failed, ok+failed)
	}
	if !strings.Contains(p.log(), "reload ignored: this master is a binary upgrade's (USR2) new one") {
		t.Errorf("the new master did not log the ignored reload:\n%s", p.log())
	}
}
