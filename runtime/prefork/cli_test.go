package prefork

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// parseGunicorn runs ParseArgs with env as GUNICORN_CMD_ARGS.
func parseGunicorn(c *Config, env string, args ...string) (string, error) {
	_, out, err := parseNotes(c, env, args...)
	return out, err
}

// parseNotes is parseGunicorn with the parse's notes.
func parseNotes(c *Config, env string, args ...string) (*Parsed, string, error) {
	var out bytes.Buffer
	cl := CommandLine{Program: "app", Stdout: &out, Env: func(k string) string {
		if k == EnvCmdArgs {
			return env
		}
		return ""
	}, Flags: []Flag{{Flags: []string{"-c", "--config"}, Meta: "DIR", Default: "config", Help: "configuration directory"}}}
	p, err := c.ParseArgs(cl, args)
	return p, out.String(), err
}

func printed(c Config) string {
	var b bytes.Buffer
	c.printConfig(&b)
	return b.String()
}

// settingCase is one setting's test: a value (nil for a switch given
// alone), the --print-config line it must give, and a value it must refuse
// (or "" when every value is accepted).
type settingCase struct {
	args []string
	want string
	bad  string
}

func TestEverySettingParses(t *testing.T) {
	dir := t.TempDir()
	ca := writeTestCA(t, dir)
	cases := map[string]settingCase{
		"bind":                         {[]string{"-b", "127.0.0.1:9001", "--bind=unix:/tmp/a.sock"}, "bind = 127.0.0.1:9001,unix:/tmp/a.sock", "localhost"},
		"backlog":                      {[]string{"--backlog", "64"}, "backlog = 64", "100000"},
		"workers":                      {[]string{"-w3"}, "workers = 3", "many"},
		"worker-connections":           {[]string{"--worker-connections", "0"}, "worker_connections = 0", "-1"},
		"max-requests":                 {[]string{"--max-requests", "100"}, "max_requests = 100", "-5"},
		"max-requests-jitter":          {[]string{"--max-requests-jitter", "7"}, "max_requests_jitter = 7", "x"},
		"timeout":                      {[]string{"-t", "0.5"}, "timeout = 0.5", "soon"},
		"graceful-timeout":             {[]string{"--graceful-timeout", "45s"}, "graceful_timeout = 45", "-1s"},
		"shutdown-delay":               {[]string{"--shutdown-delay", "5"}, "shutdown_delay = 5", "-1"},
		"keep-alive":                   {[]string{"--keep-alive", "2"}, "keepalive = 2", "long"},
		"max-worker-memory":            {[]string{"--max-worker-memory", "1MiB"}, "max_worker_memory = 1MiB", "lots"},
		"limit-request-line":           {[]string{"--limit-request-line", "0"}, "limit_request_line = 0", "9000"},
		"limit-request-fields":         {[]string{"--limit-request-fields", "50"}, "limit_request_fields = 50", "40000"},
		"limit-request-field_size":     {[]string{"--limit-request-field_size", "4096"}, "limit_request_field_size = 4096", "-2"},
		"reload":                       {[]string{"--reload"}, "reload = true", ""},
		"reload-extra-file":            {[]string{"--reload-extra-file", "a.yaml", "--reload-extra-file", "b.yaml"}, "reload_extra_files = a.yaml,b.yaml", ""},
		"check-config":                 {[]string{"--check-config"}, "check_config = true", ""},
		"print-config":                 {[]string{"--print-config"}, "print_config = true", ""},
		"reuse-port":                   {[]string{"--reuse-port"}, "reuse_port = true", ""},
		"chdir":                        {[]string{"--chdir", dir}, "chdir = " + dir, ""},
		"daemon":                       {[]string{"-D"}, "daemon = true", ""},
		"env":                          {[]string{"-e", "A=1", "--env", "B=two words"}, "raw_env = A=1,B=two words", "NOEQUALS"},
		"pid":                          {[]string{"-p", "/tmp/x.pid"}, "pidfile = /tmp/x.pid", ""},
		"user":                         {[]string{"-u", "nobody"}, "user = nobody", ""},
		"group":                        {[]string{"-g", "nogroup"}, "group = nogroup", ""},
		"umask":                        {[]string{"-m", "027"}, "umask = 0027", "999"},
		"initgroups":                   {[]string{"--initgroups"}, "initgroups = true", ""},
		"bind-mode":                    {[]string{"--bind-mode", "0660"}, "bind_mode = 0660", "rw"},
		"bind-group":                   {[]string{"--bind-group", "www-data"}, "bind_group = www-data", ""},
		"forwarded-allow-ips":          {[]string{"--forwarded-allow-ips", "10.0.0.0/8,::1"}, "forwarded_allow_ips = 10.0.0.0/8,::1", "localhost"},
		"proxy-protocol":               {[]string{"--proxy-protocol", "v2"}, "proxy_protocol = v2", "v3"},
		"proxy-allow-from":             {[]string{"--proxy-allow-from", "192.168.0.0/16"}, "proxy_allow_ips = 192.168.0.0/16", "haproxy"},
		"protocol":                     {[]string{"--protocol", "uwsgi"}, "protocol = uwsgi", "spdy"},
		"uwsgi-allow-from":             {[]string{"--uwsgi-allow-from", "*"}, "uwsgi_allow_ips = *", "nginx"},
		"forwarder-headers":            {[]string{"--forwarder-headers", "SCRIPT_NAME,REMOTE_USER"}, "forwarder_headers = SCRIPT_NAME,REMOTE_USER", "script-name"},
		"root-path":                    {[]string{"--root-path", "/api/"}, "root_path = /api", "api"},
		"access-logfile":               {[]string{"--access-logfile", "-"}, "accesslog = -", ""},
		"access-logformat":             {[]string{"--access-logformat", "json"}, "access_log_format = json", "%(zz)s"},
		"error-logfile":                {[]string{"--error-logfile", "/tmp/e.log"}, "errorlog = /tmp/e.log", ""},
		"log-level":                    {[]string{"--log-level", "warning"}, "loglevel = warning", "loud"},
		"capture-output":               {[]string{"--capture-output"}, "capture_output = true", ""},
		"log-config":                   {[]string{"--log-config", "logging.yaml"}, "logconfig = logging.yaml", ""},
		"log-syslog-to":                {[]string{"--log-syslog-to", "unix:///dev/log#dgram"}, "syslog_addr = unix:///dev/log#dgram", "syslog.example:514"},
		"log-syslog":                   {[]string{"--log-syslog"}, "syslog = true", ""},
		"log-syslog-prefix":            {[]string{"--log-syslog-prefix", "shop"}, "syslog_prefix = shop", ""},
		"log-syslog-facility":          {[]string{"--log-syslog-facility", "local3"}, "syslog_facility = local3", "local9"},
		"enable-backlog-metric":        {[]string{"--enable-backlog-metric"}, "enable_backlog_metric = true", ""},
		"name":                         {[]string{"-n", "shop"}, "proc_name = shop", "a\nb"},
		"keyfile":                      {[]string{"--keyfile", "k.pem"}, "keyfile = k.pem", ""},
		"certfile":                     {[]string{"--certfile", "c.pem"}, "certfile = c.pem", ""},
		"cert-reqs":                    {[]string{"--cert-reqs", "2"}, "cert_reqs = 2", "3"},
		"ca-certs":                     {[]string{"--ca-certs", ca}, "ca_certs = " + ca, ""},
		"ciphers":                      {[]string{"--ciphers", "ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256"}, "ciphers = ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256", "RC4-MD5"},
		"http-protocols":               {[]string{"--http-protocols", "h2,h1"}, "http_protocols = h2,h1", "h3"},
		"http2-cleartext":              {[]string{"--http2-cleartext"}, "http2_cleartext = prior-knowledge", "sideways"},
		"http2-max-concurrent-streams": {[]string{"--http2-max-concurrent-streams", "250"}, "http2_max_concurrent_streams = 250", "0"},
		"http2-initial-window-size":    {[]string{"--http2-initial-window-size", "1048576"}, "http2_initial_window_size = 1048576", "100"},
		"http2-max-frame-size":         {[]string{"--http2-max-frame-size", "32768"}, "http2_max_frame_size = 32768", "16777216"},
		"http2-max-header-list-size":   {[]string{"--http2-max-header-list-size", "32768"}, "http2_max_header_list_size = 32768", "big"},
		"control-socket":               {[]string{"--control-socket", "/run/app/ctl.sock"}, "control_socket = /run/app/ctl.sock", ""},
		"control-socket-mode":          {[]string{"--control-socket-mode", "0660"}, "control_socket_mode = 0660", "0999"},
		"no-control-socket":            {[]string{"--no-control-socket"}, "control_socket_disable = true", ""},
		"health-bind":                  {[]string{"--health-bind", "127.0.0.1:9100"}, "health_bind = 127.0.0.1:9100", "fd://3"},
		"upgrade-timeout":              {[]string{"--upgrade-timeout", "90"}, "upgrade_timeout = 90", "x"},
		"metrics-bind":                 {[]string{"--metrics-bind", "127.0.0.1:9102"}, "metrics_bind = 127.0.0.1:9102", "fd://3"},
		"metrics-otlp-endpoint":        {[]string{"--metrics-otlp-endpoint", "http://127.0.0.1:4318"}, "metrics_otlp_endpoint = http://127.0.0.1:4318", "127.0.0.1:4318"},
		"metrics-otlp-interval":        {[]string{"--metrics-otlp-interval", "2"}, "metrics_otlp_interval = 2", "often"},
		"metrics-buckets":              {[]string{"--metrics-buckets", "0.01,0.1,1"}, "metrics_buckets = 0.01,0.1,1", "1,0.5"},
		"statsd-host":                  {[]string{"--statsd-host", "127.0.0.1:8125"}, "statsd_host = 127.0.0.1:8125", ""},
		"statsd-prefix":                {[]string{"--statsd-prefix", "shop"}, "statsd_prefix = shop", ""},
		"dogstatsd-tags":               {[]string{"--dogstatsd-tags", "env:prod,team:web"}, "dogstatsd_tags = env:prod,team:web", ""},
		"access-log-buffer":            {[]string{"--access-log-buffer", "8KiB"}, "access_log_buffer = 8KiB", "lots"},
		"access-log-flush":             {[]string{"--access-log-flush", "0.25"}, "access_log_flush = 0.25", "soon"},
		"canary-window":                {[]string{"--canary-window", "20"}, "canary_window = 20", "-5"},
		"canary-share":                 {[]string{"--canary-share", "0.25"}, "canary_share = 0.25", "1.5"},
		"canary-min-requests":          {[]string{"--canary-min-requests", "200"}, "canary_min_requests = 200", "many"},
		"canary-max-error-increase":    {[]string{"--canary-max-error-increase", "0.5"}, "canary_max_error_increase = 0.5", "101"},
		"canary-max-latency-ratio":     {[]string{"--canary-max-latency-ratio", "1.25"}, "canary_max_latency_ratio = 1.25", "0.5"},
		"canary-latency-floor":         {[]string{"--canary-latency-floor", "0.01"}, "canary_latency_floor = 0.01", "10 ms"},
	}
	for i := range settings.Table {
		s := &settings.Table[i]
		name := s.LongName()
		if s.NoEffect != "" {
			continue // TestNoEffectSettings
		}
		tc, ok := cases[name]
		if !ok {
			t.Errorf("--%s has no test case", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			var c Config
			if _, err := parseGunicorn(&c, "", tc.args...); err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			if got := printed(c); !strings.Contains(got, tc.want+"\n") {
				t.Errorf("%v: --print-config lacks %q:\n%s", tc.args, tc.want, got)
			}
			// the same through GUNICORN_CMD_ARGS, quoted as a shell would
			var e Config
			if _, err := parseGunicorn(&e, shellQuote(tc.args)); err != nil {
				t.Fatalf("GUNICORN_CMD_ARGS=%s: %v", shellQuote(tc.args), err)
			}
			if got := printed(e); !strings.Contains(got, tc.want+"\n") {
				t.Errorf("GUNICORN_CMD_ARGS %v: --print-config lacks %q", tc.args, tc.want)
			}
			if tc.bad == "" {
				return
			}
			var b Config
			_, err := parseGunicorn(&b, "", "--"+name+"="+tc.bad)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "--"+name) || !strings.Contains(ue.Msg, strconv.Quote(tc.bad)) || strings.Contains(ue.Msg, "\n") {
				t.Errorf("--%s %q: want one line naming the flag and the value, got %v", name, tc.bad, err)
			}
			if ExitCode(err) != 2 {
				t.Errorf("--%s %q: exit code %d, want 2", name, tc.bad, ExitCode(err))
			}
		})
	}
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Every Gunicorn 26.1 command-line flag starts, with the value it takes,
// except the StatsD ones (the metrics feature adds those).
func TestGunicornFlagsAccepted(t *testing.T) {
	f, err := os.Open("testdata/gunicorn-26.1-settings.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sample := map[string]string{"CONFIG": "config", "ADDRESS": "127.0.0.1:8000", "INT": "1", "STRING": "x", "FILE": "f", "FILES": "f",
		"DIR": "/tmp", "USER": "root", "GROUP": "root", "ENV": "A=1", "LEVEL": "info", "SYSLOG_ADDR": "udp://localhost:514",
		"SYSLOG_PREFIX": "p", "SYSLOG_FACILITY": "user", "MODE": "v1", "CHDIR": "/tmp", "CONF": "a=b", "PATH": "/tmp/c.sock"}
	specific := map[string]string{"--protocol": "http", "--http-protocols": "h1,h2", "--http2-cleartext": "off", "--proxy-allow-from": "127.0.0.1",
		"--uwsgi-allow-from": "127.0.0.1", "--forwarded-allow-ips": "127.0.0.1", "--forwarder-headers": "SCRIPT_NAME", "--root-path": "/api", "--ciphers": "ECDHE-RSA-AES128-GCM-SHA256",
		"--cert-reqs": "0", "--ssl-version": "2", "--control-socket-mode": "0600", "--http2-initial-window-size": "65535", "--http2-max-frame-size": "16384",
		"--umask": "0", "--backlog": "64", "--workers": "1"}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Fields(line)
		name, flags, meta := fields[0], strings.Split(fields[1], ","), fields[2]
		if name == "config" {
			continue // -c is the entry's
		}
		n++
		for _, fl := range flags {
			args := []string{fl}
			if meta != "-" {
				v, ok := specific[flags[len(flags)-1]]
				if !ok {
					v = sample[meta]
				}
				if v == "" {
					v = "1"
				}
				args = append(args, v)
			}
			var c Config
			if _, err := parseGunicorn(&c, "", args...); err != nil {
				t.Errorf("Gunicorn's %s (%s): %v", strings.Join(args, " "), name, err)
			}
		}
	}
	if n < 85 {
		t.Errorf("only %d settings read from the list", n)
	}
}

func TestNoEffectSettings(t *testing.T) {
	var c Config
	p, _, err := parseNotes(&c, "--worker-class gthread", "--threads", "4", "--preload", "-k", "sync", "--worker-tmp-dir", "/dev/shm", "--strip-header-spaces", "app:app")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.NoEffect(), "\n")
	for _, want := range []string{
		"--threads 4: no effect: each request already runs in its own goroutine; --worker-connections bounds concurrency",
		"--preload: no effect: workers are re-executed binaries",
		"--worker-class sync: no effect:",
		"--worker-class gthread: no effect:",
		"--worker-tmp-dir /dev/shm: no effect: workers send heartbeats over a pipe",
		"--strip-header-spaces: no effect: Go's HTTP parser",
		"app:app: no effect: APP_MODULE",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no-effect report lacks %q:\n%s", want, got)
		}
	}
	if _, err := parseGunicorn(&c, "", "--threads", "four"); err == nil || !strings.Contains(err.Error(), "--threads") {
		t.Errorf("--threads four: %v", err)
	}
	// reported once by --check-config, before the verdict
	var out bytes.Buffer
	c.CheckConfig, c.Workers = true, 1
	if _, _, err := prepare(c, func() (http.Handler, error) { return http.NotFoundHandler(), nil }, p.NoEffect(), &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "--threads 4: no effect") != 1 || !strings.HasSuffix(out.String(), "configuration OK\n") {
		t.Errorf("--check-config output:\n%s", out.String())
	}
}

func TestCmdArgsPrecedence(t *testing.T) {
	c := Config{Values: Values{Workers: 2, Timeout: 7e9}} // config.yaml's
	if _, err := parseGunicorn(&c, `-w 3 -b 127.0.0.1:1 -b 127.0.0.1:2 --keep-alive 9 --access-logformat '%(h)s "%(r)s"'`, "-w", "4", "-b", "127.0.0.1:3"); err != nil {
		t.Fatal(err)
	}
	got := printed(c)
	for _, want := range []string{"workers = 4\n", "bind = 127.0.0.1:3\n", "keepalive = 9\n", "timeout = 7\n", `access_log_format = %(h)s "%(r)s"` + "\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q (command line over GUNICORN_CMD_ARGS over config.yaml):\n%s", want, got)
		}
	}
	var e Config
	_, err := parseGunicorn(&e, "-w zero")
	if err == nil || !strings.HasPrefix(err.Error(), `GUNICORN_CMD_ARGS: invalid value "zero" for -w/--workers`) {
		t.Errorf("a bad GUNICORN_CMD_ARGS must say so: %v", err)
	}
	if _, err := parseGunicorn(&e, `--bind "127.0.0.1:1`); err == nil || !strings.Contains(err.Error(), "no closing quotation") {
		t.Errorf("unterminated quote: %v", err)
	}
}

// TestMistypedCommandRefused: a bare word within two edits of a command is a typo,
// refused before anything binds; any other word is still Gunicorn's APP_MODULE.
func TestMistypedCommandRefused(t *testing.T) {
	cl := CommandLine{Program: "demo", Env: func(string) string { return "" }, Commands: []string{"migrate"}}
	for _, tc := range []struct{ word, want string }{
		{"stauts", `"stauts": no such command; did you mean "status"? (commands: migrate, status, reload, scale-up, scale-down)`},
		{"reloda", `did you mean "reload"?`},
		{"Status", `"Status": no such command; did you mean "status"?`},
		{"scaleup", `did you mean "scale-up"?`},
		{"migrat", `did you mean "migrate"?`},
		{"stat", `did you mean "status"?`},
		// the program did not handle it: this entry has no such command
		{"status", `"status": not a command of demo (commands: migrate)`},
	} {
		var c Config
		_, err := c.ParseArgs(cl, []string{"-w", "2", tc.word})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tc.want) || ExitCode(err) != 2 {
			t.Errorf("%s: got %v, want a usage error with %q", tc.word, err, tc.want)
		}
	}
	var c Config
	if _, err := c.ParseArgs(cl, []string{"migrat", "up"}); err == nil || !strings.Contains(err.Error(), `did you mean "migrate"?`) {
		t.Errorf("migrat up: %v", err)
	}
	if _, err := c.ParseArgs(CommandLine{Program: "demo-dev", Env: cl.Env}, []string{"status"}); err == nil || !strings.Contains(err.Error(), `"status": not a command of demo-dev (it takes flags only)`) {
		t.Errorf("status to a program without commands: %v", err)
	}
	// Gunicorn's APP_MODULE, dotted or not, far from every command: accepted with its notice.
	for _, word := range []string{"app", "wsgi:app", "myproject.wsgi", "stauts:app", "application"} {
		var c Config
		p, err := c.ParseArgs(cl, []string{word})
		if err != nil {
			t.Errorf("%s: %v", word, err)
			continue
		}
		if got := strings.Join(p.NoEffect(), "\n"); !strings.Contains(got, word+": no effect: APP_MODULE names a Python app") {
			t.Errorf("%s: notice %q", word, got)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--work", "3"}, "--work: no such flag; did you mean one of --workers, --worker-class, --worker-connections, --worker-tmp-dir? (flags are not abbreviated)"},
		{[]string{"--bin", "x"}, "--bin: no such flag; did you mean one of --bind, --bind-mode, --bind-group? (flags are not abbreviated)"},
		{[]string{"--chdi", "x"}, "--chdi: no such flag; did you mean --chdir? (flags are not abbreviated)"},
		{[]string{"-bind", "127.0.0.1:1"}, "-bind: long flags take two dashes: --bind"},
		{[]string{"--workers"}, "-w/--workers needs a value (INT)"},
		{[]string{"-b", "-w", "2"}, "-b/--bind needs a value (ADDRESS)"},
		{[]string{"--zzz"}, "--zzz: no such flag (see --help)"},
		{[]string{"--wokers", "3"}, "--wokers: no such flag; did you mean --workers?"},
		{[]string{"--max-requets", "3"}, "--max-requets: no such flag; did you mean --max-requests?"},
		{[]string{"--confgi", "x"}, "--confgi: no such flag; did you mean --config?"},
		{[]string{"a:app", "b:app"}, `unexpected arguments "a:app b:app"`},
		{[]string{"-w", "0"}, `invalid value "0" for -w/--workers: must be at least 1`},
		{[]string{"--http2-cleartext=sideways"}, `invalid value "sideways" for --http2-cleartext: must be off, prior-knowledge, upgrade or both`},
	} {
		var c Config
		_, err := parseGunicorn(&c, "", tc.args...)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
			continue
		}
		if full := err.Error(); !strings.HasSuffix(full, "\nTry 'app --help' for more information.") || strings.Count(full, "\n") != 1 {
			t.Errorf("%v: want one line then Try, got %q", tc.args, full)
		}
	}
	// attached and combined forms
	var c Config
	if _, err := parseGunicorn(&c, "", "-w4", "-DR", "--bind=127.0.0.1:5", "-t", "-1"); err == nil {
		t.Error("-t -1 must be refused (negative)")
	}
	c = Config{}
	p, _, err := parseNotes(&c, "", "-w4", "-DR", "--bind=127.0.0.1:5", "--", "app:app")
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 4 || !c.Daemon || c.Bind[0] != "127.0.0.1:5" || len(p.NoEffect()) != 2 {
		t.Errorf("-w4 -DR --bind=: %+v %v", c.Workers, p.NoEffect())
	}
	// the switch's optional value is taken only when it is one of its words
	c = Config{}
	if _, err := parseGunicorn(&c, "", "--proxy-protocol", "app:app"); err != nil || !c.ProxyProtocol || c.ProxyProtocolVersion != "" {
		t.Errorf("--proxy-protocol alone before APP_MODULE: %v %+v", err, c.ProxyProtocol)
	}
}

func TestHelpGroupedLikeGunicorn(t *testing.T) {
	var c Config
	out, err := parseGunicorn(&c, "", "-w", "2", "--help")
	if !errors.Is(err, flag.ErrHelp) || ExitCode(err) != 0 {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{
		"usage: app [OPTIONS] [APP_MODULE]\n",
		"\nConfig File:\n  -c DIR, --config DIR  configuration directory [config]\n",
		"\nServer Socket:\n  -b ADDRESS, --bind ADDRESS\n",
		"\nWorker Processes:\n", "\nSecurity:\n", "\nDebugging:\n", "\nServer Mechanics:\n", "\nLogging:\n",
		"\nProcess Naming:\n", "\nSSL:\n", "\nHTTP/2:\n", "\nControl:\n",
		"  --backlog INT         The maximum number of pending connections",
		"  --proxy-protocol [MODE]\n",
		"  -D, --daemon          Daemonize",
		"No effect here:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if n := strings.Count(out, "[127.0.0.1:8000]"); n != 1 {
		t.Errorf("bind's default shown %d times", n)
	}
	if strings.Contains(out, "(default") {
		t.Error("Go's (default ...) notes in the help")
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 79 && !strings.HasPrefix(strings.TrimSpace(l), "-") {
			t.Errorf("help line over 79 columns: %q", l)
		}
	}
	out, err = parseGunicorn(&c, "", "-v")
	if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out, "app (version ") {
		t.Errorf("-v: %q %v", out, err)
	}
}

func TestGunicornDefaultsValidate(t *testing.T) {
	c, err := Config{Values: Values{Workers: 1}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cert, key, _ := writeTestCert(t, t.TempDir(), 1)
	got := printed(c)
	for _, want := range []string{"backlog = 2048\n", "worker_connections = 1000\n", "protocol = http\n", "http_protocols = h1,h2\n",
		"http2_max_concurrent_streams = 100\n", "uwsgi_allow_ips = 127.0.0.1,::1\n", "control_socket_mode = 0600\n", "ciphers = " + DefaultCiphers + "\n",
		"syslog_addr = udp://localhost:514\n", "syslog_facility = user\n", "forwarder_headers = SCRIPT_NAME,PATH_INFO\n", "proxy_protocol = off\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("defaults lack %q", want)
		}
	}
	for _, bad := range []struct {
		c    Config
		want string
	}{
		{Config{Values: Values{Workers: 1, CertReqs: 2, CertFile: cert, KeyFile: key}}, "cert-reqs=2: needs --ca-certs"},
		{Config{Values: Values{Workers: 1, CertReqs: 1, CACerts: cert}}, "cert-reqs=1: needs TLS"},
		{Config{Values: Values{Workers: 1, Protocol: "uwsgi", CertFile: cert, KeyFile: key}}, "protocol=uwsgi: takes no TLS"},
		{Config{Values: Values{Workers: 1, Protocol: "gopher"}}, `protocol="gopher": must be one of http, uwsgi, fastcgi`},
		{Config{Values: Values{Workers: 1, HTTP2Cleartext: H2CPriorKnowledge, HTTPProtocols: "h1"}}, "http2-cleartext"},
		{Config{Values: Values{Workers: 1, Env: []string{"novalue"}}}, "env=novalue: must be KEY=VALUE"},
		{Config{Values: Values{Workers: 1, Chdir: filepath.Join(t.TempDir(), "missing")}}, "chdir="},
		{Config{Values: Values{Workers: 1, Ciphers: "NULL-MD5"}}, "ciphers="},
	} {
		if _, err := bad.c.withDefaults(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("want %q, got %v", bad.want, err)
		}
	}
}

// writeTestCA writes a self-signed certificate to use as --ca-certs.
func writeTestCA(t *testing.T, dir string) string {
	t.Helper()
	d := filepath.Join(dir, "ca")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, _, _ := writeTestCert(t, d, 99)
	return cert
}
