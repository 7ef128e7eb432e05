package supervisor

import (
	"math"
	"time"
)

// Latency is a log-linear histogram of request durations, cumulative in a
// worker's reports: bucket i counts durations up to LatencyBound(i), each
// bound latencyStep (10%) above the one before, from latencyBase; the last
// bucket takes everything beyond. Fine enough to tell 1.2x from 2x, which
// the exported metric's OpenTelemetry buckets (2-2.5x apart) cannot.
type Latency [LatencyBuckets]int64

const (
	LatencyBuckets = 160
	latencyBase    = 20 * time.Microsecond
	latencyStep    = 1.1
)

// latencyBounds[i] is bucket i's upper bound; the last is effectively
// unbounded (20µs·1.1^158 is about 70 minutes).
var latencyBounds = func() (b [LatencyBuckets]time.Duration) {
	for i := range b {
		b[i] = time.Duration(float64(latencyBase) * math.Pow(latencyStep, float64(i)))
	}
	return b
}()

// LatencyBound is bucket i's upper bound.
func LatencyBound(i int) time.Duration { return latencyBounds[i] }

// LatencyBucket is the bucket a duration d falls into.
func LatencyBucket(d time.Duration) int {
	if d <= latencyBase {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(latencyBase)) / math.Log(latencyStep)))
	// float rounding may put d one bucket off its bound: settle on the table
	for i > 0 && d <= latencyBounds[min(i-1, LatencyBuckets-1)] {
		i--
	}
	for i < LatencyBuckets-1 && d > latencyBounds[i] {
		i++
	}
	return min(i, LatencyBuckets-1)
}

// Count is the number of durations in h.
func (h *Latency) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile is the upper bound of the bucket holding quantile q (0 < q <= 1);
// zero for an empty histogram.
func (h *Latency) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i, c := range h {
		seen += c
		if seen >= max(rank, 1) {
			return latencyBounds[i]
		}
	}
	return latencyBounds[LatencyBuckets-1]
}

// Served is what a worker has served, cumulative since it started: the
// figures a canary is judged by.
type Served struct {
	Requests int64 // requests completed
	Errors   int64 // of those, 5xx responses and requests aborted by a panic (connection reset)
	Latency  Latency
}

// since is what a worker served between an earlier report (prev) and s; a
// counter that went back (it cannot, but a report is the worker's word) counts from zero.
func (s Served) since(prev Served) Served {
	if s.Requests < prev.Requests || s.Errors < prev.Errors {
		return s
	}
	d := Served{Requests: s.Requests - prev.Requests, Errors: s.Errors - prev.Errors}
	for i := range d.Latency {
		d.Latency[i] = max(s.Latency[i]-prev.Latency[i], 0)
	}
	return d
}

// add adds d's counts to s.
func (s *Served) add(d Served) {
	s.Requests += d.Requests
	s.Errors += d.Errors
	for i := range s.Latency {
		s.Latency[i] += d.Latency[i]
	}
}
