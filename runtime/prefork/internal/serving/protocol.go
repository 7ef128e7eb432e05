package serving

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The uwsgi protocol (nginx uwsgi_pass) and FastCGI (fastcgi_pass) on the
// same listeners, limits and drain as HTTP.
//
// A uwsgi connection carries one request: a 4-byte header (modifier1,
// little-endian 16-bit size of the variables, modifier2), then the CGI
// variables as (16-bit length, key, 16-bit length, value) pairs, then the
// body. uwsgiConn turns that into an HTTP/1.0 request for net/http, so the
// http.Server (timeouts, limits, the handler chain) serves it unchanged;
// the response goes back as HTTP, which is what nginx's uwsgi module reads.
// The variables nginx sent (REMOTE_ADDR, HTTPS, SERVER_PROTOCOL) are applied
// to the request by gatewayHandler. FastCGI is served by net/http/fcgi.

// gatewayPeer is the context key of a uwsgi request's variables.
type gatewayPeerKey struct{}

// gatewayAllowListener refuses connections from peers outside allow (unix
// socket peers always pass), then wraps each accepted one with wrap.
type gatewayAllowListener struct {
	net.Listener
	allow *TrustedProxies
	wrap  func(net.Conn) net.Conn
	log   func(msg string, args ...any)
}

// GatewayListener is ln for a uwsgi or FastCGI front end: a peer outside allow
// (--uwsgi-allow-from; unix socket peers always pass) is refused and logged
// through log when set, and each accepted connection is wrapped by wrap when set
// (NewUwsgiConn for uwsgi).
func GatewayListener(ln net.Listener, allow *TrustedProxies, wrap func(net.Conn) net.Conn, log func(msg string, args ...any)) net.Listener {
	return &gatewayAllowListener{Listener: ln, allow: allow, wrap: wrap, log: log}
}

func (l *gatewayAllowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.allow.TrustsAddr(c.RemoteAddr()) {
			if l.log != nil {
				l.log("connection refused: peer not in --uwsgi-allow-from", "peer", c.RemoteAddr().String())
			}
			c.Close()
			continue
		}
		if l.wrap != nil {
			c = l.wrap(c)
		}
		return c, nil
	}
}

// uwsgiConn presents a uwsgi request as HTTP/1.0 to the server reading it.
type uwsgiConn struct {
	net.Conn
	once sync.Once
	br   *bufio.Reader
	head *bytes.Reader
	vars map[string]string
	err  error
}

func NewUwsgiConn(c net.Conn) net.Conn { return &uwsgiConn{Conn: c} }

func (c *uwsgiConn) Read(p []byte) (int, error) {
	c.once.Do(c.readHead)
	if c.err != nil {
		return 0, c.err
	}
	if c.head.Len() > 0 {
		return c.head.Read(p)
	}
	return c.br.Read(p)
}

func (c *uwsgiConn) readHead() {
	c.br = bufio.NewReaderSize(c.Conn, 4096)
	var h [4]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.err = err
		return
	}
	if h[0] != 0 || h[3] != 0 {
		c.err = fmt.Errorf("uwsgi: modifier %d/%d not supported (0/0 is a WSGI request)", h[0], h[3])
		return
	}
	block := make([]byte, binary.LittleEndian.Uint16(h[1:3]))
	if _, err := io.ReadFull(c.br, block); err != nil {
		c.err = err
		return
	}
	vars, err := parseUwsgiVars(block)
	if err != nil {
		c.err = err
		return
	}
	head, err := uwsgiHTTPHead(vars)
	if err != nil {
		c.err = err
		return
	}
	c.vars = vars
	c.head = bytes.NewReader(head)
}

func parseUwsgiVars(b []byte) (map[string]string, error) {
	vars := make(map[string]string, 32)
	next := func() (string, error) {
		if len(b) < 2 {
			return "", errors.New("uwsgi: truncated variables")
		}
		n := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+n {
			return "", errors.New("uwsgi: truncated variables")
		}
		s := string(b[2 : 2+n])
		b = b[2+n:]
		return s, nil
	}
	for len(b) > 0 {
		k, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		vars[k] = v
	}
	return vars, nil
}

// uwsgiHTTPHead writes the request line and headers of the variables. A
// value with CR, LF or NUL is refused: it could forge a header line of the
// head written here. Every other rule is the request policy's, applied to
// the request as net/http reads it back.
func uwsgiHTTPHead(vars map[string]string) ([]byte, error) {
	for k, v := range vars {
		if strings.ContainsAny(k, "\r\n\x00: ") || strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("uwsgi: variable %q has a forbidden character", k)
		}
	}
	method, uri := vars["REQUEST_METHOD"], vars["REQUEST_URI"]
	if uri == "" {
		uri = vars["SCRIPT_NAME"] + vars["PATH_INFO"]
		if q := vars["QUERY_STRING"]; q != "" {
			uri += "?" + q
		}
	}
	if method == "" || uri == "" || strings.ContainsAny(method+uri, " \t") {
		return nil, errors.New("uwsgi: REQUEST_METHOD and REQUEST_URI (or PATH_INFO) are required")
	}
	var b bytes.Buffer
	b.WriteString(method + " " + uri + " HTTP/1.0\r\n")
	host := vars["HTTP_HOST"]
	if host == "" {
		host = vars["SERVER_NAME"]
	}
	b.WriteString("Host: " + host + "\r\n")
	for k, v := range vars {
		name, ok := strings.CutPrefix(k, "HTTP_")
		if !ok || name == "HOST" || name == "CONNECTION" || name == "CONTENT_LENGTH" || name == "TRANSFER_ENCODING" || name == "CONTENT_TYPE" {
			continue
		}
		b.WriteString(strings.ReplaceAll(name, "_", "-") + ": " + v + "\r\n")
	}
	if ct := vars["CONTENT_TYPE"]; ct != "" {
		b.WriteString("Content-Type: " + ct + "\r\n")
	}
	if cl := vars["CONTENT_LENGTH"]; cl != "" { // its digits are the request policy's to check
		b.WriteString("Content-Length: " + cl + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// gatewayContext is the http.Server's ConnContext: a uwsgi connection's
// request can find its variables.
func GatewayContext(ctx context.Context, c net.Conn) context.Context {
	if uc, ok := c.(*uwsgiConn); ok {
		return context.WithValue(ctx, gatewayPeerKey{}, uc)
	}
	return ctx
}

// fromGateway reports whether r came over uwsgi: its RemoteAddr is then
// the client's as nginx saw it, not the socket peer's (net/http/fcgi sets
// no local address, so FastCGI requests are judged by RemoteAddr anyway).
func fromGateway(r *http.Request) bool {
	_, ok := r.Context().Value(gatewayPeerKey{}).(*uwsgiConn)
	return ok
}

// gatewayHandler applies a uwsgi request's variables: the client's address
// (REMOTE_ADDR, REMOTE_PORT), the scheme (HTTPS, REQUEST_SCHEME) and the
// protocol. FastCGI requests get this from net/http/fcgi itself.
func GatewayHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uc, ok := r.Context().Value(gatewayPeerKey{}).(*uwsgiConn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		// On a copy: net/http's response writer keeps the request it read (HTTP/1.0, from
		// uwsgiHTTPHead) and must not see SERVER_PROTOCOL's 1.1, or it chunks a long answer,
		// which nginx's uwsgi module passes on to the client chunk sizes and all.
		r = r.WithContext(r.Context())
		u := *r.URL
		r.URL = &u
		v := uc.vars
		if ip := v["REMOTE_ADDR"]; ip != "" {
			port := v["REMOTE_PORT"]
			if port == "" {
				port = "0"
			}
			r.RemoteAddr = net.JoinHostPort(ip, port)
		}
		if strings.EqualFold(v["HTTPS"], "on") || v["REQUEST_SCHEME"] == "https" {
			r.URL.Scheme = "https"
		}
		if p := v["SERVER_PROTOCOL"]; p != "" {
			if major, minor, ok := http.ParseHTTPVersion(p); ok {
				r.Proto, r.ProtoMajor, r.ProtoMinor = p, major, minor
			}
		}
		next.ServeHTTP(w, r)
	})
}

// connLimitListener holds Accept while max connections are open, so
// further clients wait in the listen backlog (--worker-connections).
type connLimitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

// NewConnLimitListener is ln holding Accept while max connections are open.
func NewConnLimitListener(ln net.Listener, max int) net.Listener {
	return &connLimitListener{Listener: ln, slots: make(chan struct{}, max), closed: make(chan struct{})}
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *connLimitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// FcgiListener tracks FastCGI connections so a quick stop can cut them
// (net/http/fcgi has no Shutdown) and sets a read deadline per connection
// so a silent peer does not hold a slot forever.
type FcgiListener struct {
	net.Listener
	idle  time.Duration
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// NewFcgiListener is ln with its FastCGI connections tracked; idle (0: none)
// is how long a connection may stay silent.
func NewFcgiListener(ln net.Listener, idle time.Duration) *FcgiListener {
	return &FcgiListener{Listener: ln, idle: idle, conns: map[net.Conn]struct{}{}}
}

// Open counts the connections open now.
func (l *FcgiListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *FcgiListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fc := &fcgiConn{Conn: c, l: l}
	if l.idle > 0 {
		fc.SetReadDeadline(time.Now().Add(l.idle))
	}
	l.mu.Lock()
	l.conns[fc] = struct{}{}
	l.mu.Unlock()
	return fc, nil
}

// CloseConns cuts every open connection (a quick stop).
func (l *FcgiListener) CloseConns() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns { // Close takes l.mu
		c.Close()
	}
}

type fcgiConn struct {
	net.Conn
	l *FcgiListener
}

// Read extends the deadline while the peer sends (nginx keeps the
// connection only for a request unless fastcgi_keep_conn is on).
func (c *fcgiConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.l.idle > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.l.idle))
	}
	return n, err
}

func (c *fcgiConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
