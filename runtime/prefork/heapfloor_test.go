//go:build unix

package prefork

import (
	"fmt"
	"testing"
	"time"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},         // the heap minimum at GOGC=400 is the floor
		{1 * mib, 400},   // 5 × live is under the floor: the minimum sets the goal
		{4 * mib, 300},   // 4 MiB grown by 300% is the floor
		{6 * mib, 166},   // rounded down: the goal stays just under the floor
		{8 * mib, 100},   // twice the live heap is the floor: Go's own pacing
		{200 * mib, 100}, // large heaps are never given more room than GOGC=100's
	} {
		if got := floorPercent(tc.live, heapFloor); got != tc.want {
			t.Errorf("floorPercent(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
	// The goal the pacer derives, max(live × (1+p/100), 4 MiB × p/100), is
	// max(2 × live, floor) within rounding, for every live heap.
	for live := uint64(0); live < 3*heapFloor; live += 97 * 1024 {
		p := uint64(floorPercent(live, heapFloor))
		goal := max(live*(100+p)/100, goHeapMinimum*p/100)
		want := max(2*live, heapFloor)
		if goal > want || want-goal > want/100 {
			t.Fatalf("live %d: GOGC %d gives goal %d, want %d", live, p, goal, want)
		}
	}
}

// A worker keeps the heap floor unless GOGC is set, and then keeps the user's.
func TestWorkerHeapFloor(t *testing.T) {
	needProc(t)
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     string // "GOGC=" (empty) counts as unset, for the Go runtime too
		floored bool
	}{
		{"floor", "GOGC=", true},
		{"user's choice", "GOGC=100", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startHelper(t, "run", []string{"-w", "1"}, tc.env)
			p.waitLog("master ready", 1, bootWithin)
			var percent, goal uint64
			// the tuner runs after a collection, in the cleanup goroutine: ask until it has
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got, err := p.get(newClient(), "/gogc")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fmt.Sscan(got, &percent, &goal); err != nil {
					t.Fatalf("/gogc answered %q: %v", got, err)
				}
				if percent != 100 || !tc.floored && time.Until(deadline) < 4*time.Second || time.Now().After(deadline) {
					break
				}
			}
			if tc.floored && (percent <= 100 || goal < heapFloor*99/100) {
				t.Errorf("worker GOGC %d, heap goal %d: want over 100 and a goal of at least the floor, %d", percent, goal, heapFloor)
			}
			if !tc.floored && (percent != 100 || goal >= heapFloor/2) {
				t.Errorf("with GOGC=100 set, worker GOGC %d, heap goal %d: want Go's own pacing (100, a goal of a few MiB)", percent, goal)
			}
		})
	}
}
