package serving

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// ServingChain is what a serving process (worker, or Serve's single process)
// adds around its listeners and handler: the connection limit, PROXY
// protocol, TLS or the uwsgi/FastCGI gateway, forwarded headers, the
// mount path and the access log.
type ServingChain struct {
	access       *observe.AccessLog
	trusted      *TrustedProxies
	proxyFrom    *TrustedProxies
	gateway      *TrustedProxies // --uwsgi-allow-from
	certs        *CertReloader
	tlsOpts      TLSOptions
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

func newServing(c Config) (*ServingChain, error) {
	s := &ServingChain{proxy: c.ProxyProtocol, proxyVersion: c.ProxyProtocolVersion, protocol: c.Protocol, maxConns: c.WorkerConnections, rootPath: c.RootPath}
	if c.Peers.Forwarded == nil {
		return nil, errors.New("prefork: internal error: a serving chain built from a configuration withDefaults did not parse")
	}
	s.trusted, s.proxyFrom, s.gateway = c.Peers.Forwarded, c.Peers.ProxyFrom, c.Peers.Gateway
	var err error
	if s.tlsOpts, err = NewTLSOptions(c); err != nil {
		return nil, err
	}
	s.forwarder = forwarderKeys(c.ForwarderHeaders)
	if c.CertFile != "" || c.KeyFile != "" {
		if s.certs, err = NewCertReloader(c.CertFile, c.KeyFile); err != nil {
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
func (s *ServingChain) listeners(lns []net.Listener) []net.Listener {
	out := make([]net.Listener, len(lns))
	for i, ln := range lns {
		if s.maxConns > 0 {
			ln = NewConnLimitListener(ln, s.maxConns)
		}
		switch s.protocol {
		case "uwsgi":
			ln = GatewayListener(ln, s.gateway, NewUwsgiConn, s.log)
		case "fastcgi":
			ln = GatewayListener(ln, s.gateway, nil, s.log)
		default:
			if s.proxy {
				ln = ProxyProtocolListener(ln, s.proxyFrom, s.proxyVersion, 0)
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
func (s *ServingChain) handler(h http.Handler) http.Handler {
	return GatewayHandler(s.policyHandler(RequestIDHandler(s.trusted, s.trusted.Handler(s.forwarderHandler(s.observe(h))))))
}

// forwarderHandler keeps the --forwarder-headers only from trusted front
// ends (X-Forwarded-* rules) and strips the mount path: --root-path, or a
// trusted SCRIPT_NAME header.
func (s *ServingChain) forwarderHandler(next http.Handler) http.Handler {
	if len(s.forwarder) == 0 && s.rootPath == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		root := s.rootPath
		present := false
		if headOf(r).may(headForwarder) {
			for _, k := range s.forwarder {
				if _, ok := r.Header[k]; ok {
					present = true
				}
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
				if st := StateOf(r.Context()); st != nil {
					st.Root = root // http.route is the full path's
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// reopen reopens the access log (USR1) and re-reads the certificate.
func (s *ServingChain) reopen() error {
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

func (s *ServingChain) close() {
	s.access.Close()
	s.statsd.Close()
}
