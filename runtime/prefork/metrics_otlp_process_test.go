//go:build unix

package prefork

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// The master pushes the aggregate over OTLP/HTTP (JSON) to a real
// OpenTelemetry Collector: the request totals its file export shows equal
// the requests sent, across a HUP and a worker SIGKILLed once its requests
// were reported, never going down; routes, the resource and an exemplar's
// trace ID come through.
func TestOTLPPushReachesRealCollector(t *testing.T) {
	needProc(t)
	t.Parallel()
	col := testenv.StartCollector(t)
	p := startHelper(t, "run", []string{"-w", "2", "-t", "2", "--metrics-otlp-endpoint", col.Endpoint, "--metrics-otlp-interval", "0.2"})
	p.waitLog("master ready", 1, 20*time.Second)
	last := -1.0
	waitTotal := func(want float64) testenv.MetricTotal {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := col.Metrics(t)["http.server.request.duration"]
			if m.Value < last {
				t.Fatalf("the pushed total went down from %v to %v", last, m.Value)
			}
			last = m.Value
			if m.Value == want {
				return m
			}
			if m.Value > want || time.Now().After(deadline) {
				t.Fatalf("pushed total %v, want %v\n%s", m.Value, want, col.Log())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	sendRequests(t, p, 30)
	waitTotal(30)
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, 20*time.Second)
	sendRequests(t, p, 20)
	waitTotal(50)
	victim := p.pidOf(newClient()) // one request more
	waitTotal(51)                  // reported before it dies
	syscall.Kill(victim, syscall.SIGKILL)
	p.waitLog("SIGKILL from outside the master", 1, 10*time.Second)
	p.waitWorkers(2, 10*time.Second, func(ws []int) bool { return !containsPid(ws, victim) })
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/prod/traced/1", nil)
	req.Header.Set("X-Test-Trace", traceID)
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sendRequests(t, p, 9)
	m := waitTotal(61)

	exe, _ := os.Executable()
	if m.Resource["service.name"] != filepath.Base(exe) {
		t.Errorf("resource %v, want service.name %s", m.Resource, filepath.Base(exe))
	}
	routes := map[string]float64{}
	exemplar := false
	for _, d := range m.Data {
		routes[d.Attributes["http.route"]] += d.Value
		if d.Attributes["http.route"] == "/prod/traced/{id}" {
			for _, id := range d.Exemplars {
				exemplar = exemplar || id == traceID
			}
		}
		if d.Attributes["http.request.method"] != "GET" || d.Attributes["http.response.status_code"] != "200" || d.Attributes["url.scheme"] != "http" {
			t.Errorf("data point attributes %v", d.Attributes)
		}
	}
	if routes["/"] != 59 || routes["/pid"] != 1 || routes["/prod/traced/{id}"] != 1 || !exemplar {
		t.Errorf("by route %v, exemplar %v", routes, exemplar)
	}
	all := col.Metrics(t)
	if all["server.worker.exits"].Value < 3 || all["server.reloads"].Value != 1 {
		t.Errorf("process metrics: exits %v, reloads %v", all["server.worker.exits"], all["server.reloads"])
	}
	p.signal(syscall.SIGTERM)
	if code := p.exit(20 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
