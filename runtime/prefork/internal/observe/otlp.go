package observe

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// OTLP/HTTP with the JSON encoding (the OTLP specification's "JSON Protobuf
// Encoding"): the master POSTs the aggregate to <endpoint>/v1/metrics as an
// ExportMetricsServiceRequest, Content-Type application/json. Written by
// hand: the runtime uses the standard library only. Field names are the
// protobuf fields in lowerCamelCase, 64-bit integers are decimal strings,
// trace IDs are hex (not base64), enums are their numbers. Temporality is
// cumulative (2): every push carries the totals since the master started,
// as the Prometheus exposition does, so a lost push loses nothing.

// ContentTypeOTLPJSON is OTLP/HTTP's JSON media type.
const ContentTypeOTLPJSON = "application/json"

// aggregationCumulative is AggregationTemporality's CUMULATIVE.
const aggregationCumulative = 2

// Resource identifies the service in an OTLP push.
type Resource struct {
	ServiceName    string
	ServiceVersion string
}

type otlpRequest struct {
	ResourceMetrics []otlpResourceMetrics `json:"resourceMetrics"`
}

type otlpResourceMetrics struct {
	Resource     otlpResource       `json:"resource"`
	ScopeMetrics []otlpScopeMetrics `json:"scopeMetrics"`
}

type otlpResource struct {
	Attributes []otlpKV `json:"attributes"`
}

type otlpScopeMetrics struct {
	Scope   otlpScope    `json:"scope"`
	Metrics []otlpMetric `json:"metrics"`
}

type otlpScope struct {
	Name string `json:"name"`
}

type otlpKV struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

type otlpValue struct {
	StringValue *string `json:"stringValue,omitempty"`
	IntValue    *string `json:"intValue,omitempty"`
}

func kvString(k, v string) otlpKV { return otlpKV{Key: k, Value: otlpValue{StringValue: &v}} }

func kvInt(k string, v int) otlpKV {
	s := strconv.Itoa(v)
	return otlpKV{Key: k, Value: otlpValue{IntValue: &s}}
}

type otlpMetric struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Unit        string         `json:"unit,omitempty"`
	Sum         *otlpSum       `json:"sum,omitempty"`
	Gauge       *otlpGauge     `json:"gauge,omitempty"`
	Histogram   *otlpHistogram `json:"histogram,omitempty"`
}

type otlpSum struct {
	DataPoints             []otlpNumberPoint `json:"dataPoints"`
	AggregationTemporality int               `json:"aggregationTemporality"`
	IsMonotonic            bool              `json:"isMonotonic"`
}

type otlpGauge struct {
	DataPoints []otlpNumberPoint `json:"dataPoints"`
}

type otlpNumberPoint struct {
	Attributes        []otlpKV `json:"attributes,omitempty"`
	StartTimeUnixNano string   `json:"startTimeUnixNano,omitempty"`
	TimeUnixNano      string   `json:"timeUnixNano"`
	AsInt             *string  `json:"asInt,omitempty"`
	AsDouble          *float64 `json:"asDouble,omitempty"`
}

type otlpHistogram struct {
	DataPoints             []otlpHistogramPoint `json:"dataPoints"`
	AggregationTemporality int                  `json:"aggregationTemporality"`
}

type otlpHistogramPoint struct {
	Attributes        []otlpKV       `json:"attributes,omitempty"`
	StartTimeUnixNano string         `json:"startTimeUnixNano"`
	TimeUnixNano      string         `json:"timeUnixNano"`
	Count             string         `json:"count"`
	Sum               float64        `json:"sum"`
	BucketCounts      []string       `json:"bucketCounts"`
	ExplicitBounds    []float64      `json:"explicitBounds"`
	Exemplars         []otlpExemplar `json:"exemplars,omitempty"`
}

type otlpExemplar struct {
	TimeUnixNano string  `json:"timeUnixNano"`
	AsDouble     float64 `json:"asDouble"`
	TraceID      string  `json:"traceId"`
}

func nanos(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func intPoint(attrs []otlpKV, start, now string, v int64) otlpNumberPoint {
	s := strconv.FormatInt(v, 10)
	return otlpNumberPoint{Attributes: attrs, StartTimeUnixNano: start, TimeUnixNano: now, AsInt: &s}
}

func histogramPoint(attrs []otlpKV, start, now string, bounds []float64, h Histogram, exemplars []Exemplar) otlpHistogramPoint {
	p := otlpHistogramPoint{Attributes: attrs, StartTimeUnixNano: start, TimeUnixNano: now, Sum: h.Sum,
		ExplicitBounds: bounds, BucketCounts: make([]string, len(bounds)+1)}
	var n uint64
	for i := range p.BucketCounts {
		var c uint64
		if i < len(h.Counts) {
			c = h.Counts[i]
		}
		n += c
		p.BucketCounts[i] = strconv.FormatUint(c, 10)
	}
	p.Count = strconv.FormatUint(n, 10)
	for _, e := range exemplars {
		if e.TraceID != "" {
			p.Exemplars = append(p.Exemplars, otlpExemplar{TimeUnixNano: strconv.FormatInt(e.Time, 10), AsDouble: e.Value, TraceID: e.TraceID})
		}
	}
	return p
}

// EncodeOTLP is v as an OTLP/HTTP JSON metrics export, the counters
// cumulative since v.StartTime, stamped now.
func EncodeOTLP(v MetricsView, res Resource, now time.Time) ([]byte, error) {
	start, at := nanos(v.StartTime), nanos(now)
	if v.StartTime.IsZero() {
		start = at
	}
	t := v.Totals
	series := slices.Clone(t.Series)
	slices.SortFunc(series, func(a, b Series) int { return compareAttrs(a.Attrs, b.Attrs) })
	attrs := func(a Attrs) []otlpKV {
		kv := []otlpKV{kvString("http.request.method", a.Method), kvInt("http.response.status_code", a.Status),
			kvString("url.scheme", a.Scheme), kvString("network.protocol.version", a.Proto)}
		if a.Route != "" {
			kv = append(kv, kvString("http.route", a.Route))
		}
		return kv
	}
	duration := &otlpHistogram{AggregationTemporality: aggregationCumulative}
	reqSize := &otlpHistogram{AggregationTemporality: aggregationCumulative}
	respSize := &otlpHistogram{AggregationTemporality: aggregationCumulative}
	for _, s := range series {
		a := attrs(s.Attrs)
		duration.DataPoints = append(duration.DataPoints, histogramPoint(a, start, at, v.Bounds, s.Duration, s.Exemplars))
		reqSize.DataPoints = append(reqSize.DataPoints, histogramPoint(a, start, at, SizeBuckets, s.RequestSize, nil))
		respSize.DataPoints = append(respSize.DataPoints, histogramPoint(a, start, at, SizeBuckets, s.ResponseSize, nil))
	}
	active := &otlpSum{AggregationTemporality: aggregationCumulative}
	for _, a := range t.Active {
		active.DataPoints = append(active.DataPoints, intPoint([]otlpKV{kvString("http.request.method", a.Method), kvString("url.scheme", a.Scheme)}, start, at, a.N))
	}
	metrics := []otlpMetric{
		{Name: "http.server.request.duration", Unit: "s", Description: "Duration of HTTP server requests.", Histogram: duration},
		{Name: "http.server.active_requests", Unit: "{request}", Description: "Number of active HTTP server requests.", Sum: active},
		{Name: "http.server.request.body.size", Unit: "By", Description: "Size of HTTP server request bodies.", Histogram: reqSize},
		{Name: "http.server.response.body.size", Unit: "By", Description: "Size of HTTP server response bodies.", Histogram: respSize},
	}
	workers := &otlpGauge{}
	for _, p := range sortedKeys(v.States) {
		workers.DataPoints = append(workers.DataPoints, intPoint([]otlpKV{kvString("phase", p)}, "", at, int64(v.States[p])))
	}
	exits := &otlpSum{AggregationTemporality: aggregationCumulative, IsMonotonic: true}
	for _, r := range sortedKeys(v.Exits) {
		exits.DataPoints = append(exits.DataPoints, intPoint([]otlpKV{kvString("reason", r)}, start, at, int64(v.Exits[r])))
	}
	reloads := &otlpSum{AggregationTemporality: aggregationCumulative, IsMonotonic: true}
	for _, o := range sortedKeys(v.Reloads) {
		reloads.DataPoints = append(reloads.DataPoints, intPoint([]otlpKV{kvString("outcome", o)}, start, at, int64(v.Reloads[o])))
	}
	decisions := &otlpSum{AggregationTemporality: aggregationCumulative, IsMonotonic: true}
	for _, d := range supervisor.CanaryDecisions {
		if n := v.Decisions[d]; n > 0 {
			decisions.DataPoints = append(decisions.DataPoints, intPoint([]otlpKV{kvString("decision", d[0]), kvString("reason", d[1])}, start, at, int64(n)))
		}
	}
	starts := &otlpSum{AggregationTemporality: aggregationCumulative, IsMonotonic: true,
		DataPoints: []otlpNumberPoint{intPoint(nil, start, at, int64(v.Starts))}}
	memory := &otlpGauge{DataPoints: []otlpNumberPoint{intPoint(nil, "", at, v.RSSSum)}}
	metrics = append(metrics,
		otlpMetric{Name: "server.workers", Unit: "{worker}", Description: "Worker processes by phase.", Gauge: workers},
		otlpMetric{Name: "server.worker.starts", Unit: "{worker}", Description: "Worker processes started.", Sum: starts},
		otlpMetric{Name: "server.worker.exits", Unit: "{worker}", Description: "Worker processes reaped, by why they ended.", Sum: exits},
		otlpMetric{Name: "server.reloads", Unit: "{reload}", Description: "Rolling reloads (HUP) by outcome.", Sum: reloads},
		otlpMetric{Name: "server.reload.decisions", Unit: "{reload}", Description: "Reloads with a canary, by decision and reason.", Sum: decisions},
		otlpMetric{Name: "server.workers.memory", Unit: "By", Description: "Resident memory of all live workers together.", Gauge: memory},
	)
	metrics = append(metrics, otlpSpans(t, start, at)...)
	metrics = slices.DeleteFunc(metrics, func(m otlpMetric) bool { // nothing to say yet
		return (m.Sum != nil && len(m.Sum.DataPoints) == 0) || (m.Gauge != nil && len(m.Gauge.DataPoints) == 0) ||
			(m.Histogram != nil && len(m.Histogram.DataPoints) == 0)
	})
	resource := []otlpKV{kvString("service.name", res.ServiceName)}
	if res.ServiceVersion != "" {
		resource = append(resource, kvString("service.version", res.ServiceVersion))
	}
	req := otlpRequest{ResourceMetrics: []otlpResourceMetrics{{
		Resource:     otlpResource{Attributes: resource},
		ScopeMetrics: []otlpScopeMetrics{{Scope: otlpScope{Name: "prefork"}, Metrics: metrics}},
	}}}
	return json.Marshal(req)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
