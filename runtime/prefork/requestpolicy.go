package prefork

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// The request policy: what a request must look like before the app sees
// it, Gunicorn 27's rules with Gunicorn's statuses, the same on every path
// in. net/http's own parser is lenient where a proxy in front may read the
// same bytes differently (both Content-Length and Transfer-Encoding,
// obsolete line folding, a chunk size with a sign...), so on the HTTP/1
// paths (plain, PROXY protocol, over TLS) the connection reader
// (strictconn.go) checks each request head and chunked body before net/http
// reads them. HTTP/2 (TLS, h2c), uwsgi and FastCGI requests are checked
// once their parser read them (checkRequest). Both go through
// headCheck, which owns the rules; servingChain.policyHandler answers and
// records a refusal (access log, metrics under http.route "_refused").

// refusal is a request the policy refuses: the status Gunicorn answers
// with and why.
type refusal struct {
	status int
	reason string
	line   string // the refused request line as received (HTTP/1 reader), cut at maxShownLine
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
	h2c       bool     // HTTP/2 prior knowledge is served: its preface passes
}

func newRequestPolicy(cfg Config, forwarder []string) *requestPolicy {
	protos := cfg.HTTPProtocols
	if protos == "" {
		protos = DefaultHTTPProtocols
	}
	return &requestPolicy{
		line: max(cfg.LimitRequestLine, 0), fields: max(cfg.LimitRequestFields, 0), fieldSize: max(cfg.LimitRequestFieldSize, 0),
		maxHead: maxHeaderBytes(cfg), forwarder: forwarder,
		h2c: cfg.HTTP2Cleartext && strings.Contains(protos, "h2"),
	}
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

// headCheck is the one place the policy's rules live. Every transport
// turns what it received into this common shape and calls it: the request
// line (requestPolicy.start), then each field in order (field), then end,
// which says how the body is framed. The HTTP/1 reader feeds it the bytes
// as they came (checkHead); HTTP/2, uwsgi and FastCGI feed it what their
// parser kept (checkRequest).
type headCheck struct {
	p                          *requestPolicy
	trusted                    bool // the peer may send the --forwarder-headers and scheme headers
	version                    int  // 10 or 11 (HTTP/1.x), 20 (HTTP/2)
	fields                     int
	host, ctype, chunked       bool
	clen                       int64
	te                         bool
	teLastChunked, teForbidden bool
	scheme                     byte // 'h' or 's' once a trusted scheme header said http or https
}

// start checks a request line of lineLen bytes (without its CRLF): its
// size against limit_request_line, the method and the target.
func (p *requestPolicy) start(method, target []byte, lineLen, version int, trusted bool) (headCheck, *refusal) {
	if p.line > 0 && lineLen > p.line {
		return headCheck{}, refuse(http.StatusRequestURITooLong, "Request Line is too large")
	}
	// Gunicorn's conventional method: 3-20 token characters, no lower case or '#'
	if len(method) < 3 || len(method) > 20 {
		return headCheck{}, refuse(400, "Invalid HTTP method")
	}
	for _, c := range method {
		if !token[c] || c == '#' || c >= 'a' && c <= 'z' {
			return headCheck{}, refuse(400, "Invalid HTTP method")
		}
	}
	if len(target) == 0 {
		return headCheck{}, refuse(400, "Invalid HTTP request line")
	}
	if anyOf(target, &targetCtl, ' '+1) {
		return headCheck{}, refuse(400, "Invalid HTTP request line: control character in the target")
	}
	switch {
	case target[0] == '/':
	case len(target) == 1 && target[0] == '*':
		if string(method) != "OPTIONS" {
			return headCheck{}, refuse(400, "Invalid HTTP request line: * is for OPTIONS only")
		}
	case string(method) != "CONNECT" && !bytes.Contains(target, []byte("://")):
		return headCheck{}, refuse(400, "Invalid HTTP request line: authority form is for CONNECT only")
	}
	return headCheck{p: p, trusted: trusted, version: version, clen: -1}, nil
}

// field checks one header field of lineSize bytes as sent (name, colon,
// value, CRLF), in Gunicorn's order: the count against
// limit_request_fields, a name of token characters right before the colon
// (no whitespace), a value without control characters, the size against
// limit_request_field_size, then what the field means (duplicates, framing,
// expectations, scheme headers). value may carry its optional whitespace.
func (h *headCheck) field(name, value []byte, lineSize int) *refusal {
	p := h.p
	h.fields++
	if p.fields > 0 && h.fields > p.fields {
		return refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields")
	}
	if len(name) == 0 {
		return refuse(400, "Invalid HTTP Header")
	}
	underscore := false
	for _, c := range name {
		if !token[c] {
			return refuse(400, "Invalid HTTP header name")
		}
		underscore = underscore || c == '_'
	}
	if anyOf(value, &fieldCtl, ' ') {
		return refuse(400, "Invalid HTTP Header: control character in the value")
	}
	if p.fieldSize > 0 && lineSize > p.fieldSize {
		return refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields size")
	}
	// X_Forwarded_For could be merged with X-Forwarded-For downstream (CGI
	// names): refused, but for the forwarder headers from a trusted peer
	if underscore && !(h.trusted && p.isForwarder(name)) {
		return refuse(400, "Invalid HTTP header name: "+string(name))
	}
	switch len(name) {
	case 4:
		if asciiEqualFold(name, "host") {
			if h.host {
				return refuse(400, "Invalid HTTP Header: duplicate Host")
			}
			h.host = true
		}
	case 6:
		// HTTP/2 has no 100-continue handshake of HTTP/1's kind: Gunicorn leaves its Expect alone
		if h.version < 20 && asciiEqualFold(name, "expect") && !asciiEqualFold(trimOWS(value), "100-continue") {
			return refuse(http.StatusExpectationFailed, "Unable to comply with expectation")
		}
	case 12:
		if asciiEqualFold(name, "content-type") {
			if h.ctype {
				return refuse(400, "Invalid HTTP Header: duplicate Content-Type")
			}
			h.ctype = true
		}
	case 14:
		if asciiEqualFold(name, "content-length") {
			if h.clen >= 0 {
				return refuse(400, "Invalid HTTP Header: duplicate Content-Length")
			}
			if h.clen = parseLength(trimOWS(value)); h.clen < 0 {
				return refuse(400, "Invalid HTTP Header: Content-Length is not a number")
			}
		}
	case 15:
		if h.trusted && asciiEqualFold(name, "x-forwarded-ssl") && !sameScheme(&h.scheme, trimOWS(value), "on") {
			return refuse(400, "Contradictory scheme headers")
		}
	case 20:
		if h.trusted && asciiEqualFold(name, "x-forwarded-protocol") && !sameScheme(&h.scheme, trimOWS(value), "ssl") {
			return refuse(400, "Contradictory scheme headers")
		}
	case 17:
		if h.trusted && asciiEqualFold(name, "x-forwarded-proto") && !sameScheme(&h.scheme, trimOWS(value), "https") {
			return refuse(400, "Contradictory scheme headers")
		}
		if asciiEqualFold(name, "transfer-encoding") {
			return h.transferCodings(value)
		}
	}
	return nil
}

// transferCodings follows a Transfer-Encoding value: known codings only
// (501 otherwise), chunked at most once and last.
func (h *headCheck) transferCodings(value []byte) *refusal {
	h.te = true
	for _, coding := range strings.Split(string(value), ",") {
		coding = strings.Trim(coding, " \t")
		switch {
		case strings.EqualFold(coding, "chunked"):
			if h.chunked {
				h.teForbidden = true // stacked chunking
			}
			h.chunked, h.teLastChunked = true, true
		case strings.EqualFold(coding, "identity"), strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "deflate"), strings.EqualFold(coding, "compress"):
			if h.chunked {
				h.teForbidden = true // chunked must come last
			}
			h.teLastChunked = false
		default:
			return refuse(http.StatusNotImplemented, "Unsupported transfer coding")
		}
	}
	return nil
}

// end applies the rules on the head as a whole and says how its body is
// framed.
func (h *headCheck) end() (headInfo, *refusal) {
	switch {
	case h.te && (h.teForbidden || !h.teLastChunked):
		return headInfo{}, refuse(400, "Invalid HTTP Header: Transfer-Encoding must end in chunked")
	case h.chunked && h.version < 11:
		return headInfo{}, refuse(400, "Invalid HTTP Header: chunked in HTTP/1.0")
	case h.chunked && h.clen >= 0:
		return headInfo{}, refuse(400, "Invalid HTTP Header: both Content-Length and Transfer-Encoding")
	}
	info := headInfo{framing: bodyNone}
	switch {
	case h.chunked:
		info.framing = bodyChunked
	case h.clen > 0:
		info.framing, info.length = bodyLength, h.clen
	}
	return info, nil
}

// checkHead is the HTTP/1 reader's conversion: it applies the policy
// to a request head at the start of data, the request line, then header
// lines up to the empty line that ends the head, checking on the way what
// only the bytes show (CRLF line ends, obsolete folding, the version's
// spelling). It returns what the head says (size 0 while data holds no
// complete head and nothing in it is refused yet), or why the request is
// refused. trusted says whether the peer may send the --forwarder-headers.
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
	method, target, version, ok := splitRequestLine(line)
	if !ok {
		return headInfo{}, refuse(400, "Invalid HTTP request line")
	}
	h, ref := p.start(method, target, len(line), 11, trusted)
	if ref != nil {
		return headInfo{}, ref
	}
	if h.version, ref = httpVersion(version); ref != nil {
		return headInfo{}, ref
	}
	off := i + 1
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
		colon := bytes.IndexByte(l, ':')
		if colon < 0 {
			colon = 0 // no name: refused as one
		}
		var value []byte
		if colon > 0 {
			value = l[colon+1:]
		}
		if ref := h.field(l[:colon], value, len(l)+2); ref != nil {
			return headInfo{}, ref
		}
		if off < len(data) && (data[off] == ' ' || data[off] == '\t') {
			return headInfo{}, refuse(400, "Obsolete line folding is unacceptable")
		}
	}
	info, ref := h.end()
	if ref != nil {
		return headInfo{}, ref
	}
	info.size = off
	info.noHost = !h.host && h.version >= 11 && !bytes.HasPrefix(data, []byte("CONNECT "))
	return info, nil
}

// splitRequestLine splits an HTTP/1 request line at its two spaces.
func splitRequestLine(line []byte) (method, target, version []byte, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return nil, nil, nil, false
	}
	method, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return nil, nil, nil, false
	}
	return method, rest[:sp], rest[sp+1:], true
}

// httpVersion reads an HTTP/1 request line's version, HTTP/1.x, as 10 or
// 11 (x > 1 counts as 11).
func httpVersion(v []byte) (int, *refusal) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || v[5] != '1' || v[7] < '0' || v[7] > '9' {
		return 0, refuse(400, "Invalid HTTP Version")
	}
	if v[7] == '0' {
		return 10, nil
	}
	return 11, nil
}

// checkRequest is the conversion for the transports whose own parser read
// the request (HTTP/2 over TLS and h2c, uwsgi, FastCGI):
// the request line rebuilt as it would be sent (method, target, protocol),
// the Host and then each header field, through the same headCheck. What
// only raw HTTP/1 bytes can show (line ends, folding) their framing cannot
// carry.
func (p *requestPolicy) checkRequest(r *http.Request, trusted bool) *refusal {
	target := r.RequestURI
	if target == "" { // net/http/cgi (FastCGI) keeps only the URL
		target = r.URL.RequestURI()
	}
	buf := make([]byte, 0, 512)
	buf = append(append(buf, r.Method...), target...)
	h, ref := p.start(buf[:len(r.Method)], buf[len(r.Method):], len(buf)+2+len(r.Proto), r.ProtoMajor*10+r.ProtoMinor, trusted)
	if ref != nil {
		return ref
	}
	field := func(k, v string) *refusal {
		buf = append(append(buf[:0], k...), v...)
		return h.field(buf[:len(k)], buf[len(k):], len(buf)+4) // "Name: value\r\n"
	}
	if r.Host != "" {
		if ref := field("Host", r.Host); ref != nil {
			return ref
		}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if ref := field(k, v); ref != nil {
				return ref
			}
		}
	}
	for _, te := range r.TransferEncoding { // net/http moved it out of r.Header
		if ref := field("Transfer-Encoding", te); ref != nil {
			return ref
		}
	}
	_, ref = h.end()
	return ref
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

// routeRefused is http.route of the requests the policy refused. They
// reached no route; a sentinel (as "_OTHER" for methods and for the routes
// past the series limit) keeps them in http.server.request.duration, counted
// by status code beside the served ones, instead of a second metric.
const routeRefused = "_refused"

// maxShownLine bounds the refused request line kept for the access log.
const maxShownLine = 256

// policyHandler is the request policy's part in the handler chain: inside
// the gateway variables (a uwsgi request's client and protocol), outside
// the request ID, the forwarded headers, the access log and the app. A
// request its connection reader checked passes, but for the stand-in of a
// refused one; any other (HTTP/2, uwsgi, FastCGI) is checked here, its
// peer's trust decided as the forwarded headers' is. A refusal is answered
// with Connection: close, logged and counted here; the app never sees it.
func (s *servingChain) policyHandler(next http.Handler) http.Handler {
	if s.policy == nil { // a chain built by hand, in a test
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ref *refusal
		if c, ok := r.Context().Value(strictConnKey{}).(*strictConn); ok && r.ProtoMajor == 1 {
			if r.Method == refusedMethod { // no client's method: longer than the policy allows
				ref = c.refused.Load()
			}
			if tc, ok := c.Conn.(*tls.Conn); ok && r.TLS == nil { // net/http saw the reader, not TLS
				st := tc.ConnectionState()
				r = r.WithContext(r.Context())
				r.TLS = &st
			}
		} else {
			ref = s.policy.checkRequest(r, s.trusted.TrustsRequest(r))
		}
		if ref == nil {
			next.ServeHTTP(w, r)
			return
		}
		s.refuse(w, r, ref)
	})
}

// refuse answers a refused request and makes it visible: a warning with
// the reason, an access log line (status, bytes) and the request duration
// histogram under routeRefused, with its status code.
func (s *servingChain) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	start := time.Now()
	if s.log != nil {
		s.log("invalid request", "peer", r.RemoteAddr, "status", ref.status, "err", ref.reason)
	}
	rec := &observe.ResponseRecorder{ResponseWriter: w}
	rec.Header().Set("Connection", "close")
	http.Error(rec, ref.reason, ref.status)
	d := time.Since(start)
	shown := ref.shown(r)
	if s.metrics != nil {
		a := observe.Attrs{Method: observe.SemconvMethod(shown.Method), Status: ref.status, Route: routeRefused,
			Scheme: serving.RequestScheme(r), Proto: observe.ProtocolVersion(r.ProtoMajor, r.ProtoMinor)}
		s.metrics.Observe(a, 0, rec.Bytes, d, "")
	}
	s.statsd.Request(ref.status, d)
	if s.access != nil {
		s.access.LogTraced(shown, ref.status, rec.Bytes, rec.Header(), start, d, "")
	}
}

// shown is the request as the access log shows it: for the stand-in of a
// refused HTTP/1 request, the line the reader refused (method, target and
// protocol as far as it splits, "-" for what is missing), without headers.
func (ref *refusal) shown(r *http.Request) *http.Request {
	if r.Method != refusedMethod {
		return r
	}
	r2 := r.WithContext(r.Context())
	r2.Header = http.Header{}
	method, rest, _ := strings.Cut(ref.line, " ")
	target, proto, _ := strings.Cut(rest, " ")
	r2.Method, r2.RequestURI, r2.Proto = orDash(method), orDash(target), orDash(proto)
	path, query, _ := strings.Cut(target, "?")
	r2.URL = &url.URL{Path: path, RawQuery: query}
	return r2
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
