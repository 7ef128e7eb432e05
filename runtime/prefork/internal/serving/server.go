package serving

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/fcgi"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// DefaultLongLived reports WebSocket upgrades and server-sent event streams:
// requests that stay open for as long as the client wants.
func DefaultLongLived(r *http.Request) bool {
	// Direct map reads: the server stores header keys canonical, and this runs
	// on every request (Header.Get canonicalises its key each time).
	return observe.HeaderFirst(r.Header, "Upgrade") != "" || strings.Contains(observe.HeaderFirst(r.Header, "Accept"), "text/event-stream")
}

// spreadAge is how long a connection lives while the workers spread their
// clients: each reconnects a few times a second, to a worker the listen
// queue picks, instead of once per request (which halved the throughput).
const spreadAge = 250 * time.Millisecond

// connAcceptedKey holds when a connection was accepted, in its context.
type connAcceptedKey struct{}

// connOlder reports whether r's connection was accepted more than age ago.
func connOlder(r *http.Request, age time.Duration) bool {
	at, ok := r.Context().Value(connAcceptedKey{}).(time.Time)
	return !ok || time.Since(at) > age
}

// HTTPServer is the hardened http.Server a worker (or Serve) runs on its
// listeners, with request accounting and a drain that lets busy keep-alive
// clients finish cleanly.
type HTTPServer struct {
	srv     *http.Server
	lns     []net.Listener
	names   []string
	tracker *observe.RequestTracker
	head    headerScan // the questions the chain asks of a request's header
	// spreading: a response on a connection older than spreadAge closes
	// it, so kept-alive clients keep coming back through the listen queue
	// the workers share, and a canary beside this worker gets its share of
	// them (the master's spread command)
	spreading atomic.Bool
	hold      canaryHold // a canary worker's allowance in its window
	draining  atomic.Bool
	conns     atomic.Int64
	log       *observe.Log
	wg        sync.WaitGroup
	closing   atomic.Bool
	keepIdle  time.Duration // drainKeepAlive, or KeepAlive when shorter
	accepted  atomic.Int64  // unix nanos of the last accepted connection
	onDrain   func()
	protocol  string          // http, uwsgi or fastcgi
	fcgi      []*FcgiListener // FastCGI: served by net/http/fcgi, not srv
}

func NewHTTPServer(cfg Config, h http.Handler, lns []net.Listener, names []string, log *observe.Log) *HTTPServer {
	s := &HTTPServer{lns: lns, names: names, tracker: observe.NewRequestTracker(), log: log, onDrain: cfg.OnDrain}
	s.head.forwarder = forwarderKeys(cfg.ForwarderHeaders)
	s.keepIdle = drainKeepAlive
	if ka := off(cfg.KeepAlive); ka < s.keepIdle {
		s.keepIdle = ka
	}
	s.srv = &http.Server{
		Handler:           s.wrap(cfg, h),
		ReadHeaderTimeout: off(cfg.ReadHeaderTimeout),
		IdleTimeout:       off(cfg.KeepAlive),
		MaxHeaderBytes:    maxHeaderBytes(cfg),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         s.connState,
	}
	if cfg.KeepAlive < 0 {
		s.srv.SetKeepAlivesEnabled(false)
	}
	s.configureProtocols(cfg)
	return s
}

// configureProtocols applies --http-protocols, --http2-cleartext and the
// --http2-* limits, and the gateway protocols' needs.
func (s *HTTPServer) configureProtocols(cfg Config) {
	s.protocol = cfg.Protocol
	s.srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		ctx = context.WithValue(ctx, connAcceptedKey{}, time.Now())
		return strictContext(GatewayContext(ctx, c), c)
	}
	if s.protocol == "fastcgi" {
		for i, ln := range s.lns {
			fl := NewFcgiListener(ln, off(cfg.Timeout)+off(cfg.KeepAlive))
			s.fcgi = append(s.fcgi, fl)
			s.lns[i] = fl
		}
		return
	}
	protos := cfg.HTTPProtocols
	if protos == "" {
		protos = settings.DefaultHTTPProtocols
	}
	h1, h2 := strings.Contains(protos, "h1"), strings.Contains(protos, "h2")
	if s.protocol == "uwsgi" {
		h1, h2 = true, false // nginx speaks uwsgi, translated to HTTP/1.0
	}
	var p http.Protocols
	p.SetHTTP1(h1)
	p.SetHTTP2(h2)
	// h2c only for a trusted peer's preface: strictConn hands anyone else's to the
	// HTTP/1 checks, as if it were off
	p.SetUnencryptedHTTP2(h2 && settings.H2CPriorKnowledgeOn(cfg.HTTP2Cleartext))
	s.srv.Protocols = &p
	if h2 {
		s.srv.HTTP2 = &http.HTTP2Config{
			MaxConcurrentStreams:      cfg.HTTP2MaxConcurrentStreams,
			MaxReadFrameSize:          cfg.HTTP2MaxFrameSize,
			MaxReceiveBufferPerStream: cfg.HTTP2InitialWindowSize,
		}
		// HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE is the server's MaxHeaderBytes, shared
		// with HTTP/1: lowered only where HTTP/2 is served (TLS, or h2c)
		if n := cfg.HTTP2MaxHeaderListSize; n > 0 && n < s.srv.MaxHeaderBytes && (cfg.CertFile != "" || settings.H2CPriorKnowledgeOn(cfg.HTTP2Cleartext)) {
			s.srv.MaxHeaderBytes = n
		}
	}
}

// maxHeaderBytes lets Go's own 431 enforce the sum of Gunicorn's limits;
// the per-line and per-field limits are the request policy's.
func maxHeaderBytes(cfg Config) int {
	if cfg.LimitRequestLine < 0 || cfg.LimitRequestFields < 0 || cfg.LimitRequestFieldSize < 0 {
		return http.DefaultMaxHeaderBytes
	}
	n := cfg.LimitRequestLine + 2 + cfg.LimitRequestFields*(cfg.LimitRequestFieldSize+2)
	if n > 16<<20 {
		n = 16 << 20
	}
	return n
}

// wrap builds the worker's handler chain, outermost first: request
// accounting and drain's Connection: close, cfg.Middleware, the app (the
// request policy, the access log and forwarded headers come in as the
// outermost middleware, see ServingChain.handler).
func (s *HTTPServer) wrap(cfg Config, h http.Handler) http.Handler {
	h = RouteRecorder(h) // the app's ServeMux sets r.Pattern on this copy
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		h = cfg.Middleware[i](h)
	}
	inner := h
	longLived := cfg.LongLived
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hold.request() || s.draining.Load() || s.spreading.Load() && connOlder(r, spreadAge) {
			w.Header().Set("Connection", "close")
		}
		head := s.head.scan(r.Header)
		if longLived != nil && longLived(r) || longLived == nil && head.may(headUpgrade|headAccept) && DefaultLongLived(r) {
			s.tracker.BeginLong()
			defer s.tracker.Long.Add(-1)
			inner.ServeHTTP(w, r)
			return
		}
		rec := newRecord(w, head)
		id := s.tracker.Begin(rec.start)
		defer func() {
			p := recover()
			took := rec.took
			if !rec.timed {
				took = time.Since(rec.start)
			}
			s.tracker.End(id, rec.Status, p != nil, took)
			if p != nil {
				panic(p) // net/http logs it and resets the connection, as without this layer
			}
		}()
		inner.ServeHTTP(rec, r)
	})
	return h
}

func (s *HTTPServer) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
		s.accepted.Store(time.Now().UnixNano())
	case http.StateHijacked:
		if sc, ok := c.(*strictConn); ok {
			sc.raw.Store(true) // a WebSocket's frames are not HTTP/1 requests
		}
		s.conns.Add(-1)
	case http.StateClosed:
		s.conns.Add(-1)
	}
}

// start serves every listener in its own goroutine.
func (s *HTTPServer) Start() {
	for i, ln := range s.lns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ln := heldListener{ln, s}
			var err error
			if s.protocol == "fastcgi" {
				err = fcgi.Serve(ln, gatewayHopHandler(s.srv.Handler))
				if s.closing.Load() {
					err = nil
				}
			} else {
				err = s.srv.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !s.closing.Load() {
				s.log.Error("serve failed", "listener", s.names[i], "err", err)
			}
		}()
	}
}

// drainKeepAlive is how long a stopping server keeps its kept-alive
// connections, answering a request on one with Connection: close, before
// it closes those still idle (Gunicorn 27.0.1's 2 s: a client reusing an
// idle connection just then would otherwise meet a reset).
const drainKeepAlive = 2 * time.Second

// Backlog draining on a full stop: accept until no connection came for
// backlogIdle (at most backlogMax), so connections already queued in the
// kernel are served instead of reset when the last descriptor closes.
const (
	backlogIdle = 100 * time.Millisecond
	backlogMax  = time.Second
)

// drain stops accepting (with backlog, only once the listen queue stayed
// empty for a moment: nobody else will accept them), answers requests on
// open connections with "Connection: close" for up to drainKeepAlive (so
// keep-alive clients, busy or idle, finish without a reset; it ends sooner
// once every connection has closed), then shuts down, waiting for
// in-flight requests up to timeout before closing what is left. It returns
// context.DeadlineExceeded when requests were cut.
func (s *HTTPServer) Drain(timeout time.Duration, backlog bool) error {
	start := time.Now()
	deadline := start.Add(timeout)
	s.closing.Store(true)
	s.draining.Store(true)
	if backlog {
		s.accepted.Store(start.UnixNano())
		stop := start.Add(min(backlogMax, timeout/2))
		for time.Now().Before(stop) && time.Since(time.Unix(0, s.accepted.Load())) < backlogIdle {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	if s.onDrain != nil {
		go s.onDrain() // the app ends its long-lived connections (WebSockets, streams)
	}
	linger := time.Now().Add(min(s.keepIdle, timeout))
	for s.conns.Load() > 0 && time.Now().Before(linger) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// Shutdown's other errors are from closing the listeners again: ours already did
	if err := s.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		s.srv.Close()
		s.wg.Wait()
		return err
	}
	s.wg.Wait()
	// FastCGI: net/http/fcgi has no Shutdown; a connection accepted before
	// the listener closed may not have started its request yet, so wait for
	// the connections themselves (nginx's close after each response)
	for s.fcgiOpen() > 0 {
		if time.Now().After(deadline) {
			for _, fl := range s.fcgi {
				fl.CloseConns()
			}
			return context.DeadlineExceeded
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Shutdown does not wait for hijacked connections (WebSockets): their
	// handlers still count as in flight
	for s.tracker.Stats().InFlight > 0 {
		if time.Now().After(deadline) {
			return context.DeadlineExceeded
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// fcgiOpen counts the open FastCGI connections.
func (s *HTTPServer) fcgiOpen() int {
	n := 0
	for _, fl := range s.fcgi {
		n += fl.Open()
	}
	return n
}

// close stops at once, cutting open connections.
func (s *HTTPServer) Close() {
	s.closing.Store(true)
	for _, fl := range s.fcgi {
		fl.Close()
		fl.CloseConns()
	}
	s.srv.Close()
	s.wg.Wait()
}
