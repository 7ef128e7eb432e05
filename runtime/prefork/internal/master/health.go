package master

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
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

// listenHealth serves the probes on addr. A TCP socket has SO_REUSEPORT where
// the system has it, so a USR2 master binds it beside the old one; a unix
// socket that another live process holds (the master this one upgrades) is
// taken over in the background once it is free. Any other error is returned.
func listenHealth(addr string, query healthQuery, lg *slog.Logger) (*serving.SideServer, error) {
	s := serving.NewSideServer("health-bind", "health listener", addr, healthHandler(query), lg)
	a, err := settings.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	bind := func() (net.Listener, error) {
		if a.Network == "unix" {
			if err := serving.RemoveStaleSocket(a.Address); err != nil {
				return nil, err
			}
			return net.Listen("unix", a.Address)
		}
		lc := net.ListenConfig{Control: serving.SetReusePort}
		ln, err := lc.Listen(context.Background(), "tcp", a.Address)
		if err != nil && errors.Is(err, serving.ErrNoReusePort) {
			return net.Listen("tcp", a.Address)
		}
		return ln, err
	}
	if err := s.Start(bind, func(error) bool { return a.Network == "unix" }); err != nil {
		return nil, err
	}
	return s, nil
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
func (m *masterShell) queryHealth(wait time.Duration) (healthState, bool) {
	var st healthState
	err := m.ask(wait, func(m *masterShell) { st = healthOf(m.sup.View()) })
	return st, err == nil
}

// healthOf is what the probes report of the supervisor's view v.
func healthOf(v supervisor.View) healthState {
	return healthState{Started: v.Started, Stopping: v.Stopping,
		Ready: v.Ready, Target: v.Target, Generation: v.Generation, PID: os.Getpid()}
}
