//go:build unix

package prefork

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// A real Prometheus scrapes the master every 200ms; PromQL over its HTTP API
// sees exactly the requests the test sent, across a HUP and a SIGKILLed
// worker, and no counter reset.
func TestPrometheusScrapesMaster(t *testing.T) {
	needProc(t)
	prom := testenv.Tool(t, "prometheus", "apt-get install prometheus")
	t.Parallel()
	maddr := testenv.FreeAddr(t)
	p := startHelper(t, "run", []string{"-w", "2", "-t", "2", "--metrics-bind", maddr})
	p.waitLog("master ready", 1, 20*time.Second)

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", maddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	paddr := testenv.FreeAddr(t)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+paddr, "--log.level=warn", "--enable-feature=exemplar-storage")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Logf("prometheus log:\n%s", b)
		}
	})
	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + paddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return 0, false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	waitQuery := func(q string, want float64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second) // a loaded CI machine: Prometheus starts slowly
		var v float64
		var ok bool
		for time.Now().Before(deadline) {
			if v, ok = query(q); ok && v == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("PromQL %s = %v (ok %v), want %v", q, v, ok, want)
	}
	const total = `sum(http_server_request_duration_seconds_count{job="app"})`
	waitQuery(`up{job="app"}`, 1)
	sendRequests(t, p, 40)
	waitQuery(total, 40)
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, 20*time.Second)
	sendRequests(t, p, 25)
	waitQuery(total, 65)
	victim := p.pidOf(newClient()) // one request more
	waitQuery(total, 66)           // its worker reported it before it dies
	syscall.Kill(victim, syscall.SIGKILL)
	p.waitLog("SIGKILL from outside the master", 1, 10*time.Second)
	p.waitWorkers(2, 10*time.Second, func(ws []int) bool { return !containsPid(ws, victim) })
	sendRequests(t, p, 15)
	waitQuery(total, 80+1) // the /pid request above counts too
	waitQuery(`sum(server_worker_exits_total{reason="killed"})`, 1)
	// no series of the counter ever went down over the whole run
	waitQuery(`sum(resets(http_server_request_duration_seconds_bucket{job="app"}[5m]))`, 0)
	waitQuery(`sum(resets(http_server_request_duration_seconds_count{job="app"}[5m]))`, 0)

	// Exemplars: Prometheus asks for OpenMetrics, and a traced request's
	// bucket carries its trace ID.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/prod/traced/7", nil)
	req.Header.Set("X-Test-Trace", traceID)
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(60 * time.Second)
	q := url.Values{"query": {`http_server_request_duration_seconds_bucket{job="app",http_route="/prod/traced/{id}"}`},
		"start": {strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)}, "end": {strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}}
	var body []byte
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + paddr + "/api/v1/query_exemplars?" + q.Encode())
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"trace_id":"`+traceID+`"`) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no exemplar with trace_id %s in Prometheus: %s", traceID, body)
}
