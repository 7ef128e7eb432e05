package master

import (
	"math"
	"net"
	"os"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Master-side aggregation. Each worker reports cumulative counts since it
// started; the master keeps the last report of every live worker and adds
// the last report of each worker that exits to `retired`. So the sums never
// go backwards when a worker is replaced (HUP, recycling, a crash, a SIGKILL
// from outside): at worst the requests a killed worker served since its last
// heartbeat (at most one heartbeat interval) are never counted. A worker
// that stops gracefully sends a final report before it exits.
//
// Only the master's loop goroutine touches metricsAgg.

type metricsAgg struct {
	retired  observe.MetricsSnapshot
	live     map[int]observe.MetricsSnapshot // by worker ID
	starts   uint64
	exits    map[string]uint64
	reloads  map[string]uint64
	upgrades map[string]uint64
	canaries map[[2]string]uint64 // by {decision, reason}
	badLines uint64
	recent   map[int][]rateSample // by worker ID: its reports of the last rateWindow
}

// rateWindow is how far back status's current request rate looks.
const rateWindow = 10 * time.Second

// rateSample is a worker's request count as of one report.
type rateSample struct {
	at time.Time
	n  uint64
}

func newMetricsAgg() *metricsAgg {
	return &metricsAgg{live: map[int]observe.MetricsSnapshot{}, exits: map[string]uint64{},
		reloads: map[string]uint64{}, upgrades: map[string]uint64{}, canaries: map[[2]string]uint64{}, recent: map[int][]rateSample{}}
}

// update records worker id's latest cumulative report, received at now.
func (a *metricsAgg) update(id int, s observe.MetricsSnapshot, now time.Time) {
	a.live[id] = s
	h := append(a.recent[id], rateSample{now, s.RequestCount()})
	i := 0 // keep one sample at or before the window's start, as its base
	for i+1 < len(h) && !h[i+1].at.After(now.Add(-rateWindow)) {
		i++
	}
	a.recent[id] = append(h[:0], h[i:]...)
}

// rate is worker id's requests per second over the last rateWindow (or
// since its first report, when younger), as of its last report.
func (a *metricsAgg) rate(id int) float64 {
	h := a.recent[id]
	if len(h) < 2 {
		return 0
	}
	first, last := h[0], h[len(h)-1]
	if dt := last.at.Sub(first.at).Seconds(); dt > 0 && last.n >= first.n {
		return float64(last.n-first.n) / dt
	}
	return 0
}

// retire moves worker id's last report into the retired sums. Its gauges
// (goroutines, heap) end with it.
func (a *metricsAgg) retire(id int) {
	s, ok := a.live[id]
	if !ok {
		return
	}
	delete(a.live, id)
	delete(a.recent, id)
	s.Active = nil // its requests ended with it
	s.Goroutines, s.HeapBytes = 0, 0
	a.retired.Add(s)
}

// totals are the counters over every worker the master ever had, and the
// gauges over the live ones.
func (a *metricsAgg) totals() observe.MetricsSnapshot {
	var t observe.MetricsSnapshot
	t.Add(a.retired)
	for _, s := range a.live {
		t.Add(s)
	}
	return t
}

// ---- the shell's side: the supervisor's Record and Metrics actions ----

// record counts what the supervisor reports (Record): starts, exits by
// kind, reload and upgrade outcomes. An exit retires the worker's counts
// (its final report came before its exit: the loop reads the status pipe
// to EOF before it delivers the exit).
func (m *masterShell) record(a supervisor.Record) {
	agg := m.obs.agg
	if agg == nil {
		return
	}
	switch a.What {
	case supervisor.RecordStart:
		agg.starts++
	case supervisor.RecordExit:
		agg.exits[a.Outcome]++
		agg.retire(a.Worker.ID)
	case supervisor.RecordReload:
		agg.reloads[a.Outcome]++
	case supervisor.RecordUpgrade:
		agg.upgrades[a.Outcome]++
	case supervisor.RecordCanary:
		agg.canaries[[2]string{a.Outcome, a.Reason}]++
	}
}

// metricsLine takes a worker's "metrics ..." report (a Metrics action).
func (m *masterShell) metricsLine(w WorkerInfo, arg string) {
	agg := m.obs.agg
	if agg == nil {
		return
	}
	s, err := observe.DecodeMetrics(arg, len(m.cfg.MetricsBuckets))
	if err != nil {
		if agg.badLines == 0 {
			m.log.Warn("bad metrics line from worker (ignored)", "worker", w.ID, "pid", w.PID, "err", err)
		}
		agg.badLines++
		return
	}
	if _, seen := agg.recent[w.ID]; !seen {
		if sw, ok := m.sup.View().Worker(w.ID); ok { // it served nothing before it started
			agg.recent[w.ID] = []rateSample{{at: sw.Started}}
		}
	}
	agg.update(w.ID, s, time.Now())
}

// metricsView copies what a scrape shows (on the loop; rendering is done off it).
func (m *masterShell) metricsView(now time.Time) observe.MetricsView {
	sv := m.sup.View()
	v := observe.MetricsView{Bounds: m.cfg.MetricsBuckets, Target: sv.Target, Generation: sv.Generation,
		States: map[string]int{"booting": 0, "ready": 0, "draining": 0}}
	if m.obs.agg != nil {
		v.Totals = m.obs.agg.totals()
		v.Starts, v.Exits, v.Reloads, v.Upgrades = m.obs.agg.starts, clone(m.obs.agg.exits), clone(m.obs.agg.reloads), clone(m.obs.agg.upgrades)
		v.Decisions = clone(m.obs.agg.canaries)
	}
	if m.prod != nil {
		v.StartTime = m.prod.started
	}
	first := true
	for _, w := range sv.Workers {
		v.States[stateLabel(w.Phase)]++
		age := now.Sub(w.Started).Seconds()
		rss := w.RSS
		v.RSSSum += rss
		if first || age > v.AgeMax {
			v.AgeMax = age
		}
		if first || age < v.AgeMin {
			v.AgeMin = age
		}
		v.RSSMax = max(v.RSSMax, rss)
		first = false
	}
	v.PID = os.Getpid()
	v.Backlog = m.backlog()
	return v
}

// stateLabel is a phase as the server_workers gauge's phase: booting,
// ready (serving: ready or retiring) or draining (told to stop).
func stateLabel(p supervisor.Phase) string {
	switch p {
	case supervisor.PhaseBooting:
		return "booting"
	case supervisor.PhaseReady, supervisor.PhaseRetiring:
		return "ready"
	}
	return "draining"
}

func clone[K comparable](m map[K]uint64) map[K]uint64 {
	c := make(map[K]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// masterObs is the master's observability state (one field of master).
type masterObs struct {
	agg          *metricsAgg
	server       *serving.SideServer
	otlp         *otlpPusher // metrics_otlp.go
	statsd       *observe.StatsdClient
	upgradeChild bool // started by USR2: the old master may still hold --metrics-bind
	lastWorkers  int  // last gunicorn.workers gauge sent
	nextBacklog  time.Time
}

// startObservability runs in startProduction: aggregation, the metrics
// listener and StatsD.
func (m *masterShell) startObservability() error {
	if err := m.startMetrics(); err != nil {
		return err
	}
	if m.cfg.StatsDHost != "" {
		c, err := observe.NewStatsD(m.cfg.StatsDHost, m.cfg.StatsDPrefix, m.cfg.DogStatsDTags)
		if err != nil {
			return err
		}
		m.obs.statsd = c
		m.obs.lastWorkers = -1
	}
	return nil
}

// stopObservability runs in stopProduction (and when handing over to a
// new master: it binds the metrics address next).
func (m *masterShell) stopObservability() {
	m.stopOTLP()
	m.obs.server.Close()
	m.obs.statsd.Close()
}

// tickObservability runs on the master's tick: Gunicorn's gunicorn.workers
// gauge when it changes, and gunicorn.backlog every second.
func (m *masterShell) tickObservability(now time.Time) {
	if m.obs.statsd == nil {
		return
	}
	if n := len(m.sup.View().Workers); n != m.obs.lastWorkers {
		m.obs.lastWorkers = n
		m.obs.statsd.Gauge("gunicorn.workers", int64(n))
	}
	if now.After(m.obs.nextBacklog) {
		m.obs.nextBacklog = now.Add(time.Second)
		if bs := m.backlog(); len(bs) > 0 {
			var sum int64
			for _, b := range bs {
				sum += b.Queued
			}
			m.obs.statsd.Histogram("gunicorn.backlog", sum)
		}
	}
}

// backlog reads the accept queue of every TCP listener (Linux).
func (m *masterShell) backlog() []observe.BacklogSample { return backlogOf(m.lns, m.names) }

// backlogOf reads the accept queue of each TCP listener in lns (named by names).
func backlogOf(lns []net.Listener, names []string) []observe.BacklogSample {
	var out []observe.BacklogSample
	for i, ln := range lns {
		if q, limit, ok := serving.ListenBacklog(ln); ok && i < len(names) {
			out = append(out, observe.BacklogSample{Listener: names[i], Queued: q, Limit: limit})
		}
	}
	return out
}

// quantileBound is the upper bound of the histogram bucket that holds the
// q-quantile (0..1): the quantile is at most that (+Inf when it is in the
// last bucket; 0 when the histogram is empty). buckets are per bucket (not
// cumulative), len(bounds)+1. An upper bound rather than PromQL's linear
// estimate, which would report 2.5ms for a service answering in 20us.
func quantileBound(q float64, bounds []float64, buckets []uint64) float64 {
	var total uint64
	for _, c := range buckets {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum uint64
	for i, c := range buckets {
		cum += c
		if c > 0 && float64(cum) >= rank {
			if i < len(bounds) {
				return bounds[i]
			}
			break
		}
	}
	return math.Inf(1)
}

// fillStatusMetrics adds each worker's figures from its last report to a
// status view (on the loop): its request rate over the last 10 s, its
// requests, and over its lifetime the bucket bounds that p50 and p99
// latency are under (-1: above the highest bound) and its 5xx answers.
func (m *masterShell) fillStatusMetrics(st *Status, v supervisor.View, now time.Time) {
	if m.obs.agg == nil {
		return
	}
	for i, wr := range st.Workers {
		s, ok := m.obs.agg.live[wr.ID]
		if !ok {
			continue
		}
		r := &st.Workers[i]
		r.RequestsPerSecond = m.obs.agg.rate(wr.ID)
		r.Requests = int64(s.RequestCount()) // as received: at most one report old
		buckets := s.DurationBuckets()
		r.P50Millis = millisBound(quantileBound(0.5, m.cfg.MetricsBuckets, buckets))
		r.P99Millis = millisBound(quantileBound(0.99, m.cfg.MetricsBuckets, buckets))
		r.Errors5xx = s.Errors5xx()
		r.Metrics = true
	}
}

// millisBound is a bound in milliseconds for JSON (which has no +Inf): -1
// stands for "above the highest bucket".
func millisBound(sec float64) float64 {
	if math.IsInf(sec, 1) {
		return -1
	}
	return sec * 1000
}
