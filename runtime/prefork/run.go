package prefork

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Run runs the master, or a worker when started by a master (decided by the
// environment the master sets). The master returns nil after a stop by signal
// and an error when workers fail to boot at start-up (the App's message) or
// the configuration is invalid. With CheckConfig or PrintConfig it returns
// without serving. On systems without descriptor inheritance (not unix) it
// runs Serve instead.
func Run(cfg Config, app App) error {
	if isWorker() {
		return runWorker(cfg, app)
	}
	if !preforkSupported {
		return Serve(cfg, app) // no descriptor inheritance here: one process
	}
	c, done, err := prepare(cfg, app)
	if done || err != nil {
		return err
	}
	return runMaster(c)
}

// Serve runs app in this one process, without workers: on inherited listeners
// (PREFORK_LISTEN_FDS or systemd's LISTEN_FDS) or else cfg.Bind. Once serving
// it sends READY=1 to $NOTIFY_SOCKET when set. TERM or INT stop it gracefully
// (up to GracefulTimeout), QUIT at once; it then returns nil. USR1 reopens the
// error log.
func Serve(cfg Config, app App) error {
	c, done, err := prepare(cfg, app)
	if done || err != nil {
		return err
	}
	lg, err := newLogging(c)
	if err != nil {
		return err
	}
	defer lg.close()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, sigUSR1)
	defer signal.Stop(sigs)
	lns, names, _, err := listen(c.Bind, c.ReusePort)
	if err != nil {
		return err
	}
	prod, err := newServing(c) // access log, TLS, PROXY protocol, forwarded headers
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	defer prod.close()
	lns = prod.listeners(lns)
	lg.also = append(lg.also, prod.reopen)
	h, err := buildApp(app)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return fmt.Errorf("prefork: app: %w", err)
	}
	c.Middleware = append([]func(http.Handler) http.Handler{prod.handler}, c.Middleware...) // outside the user's middleware
	srv := newHTTPServer(c, h, lns, names, lg)
	srv.start()
	notify := NewNotifier()
	os.Unsetenv("NOTIFY_SOCKET") // the app's own children must not speak for this service
	if err := notify.Ready("serving " + addrs(names)); err != nil {
		lg.Warn("readiness notification failed", "err", err)
	}
	lg.Info("serving", "pid", os.Getpid(), "listeners", addrs(names))
	for s := range sigs {
		switch s {
		case sigUSR1:
			if err := lg.reopen(); err != nil {
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
				lg.Warn("graceful timeout: in-flight requests cut", "after", time.Since(start).Round(time.Millisecond))
			}
		}
		lg.Info("stopped", "signal", s.String())
		break
	}
	return nil
}

// prepare applies defaults and handles --print-config and --check-config.
func prepare(cfg Config, app App) (Config, bool, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return c, true, err
	}
	var out io.Writer = os.Stdout
	if c.stdout != nil {
		out = c.stdout
	}
	if c.PrintConfig {
		c.printConfig(out)
		return c, true, nil
	}
	if c.CheckConfig {
		if _, err := buildApp(app); err != nil {
			return c, true, fmt.Errorf("prefork: check-config: app: %w", err)
		}
		fmt.Fprintln(out, "configuration OK")
		return c, true, nil
	}
	return c, false, nil
}
