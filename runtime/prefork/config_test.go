//go:build unix

package prefork

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

func parseFlags(t *testing.T, cfg *Config, args ...string) error {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs)
	return fs.Parse(args)
}

func TestFlagsGunicornNames(t *testing.T) {
	cfg := Config{Values: Values{Bind: []string{"127.0.0.1:9000"}, Workers: 3, Timeout: 12 * time.Second}}
	err := parseFlags(t, &cfg,
		"-b", "127.0.0.1:8001", "--bind", "unix:/tmp/app.sock", "-w", "5", "-t", "0.5",
		"--graceful-timeout", "45s", "--keep-alive", "2", "--max-requests", "1000",
		"--max-requests-jitter", "50", "-p", "/tmp/app.pid", "--error-logfile", "/tmp/err.log",
		"--log-level", "warning", "--limit-request-line", "0", "--limit-request-fields", "50",
		"--limit-request-field_size", "4096", "--check-config")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Values: Values{Bind: []string{"127.0.0.1:8001", "unix:/tmp/app.sock"}, Workers: 5, Timeout: 500 * time.Millisecond, GracefulTimeout: 45 * time.Second, KeepAlive: 2 * time.Second, MaxRequests: 1000, MaxRequestsJitter: 50, PidFile: "/tmp/app.pid", ErrorLog: "/tmp/err.log", LogLevel: "warning", LimitRequestLine: -1, LimitRequestFields: 50, LimitRequestFieldSize: 4096, CheckConfig: true}}
	if got, w := dump(cfg), dump(want); got != w {
		t.Errorf("parsed\n%s\nwant\n%s", got, w)
	}
}

func dump(c Config) string {
	var b bytes.Buffer
	c.printConfig(&b)
	return b.String()
}

func TestFlagsKeepDefaultsFromConfig(t *testing.T) {
	cfg := Config{Values: Values{Bind: []string{"127.0.0.1:9000"}, Workers: 3, Timeout: 12 * time.Second}}
	if err := parseFlags(t, &cfg, "--max-requests", "7"); err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 3 || cfg.Timeout != 12*time.Second || cfg.Bind[0] != "127.0.0.1:9000" || cfg.MaxRequests != 7 {
		t.Errorf("defaults not kept: %+v", cfg)
	}
}

func TestFlagsRefuseBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the flag and the value must both be named
	}{
		{[]string{"-w", "0"}, `invalid value "0" for flag -w: must be at least 1`},
		{[]string{"--workers", "many"}, `invalid value "many" for flag -workers: must be a whole number`},
		{[]string{"-t", "-3"}, `invalid value "-3" for flag -t`},
		{[]string{"--timeout", "soon"}, `invalid value "soon" for flag -timeout: must be seconds`},
		{[]string{"--graceful-timeout", "-1s"}, `invalid value "-1s" for flag -graceful-timeout: must not be negative`},
		{[]string{"-b", "localhost"}, `invalid value "localhost" for flag -b: must be host:port`},
		{[]string{"-b", "127.0.0.1:99999"}, `invalid value "127.0.0.1:99999" for flag -b: port must be a number from 0 to 65535`},
		{[]string{"--bind", "unix:"}, `invalid value "unix:" for flag -bind: unix: needs a socket path`},
		{[]string{"--log-level", "loud"}, `invalid value "loud" for flag -log-level: must be one of debug`},
		{[]string{"--limit-request-line", "9000"}, `invalid value "9000" for flag -limit-request-line: must be at most 8190`},
		{[]string{"--max-requests", "-5"}, `invalid value "-5" for flag -max-requests: must be at least 0`},
	} {
		var cfg Config
		err := parseFlags(t, &cfg, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}

func TestConfigFlagNotRegistered(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	new(Config).RegisterFlags(fs)
	for _, name := range []string{"c", "config"} {
		if fs.Lookup(name) != nil {
			t.Errorf("-%s is registered; the entry owns it", name)
		}
	}
	fs.String("c", "", "the entry's config directory") // must not panic
}

func TestDefaults(t *testing.T) {
	t.Setenv("PORT", "")
	t.Setenv("WEB_CONCURRENCY", "")
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind[0] != "127.0.0.1:8000" || c.Workers != runtime.GOMAXPROCS(0) || c.Timeout != 30*time.Second ||
		c.GracefulTimeout != 30*time.Second || c.KeepAlive != 5*time.Second || c.LimitRequestLine != 4094 ||
		c.LimitRequestFields != 100 || c.LimitRequestFieldSize != 8190 || c.ErrorLog != "-" || c.LogLevel != "info" {
		t.Errorf("defaults: %+v", c)
	}

	t.Setenv("PORT", "5123")
	t.Setenv("WEB_CONCURRENCY", "7")
	c, err = Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind[0] != "0.0.0.0:5123" || c.Workers != 7 {
		t.Errorf("PORT/WEB_CONCURRENCY not applied: bind %v workers %d", c.Bind, c.Workers)
	}
	t.Setenv("WEB_CONCURRENCY", "lots")
	if _, err := (Config{}).withDefaults(); err == nil || !strings.Contains(err.Error(), `WEB_CONCURRENCY="lots"`) {
		t.Errorf("bad WEB_CONCURRENCY: %v", err)
	}
}

func TestPrintAndCheckConfig(t *testing.T) {
	var out bytes.Buffer
	printOut = &out
	t.Cleanup(func() { printOut = os.Stdout })
	cfg := Config{Values: Values{Bind: []string{"127.0.0.1:0"}, Workers: 2, PrintConfig: true}}
	if err := Run(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "workers = 2\n") || !strings.Contains(out.String(), "timeout = 30\n") {
		t.Errorf("print-config:\n%s", out.String())
	}

	out.Reset()
	cfg = Config{Values: Values{Bind: []string{"127.0.0.1:0"}, Workers: 2, CheckConfig: true}}
	ok := func() (http.Handler, error) { return http.NotFoundHandler(), nil }
	if err := Run(cfg, ok); err != nil || !strings.Contains(out.String(), "OK") {
		t.Errorf("check-config of a good app: %v, %q", err, out.String())
	}
	bad := func() (http.Handler, error) { return nil, errors.New("no database") }
	if err := Run(cfg, bad); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("check-config of a failing app: %v", err)
	}
	cfg.Bind = []string{"nope"}
	if err := Run(cfg, ok); err == nil || !strings.Contains(err.Error(), `bind "nope"`) {
		t.Errorf("check-config of a bad bind: %v", err)
	}
}

func TestBindUnixRemovesStaleSocketOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sock")
	// a stale socket file: bound, then the listener's fd closed without unlink
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	lns, err := Bind([]string{"unix:" + path})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	// a live one is refused
	if _, err := Bind([]string{"unix:" + path}); err == nil || !strings.Contains(err.Error(), "another process is listening") {
		t.Errorf("second bind on a live socket: %v", err)
	}
	lns[0].Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after close: %v", err)
	}
	// a regular file is never removed
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Bind([]string{"unix:" + path}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("bind over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Error("a regular file was replaced")
	}
}

func TestBindFailsWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	free := filepath.Join(t.TempDir(), "a.sock")
	_, err = Bind([]string{"unix:" + free, ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("bind on a taken port: %v", err)
	}
	if _, err := os.Stat(free); !os.IsNotExist(err) {
		t.Error("the first listener was left open after the second failed")
	}
}

func TestListenerFilesKeepNonBlockingAndCloexec(t *testing.T) {
	lns, err := Bind([]string{"127.0.0.1:0", "[::1]:0"})
	if err != nil {
		lns, err = Bind([]string{"127.0.0.1:0"}) // no IPv6 here
		if err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	files, err := ListenerFiles(lns)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		fl, err := fcntl(int(f.Fd()), syscall.F_GETFL)
		if err != nil {
			t.Fatal(err)
		}
		if fl&syscall.O_NONBLOCK == 0 {
			t.Errorf("listener %d: duplicate is blocking", i)
		}
		fd, err := fcntl(int(f.Fd()), syscall.F_GETFD)
		if err != nil {
			t.Fatal(err)
		}
		if fd&syscall.FD_CLOEXEC == 0 {
			t.Errorf("listener %d: duplicate lacks close-on-exec", i)
		}
		f.Close()
	}
	// the originals still accept
	c, err := net.Dial("tcp", lns[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func fcntl(fd, cmd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func TestInheritEnv(t *testing.T) {
	t.Setenv("LISTEN_FDS", "2")
	t.Setenv("LISTEN_PID", "1")
	t.Setenv(EnvListenFDs, "9")
	t.Setenv(envWorkerID, "4")
	t.Setenv("PREFORK_UNRELATED", "kept")
	f1, f2 := os.NewFile(100, "a"), os.NewFile(101, "b")
	env := strings.Join(InheritEnv([]*os.File{f1, f2}, []string{"127.0.0.1:80", "unix:/x,y"}), "\n") + "\n"
	for _, want := range []string{"PREFORK_LISTEN_FDS=2\n", "PREFORK_LISTEN_NAMES=127.0.0.1:80,unix:/x_y\n", "PREFORK_UNRELATED=kept\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q", want)
		}
	}
	for _, gone := range []string{"LISTEN_FDS=", "LISTEN_PID=", "PREFORK_LISTEN_FDS=9", envWorkerID + "="} {
		if strings.Contains(env, "\n"+gone) || strings.HasPrefix(env, gone) {
			t.Errorf("env keeps %q", gone)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"30": 30 * time.Second, "0.5": 500 * time.Millisecond, "30s": 30 * time.Second, "1m": time.Minute, "0": 0} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// TestRuntimeLogFollowsFormat: the runtime's own log (--error-logfile, --log-syslog) is
// written in the configured format, JSON lines for "json", and an unknown one is refused.
func TestRuntimeLogFollowsFormat(t *testing.T) {
	for _, format := range []string{"json", "text", ""} {
		path := filepath.Join(t.TempDir(), "error.log")
		lg, err := observe.NewLog(&Values{ErrorLog: path, LogLevel: "info", LogFormat: format}, nil)
		if err != nil {
			t.Fatal(err)
		}
		lg.Info("listening", "address", "127.0.0.1:1")
		lg.Log(context.Background(), settings.LevelCritical, "worker timed out")
		lg.Close()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 {
			t.Fatalf("%q: %d lines:\n%s", format, len(lines), data)
		}
		for _, line := range lines {
			var rec map[string]any
			isJSON := json.Unmarshal([]byte(line), &rec) == nil
			if isJSON != (format == "json") {
				t.Errorf("format %q wrote %q", format, line)
			}
		}
		if format == "json" && !strings.Contains(lines[1], `"level":"CRITICAL"`) {
			t.Errorf("critical in JSON: %s", lines[1])
		}
	}
	if _, err := (Config{Values: Values{LogFormat: "yaml"}}).withDefaults(); err == nil || !strings.Contains(err.Error(), `log-format=yaml: must be text or json`) {
		t.Errorf("log format yaml: %v", err)
	}
}

// OtherSettings leaves out what config.yaml's server section prints, so --print-config
// prints each value once.
func TestOtherSettingsLeaveOutTheServerSection(t *testing.T) {
	t.Setenv("PORT", "")
	t.Setenv("WEB_CONCURRENCY", "")
	lines, err := (Config{}).OtherSettings()
	if err != nil {
		t.Fatal(err)
	}
	for _, held := range []string{"bind = ", "workers = ", "timeout = ", "keepalive = ", "backlog = ", "worker_connections = ", "bind_mode = ", "max_worker_memory = "} {
		for _, l := range lines {
			if strings.HasPrefix(l, held) {
				t.Errorf("other settings hold %q", l)
			}
		}
	}
	for _, want := range []string{"limit_request_line = 4094", "loglevel = info", "umask = ", "read_header_timeout = 10"} {
		if !slices.Contains(lines, want) {
			t.Errorf("other settings lack %q", want)
		}
	}
}

// Each peer list is checked by withDefaults and parsed into the typed lists the
// serving chain uses (servingConfig); a bad one is refused naming its own setting.
func TestPeerListsParsedOnceNamingTheSetting(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Values: Values{Workers: 1, ForwardedAllowIPs: "nginx"}}, `forwarded-allow-ips="nginx": "nginx" is not an IP address`},
		{Config{Values: Values{Workers: 1, ProxyAllowFrom: "10.0.0.0/99"}}, `proxy-allow-from="10.0.0.0/99": "10.0.0.0/99" is not`},
		{Config{Values: Values{Workers: 1, UwsgiAllowFrom: "gw"}}, `uwsgi-allow-from="gw": "gw" is not`},
	} {
		_, err := tc.c.withDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, settings.ErrInvalid) {
			t.Errorf("error = %v, want one containing %s wrapping ErrInvalid", err, tc.want)
		}
	}
	c, err := Config{Values: Values{Workers: 1, ForwardedAllowIPs: "10.0.0.0/8"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.servingConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Peers.Forwarded.TrustsIP(netip.MustParseAddr("10.1.2.3")) || sc.Peers.Forwarded.TrustsIP(netip.MustParseAddr("192.0.2.1")) {
		t.Error("forwarded list not the one set")
	}
	if sc.Peers.ProxyFrom != sc.Peers.Forwarded {
		t.Error("proxy-allow-from unset: want the forwarded list")
	}
	if !sc.Peers.Gateway.TrustsIP(netip.MustParseAddr("127.0.0.1")) {
		t.Error("uwsgi-allow-from: want its default, 127.0.0.1")
	}
}
