package master

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthProbeAnswers(t *testing.T) {
	serving := healthState{Started: true, Ready: 2, Target: 2, Generation: 1, PID: 7}
	cases := []struct {
		name     string
		st       healthState
		answered bool
		method   string
		path     string
		code     int
		body     string
	}{
		{"live while serving", serving, true, "GET", "/livez", 200, "ok: 2/2 workers ready, generation 1, master pid 7"},
		{"live while stopping", healthState{Started: true, Stopping: true}, true, "GET", "/livez", 200, "ok:"},
		{"live while booting", healthState{Target: 2}, true, "GET", "/livez", 200, "ok:"},
		{"not live when the loop does not answer", serving, false, "GET", "/livez", 503, "did not answer"},
		{"ready while serving", serving, true, "GET", "/readyz", 200, "ready: 2/2"},
		{"ready with one of two workers (the other being replaced)", healthState{Started: true, Ready: 1, Target: 2}, true, "GET", "/readyz", 200, "ready: 1/2"},
		{"not ready before start-up is done", healthState{Ready: 1, Target: 2}, true, "GET", "/readyz", 503, "starting: 1/2"},
		{"not ready with no worker ready", healthState{Started: true, Target: 2}, true, "GET", "/readyz", 503, "no worker ready"},
		{"not ready once stopping", healthState{Started: true, Stopping: true, Ready: 2, Target: 2}, true, "GET", "/readyz", 503, "stopping"},
		{"not ready when the loop does not answer", serving, false, "GET", "/readyz", 503, "did not answer"},
		{"started", serving, true, "GET", "/startupz", 200, "started"},
		{"not started", healthState{Ready: 1, Target: 2}, true, "GET", "/startupz", 503, "starting"},
		{"HEAD works", serving, true, "HEAD", "/readyz", 200, ""},
		{"POST refused", serving, true, "POST", "/readyz", 405, "method not allowed"},
		{"other paths are not found", serving, true, "GET", "/", 404, "not found"},
		{"app paths are not here", serving, true, "GET", "/healthz", 404, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := healthHandler(func(time.Duration) (healthState, bool) { return c.st, c.answered })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("%s %s: %d %q, want %d containing %q", c.method, c.path, rec.Code, rec.Body.String(), c.code, c.body)
			}
			if c.code != 404 && rec.Header().Get("Cache-Control") != "no-store" && c.code != 405 {
				t.Errorf("Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}
