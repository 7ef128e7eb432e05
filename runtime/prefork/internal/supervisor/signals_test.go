package supervisor

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The signal table of the package doc, row by row.
func TestSignalTable(t *testing.T) {
	t.Run("TERM: graceful stop", func(t *testing.T) {
		x := newSim(t, 2).booted()
		x.signal("TERM")
		if !slices.Equal(x.sent(1), []string{"drain stop"}) || !x.has(DoCloseListeners, "") || x.view().Serving {
			t.Fatalf("TERM: %+v", x.acts)
		}
		x.exit(1, "exit status 0")
		x.exit(2, "exit status 0")
		if !x.view().Done || x.s.err != nil || len(x.spawned()) != 0 {
			t.Fatal("stopped master respawned or did not finish")
		}
	})
	for _, sig := range []string{"INT", "QUIT"} {
		t.Run(sig+": quick stop", func(t *testing.T) {
			x := newSim(t, 1).booted()
			x.signal(sig)
			if !slices.Equal(x.sent(1), []string{CmdQuit}) || x.s.stopReason != "SIG"+sig {
				t.Fatalf("%s: %v %q", sig, x.sent(1), x.s.stopReason)
			}
		})
	}
	t.Run("TERM with a shutdown delay: serve on, unready, then drain", func(t *testing.T) {
		x := newSim(t, 2, func(c *Policy) { c.ShutdownDelay = 5 * time.Second }).booted()
		x.signal("TERM")
		if len(x.sent(1)) != 0 || x.has(DoCloseListeners, "") || !x.has(DoNotify, NotifyStopping) || x.logged("master stopping after the shutdown delay") != 1 {
			t.Fatalf("TERM with a delay: want STOPPING=1 and workers untouched, got %+v", x.acts)
		}
		if x.view().Serving || !x.view().Stopping {
			t.Fatal("ready during the shutdown delay: /readyz must answer 503 from the TERM on")
		}
		x.exit(2, "signal: killed") // a crash during the delay is still replaced
		if len(x.spawned()) != 1 {
			t.Fatalf("worker crashed during the delay: spawned %v", x.spawned())
		}
		x.reload(nil, nil)
		if x.s.gen != 1 {
			t.Fatal("HUP during the shutdown delay started a generation")
		}
		x.advance(4900 * time.Millisecond)
		if len(x.sent(1)) != 0 || x.has(DoCloseListeners, "") {
			t.Fatalf("stopped before the delay ran out: %+v", x.acts)
		}
		x.advance(200 * time.Millisecond)
		if !slices.Equal(x.sent(1), []string{"drain stop"}) || !x.has(DoCloseListeners, "") || x.has(DoNotify, NotifyStopping) {
			t.Fatalf("delay over: want the graceful stop (STOPPING=1 already sent), got %+v", x.acts)
		}
	})
	for _, sig := range []string{"TERM", "INT"} {
		t.Run("shutdown delay cut short by "+sig, func(t *testing.T) {
			x := newSim(t, 1, func(c *Policy) { c.ShutdownDelay = time.Minute }).booted()
			x.signal("TERM")
			x.signal(sig)
			want := map[string]string{"TERM": "drain stop", "INT": CmdQuit}[sig]
			if !slices.Equal(x.sent(1), []string{want}) || !x.has(DoCloseListeners, "") {
				t.Fatalf("TERM then %s during the delay: %v", sig, x.sent(1))
			}
		})
	}
	t.Run("TERM then INT: quick", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("TERM")
		x.signal("INT")
		if !slices.Equal(x.sent(1), []string{CmdQuit}) {
			t.Fatalf("INT during a graceful stop: %v", x.sent(1))
		}
	})
	t.Run("HUP: rolling reload", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.reload(nil, nil)
		if x.s.gen != 2 || len(x.spawned()) != 1 || x.phase(1) != "retiring" {
			t.Fatalf("HUP: gen %d, spawned %v", x.s.gen, x.spawned())
		}
	})
	t.Run("TTIN / TTOU: one more, one fewer, never below 1", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("TTIN")
		if x.s.target != 2 || len(x.spawned()) != 1 || !x.has(DoHookWorkers, "") {
			t.Fatalf("TTIN: target %d", x.s.target)
		}
		x.ready(2)
		x.signal("TTOU")
		if x.s.target != 1 || !slices.Equal(x.sent(1), []string{CmdDrain}) || x.logged("scale down") == 0 {
			t.Fatalf("TTOU: target %d, oldest got %v", x.s.target, x.sent(1))
		}
		for _, ev := range []Event{EvSignal{Sig: SigTTOU}, EvCommand{Cmd: ControlTTOU}} {
			x.step(ev)
			if x.s.target != 1 || x.logged("TTOU ignored: never fewer than 1 worker") != 1 {
				t.Fatalf("%+v at 1 worker: target %d, %+v", ev, x.s.target, x.acts)
			}
		}
	})
	t.Run("USR1: reopen logs, master and workers", func(t *testing.T) {
		x := newSim(t, 2).booted()
		x.signal("USR1")
		if !x.has(DoReopenLogs, "") || !slices.Equal(x.sent(1), []string{CmdReopen}) || !slices.Equal(x.sent(2), []string{CmdReopen}) {
			t.Fatalf("USR1: %+v", x.acts)
		}
	})
	t.Run("USR2: binary upgrade, one at a time, hand over", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("USR2")
		if !x.has(DoStartUpgrade, "") {
			t.Fatal("USR2 started no upgrade")
		}
		x.signal("USR2")
		if x.has(DoStartUpgrade, "") || x.logged("already in progress") != 1 {
			t.Fatal("a second USR2 during an upgrade started another")
		}
		x.step(EvUpgradeReady{PID: 4242, Took: 1500 * time.Millisecond})
		if !x.has(DoHandOver, "") || x.has(DoNotify, NotifyStopping) || !slices.Equal(x.sent(1), []string{"drain stop"}) {
			t.Fatalf("hand-over: %+v", x.acts)
		}
		if x.logged("took 1.5s") != 1 {
			t.Errorf("durations are logged in one readable unit: %+v", x.acts)
		}
	})
	t.Run("USR2: failed upgrade, this master carries on", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("USR2")
		x.step(EvUpgradeFailed{Why: "new master not ready within 1m0s", Started: true})
		if !x.has(DoKillUpgrade, "") || !x.has(DoWritePidFile, "") || !x.has(DoNotify, NotifyReady) || x.view().Stopping {
			t.Fatalf("failed upgrade: %+v", x.acts)
		}
		x.signal("USR2")
		if !x.has(DoStartUpgrade, "") {
			t.Error("no new upgrade possible after a failed one")
		}
	})
	t.Run("control socket commands are their signals", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.step(EvCommand{Cmd: ControlTTIN})
		x.step(EvCommand{Cmd: ControlReload})
		if x.s.target != 2 || !x.has(DoLoadConfig, "") {
			t.Fatalf("control ttin, reload: target %d, %+v", x.s.target, x.acts)
		}
	})
}

func TestStatusViews(t *testing.T) {
	x := newSim(t, 2).booted()
	x.hb(1, 7, 1, 0)
	x.advance(statusEvery)
	if !x.has(DoNotify, NotifyStatus) || !strings.Contains(x.acts[0].(Notify).Status, "2 workers ready (target 2), generation 1, 7 requests") {
		t.Fatalf("STATUS=: %+v", x.acts)
	}
	x.advance(statusEvery)
	if x.has(DoNotify, NotifyStatus) {
		t.Error("an unchanged STATUS= was sent again")
	}
}
