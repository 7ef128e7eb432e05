package observe

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// Worker-side request metrics, by the OpenTelemetry HTTP semantic
// conventions (http.server.request.duration, http.server.active_requests,
// http.server.request.body.size, http.server.response.body.size). Each
// worker counts its own requests in one series per attribute set (method,
// status code, route, scheme, protocol version): a series is found in a
// copy-on-write map read through an atomic pointer (a lock only to add a new
// series, which is rare and bounded) and counted with atomics, so no request
// waits on another. The worker reports the cumulative counts since it
// started to the master on the status pipe, before every heartbeat
// ("metrics <json>", one MetricsSnapshot). The master keeps the last report
// of every worker, also of the ones that exited, so the sums it serves never
// go backwards (runtime/prefork, metrics_agg.go).

// DefaultMetricsBuckets are http.server.request.duration's bucket bounds in
// seconds, as the semantic conventions advise them.
var DefaultMetricsBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// SizeBuckets are the body size histograms' bounds in bytes (the
// OpenTelemetry SDK's default explicit bounds; the conventions advise none).
var SizeBuckets = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

// MaxSeries bounds one worker's series: past it, new attribute sets count
// under http.route "_OTHER", so a route per path (an app that routes by
// hand) cannot grow a worker's report without bound.
const MaxSeries = 1000

// RouteOverflow is http.route of the requests past MaxSeries.
const RouteOverflow = "_OTHER"

// SemconvMethod is http.request.method: the well-known methods as they are,
// others "_OTHER", so a client cannot add a series per made-up method.
func SemconvMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE":
		return m
	case "":
		return "GET"
	}
	return "_OTHER"
}

// ProtocolVersion is network.protocol.version from a request's ProtoMajor
// and ProtoMinor: "1.0", "1.1", "2", "3".
func ProtocolVersion(major, minor int) string {
	switch {
	case major == 1 && minor == 1:
		return "1.1"
	case major == 1 && minor == 0:
		return "1.0"
	case major == 2:
		return "2"
	case major == 3:
		return "3"
	}
	return fmt.Sprintf("%d.%d", major, minor)
}

// Attrs are one series' attributes. Route is "" when no pattern matched
// (the conventions then leave http.route out): never the raw path.
type Attrs struct {
	Method string `json:"m"`
	Status int    `json:"s"`
	Route  string `json:"r,omitempty"`
	Scheme string `json:"sc"`
	Proto  string `json:"p"`
}

// Exemplar is one request's sample in a duration bucket: its trace ID (32
// hex digits), its duration in seconds and when it ended.
type Exemplar struct {
	TraceID string  `json:"t"`
	Value   float64 `json:"v"`
	Time    int64   `json:"ts"` // Unix nanoseconds
}

// Histogram is a cumulative histogram's counts: per bucket (not
// cumulative), len(bounds)+1 with +Inf last, and the sum of the values.
type Histogram struct {
	Counts []uint64 `json:"c"`
	Sum    float64  `json:"s"`
}

// Count is the number of values in h.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

func (h *Histogram) add(o Histogram) {
	if len(h.Counts) < len(o.Counts) {
		h.Counts = append(h.Counts, make([]uint64, len(o.Counts)-len(h.Counts))...)
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.Sum += o.Sum
}

// Series is one attribute set's figures in a report.
type Series struct {
	Attrs
	Duration     Histogram  `json:"d"`
	RequestSize  Histogram  `json:"q"`
	ResponseSize Histogram  `json:"o"`
	Exemplars    []Exemplar `json:"x,omitempty"` // per duration bucket; TraceID "" where none
}

// Active is http.server.active_requests for one method and scheme.
type Active struct {
	Method string `json:"m"`
	Scheme string `json:"sc"`
	N      int64  `json:"n"`
}

// MetricsSnapshot is one worker's report to the master: its cumulative
// request series since it started, the requests it is serving now, and its
// Go runtime figures. It is the one value a worker's "metrics" status line
// carries (Encode, DecodeMetrics).
type MetricsSnapshot struct {
	Series     []Series `json:"h"`
	Active     []Active `json:"a,omitempty"`
	GCCycles   uint64   `json:"gc"` // counter
	Goroutines int64    `json:"g"`  // gauge
	HeapBytes  int64    `json:"hb"` // gauge: bytes in live heap objects
	// Spans are the app's span export counts (spans.go), nil when it reports none.
	Spans *SpanCounts `json:"sp,omitempty"`
}

// atomicHistogram is a histogram counted with atomics.
type atomicHistogram struct {
	counts []atomic.Uint64
	sum    atomic.Uint64 // float64 bits for sizes; nanoseconds for durations
}

type series struct {
	attrs     Attrs
	duration  atomicHistogram
	reqSize   atomicHistogram
	respSize  atomicHistogram
	exemplars []atomic.Pointer[Exemplar]
}

type activeKey struct{ method, scheme string }

// semconvMethods are SemconvMethod's values: the index of http.server.active_requests'
// counters.
var semconvMethods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "_OTHER"}

// activeSchemes are the url.scheme values with a counter of their own; others are found
// in RequestMetrics.activeOther.
var activeSchemes = [...]string{"http", "https"}

// activeCounter is one method and scheme's active requests; used once one was counted
// (a series is reported from then on, as the master's sums expect).
type activeCounter struct {
	n    atomic.Int64
	used atomic.Bool
}

// RequestMetrics is one worker's request series.
type RequestMetrics struct {
	bounds []time.Duration // duration bounds, ascending
	sizes  []int64
	series atomic.Pointer[map[Attrs]*series] // copied on write, under addMu
	addMu  sync.Mutex
	// active is indexed by method and scheme: no map lookup per request.
	active      [len(semconvMethods)][len(activeSchemes)]activeCounter
	activeOther sync.Map // activeKey -> *activeCounter, for other schemes
}

// NewRequestMetrics counts durations in buckets with upper bounds (seconds).
func NewRequestMetrics(bounds []float64) *RequestMetrics {
	m := &RequestMetrics{}
	for _, b := range bounds {
		m.bounds = append(m.bounds, time.Duration(b*float64(time.Second)))
	}
	for _, b := range SizeBuckets {
		m.sizes = append(m.sizes, int64(b))
	}
	m.series.Store(&map[Attrs]*series{})
	return m
}

func (m *RequestMetrics) seriesOf(a Attrs) *series {
	if s := (*m.series.Load())[a]; s != nil {
		return s
	}
	m.addMu.Lock()
	defer m.addMu.Unlock()
	cur := *m.series.Load()
	if s := cur[a]; s != nil {
		return s
	}
	if len(cur) >= MaxSeries {
		a.Route = RouteOverflow
		if s := cur[a]; s != nil {
			return s
		}
	}
	s := &series{attrs: a, exemplars: make([]atomic.Pointer[Exemplar], len(m.bounds)+1)}
	s.duration.counts = make([]atomic.Uint64, len(m.bounds)+1)
	s.reqSize.counts = make([]atomic.Uint64, len(m.sizes)+1)
	s.respSize.counts = make([]atomic.Uint64, len(m.sizes)+1)
	next := make(map[Attrs]*series, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[a] = s
	m.series.Store(&next)
	return s
}

// Begin counts a request as active (http.server.active_requests) until the
// returned counter is decremented.
func (m *RequestMetrics) Begin(method, scheme string) *atomic.Int64 {
	c := m.activeCounter(method, scheme)
	if !c.used.Load() {
		c.used.Store(true)
	}
	c.n.Add(1)
	return &c.n
}

func (m *RequestMetrics) activeCounter(method, scheme string) *activeCounter {
	i := len(semconvMethods) - 1 // _OTHER
	for j, known := range semconvMethods {
		if method == known {
			i = j
			break
		}
	}
	for j, known := range activeSchemes {
		if scheme == known {
			return &m.active[i][j]
		}
	}
	k := activeKey{semconvMethods[i], scheme}
	c, ok := m.activeOther.Load(k)
	if !ok {
		c, _ = m.activeOther.LoadOrStore(k, new(activeCounter))
	}
	return c.(*activeCounter)
}

// Observe counts one finished request; traceID (may be "") becomes the
// exemplar of the duration's bucket.
func (m *RequestMetrics) Observe(a Attrs, reqBytes, respBytes int64, d time.Duration, traceID string) {
	s := m.seriesOf(a)
	i := 0
	for i < len(m.bounds) && d > m.bounds[i] {
		i++
	}
	s.duration.counts[i].Add(1)
	if d > 0 {
		s.duration.sum.Add(uint64(d))
	}
	if traceID != "" {
		s.exemplars[i].Store(&Exemplar{TraceID: traceID, Value: d.Seconds(), Time: time.Now().UnixNano()})
	}
	m.size(&s.reqSize, reqBytes)
	m.size(&s.respSize, respBytes)
}

func (m *RequestMetrics) size(h *atomicHistogram, n int64) {
	if n < 0 {
		n = 0
	}
	i := 0
	for i < len(m.sizes) && n > m.sizes[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(uint64(n))
}

func (h *atomicHistogram) snapshot(scale float64) Histogram {
	out := Histogram{Counts: make([]uint64, len(h.counts)), Sum: float64(h.sum.Load()) * scale}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	return out
}

// Snapshot is the worker's report now.
func (m *RequestMetrics) Snapshot() MetricsSnapshot {
	var out MetricsSnapshot
	for _, s := range *m.series.Load() {
		r := Series{Attrs: s.attrs, Duration: s.duration.snapshot(1e-9), RequestSize: s.reqSize.snapshot(1), ResponseSize: s.respSize.snapshot(1)}
		for i := range s.exemplars {
			if e := s.exemplars[i].Load(); e != nil {
				if r.Exemplars == nil {
					r.Exemplars = make([]Exemplar, len(s.exemplars))
				}
				r.Exemplars[i] = *e
			}
		}
		out.Series = append(out.Series, r)
	}
	for i, method := range semconvMethods {
		for j, scheme := range activeSchemes {
			if c := &m.active[i][j]; c.used.Load() {
				out.Active = append(out.Active, Active{Method: method, Scheme: scheme, N: c.n.Load()})
			}
		}
	}
	m.activeOther.Range(func(k, v any) bool {
		key := k.(activeKey)
		out.Active = append(out.Active, Active{Method: key.method, Scheme: key.scheme, N: v.(*activeCounter).n.Load()})
		return true
	})
	readRuntimeMetrics(&out)
	readSpans(&out)
	return out
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

// Add adds o's counters and gauges to s (the master's sums): series with
// the same attributes are summed, and each bucket keeps the later exemplar.
func (s *MetricsSnapshot) Add(o MetricsSnapshot) {
	idx := make(map[Attrs]int, len(s.Series))
	for i, r := range s.Series {
		idx[r.Attrs] = i
	}
	for _, r := range o.Series {
		i, ok := idx[r.Attrs]
		if !ok {
			i = len(s.Series)
			idx[r.Attrs] = i
			s.Series = append(s.Series, Series{Attrs: r.Attrs})
		}
		t := &s.Series[i]
		t.Duration.add(r.Duration)
		t.RequestSize.add(r.RequestSize)
		t.ResponseSize.add(r.ResponseSize)
		for j, e := range r.Exemplars {
			if e.TraceID == "" {
				continue
			}
			if len(t.Exemplars) < len(r.Exemplars) {
				t.Exemplars = append(t.Exemplars, make([]Exemplar, len(r.Exemplars)-len(t.Exemplars))...)
			}
			if e.Time >= t.Exemplars[j].Time {
				t.Exemplars[j] = e
			}
		}
	}
	for _, a := range o.Active {
		found := false
		for i := range s.Active {
			if s.Active[i].Method == a.Method && s.Active[i].Scheme == a.Scheme {
				s.Active[i].N += a.N
				found = true
			}
		}
		if !found {
			s.Active = append(s.Active, a)
		}
	}
	s.GCCycles += o.GCCycles
	s.Goroutines += o.Goroutines
	s.HeapBytes += o.HeapBytes
	s.addSpans(o)
}

// RequestCount is the number of requests counted in s.
func (s MetricsSnapshot) RequestCount() uint64 {
	var n uint64
	for _, r := range s.Series {
		n += r.Duration.Count()
	}
	return n
}

// Errors5xx is the number of 5xx answers counted in s.
func (s MetricsSnapshot) Errors5xx() uint64 {
	var n uint64
	for _, r := range s.Series {
		if r.Status >= 500 && r.Status <= 599 {
			n += r.Duration.Count()
		}
	}
	return n
}

// DurationBuckets are the duration counts of every series together.
func (s MetricsSnapshot) DurationBuckets() []uint64 {
	var h Histogram
	for _, r := range s.Series {
		h.add(r.Duration)
	}
	return h.Counts
}

// Encode is the snapshot as the argument of a "metrics" status line: JSON,
// on one line.
func (s MetricsSnapshot) Encode() string {
	b, err := json.Marshal(s)
	if err != nil { // only plain values: cannot happen
		return "{}"
	}
	return string(b)
}

var errBadMetrics = errors.New("bad metrics line")

// DecodeMetrics parses Encode's output, checking that every duration
// histogram has buckets+1 counts. Unknown fields are ignored (a newer worker
// during a binary upgrade may send more).
func DecodeMetrics(line string, buckets int) (MetricsSnapshot, error) {
	var s MetricsSnapshot
	if err := json.Unmarshal([]byte(line), &s); err != nil {
		return MetricsSnapshot{}, fmt.Errorf("%w: %v", errBadMetrics, err)
	}
	for _, r := range s.Series {
		if len(r.Duration.Counts) != buckets+1 || len(r.RequestSize.Counts) != len(SizeBuckets)+1 || len(r.ResponseSize.Counts) != len(SizeBuckets)+1 ||
			(r.Exemplars != nil && len(r.Exemplars) != buckets+1) {
			return MetricsSnapshot{}, fmt.Errorf("%w: series %+v: histogram sizes differ from the master's buckets", errBadMetrics, r.Attrs)
		}
	}
	return s, nil
}
