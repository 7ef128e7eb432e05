package prefork

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHTTP2ForbiddenTrailerResetsItsStream: over HTTP/2 a trailer section
// with a field RFC 9110 6.5.1 keeps out of trailers (Host, Content-Length,
// Transfer-Encoding, Trailer, Authorization, TE) is a malformed request,
// which RFC 9113 8.1.1 says MUST be a stream error of type PROTOCOL_ERROR:
// net/http resets that stream (RST_STREAM PROTOCOL_ERROR, where HTTP/1's
// reader answers 400 before the app), the app's body read fails, and the
// connection goes on serving, over TLS and h2c. net/http reads a trailer
// section only when the request declared a valid Trailer: undeclared, the
// section is dropped, the app never sees its fields and is served (RFC
// 9110 6.5.1 lets a recipient discard trailer fields; the stream 7 case).
// trailerForbidden are the fields RFC 9110 6.5.1 keeps out of a trailer section
// (written out here, not taken from the reader under test).
var trailerForbidden = []string{"host", "content-length", "transfer-encoding", "trailer", "authorization", "te"}

// clientPreface opens every HTTP/2 connection (RFC 9113 3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func TestHTTP2ForbiddenTrailerResetsItsStream(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		for k := range r.Trailer {
			if slices.Contains(trailerForbidden, strings.ToLower(k)) {
				http.Error(w, "forbidden trailer "+k, 500)
				return
			}
		}
		fmt.Fprint(w, "ok")
	})
	cert, key, _ := writeTestCert(t, t.TempDir(), 1)
	for _, mode := range []string{"tls", "h2c"} {
		cfg, scheme := Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}, "http"
		if mode == "tls" {
			cfg, scheme = Config{Values: Values{CertFile: cert, KeyFile: key}}, "https"
		}
		addr := serveAppInProcess(t, cfg, "tcp", func() (http.Handler, error) { return app, nil })
		for _, name := range trailerForbidden {
			t.Run(mode+"/"+name, func(t *testing.T) {
				var c net.Conn
				var err error
				if mode == "tls" {
					c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
				} else {
					c, err = net.DialTimeout("tcp", addr, 5*time.Second)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				got := h2Exchange(t, c,
					h2Request{fields: h2Fields(scheme, "POST", "/up", "trailer", "x-sum"), data: "hello", trailers: [][2]string{{"x-sum", "0"}, {name, "0"}}},
					h2Request{fields: h2Fields(scheme, "POST", "/up", "trailer", "x-sum"), data: "hello", trailers: [][2]string{{"x-sum", "0"}}},
					h2Request{fields: h2Fields(scheme, "GET", "/next")},
					h2Request{fields: h2Fields(scheme, "POST", "/up"), data: "hello", trailers: [][2]string{{name, "0"}}})
				if want := "stream 1: RST_STREAM PROTOCOL_ERROR; stream 3: 200; stream 5: 200; stream 7: 200"; got != want {
					t.Fatalf("%s\nwant %s", got, want)
				}
			})
		}
	}
}

// h2Request is one request h2Exchange sends: its header fields, then its
// data and its trailer fields, if any.
type h2Request struct {
	fields, trailers [][2]string
	data             string
}

// h2Fields is a request's pseudo-header fields, then the name, value pairs
// of extra.
func h2Fields(scheme, method, path string, extra ...string) [][2]string {
	f := [][2]string{{":method", method}, {":scheme", scheme}, {":path", path}, {":authority", "example.org"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f = append(f, [2]string{extra[i], extra[i+1]})
	}
	return f
}

// h2Exchange speaks HTTP/2 on c (the preface, an empty SETTINGS, then each
// request on streams 1, 3, ...: a HEADERS frame, a DATA frame, a trailer
// HEADERS frame, the last ending the stream; fields as HPACK literals, so
// any field can be sent) and reports what came back first on each stream:
// its :status, or RST_STREAM and its error code. The first, because RFC 9113
// 8.1.1 lets a server answer a malformed request (net/http's 400) and then
// reset its stream, and whether that reset arrives before the next stream's
// answer depends on scheduling.
func h2Exchange(t *testing.T, c net.Conn, reqs ...h2Request) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	frame := func(typ, flags byte, stream uint32, payload []byte) []byte {
		b := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[5:], stream)
		return append(b, payload...)
	}
	block := func(fields [][2]string) []byte {
		var b []byte
		for _, f := range fields { // literal without indexing, new name, no Huffman
			b = append(b, 0x00, byte(len(f[0])))
			b = append(append(b, f[0]...), byte(len(f[1])))
			b = append(b, f[1]...)
		}
		return b
	}
	const endStream, endHeaders = 0x1, 0x4
	out := append([]byte(nil), clientPreface...)
	out = append(out, frame(0x4, 0, 0, nil)...) // SETTINGS
	for i, r := range reqs {
		id := uint32(2*i + 1)
		end := func(last bool) byte {
			if last {
				return endStream
			}
			return 0
		}
		out = append(out, frame(0x1, endHeaders|end(r.data == "" && r.trailers == nil), id, block(r.fields))...)
		if r.data != "" {
			out = append(out, frame(0x0, end(r.trailers == nil), id, []byte(r.data))...)
		}
		if r.trailers != nil {
			out = append(out, frame(0x1, endHeaders|endStream, id, block(r.trailers))...)
		}
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	answers := map[uint32]string{}
	br := bufio.NewReader(c)
	hdr := make([]byte, 9)
	for len(answers) < len(reqs) {
		if _, err := io.ReadFull(br, hdr); err != nil {
			t.Fatalf("after %v: %v", answers, err)
		}
		payload := make([]byte, int(hdr[0])<<16|int(hdr[1])<<8|int(hdr[2]))
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		stream := binary.BigEndian.Uint32(hdr[5:]) &^ (1 << 31)
		switch hdr[3] {
		case 0x1: // HEADERS: net/http's first field is :status, from HPACK's static table
			if _, ok := answers[stream]; !ok && len(payload) > 0 {
				answers[stream] = map[byte]string{0x88: "200", 0x89: "204", 0x8c: "400", 0x8d: "404", 0x8e: "500"}[payload[0]]
			}
		case 0x3: // RST_STREAM: an answer only if the stream had none (a reset after a response's HEADERS ends that response)
			if _, ok := answers[stream]; !ok {
				answers[stream] = "RST_STREAM " + map[uint32]string{1: "PROTOCOL_ERROR", 8: "CANCEL"}[binary.BigEndian.Uint32(payload)]
			}
		case 0x7: // GOAWAY
			t.Fatalf("GOAWAY (the connection ends) after %v", answers)
		}
	}
	var s []string
	for i := range reqs {
		s = append(s, fmt.Sprintf("stream %d: %s", 2*i+1, answers[uint32(2*i+1)]))
	}
	return strings.Join(s, "; ")
}
