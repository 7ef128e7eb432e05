package observe

import (
	"testing"
	"time"
)

// More requests at once than the tracker has slots: the rest go to its
// overflow map, and every one is counted in flight, aged, and ended, and
// served (a canary's figures) once, with its error.
func TestRequestTrackerOverflow(t *testing.T) {
	tr := NewRequestTracker()
	start := time.Now()
	first := tr.Begin(start)
	time.Sleep(20 * time.Millisecond)
	ids := []uint64{first}
	for range trackerSlots + 50 {
		ids = append(ids, tr.Begin(time.Now()))
	}
	overflowed := 0
	for _, id := range ids {
		if id&overflowID != 0 {
			overflowed++
		}
	}
	st := tr.Stats()
	if st.InFlight != len(ids) || st.Requests != int64(len(ids)) || st.OldestRequest < 20*time.Millisecond || overflowed < 50 {
		t.Errorf("%d begun (%d overflowed): %+v, want all in flight, the first aged, >= 50 overflowed", len(ids), overflowed, st)
	}
	for i, id := range ids {
		status := 200
		if i%2 == 0 {
			status = 503
		}
		took := time.Millisecond
		if i == 0 {
			took = time.Since(start)
		}
		tr.End(id, status, false, took)
		tr.End(id, status, false, took) // a second end of the same ID counts nothing
	}
	if st := tr.Stats(); st.InFlight != 0 || st.OldestRequest != 0 {
		t.Errorf("all ended: %+v, want none in flight", st)
	}
	sv := tr.ServedTotal()
	if want := int64(len(ids)); sv.Requests != want || sv.Errors != (want+1)/2 || sv.Latency.Quantile(1) < 20*time.Millisecond {
		t.Errorf("served %d, errors %d, slowest under %v; want %d, %d, the first's 20ms", sv.Requests, sv.Errors, sv.Latency.Quantile(1), want, (want+1)/2)
	}
}

// BenchmarkRequestTracker is the in-flight accounting of one ordinary request,
// from every P at once.
func BenchmarkRequestTracker(b *testing.B) {
	t := NewRequestTracker()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			t.End(t.Begin(start), 200, false, time.Since(start))
		}
	})
}
