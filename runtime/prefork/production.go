package prefork

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// DefaultUpgradeTimeout is how long a new master started by USR2 has to
// report ready before it is killed and the old master carries on.
const DefaultUpgradeTimeout = 60 * time.Second

// productionDefaults applies the defaults of the production settings and
// validates them (called by withDefaults).
func (c *Config) productionDefaults() error {
	if c.AccessLogFormat == "" {
		c.AccessLogFormat = DefaultAccessLogFormat
	}
	if c.ForwardedAllowIPs == "" {
		c.ForwardedAllowIPs = DefaultForwardedAllowIPs
	}
	if c.UpgradeTimeout == 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if err := c.metricsDefaults(); err != nil {
		return err
	}
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, errInvalid)
	}
	if _, err := newAccessLogTo(io.Discard, c.AccessLogFormat); err != nil {
		return err
	}
	if _, err := parseTrustedProxies(c.ForwardedAllowIPs); err != nil {
		return err
	}
	if c.MaxWorkerMemory < 0 {
		return bad("max-worker-memory", c.MaxWorkerMemory, "must not be negative")
	}
	if c.UpgradeTimeout < 0 {
		return bad("upgrade-timeout", c.UpgradeTimeout, "must be positive")
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if _, err := newCertReloader(c.CertFile, c.KeyFile); err != nil {
			return err
		}
	}
	if c.HealthBind != "" {
		a, err := parseAddr(c.HealthBind)
		if err != nil {
			return fmt.Errorf("prefork: health-bind: %w", errors.Unwrap(err))
		}
		if a.network == "fd" {
			return bad("health-bind", c.HealthBind, "must be host:port or unix:/path")
		}
	}
	if c.Umask != "" {
		if _, err := parseOctalMode("umask", c.Umask, 0o777); err != nil {
			return err
		}
	}
	if c.BindMode != "" {
		if _, err := parseOctalMode("bind-mode", c.BindMode, 0o777); err != nil {
			return err
		}
	}
	if c.BindGroup != "" {
		if _, err := lookupGroupID(c.BindGroup); err != nil {
			return fmt.Errorf("prefork: --bind-group %s: %w", c.BindGroup, err)
		}
	}
	if _, err := lookupCredentials(c.User, c.Group); err != nil {
		return err
	}
	return nil
}

// productionConfigLines are the --print-config lines of the production settings.
func (c Config) productionConfigLines() []string {
	return append([]string{
		"accesslog = " + c.AccessLog,
		"access_log_format = " + c.AccessLogFormat,
		"bind_group = " + c.BindGroup,
		"bind_mode = " + c.BindMode,
		"certfile = " + c.CertFile,
		"control_socket = " + c.ControlSocket,
		"forwarded_allow_ips = " + c.ForwardedAllowIPs,
		"group = " + c.Group,
		"health_bind = " + c.HealthBind,
		"keyfile = " + c.KeyFile,
		"max_worker_memory = " + strconv.FormatInt(c.MaxWorkerMemory, 10),
		"proxy_protocol = " + strconv.FormatBool(c.ProxyProtocol),
		"reuse_port = " + strconv.FormatBool(c.ReusePort),
		"umask = " + c.Umask,
		"upgrade_timeout = " + seconds(c.UpgradeTimeout),
		"user = " + c.User,
	}, c.metricsConfigLines()...)
}

// serving is what a serving process (worker, or Serve's single process)
// adds around its listeners and handler: PROXY protocol, TLS, forwarded
// headers and the access log.
type serving struct {
	access  *accessLog
	trusted *trustedProxies
	certs   *certReloader
	proxy   bool
	metrics *requestMetrics // observe.go
	statsd  *statsdClient
}

func newServing(c Config) (*serving, error) {
	s := &serving{proxy: c.ProxyProtocol}
	var err error
	allow := c.ForwardedAllowIPs
	if allow == "" {
		allow = DefaultForwardedAllowIPs
	}
	if s.trusted, err = parseTrustedProxies(allow); err != nil {
		return nil, err
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if s.certs, err = newCertReloader(c.CertFile, c.KeyFile); err != nil {
			return nil, err
		}
	}
	if c.AccessLog != "" {
		if s.access, err = newAccessLog(c.AccessLog, c.AccessLogFormat); err != nil {
			return nil, err
		}
		s.access.setBuffer(c.AccessLogBuffer, c.AccessLogFlush)
	}
	if err := s.startObservability(c); err != nil {
		return nil, err
	}
	return s, nil
}

// listeners wraps each listener: PROXY protocol first (it precedes the TLS
// handshake on the wire), then TLS.
func (s *serving) listeners(lns []net.Listener) []net.Listener {
	out := make([]net.Listener, len(lns))
	for i, ln := range lns {
		if s.proxy {
			ln = proxyProtocolListener(ln, s.trusted, 0)
		}
		if s.certs != nil {
			ln = tls.NewListener(ln, s.certs.TLSConfig())
		}
		out[i] = ln
	}
	return out
}

// handler puts the request ID outermost (its trust is decided on the real
// peer), then the forwarded-header handling, so the access log, the metrics
// and the app see the client's address and scheme.
func (s *serving) handler(h http.Handler) http.Handler {
	return requestIDHandler(s.trusted, s.trusted.Handler(s.observe(h)))
}

// reopen reopens the access log (USR1) and re-reads the certificate.
func (s *serving) reopen() error {
	var errs []error
	if err := s.access.Reopen(); err != nil {
		errs = append(errs, err)
	}
	if s.certs != nil {
		if err := s.certs.Reload(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *serving) close() {
	s.access.Close()
	s.statsd.Close()
}

// prepareLogFile creates path (unless "-" or empty) and gives it to the
// user the processes will run as, so a worker that dropped privileges can
// still open it, as Gunicorn's workers inherit theirs.
func prepareLogFile(path string, cr *credentials) error {
	if path == "" || path == "-" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("prefork: log file: %w", err)
	}
	defer f.Close()
	if cr.needsChange() {
		if err := f.Chown(int(cr.UID), int(cr.GID)); err != nil {
			return fmt.Errorf("prefork: log file %s: chown to %s: %w", path, cr, err)
		}
	}
	return nil
}

// applyUmask sets --umask for the whole process (before anything is bound or created).
func applyUmask(c Config) {
	if c.Umask == "" {
		return
	}
	if m, err := parseOctalMode("umask", c.Umask, 0o777); err == nil {
		setUmask(int(m))
	}
}
