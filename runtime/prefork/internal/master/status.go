package master

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Status is the master's status report, served on the control socket.
type Status struct {
	PID        int            `json:"pid"`
	Started    time.Time      `json:"started"`
	Generation int            `json:"generation"`
	Phase      string         `json:"phase"`  // the master's: serving, reloading, canary...
	Newest     int            `json:"newest"` // the newest generation started (a canary's, a rolled-back one's)
	Workers    []WorkerReport `json:"workers"`
	// Canary is the running canary (nil: none); LastCanary the last one's
	// decision (nil: none yet).
	Canary     *CanaryReport   `json:"canary,omitempty"`
	LastCanary *CanaryDecision `json:"last_canary,omitempty"`
	// ReloadError: the last reload's configuration did not load.
	ReloadError string `json:"reload_error,omitempty"`
}

// CanaryReport is a running canary: its generation, its share of the
// workers and its figures against the current generation's over the window
// so far.
type CanaryReport struct {
	Generation     int            `json:"generation"`
	Upgrade        bool           `json:"upgrade,omitempty"` // this master is a binary upgrade's new one, judged against the old master
	Workers        int            `json:"workers"`
	Share          float64        `json:"share"` // of the current generation's target
	WindowLeftSecs float64        `json:"window_left_seconds,omitempty"`
	Booting        bool           `json:"booting,omitempty"` // the window opens once its workers are ready
	New            GenerationFigs `json:"new"`
	Old            GenerationFigs `json:"old"`
}

// CanaryDecision is how the last canary ended.
type CanaryDecision struct {
	Generation int            `json:"generation"`
	At         time.Time      `json:"at"`
	Decision   string         `json:"decision"` // promote, rollback
	Reason     string         `json:"reason"`   // healthy, not_enough_traffic, errors, latency, crash, boot_failure, superseded, stopped
	Detail     string         `json:"detail"`
	New        GenerationFigs `json:"new"`
	Old        GenerationFigs `json:"old"`
}

// GenerationFigs are one side's figures over a canary's window: requests
// completed, failed (5xx, aborted), latency quantiles (bucket bounds, 10%
// apart).
type GenerationFigs struct {
	Workers   int     `json:"workers"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
}

func figsOf(f supervisor.Figures) GenerationFigs {
	return GenerationFigs{Workers: f.Workers, Requests: f.Requests, Errors: f.Errors, ErrorRate: f.ErrorRate(),
		P50Millis: millis(f.P50()), P99Millis: millis(f.P99())}
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (g GenerationFigs) String() string {
	return fmt.Sprintf("%d workers, %d requests, %.2f%% errors, p50 %gms, p99 %gms", g.Workers, g.Requests, 100*g.ErrorRate, g.P50Millis, g.P99Millis)
}

// WorkerReport is one worker in a Status.
type WorkerReport struct {
	ID         int     `json:"id"`
	Generation int     `json:"generation"`
	PID        int     `json:"pid"`
	State      string  `json:"state"`
	AgeSeconds float64 `json:"age_seconds"`
	// Requests served over the worker's life, as the master last heard
	// (at most one report, 1 s, old).
	Requests int64 `json:"requests"`
	InFlight int   `json:"in_flight"`
	RSSBytes int64 `json:"rss_bytes"`
	// From the worker's request metrics, present when the master collects
	// them (control socket or --metrics-bind): RequestsPerSecond over the
	// last 10 s; over its life, P50/P99 (the histogram bucket bounds the
	// quantile is under: at most that many ms; -1: above the highest
	// bucket) and its 5xx answers.
	Metrics           bool    `json:"metrics,omitempty"`
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	P50Millis         float64 `json:"p50_ms,omitempty"`
	P99Millis         float64 `json:"p99_ms,omitempty"`
	Errors5xx         uint64  `json:"errors_5xx,omitempty"`
}

// WriteTable prints the status as a table: a master line, then one row per worker.
func (s Status) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "master %d  generation %d  up %s  workers %d\n", s.PID, s.Generation, roundAge(time.Since(s.Started)), len(s.Workers)); err != nil {
		return err
	}
	if c := s.Canary; c != nil {
		window := fmt.Sprintf("%s left", roundAge(time.Duration(c.WindowLeftSecs*float64(time.Second))))
		if c.Booting {
			window = "booting"
		}
		what := fmt.Sprintf("canary generation %d  %d workers (%.0f%% of the current)", c.Generation, c.Workers, 100*c.Share)
		if c.Upgrade {
			what = fmt.Sprintf("binary upgrade's canary  %d workers of this new master against the old master's", c.Workers)
		}
		fmt.Fprintf(w, "%s  %s\n  new: %s\n  old: %s\n", what, window, c.New, c.Old)
	}
	if d := s.LastCanary; d != nil {
		fmt.Fprintf(w, "last canary generation %d: %s (%s) %s ago: %s\n", d.Generation, d.Decision, d.Reason, roundAge(time.Since(d.At)), d.Detail)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ID\tGEN\tPID\tSTATE\tAGE\tREQUESTS(LIFE)\tIN-FLIGHT\tRSS\tREQ/S(10S)\tP50(LIFE)\tP99(LIFE)\t5XX(LIFE)\t")
	for _, wk := range s.Workers {
		rss := "-"
		if wk.RSSBytes > 0 {
			rss = supervisor.FormatBytes(wk.RSSBytes)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t\n", wk.ID, wk.Generation, wk.PID, wk.State,
			roundAge(time.Duration(wk.AgeSeconds*float64(time.Second))), wk.Requests, wk.InFlight, rss, wk.metricsColumns())
	}
	return tw.Flush()
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// metricsColumns are the status table's REQ/S, P50, P99 and 5XX cells.
func (wk WorkerReport) metricsColumns() string {
	if !wk.Metrics {
		return "-\t-\t-\t-"
	}
	return fmt.Sprintf("%.1f\t%s\t%s\t%d", wk.RequestsPerSecond, fmtBound(wk.P50Millis), fmtBound(wk.P99Millis), wk.Errors5xx)
}

// fmtBound shows a latency bound from the histogram: "<=2.5ms", ">10s"
// (-1), "-" when nothing was served yet.
func fmtBound(ms float64) string {
	switch {
	case ms < 0:
		return ">max"
	case ms == 0:
		return "-"
	case ms >= 1000:
		return "<=" + strconv.FormatFloat(ms/1000, 'f', -1, 64) + "s"
	}
	return "<=" + strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
}
