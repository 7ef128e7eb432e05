package supervisor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// The supervisor's specification: each test steps it with events on a fake
// clock and checks the actions it returns. No processes, no sleeps.

// sim drives a supervisor. Started workers get pid 1000+ID at once (the fake
// process interface); everything else happens only when a test says so.
type sim struct {
	t    *testing.T
	s    *Supervisor
	now  time.Time
	acts []Action // of the last step, answers included
}

func newSim(t *testing.T, workers int, tweak ...func(*Policy)) *sim {
	t.Helper()
	cfg := Policy{Workers: workers, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	cfg.Heartbeat = HeartbeatFor(cfg.Timeout)
	x := &sim{t: t, s: NewSupervisor(cfg, func(n int) int { return n - 1 }, "127.0.0.1:8000", false), now: time.Unix(1e9, 0)}
	x.step(EvStart{})
	return x
}

// step applies ev and answers every DoSpawn with EvStarted.
func (x *sim) step(ev Event) []Action {
	x.acts = nil
	for queue := []Event{ev}; len(queue) > 0; queue = queue[1:] {
		out := x.s.Step(x.now, queue[0])
		x.acts = append(x.acts, out...)
		for _, a := range out {
			if a.Kind == DoSpawn {
				queue = append(queue, EvStarted{ID: a.Worker.ID, PID: 1000 + a.Worker.ID})
			}
		}
	}
	return x.acts
}

func (x *sim) advance(d time.Duration) { x.now = x.now.Add(d); x.step(EvTick{}) }
func (x *sim) msg(id int, line string) { x.step(EvMessage{ID: id, Line: line}) }
func (x *sim) ready(ids ...int) {
	for _, id := range ids {
		x.msg(id, MsgReady)
	}
}
func (x *sim) exit(id int, status string) { x.step(EvExited{ID: id, Status: status}) }
func (x *sim) signal(name string)         { x.step(EvSignal{Name: name}) }

// reload is a HUP with a configuration the loop loaded (nil: unchanged).
func (x *sim) reload(cfg *Policy, err error) {
	x.signal("HUP")
	x.step(EvConfigLoaded{Cfg: cfg, Err: err})
}

// booted starts the sim's workers and has them all ready.
func (x *sim) booted() *sim {
	for _, w := range x.s.Workers {
		x.ready(w.ID)
	}
	return x
}

func (x *sim) spawned() (ids []int) {
	for _, a := range x.acts {
		if a.Kind == DoSpawn {
			ids = append(ids, a.Worker.ID)
		}
	}
	return ids
}

// sent lists what worker id was told in the last step (commands and signals).
func (x *sim) sent(id int) (out []string) {
	for _, a := range x.acts {
		if (a.Kind == DoSend || a.Kind == DoSignal) && a.Worker.ID == id {
			out = append(out, a.Arg)
		}
	}
	return out
}

func (x *sim) has(kind actKind, arg string) bool {
	return slices.ContainsFunc(x.acts, func(a Action) bool { return a.Kind == kind && (arg == "" || a.Arg == arg) })
}

func (x *sim) logged(msg string) int {
	n := 0
	for _, a := range x.acts {
		if a.Kind == DoLog && strings.Contains(a.Text+" "+fmt.Sprintln(a.Attrs...), msg) {
			n++
		}
	}
	return n
}

func (x *sim) phase(id int) string {
	if w := x.s.Find(id); w != nil {
		return w.Phase.String()
	}
	return "gone"
}

func (x *sim) ids() (ids []int) {
	for _, w := range x.s.Workers {
		ids = append(ids, w.ID)
	}
	return ids
}

func TestStartUpSpawnsTargetAndAnnouncesOnceAllReady(t *testing.T) {
	x := newSim(t, 2)
	if got := x.spawned(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("start-up spawned %v, want workers 1 and 2", got)
	}
	x.step(EvTick{})
	if x.s.Serving() || x.has(DoNotify, NotifyReady) {
		t.Fatal("started processes are not ready: only their ready message counts")
	}
	x.ready(1)
	if x.s.Serving() || x.has(DoHookReady, "") {
		t.Fatal("announced with one of two workers ready")
	}
	x.ready(2)
	if !x.s.Serving() || !x.has(DoNotify, NotifyReady) || !x.has(DoHookReady, "") || x.logged("master ready") != 1 {
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
		{"max requests", func(c *Policy) { c.MaxRequests, c.MaxRequestsJitter = 100, 10 }, func(x *sim) { x.msg(1, "hb 110 0 0") }, "max requests reached (110)"},
		{"stuck request", nil, func(x *sim) { x.msg(1, "hb 5 1 31000"); x.advance(TickEvery) }, "a request has run for 31s (timeout 30s)"},
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
			if x.phase(1) != "retiring" || x.s.Find(1).reason != tc.reason {
				t.Fatalf("worker 1 is %s (%q), want retiring for %q", x.phase(1), x.s.Find(1).reason, tc.reason)
			}
			news := x.spawned()
			if len(news) == 0 {
				t.Fatal("no replacement started")
			}
			if !x.s.Serving() {
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
	if !slices.Equal(x.spawned(), []int{3, 4}) || x.s.Gen != 2 || !x.has(DoHookReload, "") {
		t.Fatalf("reload: spawned %v, generation %d", x.spawned(), x.s.Gen)
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
	if len(x.spawned()) != 0 || x.s.Gen != 1 || x.has(DoHookReload, "") {
		t.Fatalf("a configuration that did not load started generation %d: %v", x.s.Gen, x.spawned())
	}
	if x.logged("configuration not applied") != 1 || x.logged("bad indent") != 1 || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("want the error logged once and READY=1 again, got %+v", x.acts)
	}
}

func TestReloadAppliesTheNewWorkerCount(t *testing.T) {
	x := newSim(t, 1).booted()
	x.reload(&Policy{Workers: 3, Timeout: 30 * time.Second, Heartbeat: HeartbeatFor(30 * time.Second)}, nil)
	if x.s.Target != 3 || len(x.spawned()) != 3 || !x.has(DoApplyConfig, "") || !x.has(DoHookWorkers, "") {
		t.Fatalf("reload to 3 workers: target %d, spawned %v", x.s.Target, x.spawned())
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
	x.msg(3, `fail "config broken: missing DSN"`)
	x.exit(3, "exit status 1")
	if x.logged("reload abandoned") != 1 || x.logged("missing DSN") < 1 || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("want the reload abandoned with the app's error, got %+v", x.acts)
	}
	if !slices.Contains(x.sent(4), CmdQuit) || x.phase(1) != "ready" || x.phase(2) != "ready" {
		t.Fatalf("worker 4 got %v; old workers %s, %s, want ready", x.sent(4), x.phase(1), x.phase(2))
	}
	if x.s.Err != nil || x.s.stop != running {
		t.Error("a failed reload stopped the master")
	}
}

func TestBootFailureAtStartUpStopsWithTheAppsError(t *testing.T) {
	x := newSim(t, 2)
	x.msg(1, `fail "database unreachable"`)
	x.exit(1, "exit status 1")
	if x.s.Err == nil || x.s.Err.Error() != "prefork: worker failed to boot: database unreachable" {
		t.Fatalf("Run's error: %v", x.s.Err)
	}
	if !slices.Contains(x.sent(2), CmdQuit) || !x.has(DoCloseListeners, "") {
		t.Fatalf("the other worker got %v, want quit", x.sent(2))
	}
	x.exit(2, "exit status 0")
	if !x.s.Done() {
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
	if !slices.Equal(x.sent(1), []string{CmdQuit, "ABRT"}) || x.s.Err == nil || !strings.Contains(x.s.Err.Error(), "not ready within the timeout (1s)") {
		t.Fatalf("boot timeout: sent %v, err %v", x.sent(1), x.s.Err)
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
				x.msg(1, "hb 1 1 0")
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
				x.msg(1, MsgDumped)
			} else {
				x.advance(dumpWait + TickEvery)
			}
			if !slices.Equal(x.sent(1), []string{"KILL"}) {
				t.Fatalf("after the dump: %v, want KILL", x.sent(1))
			}
			x.exit(1, "signal: killed")
			if x.logged("worker exited") != 1 || len(x.s.crash.failures) != 0 || !x.s.Done() {
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
	x.msg(1, `exiting "received interrupt"`)
	if len(x.spawned()) != 1 {
		t.Fatalf("a worker stopping on its own is replaced at once: spawned %v", x.spawned())
	}
	x.exit(1, "exit status 0")
	if len(x.s.crash.failures) != 0 || x.logged("stopped on its own: received interrupt") != 1 {
		t.Fatalf("failures %d, %+v", len(x.s.crash.failures), x.acts)
	}
}

// The signal table of the package doc, row by row.
func TestSignalTable(t *testing.T) {
	t.Run("TERM: graceful stop", func(t *testing.T) {
		x := newSim(t, 2).booted()
		x.signal("TERM")
		if !slices.Equal(x.sent(1), []string{"drain stop"}) || !x.has(DoCloseListeners, "") || x.s.Serving() {
			t.Fatalf("TERM: %+v", x.acts)
		}
		x.exit(1, "exit status 0")
		x.exit(2, "exit status 0")
		if !x.s.Done() || x.s.Err != nil || len(x.spawned()) != 0 {
			t.Fatal("stopped master respawned or did not finish")
		}
	})
	for _, sig := range []string{"INT", "QUIT"} {
		t.Run(sig+": quick stop", func(t *testing.T) {
			x := newSim(t, 1).booted()
			x.signal(sig)
			if !slices.Equal(x.sent(1), []string{CmdQuit}) || x.s.StopReason != "SIG"+sig {
				t.Fatalf("%s: %v %q", sig, x.sent(1), x.s.StopReason)
			}
		})
	}
	t.Run("TERM with a shutdown delay: serve on, unready, then drain", func(t *testing.T) {
		x := newSim(t, 2, func(c *Policy) { c.ShutdownDelay = 5 * time.Second }).booted()
		x.signal("TERM")
		if len(x.sent(1)) != 0 || x.has(DoCloseListeners, "") || !x.has(DoNotify, NotifyStopping) || x.logged("master stopping after the shutdown delay") != 1 {
			t.Fatalf("TERM with a delay: want STOPPING=1 and workers untouched, got %+v", x.acts)
		}
		if x.s.Serving() || !x.s.Stopping() {
			t.Fatal("ready during the shutdown delay: /readyz must answer 503 from the TERM on")
		}
		x.exit(2, "signal: killed") // a crash during the delay is still replaced
		if len(x.spawned()) != 1 {
			t.Fatalf("worker crashed during the delay: spawned %v", x.spawned())
		}
		x.reload(nil, nil)
		if x.s.Gen != 1 {
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
		if x.s.Gen != 2 || len(x.spawned()) != 1 || x.phase(1) != "retiring" {
			t.Fatalf("HUP: gen %d, spawned %v", x.s.Gen, x.spawned())
		}
	})
	t.Run("TTIN / TTOU: one more, one fewer, never below 1", func(t *testing.T) {
		x := newSim(t, 1).booted()
		x.signal("TTIN")
		if x.s.Target != 2 || len(x.spawned()) != 1 || !x.has(DoHookWorkers, "") {
			t.Fatalf("TTIN: target %d", x.s.Target)
		}
		x.ready(2)
		x.signal("TTOU")
		if x.s.Target != 1 || !slices.Equal(x.sent(1), []string{CmdDrain}) || x.logged("scale down") == 0 {
			t.Fatalf("TTOU: target %d, oldest got %v", x.s.Target, x.sent(1))
		}
		for _, ev := range []Event{EvSignal{Name: "TTOU"}, EvCommand{Cmd: ControlTTOU}} {
			x.step(ev)
			if x.s.Target != 1 || x.logged("TTOU ignored: never fewer than 1 worker") != 1 {
				t.Fatalf("%+v at 1 worker: target %d, %+v", ev, x.s.Target, x.acts)
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
		if !x.has(DoKillUpgrade, "") || !x.has(DoWritePidFile, "") || !x.has(DoNotify, NotifyReady) || x.s.stop != running {
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
		if x.s.Target != 2 || !x.has(DoLoadConfig, "") {
			t.Fatalf("control ttin, reload: target %d, %+v", x.s.Target, x.acts)
		}
	})
}

func TestStatusViews(t *testing.T) {
	x := newSim(t, 2).booted()
	x.msg(1, "hb 7 1 0")
	x.advance(statusEvery)
	if !x.has(DoNotify, NotifyStatus) || !strings.Contains(x.acts[0].Text, "2 workers ready (target 2), generation 1, 7 requests") {
		t.Fatalf("STATUS=: %+v", x.acts)
	}
	x.advance(statusEvery)
	if x.has(DoNotify, NotifyStatus) {
		t.Error("an unchanged STATUS= was sent again")
	}
}

// A new generation that hangs while booting is abandoned after Timeout; the
// old workers serve on and nothing counts against the master.
func TestReloadWithHangingBootIsAbandonedAtTheTimeout(t *testing.T) {
	x := newSim(t, 1, func(c *Policy) { c.Timeout = time.Second }).booted()
	x.reload(nil, nil)
	for range 5 {
		x.msg(1, "hb 0 0 0")
		x.advance(250 * time.Millisecond)
	}
	if x.logged("reload abandoned") != 1 || !slices.Contains(x.sent(2), "ABRT") || x.phase(1) != "ready" {
		t.Fatalf("hanging generation: %+v; worker 1 %s", x.acts, x.phase(1))
	}
	if x.s.Err != nil || x.s.stop != running || !x.s.Serving() {
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
	y.step(EvSignal{Name: "TERM"})
	y.step(EvFilesChanged{Files: []string{"/opt/app/bin/app"}})
	if y.has(DoLoadConfig, "") {
		t.Fatal("a change while stopping must not reload")
	}
}
