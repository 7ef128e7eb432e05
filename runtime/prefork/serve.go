package prefork

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Serve runs app in this one process, without workers: on inherited listeners
// (PREFORK_LISTEN_FDS or systemd's LISTEN_FDS) or else cfg.Bind. Once serving
// it sends READY=1 to $NOTIFY_SOCKET when set. TERM or INT stop it gracefully
// (up to GracefulTimeout), QUIT at once; it then returns nil. USR1 reopens the
// error log. notes are Run's: logged once, printed by --check-config.
func Serve(cfg Config, app App, notes ...string) error {
	c, done, err := prepare(cfg, app, notes, printOut)
	if done || err != nil {
		return err
	}
	lg, err := observe.NewLog(&c.Values, c.Logger)
	if err != nil {
		return err
	}
	defer lg.Close()
	master.ReportNoEffect(c.Values, notes, lg)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, master.SigUSR1)
	defer signal.Stop(sigs)
	lns, names, _, err := serving.Listen(c.Bind, c.ReusePort, c.Backlog)
	if err != nil {
		return err
	}
	sp, appFailed, err := newServingProc(c, app, lns, names, lg)
	if err != nil {
		if appFailed {
			return fmt.Errorf("prefork: app: %w", err)
		}
		return err
	}
	defer sp.close()
	ms, err := serveProcessMetrics(c, sp, lns, names, lg.Logger)
	if err != nil {
		return err
	}
	defer ms.Close()
	srv := sp.srv
	srv.start()
	notify := master.NotifierFromEnv()
	os.Unsetenv("NOTIFY_SOCKET") // the app's own children must not speak for this service
	if err := notify.Ready("serving " + addrs(names)); err != nil {
		lg.Warn("readiness notification failed", "err", err)
	}
	lg.Info("serving", "pid", os.Getpid(), "listeners", addrs(names))
	for s := range sigs {
		switch s {
		case master.SigUSR1:
			if err := lg.Reopen(); err != nil {
				lg.Error("reopen log", "err", err)
			}
			continue
		case syscall.SIGQUIT:
			notify.Stopping()
			srv.close()
		default:
			notify.Stopping()
			start := time.Now()
			if err := srv.drain(off(c.GracefulTimeout), false); err != nil {
				lg.Warn("graceful timeout: in-flight requests cut", "after", supervisor.Dur(time.Since(start)))
			}
		}
		lg.Info("stopped", "signal", s.String())
		break
	}
	return nil
}

// servingProc is a process that serves the app: Serve's single process or
// a worker. Both are built by newServingProc, the same way.
type servingProc struct {
	srv  *httpServer
	prod *servingChain
}

// newServingProc builds the app and the server around it on lns: PROXY
// protocol then TLS on the listeners, forwarded headers and the access log
// outside cfg.Middleware, both reopened with the log. appFailed tells the
// App factory's own error (returned as is) from the setup's. On error
// nothing stays open, the listeners included.
func newServingProc(cfg Config, app App, lns []net.Listener, names []string, lg *observe.Log) (sp *servingProc, appFailed bool, err error) {
	prod, setupErr := newServing(cfg)
	if setupErr == nil {
		prod.log = lg.Warn
		lns = prod.listeners(lns)
	}
	h, err := buildApp(app) // the app's error comes first: it says most
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
	return &servingProc{srv: newHTTPServer(cfg, h, lns, names, lg), prod: prod}, false, nil
}

func (sp *servingProc) close() { sp.prod.close() }
