package serving

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// strictConn is the connection reader of the plain HTTP/1 path: it holds
// back each request head until it is complete and passes requestPolicy,
// then lets the head and its body through to net/http, following a chunked
// body's framing as it goes. net/http so never reads a request the policy
// refuses: in its place it reads a small request of its own (refusedMethod,
// Connection: close), which ServingChain.policyHandler answers with the refusal's
// status, in order after any earlier pipelined responses. A hijacked
// connection (WebSocket, CONNECT) and HTTP/2 after its prior-knowledge
// preface pass through untouched.
type strictConn struct {
	net.Conn
	p        *requestPolicy
	proxies  *TrustedProxies
	trust    int8 // the peer may send the --forwarder-headers: 1 yes, -1 no, 0 not known yet
	buf      []byte
	r, w     int // buf[r:w] is read from the connection, not yet delivered
	ready    int // buf[r:r+ready] has passed the policy
	state    strictState
	remain   int64 // Content-Length bytes left of the current body
	chunk    chunkScanner
	first    bool  // no request read yet (an HTTP/2 preface may come)
	searched int   // bytes of a partial head searched for its end
	err      error // why a chunked body broke the policy (stBroken)
	refused  atomic.Pointer[refusal]
	raw      atomic.Bool    // hijacked: bytes pass as they are
	coded    chunkedCodings // codings before chunked, per request (transfercoding.go)
}

type strictState uint8

const (
	stHead strictState = iota
	stLength
	stChunked
	stRaw     // HTTP/2 after its preface
	stRefused // the stand-in request is delivered; then EOF
	stBroken  // a chunked body broke the policy: its bytes so far, then c.err
)

// refusedMethod names the stand-in request: random per process, so no
// client can send it.
var refusedMethod = func() string {
	var b [8]byte
	rand.Read(b[:])
	return "PREFORK-REFUSED-" + strings.ToUpper(hex.EncodeToString(b[:]))
}()

var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// strictListener wraps each accepted connection in a strictConn.
type strictListener struct {
	net.Listener
	p       *requestPolicy
	trusted *TrustedProxies
}

func (l *strictListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// the peer's trust is decided at its first head, not here: behind PROXY
	// protocol, RemoteAddr waits for the header, which would hold Accept
	return &strictConn{Conn: c, p: l.p, proxies: l.trusted, chunk: chunkScanner{p: l.p}, first: true}, nil
}

// CloseWrite passes net/http's half-close on (after a refusal or any
// Connection: close answer): the client sees the answer, then EOF.
func (c *strictConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// refusedLinger and refusedDrain bound how long and how much a refused
// connection keeps reading before it closes (net/http's own 431 waits
// 500 ms the same way): a client still sending the rest of a request line
// over the limit would otherwise meet a reset and lose the answer.
const (
	refusedLinger = 500 * time.Millisecond
	refusedDrain  = 256 << 10
)

// Close closes the connection; after a refusal it first sends EOF after
// the answer and drops what the client still sends, for a moment, off
// the caller's goroutine.
func (c *strictConn) Close() error {
	if c.refused.Load() == nil || c.raw.Load() {
		return c.Conn.Close()
	}
	c.CloseWrite()
	go func() {
		c.Conn.SetReadDeadline(time.Now().Add(refusedLinger))
		io.CopyN(io.Discard, c.Conn, refusedDrain)
		c.Conn.Close()
	}()
	return nil
}

// trusted reports whether the peer (the client a PROXY header names, if
// any) is a trusted front end.
func (c *strictConn) trusted() bool {
	if c.trust == 0 {
		c.trust = -1
		if c.proxies.TrustsAddr(c.Conn.RemoteAddr()) {
			c.trust = 1
		}
	}
	return c.trust > 0
}

func (c *strictConn) Read(p []byte) (int, error) {
	for {
		if c.ready > 0 {
			n := copy(p, c.buf[c.r:c.r+c.ready])
			c.r += n
			c.ready -= n
			return n, nil
		}
		if c.raw.Load() || c.state == stRaw {
			if c.r < c.w {
				n := copy(p, c.buf[c.r:c.w])
				c.r += n
				return n, nil
			}
			return c.Conn.Read(p)
		}
		switch c.state {
		case stRefused:
			return 0, io.EOF
		case stBroken:
			return 0, c.err
		}
		if c.r < c.w && c.advance() {
			continue
		}
		if c.r == c.w && c.state == stLength { // a body with nothing held: straight through
			if int64(len(p)) > c.remain {
				p = p[:c.remain]
			}
			n, err := c.Conn.Read(p)
			if c.remain -= int64(n); c.remain == 0 {
				c.state = stHead
			}
			return n, err
		}
		if err := c.fill(); err != nil {
			if c.state == stChunked && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
}

// fill reads more of the connection into buf.
func (c *strictConn) fill() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	if c.w == len(c.buf) {
		if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		} else {
			c.buf = append(c.buf, make([]byte, max(4096, len(c.buf)))...)
		}
	}
	n, err := c.Conn.Read(c.buf[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	return err
}

// advance applies the policy to the bytes held; it reports whether some
// became ready (or the stand-in replaced them).
func (c *strictConn) advance() bool {
	data := c.buf[c.r:c.w]
	switch c.state {
	case stLength:
		n := int64(len(data))
		if n > c.remain {
			n = c.remain
		}
		c.ready = int(n)
		if c.remain -= n; c.remain == 0 {
			c.state = stHead
		}
		return n > 0
	case stChunked:
		n, done, ref := c.chunk.scan(data)
		c.ready = n
		if ref != nil {
			c.ready-- // up to the bad byte; net/http then reads an error
			c.err = errors.New("prefork: " + ref.reason)
			c.state = stBroken
		} else if done {
			c.state = stHead
		}
		return true
	}
	if c.first && c.p.h2c && bytes.HasPrefix(h2Preface, data[:min(len(data), len(h2Preface))]) && c.trusted() {
		if len(data) < len(h2Preface) {
			return false
		}
		c.state = stRaw
		return true
	}
	if c.searched > 0 && !bytes.Contains(data[c.searched-1:], []byte("\r\n\r\n")) {
		// a slow client's head: only what came since is searched for its end
		if ref := c.p.checkPartialHead(data, c.searched-1); ref != nil {
			c.refuse(ref)
			return true
		}
		c.searched = max(1, len(data)-2)
		return false
	}
	h, ref := c.p.checkHead(data, c.trusted())
	if ref == nil && h.size == 0 {
		ref = c.p.checkPartialHead(data, 0)
	} else if h.size > c.p.maxHead {
		ref = refuse(http.StatusRequestHeaderFieldsTooLarge, "max buffer headers")
	}
	if ref != nil {
		c.refuse(ref)
		return true
	}
	if h.size == 0 {
		c.searched = max(1, len(data)-2)
		return false
	}
	c.searched = 0
	if h.noHost {
		data = c.addEmptyHost()
		h.size += len(emptyHost)
	}
	if h.framing >= bodyChunked {
		data, h.size = c.passChunkedHead(h.size, h.framing == bodyChunkedCoded)
		h.framing = bodyChunked
	}
	head := data[:h.size]
	c.first = false
	c.ready = len(head)
	switch h.framing {
	case bodyLength:
		c.state, c.remain = stLength, h.length
	case bodyChunked:
		// the body bytes that came with the head are checked before the
		// head goes: a bad chunk among them refuses the whole request
		c.chunk = chunkScanner{p: c.p}
		n, done, ref := c.chunk.scan(data[len(head):])
		if ref != nil {
			c.ready = 0
			c.refuse(ref)
			return true
		}
		c.ready += n
		c.state = stChunked
		if done {
			c.state = stHead
		}
	}
	return true
}

// emptyHost is the field added to an HTTP/1.1 request without Host: Gunicorn
// serves those (RFC 9112 says 400), net/http accepts an empty Host.
const emptyHost = "Host: \r\n"

// addEmptyHost puts emptyHost after the request line of the head held at
// buf[r:] and returns the held bytes.
func (c *strictConn) addEmptyHost() []byte {
	data := c.buf[c.r:c.w]
	line := bytes.IndexByte(data, '\n') + 1
	b := make([]byte, 0, len(data)+len(emptyHost)+4096)
	b = append(append(append(b, data[:line]...), emptyHost...), data[line:]...)
	c.buf, c.r, c.w = b[:cap(b)], 0, len(b)
	return c.buf[:c.w]
}

// checkPartialHead refuses a head that cannot become valid however it
// goes on: a request line over limit_request_line (414), a head over the
// limits (431), a bare LF or an empty request line (400).
func (p *requestPolicy) checkPartialHead(data []byte, from int) *refusal {
	if len(data) >= 2 && data[0] == '\r' && data[1] == '\n' {
		return refuse(400, "Invalid HTTP request line: empty")
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		if p.line > 0 && len(data) > p.line+1 { // +1: the line's CR may be the last byte
			return refuse(http.StatusRequestURITooLong, "Request Line is too large")
		}
	} else if p.line > 0 && nl-1 > p.line {
		return refuse(http.StatusRequestURITooLong, "Request Line is too large")
	}
	for i := from; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			break
		}
		if i += j; i == 0 || data[i-1] != '\r' {
			return refuse(400, "Invalid HTTP line: bare LF")
		}
		i++
	}
	if len(data) > p.maxHead {
		return refuse(http.StatusRequestHeaderFieldsTooLarge, "max buffer headers")
	}
	return nil
}

// refuse puts the stand-in request in place of what is held: net/http
// reads it, ServingChain.policyHandler answers it, and the connection then ends.
func (c *strictConn) refuse(ref *refusal) {
	line := c.buf[c.r:c.w]
	line = line[:min(len(line), maxShownLine)]
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	ref.line = string(line)
	c.refused.Store(ref)
	c.buf = []byte(refusedMethod + " / HTTP/1.1\r\nHost: refused\r\nConnection: close\r\n\r\n")
	c.r, c.w, c.ready = 0, len(c.buf), len(c.buf)
	c.state = stRefused
}

// strictConnKey finds a request's strictConn in its context.
type strictConnKey struct{}

// strictContext is the http.Server's ConnContext part for strictConn.
func strictContext(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*strictConn); ok {
		return context.WithValue(ctx, strictConnKey{}, sc)
	}
	return ctx
}

// strictTLSListener is the TLS path's listener: it completes each
// handshake off the accept loop, then hands net/http an HTTP/2 connection
// (ALPN h2) as the *tls.Conn net/http needs to serve HTTP/2, and any other
// in a strictConn, so HTTP/1 over TLS meets the same connection reader as
// plain HTTP/1 (net/http's own parser joins folded lines and lets a bare
// LF or Content-Length beside chunked through). policyHandler gives such a
// request back its r.TLS.
type strictTLSListener struct {
	net.Listener
	conf      *tls.Config
	p         *requestPolicy
	trusted   *TrustedProxies
	handshake time.Duration // limit on a handshake; 0: none
	log       func(msg string, args ...any)
	start     sync.Once
	ready     chan net.Conn
	closed    chan struct{}
	stop      context.CancelFunc // ends the handshakes under way, on Close
	ctx       context.Context
	closeOnce sync.Once
	mu        sync.Mutex
	err       error // why the accept loop ended; net.ErrClosed after Close
}

func newStrictTLSListener(ln net.Listener, conf *tls.Config, p *requestPolicy, trusted *TrustedProxies, handshake time.Duration, log func(string, ...any)) *strictTLSListener {
	ctx, stop := context.WithCancel(context.Background())
	return &strictTLSListener{Listener: ln, conf: conf, p: p, trusted: trusted, handshake: handshake, log: log,
		ready: make(chan net.Conn), closed: make(chan struct{}), ctx: ctx, stop: stop}
}

func (l *strictTLSListener) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

// acceptLoop accepts until the listener closes; any other error (out of
// descriptors...) is waited out as net/http's Serve does, not made final.
func (l *strictTLSListener) acceptLoop() {
	var wait time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			wait = 0
			go l.serveHandshake(c)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			l.closeWith(err)
			return
		}
		wait = min(max(2*wait, 5*time.Millisecond), time.Second)
		if l.log != nil {
			l.log("accept failed, retrying", "err", err, "in", wait)
		}
		select {
		case <-time.After(wait):
		case <-l.closed:
			return
		}
	}
}

// serveHandshake completes c's handshake and queues it for Accept.
func (l *strictTLSListener) serveHandshake(c net.Conn) {
	tc := tls.Server(c, l.conf)
	if l.handshake > 0 {
		tc.SetDeadline(time.Now().Add(l.handshake))
	}
	if err := tc.HandshakeContext(l.ctx); err != nil {
		if l.log != nil && l.ctx.Err() == nil {
			l.log("TLS handshake error", "peer", c.RemoteAddr().String(), "err", err)
		}
		tc.Close()
		return
	}
	tc.SetDeadline(time.Time{})
	var out net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		out = &strictConn{Conn: tc, p: l.p, proxies: l.trusted, chunk: chunkScanner{p: l.p}}
	}
	select {
	case l.ready <- out:
	case <-l.closed:
		tc.Close()
	}
}

func (l *strictTLSListener) Close() error { return l.closeWith(net.ErrClosed) }

// closeWith closes the listener once; Accept then returns why.
func (l *strictTLSListener) closeWith(why error) error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.err = why
		l.mu.Unlock()
		close(l.closed)
		l.stop()
		err = l.Listener.Close()
	})
	return err
}
