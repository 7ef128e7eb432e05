package serving

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// The route travels back to the layer that records it: from r.Pattern on the
// copy of the request the app's ServeMux was given (below a middleware that
// copies it), or from SetRoute; under --root-path it is the full path's. An
// unmatched request has none, never its path. SetTraceID reaches the access
// log and the exemplar; a malformed trace ID is ignored.
func TestRouteAndTraceTravelBack(t *testing.T) {
	var out bytes.Buffer
	al, err := observe.NewAccessLogTo(&out, `%(U)s trace=%(trace_id)s`)
	if err != nil {
		t.Fatal(err)
	}
	trusted, _ := ParseTrustedProxies("127.0.0.1")
	s := &ServingChain{access: al, trusted: trusted, rootPath: "/shop", metrics: observe.NewRequestMetrics(observe.DefaultMetricsBuckets)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		SetTraceID(r.Context(), r.Header.Get("X-Trace"))
	})
	mux.HandleFunc("POST /named", func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r.Context(), "POST /named/by/app")
	})
	copying := func(next http.Handler) http.Handler { // as a tracing middleware does
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r.WithContext(r.Context())) })
	}
	srv := &HTTPServer{tracker: observe.NewRequestTracker(), log: observe.StderrLog()}
	h := srv.wrap(Config{Hooks: Hooks{Middleware: []func(http.Handler) http.Handler{s.handler, copying}}}, mux)
	for _, c := range []struct{ method, path, trace string }{
		{"GET", "/shop/items/7", "0af7651916cd43dd8448eb211c80319c"},
		{"GET", "/shop/items/8", "not-a-trace-id"},
		{"POST", "/shop/named", ""},
		{"GET", "/shop/nothing/here", ""},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("X-Trace", c.trace)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	routes := map[string]uint64{}
	var exemplar string
	for _, sr := range s.metrics.Snapshot().Series {
		routes[sr.Route] += sr.Duration.Count()
		for _, e := range sr.Exemplars {
			if e.TraceID != "" {
				exemplar = e.TraceID
			}
		}
	}
	if routes["/shop/items/{id}"] != 2 || routes["/shop/named/by/app"] != 1 || routes[""] != 1 || len(routes) != 3 {
		t.Errorf("routes %v", routes)
	}
	if exemplar != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("exemplar %q", exemplar)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "/items/7 trace=0af7651916cd43dd8448eb211c80319c" || lines[1] != "/items/8 trace=-" {
		t.Errorf("access log:\n%s", out.String())
	}
	// outside a request both are no-ops
	SetTraceID(t.Context(), "0af7651916cd43dd8448eb211c80319c")
	SetRoute(t.Context(), "/x")
}
