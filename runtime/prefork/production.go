package prefork

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// DefaultUpgradeTimeout is how long a new master started by USR2 has to
// report ready before it is killed and the old master carries on.
const DefaultUpgradeTimeout = 60 * time.Second

// productionDefaults applies the defaults of the production settings and
// validates them (called by withDefaults).
func (c *Config) productionDefaults() error {
	if c.AccessLogFormat == "" {
		c.AccessLogFormat = observe.DefaultAccessLogFormat
	}
	if c.ForwardedAllowIPs == "" {
		c.ForwardedAllowIPs = DefaultForwardedAllowIPs
	}
	if c.UpgradeTimeout == 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	c.canaryDefaults()
	if err := c.metricsDefaults(); err != nil {
		return err
	}
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, settings.ErrInvalid)
	}
	if _, err := observe.NewAccessLogTo(io.Discard, c.AccessLogFormat); err != nil {
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
		a, err := settings.ParseAddr(c.HealthBind)
		if err != nil {
			return fmt.Errorf("prefork: health-bind: %w", errors.Unwrap(err))
		}
		if a.Network == "fd" {
			return bad("health-bind", c.HealthBind, "must be host:port or unix:/path")
		}
	}
	return master.CheckCredentials(c.User, c.Group, c.BindGroup)
}

// servingChain is what a serving process (worker, or Serve's single process)
// adds around its listeners and handler: the connection limit, PROXY
// protocol, TLS or the uwsgi/FastCGI gateway, forwarded headers, the
// mount path and the access log.
type servingChain struct {
	access       *observe.AccessLog
	trusted      *serving.TrustedProxies
	proxyFrom    *serving.TrustedProxies
	gateway      *serving.TrustedProxies // --uwsgi-allow-from
	certs        *certReloader
	tlsOpts      tlsOptions
	proxy        bool
	proxyVersion string // --proxy-protocol v1|v2; "" either
	protocol     string
	maxConns     int
	rootPath     string
	forwarder    []string // canonical header keys of --forwarder-headers
	log          func(msg string, args ...any)
	metrics      *observe.RequestMetrics // observe.go
	statsd       *observe.StatsdClient
	policy       *requestPolicy // requestpolicy.go: every path in
	handshake    time.Duration  // a TLS handshake's limit: --read-header-timeout
}

func newServing(c Config) (*servingChain, error) {
	s := &servingChain{proxy: c.ProxyProtocol, proxyVersion: c.ProxyProtocolVersion, protocol: c.Protocol, maxConns: c.WorkerConnections, rootPath: c.RootPath}
	if c.peers.forwarded == nil {
		return nil, errors.New("prefork: internal error: a serving chain built from a configuration withDefaults did not parse")
	}
	s.trusted, s.proxyFrom, s.gateway = c.peers.forwarded, c.peers.proxyFrom, c.peers.gateway
	var err error
	if s.tlsOpts, err = newTLSOptions(c); err != nil {
		return nil, err
	}
	fh := c.ForwarderHeaders
	if fh == "" {
		fh = DefaultForwarderHeaders
	}
	for _, n := range strings.Split(fh, ",") {
		if n != "none" && n != "" {
			s.forwarder = append(s.forwarder, http.CanonicalHeaderKey(n))
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if s.certs, err = newCertReloader(c.CertFile, c.KeyFile); err != nil {
			return nil, err
		}
	}
	s.policy = newRequestPolicy(c, s.forwarder)
	s.handshake = max(c.ReadHeaderTimeout, 0)
	if c.AccessLog != "" {
		if s.access, err = observe.NewAccessLog(c.AccessLog, c.AccessLogFormat); err != nil {
			return nil, err
		}
		s.access.SetBuffer(c.AccessLogBuffer, c.AccessLogFlush)
	}
	if err := s.startObservability(c); err != nil {
		return nil, err
	}
	return s, nil
}

// listeners wraps each listener: the connection limit first (a client over
// it waits in the kernel's backlog), then the uwsgi/FastCGI allow-list, or
// PROXY protocol (it precedes the TLS handshake on the wire), then the
// request policy's connection reader (behind TLS for HTTP/1 over TLS).
func (s *servingChain) listeners(lns []net.Listener) []net.Listener {
	out := make([]net.Listener, len(lns))
	for i, ln := range lns {
		if s.maxConns > 0 {
			ln = serving.NewConnLimitListener(ln, s.maxConns)
		}
		switch s.protocol {
		case "uwsgi":
			ln = serving.GatewayListener(ln, s.gateway, serving.NewUwsgiConn, s.log)
		case "fastcgi":
			ln = serving.GatewayListener(ln, s.gateway, nil, s.log)
		default:
			if s.proxy {
				ln = serving.ProxyProtocolListener(ln, s.proxyFrom, s.proxyVersion, 0)
			}
			if s.certs != nil {
				ln = newStrictTLSListener(ln, s.certs.TLSConfig(s.tlsOpts), s.policy, s.trusted, s.handshake, s.log)
			} else {
				ln = &strictListener{Listener: ln, p: s.policy, trusted: s.trusted}
			}
		}
		out[i] = ln
	}
	return out
}

// handler puts the uwsgi variables outermost, then the request policy
// (requestpolicy.go), the request ID (its trust is decided on the client's
// peer, as the forwarded headers' is) and the
// forwarded-header handling, so the access log, the metrics and the app see
// the client's address and scheme, then the mount path (--root-path,
// SCRIPT_NAME from a trusted front end).
func (s *servingChain) handler(h http.Handler) http.Handler {
	return serving.GatewayHandler(s.policyHandler(serving.RequestIDHandler(s.trusted, s.trusted.Handler(s.forwarderHandler(s.observe(h))))))
}

// forwarderHandler keeps the --forwarder-headers only from trusted front
// ends (X-Forwarded-* rules) and strips the mount path: --root-path, or a
// trusted SCRIPT_NAME header.
func (s *servingChain) forwarderHandler(next http.Handler) http.Handler {
	if len(s.forwarder) == 0 && s.rootPath == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		root := s.rootPath
		present := false
		for _, k := range s.forwarder {
			if _, ok := r.Header[k]; ok {
				present = true
			}
		}
		if present {
			if !s.trusted.TrustsRequest(r) {
				for _, k := range s.forwarder {
					r.Header.Del(k)
				}
			} else if sn := observe.HeaderFirst(r.Header, "Script_name"); sn != "" && slices.Contains(s.forwarder, "Script_name") {
				root = strings.TrimRight(sn, "/")
			}
		}
		if root != "" {
			if rest, ok := strings.CutPrefix(r.URL.Path, root); ok && (rest == "" || rest[0] == '/') {
				r2 := new(http.Request)
				*r2 = *r
				u := *r.URL
				u.Path = rest
				if u.Path == "" {
					u.Path = "/"
				}
				u.RawPath = ""
				r2.URL = &u
				r = r2
				if st := serving.StateOf(r.Context()); st != nil {
					st.Root = root // http.route is the full path's
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// reopen reopens the access log (USR1) and re-reads the certificate.
func (s *servingChain) reopen() error {
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

func (s *servingChain) close() {
	s.access.Close()
	s.statsd.Close()
}
