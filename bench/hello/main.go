// Command hello is the benchmark's server: two tiny routes, served either by the
// prefork runtime (master + workers, Gunicorn's flags) or, with -bare, by a plain
// net/http server in one process, so the two differ only in the server around
// the same handler.
//
//	hello -b 127.0.0.1:8000 -w 2      # runtime, 2 workers
//	hello -bare -b 127.0.0.1:8000     # net/http alone
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*bare {
		return prefork.Run(cfg, func() (http.Handler, error) { return Handler(), nil }, parsed.NoEffect()...)
	}
	if len(cfg.Bind) == 0 {
		return errors.New("-bare needs -b host:port")
	}
	ln, err := net.Listen("tcp", cfg.Bind[0])
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
