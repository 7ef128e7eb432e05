package supervisor

import (
	"slices"
	"testing"
	"time"
)

// One change at a time: the master's phase says which signals it takes.
func TestMasterPhaseRules(t *testing.T) {
	t.Run("USR2 while starting or reloading is ignored, and said so", func(t *testing.T) {
		x := newSim(t, 1)
		x.signal("USR2")
		if x.has(DoStartUpgrade, "") || x.logged("USR2 ignored: the master is still starting") != 1 {
			t.Fatalf("USR2 during start-up: %+v", x.acts)
		}
		x.booted()
		x.reload(nil, nil)
		x.signal("USR2")
		if x.has(DoStartUpgrade, "") || x.logged("USR2 ignored: a reload is in progress") != 1 || x.view().Phase != MasterReloading {
			t.Fatalf("USR2 during a reload: %+v", x.acts)
		}
	})
	t.Run("HUP while a USR2 master boots is ignored, and said so", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("USR2")
		x.signal("HUP")
		if x.has(DoLoadConfig, "") || x.logged("reload ignored: a binary upgrade (USR2) is in progress") != 1 {
			t.Fatalf("HUP during an upgrade: %+v", x.acts)
		}
		x.step(EvUpgradeFailed{Why: "not ready", Started: true})
		x.signal("HUP")
		if !x.has(DoLoadConfig, "") || x.view().Phase != MasterServing {
			t.Fatalf("HUP after a failed upgrade: %+v", x.acts)
		}
	})
	t.Run("a master started by USR2 takes over once, when every worker is ready", func(t *testing.T) {
		x := &sim{t: t, s: New(Options{Policy: Policy{Workers: 2, Timeout: 30 * time.Second, Heartbeat: time.Second}, Jitter: func(int) int { return 0 }, TakeOver: true}),
			now: time.Unix(1e9, 0)}
		x.prev = x.s.View()
		x.step(EvStart{})
		x.signal("USR2")
		if x.logged("itself still taking over") != 1 {
			t.Fatalf("USR2 while taking over: %+v", x.acts)
		}
		x.ready(1)
		if x.has("TakeOver", "") {
			t.Fatal("took over with one of two workers ready")
		}
		x.ready(2)
		if !x.has("TakeOver", "") || x.has(DoNotify, NotifyReady) || !x.has(DoHookReady, "") {
			t.Fatalf("all ready: want the take-over instead of READY=1, got %+v", x.acts)
		}
	})
	t.Run("a boot failure before the start-up is announced stops the master", func(t *testing.T) {
		x := newSim(t, 2)
		x.ready(1)
		x.step(EvFailed{ID: 2, Msg: "database unreachable"})
		x.exit(2, "exit status 1")
		if x.s.err == nil || !slices.Contains(x.sent(1), CmdQuit) || x.view().Phase != MasterQuitting {
			t.Fatalf("boot failure at start-up: err %v, worker 1 got %v", x.s.err, x.sent(1))
		}
	})
	t.Run("a reload during start-up boots the new generation as the start-up's", func(t *testing.T) {
		x := newSim(t, 1)
		x.reload(nil, nil)
		if x.has(DoNotify, NotifyReloading) || x.view().Phase != MasterStarting || x.phase(1) != "draining" {
			t.Fatalf("HUP while starting: phase %s, worker 1 %s, %+v", x.view().Phase, x.phase(1), x.acts)
		}
		x.ready(2)
		if !x.has(DoNotify, NotifyReady) || x.view().Phase != MasterServing {
			t.Fatalf("generation 2 ready: %+v", x.acts)
		}
	})
}
