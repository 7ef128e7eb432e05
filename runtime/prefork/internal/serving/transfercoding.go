package serving

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Transfer codings before chunked. Gunicorn serves a request whose
// Transfer-Encoding lists other codings ahead of a final chunked
// (`gzip, chunked`, `identity, chunked`, or one field per coding): it
// de-chunks the body, leaves the rest of the codings to the app and, after
// gzip, deflate or compress, closes the connection once it answered.
// net/http's reader answers 501 to anything but one lone `chunked`, so the
// HTTP/1 reader (strictConn), once the policy passed such a head, hands
// net/http the same head with a single `Transfer-Encoding: chunked` field
// in place of the Transfer-Encoding fields sent, and keeps the codings
// beside the connection, numbered by chunked request:
// no header carries them, so no client can forge or strip them. The
// policy's handler then gives the request back its codings, in
// r.TransferEncoding as net/http documents the field (outermost first:
// chunked, then the codings under it, last applied first; identity, no
// coding, is not listed), and answers with Connection: close as Gunicorn
// does. The body the app reads is de-chunked and still coded (gzip stays
// gzip). A request without codings pays one increment (chunked) or nothing.
//
// The other paths: HTTP/2 forbids Transfer-Encoding (RFC 9113 8.2.2) and
// net/http refuses it before any handler; behind uwsgi and FastCGI the
// gateway already read the body's framing and sends it with CONTENT_LENGTH,
// so its Transfer-Encoding variable, the client's hop to the gateway, is
// neither checked nor shown to the app (gatewayHopHandler).

// chunkedCodings carries the codings of the chunked requests on one
// connection from its reader to the policy's handler.
type chunkedCodings struct {
	heads  uint64 // chunked heads the reader passed (the reader's goroutine)
	served uint64 // chunked requests the handler saw (the handler's goroutine)
	mu     sync.Mutex
	queue  []codedRequest // the reader may be heads ahead of the handler
}

// codedRequest is a chunked request's codings under chunked, as sent.
type codedRequest struct {
	seq     uint64
	codings []string
}

// passChunkedHead is the reader's part for a chunked head of size bytes
// the policy passed, held at c.buf[c.r:c.w]: it counts it and, when
// net/http could not read its Transfer-Encoding (rewrite), rewrites the
// head and keeps its codings. It returns the bytes held and the head's
// size.
func (c *strictConn) passChunkedHead(size int, rewrite bool) ([]byte, int) {
	cc := &c.coded
	cc.heads++
	data := c.buf[c.r:c.w]
	if !rewrite {
		return data, size
	}
	const te = "Transfer-Encoding: chunked\r\n"
	line := bytes.IndexByte(data, '\n') + 1
	b := make([]byte, 0, len(data)+len(te)+4096)
	b = append(append(b, data[:line]...), te...)
	var codings []string
	for off := line; off < size; {
		end := off + bytes.IndexByte(data[off:size], '\n') + 1
		field := data[off : end-2]
		if name, value, _ := bytes.Cut(field, []byte(":")); asciiEqualFold(name, "transfer-encoding") {
			codings = appendCodings(codings, value)
		} else {
			b = append(b, data[off:end]...)
		}
		off = end
	}
	if len(codings) > 0 {
		cc.mu.Lock()
		cc.queue = append(cc.queue, codedRequest{seq: cc.heads, codings: codings})
		cc.mu.Unlock()
	}
	size, b = len(b), append(b, data[size:]...) // and the body bytes that came with the head
	c.buf, c.r, c.w = b[:cap(b)], 0, len(b)
	return c.buf[:c.w], size
}

// appendCodings appends the codings of a Transfer-Encoding value the
// policy passed, lower case, but chunked and identity (no coding).
func appendCodings(codings []string, value []byte) []string {
	for _, coding := range strings.Split(string(value), ",") {
		coding = strings.ToLower(strings.Trim(coding, " \t"))
		if coding != "chunked" && coding != "identity" {
			codings = append(codings, coding)
		}
	}
	return codings
}

// transferCodings is the handler's part, for a chunked request read by c:
// the request with the codings it was sent with, if any, and the answer
// set to close the connection after them.
func (c *strictConn) transferCodings(w http.ResponseWriter, r *http.Request) *http.Request {
	cc := &c.coded
	cc.served++
	cc.mu.Lock()
	var codings []string
	for len(cc.queue) > 0 && cc.queue[0].seq <= cc.served {
		if cc.queue[0].seq == cc.served {
			codings = cc.queue[0].codings
		}
		cc.queue = cc.queue[1:]
	}
	cc.mu.Unlock()
	if codings == nil {
		return r
	}
	r = r.WithContext(r.Context())
	r.TransferEncoding = append([]string{"chunked"}, codings...)
	slices.Reverse(r.TransferEncoding[1:])
	w.Header().Set("Connection", "close")
	return r
}

// gatewayHopHandler drops a FastCGI request's Transfer-Encoding field: the
// gateway read the body's framing (CONTENT_LENGTH), as uwsgi's head
// (serving.uwsgiHTTPHead) drops it.
func gatewayHopHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delete(r.Header, "Transfer-Encoding")
		next.ServeHTTP(w, r)
	})
}
