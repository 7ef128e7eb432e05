package prefork

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

func TestProductionFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{
		"--access-logfile", "-", "--access-logformat", "json", "--forwarded-allow-ips", "10.0.0.0/8,::1",
		"--proxy-protocol", "--max-worker-memory", "512MiB", "--control-socket", "/run/app/ctl.sock",
		"--certfile", "c.pem", "--keyfile", "k.pem", "-u", "nobody", "--group", "nogroup", "-m", "027",
		"--bind-mode", "0660", "--bind-group", "nogroup", "--upgrade-timeout", "90",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Values: Values{AccessLog: "-", AccessLogFormat: "json", ForwardedAllowIPs: "10.0.0.0/8,::1", ProxyProtocol: true, MaxWorkerMemory: 512 << 20, ControlSocket: "/run/app/ctl.sock", CertFile: "c.pem", KeyFile: "k.pem", User: "nobody", Group: "nogroup", Umask: "0027", BindMode: "0660", BindGroup: "nogroup", UpgradeTimeout: 90 * time.Second}}
	got := c
	if got.AccessLog != want.AccessLog || got.AccessLogFormat != want.AccessLogFormat || got.ForwardedAllowIPs != want.ForwardedAllowIPs ||
		got.ProxyProtocol != want.ProxyProtocol || got.MaxWorkerMemory != want.MaxWorkerMemory || got.ControlSocket != want.ControlSocket ||
		got.CertFile != want.CertFile || got.KeyFile != want.KeyFile || got.User != want.User || got.Group != want.Group ||
		got.Umask != want.Umask || got.BindMode != want.BindMode || got.BindGroup != want.BindGroup || got.UpgradeTimeout != want.UpgradeTimeout {
		t.Errorf("flags parsed into\n%+v\nwant\n%+v", got, want)
	}

	var e Config
	fs = flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.RegisterFlags(fs)
	if err := fs.Parse([]string{"--forwarded-allow-ips", ""}); err != nil || e.ForwardedAllowIPs != "none" {
		t.Errorf(`--forwarded-allow-ips "" must mean no IP peer: %q %v`, e.ForwardedAllowIPs, err)
	}

	for _, bad := range [][]string{
		{"--access-logformat", "%(zz)s"},
		{"--forwarded-allow-ips", "localhost"},
		{"--max-worker-memory", "lots"},
		{"--umask", "999"},
		{"--bind-mode", "rw"},
		{"--upgrade-timeout", "-3"},
	} {
		var c Config
		var out bytes.Buffer
		fs := flag.NewFlagSet("app", flag.ContinueOnError)
		fs.SetOutput(&out)
		c.RegisterFlags(fs)
		err := fs.Parse(bad)
		if err == nil || !strings.Contains(err.Error(), strings.TrimLeft(bad[0], "-")) || !strings.Contains(err.Error(), bad[1]) {
			t.Errorf("%v: want an error naming the flag and value, got %v", bad, err)
		}
	}
}

func TestProductionDefaultsValidate(t *testing.T) {
	c, err := Config{Values: Values{Workers: 1}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessLogFormat != observe.DefaultAccessLogFormat || c.ForwardedAllowIPs != DefaultForwardedAllowIPs || c.UpgradeTimeout != DefaultUpgradeTimeout {
		t.Errorf("defaults not applied: %q %q %v", c.AccessLogFormat, c.ForwardedAllowIPs, c.UpgradeTimeout)
	}
	for _, bad := range []Config{
		{Values: Values{Workers: 1, CertFile: "only-cert.pem"}},
		{Values: Values{Workers: 1, User: "no-such-user-xyz"}},
		{Values: Values{Workers: 1, BindGroup: "no-such-group-xyz"}},
		{Values: Values{Workers: 1, MaxWorkerMemory: -1}},
		{Values: Values{Workers: 1, AccessLogFormat: "%(q"}},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v: want a validation error", bad)
		}
	}
	var out bytes.Buffer
	c.printConfig(&out)
	for _, line := range []string{"accesslog = \n", "forwarded_allow_ips = 127.0.0.1,::1\n", "max_worker_memory = 0\n", "upgrade_timeout = 60\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("--print-config lacks %q:\n%s", line, out.String())
		}
	}
}
