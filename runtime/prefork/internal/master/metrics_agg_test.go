package master

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// The sums never go backwards: a worker's last report is kept when it
// exits (graceful, crash or SIGKILL), and its replacement counts from 0.
func TestMetricsAggMonotonicAcrossWorkerReplacement(t *testing.T) {
	a := newMetricsAgg()
	var last uint64
	check := func(step string, want uint64, goroutines int64) {
		t.Helper()
		tot := a.totals()
		n := tot.RequestCount()
		if n != want {
			t.Errorf("%s: total %d, want %d", step, n, want)
		}
		if n < last {
			t.Errorf("%s: total went back from %d to %d", step, last, n)
		}
		if tot.Goroutines != goroutines {
			t.Errorf("%s: goroutines %d, want %d (live workers only)", step, tot.Goroutines, goroutines)
		}
		last = n
	}
	now := time.Now()
	a.update(1, snap(10, 10, 0), now)
	a.update(2, snap(5, 4, 1), now)
	check("two workers", 15, 20)
	a.update(1, snap(12, 12, 0), now)
	check("worker 1 reports again", 17, 20)
	a.retire(1) // exits (its final report came first)
	check("worker 1 exited", 17, 10)
	a.update(3, snap(0, 0, 0), now) // its replacement starts from zero
	check("replacement booted", 17, 20)
	a.update(3, snap(4, 4, 0), now)
	a.retire(2) // SIGKILLed: the last report is what it served, as far as we know
	check("worker 2 killed", 21, 10)
	a.retire(2) // reaped twice cannot count twice
	a.retire(99)
	check("unknown retire", 21, 10)
	if b := a.totals().DurationBuckets(); !reflect.DeepEqual(b, []uint64{20, 1}) {
		t.Errorf("buckets %v, want [20 1]", b)
	}
}

func TestQuantileBound(t *testing.T) {
	bounds := []float64{0.01, 0.1, 1}
	inf := math.Inf(1)
	for _, c := range []struct {
		q       float64
		buckets []uint64
		want    float64
	}{
		{0.5, []uint64{0, 0, 0, 0}, 0},
		{0.5, []uint64{10, 0, 0, 0}, 0.01},
		{0.99, []uint64{10, 0, 0, 0}, 0.01},
		{0.5, []uint64{0, 10, 0, 0}, 0.1},
		{0.99, []uint64{90, 9, 1, 0}, 0.1}, // rank 99 ends the second bucket
		{0.99, []uint64{90, 8, 2, 0}, 1},
		{0.99, []uint64{50, 0, 0, 50}, inf}, // above the highest bound
		{0.5, []uint64{1, 1, 1, 1}, 0.1},
		{1, []uint64{3, 0, 1, 0}, 1}, // empty buckets are skipped
	} {
		if got := quantileBound(c.q, bounds, c.buckets); got != c.want {
			t.Errorf("quantileBound(%v, %v) = %v, want %v", c.q, c.buckets, got, c.want)
		}
	}
	if millisBound(inf) != -1 || millisBound(0.0025) != 2.5 {
		t.Error("millisBound")
	}
}

func TestStatusTableShowsMetrics(t *testing.T) {
	st := Status{PID: 1, Started: time.Now(), Workers: []WorkerReport{
		{ID: 1, State: "ready", Metrics: true, RequestsPerSecond: 123.45, P50Millis: 2.5, P99Millis: 1000, Errors5xx: 3}, {ID: 3, State: "ready", Metrics: true, P99Millis: -1},
		{ID: 2, State: "booting"},
	}}
	var b bytes.Buffer
	if err := st.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"REQUESTS(LIFE)", "REQ/S(10S)", "P50(LIFE)", "P99(LIFE)", "5XX(LIFE)", "123.5", "<=2.5ms", "<=1s", ">max"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// snap is a worker's cumulative figures: get GET 200 requests in buckets.
func snap(get uint64, buckets ...uint64) (s observe.MetricsSnapshot) {
	_ = get // the buckets hold them
	s.Series = []observe.Series{{Attrs: observe.Attrs{Method: "GET", Status: 200, Route: "/", Scheme: "http", Proto: "1.1"},
		Duration: observe.Histogram{Counts: buckets}}}
	s.Goroutines = 10
	return s
}

// status's rate is the last 10 s of reports: an idle worker shows 0, however
// busy it was before.
func TestMetricsAggRateIsRecent(t *testing.T) {
	a := newMetricsAgg()
	t0 := time.Unix(1000, 0)
	a.update(1, snap(0, 0, 0), t0)
	for i := 1; i <= 5; i++ {
		a.update(1, snap(0, uint64(i*100), 0), t0.Add(time.Duration(i)*time.Second))
	}
	if r := a.rate(1); r != 100 {
		t.Errorf("busy rate %v, want 100", r)
	}
	for i := 6; i <= 20; i++ { // idle from here on
		a.update(1, snap(0, 500, 0), t0.Add(time.Duration(i)*time.Second))
	}
	if r := a.rate(1); r != 0 {
		t.Errorf("idle for 15 s: rate %v, want 0", r)
	}
	if n := len(a.recent[1]); n > 12 {
		t.Errorf("%d samples kept, want about 10 s worth", n)
	}
	a.retire(1)
	if a.rate(1) != 0 || len(a.recent) != 0 {
		t.Error("a retired worker's samples stay")
	}
}
