package serving

import (
	"bytes"
	"net/http"
)

// Each path in turns what it received into the policy's common shape
// (headCheck): the HTTP/1 reader from the bytes as they came, the other
// transports from what their own parser kept.

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
