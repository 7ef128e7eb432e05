package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Results is everything one run measured; results.json keeps it so the report
// and chart can be rendered again (-from) without measuring.
type Results struct {
	Date       time.Time       `json:"date"`
	Quick      bool            `json:"quick"`
	Machine    Machine         `json:"machine"`
	Tools      []Tool          `json:"tools"`
	Load       LoadSettings    `json:"load"`
	Commands   []string        `json:"commands"`
	Throughput []ThroughputRow `json:"throughput"`
	Startup    []StartupRow    `json:"startup"`
	Faults     []FaultRow      `json:"faults"`
	DevLoop    []DevLoopRow    `json:"devloop"`
	Micro      []MicroRow      `json:"micro"`
	Notes      []string        `json:"notes"`
}

// Machine describes where the run happened.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Free   string `json:"free"` // `free -m` as printed
}

// Tool is one external program and whether it was found.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version,omitempty"`
	Installed bool   `json:"installed"`
	Install   string `json:"install"` // the command that installs it
}

// LoadSettings are the load parameters every server got.
type LoadSettings struct {
	Generator string `json:"generator"` // "wrk" or "bench load generator"
	Threads   int    `json:"threads"`
	Conns     int    `json:"conns"`
	Duration  string `json:"duration"`
	Rounds    int    `json:"rounds"`
}

// ThroughputRow is one server on one route (median over rounds).
type ThroughputRow struct {
	Server  string  `json:"server"`
	Family  string  `json:"family"`
	Workers int     `json:"workers"`
	Route   string  `json:"route"`
	Path    string  `json:"path"`
	RPS     float64 `json:"rps"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Errors  int64   `json:"errors"`
	// RoundsRPS is each round's req/s, in round order: the ratio to a reference is taken
	// round by round (the reference ran in the same round), then the median of those.
	RoundsRPS []float64 `json:"rounds_rps,omitempty"`
	// CPUPerReq is the server's CPU time (user+system of the master and its children, from
	// /proc) per request answered, in µs, median over rounds: steadier than req/s on a
	// shared machine, as other processes' load does not add to it.
	CPUPerReq float64 `json:"cpu_us_per_req,omitempty"`
	// CollectorCPUPerReq is the same for the OpenTelemetry Collector a production row
	// exports to (its spans and metrics), not counted in CPUPerReq.
	CollectorCPUPerReq float64 `json:"collector_cpu_us_per_req,omitempty"`
}

// StartupRow is start-up time and idle memory of one server.
type StartupRow struct {
	Server      string    `json:"server"`
	Workers     int       `json:"workers"`
	FirstOK     []float64 `json:"first_ok_ms"` // each run, exec to first 2xx
	MasterRSSKB int64     `json:"master_rss_kb"`
	WorkerRSSKB []int64   `json:"worker_rss_kb"`
}

// FaultRow is one server through one fault scenario under load.
type FaultRow struct {
	Server      string    `json:"server"`
	Family      string    `json:"family"`
	Scenario    string    `json:"scenario"` // hup, usr2, kill
	Signals     int       `json:"signals"`
	Skipped     int       `json:"skipped,omitempty"` // kill ticks that found no live worker
	OK          int64     `json:"ok"`
	Failed      int64     `json:"failed"`
	FailDetail  string    `json:"fail_detail"`
	SteadyRPS   float64   `json:"steady_rps"`
	DuringRPS   float64   `json:"during_rps"`
	MinRPS      float64   `json:"min_rps"` // lowest 100 ms bucket during the faults
	ReplaceMS   []float64 `json:"replace_ms,omitempty"`
	TakeoverMS  float64   `json:"takeover_ms,omitempty"` // USR2 to the new master's pidfile
	OldExitMS   float64   `json:"old_exit_ms,omitempty"` // USR2 to the old master's exit
	BucketMS    int       `json:"bucket_ms"`
	Series      []float64 `json:"series"`  // 2xx/s per bucket over the whole run
	FaultStart  float64   `json:"fault_s"` // seconds into the run when faults began
	FaultEnd    float64   `json:"fault_end_s"`
	Unsupported string    `json:"unsupported,omitempty"`
	Note        string    `json:"note,omitempty"`
}

// DevLoopRow is one tool's save-to-new-response figures (bench/devloop).
type DevLoopRow struct {
	Tool       string  `json:"tool"`
	Edits      int     `json:"edits"`
	MeanMS     float64 `json:"mean_ms"`
	MedianMS   float64 `json:"median_ms"`
	MinMS      float64 `json:"min_ms"`
	MaxMS      float64 `json:"max_ms"`
	Requests   int64   `json:"requests"` // by the polling client; -1: none made (plain go build)
	Failed     int64   `json:"failed"`
	OverheadMS float64 `json:"overhead_ms,omitempty"` // scaffold: save-to-response minus its own build
	Note       string  `json:"note,omitempty"`        // e.g. why air has no figures
}

// MicroRow is one Go benchmark.
type MicroRow struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

func (r *Results) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Results) tool(name string) Tool {
	for _, t := range r.Tools {
		if t.Name == name {
			return t
		}
	}
	return Tool{Name: name}
}

func (r *Results) save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

func loadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// writeAtomic writes path through a temporary file in the same directory, so
// a failed run never leaves half a report.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(dirOf(path), ".bench-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
