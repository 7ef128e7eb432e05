//go:build unix

package prefork

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// scrape fetches the master's exposition.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %s %q\n%s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}

// sample returns the value of the exposition line that starts with series
// ("name" or `name{labels}`), summed over every line of that family when
// series has no labels.
func sample(exp, series string) float64 {
	var sum float64
	for _, l := range strings.Split(exp, "\n") {
		name, val, ok := strings.Cut(l, " ")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		if name == series || (!strings.Contains(series, "{") && strings.HasPrefix(name, series+"{")) {
			v, _ := strconv.ParseFloat(val, 64)
			sum += v
		}
	}
	return sum
}

// sendRequests sends n requests to the app, each must succeed.
func sendRequests(t *testing.T, p *proc, n int) {
	t.Helper()
	c := newClient()
	defer c.CloseIdleConnections()
	for i := range n {
		if _, err := p.get(c, "/"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

// waitSample waits until the scraped series reaches want (heartbeats carry
// the counts every Timeout/4), failing if it ever goes down.
func waitSample(t *testing.T, addr, series string, want float64, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	last := -1.0
	for {
		exp := scrape(t, addr)
		v := sample(exp, series)
		if v < last {
			t.Fatalf("%s went down from %v to %v", series, last, v)
		}
		last = v
		if v == want {
			return exp
		}
		if v > want || time.Now().After(deadline) {
			t.Fatalf("%s = %v after %s, want %v\n%s", series, v, within, want, exp)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The master's /metrics sums every worker's requests, and the sums survive
// a rolling reload (HUP) and a worker SIGKILLed from outside; promtool
// accepts the live exposition.
func TestMetricsEndpointAcrossReloadAndKill(t *testing.T) {
	needProc(t)
	t.Parallel()
	maddr := testenv.FreeAddr(t)
	p := startHelper(t, "run", []string{"-w", "2", "-t", "2", "--metrics-bind", maddr})
	p.waitLog("master ready", 1, 20*time.Second)
	sendRequests(t, p, 50)
	waitSample(t, maddr, "http_server_request_duration_seconds_count", 50, 10*time.Second)

	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, 20*time.Second)
	p.waitWorkers(2, 10*time.Second, nil)
	sendRequests(t, p, 30)
	waitSample(t, maddr, "http_server_request_duration_seconds_count", 80, 10*time.Second)
	waitSample(t, maddr, `server_worker_exits_total{reason="reload"}`, 2, 10*time.Second)

	victim := p.pidOf(newClient()) // one request more
	waitSample(t, maddr, "http_server_request_duration_seconds_count", 81, 10*time.Second)
	syscall.Kill(victim, syscall.SIGKILL)
	p.waitLog("SIGKILL from outside the master", 1, 10*time.Second)
	p.waitWorkers(2, 10*time.Second, func(ws []int) bool { return !containsPid(ws, victim) })
	sendRequests(t, p, 20)
	waitSample(t, maddr, `server_worker_exits_total{reason="killed"}`, 1, 10*time.Second)
	exp := waitSample(t, maddr, "http_server_request_duration_seconds_count", 101, 10*time.Second)
	for series, want := range map[string]float64{
		`server_worker_exits_total{reason="killed"}`: 1,
		`server_worker_exits_total{reason="crash"}`:  0,
		`server_reloads_total{outcome="complete"}`:   1,
		`server_worker_starts_total`:                 5,
		`server_generation`:                          2,
		`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/",network_protocol_version="1.1",url_scheme="http"}`:            100,
		`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/pid",network_protocol_version="1.1",url_scheme="http"}`:         1,
		`http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/",network_protocol_version="1.1",url_scheme="http",le="+Inf"}`: 100,
		`server_workers_target`: 2,
	} {
		if got := sample(exp, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if runtime.GOOS == "linux" && sample(exp, "server_listen_backlog_limit") <= 0 {
		t.Errorf("no listen backlog on Linux:\n%s", exp)
	}
	if sample(exp, "server_workers_resident_memory_bytes") <= 0 || sample(exp, "server_workers_goroutines") <= 0 {
		t.Errorf("no memory or goroutine figures:\n%s", exp)
	}
	if promtool := testenv.OptionalTool(t, "promtool", "not linting the live exposition", "apt-get install prometheus"); promtool != "" {
		testenv.PromtoolCheck(t, promtool, "live master", []byte(exp))
	}
	// the metrics listener is not the app's, and the app's is not metrics
	if body, err := p.get(newClient(), "/metrics"); err == nil && strings.Contains(body, "server_workers") {
		t.Errorf("the app's listener serves the master's metrics")
	}
	p.signal(syscall.SIGTERM)
	if code := p.exit(20 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func containsPid(ws []int, pid int) bool {
	for _, w := range ws {
		if w == pid {
			return true
		}
	}
	return false
}

// Through a real master: StatsD datagrams reach a UDP listener (per request
// from the workers, gunicorn.workers from the master); request IDs are in
// the response, the app's context and the buffered JSON access log, and a
// hostile one from a trusted peer is replaced without forging a line.
func TestStatsDAndRequestIDsThroughMaster(t *testing.T) {
	needProc(t)
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	access := filepath.Join(t.TempDir(), "access.log")
	p := startHelper(t, "run", []string{"-w", "2", "--statsd-host", pc.LocalAddr().String(), "--statsd-prefix", "app",
		"--access-logfile", access, "--access-logformat", "json", "--access-log-flush", "0.2"})
	p.waitLog("master ready", 1, 20*time.Second)

	c := newClient()
	ask := func(id string) (resp *http.Response, body string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/prod/rid", nil)
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := ask("from-nginx-0123") // the test is 127.0.0.1: trusted by default
	if body != "from-nginx-0123" || resp.Header.Get("X-Request-Id") != body {
		t.Errorf("trusted id: app saw %q, response %q", body, resp.Header.Get("X-Request-Id"))
	}
	// (a newline cannot cross the wire inside a header; requestid_test.go covers it)
	hostile := "x\",\"forged\":true,\"y\":\"\t" + strings.Repeat("A", 7<<10)
	resp, body = ask(hostile)
	if !serving.ValidRequestID(body) || body == hostile || resp.Header.Get("X-Request-Id") != body {
		t.Errorf("hostile id: app saw %q, response %q", body, resp.Header.Get("X-Request-Id"))
	}
	replaced := body
	_, generated := ask("")
	if len(generated) != 32 {
		t.Errorf("generated id %q", generated)
	}

	// the access log: buffered, flushed within --access-log-flush
	deadline := time.Now().Add(10 * time.Second)
	var lines []string
	for len(lines) < 3 && time.Now().Before(deadline) {
		b, _ := os.ReadFile(access)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) == 0 {
			lines = nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	ids := map[string]bool{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["forged"] != nil {
			t.Errorf("access log line %q: %v", l, err)
		}
		id, _ := m["request_id"].(string)
		ids[id] = true
	}
	for _, id := range []string{"from-nginx-0123", replaced, generated} {
		if !ids[id] {
			t.Errorf("request id %q not in the access log:\n%s", id, strings.Join(lines, "\n"))
		}
	}

	// StatsD: 3 requests x 3 lines from the workers, the workers gauge from the master
	seen := map[string]int{}
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for seen["app.gunicorn.requests"] < 3 || seen["app.gunicorn.workers"] < 1 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("statsd: %v (seen %v)", err, seen)
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if !testenv.StatsDLine.MatchString(l) {
				t.Errorf("malformed statsd line %q", l)
			}
			name, _, _ := strings.Cut(l, ":")
			seen[name]++
		}
	}
	if seen["app.gunicorn.request.status.200"] < 3 || seen["app.gunicorn.request.duration"] < 3 {
		t.Errorf("statsd names: %v", seen)
	}
}

// After a binary upgrade (USR2) the new master serves --metrics-bind: on
// TCP it binds once the old one, handing over, let go; a unix socket is
// renamed over the old one's.
func TestMetricsListenerFollowsUpgrade(t *testing.T) {
	needProc(t)
	t.Parallel()
	for _, tc := range []struct{ name, bind string }{
		{"tcp", testenv.FreeAddr(t)},
		{"unix", "unix:" + filepath.Join(t.TempDir(), "metrics.sock")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "app.pid")
			p := startHelper(t, "run", []string{"-w", "1", "--pid", pidFile, "--metrics-bind", tc.bind})
			p.waitLog("master ready", 1, bootWithin)
			get := func() (string, error) {
				c := &http.Client{Timeout: 5 * time.Second}
				target := "http://" + tc.bind + "/metrics"
				if path, ok := strings.CutPrefix(tc.bind, "unix:"); ok {
					c.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, "unix", path)
					}}
					target = "http://metrics/metrics"
				}
				resp, err := c.Get(target)
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return string(b), err
			}
			before, err := get()
			if err != nil {
				t.Fatal(err)
			}
			p.signal(syscall.SIGUSR2)
			if code := p.exit(30 * time.Second); code != 0 {
				t.Fatalf("old master exit code %d", code)
			}
			newMaster := readPidFile(t, pidFile)
			t.Cleanup(func() { killMasterTree(newMaster) })
			deadline := time.Now().Add(10 * time.Second)
			for {
				after, err := get()
				if err == nil && sample(after, "server_start_time_seconds") != sample(before, "server_start_time_seconds") &&
					sample(after, `server_workers{phase="ready"}`) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("metrics after the upgrade: %v\n%s", err, after)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if tc.name == "tcp" && !strings.Contains(p.log(), "metrics listener busy") {
				t.Errorf("the new master never waited for the old one's TCP listener:\n%s", p.log())
			}
		})
	}
}

// `NAME status` shows each worker's rate, latency and errors, from the same
// reports the metrics come from (on with the control socket alone).
func TestStatusShowsRequestMetrics(t *testing.T) {
	needProc(t)
	t.Parallel()
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	p := startHelper(t, "run", []string{"-w", "1", "-t", "2", "--control-socket", ctl})
	p.waitLog("master ready", 1, bootWithin)
	sendRequests(t, p, 30)
	sent := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := Control(ctl, ControlStatus)
		if err == nil && len(st.Workers) == 1 && st.Workers[0].Metrics && st.Workers[0].Requests == 30 {
			// what the master received, at most one report (0.5 s with -t 2) old;
			// 2 s leaves room for a loaded machine, the old lag was several seconds
			if lag := time.Since(sent); lag > 2*time.Second {
				t.Errorf("status showed the requests %s after they were served", lag)
			}
			w := st.Workers[0]
			if w.RequestsPerSecond <= 0 || w.P50Millis <= 0 || w.P99Millis < w.P50Millis || w.Errors5xx != 0 {
				t.Errorf("worker figures: %+v", w)
			}
			var b strings.Builder
			st.WriteTable(&b)
			if strings.Contains(b.String(), "-  -  -  -") {
				t.Errorf("table without the figures:\n%s", b.String())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status: %+v %v", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exit reasons come from the master's own decisions: a worker recycled
// after --max-requests counts as max_requests, and the requests it served
// stay in the total.
func TestMetricsCountRecycledWorkers(t *testing.T) {
	needProc(t)
	t.Parallel()
	maddr := testenv.FreeAddr(t)
	p := startHelper(t, "run", []string{"-w", "1", "-t", "2", "--max-requests", "10", "--metrics-bind", maddr})
	p.waitLog("master ready", 1, bootWithin)
	// A retiring worker keeps serving until its replacement is ready (no request waits),
	// so a burst of 25 gave 1 or 2 recycles depending on timing (the test once failed on
	// it). Ten at a time, each batch waited out, ends exactly one worker's life per batch.
	sendRequests(t, p, 10)
	waitSample(t, maddr, `server_worker_exits_total{reason="max_requests"}`, 1, 20*time.Second)
	sendRequests(t, p, 10)
	waitSample(t, maddr, `server_worker_exits_total{reason="max_requests"}`, 2, 20*time.Second)
	sendRequests(t, p, 5)
	exp := waitSample(t, maddr, "http_server_request_duration_seconds_count", 25, 10*time.Second)
	if got := sample(exp, `server_worker_exits_total{reason="crash"}`) + sample(exp, `server_worker_exits_total{reason="other"}`); got != 0 {
		t.Errorf("recycling counted as crash/other: %v\n%s", got, exp)
	}
}

// Serve (one process, no master) serves --metrics-bind itself: its own
// requests, one ready worker.
func TestServeServesMetrics(t *testing.T) {
	needProc(t)
	t.Parallel()
	maddr := testenv.FreeAddr(t)
	p := startHelper(t, "serve", []string{"--metrics-bind", maddr})
	p.waitLog("serving", 1, bootWithin)
	sendRequests(t, p, 7)
	exp := waitSample(t, maddr, "http_server_request_duration_seconds_count", 7, 10*time.Second)
	if got := sample(exp, `server_workers{phase="ready"}`); got != 1 {
		t.Errorf("server_workers{phase=ready} = %v, want 1\n%s", got, exp)
	}
}

// With --root-path the route label is the full path's pattern (the mount
// path and the ServeMux pattern the app matched on the stripped path), an
// unmatched request has none, and the access log ties the request ID to the
// trace ID the app set.
func TestMetricsRouteUnderRootPath(t *testing.T) {
	needProc(t)
	t.Parallel()
	maddr := testenv.FreeAddr(t)
	access := filepath.Join(t.TempDir(), "access.log")
	p := startHelper(t, "run", []string{"-w", "1", "-t", "2", "--metrics-bind", maddr, "--root-path", "/shop",
		"--access-logfile", access, "--access-logformat", "json", "--access-log-flush", "0.2"})
	p.waitLog("master ready", 1, bootWithin)
	c := newClient()
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	for _, path := range []string{"/shop/prod/traced/1", "/shop/prod/traced/2", "/shop/prod/traced/3"} {
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		req.Header.Set("X-Test-Trace", traceID)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	exp := waitSample(t, maddr, "http_server_request_duration_seconds_count", 3, 10*time.Second)
	const routed = `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/shop/prod/traced/{id}",network_protocol_version="1.1",url_scheme="http"}`
	if sample(exp, routed) != 3 || strings.Contains(exp, `http_route="/shop/prod/traced/1"`) {
		t.Errorf("want %s 3:\n%s", routed, exp)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(access)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) > 0 && len(lines) == 3 {
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["trace_id"] != traceID || m["request_id"] == "" {
					t.Errorf("access log line %s: want trace_id %s beside request_id (%v)", l, traceID, err)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log: %q", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
