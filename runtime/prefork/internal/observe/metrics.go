package observe

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Worker-side request metrics. Each worker counts its own requests with
// atomics (no lock on the request path) and reports the cumulative counts
// since it started to the master on the status pipe, next to every
// heartbeat ("metrics ..." line, see encode). The master keeps the last
// report of every worker, also of the ones that exited, so the sums it
// serves never go backwards (runtime/prefork, metrics_agg.go).

// DefaultMetricsBuckets are the request duration histogram's upper bounds in
// seconds: Prometheus client libraries' defaults, with 1ms and 2.5ms below
// them (a Go handler often answers in well under 5ms).
var DefaultMetricsBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// maxMetricsBuckets bounds the histogram's size (and the status line's).
const MaxMetricsBuckets = 30

// Method classes: the methods a service normally sees, everything else is
// "other", so a client cannot grow the label set.
var methodClasses = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}

// statusClasses are the response status classes.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

const nMethods, nStatus = len(methodClasses), len(statusClasses)

func methodClass(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	}
	return 7
}

// statusClass maps a status code to its class; codes outside 100..599 are
// counted as 5xx (a broken response is a server error).
func statusClass(code int) int {
	if code < 100 || code > 599 {
		return 4
	}
	return code/100 - 1
}

// requestMetrics is one worker's counters.
type RequestMetrics struct {
	bounds   []time.Duration // histogram upper bounds, ascending
	requests [nMethods][nStatus]atomic.Uint64
	buckets  []atomic.Uint64 // per bucket (not cumulative); the last one is +Inf
	sumNanos atomic.Uint64
	bytes    atomic.Uint64
}

func NewRequestMetrics(bounds []float64) *RequestMetrics {
	m := &RequestMetrics{buckets: make([]atomic.Uint64, len(bounds)+1)}
	for _, b := range bounds {
		m.bounds = append(m.bounds, time.Duration(b*float64(time.Second)))
	}
	return m
}

// observe counts one finished request.
func (m *RequestMetrics) Observe(method string, status int, bytes int64, d time.Duration) {
	m.requests[methodClass(method)][statusClass(status)].Add(1)
	i := 0
	for i < len(m.bounds) && d > m.bounds[i] {
		i++
	}
	m.buckets[i].Add(1)
	if d > 0 {
		m.sumNanos.Add(uint64(d))
	}
	if bytes > 0 {
		m.bytes.Add(uint64(bytes))
	}
}

// metricsSnapshot is one worker's cumulative counts (and current runtime
// gauges), as sent to the master.
type MetricsSnapshot struct {
	Requests      [nMethods][nStatus]uint64
	Buckets       []uint64 // per bucket, not cumulative; len(bounds)+1
	DurationNanos uint64
	ResponseBytes uint64
	GCCycles      uint64 // counter
	Goroutines    int64  // gauge
	HeapBytes     int64  // gauge: bytes in live heap objects
}

func (m *RequestMetrics) Snapshot() MetricsSnapshot {
	var s MetricsSnapshot
	for i := range m.requests {
		for j := range m.requests[i] {
			s.Requests[i][j] = m.requests[i][j].Load()
		}
	}
	s.Buckets = make([]uint64, len(m.buckets))
	for i := range m.buckets {
		s.Buckets[i] = m.buckets[i].Load()
	}
	s.DurationNanos = m.sumNanos.Load()
	s.ResponseBytes = m.bytes.Load()
	readRuntimeMetrics(&s)
	return s
}

var runtimeSamples = []string{"/memory/classes/heap/objects:bytes", "/gc/cycles/total:gc-cycles"}

// readRuntimeMetrics fills the Go runtime figures (runtime/metrics: no
// stop-the-world, unlike ReadMemStats).
func readRuntimeMetrics(s *MetricsSnapshot) {
	samples := make([]metrics.Sample, len(runtimeSamples))
	for i, n := range runtimeSamples {
		samples[i].Name = n
	}
	metrics.Read(samples)
	if v := samples[0].Value; v.Kind() == metrics.KindUint64 {
		s.HeapBytes = int64(v.Uint64())
	}
	if v := samples[1].Value; v.Kind() == metrics.KindUint64 {
		s.GCCycles = v.Uint64()
	}
	s.Goroutines = int64(runtime.NumGoroutine())
}

// add adds o's counters and gauges to s (the master's sums).
func (s *MetricsSnapshot) Add(o MetricsSnapshot) {
	for i := range s.Requests {
		for j := range s.Requests[i] {
			s.Requests[i][j] += o.Requests[i][j]
		}
	}
	if len(s.Buckets) < len(o.Buckets) {
		s.Buckets = append(s.Buckets, make([]uint64, len(o.Buckets)-len(s.Buckets))...)
	}
	for i, v := range o.Buckets {
		s.Buckets[i] += v
	}
	s.DurationNanos += o.DurationNanos
	s.ResponseBytes += o.ResponseBytes
	s.GCCycles += o.GCCycles
	s.Goroutines += o.Goroutines
	s.HeapBytes += o.HeapBytes
}

// requestCount is the number of requests counted in s.
func (s MetricsSnapshot) RequestCount() uint64 {
	var n uint64
	for i := range s.Requests {
		for _, v := range s.Requests[i] {
			n += v
		}
	}
	return n
}

// encode is the snapshot as the argument of a "metrics" status line:
// space-separated key=value fields, requests sparse ("r=M.S:N,..." with
// method and status class indexes), buckets in order.
//
//	r=0.1:1200,2.3:4 b=900,250,50,0,... d=<duration ns> o=<bytes> gc=<cycles> g=<goroutines> h=<heap bytes>
func (s MetricsSnapshot) Encode() string {
	b := make([]byte, 0, 256)
	b = append(b, "r="...)
	first := true
	for i := range s.Requests {
		for j, v := range s.Requests[i] {
			if v == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(j), 10)
			b = append(b, ':')
			b = strconv.AppendUint(b, v, 10)
		}
	}
	b = append(b, " b="...)
	for i, v := range s.Buckets {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, v, 10)
	}
	for _, f := range []struct {
		k string
		v uint64
	}{{" d=", s.DurationNanos}, {" o=", s.ResponseBytes}, {" gc=", s.GCCycles}, {" g=", uint64(s.Goroutines)}, {" h=", uint64(s.HeapBytes)}} {
		b = append(b, f.k...)
		b = strconv.AppendUint(b, f.v, 10)
	}
	return string(b)
}

var errBadMetrics = errors.New("bad metrics line")

// decodeMetrics parses encode's output. Unknown keys are ignored (a newer
// worker during a binary upgrade may send more), malformed values are an
// error.
func DecodeMetrics(line string) (MetricsSnapshot, error) {
	var s MetricsSnapshot
	bad := func(field string) (MetricsSnapshot, error) {
		return MetricsSnapshot{}, fmt.Errorf("%w: field %q", errBadMetrics, field)
	}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return bad(f)
		}
		switch k {
		case "r":
			if v == "" {
				continue
			}
			for _, e := range strings.Split(v, ",") {
				ms, n, ok := strings.Cut(e, ":")
				mi, si, ok2 := strings.Cut(ms, ".")
				i, err1 := strconv.Atoi(mi)
				j, err2 := strconv.Atoi(si)
				c, err3 := strconv.ParseUint(n, 10, 64)
				if !ok || !ok2 || err1 != nil || err2 != nil || err3 != nil || i < 0 || i >= nMethods || j < 0 || j >= nStatus {
					return bad(f)
				}
				s.Requests[i][j] = c
			}
		case "b":
			parts := strings.Split(v, ",")
			if len(parts) > MaxMetricsBuckets+1 {
				return bad(k)
			}
			s.Buckets = make([]uint64, len(parts))
			for i, p := range parts {
				c, err := strconv.ParseUint(p, 10, 64)
				if err != nil {
					return bad(f)
				}
				s.Buckets[i] = c
			}
		case "d", "o", "gc", "g", "h":
			c, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return bad(f)
			}
			switch k {
			case "d":
				s.DurationNanos = c
			case "o":
				s.ResponseBytes = c
			case "gc":
				s.GCCycles = c
			case "g":
				s.Goroutines = int64(c)
			case "h":
				s.HeapBytes = int64(c)
			}
		}
	}
	return s, nil
}
