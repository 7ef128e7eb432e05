package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scenario names as the report prints them.
var scenarioTitle = map[string]string{
	"hup":     "HUP every 0.5 s",
	"kill":    "SIGKILL a worker every 0.5 s",
	"usr2":    "USR2 binary upgrade",
	"recycle": "recycling, --max-requests 50",
	"hup1":    "one HUP, canary off",
	// the same HUP with --canary-window 1: one extra worker serves beside the others for a
	// second, connections older than 250 ms close after their response meanwhile, then the roll-over
	"hup1-canary": "one HUP, canary on (1 s window)",
}

// Report renders RESULTS.md.
func Report(r *Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Measured by `go run ./bench%s` on %s UTC: one run, one machine, loopback only, every server under the same load side by side. Compare ratios, not absolute numbers; rerun on your machine with the same command.\n\n",
		map[bool]string{true: " -quick", false: ""}[r.Quick], r.Date.Format("2006-01-02 15:04"))
	if r.Quick {
		p("> **Quick run** (`-quick`): 1 s per case, one round, short fault phases. A smoke test of the harness, not figures to quote.\n\n")
	}
	p("![throughput and reload behaviour](results.png)\n\n")
	p("## Headline\n\n%s\n", Headline(r))

	p("## Machine\n\n")
	p("- CPU: %s, %d logical cores (`/proc/cpuinfo`)\n- Kernel: %s; Go: %s\n\n", orDash(r.Machine.CPU), r.Machine.Cores, orDash(r.Machine.Kernel), orDash(r.Machine.Go))
	if r.Machine.Free != "" {
		p("```\n$ free -m\n%s\n```\n\n", r.Machine.Free)
	}
	p("| tool | version |\n| --- | --- |\n")
	for _, t := range r.Tools {
		if t.Installed {
			p("| %s | %s |\n", t.Name, mdEscape(t.Version))
		} else {
			p("| %s | not installed: `%s` |\n", t.Name, t.Install)
		}
	}
	p("\n")

	if len(r.Throughput) > 0 {
		p("## Throughput and latency\n\n")
		p("Load: %s, %d threads, %d connections, %s per case, %d round(s) interleaved across servers; the median round is shown. Access logs are off everywhere (Gunicorn's and uWSGI's default) except in the generated app's `production` rows, which run its production defaults: JSON access log to stdout, buffered, the master's metrics (`--metrics-bind`, also pushed as OTLP) and traces sampled at the default 0.1, exported to a running OpenTelemetry Collector (which decodes and counts them; its CPU is given below the table), and the runtime's heap floor (a worker's heap goal is at least 16 MiB unless GOGC is set). Each other `production, ...` row changes one of these, as its name says (`traces sampled 1.0`: every request's span exported; `traces off`: no Collector endpoint; `log unbuffered`: one write per line; `GOGC=100`: Go's own pacing, no heap floor). Their `/healthz` (the smallest route) is compared with net/http's `/hello`, their `/api/hello` with net/http's `/json`. Every server answers the same bytes: `/hello` is `Hello, world!\\n` as text/plain, `/json` is `{\"app\":\"bench\",\"message\":\"Hello, world!\"}`. The generated app's JSON route is `/api/hello` of a project fresh from `scaffold new`, through its middleware (recover, body limit).\n\n",
			r.Load.Generator, r.Load.Threads, r.Load.Conns, r.Load.Duration, r.Load.Rounds)
		p("*vs net/http* is the median over rounds of the round's req/s over net/http's in the same round (one process, GOMAXPROCS=2); *vs net/http w=2* the same against net/http in the runtime's process layout (2 processes on one SO_REUSEPORT port, GOMAXPROCS=1 each, as each of 2 workers gets): the fair reference for a w=2 row, as one Go process with 2 Ps pays for work stealing between them and 2 processes with one P each do not. *CPU µs/req* is the server's user+system time (master and children, /proc) per request answered, median over rounds: other processes' load on a shared machine changes it far less than req/s; *by CPU* is net/http w=2's CPU µs/req over the row's, the throughput ratio a CPU-bound server would reach.\n\n")
		p("| server | route | req/s | p50 ms | p99 ms | errors | CPU µs/req | vs net/http | vs net/http w=2 | by CPU vs net/http w=2 |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, t := range r.Throughput {
			byCPU := "-"
			if ref := r.throughputRow("net/http w=2", t.Route); ref != nil && t.CPUPerReq > 0 {
				byCPU = fmt.Sprintf("%.2fx", ref.CPUPerReq/t.CPUPerReq)
			}
			p("| %s | %s | %.0f | %.2f | %.2f | %d | %s | %s | %s | %s |\n", t.Server, t.Path, t.RPS, t.P50, t.P99, t.Errors, cpuCell(t.CPUPerReq),
				r.roundRatio(t, "net/http"), r.roundRatio(t, "net/http w=2"), byCPU)
		}
		p("\n")
		if prod, full := r.throughputRows(productionApp), r.throughputRows(productionApp+", traces sampled 1.0"); len(prod) > 0 && len(full) > 0 {
			for i, t := range prod {
				if i < len(full) && full[i].CPUPerReq > 0 && t.CPUPerReq > 0 {
					p("Traces sampled 1.0 instead of 0.1 on `%s`: %+.1f µs of server CPU per request (%.1f over %.1f).\n", t.Path, full[i].CPUPerReq-t.CPUPerReq, full[i].CPUPerReq, t.CPUPerReq)
				}
			}
			p("\n")
		}
		var col []string
		for _, t := range r.Throughput {
			// the rows at the default sampling all cost it the same: production's stands for them
			if t.CollectorCPUPerReq > 0 && (t.Server == productionApp || t.Server == productionApp+", traces sampled 1.0") {
				col = append(col, fmt.Sprintf("`production%s` on `%s` %.1f µs", strings.TrimPrefix(t.Server, productionApp), t.Path, t.CollectorCPUPerReq))
			}
		}
		if len(col) > 0 {
			p("The Collector's own CPU per request, not in *CPU µs/req* (it decodes every batch and counts it, debug exporter): %s.\n\n", strings.Join(col, "; "))
		}
	}

	if len(r.Startup) > 0 {
		p("## Start-up and memory\n\n")
		p("Time from exec to the first 2xx answer (median of the runs), then the resident set (`VmRSS` in `/proc/PID/status`) of the master and of each worker after one idle second.\n\n")
		p("| server | workers | first 2xx ms (median) | runs ms | master RSS MiB | each worker RSS MiB | total MiB |\n| --- | ---: | ---: | --- | ---: | --- | ---: |\n")
		for _, s := range r.Startup {
			total := s.MasterRSSKB
			var each []string
			for _, w := range s.WorkerRSSKB {
				total += w
				each = append(each, fmt.Sprintf("%.1f", mib(w)))
			}
			p("| %s | %d | %.0f | %s | %.1f | %s | %.1f |\n", s.Server, s.Workers, median(s.FirstOK), fmtList(s.FirstOK), mib(s.MasterRSSKB), strings.Join(each, ", "), mib(total))
		}
		p("\n")
	}

	if len(r.Faults) > 0 {
		p("## Reloads, upgrades and crashes under load\n\n")
		p("bench's own load generator (%d connections, one request in flight on each, keep-alive, no retries, every failure counted by cause) runs for the steady phase, the fault phase and a short tail (2 s; 0.5 s with -quick). *Kept* is the mean 2xx throughput during the fault phase over the steady phase; *lowest* is the worst 100 ms during the faults. Each SIGKILL hits the worker holding the most client connections (from `/proc/net/tcp`), the worst case; replacement is the time from SIGKILL until the master has started a new worker process (polling `/proc`). Takeover is the time from USR2 until the new master's pid is in the pidfile (it writes it once all its workers are ready), then until the old master has drained and exited. Servers start, then rest until all workers have booted, before the load begins.\n\n", r.Load.Conns)
		p("Failure causes: `connect` (refused: nobody listening), `closed-unanswered` (a reused keep-alive connection closed before any byte of the answer; browsers and Go's client retry these, wrk counts them as read errors), `reset` (connection broke mid-answer or on a fresh connection), `timeout` (no answer within 2 s), `non-2xx`.\n\n")
		p("| server | scenario | signals | 2xx | failed | steady req/s | during req/s | kept | lowest 100 ms req/s | replacement ms (median / max) | takeover ms |\n| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, f := range r.Faults {
			repl, take := "-", "-"
			if len(f.ReplaceMS) > 0 {
				repl = fmt.Sprintf("%.0f / %.0f", median(f.ReplaceMS), slices.Max(f.ReplaceMS))
			}
			if f.TakeoverMS > 0 {
				take = fmt.Sprintf("%.0f", f.TakeoverMS)
				if f.OldExitMS > 0 {
					take += fmt.Sprintf(" (old master gone at %.0f)", f.OldExitMS)
				}
			}
			p("| %s | %s | %d | %d | %s | %.0f | %.0f | %.0f%% | %.0f | %s | %s |\n", f.Server, scenarioTitle[f.Scenario], f.Signals, f.OK, f.FailDetail, f.SteadyRPS, f.DuringRPS, pct(f.DuringRPS, f.SteadyRPS), f.MinRPS, repl, take)
		}
		p("\n")
		for _, f := range r.Faults {
			if f.Skipped > 0 {
				p("- %s, %s: %d tick(s) found no live worker to kill (all being replaced), so only %d signals were sent.\n", f.Server, scenarioTitle[f.Scenario], f.Skipped, f.Signals)
			}
			if f.Unsupported != "" {
				p("- %s, %s: %s.\n", f.Server, scenarioTitle[f.Scenario], f.Unsupported)
			}
			if f.Note != "" {
				p("- %s, %s: %s.\n", f.Server, scenarioTitle[f.Scenario], f.Note)
			}
		}
		p("\n")
	}

	if len(r.DevLoop) > 0 {
		p("## Dev loop\n\nbench/devloop on one generated project: each edit changes the sample handler's Go code; the time runs from just before the file is written to the first response carrying the new text, while a client polls every 10 ms and counts failed requests. *go build* is the plain `go build -o BIN ./run` of the same edit, for scale; `scaffold run --dev` builds with its default `-ldflags=-w` (no DWARF, so a faster link; stack traces keep file:line), air with its default `go build -o ./tmp/main .`.\n\n")
		p("| tool | edits | save to new response, median ms | mean | min | max | requests | failed |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, d := range r.DevLoop {
			if d.Note != "" {
				p("| %s | %s | | | | | | |\n", d.Tool, mdEscape(d.Note))
				continue
			}
			req, failed := "-", "-"
			if d.Requests >= 0 {
				req, failed = fmt.Sprint(d.Requests), fmt.Sprint(d.Failed)
			}
			p("| %s | %d | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", d.Tool, d.Edits, d.MedianMS, d.MeanMS, d.MinMS, d.MaxMS, req, failed)
		}
		for _, d := range r.DevLoop {
			if d.OverheadMS > 0 {
				p("\n%s adds %.0f ms on average to its own build of each edit (debounce, start, readiness).\n", d.Tool, d.OverheadMS)
			}
		}
		p("\n")
	}

	if len(r.Micro) > 0 {
		p("## Micro-benchmarks (hot paths)\n\n`go test -bench` of `scaffold new`'s rendering (`project.Generate`, in bench/) and the runtime's per-request paths (benchmarks in runtime/prefork).\n\n")
		p("| package | benchmark | ns/op | B/op | allocs/op |\n| --- | --- | ---: | ---: | ---: |\n")
		for _, m := range r.Micro {
			p("| %s | %s | %.0f | %.0f | %.0f |\n", m.Package, m.Name, m.NsPerOp, m.BytesPerOp, m.AllocsPerOp)
		}
		p("\n")
	}

	if len(r.Commands) > 0 {
		p("## Commands\n\nADDR is a free 127.0.0.1 port picked per server; FILE a pidfile in a scratch directory. The Flask app is `bench/flaskapp/app.py`, the Go handler `bench/hello`.\n\n```\n")
		for _, c := range r.Commands {
			p("%s\n", c)
		}
		p("```\n\n")
	}
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	return b.String()
}

// Headline is the short table for the README: hello-route throughput of the
// runtime against bare net/http and Gunicorn, and failures during faults.
func Headline(r *Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	base, gun := r.throughputOf("net/http", "hello"), r.throughputOf("gunicorn sync w=4", "hello")
	if len(r.Throughput) > 0 {
		p("| `/hello`, %s -c%d | req/s | p99 ms | vs net/http | vs Gunicorn sync w=4 |\n| --- | ---: | ---: | ---: | ---: |\n", r.Load.Generator, r.Load.Conns)
		for _, t := range r.Throughput {
			if t.Route != "hello" {
				continue
			}
			p("| %s | %.0f | %.2f | %s | %s |\n", t.Server, t.RPS, t.P99, ratio(t.RPS, base), ratio(t.RPS, gun))
		}
		p("\n")
	}
	if len(r.Faults) > 0 {
		p("| under load, %g s of faults | failed requests | throughput kept |\n| --- | ---: | ---: |\n", r.Faults[0].FaultEnd-r.Faults[0].FaultStart)
		unanswered := false
		for _, f := range r.Faults {
			failed := strconv.FormatInt(f.Failed, 10)
			if f.Failed > 0 && f.FailDetail != "" {
				failed = f.FailDetail // the causes: a closed idle connection is not a timeout
			}
			unanswered = unanswered || strings.Contains(f.FailDetail, "closed-unanswered")
			p("| %s: %s | %s | %.0f%% |\n", f.Server, scenarioTitle[f.Scenario], failed, pct(f.DuringRPS, f.SteadyRPS))
		}
		p("\n")
		if unanswered {
			p("*closed-unanswered*: a killed worker's idle keep-alive connections, closed by the kernel just as the client reused them; browsers, Go's net/http client and nginx retry these, wrk and bench do not (behind the nginx site of `scaffold deploy-config`, workers SIGKILLed under load fail no request: generators/deploy's end-to-end test). Gunicorn's sync workers close every connection after one answer, so they have none.\n\n")
		}
	}
	if len(r.DevLoop) > 0 {
		p("| dev loop: save to new response | median ms | failed requests |\n| --- | ---: | ---: |\n")
		for _, d := range r.DevLoop {
			switch {
			case d.Note != "":
				p("| %s | %s | |\n", d.Tool, mdEscape(d.Note))
			case d.Requests < 0:
				p("| %s | %.0f | - |\n", d.Tool, d.MedianMS)
			default:
				p("| %s | %.0f | %d of %d |\n", d.Tool, d.MedianMS, d.Failed, d.Requests)
			}
		}
		p("\n")
	}
	return b.String()
}

func (r *Results) throughputOf(server, route string) float64 {
	for _, t := range r.Throughput {
		if t.Server == server && t.Route == route {
			return t.RPS
		}
	}
	return 0
}

func (r *Results) throughputRow(server, route string) *ThroughputRow {
	for i, t := range r.Throughput {
		if t.Server == server && t.Route == route {
			return &r.Throughput[i]
		}
	}
	return nil
}

// throughputRows are server's rows, in the order measured.
func (r *Results) throughputRows(server string) []ThroughputRow {
	var out []ThroughputRow
	for _, t := range r.Throughput {
		if t.Server == server {
			out = append(out, t)
		}
	}
	return out
}

// roundRatio is t's req/s over the reference server's on the same route: the median of
// the per-round ratios when both ran every round, else the ratio of the medians.
func (r *Results) roundRatio(t ThroughputRow, reference string) string {
	ref := r.throughputRow(reference, t.Route)
	if ref == nil || ref.RPS == 0 {
		return "-"
	}
	if len(t.RoundsRPS) == 0 || len(t.RoundsRPS) != len(ref.RoundsRPS) {
		return ratio(t.RPS, ref.RPS)
	}
	var rs []float64
	for i, v := range t.RoundsRPS {
		if ref.RoundsRPS[i] > 0 {
			rs = append(rs, v/ref.RoundsRPS[i])
		}
	}
	return fmt.Sprintf("%.2fx", median(rs))
}

func cpuCell(us float64) string {
	if us == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", us)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
