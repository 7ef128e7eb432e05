package master

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
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

// newMetricsServer serves view's figures at GET /metrics on addr. With
// retryInUse (a master started by USR2), a TCP address still held by the old
// master is retried in the background; a unix socket is bound under a
// temporary name and renamed over the path.
func newMetricsServer(addr string, view func() (observe.MetricsView, error), lg *slog.Logger, retryInUse bool) (*serving.SideServer, error) {
	a, err := settings.ParseAddr(addr)
	if err != nil || a.Network == "fd" {
		return nil, fmt.Errorf("prefork: metrics-bind %q: must be host:port, [ipv6]:port or unix:/path: %w", addr, settings.ErrInvalid)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		v, err := view()
		if err != nil {
			http.Error(w, "prefork: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		om := strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text")
		var b bytes.Buffer
		if err := observe.WriteExposition(&b, v, om); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", observe.ContentTypeExposition)
		if om { // exemplars need OpenMetrics
			w.Header().Set("Content-Type", observe.ContentTypeOpenMetrics)
		}
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.Write(b.Bytes())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "prefork metrics: GET /metrics")
	})
	s := serving.NewSideServer("metrics-bind", "metrics listener", addr, mux, lg)
	bind := func() (net.Listener, error) { return net.Listen("tcp", a.Address) }
	if a.Network == "unix" {
		bind = func() (net.Listener, error) {
			ln, info, err := serving.UnixSocketOver(a.Address, nil)
			if err != nil {
				return nil, err
			}
			return &ownedUnixListener{UnixListener: ln, path: a.Address, info: info}, nil
		}
	}
	inUse := func(err error) bool { return retryInUse && a.Network == "tcp" && errors.Is(err, syscall.EADDRINUSE) }
	if err := s.Start(bind, inUse); err != nil {
		return nil, err
	}
	return s, nil
}

// ownedUnixListener removes its socket file on Close unless a newer master
// has put its own at the path.
type ownedUnixListener struct {
	*net.UnixListener
	path string
	info os.FileInfo
}

func (l *ownedUnixListener) Close() error {
	err := l.UnixListener.Close()
	serving.RemoveUnixSocket(l.path, l.info)
	return err
}

// ---- master hooks ----

// startMetrics binds --metrics-bind (called from startProduction, before the
// privilege drop, so a low port or a root-owned directory still works).
func (m *masterShell) startMetrics() error {
	m.obs.agg = newMetricsAgg()
	m.startOTLP()
	if m.cfg.MetricsBind == "" {
		return nil
	}
	s, err := newMetricsServer(m.cfg.MetricsBind, m.scrape, m.log.Logger, m.obs.upgradeChild)
	if err != nil {
		return err
	}
	m.obs.server = s
	m.log.Info("metrics listener", "addr", m.cfg.MetricsBind, "path", "/metrics")
	return nil
}

// scrape asks the loop for a view (from a metrics request's goroutine).
func (m *masterShell) scrape() (observe.MetricsView, error) {
	var v observe.MetricsView
	err := m.ask(metricsScrapeTimeout, func(m *masterShell) { v = m.metricsView(time.Now()) })
	return v, err
}

// ServeProcessMetrics serves --metrics-bind from Serve's single process:
// the same families as the master's, over the one process that serves
// (snapshot: its request metrics). The OTLP push is the master's only.
// nil when MetricsBind is not set.
func ServeProcessMetrics(c settings.Values, snapshot func() observe.MetricsSnapshot, lns []net.Listener, names []string, lg *slog.Logger) (*serving.SideServer, error) {
	if c.MetricsBind == "" {
		return nil, nil
	}
	started := time.Now()
	view := func() (observe.MetricsView, error) {
		age := time.Since(started).Seconds()
		rss, _ := observe.ReadRSS(os.Getpid())
		v := observe.MetricsView{Bounds: c.MetricsBuckets, Totals: snapshot(), Target: 1, Generation: 1,
			States: map[string]int{"booting": 0, "ready": 1, "draining": 0}, Starts: 1, StartTime: started, PID: os.Getpid(),
			RSSSum: rss, RSSMax: rss, AgeMin: age, AgeMax: age,
			Backlog: backlogOf(lns, names)}
		return v, nil
	}
	s, err := newMetricsServer(c.MetricsBind, view, lg, false)
	if err != nil {
		return nil, err
	}
	lg.Info("metrics listener", "addr", c.MetricsBind, "path", "/metrics")
	return s, nil
}
