package supervisor

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The canary's specification: a reload's generation serves with a share of
// the workers beside the current one, and is promoted or rolled back on
// the window's figures. Every step is checked by checkInvariants.

var testCanary = CanaryPolicy{Window: 10 * time.Second, MinRequests: 100, MaxErrorIncrease: DefaultCanaryMaxErrorIncrease,
	MaxLatencyRatio: DefaultCanaryMaxLatencyRatio, LatencyFloor: DefaultCanaryLatencyFloor}

// newCanarySim is a booted sim whose reloads run a canary (pol).
func newCanarySim(t *testing.T, workers int, pol CanaryPolicy) *sim {
	t.Helper()
	x := newSim(t, workers)
	x.s.canaryPol = pol
	return x.booted()
}

// serve has worker id report n more completed requests, errs of them
// failed, each taking d (cumulative, as a worker reports).
func (x *sim) serve(id int, n, errs int64, d time.Duration) {
	x.t.Helper()
	w := x.s.find(id)
	if w == nil {
		x.t.Fatalf("no worker %d", id)
	}
	st, sv := w.stats, w.served
	st.Requests += n
	sv.Requests += n
	sv.Errors += errs
	sv.Latency[LatencyBucket(d)] += n
	x.step(EvHeartbeat{ID: id, Stats: st, Served: sv})
}

// window opens the canary's window (its workers ready), has the old workers
// and the canary serve, and closes it.
func (x *sim) window(old []int, oldD time.Duration, canary []int, n, errs int64, d time.Duration) {
	x.t.Helper()
	x.ready(canary...)
	x.advance(TickEvery)
	if x.view().Canary.Started.IsZero() {
		x.t.Fatal("every canary worker is ready, yet the window did not open")
	}
	x.baseline(append(old, canary...)...)
	for _, id := range old {
		x.serve(id, 2*n, 0, oldD)
	}
	for _, id := range canary {
		x.serve(id, n, errs, d)
	}
	x.advance(10 * time.Second)
}

// baseline has workers ids send their first report in the window (as
// spread on makes them at once): what it carries was served before the
// window, and is not counted.
func (x *sim) baseline(ids ...int) {
	x.t.Helper()
	for _, id := range ids {
		x.serve(id, 0, 0, 0)
	}
}

// openWindow opens a running canary's window (runningCanary's), with
// workers ids' first reports in it.
func (x *sim) openWindow(ids ...int) {
	x.t.Helper()
	x.advance(TickEvery)
	x.baseline(ids...)
}

// wantDecision fails unless the last canary was decided so.
func (x *sim) wantDecision(decision, reason string) {
	x.t.Helper()
	if l := x.view().LastCanary; l == nil || l.Decision != decision || l.Reason != reason {
		if l == nil {
			x.t.Fatalf("no decision, want %s/%s", decision, reason)
		}
		x.t.Fatalf("decided %s/%s (%s), want %s/%s", l.Decision, l.Reason, l.Detail, decision, reason)
	}
}

// runningCanary is a sim of n workers whose reload's canary (worker n+1) is ready.
func runningCanary(t *testing.T, n int) *sim {
	x := newCanarySim(t, n, testCanary)
	x.reload(nil, nil)
	x.ready(n + 1)
	return x
}

func (x *sim) recordedCanary(decision, reason string) bool {
	return slices.ContainsFunc(x.acts, func(a Action) bool {
		r, ok := a.(Record)
		return ok && r.What == RecordCanary && r.Outcome == decision && r.Reason == reason
	})
}

func TestCanaryStartsBesideTheFullOldGeneration(t *testing.T) {
	x := newCanarySim(t, 2, testCanary)
	x.reload(nil, nil)
	if got := x.spawned(); !slices.Equal(got, []int{3}) {
		t.Fatalf("a canary of one worker: spawned %v, want [3]", got)
	}
	v := x.view()
	if v.Phase != MasterCanary || v.Canary.Generation != 2 || v.Generation != 1 || v.Ready != 2 {
		t.Fatalf("phase %s, canary generation %d, current %d, ready %d: want canary 2 beside generation 1 at 2 ready", v.Phase, v.Canary.Generation, v.Generation, v.Ready)
	}
	if x.phase(1) != "ready" || x.phase(2) != "ready" {
		t.Fatalf("old workers %s, %s: they serve at full strength, not retiring", x.phase(1), x.phase(2))
	}
	x.ready(3)
	x.advance(5 * time.Second) // no traffic at all
	if x.phase(1) != "ready" {
		t.Fatal("nothing decided yet, the old generation serves on")
	}
}

func TestCanaryShareOfTheWorkers(t *testing.T) {
	for _, tc := range []struct {
		share   float64
		workers int
		want    int
	}{{0, 4, 1}, {0.25, 4, 1}, {0.5, 4, 2}, {0.3, 4, 2}, {1, 3, 3}, {2, 3, 3}, {0.1, 1, 1}} {
		if got := (CanaryPolicy{Share: tc.share}).size(tc.workers); got != tc.want {
			t.Errorf("share %v of %d workers: %d canary workers, want %d", tc.share, tc.workers, got, tc.want)
		}
	}
}

func TestCanaryPromotesAHealthyGeneration(t *testing.T) {
	x := newCanarySim(t, 2, testCanary)
	x.reload(nil, nil)
	x.window([]int{1, 2}, 20*time.Millisecond, []int{3}, 200, 1, 24*time.Millisecond) // 1.2x slower, 0.5% errors
	x.wantDecision(CanaryPromote, ReasonHealthy)
	if !x.recordedCanary(CanaryPromote, ReasonHealthy) {
		t.Fatal("no server_reload_decisions_total record")
	}
	v := x.view()
	// the canary is a ready worker of generation 2 already: one old worker drains at once
	if v.Phase != MasterReloading || v.Generation != 2 || x.phase(1) != "draining" || x.phase(2) != "retiring" {
		t.Fatalf("promoted: phase %s generation %d, workers 1, 2 %s %s: want the ready-gated roll-over", v.Phase, v.Generation, x.phase(1), x.phase(2))
	}
	news := x.spawned()
	if len(news) != 1 {
		t.Fatalf("the canary is one of the 2 workers: spawned %v, want one more", news)
	}
	x.ready(news[0])
	x.exit(1, "exit status 0")
	x.exit(2, "exit status 0")
	if v := x.view(); v.Phase != MasterServing || !x.has(DoNotify, NotifyReady) {
		t.Fatalf("after the roll-over: phase %s, READY=1 %v", v.Phase, x.has(DoNotify, NotifyReady))
	}
}

func TestCanaryRollsBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errs   int64
		d      time.Duration
		reason string
	}{
		{"errors", 10, 20 * time.Millisecond, ReasonErrors}, // 5% against 0%
		{"latency 2x", 0, 40 * time.Millisecond, ReasonLatency},
		{"latency 2x, a few errors", 1, 40 * time.Millisecond, ReasonLatency},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newCanarySim(t, 2, testCanary)
			x.reload(nil, nil)
			x.window([]int{1, 2}, 20*time.Millisecond, []int{3}, 200, tc.errs, tc.d)
			x.wantDecision(CanaryRollback, tc.reason)
			if !x.recordedCanary(CanaryRollback, tc.reason) {
				t.Fatal("no server_reload_decisions_total record")
			}
			assertRolledBack(t, x, 3)
			if !x.has(DoNotify, NotifyReady) {
				t.Error("no READY=1 after the rollback: systemctl reload would wait on")
			}
		})
	}
}

// TestCanaryErrorsRollBackBeforeTheWindowEnds: once the canary has served
// enough to judge, an error rate over the limit rolls it back at the next
// tick, not at the window's end; latency waits for the window.
func TestCanaryErrorsRollBackBeforeTheWindowEnds(t *testing.T) {
	x := runningCanary(t, 2)
	x.openWindow(1, 2, 3)
	x.serve(1, 200, 0, 20*time.Millisecond)
	x.serve(3, testCanary.MinRequests-1, testCanary.MinRequests-1, time.Millisecond)
	x.advance(TickEvery)
	if l := x.view().LastCanary; l != nil {
		t.Fatalf("decided %s/%s on %d requests, fewer than the %d needed", l.Decision, l.Reason, testCanary.MinRequests-1, testCanary.MinRequests)
	}
	x.serve(3, 1, 1, time.Millisecond)
	x.advance(TickEvery)
	x.wantDecision(CanaryRollback, ReasonErrors)
	if at, ends := x.view().LastCanary.At, x.view().Canary.Ends; !ends.IsZero() && !at.Before(ends) {
		t.Fatalf("decided at %v, not before the window's end %v", at, ends)
	}
	assertRolledBack(t, x, 3)

	y := runningCanary(t, 2)
	y.openWindow(1, 2, 3)
	y.serve(1, 400, 0, 20*time.Millisecond)
	y.serve(3, 200, 0, 100*time.Millisecond)
	y.advance(TickEvery)
	if l := y.view().LastCanary; l != nil {
		t.Fatalf("a slow canary was decided (%s/%s) before its window ended", l.Decision, l.Reason)
	}
}

// assertRolledBack: canary worker id drains, generation 1 serves at full strength.
func assertRolledBack(t *testing.T, x *sim, id int) {
	t.Helper()
	v := x.view()
	if v.Phase != MasterServing || v.Generation != 1 || v.Ready != v.Target || v.Canary.Generation != 0 {
		t.Fatalf("after a rollback: phase %s, generation %d, %d/%d ready, canary %d", v.Phase, v.Generation, v.Ready, v.Target, v.Canary.Generation)
	}
	if w, ok := v.Worker(id); ok && !w.Told {
		p := w.Phase
		t.Fatalf("canary worker %d is %s after the rollback", id, p)
	}
	for _, w := range v.Workers {
		if w.Generation == 1 && w.Phase != PhaseReady {
			t.Fatalf("old worker %d is %s after the rollback", w.ID, w.Phase)
		}
	}
	if got := x.spawned(); len(got) > 0 {
		t.Fatalf("a rollback starts nothing, started %v", got)
	}
}

func TestCanaryWithoutEnoughTrafficExtendsOnceThenPromotes(t *testing.T) {
	x := newCanarySim(t, 2, testCanary)
	x.reload(nil, nil)
	x.window([]int{1, 2}, 20*time.Millisecond, []int{3}, 10, 0, 20*time.Millisecond)
	if x.view().Phase != MasterCanary || x.logged("window extended once") != 1 {
		t.Fatalf("10 of 100 requests: phase %s; want the window extended once", x.view().Phase)
	}
	x.serve(3, 10, 0, 20*time.Millisecond)
	x.advance(10 * time.Second)
	x.wantDecision(CanaryPromote, ReasonLowTraffic)
}

func TestCanaryThatCrashesRollsBackAtOnce(t *testing.T) {
	x := runningCanary(t, 2)
	x.advance(TickEvery)
	x.exit(3, "exit status 2")
	x.wantDecision(CanaryRollback, ReasonCrash)
	assertRolledBack(t, x, 3)
}

func TestCanaryThatFailsToBootRollsBack(t *testing.T) {
	t.Run("factory error", func(t *testing.T) {
		x := newCanarySim(t, 2, testCanary)
		x.reload(nil, nil)
		x.step(EvFailed{ID: 3, Msg: "db: connection refused"})
		x.exit(3, "exit status 1")
		x.wantDecision(CanaryRollback, ReasonBootFailure)
		assertRolledBack(t, x, 3)
	})
	t.Run("boot timeout", func(t *testing.T) {
		x := newCanarySim(t, 2, testCanary)
		x.reload(nil, nil)
		for range 7 { // the old workers report, the canary never becomes ready
			x.advance(5 * time.Second)
			x.hb(1, 0, 0, 0)
			x.hb(2, 0, 0, 0)
		}
		x.wantDecision(CanaryRollback, ReasonBootFailure)
		assertRolledBack(t, x, 3)
	})
}

func TestReloadDuringACanarySupersedesIt(t *testing.T) {
	x := runningCanary(t, 2)
	x.reload(nil, nil)
	x.wantDecision(CanaryRollback, ReasonSuperseded)
	v := x.view()
	if v.Phase != MasterCanary || v.Canary.Generation != 3 || x.phase(3) != "draining" || !slices.Equal(x.spawned(), []int{4}) {
		t.Fatalf("phase %s canary %d, worker 3 %s, spawned %v: want canary 3 (worker 4), worker 3 draining", v.Phase, v.Canary.Generation, x.phase(3), x.spawned())
	}
	if x.has(DoNotify, NotifyReady) {
		t.Error("READY=1 between two canaries: the reload is not decided yet")
	}
}

func TestTermDuringACanaryStopsEverything(t *testing.T) {
	x := runningCanary(t, 2)
	x.signal("TERM")
	x.wantDecision(CanaryRollback, ReasonStopped)
	if v := x.view(); v.Phase != MasterStopping {
		t.Fatalf("phase %s, want stopping", v.Phase)
	}
	for _, id := range []int{1, 2, 3} {
		if x.phase(id) != "draining" {
			t.Fatalf("worker %d is %s, want draining", id, x.phase(id))
		}
	}
	if x.has(DoNotify, NotifyReady) {
		t.Error("READY=1 while stopping")
	}
}

func TestCanaryOfOneWorkerIsAnExtraWorker(t *testing.T) {
	x := newCanarySim(t, 1, testCanary)
	x.reload(nil, nil)
	x.ready(2)
	if v := x.view(); v.Ready != 1 || v.Canary.New.Workers != 1 || x.phase(1) != "ready" {
		t.Fatalf("ready %d, canary workers %d, worker 1 %s: want the old worker and the canary both serving", v.Ready, v.Canary.New.Workers, x.phase(1))
	}
}

// A reload's configuration is the canary's; it becomes the master's only on
// promotion, and a rollback leaves the running one untouched.
func TestCanaryConfigurationAppliesOnPromotionOnly(t *testing.T) {
	for _, promote := range []bool{true, false} {
		x := newCanarySim(t, 2, testCanary)
		x.signal("HUP")
		pol := x.s.cfg
		pol.Workers = 3
		x.step(EvConfigLoaded{Loaded: &Loaded{Policy: pol, Canary: testCanary, Settings: "new"}})
		if x.has(DoApplyConfig, "") || x.view().Target != 2 {
			t.Fatal("the loaded configuration applied before the canary was judged")
		}
		i := slices.IndexFunc(x.acts, func(a Action) bool { _, ok := a.(StartWorker); return ok })
		if i < 0 || x.acts[i].(StartWorker).Settings != "new" {
			t.Fatalf("the canary worker does not start with the loaded settings: %+v", x.acts)
		}
		errs := int64(0)
		if !promote {
			errs = 100
		}
		x.window([]int{1, 2}, 20*time.Millisecond, []int{3}, 200, errs, 20*time.Millisecond)
		if x.has(DoApplyConfig, "") != promote || (x.view().Target == 3) != promote {
			t.Fatalf("promote %v: ApplyConfig %v, target %d", promote, x.has(DoApplyConfig, ""), x.view().Target)
		}
	}
}

func TestCanaryOffIsTodaysReload(t *testing.T) {
	x := newCanarySim(t, 2, CanaryPolicy{})
	x.reload(nil, nil)
	if v := x.view(); v.Phase != MasterReloading || v.Generation != 2 || x.phase(1) != "retiring" || len(x.spawned()) != 2 {
		t.Fatalf("window 0: phase %s generation %d, worker 1 %s, spawned %v: want the plain rolling reload", v.Phase, v.Generation, x.phase(1), x.spawned())
	}
}

func TestJudge(t *testing.T) {
	ms := time.Millisecond
	fig := func(n, errs int64, d time.Duration) Figures {
		var f Figures
		f.Requests, f.Errors = n, errs
		f.Latency[LatencyBucket(d)] = n
		return f
	}
	tail := func(f Figures, n int64, d time.Duration) Figures { // n of its requests took d instead
		f.Latency[LatencyBucket(20*ms)] -= n
		f.Latency[LatencyBucket(d)] += n
		return f
	}
	p := testCanary
	for _, tc := range []struct {
		name     string
		old, cur Figures
		decision string
		reason   string
	}{
		{"same", fig(1000, 0, 20*ms), fig(500, 0, 20*ms), CanaryPromote, ReasonHealthy},
		{"1.2x slower", fig(1000, 0, 20*ms), fig(500, 0, 24*ms), CanaryPromote, ReasonHealthy},
		{"2x slower", fig(1000, 0, 20*ms), fig(500, 0, 40*ms), CanaryRollback, ReasonLatency},
		{"2x slower but under the floor", fig(1000, 0, 2*ms), fig(500, 0, 4*ms), CanaryPromote, ReasonHealthy},
		{"errors +0.8 points", fig(1000, 0, 20*ms), fig(500, 4, 20*ms), CanaryPromote, ReasonHealthy},
		{"errors +1.2 points", fig(1000, 0, 20*ms), fig(500, 6, 20*ms), CanaryRollback, ReasonErrors},
		{"errors as bad as the old", fig(1000, 100, 20*ms), fig(500, 52, 20*ms), CanaryPromote, ReasonHealthy},
		{"every request 500", fig(1000, 0, 20*ms), fig(500, 500, 1*ms), CanaryRollback, ReasonErrors},
		{"too few", fig(1000, 0, 20*ms), fig(99, 99, 20*ms), CanaryPromote, ReasonLowTraffic},
		{"no old traffic", fig(0, 0, 0), fig(500, 0, 900*ms), CanaryPromote, ReasonHealthy},
		{"a slow tail of 500 requests: p99 not judged", fig(5000, 0, 20*ms), tail(fig(500, 0, 20*ms), 10, 200*ms), CanaryPromote, ReasonHealthy},
		{"a slow tail of 2000 requests", fig(5000, 0, 20*ms), tail(fig(2000, 0, 20*ms), 40, 200*ms), CanaryRollback, ReasonLatency},
	} {
		d, r, detail := p.Judge(tc.old, tc.cur)
		if d != tc.decision || r != tc.reason {
			t.Errorf("%s: %s/%s (%s), want %s/%s", tc.name, d, r, detail, tc.decision, tc.reason)
		}
	}
}

func TestLatencyBucketsAreTenPercentApart(t *testing.T) {
	for i := 1; i < LatencyBuckets; i++ {
		lo, hi := LatencyBound(i-1), LatencyBound(i)
		if r := float64(hi) / float64(lo); r > 1.11 || r < 1.09 {
			t.Fatalf("bucket %d: %s to %s, ratio %.3f", i, lo, hi, r)
		}
		if LatencyBucket(hi) != i || LatencyBucket(lo+1) != i {
			t.Fatalf("bucket %d (%s, %s]: %s goes to %d, %s to %d", i, lo, hi, hi, LatencyBucket(hi), lo+1, LatencyBucket(lo+1))
		}
	}
	var h Latency
	h[LatencyBucket(10*time.Millisecond)] = 99
	h[LatencyBucket(time.Second)] = 1
	if p50, p99, p100 := h.Quantile(0.5), h.Quantile(0.99), h.Quantile(1); p50 < 10*time.Millisecond || p50 > 11*time.Millisecond ||
		p99 != p50 || p100 < time.Second || p100 > 1100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s p100 %s", p50, p99, p100)
	}
}

// newUpgradeSim is the new master of a USR2 upgrade whose start-up runs a
// canary (pol) against the old master's figures.
func newUpgradeSim(t *testing.T, workers int, pol CanaryPolicy) *sim {
	t.Helper()
	cfg := Policy{Workers: workers, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second}
	cfg.Heartbeat = HeartbeatFor(cfg.Timeout)
	x := &sim{t: t, now: time.Unix(1e9, 0),
		s: New(Options{Policy: cfg, Canary: pol, TakeOver: true, Jitter: func(n int) int { return n - 1 }})}
	x.prev = x.s.View()
	x.step(EvStart{})
	return x
}

// upgradeWindow: the canary worker boots, the window opens, the old master
// reports twice (oldN requests in all, at oldD), the canary serves n (errs
// failed, at d) and the window ends.
func (x *sim) upgradeWindow(oldN int64, oldD time.Duration, n, errs int64, d time.Duration) {
	x.t.Helper()
	var old Served
	x.step(EvOldServed{Total: old}) // the baseline
	x.ready(1)
	x.advance(TickEvery)
	x.baseline(1)
	x.step(EvOldServed{Total: old}) // its first report in the window: the baseline
	old.Requests += oldN
	old.Latency[LatencyBucket(oldD)] += oldN
	x.step(EvOldServed{Total: old})
	x.serve(1, n, errs, d)
	x.advance(10 * time.Second)
}

func TestUpgradeCanaryPromotesThenTakesOver(t *testing.T) {
	x := newUpgradeSim(t, 2, testCanary)
	if got := x.spawned(); !slices.Equal(got, []int{1}) {
		t.Fatalf("an upgrade's canary starts one worker of 2 first, started %v", got)
	}
	x.ready(1)
	if x.has("TakeOver", "") {
		t.Fatal("took over before the canary was judged")
	}
	x.upgradeWindow(800, 20*time.Millisecond, 200, 0, 22*time.Millisecond)
	x.wantDecision(CanaryPromote, ReasonHealthy)
	if got := x.spawned(); !slices.Equal(got, []int{2}) || x.has("TakeOver", "") {
		t.Fatalf("promoted: started %v, take-over %v; want worker 2, then the take-over", got, x.has("TakeOver", ""))
	}
	x.ready(2)
	if !x.has("TakeOver", "") {
		t.Fatal("every worker ready after the promotion: no take-over")
	}
}

// A rolled-back upgrade ends the new master with an error (its exit is
// non-zero; the old master, whose upgrade fails, serves on).
func TestUpgradeCanaryRollbackEndsTheNewMaster(t *testing.T) {
	for _, tc := range []struct {
		name   string
		run    func(x *sim)
		reason string
	}{
		{"errors", func(x *sim) { x.upgradeWindow(800, 20*time.Millisecond, 200, 200, 20*time.Millisecond) }, ReasonErrors},
		{"latency", func(x *sim) { x.upgradeWindow(800, 20*time.Millisecond, 200, 0, 40*time.Millisecond) }, ReasonLatency},
		{"crash", func(x *sim) { x.ready(1); x.exit(1, "exit status 2") }, ReasonCrash},
		{"boot failure", func(x *sim) { x.step(EvFailed{ID: 1, Msg: "bad"}); x.exit(1, "exit status 1") }, ReasonBootFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newUpgradeSim(t, 2, testCanary)
			tc.run(x)
			x.wantDecision(CanaryRollback, tc.reason)
			v := x.view()
			if v.Err == nil || !strings.Contains(v.Err.Error(), "rolled back by its canary ("+tc.reason+")") || v.Phase != MasterQuitting {
				t.Fatalf("after the rollback: phase %s, err %v; want quitting with the reason", v.Phase, v.Err)
			}
			if x.has("TakeOver", "") || x.tookOver {
				t.Fatal("a rolled-back upgrade took over")
			}
		})
	}
}
