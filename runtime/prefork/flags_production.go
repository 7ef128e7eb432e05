package prefork

import (
	"errors"
	"flag"
)

// registerProductionFlags registers the flags of the production features,
// with Gunicorn's names where Gunicorn has the setting. It is
// called at the end of RegisterFlags.
func (c *Config) registerProductionFlags(fs *flag.FlagSet) {
	fs.Var(&stringFlag{p: &c.AccessLog}, "access-logfile", `access log file, "-" for stdout (default: no access log)`)
	fs.Var(&accessFormatFlag{p: &c.AccessLogFormat}, "access-logformat", `access log format: Gunicorn atoms like %(h)s %(r)s, or "json" (default Gunicorn's combined format)`)
	fs.Var(&trustedFlag{p: &c.ForwardedAllowIPs}, "forwarded-allow-ips", `proxies whose X-Forwarded-For/-Proto/-Host and PROXY headers are trusted: IPs, CIDRs, "*" or "none"; unix socket peers always (default "127.0.0.1,::1")`)
	fs.BoolVar(&c.ProxyProtocol, "proxy-protocol", c.ProxyProtocol, "accept PROXY protocol v1/v2 headers from the --forwarded-allow-ips peers")
	fs.Var(&byteSizeFlag{p: &c.MaxWorkerMemory}, "max-worker-memory", `recycle a worker whose resident memory exceeds this ("512MiB", "1GB", bytes); 0 = never`)
	fs.Var(&stringFlag{p: &c.ControlSocket}, "control-socket", "unix socket (mode 0600) serving status, reload and scale commands")
	fs.Var(&stringFlag{p: &c.CertFile}, "certfile", "TLS certificate file (PEM): serve HTTPS, with --keyfile")
	fs.Var(&stringFlag{p: &c.KeyFile}, "keyfile", "TLS private key file (PEM), with --certfile")
	both := func(v flag.Value, short, long, usage string) {
		fs.Var(v, short, usage+" (short for --"+long+")")
		fs.Var(v, long, usage)
	}
	both(&stringFlag{p: &c.User}, "u", "user", "switch worker processes (and the master, after binding) to this user, name or uid")
	both(&stringFlag{p: &c.Group}, "g", "group", "switch worker processes (and the master, after binding) to this group, name or gid")
	both(&octalFlag{p: &c.Umask, name: "umask", max: 0o777}, "m", "umask", "octal umask for files the server creates, e.g. 0o027 (default: inherited)")
	fs.Var(&octalFlag{p: &c.BindMode, name: "bind-mode", max: 0o777}, "bind-mode", "octal mode of bound unix sockets, e.g. 0660 so a web server's group can connect")
	fs.Var(&stringFlag{p: &c.BindGroup}, "bind-group", "group owning bound unix sockets, name or gid (e.g. www-data for nginx)")
	fs.BoolVar(&c.ReusePort, "reuse-port", c.ReusePort, "set SO_REUSEPORT on the TCP sockets bound (and --health-bind), so another process can bind the same port")
	fs.Var(&healthBindFlag{p: &c.HealthBind}, "health-bind", "address (host:port or unix:/path) where the master serves /livez, /readyz and /startupz probes (default: off)")
	fs.Var(&durationFlag{p: &c.UpgradeTimeout}, "upgrade-timeout", "seconds a new master started by USR2 has to become ready before it is killed (default 60)")
	c.registerMetricsFlags(fs)
}

type accessFormatFlag struct{ p *string }

func (f *accessFormatFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *accessFormatFlag) Set(s string) error {
	if _, err := newAccessLogTo(nil, s); err != nil {
		return errors.New(trimPkg(err))
	}
	*f.p = s
	return nil
}

type trustedFlag struct{ p *string }

func (f *trustedFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *trustedFlag) Set(s string) error {
	if _, err := parseTrustedProxies(s); err != nil {
		return errors.New(trimPkg(err))
	}
	if s == "" {
		s = "none" // Gunicorn's empty list: trust no IP (the zero value means the default)
	}
	*f.p = s
	return nil
}

type byteSizeFlag struct{ p *int64 }

func (f *byteSizeFlag) String() string {
	if f == nil || f.p == nil || *f.p == 0 {
		return "0"
	}
	return formatBytes(*f.p)
}

func (f *byteSizeFlag) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return errors.New(trimPkg(err))
	}
	*f.p = n
	return nil
}

type octalFlag struct {
	p    *string
	name string
	max  uint64
}

func (f *octalFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *octalFlag) Set(s string) error {
	if _, err := parseOctalMode(f.name, s, f.max); err != nil {
		return errors.New(trimPkg(err))
	}
	*f.p = s
	return nil
}

// trimPkg drops the "prefork: " prefix: the flag package names the flag itself.
func trimPkg(err error) string {
	s := err.Error()
	if len(s) > 9 && s[:9] == "prefork: " {
		return s[9:]
	}
	return s
}

type healthBindFlag struct{ p *string }

func (f *healthBindFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *healthBindFlag) Set(s string) error {
	a, err := parseAddr(s)
	if err != nil {
		return errors.Unwrap(err)
	}
	if a.network == "fd" {
		return errors.New("must be host:port or unix:/path")
	}
	*f.p = s
	return nil
}
