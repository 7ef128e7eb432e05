package prefork

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
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
	defer sp.Close()
	ms, err := serveProcessMetrics(c, sp, lns, names, lg.Logger)
	if err != nil {
		return err
	}
	defer ms.Close()
	srv := sp.Srv
	srv.Start()
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
			srv.Close()
		default:
			notify.Stopping()
			start := time.Now()
			if err := srv.Drain(off(c.GracefulTimeout), false); err != nil {
				lg.Warn("graceful timeout: in-flight requests cut", "after", supervisor.Dur(time.Since(start)))
			}
		}
		lg.Info("stopped", "signal", s.String())
		break
	}
	return nil
}

// addrs lists the listeners' addresses for logs.
func addrs(names []string) string { return strings.Join(names, ",") }

// newServingProc builds the serving process of app on lns (serving.NewServingProc) from
// cfg, a Config withDefaults applied.
// On error nothing stays open, the listeners included.
func newServingProc(cfg Config, app App, lns []net.Listener, names []string, lg *observe.Log) (*serving.ServingProc, bool, error) {
	sc, err := cfg.servingConfig()
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, false, err
	}
	return serving.NewServingProc(sc, func() (http.Handler, error) { return buildApp(app) }, lns, names, lg)
}

// servingConfig is what the serving chain takes of c (withDefaults applied):
// its settings, its hooks and the peer lists, parsed here, the one parse a
// serving process gives them.
func (c Config) servingConfig() (serving.Config, error) {
	peers, err := serving.ParsePeers(&c.Values)
	return serving.Config{Values: c.Values, Peers: peers,
		Hooks: serving.Hooks{Middleware: c.Middleware, LongLived: c.LongLived, OnDrain: c.OnDrain}}, err
}
