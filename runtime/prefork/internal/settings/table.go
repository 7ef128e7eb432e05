package settings

import (
	"flag"
	"strings"
)

// Setting is one command-line setting, with Gunicorn 27.0.1's name (as
// --print-config shows it), flags, section (as -h groups them), value name,
// default and meaning. A setting with noEffect is accepted, so a Gunicorn
// command line still starts, and reported once as having no effect.
type Setting struct {
	Section  string
	Name     string   // Gunicorn's setting name; "" for flags of this runtime only
	Key      string   // its key in config.yaml's server section; "" when it has none
	Flags    []string // short form first: "-b", "--bind"
	Meta     string   // value name in -h ("ADDRESS"); "" for a switch
	Optional []string // values a switch may also take (--proxy-protocol [MODE])
	Def      string   // the default -h shows, where the value's own (Config's default) does not say it
	Help     string
	NoEffect string // why it means nothing here and what to use instead
	Platform string // the variable that gives its default when nothing sets it ($PORT)
	Value    func(c *Values) flag.Value
}

// Sections in Gunicorn's order.
const (
	secSocket   = "Server Socket"
	secWorkers  = "Worker Processes"
	secSecurity = "Security"
	secDebug    = "Debugging"
	secMech     = "Server Mechanics"
	secLogging  = "Logging"
	secNaming   = "Process Naming"
	secSSL      = "SSL"
	secHTTP2    = "HTTP/2"
	secDirty    = "Dirty Arbiters"
	secControl  = "Control"
)

var SectionOrder = []string{"Config File", secSocket, secWorkers, secSecurity, secDebug, secMech, secLogging, secNaming, secSSL, secHTTP2, secDirty, secControl}

// Reasons shared by several settings that mean nothing in Go.
const (
	whyGoroutines = "each request already runs in its own goroutine; --worker-connections bounds concurrency"
	whyParser     = "Go's HTTP parser (net/http) has no leniency switches: it always refuses malformed requests"
	whyASGI       = "ASGI only: a Go handler sees a client's disconnect as r.Context() being done"
	whyDirty      = "Gunicorn's dirty arbiters run slow Python work apart; in Go run it on goroutines or a job queue"
	whyPaste      = "PasteDeploy is Python's; configure the server with -c DIR (config.yaml) and flags"
	whyTLS        = "Go's crypto/tls handles this itself; TLS 1.2 and 1.3 are offered (see --ciphers)"
)

// Table is every setting RegisterFlags and ParseArgs know, in -h order. A row
// is its schema on one line (section, names, YAML key, flags, value and rule:
// Value builds the flag.Value that parses into its field of Values) and its
// help on the next; a setting with no effect fits on one line. Any layout of
// the literal compiles; this one keeps a row's facts greppable on its line.
var Table = []Setting{
	{Section: secSocket, Name: "bind", Key: "bind", Flags: []string{"-b", "--bind"}, Meta: "ADDRESS", Platform: EnvPort, Value: func(c *Values) flag.Value { return &listFlag{p: &c.Bind, check: checkBind} },
		Help: "The socket to bind: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N; repeat for several."},
	{Section: secSocket, Name: "backlog", Key: "backlog", Flags: []string{"--backlog"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.Backlog, 0, 65535) },
		Help: "The maximum number of pending connections (capped by net.core.somaxconn); 0 = the default."},
	{Section: secWorkers, Name: "workers", Key: "workers", Flags: []string{"-w", "--workers"}, Meta: "INT", Def: "GOMAXPROCS", Platform: EnvWebConcurrency, Value: func(c *Values) flag.Value { return intValue(&c.Workers, 1, 1024) },
		Help: "The number of worker processes for handling requests."},
	{Section: secWorkers, Name: "worker_class", Flags: []string{"-k", "--worker-class"}, Meta: "STRING", Def: "sync", Help: "The type of workers to use.", NoEffect: "there is one kind of worker: a Go net/http server where " + whyGoroutines},
	{Section: secWorkers, Name: "threads", Flags: []string{"--threads"}, Meta: "INT", Def: "1", Help: "The number of worker threads for handling requests.", NoEffect: whyGoroutines},
	{Section: secWorkers, Name: "worker_connections", Key: "worker_connections", Flags: []string{"--worker-connections"}, Meta: "INT", Value: func(c *Values) flag.Value { return limitValue(&c.WorkerConnections, 0) },
		Help: "The maximum number of simultaneous client connections per worker; beyond it connections wait in the backlog. 0 = unlimited."},
	{Section: secWorkers, Name: "max_requests", Key: "max_requests", Flags: []string{"--max-requests"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.MaxRequests, 0, 0) },
		Help: "The maximum number of requests a worker will process before it is replaced (a ready replacement first); 0 = never."},
	{Section: secWorkers, Name: "max_requests_jitter", Key: "max_requests_jitter", Flags: []string{"--max-requests-jitter"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.MaxRequestsJitter, 0, 0) },
		Help: "The maximum random jitter added to each worker's --max-requests."},
	{Section: secWorkers, Name: "timeout", Key: "timeout", Flags: []string{"-t", "--timeout"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.Timeout) },
		Help: "Seconds a worker may be silent, or a request may run, before the worker is replaced (a stack dump first). 0 disables."},
	{Section: secWorkers, Name: "graceful_timeout", Key: "graceful_timeout", Flags: []string{"--graceful-timeout"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.GracefulTimeout) },
		Help: "Seconds to drain on stop, reload and recycling before a worker is killed."},
	{Section: secWorkers, Name: "shutdown_delay", Key: "shutdown_delay", Flags: []string{"--shutdown-delay"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.ShutdownDelay) },
		Help: "Seconds to keep serving after TERM (/readyz 503) before closing the listeners and draining, while load balancers stop sending; 0 disables."},
	{Section: secWorkers, Name: "keepalive", Key: "keep_alive", Flags: []string{"--keep-alive"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.KeepAlive) },
		Help: "Seconds to wait for requests on a Keep-Alive connection; 0 disables keep-alive."},
	{Section: secWorkers, Name: "max_worker_memory", Key: "max_worker_memory", Flags: []string{"--max-worker-memory"}, Meta: "SIZE", Value: func(c *Values) flag.Value { return byteSizeValue(&c.MaxWorkerMemory) },
		Help: `Replace a worker whose resident memory exceeds this ("512MiB", "1GB", bytes); 0 = never.`},
	{Section: secWorkers, Name: "canary_window", Key: "canary_window", Flags: []string{"--canary-window"}, Meta: "INT", Def: "0 (off)", Value: func(c *Values) flag.Value { return durationValue(&c.CanaryWindow) },
		Help: "Seconds a reload's new generation serves as a canary beside the current one before it is promoted or rolled back on its errors and latency; 0 = no canary."},
	{Section: secWorkers, Name: "canary_share", Key: "canary_share", Flags: []string{"--canary-share"}, Meta: "FRACTION", Def: "0 (one worker)", Value: func(c *Values) flag.Value {
		return fractionValue(&c.CanaryShare, 0, 1, "a fraction of the workers from 0 to 1")
	},
		Help: "The canary's share of the workers (0.25: a quarter, rounded up); 0 = one worker, an extra one beside the current generation."},
	{Section: secWorkers, Name: "canary_min_requests", Key: "canary_min_requests", Flags: []string{"--canary-min-requests"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.CanaryMinRequests, 0, 0) },
		Help: "Canary requests needed to judge; with fewer the window extends once, then the new generation is promoted."},
	{Section: secWorkers, Name: "canary_max_error_increase", Key: "canary_max_error_increase", Flags: []string{"--canary-max-error-increase"}, Meta: "POINTS", Value: func(c *Values) flag.Value {
		return fractionValue(&c.CanaryMaxErrorIncrease, 0, 100, "percentage points from 0 to 100")
	},
		Help: "Roll back when the canary's error rate (5xx, aborted requests) exceeds the current generation's by more than these percentage points."},
	{Section: secWorkers, Name: "canary_max_latency_ratio", Key: "canary_max_latency_ratio", Flags: []string{"--canary-max-latency-ratio"}, Meta: "RATIO", Value: func(c *Values) flag.Value {
		return fractionValue(&c.CanaryMaxLatencyRatio, 1, 1000, "a ratio from 1 to 1000")
	},
		Help: "Roll back when the canary's p50 (or, past 1000 requests a side, p99) latency exceeds this times the current generation's plus --canary-latency-floor."},
	{Section: secWorkers, Name: "canary_latency_floor", Key: "canary_latency_floor", Flags: []string{"--canary-latency-floor"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.CanaryLatencyFloor) },
		Help: "Seconds added to the latency limit, so a fast route's jitter is no regression; 0 = none."},
	{Section: secWorkers, Name: "asgi_loop", Flags: []string{"--asgi-loop"}, Meta: "STRING", Def: "auto", Help: "Event loop for ASGI workers.", NoEffect: whyASGI},
	{Section: secWorkers, Name: "asgi_lifespan", Flags: []string{"--asgi-lifespan"}, Meta: "STRING", Def: "auto", Help: "ASGI lifespan protocol.", NoEffect: whyASGI},
	{Section: secWorkers, Name: "asgi_disconnect_grace_period", Flags: []string{"--asgi-disconnect-grace-period"}, Meta: "INT", Def: "3", Help: "Seconds an ASGI app has after a disconnect.", NoEffect: whyASGI},
	{Section: secWorkers, Name: "http_parser", Flags: []string{"--http-parser"}, Meta: "STRING", Def: "auto", Help: "The HTTP parser implementation.", NoEffect: "net/http's parser is the only one"},

	{Section: secSecurity, Name: "limit_request_line", Flags: []string{"--limit-request-line"}, Meta: "INT", Value: func(c *Values) flag.Value { return limitValue(&c.LimitRequestLine, 8190) },
		Help: "The maximum size of the HTTP request line in bytes (414 beyond); 0 = unlimited, at most 8190."},
	{Section: secSecurity, Name: "limit_request_fields", Flags: []string{"--limit-request-fields"}, Meta: "INT", Value: func(c *Values) flag.Value { return limitValue(&c.LimitRequestFields, 32768) },
		Help: "The maximum number of HTTP header fields in a request (431 beyond); 0 = unlimited, at most 32768."},
	{Section: secSecurity, Name: "limit_request_field_size", Flags: []string{"--limit-request-field_size"}, Meta: "INT", Value: func(c *Values) flag.Value { return limitValue(&c.LimitRequestFieldSize, 0) },
		Help: "The maximum size of an HTTP header field in bytes (431 beyond); 0 = unlimited."},

	{Section: secDebug, Name: "reload", Flags: []string{"--reload"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.ReloadOnChange) },
		Help: "Roll the workers (as HUP does) when the binary on disk or a --reload-extra-file changes: deploy by copying a binary."},
	{Section: secDebug, Name: "reload_engine", Flags: []string{"--reload-engine"}, Meta: "STRING", Def: "auto", Help: "The implementation behind --reload.", NoEffect: "--reload checks the files' size and modification time every second; there is no engine to choose"},
	{Section: secDebug, Name: "reload_extra_files", Flags: []string{"--reload-extra-file"}, Meta: "FILES", Def: "[]", Value: func(c *Values) flag.Value { return &listFlag{p: &c.ReloadExtraFiles, what: "a file path"} },
		Help: "Also reload when this file changes (repeatable)."},
	{Section: secDebug, Name: "spew", Flags: []string{"--spew"}, Def: "False", Help: "Trace every line executed.", NoEffect: "Python line tracing; a Go stack dump is SIGABRT to a worker (see --timeout)"},
	{Section: secDebug, Name: "check_config", Flags: []string{"--check-config"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.CheckConfig) },
		Help: "Check the configuration and load the app once, then exit 0 (or 1 with the error)."},
	{Section: secDebug, Name: "print_config", Flags: []string{"--print-config"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.PrintConfig) },
		Help: "Print the configuration settings as fully resolved, then exit."},

	{Section: secMech, Name: "preload_app", Flags: []string{"--preload"}, Def: "False", Help: "Load application code before the worker processes are forked.", NoEffect: "workers are re-executed binaries, not forks: each builds the app itself; put once-only start-up work in the OnStarting hook"},
	{Section: secMech, Name: "sendfile", Flags: []string{"--no-sendfile"}, Def: "None", Help: "Disables the use of sendfile().", NoEffect: "Go's net/http decides on sendfile per response itself"},
	{Section: secMech, Name: "reuse_port", Flags: []string{"--reuse-port"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.ReusePort) },
		Help: "Set SO_REUSEPORT on the TCP sockets bound (and --health-bind), so another process can bind the same port."},
	{Section: secMech, Name: "chdir", Flags: []string{"--chdir"}, Meta: "CHDIR", Def: "the current directory", Value: func(c *Values) flag.Value { return anyText(&c.Chdir) },
		Help: "Change to this directory before anything else (before -c DIR is read, paths are relative to the start directory)."},
	{Section: secMech, Name: "daemon", Flags: []string{"-D", "--daemon"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.Daemon) },
		Help: "Daemonize the process: detach from the terminal; --pid names the detached master."},
	{Section: secMech, Name: "raw_env", Flags: []string{"-e", "--env"}, Meta: "ENV", Def: "[]", Value: func(c *Values) flag.Value { return &listFlag{p: &c.Env, what: "KEY=VALUE", check: CheckEnvPair} },
		Help: "Set an environment variable KEY=VALUE in the execution environment (repeatable)."},
	{Section: secMech, Name: "pidfile", Flags: []string{"-p", "--pid"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.PidFile) },
		Help: "A filename to write the master's PID to (removed on exit)."},
	{Section: secMech, Name: "worker_tmp_dir", Flags: []string{"--worker-tmp-dir"}, Meta: "DIR", Def: "None", Help: "A directory for the workers' heartbeat files.", NoEffect: "workers send heartbeats over a pipe, no file is written"},
	{Section: secMech, Name: "user", Flags: []string{"-u", "--user"}, Meta: "USER", Def: "the current user", Value: func(c *Values) flag.Value { return anyText(&c.User) },
		Help: "Switch worker processes (and the master, after binding) to this user, a name or uid."},
	{Section: secMech, Name: "group", Flags: []string{"-g", "--group"}, Meta: "GROUP", Def: "the current group", Value: func(c *Values) flag.Value { return anyText(&c.Group) },
		Help: "Switch worker processes (and the master, after binding) to this group, a name or gid."},
	{Section: secMech, Name: "umask", Flags: []string{"-m", "--umask"}, Meta: "INT", Def: "inherited", Value: func(c *Values) flag.Value { return text(&c.Umask, octal("umask", 0o777)) },
		Help: "A bit mask for the file mode of files the server writes, octal (0o027, 027) or decimal."},
	{Section: secMech, Name: "initgroups", Flags: []string{"--initgroups"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.Initgroups) },
		Help: "With --user, also switch to the user's supplementary groups from the group database."},
	{Section: secMech, Name: "bind_mode", Key: "bind_mode", Flags: []string{"--bind-mode"}, Meta: "MODE", Def: "by umask", Value: func(c *Values) flag.Value { return text(&c.BindMode, octal("bind-mode", 0o777)) },
		Help: "Octal mode of bound unix sockets, e.g. 0660 so a web server's group can connect."},
	{Section: secMech, Name: "bind_group", Flags: []string{"--bind-group"}, Meta: "GROUP", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.BindGroup) },
		Help: "Group owning bound unix sockets, name or gid (e.g. www-data for nginx)."},
	{Section: secMech, Name: "forwarded_allow_ips", Key: "forwarded_allow_ips", Flags: []string{"--forwarded-allow-ips"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.ForwardedAllowIPs, parseTrusted) },
		Help: `Front-ends whose X-Forwarded-For/-Proto/-Host are trusted: IPs, CIDRs, "*" or "none"; unix socket peers always.`},
	{Section: secMech, Name: "pythonpath", Flags: []string{"--pythonpath"}, Meta: "STRING", Def: "None", Help: "Directories to add to the Python path.", NoEffect: "there is no import path: the app is compiled into this binary"},
	{Section: secMech, Name: "paste", Flags: []string{"--paste", "--paster"}, Meta: "STRING", Def: "None", Help: "Load a PasteDeploy config file.", NoEffect: whyPaste},
	{Section: secMech, Name: "raw_paste_global_conf", Flags: []string{"--paste-global"}, Meta: "CONF", Def: "[]", Help: "Set a PasteDeploy global config variable.", NoEffect: whyPaste},
	{Section: secMech, Name: "proxy_protocol", Flags: []string{"--proxy-protocol"}, Meta: "MODE", Optional: []string{"auto", "off", "false", "true", "v1", "v2"},
		Help:  "Accept PROXY protocol headers from --proxy-allow-from peers: off, v1, v2 or auto (either; the default when given alone).",
		Value: func(c *Values) flag.Value { return &proxyProtocolFlag{c: c} }},
	{Section: secMech, Name: "proxy_allow_ips", Flags: []string{"--proxy-allow-from"}, Meta: "STRING", Def: "--forwarded-allow-ips", Value: func(c *Values) flag.Value { return text(&c.ProxyAllowFrom, parseTrusted) },
		Help: `Front-ends allowed to send PROXY protocol headers: IPs, CIDRs or "*"; unix socket peers always.`},
	{Section: secMech, Name: "protocol", Key: "protocol", Flags: []string{"--protocol"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.Protocol, choice("http", "uwsgi", "fastcgi")) },
		Help: "The protocol of incoming connections: http, uwsgi (nginx uwsgi_pass) or fastcgi (nginx fastcgi_pass)."},
	{Section: secMech, Name: "uwsgi_allow_ips", Flags: []string{"--uwsgi-allow-from"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.UwsgiAllowFrom, parseTrusted) },
		Help: `Peers allowed to send uwsgi or FastCGI requests: IPs, CIDRs or "*"; unix socket peers always.`},
	{Section: secMech, Name: "permit_obsolete_folding", Flags: []string{"--permit-obsolete-folding"}, Def: "False", Help: "Permit obsolete header folding.", NoEffect: whyParser},
	{Section: secMech, Name: "strip_header_spaces", Flags: []string{"--strip-header-spaces"}, Def: "False", Help: "Strip spaces before header colons.", NoEffect: whyParser},
	{Section: secMech, Name: "permit_unconventional_http_method", Flags: []string{"--permit-unconventional-http-method"}, Def: "False", Help: "Permit unusual HTTP methods.", NoEffect: whyParser},
	{Section: secMech, Name: "permit_unconventional_http_version", Flags: []string{"--permit-unconventional-http-version"}, Def: "False", Help: "Permit unusual HTTP versions.", NoEffect: whyParser},
	{Section: secMech, Name: "casefold_http_method", Flags: []string{"--casefold-http-method"}, Def: "False", Help: "Upper-case lower-case HTTP methods.", NoEffect: whyParser},
	{Section: secMech, Name: "forwarder_headers", Flags: []string{"--forwarder-headers"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.ForwarderHeaders, forwarderHeaders) },
		Help: "Upper-case header names a trusted front-end may set for the app: SCRIPT_NAME (the mount path, stripped from the request path), PATH_INFO, REMOTE_USER."},
	{Section: secMech, Name: "header_map", Flags: []string{"--header-map"}, Meta: "STRING", Def: "drop", Help: "How to map header names with underscores.", NoEffect: "Go hands the app every header under its own name; there is no CGI environment to collide in"},
	{Section: secMech, Name: "root_path", Flags: []string{"--root-path"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.RootPath, rootPath) },
		Help: "The path the app is mounted at behind a proxy (/api): stripped from request paths that start with it."},

	{Section: secLogging, Name: "accesslog", Flags: []string{"--access-logfile"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.AccessLog) },
		Help: `The access log file to write to, "-" for stdout.`},
	{Section: secLogging, Name: "access_log_buffer", Flags: []string{"--access-log-buffer"}, Meta: "SIZE", Value: func(c *Values) flag.Value { return bufferValue(&c.AccessLogBuffer) },
		Help: `Buffer access log lines up to this size ("4KiB", bytes; nginx's buffer=); 0 writes every line through. Buffered lines are lost if a worker is SIGKILLed.`},
	{Section: secLogging, Name: "access_log_flush", Flags: []string{"--access-log-flush"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.AccessLogFlush) },
		Help: "The longest a line waits in the access log buffer, in seconds (nginx's flush=)."},
	{Section: secLogging, Name: "statsd_host", Flags: []string{"--statsd-host"}, Meta: "STATSD_ADDR", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.StatsDHost) },
		Help: "The address of the StatsD server to send metrics to over UDP: HOST:PORT or unix:PATH."},
	{Section: secLogging, Name: "dogstatsd_tags", Flags: []string{"--dogstatsd-tags"}, Meta: "DOGSTATSD_TAGS", Value: func(c *Values) flag.Value { return anyText(&c.DogStatsDTags) },
		Help: "Tags appended to every StatsD metric, Datadog style: tag1:value1,tag2:value2."},
	{Section: secLogging, Name: "statsd_prefix", Flags: []string{"--statsd-prefix"}, Meta: "STATSD_PREFIX", Value: func(c *Values) flag.Value { return anyText(&c.StatsDPrefix) },
		Help: `Prefix of every StatsD metric name (a "." is added).`},
	{Section: secLogging, Name: "disable_redirect_access_to_syslog", Flags: []string{"--disable-redirect-access-to-syslog"}, Def: "False", Help: "Do not send the access log to syslog.", NoEffect: "the access log never goes to syslog here: only the error log follows --log-syslog"},
	{Section: secLogging, Name: "access_log_format", Flags: []string{"--access-logformat"}, Meta: "STRING", Def: "Gunicorn's combined format", Value: func(c *Values) flag.Value { return checked(&c.AccessLogFormat, CheckAccessLogFormat) },
		Help: `The access log format: Gunicorn atoms (%(h)s %(r)s ...) or "json".`},
	{Section: secLogging, Name: "errorlog", Flags: []string{"--error-logfile", "--log-file"}, Meta: "FILE", Value: func(c *Values) flag.Value { return anyText(&c.ErrorLog) },
		Help: `The error log file to write to, "-" for stderr.`},
	{Section: secLogging, Name: "loglevel", Flags: []string{"--log-level"}, Meta: "LEVEL", Value: func(c *Values) flag.Value { return text(&c.LogLevel, parseLevel) },
		Help: "The granularity of error log output: debug, info, warning, error or critical."},
	{Section: secLogging, Name: "capture_output", Flags: []string{"--capture-output"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.CaptureOutput) },
		Help: "Redirect the workers' stdout and stderr to the file in --error-logfile."},
	{Section: secLogging, Name: "logger_class", Flags: []string{"--logger-class"}, Meta: "STRING", Def: "gunicorn.glogging.Logger", Help: "The logger class.", NoEffect: "the log is Go's log/slog: set its format in -c DIR logging.yaml, or Config.Logger in Go"},
	{Section: secLogging, Name: "logconfig", Flags: []string{"--log-config"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.LogConfig) },
		Help: "The logging configuration file (the generated entry reads logging.yaml from -c DIR; this records the file in --print-config)."},
	{Section: secLogging, Name: "logconfig_json", Flags: []string{"--log-config-json"}, Meta: "FILE", Def: "None", Help: "A JSON logging configuration file.", NoEffect: "Python's logging.config format; the log is configured by -c DIR logging.yaml"},
	{Section: secLogging, Name: "syslog_addr", Flags: []string{"--log-syslog-to"}, Meta: "SYSLOG_ADDR", Value: func(c *Values) flag.Value { return checked(&c.SyslogTo, checkSyslogAddr) },
		Help: "Address to send syslog messages: unix://PATH[#stream|#dgram], udp://HOST:PORT or tcp://HOST:PORT."},
	{Section: secLogging, Name: "syslog", Flags: []string{"--log-syslog"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.Syslog) },
		Help: "Send the error log to syslog (--log-syslog-to)."},
	{Section: secLogging, Name: "syslog_prefix", Flags: []string{"--log-syslog-prefix"}, Meta: "SYSLOG_PREFIX", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.SyslogPrefix) },
		Help: `The syslog tag: "gunicorn.<prefix>" in Gunicorn, here "<prefix>", else --name, else the program.`},
	{Section: secLogging, Name: "syslog_facility", Flags: []string{"--log-syslog-facility"}, Meta: "SYSLOG_FACILITY", Value: func(c *Values) flag.Value { return text(&c.SyslogFacility, choice(syslogFacilityNames()...)) },
		Help: "Syslog facility name: user, daemon, local0..local7 and the other names of syslog(3)."},
	{Section: secLogging, Name: "enable_stdio_inheritance", Flags: []string{"-R", "--enable-stdio-inheritance"}, Def: "False", Help: "Enable stdio inheritance.", NoEffect: "workers always inherit the master's stdout and stderr (see --capture-output)"},
	{Section: secLogging, Name: "enable_backlog_metric", Flags: []string{"--enable-backlog-metric"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.EnableBacklogMetric) },
		Help: "Report the listen queue length through the metrics endpoint."},

	{Section: secNaming, Name: "proc_name", Flags: []string{"-n", "--name"}, Meta: "STRING", Def: "the program's name", Value: func(c *Values) flag.Value { return checked(&c.Name, checkProcName) },
		Help: `The process titles ps shows: "NAME: master", "NAME: worker 3 [gen 2]".`},

	{Section: secSSL, Name: "keyfile", Flags: []string{"--keyfile"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.KeyFile) },
		Help: "TLS private key file (PEM), with --certfile."},
	{Section: secSSL, Name: "certfile", Flags: []string{"--certfile"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.CertFile) },
		Help: "TLS certificate file (PEM): serve HTTPS, with --keyfile; re-read by new workers and on USR1."},
	{Section: secSSL, Name: "ssl_version", Flags: []string{"--ssl-version"}, Meta: "STRING", Def: "TLS", Help: "SSL version to use (deprecated in Gunicorn).", NoEffect: whyTLS},
	{Section: secSSL, Name: "cert_reqs", Flags: []string{"--cert-reqs"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.CertReqs, 0, 2) },
		Help: "Client certificates: 0 not asked, 1 verified when sent (optional), 2 required; verified against --ca-certs."},
	{Section: secSSL, Name: "ca_certs", Flags: []string{"--ca-certs"}, Meta: "FILE", Def: "None", Value: func(c *Values) flag.Value { return anyText(&c.CACerts) },
		Help: "CA certificates file (PEM) that client certificates are verified against."},
	{Section: secSSL, Name: "suppress_ragged_eofs", Flags: []string{"--suppress-ragged-eofs"}, Def: "True", Help: "Suppress ragged EOFs.", NoEffect: whyTLS},
	{Section: secSSL, Name: "do_handshake_on_connect", Flags: []string{"--do-handshake-on-connect"}, Def: "False", Help: "Handshake on connect.", NoEffect: whyTLS},
	{Section: secSSL, Name: "ciphers", Flags: []string{"--ciphers"}, Meta: "CIPHERS", Def: "Mozilla intermediate (TLS 1.2 AEAD + TLS 1.3)", Value: func(c *Values) flag.Value { return checked(&c.Ciphers, checkCiphers) },
		Help: "TLS 1.2 cipher suites, colon-separated OpenSSL or Go names (ECDHE-RSA-AES128-GCM-SHA256:...); TLS 1.3 suites are fixed."},

	{Section: secHTTP2, Name: "http_protocols", Flags: []string{"--http-protocols"}, Meta: "STRING", Value: func(c *Values) flag.Value { return text(&c.HTTPProtocols, httpProtocols) },
		Help: "HTTP versions to serve, comma-separated: h1, h2 (HTTP/2 by ALPN over TLS, or with --http2-cleartext)."},
	{Section: secHTTP2, Name: "http2_cleartext", Flags: []string{"--http2-cleartext"}, Meta: "STRING", Optional: []string{H2CPriorKnowledge, H2COff, "false", "true", H2CUpgrade, H2CBoth},
		Help: "Accept HTTP/2 over cleartext TCP (h2c), and by which mechanism: off; prior-knowledge (the connection opens with the HTTP/2 preface; the default when given alone); " +
			"upgrade (an HTTP/1.1 Upgrade: h2c request); both. Only peers in --forwarded-allow-ips get it: everyone else is served HTTP/1.x as if it were off. " +
			"Needs h2 in --http-protocols; over TLS HTTP/2 is negotiated by ALPN instead. " + H2CUpgradeNote + ".",
		Value: func(c *Values) flag.Value { return h2cValue(&c.HTTP2Cleartext) }},
	{Section: secHTTP2, Name: "http2_max_concurrent_streams", Flags: []string{"--http2-max-concurrent-streams"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.HTTP2MaxConcurrentStreams, 1, 1<<31-1) },
		Help: "Maximum concurrent HTTP/2 streams per connection."},
	{Section: secHTTP2, Name: "http2_initial_window_size", Flags: []string{"--http2-initial-window-size"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.HTTP2InitialWindowSize, 65535, 1<<31-1) },
		Help: "Initial HTTP/2 flow-control window per stream, in bytes (65535 to 2147483647)."},
	{Section: secHTTP2, Name: "http2_max_frame_size", Flags: []string{"--http2-max-frame-size"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.HTTP2MaxFrameSize, 16384, 1<<24-1) },
		Help: "Largest HTTP/2 frame payload accepted, in bytes (16384 to 16777215)."},
	{Section: secHTTP2, Name: "http2_max_header_list_size", Flags: []string{"--http2-max-header-list-size"}, Meta: "INT", Value: func(c *Values) flag.Value { return intValue(&c.HTTP2MaxHeaderListSize, 1, 0) },
		Help: "Largest HTTP/2 header list accepted, in bytes."},

	{Section: secDirty, Name: "dirty_apps", Flags: []string{"--dirty-app"}, Meta: "STRING", Def: "[]", Help: "Dirty arbiter apps.", NoEffect: whyDirty},
	{Section: secDirty, Name: "dirty_workers", Flags: []string{"--dirty-workers"}, Meta: "INT", Def: "0", Help: "Dirty workers.", NoEffect: whyDirty},
	{Section: secDirty, Name: "dirty_timeout", Flags: []string{"--dirty-timeout"}, Meta: "INT", Def: "300", Help: "Dirty timeout.", NoEffect: whyDirty},
	{Section: secDirty, Name: "dirty_threads", Flags: []string{"--dirty-threads"}, Meta: "INT", Def: "1", Help: "Dirty threads.", NoEffect: whyDirty},
	{Section: secDirty, Name: "dirty_graceful_timeout", Flags: []string{"--dirty-graceful-timeout"}, Meta: "INT", Def: "30", Help: "Dirty graceful timeout.", NoEffect: whyDirty},

	{Section: secControl, Name: "control_socket", Key: "control_socket", Flags: []string{"--control-socket"}, Meta: "PATH", Def: "None (off)", Value: func(c *Values) flag.Value { return checked(&c.ControlSocket, checkPath) },
		Help: "Unix socket of the master answering status, reload and scale commands (NAME status); a directory that cannot be created only warns."},
	{Section: secControl, Name: "control_socket_mode", Flags: []string{"--control-socket-mode"}, Meta: "INT", Value: func(c *Values) flag.Value { return text(&c.ControlSocketMode, octal("control-socket-mode", 0o777)) },
		Help: "Permission mode of the control socket, octal (0660 lets the group connect)."},
	{Section: secControl, Name: "control_socket_disable", Flags: []string{"--no-control-socket"}, Def: "False", Value: func(c *Values) flag.Value { return boolValue(&c.NoControlSocket) },
		Help: "Do not open the control socket, even when one is configured."},
	{Section: secControl, Name: "health_bind", Flags: []string{"--health-bind"}, Meta: "ADDRESS", Def: "None (off)", Value: func(c *Values) flag.Value { return text(&c.HealthBind, parseListenAddr) },
		Help: "Where the master serves /livez, /readyz and /startupz probes: HOST:PORT or unix:PATH."},
	{Section: secControl, Name: "metrics_bind", Key: "metrics_bind", Flags: []string{"--metrics-bind"}, Meta: "ADDRESS", Def: "None (off)", Value: func(c *Values) flag.Value { return text(&c.MetricsBind, parseListenAddr) },
		Help: "Where the master serves every worker's Prometheus metrics, GET /metrics: HOST:PORT or unix:PATH, never one of --bind's."},
	{Section: secControl, Name: "metrics_buckets", Flags: []string{"--metrics-buckets"}, Meta: "SECONDS", Def: "0.005,0.01,...,10", Value: func(c *Values) flag.Value { return bucketsValue(&c.MetricsBuckets) },
		Help: "Upper bounds of the request duration histogram, in seconds, comma-separated and ascending (the OpenTelemetry conventions' by default)."},
	{Section: secControl, Name: "metrics_otlp_endpoint", Flags: []string{"--metrics-otlp-endpoint"}, Meta: "URL", Def: "None (off)", Value: func(c *Values) flag.Value { return checked(&c.MetricsOTLPEndpoint, checkOTLPEndpoint) },
		Help: "An OTLP/HTTP base URL (http://HOST:4318) the master pushes every worker's metrics to, POST /v1/metrics."},
	{Section: secControl, Name: "metrics_otlp_interval", Flags: []string{"--metrics-otlp-interval"}, Meta: "INT", Def: "10", Value: func(c *Values) flag.Value { return durationValue(&c.MetricsOTLPInterval) },
		Help: "Seconds between the master's OTLP metrics pushes."},
	{Section: secControl, Name: "upgrade_timeout", Flags: []string{"--upgrade-timeout"}, Meta: "INT", Value: func(c *Values) flag.Value { return durationValue(&c.UpgradeTimeout) },
		Help: "Seconds a new master started by USR2 has to become ready before it is killed."},
}

// longName is a setting's --name (without dashes), its first long flag.
func (s *Setting) LongName() string {
	for _, f := range s.Flags {
		if strings.HasPrefix(f, "--") {
			return f[2:]
		}
	}
	return ""
}

// label is "-b/--bind", as errors name a setting.
func (s *Setting) Label() string { return strings.Join(s.Flags, "/") }

// settingByLong finds a setting by its long flag name (without dashes).
func ByLong(name string) *Setting {
	for i := range Table {
		if Table[i].LongName() == name {
			return &Table[i]
		}
	}
	panic("prefork: no setting --" + name)
}
