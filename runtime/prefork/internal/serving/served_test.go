package serving

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// What a worker reports as served (a canary's figures) counts every
// completed request, failed ones being 5xx answers and requests a panic
// aborted, with their latency; a panic still reaches net/http.
func TestServedCountsFailuresAndLatency(t *testing.T) {
	c := testConfig(t, settings.Values{Workers: 1}, Hooks{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { time.Sleep(15 * time.Millisecond) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) })
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	s := NewHTTPServer(c, mux, nil, nil, &observe.Log{Logger: newTestLogger(t), Out: io.Discard})
	h := s.srv.Handler
	for _, path := range []string{"/ok", "/ok", "/fail", "/teapot"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("the panic reached the server as %v, want http.ErrAbortHandler", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/panic", nil))
	}()
	sv := s.tracker.ServedTotal()
	if sv.Requests != 5 || sv.Errors != 2 {
		t.Fatalf("served %d requests, %d failed; want 5 and 2 (the 502 and the panic, not the 418)", sv.Requests, sv.Errors)
	}
	if n := sv.Latency.Count(); n != 5 {
		t.Fatalf("latency holds %d requests, want 5", n)
	}
	// At least the 15ms requests' bucket; the upper bound only rules out a wrong unit (a
	// loaded machine may stretch a 15ms sleep several times over).
	if p99 := sv.Latency.Quantile(0.99); p99 < 15*time.Millisecond || p99 > 2*time.Second {
		t.Fatalf("p99 %s, want about the 15ms requests", p99)
	}
}
