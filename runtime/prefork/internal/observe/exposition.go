package observe

import (
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// metricsView is one scrape's worth of the master's figures, copied on the
// master's loop and rendered off it.
type MetricsView struct {
	Bounds     []float64       // histogram upper bounds, seconds
	Totals     MetricsSnapshot // counters over all workers ever; gauges over live ones
	InFlight   int64
	States     map[string]int // live workers by state
	Target     int
	Generation int
	Starts     uint64
	Exits      map[string]uint64
	Reloads    map[string]uint64
	Upgrades   map[string]uint64
	RSSSum     int64
	RSSMax     int64
	AgeMin     float64
	AgeMax     float64
	StartTime  time.Time
	PID        int
	Backlog    []BacklogSample // TCP listeners on Linux
}

// backlogSample is one listener's accept queue.
type BacklogSample struct {
	Listener      string // its address as bound (a small fixed set)
	Queued, Limit int64
}

// exposition writes Prometheus text format (version 0.0.4): HELP and TYPE
// for every family, units in names, counters ending in _total, and labels
// only from fixed small sets (method class, status class, exit reason,
// state, outcome): never a path, an ID or a pid.
type exposition struct {
	b []byte
}

// contentTypeExposition is the text format's media type.
const ContentTypeExposition = "text/plain; version=0.0.4; charset=utf-8"

func (e *exposition) family(name, typ, help string) {
	e.b = append(e.b, "# HELP "...)
	e.b = append(e.b, name...)
	e.b = append(e.b, ' ')
	e.b = append(e.b, help...) // fixed strings, no escaping needed
	e.b = append(e.b, "\n# TYPE "...)
	e.b = append(e.b, name...)
	e.b = append(e.b, ' ')
	e.b = append(e.b, typ...)
	e.b = append(e.b, '\n')
}

// sample writes one line; labels are name, value pairs.
func (e *exposition) sample(name string, v float64, labels ...string) {
	e.b = append(e.b, name...)
	if len(labels) > 0 {
		e.b = append(e.b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, labels[i]...)
			e.b = append(e.b, '=')
			e.b = appendLabelValue(e.b, labels[i+1])
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ' ')
	e.b = appendFloat(e.b, v)
	e.b = append(e.b, '\n')
}

// appendLabelValue quotes v with the text format's escapes (\\, \", \n).
func appendLabelValue(b []byte, v string) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendFloat(b []byte, v float64) []byte {
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	if a := math.Abs(v); a >= 1e-6 && a < 1e15 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func (e *exposition) single(name, typ, help string, v float64) {
	e.family(name, typ, help)
	e.sample(name, v)
}

// byLabel writes one sample per key of keys (in that order, missing = 0).
func (e *exposition) byLabel(name, typ, help, label string, keys []string, vals map[string]uint64) {
	e.family(name, typ, help)
	for _, k := range keys {
		e.sample(name, float64(vals[k]), label, k)
	}
}

// writeExposition renders v.
func WriteExposition(w io.Writer, v MetricsView) error {
	e := &exposition{b: make([]byte, 0, 8<<10)}
	t := v.Totals

	e.family("prefork_http_requests_total", "counter", "HTTP requests served by all workers, by method and status class.")
	for i, m := range methodClasses {
		for j, s := range statusClasses {
			if t.Requests[i][j] > 0 || (j == 1 && i == 0) || j == 4 {
				e.sample("prefork_http_requests_total", float64(t.Requests[i][j]), "method", m, "code", s)
			}
		}
	}
	e.family("prefork_http_request_duration_seconds", "histogram", "Time from the request's headers read to the handler's return.")
	var cum uint64
	for i, le := range v.Bounds {
		if i < len(t.Buckets) {
			cum += t.Buckets[i]
		}
		e.sample("prefork_http_request_duration_seconds_bucket", float64(cum), "le", strconv.FormatFloat(le, 'g', -1, 64))
	}
	if n := len(v.Bounds); n < len(t.Buckets) {
		cum += t.Buckets[n]
	}
	e.sample("prefork_http_request_duration_seconds_bucket", float64(cum), "le", "+Inf")
	e.sample("prefork_http_request_duration_seconds_sum", float64(t.DurationNanos)/1e9)
	e.sample("prefork_http_request_duration_seconds_count", float64(cum))
	e.single("prefork_http_requests_in_flight", "gauge", "Requests being served now (from the last heartbeats).", float64(v.InFlight))
	e.single("prefork_http_response_bytes_total", "counter", "Response body bytes written by all workers.", float64(t.ResponseBytes))

	e.family("prefork_workers", "gauge", "Worker processes by state.")
	states := make([]string, 0, len(v.States))
	for s := range v.States {
		states = append(states, s)
	}
	slices.Sort(states)
	for _, s := range states {
		e.sample("prefork_workers", float64(v.States[s]), "state", s)
	}
	e.single("prefork_workers_target", "gauge", "Workers the master keeps serving (--workers, TTIN/TTOU).", float64(v.Target))
	e.single("prefork_generation", "gauge", "Current worker generation (1 at start, +1 per reload).", float64(v.Generation))
	e.single("prefork_worker_starts_total", "counter", "Worker processes started.", float64(v.Starts))
	e.byLabel("prefork_worker_exits_total", "counter", "Worker processes reaped, by why they ended.", "reason", supervisor.ExitReasons, v.Exits)
	e.byLabel("prefork_reloads_total", "counter", "Rolling reloads (HUP) by outcome.", "outcome", supervisor.ReloadOutcomes, v.Reloads)
	e.byLabel("prefork_upgrades_total", "counter", "Binary upgrades (USR2) by outcome.", "outcome", supervisor.UpgradeOutcomes, v.Upgrades)
	e.single("prefork_workers_resident_memory_bytes", "gauge", "Resident memory of all live workers together.", float64(v.RSSSum))
	e.single("prefork_worker_resident_memory_max_bytes", "gauge", "Resident memory of the largest live worker.", float64(v.RSSMax))
	e.single("prefork_worker_age_max_seconds", "gauge", "Age of the oldest live worker.", v.AgeMax)
	e.single("prefork_worker_age_min_seconds", "gauge", "Age of the youngest live worker.", v.AgeMin)
	e.single("prefork_workers_goroutines", "gauge", "Goroutines in all live workers together.", float64(t.Goroutines))
	e.single("prefork_workers_heap_objects_bytes", "gauge", "Bytes in live Go heap objects of all live workers together.", float64(t.HeapBytes))
	e.single("prefork_workers_gc_cycles_total", "counter", "Go garbage collection cycles completed by all workers.", float64(t.GCCycles))
	if len(v.Backlog) > 0 {
		e.family("prefork_listen_backlog", "gauge", "Connections waiting in a listener's accept queue (Linux TCP_INFO).")
		for _, b := range v.Backlog {
			e.sample("prefork_listen_backlog", float64(b.Queued), "listener", b.Listener)
		}
		e.family("prefork_listen_backlog_limit", "gauge", "Size of a listener's accept queue (the listen backlog).")
		for _, b := range v.Backlog {
			e.sample("prefork_listen_backlog_limit", float64(b.Limit), "listener", b.Listener)
		}
	}
	if !v.StartTime.IsZero() {
		e.single("prefork_master_start_time_seconds", "gauge", "When the master started, in seconds since the Unix epoch.", float64(v.StartTime.UnixNano())/1e9)
	}
	_, err := w.Write(e.b)
	return err
}
