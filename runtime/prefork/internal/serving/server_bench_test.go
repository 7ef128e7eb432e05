//go:build unix

package serving

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// BenchmarkHandlerChain measures what a worker adds around the app's handler
// (limits, request accounting, drain's Connection: close), per request.
func BenchmarkHandlerChain(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	cfg := testConfig(b, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	lg, _ := observe.NewLog(&settings.Values{ErrorLog: "-", LogLevel: "error"}, nil)
	s := NewHTTPServer(cfg, app, nil, nil, lg)
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
		worker  bool // inside the worker's request tracker, as served
	}{{"log buffered", 0, false, false}, {"log buffered+metrics", 0, true, false}, {"log unbuffered", -1, false, false}, {"worker", 0, true, true}} {
		app := app
		if bc.metrics { // the app's ServeMux names the route, as a generated app's does
			app = func(w http.ResponseWriter, r *http.Request) {
				StateOf(r.Context()).Route = "/hello"
				w.WriteHeader(200)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			al, err := observe.NewAccessLog(os.DevNull, "json")
			if err != nil {
				b.Fatal(err)
			}
			defer al.Close()
			al.SetBuffer(bc.buffer, time.Second)
			tp, _ := ParseTrustedProxies(settings.DefaultForwardedAllowIPs)
			s := &ServingChain{access: al, trusted: tp}
			if bc.metrics {
				s.metrics = observe.NewRequestMetrics(observe.DefaultMetricsBuckets)
			}
			h := s.handler(app)
			if bc.worker {
				cfg := Config{Hooks: Hooks{Middleware: []func(http.Handler) http.Handler{s.handler}}}
				h = (&HTTPServer{tracker: observe.NewRequestTracker()}).wrap(cfg, app)
			}
			b.ReportAllocs()
			cpu0 := cpuTime() // steadier than ns/op on a shared machine
			defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
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

// BenchmarkServedChain is the whole production chain as a worker serves it
// (NewServingProc: request policy, request ID, forwarded headers, mount
// path, metrics, the buffered JSON access log to /dev/null, the worker's
// accounting), given requests as net/http hands them over: with its
// connection's context (ConnContext on a strictConn) and the headers of
// wrk (Host only: none left in r.Header), of a browser, or of an nginx in
// front (127.0.0.1, trusted: its X-Forwarded-* and request ID, a browser's
// headers).
func BenchmarkServedChain(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		StateOf(r.Context()).Route = "/hello" // as a generated app's ServeMux names it
		w.WriteHeader(200)
	})
	for _, bc := range []struct {
		name   string
		header http.Header
	}{
		{"wrk", http.Header{}},
		{"browser", http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}, "Accept": {"text/html,application/xhtml+xml"},
			"Accept-Encoding": {"gzip, deflate, br"}, "Accept-Language": {"en-US,en;q=0.5"}, "Cookie": {"session=0123456789abcdef"}, "Referer": {"http://127.0.0.1:8000/"}}},
		{"nginx", http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https"}, "X-Real-Ip": {"203.0.113.7"},
			RequestIDHeader: {"0af7651916cd43dd8448eb211c80319c"}, "User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
			"Accept": {"text/html,application/xhtml+xml"}, "Accept-Encoding": {"gzip, deflate, br"}, "Accept-Language": {"en-US,en;q=0.5"}, "Connection": {"close"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			lg, _ := observe.NewLog(&settings.Values{ErrorLog: "-", LogLevel: "error"}, nil)
			v := settings.Values{Bind: []string{ln.Addr().String()}, Workers: 1, AccessLog: os.DevNull, AccessLogFormat: "json", ControlSocket: "unused"}
			sp, _, err := NewServingProc(testConfig(b, v, Hooks{}), func() (http.Handler, error) { return app, nil }, []net.Listener{ln}, []string{"bench"}, lg)
			if err != nil {
				b.Fatal(err)
			}
			defer sp.Close()
			defer ln.Close()
			h, srv := sp.Srv.srv.Handler, sp.Srv.srv
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
			ctx := context.WithValue(context.WithValue(context.Background(), http.ServerContextKey, srv), http.LocalAddrContextKey, local)
			ctx = srv.ConnContext(ctx, &strictConn{Conn: &repeatConn{}})
			ctx, cancel := context.WithCancel(ctx) // the request's own, as net/http makes it
			defer cancel()
			r, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:8000/hello", nil)
			r.RequestURI = "/hello"
			r.RemoteAddr = "127.0.0.1:5000"
			b.ReportAllocs()
			cpu0 := cpuTime() // steadier than ns/op on a shared machine
			defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				w := &recorder{header: http.Header{}}
				r := r.Clone(r.Context())
				for pb.Next() {
					clear(r.Header)
					for k, v := range bc.header {
						r.Header[k] = v
					}
					h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkRequestPolicy measures the plain HTTP/1 path over loopback with
// keep-alive connections sending a wrk-sized GET: "none" is net/http alone,
// "reader" the production HTTP/1 path (the connection reader checking every
// head, then the policy's handler), "parsed" the check the other transports
// get (HTTP/2, uwsgi, FastCGI: checkRequest on the parsed request).
// Compare them in one run (alternating runs; cpu-ns/op, client and server
// together, is steadier than ns/op on a shared machine): the policy's
// budget is 3% of throughput.
func BenchmarkRequestPolicy(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	req := []byte("GET /hello?name=world HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nX-Request-Id: 0af7651916cd43dd8448eb211c80319c\r\n\r\n")
	for _, mode := range []string{"none", "reader", "parsed"} {
		b.Run(mode, func(b *testing.B) {
			cfg := testConfig(b, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			lg, _ := observe.NewLog(&settings.Values{ErrorLog: "-", LogLevel: "error"}, nil)
			lns := []net.Listener{ln}
			tp, _ := ParseTrustedProxies(settings.DefaultForwardedAllowIPs)
			chain := &ServingChain{policy: newRequestPolicy(cfg, nil), trusted: tp}
			h := http.Handler(app)
			switch mode {
			case "reader":
				lns[0] = &strictListener{Listener: ln, p: chain.policy, trusted: tp}
				h = chain.policyHandler(app)
			case "parsed":
				h = chain.policyHandler(app)
			}
			s := NewHTTPServer(cfg, h, lns, []string{"bench"}, lg)
			s.Start()
			defer s.Close()
			b.SetParallelism(4)
			b.ResetTimer()
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					if _, err := c.Write(req); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// cpuTime is the process's user and system time: on a shared machine
// it says more about a request's cost than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// repeatConn is a connection whose peer sends the same request forever.
type repeatConn struct {
	net.Conn
	req []byte
	off int
}

func (c *repeatConn) Read(p []byte) (int, error) {
	n := copy(p, c.req[c.off:])
	c.off = (c.off + n) % len(c.req)
	return n, nil
}

// BenchmarkStrictConnHead is the connection reader's own cost per request
// head (CPU only, no sockets): set it against BenchmarkRequestPolicy's
// time per request.
func BenchmarkStrictConnHead(b *testing.B) {
	req := []byte("GET /hello?name=world HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nX-Request-Id: 0af7651916cd43dd8448eb211c80319c\r\n\r\n")
	cfg := testConfig(b, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	c := &strictConn{Conn: &repeatConn{req: req}, p: newRequestPolicy(cfg, nil), first: true, trust: -1}
	c.chunk.p = c.p
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	cpu0 := cpuTime() // steadier than ns/op on a shared machine
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		for n := 0; n < len(req); {
			m, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
	}
}

// BenchmarkCheckRequest is the policy's own cost on a request another
// transport's parser read (HTTP/2, uwsgi, FastCGI), CPU only: set it
// against BenchmarkRequestPolicy's time per request.
func BenchmarkCheckRequest(b *testing.B) {
	cfg := testConfig(b, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	p := newRequestPolicy(cfg, nil)
	r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /hello?name=world HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nX-Request-Id: 0af7651916cd43dd8448eb211c80319c\r\n\r\n")))
	b.ReportAllocs()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		if ref := p.checkRequest(r, true); ref != nil {
			b.Fatal(ref.reason)
		}
	}
}

// BenchmarkRequestID is the request ID layer alone (a new ID per request, set on
// both headers and the request's context) and the making of an ID.
func BenchmarkRequestID(b *testing.B) {
	tp, _ := ParseTrustedProxies(settings.DefaultForwardedAllowIPs)
	h := RequestIDHandler(tp, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	b.Run("layer", func(b *testing.B) {
		r, _ := http.NewRequest("GET", "http://x/hello", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		w := &recorder{header: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			delete(r.Header, RequestIDHeader)
			clear(w.header)
			h.ServeHTTP(w, r)
		}
	})
	b.Run("new id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = NewRequestID()
		}
	})
}
