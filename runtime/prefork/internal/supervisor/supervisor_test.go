package supervisor

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The supervisor's specification: each test steps it with events on a fake
// clock and checks the actions it returns. No processes, no sleeps.

func TestStartUpSpawnsTargetAndAnnouncesOnceAllReady(t *testing.T) {
	x := newSim(t, 2)
	if got := x.spawned(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("start-up spawned %v, want workers 1 and 2", got)
	}
	x.step(EvTick{})
	if x.view().Serving || x.has(DoNotify, NotifyReady) {
		t.Fatal("started processes are not ready: only their ready message counts")
	}
	x.ready(1)
	if x.view().Serving || x.has(DoHookReady, "") {
		t.Fatal("announced with one of two workers ready")
	}
	x.ready(2)
	if !x.view().Serving || !x.has(DoNotify, NotifyReady) || !x.has(DoHookReady, "") || x.logged("master ready") != 1 {
		t.Fatalf("all ready: want READY=1, WhenReady and one log line, got %+v", x.acts)
	}
	x.ready(2)
	if x.has(DoNotify, NotifyReady) {
		t.Error("announced twice")
	}
}

// Every way a serving worker is replaced tells it to drain only once its
// replacement reported ready, so Workers ready workers always serve.
func TestReplacementIsReadyBeforeTheOldWorkerDrains(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tweak   func(*Policy)
		trigger func(x *sim)
		reason  string
	}{
		{"reload", nil, func(x *sim) { x.reload(nil, nil) }, "reload: replaced by generation 2"},
		{"max requests", func(c *Policy) { c.MaxRequests, c.MaxRequestsJitter = 100, 10 }, func(x *sim) { x.hb(1, 110, 0, 0) }, "max requests reached (110)"},
		{"stuck request", nil, func(x *sim) { x.hb(1, 5, 1, 31000); x.advance(TickEvery) }, "a request has run for 31s (timeout 30s)"},
		{"memory", func(c *Policy) { c.MaxWorkerMemory = 100 << 20 }, func(x *sim) { x.step(EvRSS{ID: 1, Bytes: 200 << 20}) }, "memory 200.0MiB over max-worker-memory 100.0MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tweaks := []func(*Policy){}
			if tc.tweak != nil {
				tweaks = append(tweaks, tc.tweak)
			}
			x := newSim(t, 2, tweaks...).booted()
			tc.trigger(x)
			if slices.Contains(x.sent(1), CmdDrain) {
				t.Fatal("told to drain before a replacement was ready")
			}
			if x.phase(1) != "retiring" || x.s.find(1).reason != tc.reason {
				t.Fatalf("worker 1 is %s (%q), want retiring for %q", x.phase(1), x.s.find(1).reason, tc.reason)
			}
			news := x.spawned()
			if len(news) == 0 {
				t.Fatal("no replacement started")
			}
			if !x.view().Serving {
				t.Fatal("a retiring worker still serves: the service stays ready")
			}
			x.advance(10 * time.Second) // booting takes its time; nothing drains meanwhile
			if slices.Contains(x.sent(1), CmdDrain) {
				t.Fatal("drained while the replacement boots")
			}
			x.ready(news[0])
			if !slices.Contains(x.sent(1), CmdDrain) || x.phase(1) != "draining" {
				t.Fatalf("replacement ready: worker 1 got %v and is %s, want drain", x.sent(1), x.phase(1))
			}
		})
	}
}

func TestReloadRollsOutAndCompletesWhenTheOldGenerationHasGone(t *testing.T) {
	x := newSim(t, 2).booted()
	x.reload(nil, nil)
	if !slices.Equal(x.spawned(), []int{3, 4}) || x.s.gen != 2 || !x.has(DoHookReload, "") {
		t.Fatalf("reload: spawned %v, generation %d", x.spawned(), x.s.gen)
	}
	x.ready(3)
	if !slices.Contains(x.sent(1), CmdDrain) || slices.Contains(x.sent(2), CmdDrain) {
		t.Fatalf("one new ready lets exactly one old drain: 1 got %v, 2 got %v", x.sent(1), x.sent(2))
	}
	x.ready(4)
	x.exit(1, "exit status 0")
	if x.logged("reload complete") != 0 {
		t.Fatal("complete while an old worker still runs")
	}
	x.exit(2, "exit status 0")
	if x.logged("reload complete") != 1 || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("old generation gone: want one reload complete and READY=1, got %+v", x.acts)
	}
	if x.logged("crash") != 0 || x.s.crash.failures != nil {
		t.Error("a drained worker's exit counted as a failure")
	}
}

func TestReloadWithBadConfigurationStartsNothingAndSaysSoOnce(t *testing.T) {
	x := newSim(t, 2).booted()
	x.signal("HUP")
	if !x.has(DoNotify, NotifyReloading) || !x.has(DoLoadConfig, "") {
		t.Fatalf("HUP: want RELOADING=1 and a configuration load, got %+v", x.acts)
	}
	x.step(EvConfigLoaded{Err: errors.New("config.yaml: line 3: bad indent")})
	if len(x.spawned()) != 0 || x.s.gen != 1 || x.has(DoHookReload, "") {
		t.Fatalf("a configuration that did not load started generation %d: %v", x.s.gen, x.spawned())
	}
	if x.logged("configuration not applied") != 1 || x.logged("bad indent") != 1 || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("want the error logged once and READY=1 again, got %+v", x.acts)
	}
}

func TestReloadAppliesTheNewWorkerCount(t *testing.T) {
	x := newSim(t, 1).booted()
	x.reload(&Policy{Workers: 3, Timeout: 30 * time.Second, Heartbeat: HeartbeatFor(30 * time.Second)}, nil)
	if x.s.target != 3 || len(x.spawned()) != 3 || !x.has(DoApplyConfig, "") || !x.has(DoHookWorkers, "") {
		t.Fatalf("reload to 3 workers: target %d, spawned %v", x.s.target, x.spawned())
	}
}

// At most one generation is not ready: a reload during a reload retires
// the previous new generation's booting workers at once.
func TestAtMostOneGenerationBoots(t *testing.T) {
	x := newSim(t, 1).booted()
	x.reload(nil, nil) // worker 2, generation 2
	x.reload(nil, nil) // worker 3, generation 3
	if !slices.Contains(x.sent(2), CmdDrain) || x.phase(2) != "draining" || x.phase(1) != "retiring" {
		t.Fatalf("second reload: worker 2 (booting gen 2) got %v, worker 1 is %s", x.sent(2), x.phase(1))
	}
	x.ready(3)
	if !slices.Contains(x.sent(1), CmdDrain) {
		t.Error("generation 3 ready: the original worker should drain")
	}
}

func TestBootFailureDuringReloadAbandonsItAndTheOldWorkersServeOn(t *testing.T) {
	x := newSim(t, 2).booted()
	x.reload(nil, nil)
	x.step(EvFailed{ID: 3, Msg: "config broken: missing DSN"})
	x.exit(3, "exit status 1")
	if x.logged("reload abandoned") != 1 || x.logged("missing DSN") < 1 || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("want the reload abandoned with the app's error, got %+v", x.acts)
	}
	if !slices.Contains(x.sent(4), CmdQuit) || x.phase(1) != "ready" || x.phase(2) != "ready" {
		t.Fatalf("worker 4 got %v; old workers %s, %s, want ready", x.sent(4), x.phase(1), x.phase(2))
	}
	if x.s.err != nil || x.view().Stopping {
		t.Error("a failed reload stopped the master")
	}
}

func TestBootFailureAtStartUpStopsWithTheAppsError(t *testing.T) {
	x := newSim(t, 2)
	x.step(EvFailed{ID: 1, Msg: "database unreachable"})
	x.exit(1, "exit status 1")
	if x.s.err == nil || x.s.err.Error() != "prefork: worker failed to boot: database unreachable" {
		t.Fatalf("Run's error: %v", x.s.err)
	}
	if !slices.Contains(x.sent(2), CmdQuit) || !x.has(DoCloseListeners, "") {
		t.Fatalf("the other worker got %v, want quit", x.sent(2))
	}
	x.exit(2, "exit status 0")
	if !x.view().Done {
		t.Error("master not done once every worker is reaped")
	}
}

func TestBootTimeout(t *testing.T) {
	x := newSim(t, 1, func(c *Policy) { c.Timeout = time.Second })
	x.advance(900 * time.Millisecond)
	if len(x.sent(1)) != 0 {
		t.Fatal("killed before the timeout")
	}
	x.advance(200 * time.Millisecond)
	if !slices.Equal(x.sent(1), []string{CmdQuit, "ABRT"}) || x.s.err == nil || !strings.Contains(x.s.err.Error(), "not ready within the timeout (1s)") {
		t.Fatalf("boot timeout: sent %v, err %v", x.sent(1), x.s.err)
	}
	x.advance(abortWait + TickEvery)
	if !slices.Contains(x.sent(1), "KILL") {
		t.Fatalf("still there after SIGABRT: want KILL, got %v", x.sent(1))
	}
}

func TestSilentWorkerGetsAbortThenKillAndCountsAsAFailure(t *testing.T) {
	x := newSim(t, 1, func(c *Policy) { c.Timeout = 2 * time.Second }).booted()
	x.advance(2100 * time.Millisecond)
	if !slices.Equal(x.sent(1), []string{"ABRT"}) || x.phase(1) != "aborting" || len(x.spawned()) != 1 {
		t.Fatalf("no heartbeat: sent %v, phase %s, spawned %v", x.sent(1), x.phase(1), x.spawned())
	}
	x.advance(abortWait + TickEvery)
	if !slices.Equal(x.sent(1), []string{"KILL"}) {
		t.Fatalf("after abortWait: %v", x.sent(1))
	}
	x.exit(1, "signal: killed")
	if len(x.s.crash.failures) != 1 || x.logged("worker died") != 1 {
		t.Errorf("an unresponsive worker is the app's failure: failures %d", len(x.s.crash.failures))
	}
}

// A worker that stops is never left running: the drain is bounded by
// GracefulTimeout, then a dump is asked for, then KILL.
func TestDrainIsBoundedDumpThenKill(t *testing.T) {
	for _, tc := range []struct {
		name       string
		talks      bool // heartbeats keep coming during the drain
		dumped     bool // it reports the dump written
		wantSignal time.Duration
	}{
		{"silent: killed at the deadline", false, false, 0},
		{"talking: dump, then kill after dumpWait", true, false, dumpWait},
		{"talking: dump written, killed at once", true, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newSim(t, 1, func(c *Policy) { c.Timeout = -1; c.GracefulTimeout = 3 * time.Second }).booted()
			x.signal("TERM")
			if !slices.Equal(x.sent(1), []string{"drain stop"}) || !x.has(DoNotify, NotifyStopping) {
				t.Fatalf("TERM: worker got %v", x.sent(1))
			}
			if tc.talks {
				x.now = x.now.Add(3900 * time.Millisecond)
				x.hb(1, 1, 1, 0)
				x.now = x.now.Add(-3900 * time.Millisecond)
			}
			x.advance(3900 * time.Millisecond)
			if len(x.sent(1)) != 0 {
				t.Fatalf("signalled before GracefulTimeout+%s: %v", killSlack, x.sent(1))
			}
			x.advance(200 * time.Millisecond)
			if !tc.talks {
				if !slices.Equal(x.sent(1), []string{"KILL"}) {
					t.Fatalf("silent worker past its deadline: %v, want KILL", x.sent(1))
				}
				return
			}
			if got := x.sent(1); len(got) != 1 || !strings.HasPrefix(got[0], CmdDump) || x.phase(1) != "dumping" {
				t.Fatalf("talking worker past its deadline: %v, want a dump", got)
			}
			if tc.dumped {
				x.step(EvDumped{ID: 1})
			} else {
				x.advance(dumpWait + TickEvery)
			}
			if !slices.Equal(x.sent(1), []string{"KILL"}) {
				t.Fatalf("after the dump: %v, want KILL", x.sent(1))
			}
			x.exit(1, "signal: killed")
			if x.logged("worker exited") != 1 || len(x.s.crash.failures) != 0 || !x.view().Done {
				t.Error("a worker killed for its drain is not the app's failure")
			}
		})
	}
}

// A serving worker's death is replaced at once; only the app's own failures
// count towards the crash loop.
func TestWorkerDeath(t *testing.T) {
	for _, tc := range []struct {
		status, log string
		failure     bool
	}{
		{"signal: killed", "SIGKILL from outside the master", false},
		{"signal: segmentation fault", "killed by a signal from outside the master", true},
		{"exit status 2", "unexpected exit", true},
	} {
		t.Run(tc.status, func(t *testing.T) {
			x := newSim(t, 2).booted()
			x.exit(1, tc.status)
			if !slices.Equal(x.spawned(), []int{3}) || x.logged(tc.log) != 1 || !x.has(DoHookChildExit, "") {
				t.Fatalf("spawned %v, log %+v", x.spawned(), x.acts)
			}
			if got := len(x.s.crash.failures) == 1; got != tc.failure {
				t.Errorf("counted as a failure: %v, want %v", got, tc.failure)
			}
		})
	}
}

func TestCrashLoopBacksOff(t *testing.T) {
	x := newSim(t, 2).booted()
	die := func() {
		id := x.ids()[0]
		x.exit(id, "exit status 2")
	}
	for range 5 {
		die()
	}
	if !x.s.crash.next.IsZero() || len(x.spawned()) != 1 {
		t.Fatal("backoff after 5 failures; the threshold is more than max(5, workers)")
	}
	die()
	if x.s.crash.backoff != crashBackoffMin || len(x.spawned()) != 0 || x.logged("crash loop") != 1 {
		t.Fatalf("after 6 failures: backoff %s, spawned %v", x.s.crash.backoff, x.spawned())
	}
	x.advance(crashBackoffMin - TickEvery)
	if len(x.spawned()) != 0 {
		t.Fatal("started during the backoff")
	}
	x.advance(TickEvery)
	if len(x.spawned()) != 1 {
		t.Fatalf("backoff over: spawned %v", x.spawned())
	}
	for range 10 {
		x.s.recordFailure()
	}
	if x.s.crash.backoff != crashBackoffMax {
		t.Errorf("backoff %s after many failures, want the cap %s", x.s.crash.backoff, crashBackoffMax)
	}
	// failures outside the window do not count, and a stable spell resets the delay
	x.advance(crashStable + time.Second)
	die()
	if x.s.crash.backoff != 0 || len(x.s.crash.failures) != 1 {
		t.Errorf("old failures counted: backoff %s, %d failures", x.s.crash.backoff, len(x.s.crash.failures))
	}
}

func TestWorkerStoppingOnItsOwnIsReplacedWithoutACrash(t *testing.T) {
	x := newSim(t, 1).booted()
	x.step(EvExiting{ID: 1, Reason: "received interrupt"})
	if len(x.spawned()) != 1 {
		t.Fatalf("a worker stopping on its own is replaced at once: spawned %v", x.spawned())
	}
	x.exit(1, "exit status 0")
	if len(x.s.crash.failures) != 0 || x.logged("stopped on its own: received interrupt") != 1 {
		t.Fatalf("failures %d, %+v", len(x.s.crash.failures), x.acts)
	}
}

// A new generation that hangs while booting is abandoned after Timeout; the
// old workers serve on and nothing counts against the master.
func TestReloadWithHangingBootIsAbandonedAtTheTimeout(t *testing.T) {
	x := newSim(t, 1, func(c *Policy) { c.Timeout = time.Second }).booted()
	x.reload(nil, nil)
	for range 5 {
		x.hb(1, 0, 0, 0)
		x.advance(250 * time.Millisecond)
	}
	if x.logged("reload abandoned") != 1 || !slices.Contains(x.sent(2), "ABRT") || x.phase(1) != "ready" {
		t.Fatalf("hanging generation: %+v; worker 1 %s", x.acts, x.phase(1))
	}
	if x.s.err != nil || x.view().Stopping || !x.view().Serving {
		t.Error("an abandoned reload must leave the master serving")
	}
}

// --reload: a settled change on disk is a reload, named in the log; none
// while stopping.
func TestFilesChangedReloadsLikeHUP(t *testing.T) {
	x := newSim(t, 2).booted()
	x.step(EvFilesChanged{Files: []string{"/opt/app/bin/app"}})
	if !x.has(DoLoadConfig, "") || x.logged("reload requested") != 1 || x.logged("/opt/app/bin/app") != 1 {
		t.Fatalf("a changed binary must reload like HUP, naming it: %+v", x.acts)
	}
	y := newSim(t, 1).booted()
	y.step(EvSignal{Sig: SigTerm})
	y.step(EvFilesChanged{Files: []string{"/opt/app/bin/app"}})
	if y.has(DoLoadConfig, "") {
		t.Fatal("a change while stopping must not reload")
	}
}
