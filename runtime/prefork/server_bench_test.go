//go:build unix

package prefork

import (
	"net/http"
	"testing"
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
