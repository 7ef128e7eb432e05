package prefork

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The metrics listener (--metrics-bind): a small HTTP server in the master,
// on its own address (never one of the app's listeners), answering
// GET /metrics in the Prometheus text format. Each scrape asks the master's
// loop for a copy of its figures (m.ask) and renders it off the loop.
//
// During a binary upgrade the new master cannot bind a TCP address the old
// one still holds: it retries in the background until the old master,
// handing over, closes its listener. A unix socket is bound under a
// temporary name and renamed over the path, so the new master takes it over
// at once.

// metricsScrapeTimeout bounds the wait for the master's loop.
const metricsScrapeTimeout = 2 * time.Second

type metricsServer struct {
	srv   *http.Server
	log   *slog.Logger
	addr  string
	path  string      // unix socket path, "" for TCP
	info  os.FileInfo // the socket file we created
	mu    sync.Mutex
	ln    net.Listener
	stop  chan struct{}
	wg    sync.WaitGroup
	bound chan struct{} // closed once serving (tests)
}

func newMetricsServer(addr string, view func() (metricsView, error), log *slog.Logger) *metricsServer {
	s := &metricsServer{addr: addr, log: log, stop: make(chan struct{}), bound: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		v, err := view()
		if err != nil {
			http.Error(w, "prefork: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		var b bytes.Buffer
		if err := writeExposition(&b, v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentTypeExposition)
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.Write(b.Bytes())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "prefork metrics: GET /metrics")
	})
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// listen binds the address. With retryInUse (a master started by USR2), an
// address still held by the old master is retried in the background.
func (s *metricsServer) listen(retryInUse bool) error {
	a, err := parseAddr(s.addr)
	if err != nil || a.network == "fd" {
		return fmt.Errorf("prefork: metrics-bind %q: must be host:port, [ipv6]:port or unix:/path: %w", s.addr, errInvalid)
	}
	if a.network == "unix" {
		return s.listenUnix(a.address)
	}
	ln, err := net.Listen("tcp", a.address)
	if err == nil {
		s.serve(ln)
		return nil
	}
	if !retryInUse || !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("prefork: metrics-bind %s: %w", s.addr, err)
	}
	s.log.Info("metrics listener busy (the old master holds it until it hands over); retrying", "addr", s.addr)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if ln, err := net.Listen("tcp", a.address); err == nil {
				s.serve(ln)
				s.log.Info("metrics listener bound", "addr", s.addr)
				return
			}
		}
	}()
	return nil
}

func (s *metricsServer) listenUnix(path string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return fmt.Errorf("prefork: metrics-bind %s: %w", s.addr, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return fmt.Errorf("prefork: metrics-bind %s: %w", s.addr, err)
	}
	s.path = path
	s.info, _ = os.Lstat(path)
	s.serve(ln)
	return nil
}

func (s *metricsServer) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		ln.Close()
		return
	default:
	}
	s.ln = ln
	close(s.bound)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener failed", "addr", s.addr, "err", err)
		}
	}()
}

// Close stops serving (safe to call twice, and on nil) and removes the unix
// socket unless a newer master has put its own at the path.
func (s *metricsServer) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		return
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
	if s.path != "" {
		if cur, err := os.Lstat(s.path); err == nil && s.info != nil && os.SameFile(cur, s.info) {
			os.Remove(s.path)
		}
	}
}

// ---- master hooks ----

// startMetrics binds --metrics-bind (called from startProduction, before the
// privilege drop, so a low port or a root-owned directory still works).
func (m *master) startMetrics() error {
	m.obs.agg = newMetricsAgg()
	if m.cfg.MetricsBind == "" {
		return nil
	}
	s := newMetricsServer(m.cfg.MetricsBind, m.scrape, m.log.Logger)
	if err := s.listen(m.obs.upgradeChild); err != nil {
		return err
	}
	m.obs.server = s
	m.log.Info("metrics listener", "addr", m.cfg.MetricsBind, "path", "/metrics")
	return nil
}

// scrape asks the loop for a view (from a metrics request's goroutine).
func (m *master) scrape() (metricsView, error) {
	var v metricsView
	err := m.ask(metricsScrapeTimeout, func(m *master) { v = m.metricsView(time.Now()) })
	return v, err
}

// serveProcessMetrics serves --metrics-bind from Serve's single process:
// the same families as the master's, over the one process that serves.
// nil when MetricsBind is not set.
func serveProcessMetrics(c Config, sp *servingProc, lns []net.Listener, names []string, lg *slog.Logger) (*metricsServer, error) {
	if c.MetricsBind == "" || sp.prod.metrics == nil {
		return nil, nil
	}
	started := time.Now()
	view := func() (metricsView, error) {
		age := time.Since(started).Seconds()
		rss, _ := readRSS(os.Getpid())
		v := metricsView{Bounds: c.MetricsBuckets, Totals: sp.prod.metrics.snapshot(), Target: 1, Generation: 1,
			States: map[string]int{"booting": 0, "ready": 1, "draining": 0}, Starts: 1, StartTime: started, PID: os.Getpid(),
			InFlight: int64(sp.srv.tracker.stats().InFlight), RSSSum: rss, RSSMax: rss, AgeMin: age, AgeMax: age,
			Backlog: backlogOf(lns, names)}
		return v, nil
	}
	s := newMetricsServer(c.MetricsBind, view, lg)
	if err := s.listen(false); err != nil {
		return nil, err
	}
	lg.Info("metrics listener", "addr", c.MetricsBind, "path", "/metrics")
	return s, nil
}
