//go:build unix

package prefork

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// BenchmarkHandlerChain measures what a worker adds around the app's handler
// (limits, request accounting, drain's Connection: close), per request.
func BenchmarkHandlerChain(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	cfg, _ := Config{Bind: []string{"127.0.0.1:0"}, Workers: 1}.withDefaults()
	lg, _ := newLogging(Config{ErrorLog: "-", LogLevel: "error"})
	s := newHTTPServer(cfg, app, nil, nil, lg)
	r, _ := http.NewRequest("GET", "http://x/hello", nil)
	r.RequestURI = "/hello"
	r.Header.Set("User-Agent", "wrk")
	r.Header.Set("Accept", "*/*")
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", app}, {"runtime", s.srv.Handler}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &recorder{header: http.Header{}}
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkServingChain measures the production chain per request (request
// ID, forwarded headers, one recorder for metrics and the JSON access log,
// written to /dev/null: real write(2) calls): buffered, with metrics, and
// written through.
func BenchmarkServingChain(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	r, _ := http.NewRequest("GET", "http://x/hello", nil)
	r.RequestURI = "/hello"
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("User-Agent", "wrk")
	for _, bc := range []struct {
		name    string
		buffer  int
		metrics bool
	}{{"log buffered", 0, false}, {"log buffered+metrics", 0, true}, {"log unbuffered", -1, false}} {
		b.Run(bc.name, func(b *testing.B) {
			al, err := newAccessLog(os.DevNull, "json")
			if err != nil {
				b.Fatal(err)
			}
			defer al.Close()
			al.setBuffer(bc.buffer, time.Second)
			tp, _ := parseTrustedProxies(DefaultForwardedAllowIPs)
			s := &serving{access: al, trusted: tp}
			if bc.metrics {
				s.metrics = newRequestMetrics(DefaultMetricsBuckets)
			}
			h := s.handler(app)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &recorder{header: http.Header{}}
				r := r.Clone(r.Context()) // the chain sets the request's X-Request-Id
				for pb.Next() {
					delete(r.Header, RequestIDHeader)
					h.ServeHTTP(w, r)
				}
			})
		})
	}
}
