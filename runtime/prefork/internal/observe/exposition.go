package observe

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// metricsView is one scrape's worth of the master's figures, copied on the
// master's loop and rendered off it.
type MetricsView struct {
	Bounds     []float64       // histogram upper bounds, seconds
	Totals     MetricsSnapshot // counters over all workers ever; gauges over live ones
	States     map[string]int  // live workers by state
	Target     int
	Generation int
	Starts     uint64
	Exits      map[string]uint64
	Reloads    map[string]uint64
	Upgrades   map[string]uint64
	Decisions  map[[2]string]uint64 // canaries by {decision, reason}
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

// exposition writes the Prometheus text format (version 0.0.4) or, when
// asked, OpenMetrics 1.0 (with exemplars): HELP and TYPE for every family,
// units in names, counters ending in _total, and labels only from bounded
// sets (the conventions' attributes, with http.route a ServeMux pattern;
// exit reason, phase, outcome): never a path, an ID or a pid.
type exposition struct {
	b  []byte
	om bool // OpenMetrics
}

// ContentTypeExposition is the text format's media type.
const ContentTypeExposition = "text/plain; version=0.0.4; charset=utf-8"

// ContentTypeOpenMetrics is OpenMetrics' media type.
const ContentTypeOpenMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8"

func (e *exposition) family(name, typ, help string) {
	if e.om && typ == "counter" {
		name = strings.TrimSuffix(name, "_total") // OpenMetrics names the family without it
	}
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

// sample writes one line; labels are name, value pairs (a pair with an
// empty value is left out, as Prometheus would drop it).
func (e *exposition) sample(name string, v float64, labels ...string) {
	e.sampleExemplar(name, v, nil, labels...)
}

func (e *exposition) sampleExemplar(name string, v float64, ex *Exemplar, labels ...string) {
	e.b = append(e.b, name...)
	if len(labels) > 0 {
		e.b = append(e.b, '{')
		first := true
		for i := 0; i+1 < len(labels); i += 2 {
			if labels[i+1] == "" {
				continue
			}
			if !first {
				e.b = append(e.b, ',')
			}
			first = false
			e.b = append(e.b, labels[i]...)
			e.b = append(e.b, '=')
			e.b = appendLabelValue(e.b, labels[i+1])
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ' ')
	e.b = appendFloat(e.b, v)
	if e.om && ex != nil && ex.TraceID != "" {
		e.b = append(e.b, ` # {trace_id=`...)
		e.b = appendLabelValue(e.b, ex.TraceID)
		e.b = append(e.b, "} "...)
		e.b = strconv.AppendFloat(e.b, ex.Value, 'g', -1, 64)
		e.b = append(e.b, ' ')
		e.b = strconv.AppendFloat(e.b, float64(ex.Time)/1e9, 'f', 3, 64)
	}
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

// histogram writes one series of a histogram family: cumulative buckets,
// +Inf, _sum and _count; exemplars per bucket when given.
func (e *exposition) histogram(name string, bounds []float64, h Histogram, exemplars []Exemplar, labels []string) {
	var cum uint64
	ls := append(slices.Clip(labels), "le", "")
	bucket := name + "_bucket"
	for i := 0; i <= len(bounds); i++ {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		ls[len(ls)-1] = "+Inf"
		if i < len(bounds) {
			ls[len(ls)-1] = strconv.FormatFloat(bounds[i], 'g', -1, 64)
		}
		var ex *Exemplar
		if i < len(exemplars) {
			ex = &exemplars[i]
		}
		e.sampleExemplar(bucket, float64(cum), ex, ls...)
	}
	e.sample(name+"_sum", h.Sum, labels...)
	e.sample(name+"_count", float64(cum), labels...)
}

// WriteExposition renders v in the Prometheus text format, or OpenMetrics
// (with exemplars) when openMetrics.
func WriteExposition(w io.Writer, v MetricsView, openMetrics bool) error {
	e := &exposition{b: make([]byte, 0, 16<<10), om: openMetrics}
	t := v.Totals
	series := slices.Clone(t.Series)
	slices.SortFunc(series, func(a, b Series) int { return compareAttrs(a.Attrs, b.Attrs) })
	labels := func(a Attrs) []string {
		return []string{"http_request_method", a.Method, "http_response_status_code", strconv.Itoa(a.Status),
			"http_route", a.Route, "network_protocol_version", a.Proto, "url_scheme", a.Scheme}
	}
	e.family("http_server_request_duration_seconds", "histogram", "Duration of HTTP server requests (http.server.request.duration): from the request's headers read to the handler's return.")
	for _, s := range series {
		e.histogram("http_server_request_duration_seconds", v.Bounds, s.Duration, s.Exemplars, labels(s.Attrs))
	}
	e.family("http_server_active_requests", "gauge", "Active HTTP server requests (http.server.active_requests), from the workers' last reports.")
	active := slices.Clone(t.Active)
	slices.SortFunc(active, func(a, b Active) int { return strings.Compare(a.Method+" "+a.Scheme, b.Method+" "+b.Scheme) })
	for _, a := range active {
		e.sample("http_server_active_requests", float64(a.N), "http_request_method", a.Method, "url_scheme", a.Scheme)
	}
	e.family("http_server_request_body_size_bytes", "histogram", "Size of HTTP server request bodies (http.server.request.body.size).")
	for _, s := range series {
		e.histogram("http_server_request_body_size_bytes", SizeBuckets, s.RequestSize, nil, labels(s.Attrs))
	}
	e.family("http_server_response_body_size_bytes", "histogram", "Size of HTTP server response bodies (http.server.response.body.size).")
	for _, s := range series {
		e.histogram("http_server_response_body_size_bytes", SizeBuckets, s.ResponseSize, nil, labels(s.Attrs))
	}
	writeProcess(e, v)
	writeSpans(e, t)
	if e.om {
		e.b = append(e.b, "# EOF\n"...)
	}
	_, err := w.Write(e.b)
	return err
}

// writeProcess writes the runtime's own families (doc.go, "Observability").
func writeProcess(e *exposition, v MetricsView) {
	t := v.Totals
	e.family("server_workers", "gauge", "Worker processes by phase (booting, ready, draining).")
	phases := make([]string, 0, len(v.States))
	for s := range v.States {
		phases = append(phases, s)
	}
	slices.Sort(phases)
	for _, s := range phases {
		e.sample("server_workers", float64(v.States[s]), "phase", s)
	}
	e.single("server_workers_target", "gauge", "Workers the master keeps serving (--workers, TTIN/TTOU).", float64(v.Target))
	e.single("server_generation", "gauge", "Current worker generation (1 at start, +1 per reload).", float64(v.Generation))
	e.single("server_worker_starts_total", "counter", "Worker processes started.", float64(v.Starts))
	e.byLabel("server_worker_exits_total", "counter", "Worker processes reaped, by why they ended.", "reason", supervisor.ExitReasons, v.Exits)
	e.byLabel("server_reloads_total", "counter", "Rolling reloads (HUP) by outcome.", "outcome", supervisor.ReloadOutcomes, v.Reloads)
	e.family("server_reload_decisions_total", "counter", "Reloads with a canary, by decision (promote, rollback) and reason.")
	for _, d := range supervisor.CanaryDecisions {
		e.sample("server_reload_decisions_total", float64(v.Decisions[d]), "decision", d[0], "reason", d[1])
	}
	e.byLabel("server_upgrades_total", "counter", "Binary upgrades (USR2) by outcome.", "outcome", supervisor.UpgradeOutcomes, v.Upgrades)
	e.single("server_workers_resident_memory_bytes", "gauge", "Resident memory of all live workers together.", float64(v.RSSSum))
	e.single("server_worker_resident_memory_max_bytes", "gauge", "Resident memory of the largest live worker.", float64(v.RSSMax))
	e.single("server_worker_age_max_seconds", "gauge", "Age of the oldest live worker.", v.AgeMax)
	e.single("server_worker_age_min_seconds", "gauge", "Age of the youngest live worker.", v.AgeMin)
	e.single("server_workers_goroutines", "gauge", "Goroutines in all live workers together.", float64(t.Goroutines))
	e.single("server_workers_heap_objects_bytes", "gauge", "Bytes in live Go heap objects of all live workers together.", float64(t.HeapBytes))
	e.single("server_workers_gc_cycles_total", "counter", "Go garbage collection cycles completed by all workers.", float64(t.GCCycles))
	if len(v.Backlog) > 0 {
		e.family("server_listen_backlog", "gauge", "Connections waiting in a listener's accept queue (Linux TCP_INFO).")
		for _, b := range v.Backlog {
			e.sample("server_listen_backlog", float64(b.Queued), "listener", b.Listener)
		}
		e.family("server_listen_backlog_limit", "gauge", "Size of a listener's accept queue (the listen backlog).")
		for _, b := range v.Backlog {
			e.sample("server_listen_backlog_limit", float64(b.Limit), "listener", b.Listener)
		}
	}
	if !v.StartTime.IsZero() {
		e.single("server_start_time_seconds", "gauge", "When the master booted, in seconds since the Unix epoch.", float64(v.StartTime.UnixNano())/1e9)
	}
}

func compareAttrs(a, b Attrs) int {
	if c := strings.Compare(a.Route, b.Route); c != 0 {
		return c
	}
	if c := strings.Compare(a.Method, b.Method); c != 0 {
		return c
	}
	if a.Status != b.Status {
		return a.Status - b.Status
	}
	if c := strings.Compare(a.Scheme, b.Scheme); c != 0 {
		return c
	}
	return strings.Compare(a.Proto, b.Proto)
}
