package supervisor

import (
	"slices"
	"testing"
	"time"
)

// recorded lists the outcomes of Record actions for what in the last step.
func (x *sim) recorded(what RecordKind) (out []string) {
	for _, a := range x.acts {
		if a, ok := a.(Record); ok && a.What == what {
			out = append(out, a.Outcome)
		}
	}
	return out
}

// The exit reasons of server_worker_exits_total come from the supervisor's
// own decisions: each case drives it to one way a worker ends (workers 1
// and 2 serve; 3 is the first replacement) and reaps worker id.
func TestExitKinds(t *testing.T) {
	hb := func(x *sim, ids ...int) {
		for _, id := range ids {
			x.hb(id, 0, 0, 0)
		}
	}
	for _, c := range []struct {
		name   string
		tweak  func(*Policy)
		drive  func(x *sim)
		id     int
		status string
		want   exitKind
	}{
		{"factory fails at start-up", nil, func(x *sim) {}, 1, "exit status 1", ExitBootFailure},
		{"crash", nil, func(x *sim) { x.booted() }, 1, "exit status 2", ExitCrash},
		{"SIGKILL from outside", nil, func(x *sim) { x.booted() }, 1, "signal: killed", ExitKilled},
		{"other signal from outside", nil, func(x *sim) { x.booted() }, 1, "signal: segmentation fault", ExitSignal},
		{"stopped on its own", nil, func(x *sim) { x.booted(); x.step(EvExiting{ID: 1, Reason: "received terminated"}) }, 1, "exit status 0", ExitSignal},
		{"heartbeat timeout", nil, func(x *sim) {
			x.booted()
			x.advance(20 * time.Second)
			hb(x, 2)
			x.advance(11 * time.Second)
		}, 1, "signal: aborted", ExitTimeout},
		{"boot timeout of a new worker", nil, func(x *sim) {
			x.booted()
			x.signal("TTIN")
			x.advance(20 * time.Second)
			hb(x, 1, 2)
			x.advance(11 * time.Second)
		}, 3, "signal: aborted", ExitBootFailure},
		{"max requests", func(c *Policy) { c.MaxRequests = 10 }, func(x *sim) { x.booted(); x.hb(1, 10, 0, 0); x.ready(3) }, 1, "exit status 0", ExitMaxRequests},
		{"memory", func(c *Policy) { c.MaxWorkerMemory = 100 }, func(x *sim) { x.booted(); x.step(EvRSS{ID: 1, Bytes: 200}); x.ready(3) }, 1, "exit status 0", ExitMaxMemory},
		{"stuck request", nil, func(x *sim) { x.booted(); x.hb(1, 5, 1, 31000); x.advance(100 * time.Millisecond); x.ready(3) }, 1, "exit status 0", ExitStuck},
		{"reload", nil, func(x *sim) { x.booted(); x.reload(nil, nil); x.ready(3, 4) }, 1, "exit status 0", ExitReload},
		{"abandoned generation", nil, func(x *sim) { x.booted(); x.reload(nil, nil); x.exit(3, "exit status 1") }, 4, "exit status 0", ExitBootFailure},
		{"scale down", nil, func(x *sim) { x.booted(); x.signal("TTOU") }, 1, "exit status 0", ExitScaleDown},
		{"stop", nil, func(x *sim) { x.booted(); x.signal("TERM") }, 1, "exit status 0", ExitShutdown},
		{"killed after the graceful timeout", nil, func(x *sim) { x.booted(); x.signal("TERM"); x.advance(40 * time.Second) }, 1, "signal: killed", ExitShutdown},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tweaks []func(*Policy)
			if c.tweak != nil {
				tweaks = append(tweaks, c.tweak)
			}
			x := newSim(t, 2, tweaks...)
			c.drive(x)
			if x.s.find(c.id) == nil {
				t.Fatalf("worker %d is gone before its exit; workers %v", c.id, x.ids())
			}
			x.exit(c.id, c.status)
			if got := x.recorded(RecordExit); !slices.Equal(got, []string{string(c.want)}) {
				t.Errorf("exit recorded as %q, want [%s]", got, c.want)
			}
		})
	}
}

// Starts, reload and upgrade outcomes, and metrics lines reach the shell as actions.
func TestSupervisorRecordsOutcomes(t *testing.T) {
	x := newSim(t, 2)
	if got := len(x.recorded(RecordStart)); got != 2 {
		t.Errorf("%d starts recorded, want 2", got)
	}
	x.booted()
	x.step(EvMetrics{ID: 1, Report: "r=0.1:5"})
	if !slices.ContainsFunc(x.acts, func(a Action) bool { m, ok := a.(Metrics); return ok && m.Worker.ID == 1 && m.Report == "r=0.1:5" }) {
		t.Errorf("metrics line not handed over: %+v", x.acts)
	}
	x.reload(nil, nil)
	x.ready(3, 4)
	x.exit(1, "exit status 0")
	if got := x.recorded(RecordReload); len(got) != 0 {
		t.Errorf("reload recorded %q while an old worker still drains", got)
	}
	x.exit(2, "exit status 0")
	if got := x.recorded(RecordReload); !slices.Equal(got, []string{ReloadComplete}) {
		t.Errorf("reload recorded %q, want complete", got)
	}
	x.reload(nil, nil)
	x.exit(5, "exit status 1")
	if got := x.recorded(RecordReload); !slices.Equal(got, []string{ReloadAbandoned}) {
		t.Errorf("reload recorded %q, want abandoned", got)
	}
	x.signal("USR2")
	x.step(EvUpgradeFailed{Why: "not ready", Started: true})
	if got := x.recorded(RecordUpgrade); !slices.Equal(got, []string{UpgradeFailedOutcome}) {
		t.Errorf("upgrade recorded %q, want failed", got)
	}
	x.signal("USR2")
	x.step(EvUpgradeReady{PID: 4242})
	if got := x.recorded(RecordUpgrade); !slices.Equal(got, []string{UpgradeHandedOver}) {
		t.Errorf("upgrade recorded %q, want handed_over", got)
	}
}
