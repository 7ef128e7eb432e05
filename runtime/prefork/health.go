package prefork

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// The master's probes (Config.HealthBind), for Kubernetes and load balancers.
// They are served by the master, never by a worker nor on the app's
// listeners, so no app route is hidden and each answer comes from the one
// process that sees every worker:
//
//	/livez     200 while the master's event loop answers within healthWait
//	/readyz    200 once start-up is done, while at least one worker is ready
//	           and no stop has begun (503 from the moment TERM arrives)
//	/startupz  200 once every start-up worker has been ready
//
// A worker replaced after a crash or recycled does not make the service
// unready while another serves: the listen backlog holds new connections for
// the replacement. A TCP health socket always has SO_REUSEPORT (where the
// system has it), so a new master started by USR2 binds it beside the old one.
const healthWait = time.Second

// healthState is what the probes report, read on the master's loop.
type healthState struct {
	Started    bool // every start-up worker was ready once
	Stopping   bool
	Ready      int // workers ready and not told to stop
	Target     int
	Generation int
	PID        int
}

// healthQuery asks the master's loop for its state; false when the loop did
// not answer within wait (stuck) or is gone.
type healthQuery func(wait time.Duration) (healthState, bool)

type healthServer struct {
	srv  *http.Server
	addr string
	log  *slog.Logger
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	ln     net.Listener
}

// listenHealth serves the probes on addr. A unix socket that another live
// process holds (the master this one upgrades with USR2) is taken over in
// the background once it is free; any other bind error is returned.
func listenHealth(addr string, query healthQuery, lg *slog.Logger) (*healthServer, error) {
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &healthServer{addr: addr, log: lg}
	h.srv = &http.Server{
		Handler:           healthHandler(query),
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       5 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	ln, err := bindHealth(addr)
	if err == nil {
		h.serve(ln)
		return h, nil
	}
	if a, _ := parseAddr(addr); a.network != "unix" {
		return nil, fmt.Errorf("prefork: health-bind %s: %w", addr, err)
	}
	lg.Warn("health probes not served yet: the address is taken; retrying until it is free", "health_bind", addr, "err", err)
	h.wg.Add(1)
	go h.retry()
	return h, nil
}

func bindHealth(addr string) (net.Listener, error) {
	a, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if a.network == "unix" {
		if err := removeStaleSocket(a.address); err != nil {
			return nil, err
		}
		return net.Listen("unix", a.address)
	}
	lc := net.ListenConfig{Control: setReusePort}
	ln, err := lc.Listen(context.Background(), "tcp", a.address)
	if err != nil && errors.Is(err, errNoReusePort) {
		return net.Listen("tcp", a.address)
	}
	return ln, err
}

func (h *healthServer) retry() {
	defer h.wg.Done()
	for {
		time.Sleep(100 * time.Millisecond)
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return
		}
		ln, err := bindHealth(h.addr)
		if err == nil {
			h.log.Info("health probes served", "health_bind", h.addr)
			h.serveLocked(ln)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

func (h *healthServer) serve(ln net.Listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.serveLocked(ln)
}

func (h *healthServer) serveLocked(ln net.Listener) {
	h.ln = ln
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.srv.Serve(ln)
	}()
}

// Close stops serving the probes; safe on nil and twice.
func (h *healthServer) Close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	h.srv.Close()
	h.wg.Wait()
}

func healthHandler(query healthQuery) http.Handler {
	mux := http.NewServeMux()
	probe := func(path string, judge func(healthState) (bool, string)) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			st, answered := query(healthWait)
			ok, text := false, "the master's event loop did not answer within "+healthWait.String()
			if answered {
				ok, text = judge(st)
			}
			if !ok {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			io.WriteString(w, text+"\n")
		})
	}
	counts := func(st healthState) string {
		return strconv.Itoa(st.Ready) + "/" + strconv.Itoa(st.Target) + " workers ready, generation " +
			strconv.Itoa(st.Generation) + ", master pid " + strconv.Itoa(st.PID)
	}
	probe("/livez", func(st healthState) (bool, string) {
		return true, "ok: " + counts(st)
	})
	probe("/startupz", func(st healthState) (bool, string) {
		if !st.Started {
			return false, "starting: " + counts(st)
		}
		return true, "started: " + counts(st)
	})
	probe("/readyz", func(st healthState) (bool, string) {
		switch {
		case st.Stopping:
			return false, "stopping: " + counts(st)
		case !st.Started:
			return false, "starting: " + counts(st)
		case st.Ready < 1:
			return false, "no worker ready: " + counts(st)
		}
		return true, "ready: " + counts(st)
	})
	return mux
}

// queryHealth runs on the health server's goroutines: it asks the loop.
func (m *master) queryHealth(wait time.Duration) (healthState, bool) {
	res := make(chan healthState, 1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case m.calls <- func(m *master) { res <- m.healthState() }:
	case <-m.done:
		return healthState{}, false
	case <-t.C:
		return healthState{}, false
	}
	select {
	case st := <-res:
		return st, true
	case <-t.C:
		return healthState{}, false
	}
}

// healthState is read on the loop.
func (m *master) healthState() healthState {
	st := healthState{Started: m.announced, Stopping: m.stopping != running, Target: m.target,
		Generation: m.gen, PID: os.Getpid()}
	for _, w := range m.workers {
		if w.state == stateReady && w.stopReason == "" {
			st.Ready++
		}
	}
	return st
}
