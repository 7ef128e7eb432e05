// Command bench measures scaffold's prefork runtime and dev loop against bare
// net/http, Gunicorn, uWSGI and air on this machine, in one run, on loopback,
// and writes bench/RESULTS.md, bench/results.png and bench/results.json.
//
//	go run ./bench            # full run, under ten minutes
//	go run ./bench -quick     # smoke run, about a minute
//	go run ./bench -from bench/results.json   # re-render the report only
//
// Run it from the repository root. Comparison tools that are missing are
// reported as not installed, with the command that installs them; the
// runtime's own figures never depend on them.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

//go:embed flaskapp/app.py
var flaskApp []byte

// Options are the command's flags.
type Options struct {
	Quick    bool
	Out      string
	From     string
	Only     string
	Servers  string // throughput: only servers whose name contains one of these
	Keep     bool
	Threads  int
	Conns    int
	Duration time.Duration
	Rounds   int
	Fault    time.Duration // length of the fault phase
	Steady   time.Duration // steady load before the faults
	Starts   int           // start-up runs per server
	// Gunicorn26 is the folder of Gunicorn 26.1's source (run as PYTHONPATH=DIR python3 -m
	// gunicorn); default $BENCH_GUNICORN26, else ../shared/peers/gunicorn-26.1 beside the repo.
	Gunicorn26 string

	root string // repository root
	tmp  string // scratch directory: binaries, generated project, pidfiles
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

var sections = []string{"throughput", "startup", "faults", "devloop", "micro"}

func run(args []string) error {
	o := &Options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.Quick, "quick", false, "smoke run (about a minute): 1s per case, one round")
	fs.StringVar(&o.Out, "out", "bench", "directory for RESULTS.md, results.png and results.json")
	fs.StringVar(&o.From, "from", "", "render the report and chart from this results.json, measuring nothing")
	fs.StringVar(&o.Only, "only", "", "comma-separated sections to run: "+strings.Join(sections, ","))
	fs.StringVar(&o.Servers, "servers", "", `throughput: only the servers whose name contains one of these comma-separated strings, e.g. "net/http,generated app w=2"`)
	fs.BoolVar(&o.Keep, "keep", false, "keep the scratch directory")
	fs.IntVar(&o.Threads, "t", 2, "wrk threads")
	fs.IntVar(&o.Conns, "c", 32, "connections (wrk and the fault load generator)")
	fs.DurationVar(&o.Duration, "d", 3*time.Second, "wrk duration per case and round (at most 5s)")
	fs.IntVar(&o.Rounds, "rounds", 5, "throughput rounds (the median is reported; single rounds on a shared machine vary by a factor of two)")
	fs.StringVar(&o.Gunicorn26, "gunicorn", os.Getenv("BENCH_GUNICORN26"), "folder of Gunicorn 26.1's source, run with Debian's python3 and Flask (default $BENCH_GUNICORN26, else ../shared/peers/gunicorn-26.1); \"not installed\" when absent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if o.Duration <= 0 || o.Duration > 5*time.Second {
		return fmt.Errorf("-d %s: must be more than 0 and at most 5s (each case is bounded)", o.Duration)
	}
	if o.Conns < 1 || o.Threads < 1 || o.Threads > o.Conns || o.Rounds < 1 {
		return fmt.Errorf("-t %d -c %d -rounds %d: need 1 <= threads <= connections and at least one round", o.Threads, o.Conns, o.Rounds)
	}
	for _, s := range splitList(o.Only) {
		if !slices.Contains(sections, s) {
			return fmt.Errorf("-only %q: unknown section %q (want some of %s)", o.Only, s, strings.Join(sections, ","))
		}
	}
	o.Steady, o.Fault, o.Starts = 2*time.Second, 5*time.Second, 5
	if o.Quick {
		o.Duration, o.Rounds, o.Steady, o.Fault, o.Starts = time.Second, 1, time.Second, 1500*time.Millisecond, 1
	}
	if o.From != "" {
		res, err := loadResults(o.From)
		if err != nil {
			return err
		}
		return writeOutputs(o, res, false)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	o.root = root
	if o.Gunicorn26 == "" {
		o.Gunicorn26 = filepath.Join(root, "..", "shared", "peers", "gunicorn-26.1")
	}
	if o.tmp, err = os.MkdirTemp("", "scaffold-bench-"); err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintf(os.Stderr, "bench: scratch directory %s kept\n", o.tmp)
	} else {
		defer os.RemoveAll(o.tmp)
	}

	res := &Results{Date: time.Now().UTC(), Quick: o.Quick, Machine: describeMachine()}
	res.Tools = findTools(o.Gunicorn26)
	res.Load = LoadSettings{Generator: "wrk", Threads: o.Threads, Conns: o.Conns, Duration: o.Duration.String(), Rounds: o.Rounds}
	if !res.tool("wrk").Installed {
		res.Load.Generator = "bench load generator"
	}
	for _, t := range res.Tools {
		if !t.Installed {
			res.note("%s: not installed (`%s`); its rows are left out.", t.Name, t.Install)
		}
	}

	logf("building the benchmark server and a freshly generated project in %s", o.tmp)
	servers, err := prepare(ctx, o, res)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range servers.cleanup {
			f()
		}
	}()
	want := func(s string) bool { return o.Only == "" || slices.Contains(splitList(o.Only), s) }
	steps := []struct {
		name string
		fn   func(context.Context, *Options, *Results, *serverSet) error
	}{
		{"throughput", measureThroughput},
		{"startup", measureStartup},
		{"faults", measureFaults},
		{"devloop", measureDevLoop},
		{"micro", measureMicro},
	}
	for _, st := range steps {
		if !want(st.name) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf("== %s", st.name)
		if err := st.fn(ctx, o, res, servers); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return writeOutputs(o, res, true)
}

func writeOutputs(o *Options, res *Results, withJSON bool) error {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if withJSON {
		if err := res.save(filepath.Join(o.Out, "results.json")); err != nil {
			return err
		}
	}
	md := filepath.Join(o.Out, "RESULTS.md")
	if err := writeAtomic(md, []byte(Report(res))); err != nil {
		return err
	}
	png := filepath.Join(o.Out, "results.png")
	if err := WriteChart(res, png); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	logf("wrote %s and %s", md, png)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func dirOf(p string) string { return filepath.Dir(p) }

// repoRoot is the scaffold module's directory; the benchmark builds from it.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from the scaffold repository (go run ./bench): no go.mod here")
	}
	b, err := os.ReadFile(mod)
	if err != nil || !strings.Contains(string(b), "module github.com/scaffoldgo/scaffold\n") {
		return "", fmt.Errorf("run from the scaffold repository (go run ./bench): %s is not scaffold's go.mod", mod)
	}
	return filepath.Dir(mod), nil
}

// productionApp is the generated app with its production defaults (access log,
// metrics, traces at the default sampling to a running Collector): issue 28's row.
const productionApp = "generated app w=2 production"

// serverSet is every server the scenarios may use, by name.
type serverSet struct {
	list    []*Server
	cleanup []func() // what prepare started beside the servers (the Collector)
	// collector receives the production rows' spans and metrics; nil when not installed
	collector *Collector
	// the servers the startup and fault scenarios use, one per family
	runtimeApp, gunicorn, gunicorn26, uwsgi *Server
}

func (s *serverSet) add(srv *Server) *Server {
	s.list = append(s.list, srv)
	return srv
}

// prepare builds the Go servers and lists every server that can run here.
func prepare(ctx context.Context, o *Options, res *Results) (*serverSet, error) {
	set := &serverSet{}
	hello := filepath.Join(o.tmp, "hello")
	build := exec.CommandContext(ctx, "go", "build", "-o", hello, "./bench/hello")
	build.Dir = o.root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./bench/hello: %v\n%s", err, out)
	}
	res.Commands = append(res.Commands, "go build -o hello ./bench/hello")

	// A freshly generated project: the runtime as vendored into users' code.
	appDir := filepath.Join(o.tmp, "benchapp")
	gen, err := project.Generate(project.Options{Name: "benchapp"})
	if err != nil {
		return nil, fmt.Errorf("project.Generate: %w", err)
	}
	if err := state.Commit(gen.Files, appDir, false); err != nil {
		return nil, err
	}
	appBin := filepath.Join(appDir, "benchapp")
	build = exec.CommandContext(ctx, "go", "build", "-o", appBin, "./wsgi")
	build.Dir = appDir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the generated project (GOFLAGS=-mod=mod GOPROXY=off go build ./wsgi): %v\n%s", err, out)
	}
	res.Commands = append(res.Commands,
		"scaffold new benchapp (project.Generate) && cd benchapp && GOFLAGS=-mod=mod GOPROXY=off go build -o benchapp ./wsgi")
	appEnv := []string{"APP_ENV=production", "APP_APP_STATIC_DIR=web/static", "APP_LOGGING_LEVEL=warn", "APP_LOGGING_ACCESS_LOG_ENABLED=false"}

	helloRoutes := map[string]string{"hello": "/hello", "json": "/json"}
	for _, w := range []int{1, 2, 4} {
		set.add(&Server{Name: fmt.Sprintf("runtime w=%d", w), Family: "runtime", Workers: w, Routes: helloRoutes, Forks: true,
			Argv: []string{hello, "-b", "{addr}", "-w", fmt.Sprint(w), "--pid", "{pidfile}", "--log-level", "warning"}})
	}
	set.add(&Server{Name: "net/http", Family: "net/http", Routes: helloRoutes, Argv: []string{hello, "-bare", "-b", "{addr}"}})
	// The same, in the runtime's process layout: 2 processes with GOMAXPROCS/2 each, on one
	// SO_REUSEPORT port. The generated app's w=2 rows run that way (each worker gets
	// GOMAXPROCS/workers), so their cost over bare net/http is read against this row.
	set.add(&Server{Name: "net/http w=2", Family: "net/http", Workers: 2, Forks: true, Routes: helloRoutes, Argv: []string{hello, "-bare", "-procs", "2", "-b", "{addr}"}})
	for _, w := range []int{1, 2, 4} {
		srv := set.add(&Server{Name: fmt.Sprintf("generated app w=%d", w), Family: "runtime", Workers: w, Forks: true,
			Routes: map[string]string{"json": "/api/hello"}, Dir: appDir, Env: appEnv,
			Argv: []string{appBin, "-c", "config", "-b", "{addr}", "-w", fmt.Sprint(w), "--pid", "{pidfile}", "--control-socket", "{pidfile}.ctl"}})
		if w == 4 {
			set.runtimeApp = srv
		}
	}
	// The generated project as operators run it: its production defaults are the JSON access
	// log to stdout, buffered, the master's metrics (--metrics-bind; pushed as OTLP to the
	// Collector too) and traces at the default sampling, 0.1, exported to a running
	// OpenTelemetry Collector. Each other row turns one thing off or up, and says so, to
	// price it. /healthz, the smallest route, is compared with the bare hello (route
	// "hello"), /api/hello with the bare JSON.
	prodEnv := []string{"APP_ENV=production", "APP_APP_STATIC_DIR=web/static", "APP_LOGGING_LEVEL=warn"}
	otelEnv := prodEnv
	collector, err := startCollector(ctx, o.tmp)
	if err != nil {
		return nil, err
	}
	if collector != nil {
		set.cleanup = append(set.cleanup, collector.stop)
		set.collector = collector
		otelEnv = append(slices.Clone(prodEnv), "APP_OBSERVABILITY_ENDPOINT="+collector.Endpoint)
	} else {
		res.note("%s not installed (.ci/build-otelcol): the production rows run without a Collector, tracing off", collectorTool)
	}
	prodRoutes := map[string]string{"hello": "/healthz", "json": "/api/hello"}
	metrics := []string{"--metrics-bind", "unix:{pidfile}.metrics"}
	for _, v := range []struct {
		name  string
		env   []string
		extra []string
	}{
		{productionApp, otelEnv, metrics},
		{productionApp + ", traces sampled 1.0", append(slices.Clone(otelEnv), "OTEL_TRACES_SAMPLER_ARG=1"), metrics},
		{productionApp + ", traces off", prodEnv, metrics},
		{productionApp + ", access log off", append(slices.Clone(otelEnv), "APP_LOGGING_ACCESS_LOG_ENABLED=false"), metrics},
		{productionApp + ", log unbuffered", otelEnv, append(slices.Clone(metrics), "--access-log-buffer", "0")},
		{productionApp + ", GOGC=100", append(slices.Clone(otelEnv), "GOGC=100"), metrics}, // Go's own pacing: no heap floor
	} {
		set.add(&Server{Name: v.name, Family: "runtime", Workers: 2, Forks: true,
			Routes: prodRoutes, Dir: appDir, Env: v.env, Exports: collector != nil && slices.Contains(v.env, "APP_OBSERVABILITY_ENDPOINT="+collector.Endpoint),
			Argv: append([]string{appBin, "-c", "config", "-b", "{addr}", "-w", "2", "--pid", "{pidfile}", "--control-socket", "{pidfile}.ctl"}, v.extra...)})
	}
	res.Commands = append(res.Commands,
		"APP_ENV=production APP_OBSERVABILITY_ENDPOINT=COLLECTOR benchapp -c config -b ADDR -w 2 --pid FILE --control-socket FILE.ctl --metrics-bind unix:FILE.metrics   # production defaults: JSON access log, metrics, traces sampled 0.1",
		"  ... with OTEL_TRACES_SAMPLER_ARG=1 | without APP_OBSERVABILITY_ENDPOINT (traces off) | APP_LOGGING_ACCESS_LOG_ENABLED=false | --access-log-buffer 0 | GOGC=100")
	res.Commands = append(res.Commands,
		"hello -b ADDR -w N --pid FILE --log-level warning    # runtime, N = 1, 2, 4",
		"hello -bare -b ADDR                                   # the same handler on net/http alone",
		"hello -bare -procs 2 -b ADDR                          # net/http alone in 2 processes (GOMAXPROCS/2 each) on one SO_REUSEPORT port",
		"APP_ENV=production benchapp -c config -b ADDR -w N --pid FILE --control-socket FILE.ctl   # the generated project (access log off)")

	if nginxInstalled() {
		for _, proto := range nginxProtocols {
			set.add(nginxServer(appBin, appDir, appEnv, proto))
		}
		res.Commands = append(res.Commands,
			"nginx (2 workers) -> benchapp -w 4 --protocol P on a unix socket, P = http (proxy_pass, keepalive 32), uwsgi (uwsgi_pass), fastcgi (fastcgi_pass)")
	} else {
		res.note("nginx not installed: the nginx -> app rows (http, uwsgi, fastcgi) are left out (apt-get install nginx)")
	}
	flaskDir := filepath.Join(o.tmp, "flaskapp")
	if err := os.MkdirAll(flaskDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(flaskDir, "app.py"), flaskApp, 0o644); err != nil {
		return nil, err
	}
	flaskRoutes := map[string]string{"hello": "/hello", "json": "/json"}
	if res.tool("gunicorn").Installed {
		set.gunicorn = set.add(&Server{Name: "gunicorn sync w=4", Family: "gunicorn", Workers: 4, Routes: flaskRoutes, Forks: true, Dir: flaskDir,
			Argv: []string{"gunicorn", "-w", "4", "-b", "{addr}", "--pid", "{pidfile}", "--log-level", "warning", "app:app"}})
		set.add(&Server{Name: "gunicorn gthread w=2x4", Family: "gunicorn", Workers: 2, Routes: flaskRoutes, Forks: true, Dir: flaskDir,
			Argv: []string{"gunicorn", "-k", "gthread", "-w", "2", "--threads", "4", "-b", "{addr}", "--pid", "{pidfile}", "--log-level", "warning", "app:app"}})
		res.Commands = append(res.Commands,
			"gunicorn -w 4 -b ADDR --pid FILE --log-level warning app:app                       # bench/flaskapp",
			"gunicorn -k gthread -w 2 --threads 4 -b ADDR --pid FILE --log-level warning app:app")
	}
	if res.tool("gunicorn 26.1").Installed {
		py := []string{"env", "PYTHONPATH=" + o.Gunicorn26, serverPython(), "-m", "gunicorn"}
		gunicorn26 := set.add(&Server{Name: "gunicorn 26.1 sync w=4", Family: "gunicorn", Workers: 4, Routes: flaskRoutes, Forks: true, Dir: flaskDir,
			Argv: append(slices.Clone(py), "-w", "4", "-b", "{addr}", "--pid", "{pidfile}", "--log-level", "warning", "--no-control-socket", "app:app")})
		set.add(&Server{Name: "gunicorn 26.1 gthread w=2x4", Family: "gunicorn", Workers: 2, Routes: flaskRoutes, Forks: true, Dir: flaskDir,
			Argv: append(slices.Clone(py), "-k", "gthread", "-w", "2", "--threads", "4", "-b", "{addr}", "--pid", "{pidfile}", "--log-level", "warning", "--no-control-socket", "app:app")})
		set.gunicorn26 = gunicorn26
		res.Commands = append(res.Commands,
			"PYTHONPATH=GUNICORN26 python3 -m gunicorn -w 4 -b ADDR --pid FILE --log-level warning --no-control-socket app:app",
			"PYTHONPATH=GUNICORN26 python3 -m gunicorn -k gthread -w 2 --threads 4 -b ADDR --pid FILE --log-level warning --no-control-socket app:app")
	}
	if res.tool("uwsgi").Installed {
		set.uwsgi = set.add(&Server{Name: "uwsgi w=4", Family: "uwsgi", Workers: 4, Routes: flaskRoutes, Forks: true, Dir: flaskDir,
			Argv: []string{"uwsgi", "--plugin", "python3", "--http-socket", "{addr}", "--master", "--processes", "4", "--wsgi-file", "app.py", "--callable", "app", "--disable-logging", "--add-header", "Connection: close", "--pidfile", "{pidfile}", "--die-on-term"}})
		res.Commands = append(res.Commands,
			"uwsgi --plugin python3 --http-socket ADDR --master --processes 4 --wsgi-file app.py --callable app --disable-logging --add-header 'Connection: close' --pidfile FILE --die-on-term")
	}
	return set, nil
}
