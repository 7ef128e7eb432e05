package prefork

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/rawhttp"
)

// TestTransferCodingsEveryTransport is TestRequestPolicyEveryTransport's
// case for a Transfer-Encoding of `gzip, chunked`, whose meaning depends
// on the path: over HTTP/1.x (plain, PROXY protocol, TLS) the body is
// de-chunked and the app sees the codings; HTTP/2 forbids the field
// (RFC 9113 8.2.2): net/http resets that stream and the connection serves
// the next; behind uwsgi and FastCGI the gateway read the framing
// (CONTENT_LENGTH), so the field is dropped and the app reads the body as
// the gateway sent it.
func TestTransferCodingsEveryTransport(t *testing.T) {
	gz := rawhttp.GzipHello(t)
	served := fmt.Sprintf(`te=chunked,gzip header="" body=%q`, gz)
	gateway := fmt.Sprintf(`te= header="" body=%q`, gz)
	head := "POST /te HTTP/1.1\r\nHost: example.org\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + rawhttp.Chunked(gz)
	for _, tr := range policyTransports(t, "127.0.0.1") {
		t.Run(tr.name, func(t *testing.T) {
			app := &rawhttp.CodingsApp{}
			addr := serveAppInProcess(t, tr.cfg, "tcp", func() (http.Handler, error) { return app, nil })
			dialTLS := func(protos ...string) (net.Conn, error) {
				return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: protos}) // policyTransports' own certificate
			}
			dialTCP := func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
			var got string
			switch tr.name {
			case "HTTP/1.1", "PROXY protocol", "HTTP/1.1 over TLS":
				prefix, dial := "", dialTCP
				if tr.name == "PROXY protocol" {
					prefix = "PROXY TCP4 127.0.0.1 127.0.0.1 40000 8000\r\n"
				}
				if tr.name == "HTTP/1.1 over TLS" {
					dial = func() (net.Conn, error) { return dialTLS("http/1.1") }
				}
				resps := rawhttp.Exchange(t, dial, prefix+head)
				if len(resps) != 1 {
					t.Fatalf("%d answers, want 1", len(resps))
				}
				got = fmt.Sprint(resps[0].StatusCode, " ", rawhttp.Body(resps[0]))
				if want := "200 " + served; got != want {
					t.Fatalf("%s, want %s", got, want)
				}
			case "HTTP/2 over TLS", "h2c prior knowledge":
				dial := dialTCP
				if tr.name == "HTTP/2 over TLS" {
					dial = func() (net.Conn, error) { return dialTLS("h2") }
				}
				conn, err := dial()
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				got = h2Exchange(t, conn, h2Request{fields: h2Fields(tr.scheme, "POST", "/te", "transfer-encoding", "gzip, chunked"), data: string(gz)},
					h2Request{fields: h2Fields(tr.scheme, "GET", "/next")})
				// RFC 9113 8.1.1 lets a server answer a malformed request before resetting it
				if want := "stream 1: 400; stream 3: 200"; got != want {
					t.Fatalf("%s, want %s (the forbidden field refused by net/http, the connection kept)", got, want)
				}
				if n := app.Seen.Load(); n != 1 {
					t.Fatalf("the app saw %d requests, want only the second", n)
				}
				return
			case "uwsgi", "FastCGI":
				vars := append(nginxVars("POST", "/te"), [2]string{"HTTP_TRANSFER_ENCODING", "gzip, chunked"}, [2]string{"CONTENT_LENGTH", fmt.Sprint(len(gz))})
				send := uwsgiRequest
				if tr.name == "FastCGI" {
					send = fcgiRequest
				}
				out, err := send(t, "tcp", addr, vars, string(gz))
				if err != nil {
					t.Fatal(err)
				}
				if _, body, _ := strings.Cut(out, "\r\n\r\n"); !strings.Contains(out, "200") || body != gateway {
					t.Fatalf("%q, want 200 %s", out, gateway)
				}
			default:
				t.Fatalf("no expectation for the transport %q: say what a Transfer-Encoding means on it", tr.name)
			}
			if n := app.Seen.Load(); n != 1 {
				t.Fatalf("the app saw %d requests, want 1", n)
			}
		})
	}
}
