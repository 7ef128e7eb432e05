package settings

import "time"

// Values are the runtime's settings as plain data: what a master hands each
// worker it starts (JSON over the worker's configuration pipe) and what a
// reload replaces whole. No funcs: those are prefork.Hooks. A zero field means
// its documented default; for durations and request limits a negative value
// means "off" (the flags map Gunicorn's 0 to that).
type Values struct {
	// Bind lists the addresses to listen on: "host:port", "[::1]:port",
	// "unix:/path" or "fd://N". Default 127.0.0.1:8000, or 0.0.0.0:$PORT
	// when PORT is set (EnvPort). Ignored when listeners are inherited (PREFORK_LISTEN_FDS
	// or systemd's LISTEN_FDS).
	Bind []string
	// Workers is the number of worker processes. Default $WEB_CONCURRENCY,
	// else GOMAXPROCS.
	Workers int
	// Timeout: a worker silent for longer, or a request running for longer,
	// gets the worker replaced. Default 30s; negative disables.
	Timeout time.Duration
	// GracefulTimeout bounds draining on stop, reload and recycling before the
	// worker is killed. Default 30s; negative means no wait.
	GracefulTimeout time.Duration
	// ShutdownDelay keeps the workers serving this long after TERM, /readyz
	// answering 503 from the TERM on, before the listeners close and the
	// drain (GracefulTimeout) begins: load balancers and Kubernetes endpoints
	// stop sending first (what a preStop sleep does, for clusters and images
	// without one). A second TERM, INT or QUIT ends the delay. Default 0: off.
	ShutdownDelay time.Duration
	// KeepAlive is the idle keep-alive time of client connections. Default 5s;
	// negative disables keep-alive.
	KeepAlive time.Duration
	// ReadHeaderTimeout bounds reading a request's headers, so slow clients
	// cannot hold a connection forever. Default 10s (or Timeout if shorter).
	ReadHeaderTimeout time.Duration
	// MaxRequests recycles a worker after this many requests (a ready
	// replacement first); 0 = never. MaxRequestsJitter adds a random
	// 0..jitter to each worker's limit, so workers do not all retire at once.
	MaxRequests       int
	MaxRequestsJitter int
	// PidFile, when set, receives the master's pid (written atomically,
	// removed on exit).
	PidFile string
	// ErrorLog is a file path for the runtime's log, or "-" for stderr
	// (default). The file is reopened on USR1.
	ErrorLog string
	// LogLevel is debug, info (default), warning ("warn"), error or critical.
	LogLevel string
	// LogFormat is the runtime's own log (when Logger is unset): "text"
	// (default) or "json", one object per line, as logging.yaml's format.
	LogFormat string
	// LimitRequestLine, LimitRequestFields and LimitRequestFieldSize bound a
	// request's line length (414), header count and header field size (431).
	// Defaults 4094, 100, 8190 as in Gunicorn; negative = unlimited.
	LimitRequestLine      int
	LimitRequestFields    int
	LimitRequestFieldSize int
	// CheckConfig makes Run validate the configuration and load the app once,
	// then return (nil or the error) without serving.
	CheckConfig bool
	// PrintConfig makes Run print the effective configuration to stdout and
	// return without serving.
	PrintConfig bool

	// Production settings (see production.go and the flags in
	// table.go, here). Each is off when zero unless a default is named.

	// AccessLog is the access log file, "-" for stdout; "" = none.
	AccessLog string
	// AccessLogFormat is Gunicorn atoms ("%(h)s %(r)s ...") or "json".
	// Default DefaultAccessLogFormat.
	AccessLogFormat string
	// ForwardedAllowIPs lists the proxies whose X-Forwarded-* (and PROXY
	// protocol) headers are believed: IPs, CIDRs, "*" or "none". Unix socket
	// peers always are. Default "127.0.0.1,::1".
	ForwardedAllowIPs string
	// ProxyProtocol accepts PROXY protocol v1/v2 from those peers.
	ProxyProtocol bool
	// MaxWorkerMemory recycles a worker whose RSS exceeds it (bytes), like
	// MaxRequests: replacement ready first.
	MaxWorkerMemory int64
	// ControlSocket is the path of the master's unix control socket (mode 0600).
	ControlSocket string
	// CertFile and KeyFile serve HTTPS on every listener.
	CertFile string
	KeyFile  string
	// User and Group (names or ids): workers run as them, and the master
	// switches to them after binding. Umask (octal) is set at start.
	User  string
	Group string
	Umask string
	// BindMode (octal) and BindGroup set the mode and group of bound unix
	// sockets, so a web server in that group can connect.
	BindMode  string
	BindGroup string
	// UpgradeTimeout is how long a new master started by USR2 has to become
	// ready. Default DefaultUpgradeTimeout.
	UpgradeTimeout time.Duration
	// ReusePort sets SO_REUSEPORT on the TCP sockets the master binds (and on
	// HealthBind), so another process can bind the same port: a second pod on
	// the same host during a rollout. Off by default, as in Gunicorn: with it,
	// connections queued on a socket whose process exits are lost unless that
	// process drains them (this one does, on TERM).
	ReusePort bool
	// HealthBind is where the master serves its probes (host:port or
	// unix:/path), never on the app's listeners: GET /livez (the master's
	// event loop answers), /readyz (start-up done, at least one worker ready,
	// no stop begun) and /startupz (every start-up worker was ready once).
	// Off when empty.
	HealthBind string

	// Gunicorn 26 settings (table.go lists every flag; their defaults
	// are applied by GunicornDefaults).

	// Backlog is the listen queue length of the sockets the master binds.
	// Default 2048 (the kernel caps it at net.core.somaxconn); at most 65535.
	Backlog int
	// WorkerConnections bounds the client connections a worker serves at
	// once; beyond it new connections wait in the listen backlog (they are
	// not refused). Default 1000; negative = unlimited (0 from config.yaml,
	// a variable or a flag).
	WorkerConnections int
	// ReloadOnChange (--reload) rolls the workers, as HUP does, when the
	// binary on disk or one of ReloadExtraFiles changes.
	ReloadOnChange   bool
	ReloadExtraFiles []string
	// Chdir is the directory the master changes to before anything else.
	Chdir string
	// Daemon detaches the master from the terminal (--daemon): the
	// command returns once the detached master started; PidFile names it.
	Daemon bool
	// Env lists KEY=VALUE pairs set in the master's (and so the workers')
	// environment (-e/--env).
	Env []string
	// Initgroups sets the supplementary groups of User (from /etc/group)
	// when switching to it.
	Initgroups bool
	// CaptureOutput sends the workers' stdout and stderr to ErrorLog.
	CaptureOutput bool
	// LogConfig names a logging configuration file (the generated entry's
	// logging.yaml); the runtime itself only records it.
	LogConfig string
	// Syslog sends the runtime's log to SyslogTo (unix://PATH[#stream|dgram],
	// udp://HOST:PORT or tcp://HOST:PORT; default udp://localhost:514) with
	// SyslogPrefix as the tag and SyslogFacility (default "user").
	Syslog         bool
	SyslogTo       string
	SyslogPrefix   string
	SyslogFacility string
	// EnableBacklogMetric asks the metrics endpoint to report the listen
	// queue length (used by the metrics feature; the runtime only stores it).
	EnableBacklogMetric bool
	// Name sets the process titles shown by ps: "NAME: master" and
	// "NAME: worker 3 [gen 2]" (-n/--name). Default: the program's name.
	Name string
	// ProxyProtocolVersion restricts ProxyProtocol to "v1" or "v2"; empty
	// accepts both ("auto").
	ProxyProtocolVersion string
	// ProxyAllowFrom lists the peers whose PROXY protocol header is
	// believed (IPs, CIDRs, "*"); empty means ForwardedAllowIPs.
	ProxyAllowFrom string
	// Protocol is what the listeners speak: "http" (default), "uwsgi"
	// (nginx uwsgi_pass) or "fastcgi" (nginx fastcgi_pass).
	Protocol string
	// UwsgiAllowFrom lists the peers allowed to speak uwsgi or FastCGI
	// (IPs, CIDRs, "*"); unix socket peers always are. Default
	// "127.0.0.1,::1".
	UwsgiAllowFrom string
	// CertReqs: 0 no client certificate asked, 1 verified when sent, 2
	// required (verified against CACerts).
	CertReqs int
	CACerts  string
	// Ciphers is a colon-separated list of TLS 1.2 cipher suites (Go or
	// OpenSSL names); default DefaultCiphers (Mozilla intermediate: AEAD
	// with forward secrecy). TLS 1.3 suites are not configurable.
	Ciphers string
	// HTTPProtocols lists the HTTP versions served: "h1", "h2" (default
	// "h1,h2": HTTP/2 by ALPN over TLS; cleartext only with HTTP2Cleartext).
	HTTPProtocols string
	// HTTP2Cleartext is how a peer in ForwardedAllowIPs may start HTTP/2
	// without TLS (h2c), as Gunicorn 26.2: "" or "off", "prior-knowledge"
	// (the connection opens with the HTTP/2 preface), "upgrade" (Upgrade:
	// h2c, served over HTTP/1.1 here: net/http has no h2c upgrade) or
	// "both". Every other peer is served HTTP/1.x as if it were off.
	HTTP2Cleartext string
	// HTTP/2 limits; defaults as in Gunicorn: 100 streams, 65535-byte
	// initial window, 16384-byte frames, 65536-byte header lists.
	HTTP2MaxConcurrentStreams int
	HTTP2InitialWindowSize    int
	HTTP2MaxFrameSize         int
	HTTP2MaxHeaderListSize    int
	// ForwarderHeaders lists the CGI-style headers a trusted front end may
	// set for the app (SCRIPT_NAME, PATH_INFO, REMOTE_USER); default
	// "SCRIPT_NAME,PATH_INFO". SCRIPT_NAME from a trusted peer is removed
	// from the request path like RootPath.
	ForwarderHeaders string
	// RootPath is the path the app is mounted at behind a proxy ("/api"):
	// stripped from request paths that start with it.
	RootPath string
	// ControlSocketMode (octal) is the control socket's mode; default 0600.
	ControlSocketMode string
	// NoControlSocket turns the control socket off even when configured.
	NoControlSocket bool

	// Observability (config_metrics.go; the flags in table.go).

	// MetricsBind is the address (host:port or unix:/path) of the master's
	// Prometheus endpoint, GET /metrics: every worker's figures summed. ""
	// (default) = off. Never one of the app's listeners.
	MetricsBind string
	// MetricsBuckets are the request duration histogram's upper bounds in
	// seconds, ascending. Default DefaultMetricsBuckets.
	MetricsBuckets []float64
	// MetricsOTLPEndpoint is an OTLP/HTTP base URL (http://collector:4318):
	// the master pushes every worker's metrics to its /v1/metrics (JSON,
	// cumulative) every MetricsOTLPInterval (default 10s) and as it stops.
	// Off when empty.
	MetricsOTLPEndpoint string
	MetricsOTLPInterval time.Duration
	// ServiceName and ServiceVersion are the OTLP push's service.name and
	// service.version, set by the program (a generated project's from its
	// observability: section). Defaults: $OTEL_SERVICE_NAME or the binary's
	// name; the module version Go recorded in the binary.
	ServiceName    string
	ServiceVersion string
	// StatsDHost (host:port, or unix:/path) receives Gunicorn's StatsD
	// metrics over UDP; StatsDPrefix is prepended to every name (a "." is
	// added), DogStatsDTags ("k:v,k2:v2") appended as Datadog tags.
	StatsDHost    string
	StatsDPrefix  string
	DogStatsDTags string
	// AccessLogBuffer is the access log's buffer in bytes (nginx's buffer=):
	// default DefaultAccessLogBuffer; negative writes every line through.
	// AccessLogFlush bounds how long a line waits in it (nginx's flush=),
	// default DefaultAccessLogFlush. Lines still buffered are lost if the
	// worker is SIGKILLed.
	AccessLogBuffer int
	AccessLogFlush  time.Duration

	// Canary (self-checking reloads). With CanaryWindow set, a reload's new
	// generation first serves with a share of the workers (CanaryShare of
	// them rounded up; 0 = one worker, beside the full current generation)
	// for CanaryWindow; then the master compares its error rate (5xx,
	// aborted requests) and latency p50/p99 with the current generation's
	// over the same window and promotes it (the usual ready-gated rolling
	// replacement) or rolls it back (its workers drain; the current
	// generation and configuration serve on). Rolled back when the error
	// rate exceeds the current one by more than CanaryMaxErrorIncrease
	// percentage points (default 1), when p50 (or p99, once each side served
	// 1000 requests in the window) exceeds
	// CanaryMaxLatencyRatio (default 1.5) times the current one plus
	// CanaryLatencyFloor (default 5ms; negative: none), or at once when a
	// canary worker crashes or fails to boot. With fewer than
	// CanaryMinRequests (default 50) canary requests the window extends
	// once, then the generation is promoted. Default CanaryWindow 0: off, a
	// reload replaces every worker at once.
	CanaryWindow           time.Duration
	CanaryShare            float64
	CanaryMinRequests      int
	CanaryMaxErrorIncrease float64
	CanaryMaxLatencyRatio  float64
	CanaryLatencyFloor     time.Duration

	// ProgramConfig is the program's own loaded configuration, encoded by the
	// program; the runtime never reads it. The master hands it, with every
	// other setting, to each worker it starts (Inherited), so workers run the
	// configuration their master loaded and never read it themselves. Reload
	// returns the new one.
	ProgramConfig []byte
}
