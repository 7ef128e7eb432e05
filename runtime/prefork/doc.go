// Package prefork runs an HTTP application the way Gunicorn does, done the way
// Go must do it: a master process binds (or inherits) the listening sockets
// and re-executes its own binary as N worker processes that share them. The
// master never serves a request. It uses the standard library only.
//
//	func main() {
//		cfg := prefork.Config{Values: prefork.Values{Workers: 4}} // and Hooks
//		fs := flag.NewFlagSet("app", flag.ExitOnError)
//		parsed := cfg.RegisterFlags(fs)
//		fs.Parse(os.Args[1:])
//		if err := prefork.Run(cfg, web.New, parsed.NoEffect()...); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// Serve runs the same hardened server in one process (development entries,
// the dev runner's children). On systems without descriptor inheritance (not
// unix) Run falls back to Serve.
//
// # The tree
//
// This package is the public API (Run, Serve, Config, the command line, the
// control client, Inherited), the worker's loop (worker.go), and the glue
// that gives each internal package its own configuration type (master.go for
// the master's, serving.go for the serving chain's). Beneath it, in internal/
// so that users stay off the insides:
//
//   - internal/master: the master's shell, with its own Config (settings,
//     parsed modes, the master's hooks; Reload wrapped by the public package
//     to default and check what the program's Reload returns): the loop,
//     spawning workers and the configuration hand-over's encoding, the USR2
//     upgrade, systemd's notify protocol and watchdog, the control socket's
//     server and the status report (Status and its parts, which prefork
//     names as aliases), the health probes, the privilege drop, --chdir, -e,
//     -D and -n, the pid file, the --reload file watch, the metrics
//     aggregate, listener and OTLP push, the worker wire (status lines to
//     typed events, wait statuses to typed exits) and the signal constants;
//     only this package imports it;
//   - internal/supervisor: the master's policy, a pure state machine (no
//     os/exec, syscall, net or os/signal);
//   - internal/serving: the serving chain of a worker (and of Serve's single
//     process), built from its own serving.Config (the settings, the peer
//     lists parsed once, the hooks that run there: Middleware, LongLived,
//     OnDrain): the HTTP server and its drain, the strict HTTP/1 connection
//     reader and the request policy (Gunicorn 27's parser, with the request
//     corpus in its testdata), TLS and the certificate reload, listening and
//     the listener hand-over, the health and metrics side servers,
//     uwsgi/FastCGI, PROXY, forwarded headers, request IDs;
//   - internal/observe: the access log, request metrics and their exposition,
//     StatsD, memory readings, the runtime's log, and the request tracker a
//     worker reports from;
//   - internal/settings: the one settings schema: the table (each setting's
//     Gunicorn name, flags, config.yaml key, platform variable, section, help
//     and flag value type), the Gunicorn settings' defaults and checks, the one
//     parser of each kind of value (listen addresses, peer lists, durations,
//     sizes, octal modes, log levels, TLS ciphers, access log formats), one
//     generic flag value (value.go), -h's layout, --print-config's lines,
//     typo suggestions, and the settings' plain data (Values, which Config
//     embeds: what the master hands each worker and a reload replaces). It
//     imports nothing of the tree. Next to Values Config embeds Hooks, the
//     program's funcs, which never travel and which a reload keeps unless it
//     sets them; what a parse notes is a Parsed, apart from the Config. It
//     parses the command line into Values (ParseArgs, cli.go) and holds the
//     defaults of plain settings (Defaults, the platform variables', Check);
//     prefork's ParseArgs adds -h, whose defaults are a whole Config's, and
//     the control subcommands, and its withDefaults what needs the other
//     packages (production, canary, metrics, modes, peers).
//
// tree_test.go pins which package may import which. A generated project
// vendors the whole tree as internal/prefork, and `scaffold vendor` replaces
// it whole.
//
// # Invariants
//
// The master's policy lives in one place, the supervisor (internal/supervisor): a
// state machine with no processes, signals or clock of its own, stepped with
// events (a worker started, said ready, sent a heartbeat, exited; a signal;
// a control command; a tick with the time) and returning actions (start a
// worker, send it a command or a signal, notify systemd, log). The master's
// loop (internal/master/loop.go) turns what happens to the process into those events and
// carries the actions out. Each worker is in one phase: booting, ready,
// retiring (serving until its replacement is ready), draining, dumping
// (asked for its goroutines before a kill), aborting (SIGABRT sent) or
// killed; status views show it. The master is in one phase too: starting
// (until every start-up worker is ready: a boot failure then stops it),
// serving, reloading (the new generation replaces every older one),
// upgrading (a USR2 master boots), delaying (TERM's ShutdownDelay),
// stopping, handed over or quitting. One change at a time: USR2 is ignored
// while starting or reloading, HUP while a USR2 master boots (both logged).
// Events and actions are typed: the shell parses the worker's lines and
// classifies its wait status; readers get the view the supervisor publishes
// after each step. The invariants below are the supervisor's, each checked
// by a table test on a fake clock, and after every step of every test and
// of a fuzz test's random event sequences (internal/supervisor's tests).
//
//   - The master never serves, and it is the only holder of each worker's
//     control pipe: when the master dies, for any reason, every worker reads
//     EOF, drains and exits. No orphans, no Getppid polling, also as PID 1.
//     (As PID 1 the master reaps only its workers: processes that an app
//     orphans need an init such as tini or docker run --init.)
//   - The master is the only reader of the configuration: each worker takes
//     its master's Config, the program's own (ProgramConfig) included, over
//     a pipe (Inherited), never from files or the environment, so an edit
//     takes effect on HUP, USR2 or a restart, never when a worker happens to
//     be replaced (max-requests, a crash, a SIGKILL).
//   - At any time, outside start-up and stop, at least Workers workers that
//     reported ready are serving, or all workers are being replaced after
//     crashes. A worker is told to stop for a reload, max-requests, a stuck
//     request or a scale-down only once its replacement reported ready.
//   - A worker that dies is replaced at once. Only the app's own failures
//     (a boot that fails, an exit or crash of its own) count towards the
//     crash loop, which delays further starts; a serving worker SIGKILLed
//     from outside (an operator, the OOM killer) does not.
//   - "Ready" is an explicit message from the worker, sent after the App
//     factory returned and its listeners serve; never "the process started".
//   - A worker that stops is never left running: drain is bounded by
//     GracefulTimeout, after which it is asked for a goroutine dump and killed.
//   - One goroutine of the master owns all lifecycle state; each worker has
//     exactly one Wait.
//
// # Signals
//
// To the master:
//
//	TERM         graceful stop: connections already queued on the listeners are still
//	             accepted (until none came for 100ms, at most 1s), then listeners close and
//	             in-flight requests drain up to GracefulTimeout, then KILL. As Gunicorn
//	             27.0.1, kept-alive connections stay open up to 2 s (KeepAlive if less):
//	             a request on one is answered with "Connection: close"; then those still
//	             idle are closed. Recycling (max-requests, memory), HUP and TTOU drain
//	             the same way
//	INT, QUIT    quick stop: workers close at once
//	HUP          rolling reload: Config.Reload (if set) re-reads the configuration in the
//	             master, a new generation starts from the binary on disk with it, and
//	             each new worker's ready lets one old worker drain. A generation that
//	             fails to boot (exits, or is not ready within Timeout) is abandoned with
//	             the reason logged; the old workers keep serving. A configuration that
//	             does not load starts nothing: the error is logged once and the workers
//	             serve on. One that loads also applies to the master's own log (level,
//	             file, Logger). With CanaryWindow set the new generation is a canary
//	             first (see Canary reloads below)
//	TTIN / TTOU  one worker more / fewer (never below 1, the same rule for the control
//	             socket's ttou; the removed one drains)
//	USR1         reopen the error and access logs (master and workers), for logrotate
//	USR2         binary upgrade (see Production below)
//
// # Canary reloads
//
// With CanaryWindow (--canary-window, server.canary_window) set, a HUP (or
// the control socket's reload, or --reload) checks itself: the new
// generation starts with CanaryShare of the workers (rounded up; 0: one
// worker, an extra one) beside the current generation, which keeps its full
// strength; the reload's configuration is the canary's only, and becomes the
// master's on promotion. Once the canary's workers are ready the window
// opens: until the decision every worker closes a connection older than
// 250 ms after its response (kept-alive clients would stay with the
// workers they had; this way they come back through the listen queue the
// workers share a few times a second; closing after every response halved
// the throughput). The canary takes no more than its share of the window's
// requests: each canary worker may serve as many as the current
// generation's average worker reported serving in the window so far (the
// master's allow command); past that it answers with Connection: close and
// stops accepting until the next report raises it (the listen queue alone
// gave an idle new worker, or a build failing fast, up to 44% of the
// requests with one worker of three). Every worker reports at once when
// the window opens (that report, spanning the opening, is not counted) and
// every 200 ms until the decision, so the allowance follows the current
// generation closely. The master sums what each
// generation served in the window from the workers' heartbeats: requests
// completed, failures (5xx answers, requests a panic aborted: the
// connection is reset) and latency, in log-linear buckets 10% apart, kept
// whatever listeners are configured. At the window's end it compares the
// canary with the current generation over that same window:
//
//	error rate   rolled back above the current one + CanaryMaxErrorIncrease points (1)
//	p50, p99     rolled back above CanaryMaxLatencyRatio (1.5) x the current one + CanaryLatencyFloor
//	             (5ms); p99 once both sides served 1000 requests in the window (fewer: the p99 is
//	             one or two requests, noise)
//	traffic      under CanaryMinRequests (50) canary requests: the window extends once;
//	             still under: promoted, logged as not_enough_traffic (a quiet service is
//	             not held back; set the window long enough for your traffic)
//
// The error rate is also judged at every tick of the window once the canary
// has served CanaryMinRequests: over the limit, it rolls back then, not at
// the window's end (a build that fails fast answers faster than the old one
// and takes more than its share of the listen queue the workers share).
// A canary worker that crashes, is killed for a timeout or fails to boot
// rolls back at once; a reload during a canary supersedes it; TERM ends it.
// Promoted: the usual ready-gated rolling replacement (the canary's workers
// count as ready ones). Rolled back: the canary's workers drain, the current
// generation and configuration serve on, the reason is logged and counted
// (server_reload_decisions_total{decision,reason}) and shown by NAME status;
// NAME reload --wait (the generated unit's ExecReload) exits 1. systemd sees
// RELOADING=1 from the HUP to the decision, STATUS= lines with both
// generations' figures during the window, then READY=1. Window 0 (the
// default): a reload replaces every worker at once, as it always did.
//
// USR2 with a canary window: the new master starts only the canary's share
// of its workers beside the old master's (whose workers spread their
// clients while the upgrade runs); the old master sends it its totals once
// a second over a second upgrade pipe, and the new master judges its
// workers against them by the same rules. Promoted: it starts the rest and
// takes over as without a canary. Rolled back: it stops with the reason and
// exit status 1, and the old master, whose upgrade failed, serves on. The
// window must fit in UpgradeTimeout. After a rollback the binary on disk is
// still the new one: workers started later (recycling, a crash) run it, so
// restore the binary. A reload while the upgrade runs is refused: the old
// master ignores HUP (the new one loads the configuration as it starts), the
// new one ignores it while its canary decides (a new generation would muddle
// the decision), and NAME reload, with or without --wait, exits 1 saying so
// (the new master's control socket replaces the old one's as it starts) and
// shows its canary in NAME status.
//
// To a worker (normally only the master talks to workers, over their pipes):
// TERM drains, INT and QUIT quit at once (the worker tells the master, which
// replaces it without counting a crash), USR1 reopens logs; HUP, TTIN, TTOU,
// USR2 and WINCH are ignored, so signals sent to the process group (a
// terminal's Ctrl-C, supervisor's stopasgroup) behave.
//
// # Failures and timeouts
//
// A worker that exits unexpectedly is reaped at once and replaced. More than
// max(5, Workers) failures within 10s delay the next start, doubling from
// 0.5s up to 30s; 30s without a failure resets the delay. If workers fail to
// boot before any was ever ready, the master stops and Run returns the App
// factory's error (non-zero exit).
//
// A worker silent for longer than Timeout (no heartbeat) gets SIGABRT, which
// makes the Go runtime print every goroutine's stack, then KILL 2s later. A
// request running longer than Timeout gets its worker recycled: the worker
// logs its goroutines, a replacement starts and reports ready, the stuck one
// drains for GracefulTimeout and is then killed. Requests that are long by
// design (WebSocket upgrades and event streams by default, Config.LongLived)
// are never counted as stuck. A drain waits for them (hijacked connections
// included) up to GracefulTimeout; Config.OnDrain is the app's cue to end
// them. Every kill is logged with its
// reason and the worker's pid, age and request count.
//
// With MaxRequests, each worker's limit is MaxRequests plus a random
// 0..MaxRequestsJitter; reaching it starts a replacement, and the retiring
// worker keeps serving until that replacement is ready.
//
// # Listener hand-over protocol
//
// Any parent may hand listening sockets to a child running Run or Serve:
//
//	files, _ := prefork.ListenerFiles(lns)          // dup'd, close-on-exec, still non-blocking
//	cmd.ExtraFiles = files                           // fds 3, 4, ... in the child
//	cmd.Env = prefork.InheritEnv(files, names)       // PREFORK_LISTEN_FDS=N, PREFORK_LISTEN_NAMES=a,b
//
// PREFORK_LISTEN_FDS=N means the listeners are fds 3..3+N-1, and
// PREFORK_LISTEN_NAMES lists their addresses, comma-separated. systemd socket
// activation (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) is honoured the same
// way. A process that takes over listeners unsets these variables, so its own
// children inherit nothing. Inherited listeners take precedence over Bind.
//
// A worker is additionally started with PREFORK_WORKER_ID, PREFORK_GENERATION,
// PREFORK_STATUS_FD (fd 3+N: it writes "ready" or "fail <error>", then
// "hb <requests> <in-flight> <oldest-ms>" every min(1s, Timeout/4), each
// preceded, when the master serves metrics, by "metrics <json>" (one
// observe.MetricsSnapshot: the worker's cumulative request series, active
// requests, exemplars and Go runtime figures), and
// "dumped", "exiting <reason>"), PREFORK_CONTROL_FD (fd 4+N: it reads
// "drain" (a replacement is ready), "drain stop" (every worker stops: serve
// the listen backlog first), "quit", "dump <reason>", "reopen"; EOF means the
// master is gone), PREFORK_CONFIG_FD (fd 5+N: the master writes its
// effective Config as JSON, ProgramConfig and secrets included, then closes
// it; a pipe, as a variable is size-limited and shows in /proc/PID/environ)
// and PREFORK_MAX_REQUESTS.
// GOMAXPROCS is set to max(1, master's GOMAXPROCS / Workers) unless the user
// set it. Unless GOGC is set, a worker's heap goal is at least 16 MiB (twice
// its live heap when more), so a small heap under load is not collected some
// 50 times a second (heapfloor.go).
//
// # Production
//
// systemd (Type=notify, or notify-reload): with $NOTIFY_SOCKET set the master
// sends READY=1 once every start-up worker is ready, RELOADING=1 with
// MONOTONIC_USEC on HUP and READY=1 when the new generation serves (or was
// abandoned), STOPPING=1 on TERM/INT/QUIT, STATUS= (workers, generation,
// requests) as it changes, and WATCHDOG=1 every WATCHDOG_USEC/2 while its
// event loop answers. Workers never see NOTIFY_SOCKET. Socket activation:
// LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, nothing else is bound.
//
// USR2 binary upgrade (internal/master/upgrade.go): the binary on disk starts as a new master
// with the listeners (PREFORK_LISTEN_FDS) and a pipe (PREFORK_UPGRADE_FD);
// once its workers are ready it writes the pidfile, sends MAINPID= and
// READY=1, and reports "ready <pid>" on the pipe; the old master sends
// MAINPID=<new> too (enough with NotifyAccess=main), drains and exits 0 without
// STOPPING=1, leaving unix sockets and pidfile to the new one. A new master
// that exits or is not ready within UpgradeTimeout (default 60s) is killed
// and the old one carries on. Use KillMode=mixed (or process) so systemd does
// not kill the new master with the old one's cgroup peers.
//
// Workers wrap the app, outermost first: the request limits and accounting,
// forwarded headers (X-Forwarded-For, -Proto, -Host honoured only from
// ForwardedAllowIPs and unix socket peers, stripped from anyone else), the
// access log (Gunicorn atoms or "json", escaped so no request can forge a
// field or a line; reopened on USR1), Config.Middleware, the app. Listeners are wrapped with the
// PROXY protocol (v1/v2, same allow-list, header read with a 5s deadline
// outside Accept) and TLS (CertFile/KeyFile; TLS 1.2+, h2; every new worker
// reads the files, so HUP picks up a renewed certificate, and USR1 re-reads
// them in running workers).
//
// MaxWorkerMemory: the master reads each worker's RSS (/proc/PID/statm) every
// second and recycles one over the limit like MaxRequests (replacement ready
// first). ControlSocket: a unix socket (0600) answering "status", "reload",
// "ttin", "ttou" with a JSON Status; RunControlCommand gives a program the
// "status", "reload", "scale-up [N]", "scale-down [N]" subcommands.
// HealthBind: the master (never a worker, never on the app's listeners)
// serves probes for Kubernetes and load balancers: /livez answers 200 while
// its event loop answers within a second; /readyz 200 once every start-up
// worker was ready, while at least one worker is ready and no stop has begun
// (503 from TERM on, so endpoints drop the pod while it drains); /startupz 200
// once start-up is done. ShutdownDelay (--shutdown-delay): after TERM the
// master answers /readyz 503 at once but closes nothing and drains nobody
// for that long, so endpoints and proxies stop sending first (Kubernetes
// before the preStop sleep action, images with no sleep to exec); a second
// TERM, INT or QUIT cuts it short. A TCP health socket always has SO_REUSEPORT, so a
// USR2 master binds it beside the old one. ReusePort sets SO_REUSEPORT on the
// app's TCP sockets too (two pods of one host port during a rollout); with it,
// set Linux's net.ipv4.tcp_migrate_req=1 (the master warns while it is 0), or
// connections queued on a socket as it closes are reset instead of moved to
// another socket of the group.
// User/Group: unix sockets are bound (and given BindMode/BindGroup), the
// control socket and log files created and chowned, then the master drops to
// User/Group before starting any worker; Umask applies from the start.
//
// # Gunicorn's command line
//
// Config.ParseArgs reads a Gunicorn 27.0.1 command line (internal/settings'
// table.go holds every setting: its Gunicorn name, flags, section, value and default):
// $GUNICORN_CMD_ARGS first, split as a shell would, then the arguments,
// which win; -h groups the settings by Gunicorn's sections; a bad value is
// one line naming the flag, the value and the rule (UsageError, exit 2 by
// ExitCode); long flags are never abbreviated. Gunicorn settings with no
// meaning in Go (-k, --threads, --preload, --worker-tmp-dir, --paste,
// --pythonpath, the parser leniency switches, APP_MODULE) are accepted and
// reported once, at start-up and by --check-config, with why and what to
// use instead. RegisterFlags puts the same settings on a flag.FlagSet. What a
// parse notes (which settings it was given, those with no effect) is a
// Parsed it returns, never part of the Config: Run and Serve take its notes.
//
// Protocols: --protocol uwsgi turns each connection's uwsgi packet (nginx
// uwsgi_pass) into an HTTP/1.0 request for the same http.Server, so limits,
// timeouts, the access log and drains are HTTP's; REMOTE_ADDR, HTTPS and
// SERVER_PROTOCOL reach the request. --protocol fastcgi serves with
// net/http/fcgi (its REMOTE_ADDR and HTTPS too); its in-flight requests are
// tracked and drained like HTTP's, the per-connection read timeouts of
// net/http do not apply (an idle FastCGI connection is closed after Timeout
// plus KeepAlive). Both accept connections only from --uwsgi-allow-from
// (unix socket peers always); X-Forwarded-* are then believed only when
// REMOTE_ADDR itself is in --forwarded-allow-ips. HTTP/2: by ALPN over TLS
// with "h2" in --http-protocols (the default "h1,h2"), without TLS only with
// --http2-cleartext, and then only to peers in --forwarded-allow-ips (anyone
// else is served HTTP/1.x as if it were off, as in Gunicorn 26.2): its
// prior-knowledge and both modes serve a trusted peer's HTTP/2 preface;
// upgrade and both are accepted, but an Upgrade: h2c request is served over
// HTTP/1.1 (net/http has no h2c upgrade, RFC 9113 deprecated it), which -h
// and one start-up line say; the --http2-*
// limits map to http.HTTP2Config, --http2-max-header-list-size lowers
// MaxHeaderBytes. TLS: TLS 1.2 with DefaultCiphers (Mozilla intermediate, no
// CBC) and TLS 1.3, --ciphers to change the 1.2 list, --cert-reqs/--ca-certs
// for client certificates.
//
// Process settings: --chdir and -e apply in the master before anything
// starts; -D re-executes the command detached (setsid), the pidfile names the
// detached master; -n NAME re-executes the master in place as "NAME: master"
// and starts workers as "NAME: worker N [gen G]" (their real arguments travel
// in PREFORK_ARGV, restored before main); --reload checks the binary on disk
// and --reload-extra-file once a second and, once a change settled, steps the
// supervisor with the same rolling reload as HUP; --worker-connections holds
// Accept while a worker has that many connections, so further clients wait
// in the listen backlog (--backlog, set by listen(2) again on the socket);
// --initgroups gives workers the user's supplementary groups (otherwise only
// the group); --capture-output sends workers' stdout/stderr to the error log
// file; --log-syslog adds syslog (log/syslog) beside the error log. The
// control socket (--control-socket-mode, --no-control-socket) never stops the
// service: its directory is created when missing, and one that cannot be is a
// warning. EnableBacklogMetric is only stored, for the metrics endpoint.
//
// # Observability
//
// MetricsBind (--metrics-bind host:port or unix:/path, off by default): the
// master serves GET /metrics on its own listener, never one of the app's:
// the Prometheus text format, or OpenMetrics 1.0 when the scraper's Accept
// asks for application/openmetrics-text (Prometheus does), which adds
// exemplars. Workers count their requests by the OpenTelemetry HTTP
// semantic conventions (no lock a request waits on: a series per attribute
// set, found in a sync.Map, counted with atomics) and report the cumulative
// figures before each heartbeat (one observe.MetricsSnapshot). The master
// keeps the last report of every worker, and folds the final report of one
// that exits into the sums, so they never go backwards across HUP,
// recycling or a SIGKILL, and none are lost across HUP and recycling (a
// draining worker reports before it exits); a worker SIGKILLed loses only
// what it served since its last report (at most one heartbeat interval,
// 1 s). Request families (OTLP name, Prometheus name):
//
//	http.server.request.duration   http_server_request_duration_seconds   histogram, s, buckets 0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.5 0.75 1 2.5 5 7.5 10 (MetricsBuckets)
//	http.server.active_requests    http_server_active_requests            {http_request_method, url_scheme}
//	http.server.request.body.size  http_server_request_body_size_bytes    histogram, By
//	http.server.response.body.size http_server_response_body_size_bytes   histogram, By
//
// with http_request_method (well-known methods, else _OTHER),
// http_response_status_code, http_route, url_scheme and
// network_protocol_version. http_route is the ServeMux pattern's path
// (without method and host) the request matched, under --root-path or a
// trusted SCRIPT_NAME: the app's ServeMux sets r.Pattern on the request it
// is given, the runtime reads it after the app returns (or the app says it
// with SetRoute, when its mux sees a copy of the request). A request no
// pattern matched has no http_route (one series per method and status,
// never the raw path); past 1000 series a worker counts new ones under
// http_route "_OTHER". Each duration bucket carries, in OpenMetrics, the
// trace ID of its latest traced request as an exemplar: the app's tracing
// middleware calls SetTraceID, which the access log prints as trace_id too.
//
// MetricsOTLPEndpoint (--metrics-otlp-endpoint http://HOST:4318, off by
// default): the master, which holds the aggregate, pushes it as OTLP/HTTP
// JSON (POST /v1/metrics, written with the standard library) every
// MetricsOTLPInterval (10s) and once more as it stops, after the last
// worker's final report: cumulative temporality since the master started,
// resource service.name and service.version (Config.ServiceName and
// ServiceVersion; else $OTEL_SERVICE_NAME or the binary's name, and the
// version Go recorded), the same families under their OTLP names
// (server.workers, server.worker.starts, server.worker.exits,
// server.reloads, server.reload.decisions, server.workers.memory for the
// runtime's). A push that
// fails is logged once, and the next carries the totals.
//
// The runtime's own families: server_workers{phase} (booting, ready,
// draining), server_workers_target, server_generation,
// server_worker_starts_total, server_worker_exits_total{reason},
// server_reloads_total{outcome}, server_upgrades_total{outcome},
// server_reload_decisions_total{decision,reason} (canaries: promote with
// healthy or not_enough_traffic, rollback with errors, latency, crash,
// boot_failure, superseded or stopped),
// server_workers_resident_memory_bytes, server_worker_resident_memory_max_bytes,
// server_worker_age_{min,max}_seconds, server_workers_goroutines,
// server_workers_heap_objects_bytes, server_workers_gc_cycles_total,
// server_start_time_seconds (when the master booted), and on Linux
// server_listen_backlog{listener} and server_listen_backlog_limit
// (TCP_INFO, Gunicorn's --enable-backlog-metric). When the app reports
// its spans (ReportSpans), the sums of its export counts:
// otel_sdk_exporter_span_exported_total (error_type="export_failed":
// dropped by a failed export) and otel_sdk_processor_span_processed_total
// (error_type="queue_full": dropped by a full queue), OpenTelemetry's SDK
// self-observability names (otel.sdk.exporter.span.exported,
// otel.sdk.processor.span.processed in the OTLP push).
// Exit reasons, reload and upgrade outcomes are the supervisor's own
// decisions (it emits them as actions; the loop's aggregator counts them):
// boot_failure, crash, killed (SIGKILL from outside), signal,
// heartbeat_timeout, max_requests, max_memory, stuck_request, reload,
// canary_rollback, scale_down, shutdown. Serve serves MetricsBind itself, from its one
// process. The control socket's status (NAME status) shows each worker's
// requests as the master last received them (at most one report old), its
// request rate over the last 10 s, and over its life the p50/p99 latency
// bounds and 5xx count, from the same reports. StatsD (--statsd-host,
// --statsd-prefix, --dogstatsd-tags) sends Gunicorn's names over UDP, never
// blocking a request (internal/observe).
//
// Every request gets an ID (internal/serving/requestid.go): a well-formed X-Request-ID from
// a trusted proxy is kept, anything else replaced by 32 hex digits (the
// worker's random prefix and a counter: never repeated in a worker); it is
// in the response, the access log (%({X-Request-Id}i)s, JSON "request_id")
// and the request context (RequestID). That context, made once per request,
// has one slot for the app (SetContextValue): the generated tracing
// middleware keeps the request's span there instead of copying the request
// for a new context.
//
// Requests are held to Gunicorn 27's parser before the app sees them, on
// every path in, with Gunicorn's status codes: internal/serving's doc says
// how.
//
// The access log is buffered (AccessLogBuffer, default 4096 bytes, one
// atomic pipe write; AccessLogFlush, default 1s, nginx's buffer=/flush=),
// flushed on reopen (USR1) and exit; lines buffered when a worker is
// SIGKILLed are lost. --access-log-buffer 0 writes every line through. A
// worker keeps one buffer per P and a line takes the first free one, so no
// lock is shared by all of its requests (the buffers' writes are whole
// lines each, in order within each).
//
// # Defaults
//
// Bind 127.0.0.1:8000 (0.0.0.0:$PORT when PORT is set); Workers
// $WEB_CONCURRENCY, else GOMAXPROCS; Timeout 30s; GracefulTimeout 30s;
// KeepAlive 5s; ReadHeaderTimeout 10s (or Timeout if shorter);
// LimitRequestLine 4094 (414 beyond), LimitRequestFields 100,
// LimitRequestFieldSize 8190 (431 beyond); ErrorLog "-" (stderr); LogLevel
// info. Negative durations and limits mean off; the flags map Gunicorn's 0 to
// that.
package prefork
