package serving

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/rawhttp"
)

// TestTransferCodingsReachTheApp: requests pipelined on one connection,
// over plain TCP, HTTP/1.1 over TLS and PROXY protocol, with and without codings before
// chunked, each reach the app with their own codings in r.TransferEncoding
// (outermost first, as net/http documents it; identity is no coding), no
// Transfer-Encoding left in r.Header, and the body de-chunked but still
// coded; after gzip the answer closes the connection (Gunicorn's
// force_close), so what was pipelined after it is not served.
func TestTransferCodingsReachTheApp(t *testing.T) {
	gz := rawhttp.GzipHello(t)
	head := func(te ...string) string {
		s := "POST /up HTTP/1.1\r\nHost: example.org\r\n"
		for _, v := range te {
			s += "Transfer-Encoding: " + v + "\r\n"
		}
		return s + "\r\n"
	}
	raw := head("identity, chunked") + rawhttp.Chunked([]byte("one")) +
		head("chunked") + rawhttp.Chunked([]byte("two")) +
		head("Identity", "chunked") + rawhttp.Chunked([]byte("three")) +
		head("deflate, GZIP", "chunked") + rawhttp.Chunked(gz) +
		head("chunked") + rawhttp.Chunked([]byte("after the close"))
	want := []string{
		`te=chunked header="" body="one"`,
		`te=chunked header="" body="two"`,
		`te=chunked header="" body="three"`,
		fmt.Sprintf(`te=chunked,gzip,deflate header="" body=%q`, gz),
	}
	for _, tr := range http1Paths(t) {
		t.Run(tr.name, func(t *testing.T) {
			app := &rawhttp.CodingsApp{}
			addr := policyServer(t, tr.cfg, app)
			resps := rawhttp.Exchange(t, func() (net.Conn, error) { return tr.dial(addr) }, tr.prefix+raw)
			var got []string
			for _, r := range resps {
				got = append(got, fmt.Sprint(r.StatusCode, " ", rawhttp.Body(r)))
			}
			if len(got) != len(want) {
				t.Fatalf("answers %q, want %d", got, len(want))
			}
			for i, r := range resps {
				if r.StatusCode != 200 || rawhttp.Body(r) != want[i] {
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
