package prefork

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// A worker's heap floor: unless $GOGC is set, a worker's heap goal (the heap size
// at which its next garbage collection starts) is at least heapFloor, or twice its
// live heap (GOGC=100's rule) when that is more.
//
// Why: Go's pacer never sets the goal under 4 MiB, and a worker's live heap is
// typically 1-3 MiB (its connections, the app's caches), so at GOGC=100 it collects
// every 1-3 MiB allocated: about 50 collections a second per worker under load,
// each with fixed costs (stopping the world twice, scanning every goroutine's stack
// and the globals). A worker that records request spans keeps more alive between
// exports, which shrinks that margin further. With the floor, a worker under load
// collects a few times a second. It costs at most heapFloor - 4 MiB of memory per
// worker, and nothing once the live heap reaches heapFloor/2, where GOGC=100 already
// sets a goal that high. bench/ prices it.
//
// The master sets GOMAXPROCS for its workers in the same spirit (doc.go); as there,
// the operator's own setting wins: with GOGC set (any value, "off" too; GOGC=100 is
// Go's own pacing) the worker leaves the pacer alone. GOMEMLIMIT caps the heap
// either way.
const heapFloor = 16 << 20

// goHeapMinimum is the pacer's smallest heap goal at GOGC=100; it scales with GOGC
// (runtime/mgcpacer.go: heapMinimum = 4 MiB × GOGC/100).
const goHeapMinimum = 4 << 20

// keepHeapFloor starts the floor in this process: after each collection it sets
// GOGC so that the next goal is max(2 × live, floor).
func keepHeapFloor(floor uint64) {
	if os.Getenv("GOGC") != "" { // empty is unset, for the Go runtime too
		return
	}
	t := &heapTuner{floor: floor, percent: 100, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.arm()
}

type heapTuner struct {
	floor   uint64
	percent int
	live    []metrics.Sample
}

// gcCycle is an object the next collection frees: its cleanup runs once per cycle
// and arms the next one. It holds a pointer so it is never batched with other tiny
// objects (whose cleanups may not run).
type gcCycle struct{ _ *byte }

func (t *heapTuner) arm() {
	runtime.AddCleanup(new(gcCycle), func(t *heapTuner) {
		t.tune()
		t.arm()
	}, t)
}

// tune sets GOGC for the live heap the last collection found. Only the cleanup
// goroutine calls it, one cycle at a time.
func (t *heapTuner) tune() {
	metrics.Read(t.live)
	if t.live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := floorPercent(t.live[0].Value.Uint64(), t.floor); p != t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
}

// floorPercent is the GOGC whose next heap goal is max(2 × live, floor): 100 once
// the live heap is half the floor or more; else the percent that grows live to the
// floor, at most the one whose heap minimum (goHeapMinimum × GOGC/100) is the floor,
// which then sets the goal on its own.
func floorPercent(live, floor uint64) int {
	live = max(live, 1)
	if 2*live >= floor {
		return 100
	}
	return int(min((floor-live)*100/live, floor*100/goHeapMinimum))
}
