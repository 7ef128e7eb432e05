package settings

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Defaults of the Gunicorn 24..26 settings, as in Gunicorn unless noted on
// Config.
const (
	DefaultBacklog                   = 2048
	DefaultWorkerConnections         = 1000
	DefaultUwsgiAllowFrom            = "127.0.0.1,::1"
	DefaultHTTPProtocols             = "h1,h2"
	DefaultHTTP2MaxConcurrentStreams = 100
	DefaultHTTP2InitialWindowSize    = 65535
	DefaultHTTP2MaxFrameSize         = 16384
	DefaultHTTP2MaxHeaderListSize    = 65536
	DefaultForwarderHeaders          = "SCRIPT_NAME,PATH_INFO"
	DefaultSyslogTo                  = "udp://localhost:514"
	DefaultControlSocketMode         = "0600"
)

// GunicornDefaults applies the defaults of the Gunicorn 24..26 settings and
// validates them (called by prefork's withDefaults), so settings built in Go or
// from config.yaml are checked like the flags.
func GunicornDefaults(c *Values) error {
	orDefault(&c.Backlog, DefaultBacklog)
	orDefault(&c.WorkerConnections, DefaultWorkerConnections)
	orDefault(&c.HTTP2MaxConcurrentStreams, DefaultHTTP2MaxConcurrentStreams)
	orDefault(&c.HTTP2InitialWindowSize, DefaultHTTP2InitialWindowSize)
	orDefault(&c.HTTP2MaxFrameSize, DefaultHTTP2MaxFrameSize)
	orDefault(&c.HTTP2MaxHeaderListSize, DefaultHTTP2MaxHeaderListSize)
	orDefault(&c.Protocol, "http")
	orDefault(&c.UwsgiAllowFrom, DefaultUwsgiAllowFrom)
	orDefault(&c.HTTPProtocols, DefaultHTTPProtocols)
	orDefault(&c.ForwarderHeaders, DefaultForwarderHeaders)
	orDefault(&c.SyslogTo, DefaultSyslogTo)
	orDefault(&c.SyslogFacility, "user")
	orDefault(&c.ControlSocketMode, DefaultControlSocketMode)
	orDefault(&c.Ciphers, DefaultCiphers)

	// Every value through its flag's own check, so config.yaml and Go
	// callers get the flag's rule in the error.
	for _, chk := range []struct {
		name, val string
	}{
		{"protocol", c.Protocol}, {"http-protocols", c.HTTPProtocols},
		{"forwarder-headers", c.ForwarderHeaders}, {"log-syslog-to", c.SyslogTo}, {"log-syslog-facility", c.SyslogFacility},
		{"control-socket-mode", c.ControlSocketMode}, {"ciphers", c.Ciphers}, {"root-path", c.RootPath},
		{"http2-cleartext", c.HTTP2Cleartext},
	} {
		var probe Values
		if err := ByLong(chk.name).Value(&probe).Set(chk.val); err != nil {
			return fmt.Errorf("prefork: %s=%q: %v: %w", chk.name, chk.val, err, ErrInvalid)
		}
	}
	// Whole numbers whose rule a Go caller can break too, through the same rule.
	for _, chk := range []struct {
		name string
		val  int
	}{{"backlog", c.Backlog}, {"workers", c.Workers}} {
		var probe Values
		if err := ByLong(chk.name).Value(&probe).Set(strconv.Itoa(chk.val)); err != nil {
			return fmt.Errorf("prefork: %s=%d: %v: %w", chk.name, chk.val, strings.TrimPrefix(err.Error(), "prefork: "), ErrInvalid)
		}
	}
	c.HTTP2Cleartext, _ = ParseH2CMode(c.HTTP2Cleartext) // checked above: one spelling from here
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, ErrInvalid)
	}
	switch {
	case c.CertReqs < 0 || c.CertReqs > 2:
		return bad("cert-reqs", c.CertReqs, "must be 0 (none), 1 (optional) or 2 (required)")
	case c.CertReqs > 0 && c.CACerts == "":
		return bad("cert-reqs", c.CertReqs, "needs --ca-certs FILE to verify client certificates against")
	case c.CertReqs > 0 && c.CertFile == "":
		return bad("cert-reqs", c.CertReqs, "needs TLS: --certfile and --keyfile")
	case c.Protocol != "http" && c.CertFile != "":
		return bad("protocol", c.Protocol, "takes no TLS (--certfile): nginx terminates TLS and talks "+c.Protocol+" to the app")
	case c.Protocol != "http" && c.ProxyProtocol:
		return bad("protocol", c.Protocol, "takes no --proxy-protocol: nginx passes the client address in the request")
	case c.HTTP2Cleartext != "" && c.HTTP2Cleartext != H2COff && !strings.Contains(c.HTTPProtocols, "h2"):
		return bad("http2-cleartext", c.HTTP2Cleartext, "needs h2 in --http-protocols")
	case c.ProxyProtocolVersion != "" && c.ProxyProtocolVersion != "v1" && c.ProxyProtocolVersion != "v2":
		return bad("proxy-protocol", c.ProxyProtocolVersion, "must be off, v1, v2 or auto")
	}
	if c.CACerts != "" {
		if _, err := LoadCertPool(c.CACerts); err != nil {
			return err
		}
	}
	for _, kv := range c.Env {
		if err := CheckEnvPair(kv); err != nil {
			return bad("env", kv, err.Error())
		}
	}
	if c.Chdir != "" {
		if fi, err := os.Stat(c.Chdir); err != nil || !fi.IsDir() {
			return bad("chdir", c.Chdir, "must be an existing directory")
		}
	}
	return nil
}
