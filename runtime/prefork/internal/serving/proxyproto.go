package serving

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultProxyProtocolTimeout bounds how long a peer may take to send its
// PROXY header.
const defaultProxyProtocolTimeout = 5 * time.Second

// proxyV2Signature starts every PROXY protocol version 2 header.
var ProxyV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// errProxyHeader is wrapped by errors reading a malformed PROXY header.
var errProxyHeader = errors.New("prefork: invalid PROXY protocol header")

// proxyProtocolListener wraps ln so that connections from trusted peers
// (the same list as --forwarded-allow-ips; unix socket peers included) may
// start with a PROXY protocol v1 or v2 header, whose source address then
// becomes the connection's RemoteAddr. As in Gunicorn the header is
// optional from a trusted peer (health checks connect directly); from
// other peers it is never parsed, so a "PROXY ..." line from them is just
// a bad HTTP request.
//
// Accept never reads: the header is read on the connection's first Read,
// RemoteAddr or LocalAddr call, in the connection's own goroutine, within
// timeout (defaultProxyProtocolTimeout when 0), so a silent peer holds
// neither the accept loop nor a goroutine for long.
//
// version "v1" or "v2" accepts only that version (--proxy-protocol v1|v2); ""
// either.
func ProxyProtocolListener(ln net.Listener, trusted *TrustedProxies, version string, timeout time.Duration) net.Listener {
	if timeout <= 0 {
		timeout = defaultProxyProtocolTimeout
	}
	return &proxyProtoListener{Listener: ln, trusted: trusted, timeout: timeout, version: version}
}

type proxyProtoListener struct {
	net.Listener
	trusted *TrustedProxies
	timeout time.Duration
	version string
}

func (l *proxyProtoListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !l.trusted.TrustsAddr(c.RemoteAddr()) {
		return c, nil
	}
	return &proxyConn{Conn: c, timeout: l.timeout, version: l.version}, nil
}

// proxyConn reads the optional PROXY header before anything else.
type proxyConn struct {
	net.Conn
	timeout time.Duration
	version string

	once   sync.Once
	br     *bufio.Reader
	remote net.Addr
	local  net.Addr
	err    error

	mu           sync.Mutex
	readDeadline time.Time // the caller's, restored after the header
}

func (c *proxyConn) init() {
	c.once.Do(func() {
		c.remote, c.local = c.Conn.RemoteAddr(), c.Conn.LocalAddr()
		c.br = bufio.NewReaderSize(c.Conn, 256)
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		var err error
		if c.version != "" {
			err = checkProxyVersion(c.br, c.version)
		}
		var src, dst net.Addr
		if err == nil {
			src, dst, err = ReadProxyHeader(c.br)
		}
		c.mu.Lock()
		_ = c.Conn.SetReadDeadline(c.readDeadline)
		c.mu.Unlock()
		if err != nil {
			c.err = err
			return
		}
		if src != nil {
			c.remote, c.local = src, dst
		}
	})
}

func (c *proxyConn) Read(p []byte) (int, error) {
	c.init()
	if c.err != nil {
		return 0, c.err
	}
	return c.br.Read(p)
}

func (c *proxyConn) RemoteAddr() net.Addr { c.init(); return c.remote }
func (c *proxyConn) LocalAddr() net.Addr  { c.init(); return c.local }

func (c *proxyConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	return c.Conn.SetReadDeadline(t)
}

func (c *proxyConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	return c.Conn.SetDeadline(t)
}

// readProxyHeader consumes a PROXY header if the stream starts with one.
// It returns nil addresses when there is none, or it says LOCAL/UNKNOWN.
// It only peeks as far as needed to tell, so a short plain request is not
// held waiting for bytes that will never come.
func ReadProxyHeader(br *bufio.Reader) (src, dst net.Addr, err error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, nil, err
	}
	switch first[0] {
	case 'P':
		if b, err := br.Peek(6); err != nil || string(b) != "PROXY " {
			return nil, nil, nil // "POST", "PUT", "PATCH"
		}
		return readProxyV1(br)
	case '\r':
		if b, err := br.Peek(len(ProxyV2Signature)); err != nil || !bytes.Equal(b, ProxyV2Signature) {
			return nil, nil, nil
		}
		return readProxyV2(br)
	}
	return nil, nil, nil
}

// readProxyV1 parses "PROXY TCP4 src dst sport dport\r\n" (at most 107 bytes).
func readProxyV1(br *bufio.Reader) (net.Addr, net.Addr, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, fmt.Errorf("%w: v1 line longer than 107 bytes", errProxyHeader)
		}
		return nil, nil, fmt.Errorf("%w: v1 line: %v", errProxyHeader, err)
	}
	if len(line) > 107 || !bytes.HasSuffix(line, []byte("\r\n")) {
		return nil, nil, fmt.Errorf("%w: v1 line must end in CRLF within 107 bytes", errProxyHeader)
	}
	f := strings.Split(string(line[:len(line)-2]), " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return nil, nil, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, nil, fmt.Errorf("%w: v1 %q", errProxyHeader, line)
	}
	src, err1 := parseV1Addr(f[2], f[4], f[1] == "TCP6")
	dst, err2 := parseV1Addr(f[3], f[5], f[1] == "TCP6")
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("%w: v1 %q", errProxyHeader, line)
	}
	return src, dst, nil
}

func parseV1Addr(ip, port string, v6 bool) (net.Addr, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is6() != v6 || a.Zone() != "" {
		return nil, errors.New("bad address")
	}
	if port == "" || (len(port) > 1 && port[0] == '0') {
		return nil, errors.New("bad port")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, errors.New("bad port")
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(p))), nil
}

// readProxyV2 parses the binary header: signature, version/command,
// family/transport, length, addresses, then TLVs (skipped).
func readProxyV2(br *bufio.Reader) (net.Addr, net.Addr, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: v2 header: %v", errProxyHeader, err)
	}
	if hdr[12]>>4 != 2 {
		return nil, nil, fmt.Errorf("%w: v2 version %d", errProxyHeader, hdr[12]>>4)
	}
	cmd, fam := hdr[12]&0xf, hdr[13]
	n := int(binary.BigEndian.Uint16(hdr[14:16]))
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, nil, fmt.Errorf("%w: v2 body of %d bytes: %v", errProxyHeader, n, err)
	}
	switch cmd {
	case 0: // LOCAL: the proxy's own health check
		return nil, nil, nil
	case 1: // PROXY
	default:
		return nil, nil, fmt.Errorf("%w: v2 command %d", errProxyHeader, cmd)
	}
	switch fam >> 4 {
	case 1: // AF_INET
		if n < 12 {
			return nil, nil, fmt.Errorf("%w: v2 IPv4 addresses need 12 bytes, got %d", errProxyHeader, n)
		}
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10]))
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[4:8])), binary.BigEndian.Uint16(body[10:12]))
		return net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst), nil
	case 2: // AF_INET6
		if n < 36 {
			return nil, nil, fmt.Errorf("%w: v2 IPv6 addresses need 36 bytes, got %d", errProxyHeader, n)
		}
		src := netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])), binary.BigEndian.Uint16(body[32:34]))
		dst := netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[16:32])), binary.BigEndian.Uint16(body[34:36]))
		return net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst), nil
	}
	return nil, nil, nil // AF_UNSPEC / AF_UNIX: keep the real peer
}

// checkProxyVersion refuses a PROXY header of the other version than
// --proxy-protocol v1|v2 asks for (v1 starts "PROXY ", v2 with "\r\n\r\n").
func checkProxyVersion(br *bufio.Reader, version string) error {
	b, err := br.Peek(1)
	if err != nil {
		return nil // readProxyHeader reports it
	}
	switch {
	case version == "v1" && b[0] == '\r':
		return errors.New("prefork: PROXY protocol v2 header refused: --proxy-protocol v1")
	case version == "v2" && b[0] == 'P':
		return errors.New("prefork: PROXY protocol v1 header refused: --proxy-protocol v2")
	}
	return nil
}
