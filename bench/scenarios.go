package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// measureThroughput starts every server once, then runs each (server, route)
// case in rounds, interleaved, so a noisy neighbour hits all servers alike;
// the median round is reported.
func measureThroughput(ctx context.Context, o *Options, res *Results, set *serverSet) error {
	type tcase struct {
		srv   *Server
		proc  *Proc
		route string
		runs  []WrkResult
		cpu   []float64 // server CPU µs per request, per round
		col   []float64 // the Collector's, for a server that exports to it
	}
	var cases []*tcase
	var procs []*Proc
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	for _, srv := range set.list {
		if !o.wantServer(srv.Name) {
			continue
		}
		p, err := srv.Start(ctx, o.tmp)
		if err != nil {
			if srv.Family == "runtime" || srv.Family == "net/http" {
				return err
			}
			res.note("%s did not start, left out: %v", srv.Name, err)
			continue
		}
		procs = append(procs, p)
		for _, route := range []string{"hello", "json"} {
			if _, ok := srv.Routes[route]; ok {
				cases = append(cases, &tcase{srv: srv, proc: p, route: route})
			}
		}
	}
	// Warm-up: connections, page cache, Python's first imports of each route.
	for _, c := range cases {
		if _, err := Load(LoadConfig{Addr: c.proc.Addr, Path: c.srv.Routes[c.route], Conns: 4, Duration: 300 * time.Millisecond}); err != nil {
			return err
		}
	}
	useWrk := res.tool("wrk").Installed
	for round := range o.Rounds {
		order := slices.Clone(cases)
		if round%2 == 1 {
			slices.Reverse(order) // no server always runs right after the same neighbour
		}
		for _, c := range order {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			url := "http://" + c.proc.Addr + c.srv.Routes[c.route]
			cpu0 := c.proc.CPUTime()
			var col0 time.Duration
			if c.srv.Exports {
				col0 = set.collector.CPUTime()
			}
			var r WrkResult
			if useWrk {
				var err error
				if r, err = runWrk(ctx, o, url); err != nil {
					return err
				}
			} else {
				lr, err := Load(LoadConfig{Addr: c.proc.Addr, Path: c.srv.Routes[c.route], Conns: o.Conns, Duration: o.Duration, Latency: true})
				if err != nil {
					return err
				}
				r = WrkResult{RPS: float64(lr.OK) / o.Duration.Seconds(), P50: lr.P50, P99: lr.P99, Requests: lr.OK, Errors: lr.Failed()}
			}
			c.runs = append(c.runs, r)
			if r.Requests > 0 {
				c.cpu = append(c.cpu, float64((c.proc.CPUTime()-cpu0).Microseconds())/float64(r.Requests))
				if c.srv.Exports {
					c.col = append(c.col, float64((set.collector.CPUTime()-col0).Microseconds())/float64(r.Requests))
				}
			}
			logf("round %d/%d  %-24s %-5s %9.0f req/s  p50 %.2fms  p99 %.2fms  errors %d  cpu %.1fµs/req", round+1, o.Rounds, c.srv.Name, c.route, r.RPS, r.P50, r.P99, r.Errors, lastOr0(c.cpu))
		}
	}
	for _, c := range cases {
		row := ThroughputRow{Server: c.srv.Name, Family: c.srv.Family, Workers: c.srv.Workers, Route: c.route, Path: c.srv.Routes[c.route]}
		var rps, p50, p99 []float64
		for _, r := range c.runs {
			rps, p50, p99 = append(rps, r.RPS), append(p50, r.P50), append(p99, r.P99)
			row.Errors += r.Errors
		}
		row.RPS, row.P50, row.P99 = median(rps), median(p50), median(p99)
		row.RoundsRPS, row.CPUPerReq = rps, median(c.cpu)
		if len(c.col) > 0 {
			row.CollectorCPUPerReq = median(c.col)
		}
		res.Throughput = append(res.Throughput, row)
	}
	if useWrk {
		res.Commands = append(res.Commands, "wrk "+strings.Join(wrkArgs(o, "http://ADDR/ROUTE"), " "))
	}
	return nil
}

func lastOr0(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

// measureStartup times exec to the first 2xx with 4 workers, then reads the
// idle RSS of the master and each worker after a second's rest.
func measureStartup(ctx context.Context, o *Options, res *Results, set *serverSet) error {
	var list []*Server
	for _, s := range []*Server{set.runtimeApp, set.byName("runtime w=4"), set.gunicorn, set.gunicorn26, set.uwsgi} {
		if s != nil {
			list = append(list, s)
		}
	}
	for _, srv := range list {
		row := StartupRow{Server: srv.Name, Workers: srv.Workers}
		for i := range o.Starts {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p, err := srv.Start(ctx, o.tmp)
			if err != nil {
				return err
			}
			row.FirstOK = append(row.FirstOK, ms(p.Started))
			if i == o.Starts-1 {
				time.Sleep(time.Second) // every worker booted and idle
				row.MasterRSSKB = rssKB(p.MasterPID())
				for _, w := range p.Workers() {
					row.WorkerRSSKB = append(row.WorkerRSSKB, rssKB(w))
				}
			}
			p.Stop()
		}
		logf("%-24s first 2xx after %s ms (median %.0f); RSS master %d kB, workers %v kB", srv.Name, fmtList(row.FirstOK), median(slices.Clone(row.FirstOK)), row.MasterRSSKB, row.WorkerRSSKB)
		res.Startup = append(res.Startup, row)
	}
	return nil
}

func (s *serverSet) byName(name string) *Server {
	for _, srv := range s.list {
		if srv.Name == name {
			return srv
		}
	}
	return nil
}

// measureFaults runs each fault scenario under load on a fresh server.
func measureFaults(ctx context.Context, o *Options, res *Results, set *serverSet) error {
	type job struct {
		srv      *Server
		scenario string
	}
	var jobs []job
	for _, scenario := range []string{"hup", "kill", "usr2", "recycle"} {
		for _, s := range []*Server{set.runtimeApp, set.gunicorn, set.gunicorn26, set.uwsgi} {
			if s == nil || (scenario == "usr2" && s.Family != "runtime") {
				continue
			}
			jobs = append(jobs, job{s, scenario})
		}
	}
	if s := set.runtimeApp; s != nil { // one HUP, the canary off and on, side by side
		jobs = append(jobs, job{s, "hup1"}, job{withCanary(s), "hup1-canary"})
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := faultRun(ctx, o, j.srv, j.scenario)
		if err != nil {
			return fmt.Errorf("%s %s: %w", j.srv.Name, j.scenario, err)
		}
		logf("%-24s %-4s signals %2d  ok %7d  failed %s  steady %.0f/s  during %.0f/s (%.0f%%)  min %.0f/s  replace %s ms  takeover %.0f ms",
			row.Server, row.Scenario, row.Signals, row.OK, row.FailDetail, row.SteadyRPS, row.DuringRPS, pct(row.DuringRPS, row.SteadyRPS), row.MinRPS, fmtList(row.ReplaceMS), row.TakeoverMS)
		res.Faults = append(res.Faults, row)
	}
	return nil
}

const faultEvery = 500 * time.Millisecond

// benchCanaryWindow is the canary's window in the hup1-canary scenario.
const benchCanaryWindow = "1"

// withCanary is srv with reloads that run a canary (the hup1-canary scenario).
func withCanary(srv *Server) *Server {
	c := *srv
	c.Name += " canary " + benchCanaryWindow + "s"
	c.Argv = append(slices.Clone(srv.Argv), "--canary-window", benchCanaryWindow)
	return &c
}

func faultRun(ctx context.Context, o *Options, srv *Server, scenario string) (FaultRow, error) {
	row := FaultRow{Server: srv.Name, Family: srv.Family, Scenario: scenario, BucketMS: 100}
	if scenario == "recycle" {
		srv = recycling(srv)
	}
	p, err := srv.Start(ctx, o.tmp)
	if err != nil {
		return row, err
	}
	defer p.Stop()
	rest := time.Second
	if o.Quick {
		rest = 500 * time.Millisecond
	}
	p.settle(ctx, srv.Workers, rest)
	tail := 2 * time.Second // room to show recovery
	if o.Quick {
		tail = 500 * time.Millisecond
	}
	total := o.Steady + o.Fault + tail
	loaded := make(chan LoadResult, 1)
	loadErr := make(chan error, 1)
	go func() {
		r, err := Load(LoadConfig{Addr: p.Addr, Path: srv.Routes["json"], Conns: o.Conns, Duration: total, Bucket: 100 * time.Millisecond})
		loadErr <- err
		loaded <- r
	}()
	start := time.Now()
	var recycled func() int
	if scenario == "recycle" {
		recycled = countReplacements(ctx, p.MasterPID(), start.Add(total))
	}
	sleepUntil(ctx, start.Add(o.Steady))
	faultEnd := start.Add(o.Steady + o.Fault)
	var (
		mu       sync.Mutex
		replaced []float64
		wg       sync.WaitGroup
	)
	switch scenario {
	case "hup1", "hup1-canary":
		sleepUntil(ctx, start.Add(o.Steady))
		if err := p.Signal(syscall.SIGHUP); err != nil {
			return row, err
		}
		row.Signals = 1
	case "hup", "kill":
		for next := start.Add(o.Steady); next.Before(faultEnd) && ctx.Err() == nil; next = next.Add(faultEvery) {
			sleepUntil(ctx, next)
			if scenario == "hup" {
				if err := p.Signal(syscall.SIGHUP); err != nil {
					return row, err
				}
				row.Signals++
				continue
			}
			master := p.MasterPID()
			workers := children(master)
			if len(workers) == 0 {
				logf("%s: kill tick found no worker of master %d", srv.Name, master)
				row.Skipped++ // every worker is being replaced: nothing to kill this tick
				continue
			}
			victim := busiestWorker(workers, p.Addr)
			killed := time.Now()
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				logf("%s: kill worker %d: %v", srv.Name, victim, err)
				row.Skipped++
				continue
			}
			row.Signals++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if d, ok := waitNewChild(master, workers, killed, 5*time.Second); ok {
					mu.Lock()
					replaced = append(replaced, ms(d))
					mu.Unlock()
				}
			}()
		}
	case "usr2":
		old := p.MasterPID()
		sent := time.Now()
		var oldGone time.Time
		if err := p.Signal(syscall.SIGUSR2); err != nil {
			return row, err
		}
		row.Signals = 1
		for time.Now().Before(start.Add(total)) && ctx.Err() == nil {
			if p.MasterPID() != old && row.TakeoverMS == 0 {
				row.TakeoverMS = ms(time.Since(sent))
			}
			if row.TakeoverMS > 0 && !running(p, old) {
				oldGone = time.Now()
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if row.TakeoverMS == 0 {
			row.Unsupported = "no new master took over during the run"
		} else if running(p, old) {
			row.Unsupported = "the old master was still running at the end of the run"
		} else {
			row.OldExitMS = ms(oldGone.Sub(sent))
		}
	}
	wg.Wait()
	if err := <-loadErr; err != nil {
		return row, err
	}
	if recycled != nil {
		row.Signals = recycled() // no signal: the workers the master replaced by --max-requests
		row.Note = "--max-requests " + recycleAfter + " recycles workers for the whole run (steady and during alike); the signals column counts the workers replaced"
	}
	r := <-loaded
	row.OK, row.Failed, row.FailDetail = r.OK, r.Failed(), r.FailureSummary()
	row.SteadyRPS = r.Rate(200*time.Millisecond, o.Steady)
	row.DuringRPS = r.Rate(o.Steady, o.Steady+o.Fault)
	row.MinRPS = r.MinRate(o.Steady, o.Steady+o.Fault)
	row.FaultStart, row.FaultEnd = o.Steady.Seconds(), (o.Steady + o.Fault).Seconds()
	for _, b := range r.Buckets {
		row.Series = append(row.Series, float64(b)/r.Bucket.Seconds())
	}
	slices.Sort(replaced)
	row.ReplaceMS = replaced
	if b, err := os.ReadFile(p.logPath); err == nil {
		if n := strings.Count(string(b), "crash loop: delaying the next worker start"); n > 0 {
			row.Note = fmt.Sprintf("the master's crash-loop backoff delayed %d worker start(s) (its log: \"crash loop: delaying the next worker start\"), which explains the slowest replacements and any gap with no worker serving", n)
		}
	}
	return row, nil
}

// recycleAfter is the recycle scenario's --max-requests: Gunicorn's, uWSGI's and the
// runtime's flag alike.
const recycleAfter = "50"

// recycling is srv recycling each worker after recycleAfter requests.
func recycling(srv *Server) *Server {
	r := *srv
	r.Argv = append(slices.Clone(srv.Argv), "--max-requests", recycleAfter)
	return &r
}

// countReplacements polls master's children until end and returns a func telling how
// many workers appeared beyond the first ones (each a replacement).
func countReplacements(ctx context.Context, master int, end time.Time) func() int {
	seen := map[int]bool{}
	for _, c := range children(master) {
		seen[c] = true
	}
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for time.Now().Before(end) && ctx.Err() == nil {
			for _, c := range children(master) {
				mu.Lock()
				if !seen[c] {
					seen[c] = true
					n++
				}
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() int {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// waitNewChild polls master's children until one appears that was not in
// before; it returns how long after since that was.
func waitNewChild(master int, before []int, since time.Time, limit time.Duration) (time.Duration, bool) {
	for time.Since(since) < limit {
		for _, c := range children(master) {
			if !slices.Contains(before, c) {
				return time.Since(since), true
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, false
}

// running reports whether pid (a master of p) still runs; the first master is
// our child, so its exit shows on p.done rather than in /proc (zombie).
func running(p *Proc, pid int) bool {
	if pid == p.cmd.Process.Pid {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	return alive(pid)
}

// measureMicro runs the Go micro-benchmarks of the hot paths: template
// rendering of `scaffold new` (bench/) and the runtime's access-log
// formatting, forwarded-header and PROXY-header parsing (runtime/prefork and the packages under it).
func measureMicro(ctx context.Context, o *Options, res *Results, _ *serverSet) error {
	benchtime := "500ms"
	if o.Quick {
		benchtime = "50ms"
	}
	args := []string{"test", "-run", "^$", "-bench", "Generate|AccessLog|Forwarded|ProxyHeader|ServingChain|RequestMetricsObserve", "-benchmem", "-benchtime", benchtime, "./bench", "./runtime/prefork/..."}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	res.Micro = parseGoBench(string(out))
	res.Commands = append(res.Commands, "go "+strings.Join(args, " "))
	for _, m := range res.Micro {
		logf("%-40s %10.0f ns/op %8.0f B/op %5.0f allocs/op", m.Package+"."+m.Name, m.NsPerOp, m.BytesPerOp, m.AllocsPerOp)
	}
	return nil
}

// parseGoBench reads `go test -bench -benchmem` output.
func parseGoBench(out string) []MicroRow {
	var rows []MicroRow
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "pkg:" {
			pkg = f[1]
			continue
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		row := MicroRow{Package: pkg, Name: f[0]}
		if i := strings.LastIndexByte(row.Name, '-'); i > 0 {
			if _, err := strconv.Atoi(row.Name[i+1:]); err == nil {
				row.Name = row.Name[:i] // drop the -GOMAXPROCS suffix
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				row.NsPerOp = v
			case "B/op":
				row.BytesPerOp = v
			case "allocs/op":
				row.AllocsPerOp = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

func fmtList(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(parts, " ")
}

// wantServer applies -servers.
func (o *Options) wantServer(name string) bool {
	if o.Servers == "" {
		return true
	}
	for _, s := range splitList(o.Servers) {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}
