// Command hello is the benchmark's server: two tiny routes, served either by the
// prefork runtime (master + workers, Gunicorn's flags) or, with -bare, by a plain
// net/http server in one process, so the two differ only in the server around
// the same handler.
//
//	hello -b 127.0.0.1:8000 -w 2      # runtime, 2 workers
//	hello -bare -b 127.0.0.1:8000     # net/http alone
//	hello -bare -procs 2 -b 127.0.0.1:8000   # net/http in 2 processes on one SO_REUSEPORT port
//
// -procs N gives bare net/http the runtime's process layout: N processes, each with
// GOMAXPROCS = GOMAXPROCS/N (what the runtime gives each of N workers), the kernel
// spreading connections over them. It is the fair reference for the runtime's per-request
// cost: one process with GOMAXPROCS=2 pays for its Ps stealing work from each other, which
// two processes with one P each do not.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Handler serves GET /hello (text) and GET /json, the two routes every server
// in the benchmark answers with the same bytes (bench/flaskapp/app.py too).
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("Hello, world!\n"))
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "Hello, world!", "app": "bench"})
	})
	return mux
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "hello: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var cfg prefork.Config
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	parsed := cfg.RegisterFlags(fs)
	bare := fs.Bool("bare", false, "serve with net/http alone, in this process (first -b address)")
	procs := fs.Int("procs", 1, "with -bare: serve from this many processes sharing the port (SO_REUSEPORT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*bare {
		return prefork.Run(cfg, func() (http.Handler, error) { return Handler(), nil }, parsed.NoEffect()...)
	}
	if len(cfg.Bind) == 0 {
		return errors.New("-bare needs -b host:port")
	}
	if *procs < 1 {
		return fmt.Errorf("-procs %d: must be at least 1", *procs)
	}
	if *procs > 1 {
		return runProcs(*procs, cfg.Bind[0])
	}
	lc := net.ListenConfig{Control: reusePort}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Bind[0])
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Handler()}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runProcs starts n copies of this server (each a single -bare process on addr with
// GOMAXPROCS/n Ps) and waits for them; SIGTERM or SIGINT is passed on.
func runProcs(n int, addr string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	procs := strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/n))
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		c := exec.Command(exe, "-bare", "-b", addr)
		c.Env = append(os.Environ(), "GOMAXPROCS="+procs)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Start(); err != nil {
			for _, started := range cmds[:i] {
				_ = started.Process.Kill()
			}
			return err
		}
		cmds[i] = c
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		for _, c := range cmds {
			_ = c.Process.Signal(sig)
		}
	}()
	var errs []error
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
