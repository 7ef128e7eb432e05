package supervisor

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The canary's share: the window spreads the clients, the canary is
// allowed no more requests than the old generation's average worker, and
// an upgrade's canary is not disturbed by a reload.

// While the window is open every serving worker closes each connection
// after its response, so kept-alive clients spread over the canary too.
func TestCanaryWindowSpreadsConnections(t *testing.T) {
	x := newCanarySim(t, 2, testCanary)
	x.reload(nil, nil)
	x.ready(3)
	x.advance(TickEvery)
	for id, want := range map[int][]string{1: {"spread on"}, 2: {"spread on"}, 3: {"spread on", "allow 0"}} {
		if !slices.Equal(x.sent(id), want) {
			t.Fatalf("window open: worker %d told %v, want %v", id, x.sent(id), want)
		}
	}
	x.exit(3, "exit status 2")
	for _, id := range []int{1, 2} {
		if !slices.Equal(x.sent(id), []string{"spread off"}) {
			t.Fatalf("rolled back: worker %d told %v, want spread off", id, x.sent(id))
		}
	}
}

// A canary worker is allowed as many requests in the window as the old
// generation's average worker reported: its share of the window's requests
// is at most its share of the workers, whoever wins the listen queue.
func TestCanaryIsAllowedTheOldWorkersAverage(t *testing.T) {
	x := runningCanary(t, 2)
	x.advance(TickEvery)
	if got := x.sent(3); !slices.Equal(got, []string{"spread on", "allow 0"}) {
		t.Fatalf("window open: the canary told %v, want spread on, allow 0 (nothing served beside it yet)", got)
	}
	x.serve(1, 1000, 0, 10*time.Millisecond) // before the window: the first reports in it are the baseline
	x.serve(2, 1000, 0, 10*time.Millisecond)
	x.serve(3, 0, 0, 0)
	x.advance(TickEvery)
	if got := x.sent(3); len(got) != 0 {
		t.Fatalf("the old workers' first reports in the window raised the allowance: the canary told %v", got)
	}
	x.serve(1, 100, 0, 10*time.Millisecond)
	x.serve(2, 60, 0, 10*time.Millisecond)
	x.serve(3, 500, 0, 10*time.Millisecond) // more than allowed: what it served does not raise it
	x.advance(TickEvery)
	if got := x.sent(3); !slices.Equal(got, []string{"allow 80"}) {
		t.Fatalf("old workers served 100 and 60: the canary told %v, want allow 80", got)
	}
	if got := append(x.sent(1), x.sent(2)...); len(got) != 0 {
		t.Fatalf("old workers told %v, want nothing (the allowance is the canary's)", got)
	}
	x.advance(TickEvery)
	if got := x.sent(3); len(got) != 0 {
		t.Fatalf("nothing new served: the canary told %v, want nothing", got)
	}
	x.serve(1, 40, 0, 10*time.Millisecond)
	x.advance(TickEvery)
	if got := x.sent(3); !slices.Equal(got, []string{"allow 100"}) {
		t.Fatalf("old workers served 200 in all: the canary told %v, want allow 100", got)
	}
	// no old worker serving (both died at once): the canary is not held while they are replaced
	x.exit(1, "signal: killed")
	x.exit(2, "signal: killed")
	x.advance(TickEvery)
	if got := x.sent(3); !slices.Contains(got, "allow "+strconv.FormatInt(math.MaxInt64, 10)) {
		t.Fatalf("no old worker serving: the canary told %v, want no limit", got)
	}
}

// An upgrade's canary is allowed the old master's figures over its
// configured workers.
func TestUpgradeCanaryIsAllowedTheOldWorkersAverage(t *testing.T) {
	x := newUpgradeSim(t, 2, testCanary)
	var old Served
	x.step(EvOldServed{Total: old})
	x.ready(1)
	x.advance(TickEvery)
	x.baseline(1)
	old.Requests = 5000 // before the window: its first report in it is the baseline
	x.step(EvOldServed{Total: old})
	old.Requests += 300
	x.step(EvOldServed{Total: old})
	x.advance(TickEvery)
	if got := x.sent(1); !slices.Contains(got, "allow 150") {
		t.Fatalf("the old master served 300 with 2 workers: the canary told %v, want allow 150", got)
	}
}

// A HUP to a USR2 master while its canary decides is ignored (logged): its
// workers are the ones judged, a new generation would muddle the decision.
func TestUpgradeCanaryIgnoresAReload(t *testing.T) {
	x := newUpgradeSim(t, 2, testCanary)
	x.ready(1)
	x.signal("HUP")
	if x.has(DoLoadConfig, "") || x.logged("reload ignored: this master is a binary upgrade's (USR2) new one") != 1 {
		t.Fatalf("a HUP during an upgrade's canary: load %v, logged %d; want ignored, logged once", x.has(DoLoadConfig, ""), x.logged("reload ignored: this master is a binary upgrade's (USR2) new one"))
	}
	if x.view().Canary.Size != 1 || !x.view().Canary.Upgrade {
		t.Fatal("the upgrade's canary ended on a HUP")
	}
}
