package serving

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// The request policy: what a request must look like before the app sees
// it, Gunicorn 27's rules with Gunicorn's statuses, the same on every path
// in. net/http's own parser is lenient where a proxy in front may read the
// same bytes differently (both Content-Length and Transfer-Encoding,
// obsolete line folding, a chunk size with a sign...), so on the HTTP/1
// paths (plain, PROXY protocol, over TLS) the connection reader
// (strictconn.go) checks each request head and chunked body before net/http
// reads them. HTTP/2 (TLS, h2c), uwsgi and FastCGI requests are checked
// once their parser read them (checkRequest). Both conversions
// (requesthead.go) go through headCheck, here, which owns the rules; the
// chunked body's are chunked.go's. ServingChain.policyHandler
// (policychain.go) answers and records a refusal (access log, metrics
// under http.route "_refused").

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
	// chunked under other codings, or in more than one field: net/http
	// reads neither, so the HTTP/1 reader rewrites the head (transfercoding.go)
	bodyChunkedCoded
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
		protos = settings.DefaultHTTPProtocols
	}
	return &requestPolicy{
		line: max(cfg.LimitRequestLine, 0), fields: max(cfg.LimitRequestFields, 0), fieldSize: max(cfg.LimitRequestFieldSize, 0),
		maxHead: maxHeaderBytes(cfg), forwarder: forwarder,
		h2c: settings.H2CPriorKnowledgeOn(cfg.HTTP2Cleartext) && strings.Contains(protos, "h2"),
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
	teUnknown                  bool // a coding nobody knows, before any misplaced one
	teRewrite                  bool // a second field, or a coding but chunked (identity too)
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
	case !bracketsValid(target):
		return headCheck{}, refuse(400, "Invalid HTTP request line: \"[\" or \"]\" outside an IPv6 literal")
	}
	return headCheck{p: p, trusted: trusted, version: version, clen: -1}, nil
}

// bracketsValid reports whether the authority of an absolute-form target
// (after "://", up to the path, query or fragment) uses "[" and "]" only as
// Gunicorn's URL split accepts them: both or neither, the pair enclosing an
// IPv6 literal (hex digits, ":" and ".") at the start of the host.
func bracketsValid(target []byte) bool {
	i := bytes.Index(target, []byte("://"))
	if i < 0 {
		return true
	}
	auth := target[i+3:]
	if end := bytes.IndexAny(auth, "/?#"); end >= 0 {
		auth = auth[:end]
	}
	if at := bytes.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	lb, rb := bytes.IndexByte(auth, '['), bytes.IndexByte(auth, ']')
	if lb < 0 && rb < 0 {
		return true
	}
	if lb != 0 || rb < 0 || bytes.Count(auth, []byte("[")) != 1 || bytes.Count(auth, []byte("]")) != 1 {
		return false
	}
	for _, c := range auth[1:rb] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return rb == len(auth)-1 || auth[rb+1] == ':'
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
// Gunicorn judges the codings after every field passed, and stops at the
// first fault in the list: end answers for them (501 for an unknown coding,
// unless one chunked must not follow came first: 400).
func (h *headCheck) transferCodings(value []byte) *refusal {
	h.teRewrite = h.teRewrite || h.te
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
			h.teLastChunked, h.teRewrite = false, true
		case !h.teForbidden: // after a misplaced one: end's 400, as Gunicorn's
			h.teUnknown = true
		}
	}
	return nil
}

// end applies the rules on the head as a whole and says how its body is
// framed.
func (h *headCheck) end() (headInfo, *refusal) {
	switch {
	case h.teUnknown:
		return headInfo{}, refuse(http.StatusNotImplemented, "Unsupported transfer coding")
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
		if h.teRewrite {
			info.framing = bodyChunkedCoded
		}
	case h.clen > 0:
		info.framing, info.length = bodyLength, h.clen
	}
	return info, nil
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
