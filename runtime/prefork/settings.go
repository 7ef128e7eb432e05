package prefork

import (
	"errors"
	"flag"
	"strconv"
	"strings"
)

// setting is one command-line setting, with Gunicorn 26.1's name (as
// --print-config shows it), flags, section (as -h groups them), value name,
// default and meaning. A setting with noEffect is accepted, so a Gunicorn
// command line still starts, and reported once as having no effect.
type setting struct {
	section  string
	name     string   // Gunicorn's setting name; "" for flags of this runtime only
	key      string   // its key in config.yaml's server section; "" when it has none
	flags    []string // short form first: "-b", "--bind"
	meta     string   // value name in -h ("ADDRESS"); "" for a switch
	optional []string // values a switch may also take (--proxy-protocol [MODE])
	def      string   // the default -h shows, where the value's own (Config's default) does not say it
	help     string
	noEffect string // why it means nothing here and what to use instead
	platform string // the variable that gives its default when nothing sets it ($PORT)
	value    func(c *Config) flag.Value
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

var sectionOrder = []string{"Config File", secSocket, secWorkers, secSecurity, secDebug, secMech, secLogging, secNaming, secSSL, secHTTP2, secDirty, secControl}

// Reasons shared by several settings that mean nothing in Go.
const (
	whyGoroutines = "each request already runs in its own goroutine; --worker-connections bounds concurrency"
	whyParser     = "Go's HTTP parser (net/http) has no leniency switches: it always refuses malformed requests"
	whyASGI       = "ASGI only: a Go handler sees a client's disconnect as r.Context() being done"
	whyDirty      = "Gunicorn's dirty arbiters run slow Python work apart; in Go run it on goroutines or a job queue"
	whyPaste      = "PasteDeploy is Python's; configure the server with -c DIR (config.yaml) and flags"
	whyTLS        = "Go's crypto/tls handles this itself; TLS 1.2 and 1.3 are offered (see --ciphers)"
)

// settings is every setting RegisterFlags and ParseArgs know, in -h order.
var settingTable = []setting{
	{section: secSocket, name: "bind", key: "bind", flags: []string{"-b", "--bind"}, meta: "ADDRESS", platform: EnvPort,
		help:  "The socket to bind: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N; repeat for several.",
		value: func(c *Config) flag.Value { return &bindFlag{list: &c.Bind} }},
	{section: secSocket, name: "backlog", key: "backlog", flags: []string{"--backlog"}, meta: "INT",
		help:  "The maximum number of pending connections (capped by net.core.somaxconn); 0 = the default.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.Backlog, max: 65535} }},
	{section: secWorkers, name: "workers", key: "workers", flags: []string{"-w", "--workers"}, meta: "INT", def: "GOMAXPROCS", platform: EnvWebConcurrency,
		help:  "The number of worker processes for handling requests.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.Workers, min: 1, max: 1024} }},
	{section: secWorkers, name: "worker_class", flags: []string{"-k", "--worker-class"}, meta: "STRING", def: "sync",
		help: "The type of workers to use.", noEffect: "there is one kind of worker: a Go net/http server where " + whyGoroutines},
	{section: secWorkers, name: "threads", flags: []string{"--threads"}, meta: "INT", def: "1",
		help: "The number of worker threads for handling requests.", noEffect: whyGoroutines},
	{section: secWorkers, name: "worker_connections", key: "worker_connections", flags: []string{"--worker-connections"}, meta: "INT",
		help:  "The maximum number of simultaneous client connections per worker; beyond it connections wait in the backlog. 0 = unlimited.",
		value: func(c *Config) flag.Value { return &limitFlag{p: &c.WorkerConnections} }},
	{section: secWorkers, name: "max_requests", key: "max_requests", flags: []string{"--max-requests"}, meta: "INT",
		help:  "The maximum number of requests a worker will process before it is replaced (a ready replacement first); 0 = never.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.MaxRequests} }},
	{section: secWorkers, name: "max_requests_jitter", key: "max_requests_jitter", flags: []string{"--max-requests-jitter"}, meta: "INT",
		help:  "The maximum random jitter added to each worker's --max-requests.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.MaxRequestsJitter} }},
	{section: secWorkers, name: "timeout", key: "timeout", flags: []string{"-t", "--timeout"}, meta: "INT",
		help:  "Seconds a worker may be silent, or a request may run, before the worker is replaced (a stack dump first). 0 disables.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.Timeout} }},
	{section: secWorkers, name: "graceful_timeout", key: "graceful_timeout", flags: []string{"--graceful-timeout"}, meta: "INT",
		help:  "Seconds to drain on stop, reload and recycling before a worker is killed.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.GracefulTimeout} }},
	{section: secWorkers, name: "shutdown_delay", key: "shutdown_delay", flags: []string{"--shutdown-delay"}, meta: "INT",
		help:  "Seconds to keep serving after TERM (/readyz 503) before closing the listeners and draining, while load balancers stop sending; 0 disables.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.ShutdownDelay} }},
	{section: secWorkers, name: "keepalive", key: "keep_alive", flags: []string{"--keep-alive"}, meta: "INT",
		help:  "Seconds to wait for requests on a Keep-Alive connection; 0 disables keep-alive.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.KeepAlive} }},
	{section: secWorkers, name: "max_worker_memory", key: "max_worker_memory", flags: []string{"--max-worker-memory"}, meta: "SIZE",
		help:  `Replace a worker whose resident memory exceeds this ("512MiB", "1GB", bytes); 0 = never.`,
		value: func(c *Config) flag.Value { return &byteSizeFlag{p: &c.MaxWorkerMemory} }},
	{section: secWorkers, name: "canary_window", key: "canary_window", flags: []string{"--canary-window"}, meta: "INT", def: "0 (off)",
		help:  "Seconds a reload's new generation serves as a canary beside the current one before it is promoted or rolled back on its errors and latency; 0 = no canary.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.CanaryWindow} }},
	{section: secWorkers, name: "canary_share", key: "canary_share", flags: []string{"--canary-share"}, meta: "FRACTION", def: "0 (one worker)",
		help: "The canary's share of the workers (0.25: a quarter, rounded up); 0 = one worker, an extra one beside the current generation.",
		value: func(c *Config) flag.Value {
			return &fractionFlag{p: &c.CanaryShare, max: 1, rule: "a fraction of the workers from 0 to 1"}
		}},
	{section: secWorkers, name: "canary_min_requests", key: "canary_min_requests", flags: []string{"--canary-min-requests"}, meta: "INT",
		help:  "Canary requests needed to judge; with fewer the window extends once, then the new generation is promoted.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.CanaryMinRequests} }},
	{section: secWorkers, name: "canary_max_error_increase", key: "canary_max_error_increase", flags: []string{"--canary-max-error-increase"}, meta: "POINTS",
		help: "Roll back when the canary's error rate (5xx, aborted requests) exceeds the current generation's by more than these percentage points.",
		value: func(c *Config) flag.Value {
			return &fractionFlag{p: &c.CanaryMaxErrorIncrease, max: 100, rule: "percentage points from 0 to 100"}
		}},
	{section: secWorkers, name: "canary_max_latency_ratio", key: "canary_max_latency_ratio", flags: []string{"--canary-max-latency-ratio"}, meta: "RATIO",
		help: "Roll back when the canary's p50 (or, past 1000 requests a side, p99) latency exceeds this times the current generation's plus --canary-latency-floor.",
		value: func(c *Config) flag.Value {
			return &fractionFlag{p: &c.CanaryMaxLatencyRatio, min: 1, max: 1000, rule: "a ratio from 1 to 1000"}
		}},
	{section: secWorkers, name: "canary_latency_floor", key: "canary_latency_floor", flags: []string{"--canary-latency-floor"}, meta: "INT",
		help:  "Seconds added to the latency limit, so a fast route's jitter is no regression; 0 = none.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.CanaryLatencyFloor} }},
	{section: secWorkers, name: "asgi_loop", flags: []string{"--asgi-loop"}, meta: "STRING", def: "auto", help: "Event loop for ASGI workers.", noEffect: whyASGI},
	{section: secWorkers, name: "asgi_lifespan", flags: []string{"--asgi-lifespan"}, meta: "STRING", def: "auto", help: "ASGI lifespan protocol.", noEffect: whyASGI},
	{section: secWorkers, name: "asgi_disconnect_grace_period", flags: []string{"--asgi-disconnect-grace-period"}, meta: "INT", def: "3",
		help: "Seconds an ASGI app has after a disconnect.", noEffect: whyASGI},
	{section: secWorkers, name: "http_parser", flags: []string{"--http-parser"}, meta: "STRING", def: "auto",
		help: "The HTTP parser implementation.", noEffect: "net/http's parser is the only one"},

	{section: secSecurity, name: "limit_request_line", flags: []string{"--limit-request-line"}, meta: "INT",
		help:  "The maximum size of the HTTP request line in bytes (414 beyond); 0 = unlimited, at most 8190.",
		value: func(c *Config) flag.Value { return &limitFlag{p: &c.LimitRequestLine, max: 8190} }},
	{section: secSecurity, name: "limit_request_fields", flags: []string{"--limit-request-fields"}, meta: "INT",
		help:  "The maximum number of HTTP header fields in a request (431 beyond); 0 = unlimited, at most 32768.",
		value: func(c *Config) flag.Value { return &limitFlag{p: &c.LimitRequestFields, max: 32768} }},
	{section: secSecurity, name: "limit_request_field_size", flags: []string{"--limit-request-field_size"}, meta: "INT",
		help:  "The maximum size of an HTTP header field in bytes (431 beyond); 0 = unlimited.",
		value: func(c *Config) flag.Value { return &limitFlag{p: &c.LimitRequestFieldSize} }},

	{section: secDebug, name: "reload", flags: []string{"--reload"}, def: "False",
		help:  "Roll the workers (as HUP does) when the binary on disk or a --reload-extra-file changes: deploy by copying a binary.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.ReloadOnChange} }},
	{section: secDebug, name: "reload_engine", flags: []string{"--reload-engine"}, meta: "STRING", def: "auto",
		help: "The implementation behind --reload.", noEffect: "--reload checks the files' size and modification time every second; there is no engine to choose"},
	{section: secDebug, name: "reload_extra_files", flags: []string{"--reload-extra-file"}, meta: "FILES", def: "[]",
		help:  "Also reload when this file changes (repeatable).",
		value: func(c *Config) flag.Value { return &listFlag{p: &c.ReloadExtraFiles, what: "a file path"} }},
	{section: secDebug, name: "spew", flags: []string{"--spew"}, def: "False",
		help: "Trace every line executed.", noEffect: "Python line tracing; a Go stack dump is SIGABRT to a worker (see --timeout)"},
	{section: secDebug, name: "check_config", flags: []string{"--check-config"}, def: "False",
		help:  "Check the configuration and load the app once, then exit 0 (or 1 with the error).",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.CheckConfig} }},
	{section: secDebug, name: "print_config", flags: []string{"--print-config"}, def: "False",
		help:  "Print the configuration settings as fully resolved, then exit.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.PrintConfig} }},

	{section: secMech, name: "preload_app", flags: []string{"--preload"}, def: "False",
		help: "Load application code before the worker processes are forked.", noEffect: "workers are re-executed binaries, not forks: each builds the app itself; put once-only start-up work in the OnStarting hook"},
	{section: secMech, name: "sendfile", flags: []string{"--no-sendfile"}, def: "None",
		help: "Disables the use of sendfile().", noEffect: "Go's net/http decides on sendfile per response itself"},
	{section: secMech, name: "reuse_port", flags: []string{"--reuse-port"}, def: "False",
		help:  "Set SO_REUSEPORT on the TCP sockets bound (and --health-bind), so another process can bind the same port.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.ReusePort} }},
	{section: secMech, name: "chdir", flags: []string{"--chdir"}, meta: "CHDIR", def: "the current directory",
		help:  "Change to this directory before anything else (before -c DIR is read, paths are relative to the start directory).",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.Chdir} }},
	{section: secMech, name: "daemon", flags: []string{"-D", "--daemon"}, def: "False",
		help:  "Daemonize the process: detach from the terminal; --pid names the detached master.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.Daemon} }},
	{section: secMech, name: "raw_env", flags: []string{"-e", "--env"}, meta: "ENV", def: "[]",
		help:  "Set an environment variable KEY=VALUE in the execution environment (repeatable).",
		value: func(c *Config) flag.Value { return &listFlag{p: &c.Env, what: "KEY=VALUE", check: checkEnvPair} }},
	{section: secMech, name: "pidfile", flags: []string{"-p", "--pid"}, meta: "FILE", def: "None",
		help:  "A filename to write the master's PID to (removed on exit).",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.PidFile} }},
	{section: secMech, name: "worker_tmp_dir", flags: []string{"--worker-tmp-dir"}, meta: "DIR", def: "None",
		help: "A directory for the workers' heartbeat files.", noEffect: "workers send heartbeats over a pipe, no file is written"},
	{section: secMech, name: "user", flags: []string{"-u", "--user"}, meta: "USER", def: "the current user",
		help:  "Switch worker processes (and the master, after binding) to this user, a name or uid.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.User} }},
	{section: secMech, name: "group", flags: []string{"-g", "--group"}, meta: "GROUP", def: "the current group",
		help:  "Switch worker processes (and the master, after binding) to this group, a name or gid.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.Group} }},
	{section: secMech, name: "umask", flags: []string{"-m", "--umask"}, meta: "INT", def: "inherited",
		help:  "A bit mask for the file mode of files the server writes, octal (0o027, 027) or decimal.",
		value: func(c *Config) flag.Value { return &octalFlag{p: &c.Umask, name: "umask", max: 0o777} }},
	{section: secMech, name: "initgroups", flags: []string{"--initgroups"}, def: "False",
		help:  "With --user, also switch to the user's supplementary groups from the group database.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.Initgroups} }},
	{section: secMech, name: "bind_mode", key: "bind_mode", flags: []string{"--bind-mode"}, meta: "MODE", def: "by umask",
		help:  "Octal mode of bound unix sockets, e.g. 0660 so a web server's group can connect.",
		value: func(c *Config) flag.Value { return &octalFlag{p: &c.BindMode, name: "bind-mode", max: 0o777} }},
	{section: secMech, name: "bind_group", flags: []string{"--bind-group"}, meta: "GROUP", def: "None",
		help:  "Group owning bound unix sockets, name or gid (e.g. www-data for nginx).",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.BindGroup} }},
	{section: secMech, name: "forwarded_allow_ips", key: "forwarded_allow_ips", flags: []string{"--forwarded-allow-ips"}, meta: "STRING",
		help:  `Front-ends whose X-Forwarded-For/-Proto/-Host are trusted: IPs, CIDRs, "*" or "none"; unix socket peers always.`,
		value: func(c *Config) flag.Value { return &trustedFlag{p: &c.ForwardedAllowIPs} }},
	{section: secMech, name: "pythonpath", flags: []string{"--pythonpath"}, meta: "STRING", def: "None",
		help: "Directories to add to the Python path.", noEffect: "there is no import path: the app is compiled into this binary"},
	{section: secMech, name: "paste", flags: []string{"--paste", "--paster"}, meta: "STRING", def: "None",
		help: "Load a PasteDeploy config file.", noEffect: whyPaste},
	{section: secMech, name: "raw_paste_global_conf", flags: []string{"--paste-global"}, meta: "CONF", def: "[]",
		help: "Set a PasteDeploy global config variable.", noEffect: whyPaste},
	{section: secMech, name: "proxy_protocol", flags: []string{"--proxy-protocol"}, meta: "MODE", optional: []string{"auto", "off", "false", "true", "v1", "v2"},
		help:  "Accept PROXY protocol headers from --proxy-allow-from peers: off, v1, v2 or auto (either; the default when given alone).",
		value: func(c *Config) flag.Value { return &proxyProtocolFlag{c: c} }},
	{section: secMech, name: "proxy_allow_ips", flags: []string{"--proxy-allow-from"}, meta: "STRING", def: "--forwarded-allow-ips",
		help:  `Front-ends allowed to send PROXY protocol headers: IPs, CIDRs or "*"; unix socket peers always.`,
		value: func(c *Config) flag.Value { return &trustedFlag{p: &c.ProxyAllowFrom} }},
	{section: secMech, name: "protocol", key: "protocol", flags: []string{"--protocol"}, meta: "STRING",
		help: "The protocol of incoming connections: http, uwsgi (nginx uwsgi_pass) or fastcgi (nginx fastcgi_pass).",
		value: func(c *Config) flag.Value {
			return &choiceFlag{p: &c.Protocol, choices: []string{"http", "uwsgi", "fastcgi"}}
		}},
	{section: secMech, name: "uwsgi_allow_ips", flags: []string{"--uwsgi-allow-from"}, meta: "STRING",
		help:  `Peers allowed to send uwsgi or FastCGI requests: IPs, CIDRs or "*"; unix socket peers always.`,
		value: func(c *Config) flag.Value { return &trustedFlag{p: &c.UwsgiAllowFrom} }},
	{section: secMech, name: "permit_obsolete_folding", flags: []string{"--permit-obsolete-folding"}, def: "False", help: "Permit obsolete header folding.", noEffect: whyParser},
	{section: secMech, name: "strip_header_spaces", flags: []string{"--strip-header-spaces"}, def: "False", help: "Strip spaces before header colons.", noEffect: whyParser},
	{section: secMech, name: "permit_unconventional_http_method", flags: []string{"--permit-unconventional-http-method"}, def: "False", help: "Permit unusual HTTP methods.", noEffect: whyParser},
	{section: secMech, name: "permit_unconventional_http_version", flags: []string{"--permit-unconventional-http-version"}, def: "False", help: "Permit unusual HTTP versions.", noEffect: whyParser},
	{section: secMech, name: "casefold_http_method", flags: []string{"--casefold-http-method"}, def: "False", help: "Upper-case lower-case HTTP methods.", noEffect: whyParser},
	{section: secMech, name: "forwarder_headers", flags: []string{"--forwarder-headers"}, meta: "STRING",
		help:  "Upper-case header names a trusted front-end may set for the app: SCRIPT_NAME (the mount path, stripped from the request path), PATH_INFO, REMOTE_USER.",
		value: func(c *Config) flag.Value { return &forwarderHeadersFlag{p: &c.ForwarderHeaders} }},
	{section: secMech, name: "header_map", flags: []string{"--header-map"}, meta: "STRING", def: "drop",
		help: "How to map header names with underscores.", noEffect: "Go hands the app every header under its own name; there is no CGI environment to collide in"},
	{section: secMech, name: "root_path", flags: []string{"--root-path"}, meta: "STRING",
		help:  "The path the app is mounted at behind a proxy (/api): stripped from request paths that start with it.",
		value: func(c *Config) flag.Value { return &rootPathFlag{p: &c.RootPath} }},

	{section: secLogging, name: "accesslog", flags: []string{"--access-logfile"}, meta: "FILE", def: "None",
		help:  `The access log file to write to, "-" for stdout.`,
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.AccessLog} }},
	{section: secLogging, name: "access_log_buffer", flags: []string{"--access-log-buffer"}, meta: "SIZE",
		help:  `Buffer access log lines up to this size ("4KiB", bytes; nginx's buffer=); 0 writes every line through. Buffered lines are lost if a worker is SIGKILLed.`,
		value: func(c *Config) flag.Value { return &bufferFlag{p: &c.AccessLogBuffer} }},
	{section: secLogging, name: "access_log_flush", flags: []string{"--access-log-flush"}, meta: "INT",
		help:  "The longest a line waits in the access log buffer, in seconds (nginx's flush=).",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.AccessLogFlush} }},
	{section: secLogging, name: "statsd_host", flags: []string{"--statsd-host"}, meta: "STATSD_ADDR", def: "None",
		help:  "The address of the StatsD server to send metrics to over UDP: HOST:PORT or unix:PATH.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.StatsDHost} }},
	{section: secLogging, name: "dogstatsd_tags", flags: []string{"--dogstatsd-tags"}, meta: "DOGSTATSD_TAGS",
		help:  "Tags appended to every StatsD metric, Datadog style: tag1:value1,tag2:value2.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.DogStatsDTags} }},
	{section: secLogging, name: "statsd_prefix", flags: []string{"--statsd-prefix"}, meta: "STATSD_PREFIX",
		help:  `Prefix of every StatsD metric name (a "." is added).`,
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.StatsDPrefix} }},
	{section: secLogging, name: "disable_redirect_access_to_syslog", flags: []string{"--disable-redirect-access-to-syslog"}, def: "False",
		help: "Do not send the access log to syslog.", noEffect: "the access log never goes to syslog here: only the error log follows --log-syslog"},
	{section: secLogging, name: "access_log_format", flags: []string{"--access-logformat"}, meta: "STRING", def: "Gunicorn's combined format",
		help:  `The access log format: Gunicorn atoms (%(h)s %(r)s ...) or "json".`,
		value: func(c *Config) flag.Value { return &accessFormatFlag{p: &c.AccessLogFormat} }},
	{section: secLogging, name: "errorlog", flags: []string{"--error-logfile", "--log-file"}, meta: "FILE",
		help:  `The error log file to write to, "-" for stderr.`,
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.ErrorLog} }},
	{section: secLogging, name: "loglevel", flags: []string{"--log-level"}, meta: "LEVEL",
		help:  "The granularity of error log output: debug, info, warning, error or critical.",
		value: func(c *Config) flag.Value { return &levelFlag{p: &c.LogLevel} }},
	{section: secLogging, name: "capture_output", flags: []string{"--capture-output"}, def: "False",
		help:  "Redirect the workers' stdout and stderr to the file in --error-logfile.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.CaptureOutput} }},
	{section: secLogging, name: "logger_class", flags: []string{"--logger-class"}, meta: "STRING", def: "gunicorn.glogging.Logger",
		help: "The logger class.", noEffect: "the log is Go's log/slog: set its format in -c DIR logging.yaml, or Config.Logger in Go"},
	{section: secLogging, name: "logconfig", flags: []string{"--log-config"}, meta: "FILE", def: "None",
		help:  "The logging configuration file (the generated entry reads logging.yaml from -c DIR; this records the file in --print-config).",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.LogConfig} }},
	{section: secLogging, name: "logconfig_json", flags: []string{"--log-config-json"}, meta: "FILE", def: "None",
		help: "A JSON logging configuration file.", noEffect: "Python's logging.config format; the log is configured by -c DIR logging.yaml"},
	{section: secLogging, name: "syslog_addr", flags: []string{"--log-syslog-to"}, meta: "SYSLOG_ADDR",
		help:  "Address to send syslog messages: unix://PATH[#stream|#dgram], udp://HOST:PORT or tcp://HOST:PORT.",
		value: func(c *Config) flag.Value { return &syslogAddrFlag{p: &c.SyslogTo} }},
	{section: secLogging, name: "syslog", flags: []string{"--log-syslog"}, def: "False",
		help:  "Send the error log to syslog (--log-syslog-to).",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.Syslog} }},
	{section: secLogging, name: "syslog_prefix", flags: []string{"--log-syslog-prefix"}, meta: "SYSLOG_PREFIX", def: "None",
		help:  `The syslog tag: "gunicorn.<prefix>" in Gunicorn, here "<prefix>", else --name, else the program.`,
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.SyslogPrefix} }},
	{section: secLogging, name: "syslog_facility", flags: []string{"--log-syslog-facility"}, meta: "SYSLOG_FACILITY",
		help:  "Syslog facility name: user, daemon, local0..local7 and the other names of syslog(3).",
		value: func(c *Config) flag.Value { return &choiceFlag{p: &c.SyslogFacility, choices: syslogFacilityNames()} }},
	{section: secLogging, name: "enable_stdio_inheritance", flags: []string{"-R", "--enable-stdio-inheritance"}, def: "False",
		help: "Enable stdio inheritance.", noEffect: "workers always inherit the master's stdout and stderr (see --capture-output)"},
	{section: secLogging, name: "enable_backlog_metric", flags: []string{"--enable-backlog-metric"}, def: "False",
		help:  "Report the listen queue length through the metrics endpoint.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.EnableBacklogMetric} }},

	{section: secNaming, name: "proc_name", flags: []string{"-n", "--name"}, meta: "STRING", def: "the program's name",
		help:  `The process titles ps shows: "NAME: master", "NAME: worker 3 [gen 2]".`,
		value: func(c *Config) flag.Value { return &procNameFlag{p: &c.Name} }},

	{section: secSSL, name: "keyfile", flags: []string{"--keyfile"}, meta: "FILE", def: "None",
		help:  "TLS private key file (PEM), with --certfile.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.KeyFile} }},
	{section: secSSL, name: "certfile", flags: []string{"--certfile"}, meta: "FILE", def: "None",
		help:  "TLS certificate file (PEM): serve HTTPS, with --keyfile; re-read by new workers and on USR1.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.CertFile} }},
	{section: secSSL, name: "ssl_version", flags: []string{"--ssl-version"}, meta: "STRING", def: "TLS",
		help: "SSL version to use (deprecated in Gunicorn).", noEffect: whyTLS},
	{section: secSSL, name: "cert_reqs", flags: []string{"--cert-reqs"}, meta: "INT",
		help:  "Client certificates: 0 not asked, 1 verified when sent (optional), 2 required; verified against --ca-certs.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.CertReqs, max: 2} }},
	{section: secSSL, name: "ca_certs", flags: []string{"--ca-certs"}, meta: "FILE", def: "None",
		help:  "CA certificates file (PEM) that client certificates are verified against.",
		value: func(c *Config) flag.Value { return &stringFlag{p: &c.CACerts} }},
	{section: secSSL, name: "suppress_ragged_eofs", flags: []string{"--suppress-ragged-eofs"}, def: "True", help: "Suppress ragged EOFs.", noEffect: whyTLS},
	{section: secSSL, name: "do_handshake_on_connect", flags: []string{"--do-handshake-on-connect"}, def: "False", help: "Handshake on connect.", noEffect: whyTLS},
	{section: secSSL, name: "ciphers", flags: []string{"--ciphers"}, meta: "CIPHERS", def: "Mozilla intermediate (TLS 1.2 AEAD + TLS 1.3)",
		help:  "TLS 1.2 cipher suites, colon-separated OpenSSL or Go names (ECDHE-RSA-AES128-GCM-SHA256:...); TLS 1.3 suites are fixed.",
		value: func(c *Config) flag.Value { return &ciphersFlag{p: &c.Ciphers} }},

	{section: secHTTP2, name: "http_protocols", flags: []string{"--http-protocols"}, meta: "STRING",
		help:  "HTTP versions to serve, comma-separated: h1, h2 (HTTP/2 by ALPN over TLS, or with --http2-cleartext).",
		value: func(c *Config) flag.Value { return &httpProtocolsFlag{p: &c.HTTPProtocols} }},
	{section: secHTTP2, name: "http2_cleartext", flags: []string{"--http2-cleartext"}, meta: "STRING", optional: []string{"prior-knowledge", "off", "false", "true", "upgrade", "both"},
		help:  "Serve HTTP/2 without TLS (h2c) to clients that open with the HTTP/2 preface: off or prior-knowledge (the default when given alone). Only behind a trusted proxy.",
		value: func(c *Config) flag.Value { return &h2cFlag{p: &c.HTTP2Cleartext} }},
	{section: secHTTP2, name: "http2_max_concurrent_streams", flags: []string{"--http2-max-concurrent-streams"}, meta: "INT",
		help:  "Maximum concurrent HTTP/2 streams per connection.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.HTTP2MaxConcurrentStreams, min: 1, max: 1<<31 - 1} }},
	{section: secHTTP2, name: "http2_initial_window_size", flags: []string{"--http2-initial-window-size"}, meta: "INT",
		help:  "Initial HTTP/2 flow-control window per stream, in bytes (65535 to 2147483647).",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.HTTP2InitialWindowSize, min: 65535, max: 1<<31 - 1} }},
	{section: secHTTP2, name: "http2_max_frame_size", flags: []string{"--http2-max-frame-size"}, meta: "INT",
		help:  "Largest HTTP/2 frame payload accepted, in bytes (16384 to 16777215).",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.HTTP2MaxFrameSize, min: 16384, max: 1<<24 - 1} }},
	{section: secHTTP2, name: "http2_max_header_list_size", flags: []string{"--http2-max-header-list-size"}, meta: "INT",
		help:  "Largest HTTP/2 header list accepted, in bytes.",
		value: func(c *Config) flag.Value { return &intFlag{p: &c.HTTP2MaxHeaderListSize, min: 1} }},

	{section: secDirty, name: "dirty_apps", flags: []string{"--dirty-app"}, meta: "STRING", def: "[]", help: "Dirty arbiter apps.", noEffect: whyDirty},
	{section: secDirty, name: "dirty_workers", flags: []string{"--dirty-workers"}, meta: "INT", def: "0", help: "Dirty workers.", noEffect: whyDirty},
	{section: secDirty, name: "dirty_timeout", flags: []string{"--dirty-timeout"}, meta: "INT", def: "300", help: "Dirty timeout.", noEffect: whyDirty},
	{section: secDirty, name: "dirty_threads", flags: []string{"--dirty-threads"}, meta: "INT", def: "1", help: "Dirty threads.", noEffect: whyDirty},
	{section: secDirty, name: "dirty_graceful_timeout", flags: []string{"--dirty-graceful-timeout"}, meta: "INT", def: "30", help: "Dirty graceful timeout.", noEffect: whyDirty},

	{section: secControl, name: "control_socket", key: "control_socket", flags: []string{"--control-socket"}, meta: "PATH", def: "None (off)",
		help:  "Unix socket of the master answering status, reload and scale commands (NAME status); a directory that cannot be created only warns.",
		value: func(c *Config) flag.Value { return &pathFlag{p: &c.ControlSocket} }},
	{section: secControl, name: "control_socket_mode", flags: []string{"--control-socket-mode"}, meta: "INT",
		help: "Permission mode of the control socket, octal (0660 lets the group connect).",
		value: func(c *Config) flag.Value {
			return &octalFlag{p: &c.ControlSocketMode, name: "control-socket-mode", max: 0o777}
		}},
	{section: secControl, name: "control_socket_disable", flags: []string{"--no-control-socket"}, def: "False",
		help:  "Do not open the control socket, even when one is configured.",
		value: func(c *Config) flag.Value { return &boolFlag{p: &c.NoControlSocket} }},
	{section: secControl, name: "health_bind", flags: []string{"--health-bind"}, meta: "ADDRESS", def: "None (off)",
		help:  "Where the master serves /livez, /readyz and /startupz probes: HOST:PORT or unix:PATH.",
		value: func(c *Config) flag.Value { return &listenAddrFlag{p: &c.HealthBind} }},
	{section: secControl, name: "metrics_bind", key: "metrics_bind", flags: []string{"--metrics-bind"}, meta: "ADDRESS", def: "None (off)",
		help:  "Where the master serves every worker's Prometheus metrics, GET /metrics: HOST:PORT or unix:PATH, never one of --bind's.",
		value: func(c *Config) flag.Value { return &listenAddrFlag{p: &c.MetricsBind} }},
	{section: secControl, name: "metrics_buckets", flags: []string{"--metrics-buckets"}, meta: "SECONDS", def: "0.005,0.01,...,10",
		help:  "Upper bounds of the request duration histogram, in seconds, comma-separated and ascending (the OpenTelemetry conventions' by default).",
		value: func(c *Config) flag.Value { return &bucketsFlag{p: &c.MetricsBuckets} }},
	{section: secControl, name: "metrics_otlp_endpoint", flags: []string{"--metrics-otlp-endpoint"}, meta: "URL", def: "None (off)",
		help:  "An OTLP/HTTP base URL (http://HOST:4318) the master pushes every worker's metrics to, POST /v1/metrics.",
		value: func(c *Config) flag.Value { return &otlpEndpointFlag{stringFlag{p: &c.MetricsOTLPEndpoint}} }},
	{section: secControl, name: "metrics_otlp_interval", flags: []string{"--metrics-otlp-interval"}, meta: "INT", def: "10",
		help:  "Seconds between the master's OTLP metrics pushes.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.MetricsOTLPInterval} }},
	{section: secControl, name: "upgrade_timeout", flags: []string{"--upgrade-timeout"}, meta: "INT",
		help:  "Seconds a new master started by USR2 has to become ready before it is killed.",
		value: func(c *Config) flag.Value { return &durationFlag{p: &c.UpgradeTimeout} }},
}

// longName is a setting's --name (without dashes), its first long flag.
func (s *setting) longName() string {
	for _, f := range s.flags {
		if strings.HasPrefix(f, "--") {
			return f[2:]
		}
	}
	return ""
}

// label is "-b/--bind", as errors name a setting.
func (s *setting) label() string { return strings.Join(s.flags, "/") }

// settingValue is the flag.Value of a setting for one parse: switches are
// boolean flags, and a setting with no effect only records that it was given.
func (s *setting) settingValue(c *Config) flag.Value {
	if s.noEffect != "" {
		return &noEffectFlag{c: c, s: s}
	}
	return s.value(c)
}

// noEffectFlag accepts a Gunicorn setting that means nothing here and
// records why, for the start-up log and --check-config.
type noEffectFlag struct {
	c *Config
	s *setting
}

func (f *noEffectFlag) String() string { return "" }

func (f *noEffectFlag) IsBoolFlag() bool { return f != nil && f.s != nil && f.s.meta == "" }

func (f *noEffectFlag) Set(v string) error {
	if f.s.meta == "INT" {
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return errorf("must be a whole number")
		}
	}
	given := "--" + f.s.longName()
	if f.s.meta != "" {
		given += " " + v
	}
	note := given + ": no effect: " + f.s.noEffect
	for _, n := range f.c.noEffect {
		if n == note {
			return nil
		}
	}
	f.c.noEffect = append(f.c.noEffect, note)
	return nil
}

// NoEffect lists the Gunicorn settings given (flags, GUNICORN_CMD_ARGS)
// that mean nothing for this server, each with why and what to use
// instead, as the start-up log and --check-config report them.
func (c Config) NoEffect() []string { return append([]string(nil), c.noEffect...) }

// AddNoEffect records note, something given elsewhere that means nothing here
// (an APP_* variable the configuration engine found no use for), to report
// with them: once at start-up and by --check-config, never fatal.
func (c *Config) AddNoEffect(note string) {
	if !containsFold(c.noEffect, note) {
		c.noEffect = append(c.noEffect, note)
	}
}

// ServerKey ties a key of config.yaml's server section to the setting it sets.
type ServerKey struct {
	Key  string // "keep_alive"
	Flag string // its long flag without dashes: "keep-alive"
}

// ServerKeys lists the settings config.yaml's server section holds, in -h order:
// the section takes its keys from the settings table, and each value passes through
// the setting's one rule (SetSetting), whatever its source.
func ServerKeys() []ServerKey {
	var keys []ServerKey
	for i := range settingTable {
		if settingTable[i].key != "" {
			keys = append(keys, ServerKey{Key: settingTable[i].key, Flag: settingTable[i].longName()})
		}
	}
	return keys
}

// SetSetting sets the setting with this long flag name ("keep-alive") from values as
// its flag would: the same rule, the same meaning (0 turns a timeout off, 0 is no limit
// for worker_connections, 0 is the default backlog). Several values fill a list
// (bind), replacing it. The error states the rule.
func (c *Config) SetSetting(long string, values ...string) error {
	s := settingByLong(long)
	v := s.settingValue(c)
	for _, val := range values {
		if err := v.Set(val); err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "prefork: "))
		}
	}
	return nil
}

// SettingValue is the value of the setting with this long flag name in its one
// spelling, as --print-config shows it and its flag takes it ("30" seconds, "0" for
// no limit); a list's items are comma-separated.
func (c Config) SettingValue(long string) string {
	return settingByLong(long).value(&c).String()
}

// ServerDefaults is the value of each key of config.yaml's server section when nothing
// sets it, in its setting's one spelling (as SettingValue writes it): the runtime's own
// defaults, without the platform variables (appconfig's Load applies those), but for
// workers: Gunicorn's 1, not the machine's cores, so files derived from a project's
// configuration never depend on where they were made.
func ServerDefaults() map[string]string {
	d, err := Config{Values: Values{Workers: 1}}.withDefaultsFrom(func(string) string { return "" })
	if err != nil {
		panic("prefork: the built-in defaults are invalid: " + err.Error())
	}
	out := map[string]string{}
	for _, k := range ServerKeys() {
		out[k.Key] = d.SettingValue(k.Flag)
	}
	return out
}
