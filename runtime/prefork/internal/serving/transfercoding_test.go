package serving

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// codingsApp answers what a handler sees of a request's transfer codings:
// r.TransferEncoding, a Transfer-Encoding header field left in r.Header,
// and the body as read (quoted).
type codingsApp struct{ seen atomic.Int64 }

func (a *codingsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.seen.Add(1)
	te, field := strings.Join(r.TransferEncoding, ","), r.Header.Get("Transfer-Encoding")
	if body, err := io.ReadAll(r.Body); err == nil {
		fmt.Fprintf(w, "te=%s header=%q body=%q", te, field, body)
	} else {
		http.Error(w, "read: "+err.Error(), 500)
	}
}

// gzipHello is "hello" gzip-compressed, as a client coding its body sends it.
func gzipHello(t *testing.T) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("hello"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// chunkedBody is body in chunks of at most 7 bytes, then the last chunk.
func chunkedBody(body []byte) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(len(body), 7)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	return b.String() + "0\r\n\r\n"
}

// TestTransferCodingsReachTheApp: requests pipelined on one connection,
// over plain TCP, HTTP/1.1 over TLS and PROXY protocol, with and without codings before
// chunked, each reach the app with their own codings in r.TransferEncoding
// (outermost first, as net/http documents it; identity is no coding), no
// Transfer-Encoding left in r.Header, and the body de-chunked but still
// coded; after gzip the answer closes the connection (Gunicorn's
// force_close), so what was pipelined after it is not served.
func TestTransferCodingsReachTheApp(t *testing.T) {
	gz := gzipHello(t)
	head := func(te ...string) string {
		s := "POST /up HTTP/1.1\r\nHost: example.org\r\n"
		for _, v := range te {
			s += "Transfer-Encoding: " + v + "\r\n"
		}
		return s + "\r\n"
	}
	raw := head("identity, chunked") + chunkedBody([]byte("one")) +
		head("chunked") + chunkedBody([]byte("two")) +
		head("Identity", "chunked") + chunkedBody([]byte("three")) +
		head("deflate, GZIP", "chunked") + chunkedBody(gz) +
		head("chunked") + chunkedBody([]byte("after the close"))
	want := []string{
		`te=chunked header="" body="one"`,
		`te=chunked header="" body="two"`,
		`te=chunked header="" body="three"`,
		fmt.Sprintf(`te=chunked,gzip,deflate header="" body=%q`, gz),
	}
	for _, tr := range http1Paths(t) {
		t.Run(tr.name, func(t *testing.T) {
			app := &codingsApp{}
			addr := policyServer(t, tr.cfg, app)
			resps := rawExchangeVia(t, func() (net.Conn, error) { return tr.dial(addr) }, tr.prefix+raw)
			var got []string
			for _, r := range resps {
				got = append(got, fmt.Sprint(r.StatusCode, " ", bodyOf(r)))
			}
			if len(got) != len(want) {
				t.Fatalf("answers %q, want %d", got, len(want))
			}
			for i, r := range resps {
				if r.StatusCode != 200 || bodyOf(r) != want[i] {
					t.Errorf("request %d: %s, want 200 %s", i+1, got[i], want[i])
				}
				if r.Close != (i == len(want)-1) {
					t.Errorf("request %d: Connection: close is %v, want it after gzip only", i+1, r.Close)
				}
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if b, _ := io.ReadAll(zr); err != nil || string(b) != "hello" {
				t.Errorf("the app's body does not decode to hello: %q %v", b, err)
			}
		})
	}
}
