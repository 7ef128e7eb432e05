package master

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// The OTLP push (--metrics-otlp-endpoint): the master holds the aggregate
// of every worker and generation, so it is the one that pushes, every
// MetricsOTLPInterval and once more as it stops (after the last worker's
// final report). Cumulative temporality: each push is the totals since the
// master started, so a push that fails loses nothing but its timeliness. A
// push never holds the master's loop: the view is copied on the loop (ask)
// and sent from the pusher's own goroutine.

// otlpPushTimeout bounds one POST.
const otlpPushTimeout = 5 * time.Second

type otlpPusher struct {
	url      string
	interval time.Duration
	res      observe.Resource
	view     func() (observe.MetricsView, error)
	client   *http.Client
	log      *slog.Logger
	stop     chan struct{}
	done     chan struct{}
	failing  bool
}

// otlpMetricsURL is endpoint's /v1/metrics (OTLP/HTTP's signal path).
func otlpMetricsURL(endpoint string) string { return strings.TrimRight(endpoint, "/") + "/v1/metrics" }

// otlpResource is service.name and service.version: the program's
// (ServiceName, ServiceVersion), else $OTEL_SERVICE_NAME, else the binary's
// name; the version Go recorded in the binary when none is given.
func (c Config) otlpResource() observe.Resource {
	r := observe.Resource{ServiceName: c.ServiceName, ServiceVersion: c.ServiceVersion}
	if r.ServiceName == "" {
		r.ServiceName = os.Getenv("OTEL_SERVICE_NAME")
	}
	if r.ServiceName == "" {
		r.ServiceName = filepath.Base(os.Args[0])
	}
	if bi, ok := debug.ReadBuildInfo(); ok && r.ServiceVersion == "" && bi.Main.Version != "" {
		r.ServiceVersion = bi.Main.Version
	}
	return r
}

func newOTLPPusher(c Config, view func() (observe.MetricsView, error), lg *slog.Logger) *otlpPusher {
	p := &otlpPusher{url: otlpMetricsURL(c.MetricsOTLPEndpoint), interval: c.MetricsOTLPInterval, res: c.otlpResource(), view: view,
		client: &http.Client{Timeout: otlpPushTimeout}, log: lg, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *otlpPusher) run() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			if v, err := p.view(); err == nil {
				p.push(v)
			}
		}
	}
}

// close stops the ticker and pushes final, the view as the master stops.
func (p *otlpPusher) close(final observe.MetricsView) {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.push(final)
}

// push sends one export; failures are logged when they start and when
// they end, not per push.
func (p *otlpPusher) push(v observe.MetricsView) {
	body, err := observe.EncodeOTLP(v, p.res, time.Now())
	if err == nil {
		err = p.post(body)
	}
	switch {
	case err != nil && !p.failing:
		p.failing = true
		p.log.Warn("OTLP metrics push failed; retrying every interval", "url", p.url, "err", err)
	case err == nil && p.failing:
		p.failing = false
		p.log.Info("OTLP metrics push recovered", "url", p.url)
	}
}

func (p *otlpPusher) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), otlpPushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", observe.ContentTypeOTLPJSON)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// startOTLP starts the pusher when an endpoint is set (startMetrics).
func (m *masterShell) startOTLP() {
	if m.cfg.MetricsOTLPEndpoint == "" {
		return
	}
	m.obs.otlp = newOTLPPusher(m.cfg, m.scrape, m.log.Logger)
	m.log.Info("OTLP metrics push", "url", m.obs.otlp.url, "interval", m.cfg.MetricsOTLPInterval)
}

// stopOTLP pushes the final figures (stopObservability, on the loop).
func (m *masterShell) stopOTLP() {
	if m.obs.otlp != nil {
		m.obs.otlp.close(m.metricsView(time.Now()))
		m.obs.otlp = nil
	}
}
