package serving

import (
	"net"
	"net/http"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// ServingProc is a process that serves the app: Serve's single process or
// a worker. Both are built by NewServingProc, the same way.
type ServingProc struct {
	Srv  *HTTPServer
	prod *ServingChain
}

// NewServingProc builds the app (build: the App factory, run once) and the
// server around it on lns: PROXY protocol then TLS on the listeners,
// forwarded headers and the access log outside cfg.Middleware, both reopened
// with the log. appFailed tells the App factory's own error (returned as is)
// from the setup's. On error nothing stays open, the listeners included.
func NewServingProc(cfg Config, build func() (http.Handler, error), lns []net.Listener, names []string, lg *observe.Log) (sp *ServingProc, appFailed bool, err error) {
	prod, setupErr := newServing(cfg)
	if setupErr == nil {
		prod.log = lg.Warn
		lns = prod.listeners(lns)
	}
	h, err := build() // the app's error comes first: it says most
	if appFailed = err != nil; !appFailed {
		err = setupErr
	}
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		if setupErr == nil {
			prod.close()
		}
		return nil, appFailed, err
	}
	lg.Also = append(lg.Also, prod.reopen)
	cfg.Middleware = append([]func(http.Handler) http.Handler{prod.handler}, cfg.Middleware...) // outside the user's middleware
	return &ServingProc{Srv: NewHTTPServer(cfg, h, lns, names, lg), prod: prod}, false, nil
}

// Close closes what the serving chain holds open (the access log, StatsD).
func (sp *ServingProc) Close() { sp.prod.close() }

// Metrics are the process's request counters; nil unless the master (or
// Serve's --metrics-bind) collects them.
func (sp *ServingProc) Metrics() *observe.RequestMetrics { return sp.prod.metrics }

// Tracker is the server's request accounting, which the worker reports.
func (s *HTTPServer) Tracker() *observe.RequestTracker { return s.tracker }

// SetSpreading turns the master's spread command on or off: a response on a
// connection older than spreadAge closes it, and failures are reported at
// once (a canary's window).
func (s *HTTPServer) SetSpreading(on bool) {
	s.spreading.Store(on)
	s.tracker.Urgent.Store(on)
	if on {
		s.beatWhileUrgent()
	} else {
		s.hold.end()
	}
}

// Allow takes a canary's allowance in its window (the master's allow command:
// requests it may have begun so far); past it the worker holds (canary_hold.go).
func (s *HTTPServer) Allow(n int64) { s.hold.set(n) }

// Cut closes every connection at once, cutting a drain short.
func (s *HTTPServer) Cut() { s.srv.Close() }
