package prefork

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// The request policy: what a request must look like before the app sees
// it, Gunicorn 27's rules with Gunicorn's statuses. net/http's own parser
// is lenient where a proxy in front may read the same bytes differently
// (both Content-Length and Transfer-Encoding, obsolete line folding, a
// chunk size with a sign...), so on the plain HTTP/1 path the connection
// reader (strictconn.go) checks each request head and chunked body against
// this policy before net/http reads them. Paths without that reader (TLS,
// uwsgi, FastCGI) get limitsHandler, the part of it a parsed request still
// shows.

// refusal is a request the policy refuses: the status Gunicorn answers
// with and why.
type refusal struct {
	status int
	reason string
}

func refuse(status int, reason string) *refusal { return &refusal{status: status, reason: reason} }

// bodyFraming is how a request head says its body ends.
type bodyFraming uint8

const (
	bodyNone    bodyFraming = iota // no body: the next request follows the head
	bodyLength                     // Content-Length bytes
	bodyChunked                    // chunked transfer coding
)

// requestPolicy holds the limits (Gunicorn's limit_request_line, _fields,
// _field_size; 0 = unlimited) and which header names may carry "_".
type requestPolicy struct {
	line      int
	fields    int
	fieldSize int
	maxHead   int      // bytes of a head before 431, whatever its lines
	forwarder []string // --forwarder-headers: names with "_" a trusted peer may send
	h2c       bool     // HTTP/2 prior knowledge is served: a trusted peer's preface passes
}

func newRequestPolicy(cfg Config, forwarder []string) *requestPolicy {
	protos := cfg.HTTPProtocols
	if protos == "" {
		protos = DefaultHTTPProtocols
	}
	return &requestPolicy{
		line: max(cfg.LimitRequestLine, 0), fields: max(cfg.LimitRequestFields, 0), fieldSize: max(cfg.LimitRequestFieldSize, 0),
		maxHead: maxHeaderBytes(cfg), forwarder: forwarder,
		h2c: settings.H2CPriorKnowledgeOn(cfg.HTTP2Cleartext) && strings.Contains(protos, "h2"),
	}
}

// strictHTTP1 reports whether requests reach the server as plain HTTP/1
// bytes the connection reader can check (not TLS, uwsgi or FastCGI).
func (c Config) strictHTTP1() bool {
	return (c.Protocol == "" || c.Protocol == "http") && c.CertFile == "" && c.KeyFile == ""
}

// token is RFC 9110's tchar: the bytes of a method or a field name.
var token = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// fieldCtl marks the bytes a field value may not hold (RFC 9110 5.5): the
// control characters but HTAB, and DEL.
var fieldCtl = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t'
	}
	t[0x7f] = true
	return t
}()

// targetCtl marks the bytes a request target may not hold: controls,
// space and DEL (27.0: no control characters in the path).
var targetCtl = func() (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	t[0x7f] = true
	return t
}()

// anyOf reports whether b holds a byte marked in set, where set marks only
// bytes below limit (at most 0x80) and DEL. Eight bytes at a time: this
// runs over every header value of every request.
func anyOf(b []byte, set *[256]bool, limit uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		del := x ^ (ones * 0x7f)
		if ((x-ones*limit)&^x|(del-ones)&^del)&highs != 0 { // a byte below limit, or DEL
			for _, c := range b[:8] {
				if set[c] {
					return true
				}
			}
		}
		b = b[8:]
	}
	for _, c := range b {
		if set[c] {
			return true
		}
	}
	return false
}

// headInfo is what a request head that passed says of itself.
type headInfo struct {
	size    int // bytes, up to the empty line; 0: no complete head yet
	framing bodyFraming
	length  int64 // Content-Length bytes (bodyLength)
	noHost  bool  // HTTP/1.1 without Host: Gunicorn serves it, net/http would not
}

// checkHead applies the policy to a request head at the start of data:
// the request line, then header lines up to the empty line that ends the
// head. It returns what the head says (size 0 while data holds no complete
// head and nothing in it is refused yet), or why the request is refused.
// trusted says whether the peer may send the --forwarder-headers.
func (p *requestPolicy) checkHead(data []byte, trusted bool) (headInfo, *refusal) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return headInfo{}, nil
	}
	if i < 1 || data[i-1] != '\r' {
		return headInfo{}, refuse(400, "Invalid HTTP request line")
	}
	line := data[:i-1]
	if p.line > 0 && len(line) > p.line {
		return headInfo{}, refuse(http.StatusRequestURITooLong, "Request Line is too large")
	}
	version, ref := p.checkRequestLine(line)
	if ref != nil {
		return headInfo{}, ref
	}
	off := i + 1
	var (
		fields                     int
		host, ctype, chunked       bool
		clen                       int64 = -1
		te                         bool
		teLastChunked, teForbidden bool
		scheme                     byte // 'h' or 's' once a trusted scheme header said http or https
	)
	for {
		rest := data[off:]
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return headInfo{}, nil
		}
		if j < 1 || rest[j-1] != '\r' {
			return headInfo{}, refuse(400, "Invalid HTTP Header: bare LF")
		}
		off += j + 1
		l := rest[:j-1]
		if len(l) == 0 {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			return headInfo{}, refuse(400, "Obsolete line folding is unacceptable")
		}
		fields++
		if p.fields > 0 && fields > p.fields {
			return headInfo{}, refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields")
		}
		name, value, ref := p.checkField(l, trusted)
		if ref != nil {
			return headInfo{}, ref
		}
		if off < len(data) && (data[off] == ' ' || data[off] == '\t') {
			return headInfo{}, refuse(400, "Obsolete line folding is unacceptable")
		}
		switch len(name) {
		case 4:
			if asciiEqualFold(name, "host") {
				if host {
					return headInfo{}, refuse(400, "Invalid HTTP Header: duplicate Host")
				}
				host = true
			}
		case 6:
			if asciiEqualFold(name, "expect") && !asciiEqualFold(trimOWS(value), "100-continue") {
				return headInfo{}, refuse(http.StatusExpectationFailed, "Unable to comply with expectation")
			}
		case 12:
			if asciiEqualFold(name, "content-type") {
				if ctype {
					return headInfo{}, refuse(400, "Invalid HTTP Header: duplicate Content-Type")
				}
				ctype = true
			}
		case 14:
			if asciiEqualFold(name, "content-length") {
				if clen >= 0 {
					return headInfo{}, refuse(400, "Invalid HTTP Header: duplicate Content-Length")
				}
				if clen = parseLength(trimOWS(value)); clen < 0 {
					return headInfo{}, refuse(400, "Invalid HTTP Header: Content-Length is not a number")
				}
			}
		case 15:
			if trusted && asciiEqualFold(name, "x-forwarded-ssl") && !sameScheme(&scheme, trimOWS(value), "on") {
				return headInfo{}, refuse(400, "Contradictory scheme headers")
			}
		case 20:
			if trusted && asciiEqualFold(name, "x-forwarded-protocol") && !sameScheme(&scheme, trimOWS(value), "ssl") {
				return headInfo{}, refuse(400, "Contradictory scheme headers")
			}
		case 17:
			if trusted && asciiEqualFold(name, "x-forwarded-proto") && !sameScheme(&scheme, trimOWS(value), "https") {
				return headInfo{}, refuse(400, "Contradictory scheme headers")
			}
			if asciiEqualFold(name, "transfer-encoding") {
				te = true
				for _, coding := range strings.Split(string(value), ",") {
					coding = strings.Trim(coding, " \t")
					switch {
					case strings.EqualFold(coding, "chunked"):
						if chunked {
							teForbidden = true // stacked chunking
						}
						chunked, teLastChunked = true, true
					case strings.EqualFold(coding, "identity"), strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "deflate"), strings.EqualFold(coding, "compress"):
						if chunked {
							teForbidden = true // chunked must come last
						}
						teLastChunked = false
					default:
						return headInfo{}, refuse(http.StatusNotImplemented, "Unsupported transfer coding")
					}
				}
			}
		}
	}
	switch {
	case te && (teForbidden || !teLastChunked):
		return headInfo{}, refuse(400, "Invalid HTTP Header: Transfer-Encoding must end in chunked")
	case chunked && version < 11:
		return headInfo{}, refuse(400, "Invalid HTTP Header: chunked in HTTP/1.0")
	case chunked && clen >= 0:
		return headInfo{}, refuse(400, "Invalid HTTP Header: both Content-Length and Transfer-Encoding")
	}
	h := headInfo{size: off, framing: bodyNone, noHost: !host && version >= 11 && !bytes.HasPrefix(data, []byte("CONNECT "))}
	switch {
	case chunked:
		h.framing = bodyChunked
	case clen > 0:
		h.framing, h.length = bodyLength, clen
	}
	return h, nil
}

// sameScheme is Gunicorn's secure_scheme_headers rule, with its default
// (from a trusted peer, X-Forwarded-Proto https, X-Forwarded-Ssl on,
// X-Forwarded-Protocol ssl mean https, any other value http): the scheme
// headers of a request must agree. secure is this header's https value.
func sameScheme(seen *byte, value []byte, secure string) bool {
	s := byte('h')
	if string(value) == secure {
		s = 's'
	}
	if *seen == 0 {
		*seen = s
	}
	return *seen == s
}

// checkRequestLine checks method, target and version; it returns the
// version as 10 or 11 (HTTP/1.x, x > 1, counts as 11).
func (p *requestPolicy) checkRequestLine(line []byte) (int, *refusal) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return 0, refuse(400, "Invalid HTTP request line")
	}
	method, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return 0, refuse(400, "Invalid HTTP request line")
	}
	target, version := rest[:sp], rest[sp+1:]
	// Gunicorn's conventional method: 3-20 token characters, no lower case or '#'
	if len(method) < 3 || len(method) > 20 {
		return 0, refuse(400, "Invalid HTTP method")
	}
	for _, c := range method {
		if !token[c] || c == '#' || c >= 'a' && c <= 'z' {
			return 0, refuse(400, "Invalid HTTP method")
		}
	}
	if len(target) == 0 {
		return 0, refuse(400, "Invalid HTTP request line")
	}
	if anyOf(target, &targetCtl, ' '+1) {
		return 0, refuse(400, "Invalid HTTP request line: control character in the target")
	}
	switch {
	case target[0] == '/':
	case len(target) == 1 && target[0] == '*':
		if string(method) != "OPTIONS" {
			return 0, refuse(400, "Invalid HTTP request line: * is for OPTIONS only")
		}
	case string(method) != "CONNECT" && !bytes.Contains(target, []byte("://")):
		return 0, refuse(400, "Invalid HTTP request line: authority form is for CONNECT only")
	}
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' || version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9' {
		return 0, refuse(400, "Invalid HTTP Version")
	}
	if version[5] != '1' {
		return 0, refuse(400, "Invalid HTTP Version")
	}
	if version[7] == '0' {
		return 10, nil
	}
	return 11, nil
}

// checkField checks one header line, in Gunicorn's order: a name of token
// characters right before the colon (no whitespace), a value without
// control characters, the line within limit_request_field_size. The value
// comes back untrimmed (trimOWS).
func (p *requestPolicy) checkField(l []byte, trusted bool) (name, value []byte, ref *refusal) {
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return nil, nil, refuse(400, "Invalid HTTP Header")
	}
	name = l[:colon]
	underscore := false
	for _, c := range name {
		if !token[c] {
			return nil, nil, refuse(400, "Invalid HTTP header name")
		}
		underscore = underscore || c == '_'
	}
	value = l[colon+1:]
	if anyOf(value, &fieldCtl, ' ') {
		return nil, nil, refuse(400, "Invalid HTTP Header: control character in the value")
	}
	if p.fieldSize > 0 && len(l)+2 > p.fieldSize {
		return nil, nil, refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields size")
	}
	// X_Forwarded_For could be merged with X-Forwarded-For downstream (CGI
	// names): refused, but for the forwarder headers from a trusted peer
	if underscore && !(trusted && p.isForwarder(name)) {
		return nil, nil, refuse(400, "Invalid HTTP header name: "+string(name))
	}
	return name, value, nil
}

// trimOWS drops the optional whitespace around a field value.
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

func (p *requestPolicy) isForwarder(name []byte) bool {
	for _, f := range p.forwarder {
		if asciiEqualFold(name, f) {
			return true
		}
	}
	return false
}

// parseLength reads Content-Length: ASCII digits only (no sign, no
// spaces inside, at most 18 digits); -1 otherwise.
func parseLength(v []byte) int64 {
	if len(v) == 0 || len(v) > 18 {
		return -1
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// policyHandler is the request policy's part in the handler chain. Where
// the connection reader checked each head (strictHTTP1), it answers the
// stand-in of a refused request with the refusal, and applies the limits
// to HTTP/2 requests only (h2c: the reader passed their frames untouched);
// elsewhere it applies the limits to every request.
func policyHandler(cfg Config, log func(msg string, args ...any), next http.Handler) http.Handler {
	limited := limitsHandler(cfg, next)
	if !cfg.strictHTTP1() {
		return limited
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 {
			limited.ServeHTTP(w, r)
			return
		}
		if r.Method != refusedMethod {
			next.ServeHTTP(w, r)
			return
		}
		c, _ := r.Context().Value(strictConnKey{}).(*strictConn)
		var ref *refusal
		if c != nil {
			ref = c.refused.Load()
		}
		if ref == nil { // a client's own method of that name: no refusal on its connection
			next.ServeHTTP(w, r)
			return
		}
		log("invalid request", "peer", c.RemoteAddr().String(), "status", ref.status, "err", ref.reason)
		w.Header().Set("Connection", "close")
		http.Error(w, ref.reason, ref.status)
	})
}

// limitsHandler enforces Gunicorn's limit_request_line (414),
// limit_request_fields and limit_request_field_size (431) on a parsed
// request: for the paths the connection reader does not see (TLS, uwsgi,
// FastCGI, HTTP/2).
func limitsHandler(cfg Config, next http.Handler) http.Handler {
	line, fields, size := cfg.LimitRequestLine, cfg.LimitRequestFields, cfg.LimitRequestFieldSize
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if line > 0 && len(r.Method)+len(r.RequestURI)+len(r.Proto)+2 > line {
			w.Header().Set("Connection", "close")
			http.Error(w, "request line too long", http.StatusRequestURITooLong)
			return
		}
		if fields > 0 || size > 0 {
			n := 0
			if r.Host != "" {
				n++
			}
			for k, vs := range r.Header {
				n += len(vs)
				for _, v := range vs {
					if size > 0 && len(k)+2+len(v) > size {
						w.Header().Set("Connection", "close")
						http.Error(w, "request header field too large: "+k, http.StatusRequestHeaderFieldsTooLarge)
						return
					}
				}
			}
			if fields > 0 && n > fields {
				w.Header().Set("Connection", "close")
				http.Error(w, "too many request header fields", http.StatusRequestHeaderFieldsTooLarge)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
