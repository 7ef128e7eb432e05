package prefork

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/rawhttp"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// policyServer serves app on the production serving path (newServingProc,
// as a worker does) with cfg's settings, defaults for the rest.
func policyServer(t *testing.T, cfg Config, app http.Handler) string {
	t.Helper()
	return serveAppInProcess(t, cfg, "tcp", func() (http.Handler, error) { return app, nil })
}

// rawExchange sends raw over TCP, half-closes (the request ends there, as
// a file does), and reads every response until the server closes.
func rawExchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	return rawhttp.Exchange(t, func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }, raw)
}

const chunkedHead = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

// TestRequestPolicyPipelinedRefusal: a bad request after a good one on the
// same connection is refused in order, after the good one's answer.
func TestRequestPolicyPipelinedRefusal(t *testing.T) {
	addr := policyServer(t, Config{}, &rawhttp.CountingApp{})
	resps := rawExchange(t, addr, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	if len(resps) != 2 || resps[0].StatusCode != 200 || resps[1].StatusCode != 400 {
		var got []int
		for _, r := range resps {
			got = append(got, r.StatusCode)
		}
		t.Fatalf("statuses %v, want [200 400] and nothing after", got)
	}
}

// TestRequestPolicyChunkedLate: a chunk that breaks the framing after the
// app began reading the body fails the app's read (the app has the
// request already, as it does under Gunicorn), and the connection ends.
func TestRequestPolicyChunkedLate(t *testing.T) {
	reading := make(chan struct{}, 1)
	var readErr atomic.Value
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		io.ReadFull(r.Body, buf)
		reading <- struct{}{}
		_, err := io.ReadAll(r.Body)
		readErr.Store(fmt.Sprint(err))
		if err != nil {
			http.Error(w, err.Error(), 400)
		}
	})
	addr := policyServer(t, Config{}, app)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(chunkedHead + "5\r\nhello\r\n"))
	select {
	case <-reading:
	case <-time.After(5 * time.Second):
		t.Fatal("the app did not get the first chunk")
	}
	c.Write([]byte("3\r\nabcXX0\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(readErr.Load()), "Invalid chunk terminator") {
		t.Fatalf("status %d, app's read error %v; want the framing error", resp.StatusCode, readErr.Load())
	}
}

// TestRequestPolicyBehindProxyProtocol: with PROXY protocol, a silent peer
// does not hold Accept (the reader learns the client's address at its
// first head), and the forwarder-header trust is the named client's.
func TestRequestPolicyBehindProxyProtocol(t *testing.T) {
	addr := policyServer(t, Config{Values: Values{ProxyProtocol: true}}, &rawhttp.CountingApp{})
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	resps := rawExchange(t, addr, "PROXY TCP4 198.51.100.1 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nSCRIPT_NAME: /a\r\n\r\n")
	if d := time.Since(start); d > time.Second {
		t.Errorf("served after %v behind a silent peer", d)
	}
	if len(resps) != 1 || resps[0].StatusCode != 400 {
		t.Fatalf("SCRIPT_NAME from an untrusted client behind PROXY protocol: %v, want 400", resps)
	}
}

// TestRequestPolicyPassThrough: a hijacked connection (WebSocket) carries
// bytes that are not HTTP requests, and HTTP/2 prior knowledge still
// works where h2c is on.
func TestRequestPolicyPassThrough(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			fmt.Fprint(w, r.Proto)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo:" + line)
		brw.Flush()
	})
	addr := policyServer(t, Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}, app)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	c.Write([]byte("\x00\x01 not HTTP \x7f\n"))
	if got, _ := br.ReadString('\n'); got != "echo:\x00\x01 not HTTP \x7f\n" {
		t.Fatalf("after the upgrade: %q", got)
	}

	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 5 * time.Second}
	r, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if b, _ := io.ReadAll(r.Body); string(b) != "HTTP/2.0" {
		t.Fatalf("h2c prior knowledge: %q", b)
	}
	// the limits still hold for HTTP/2, which the reader does not see
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", DefaultLimitRequestFieldSize))
	r2, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 431 || r2.Proto != "HTTP/2.0" {
		t.Fatalf("an HTTP/2 field over limit_request_field_size: %d over %s, want 431", r2.StatusCode, r2.Proto)
	}
}

// TestRefusedRequestsAreVisible: a refused request, whether the HTTP/1
// reader refused it or the check after HTTP/2's parser, has its access log
// line (the refused request line, status, bytes) and is counted in the
// request duration histogram under http.route "_refused" with its status;
// a served request is not.
func TestRefusedRequestsAreVisible(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "access.log")
	sp, addr := serveProcInProcess(t, Config{Values: Values{AccessLog: logPath, HTTP2Cleartext: H2CPriorKnowledge, MetricsBind: "127.0.0.1:0"}}, "tcp",
		func() (http.Handler, error) { return &rawhttp.CountingApp{}, nil })
	if r := rawExchange(t, addr, "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n"); len(r) != 1 || r[0].StatusCode != 400 {
		t.Fatalf("a control character in the path: %v", r)
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &h2c}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("get", "http://"+addr+"/lower", nil)
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.ProtoMajor != 2 {
		t.Fatalf("a lower-case method over h2c: %d %s", resp.StatusCode, resp.Proto)
	}
	// a refused stream leaves its HTTP/2 connection up for the next request
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ = http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+addr+"/next", nil)
	if resp, err = (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !reused {
		t.Errorf("after a refused HTTP/2 stream: %d, connection reused %v; want 200 on the same connection", resp.StatusCode, reused)
	}
	if r := rawExchange(t, addr, "GET /served HTTP/1.1\r\nHost: x\r\n\r\n"); len(r) != 1 || r[0].StatusCode != 200 {
		t.Fatalf("a valid request: %v", r)
	}
	waitFileLines(t, logPath, 4)
	b, _ := os.ReadFile(logPath)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[.*\] "GET /a\\x01b HTTP/1\.1" 400 [1-9]\d* "-" "-"$`),
		regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[.*\] "get /lower HTTP/2\.0" 400 [1-9]\d* `),
		regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[.*\] "GET /served HTTP/1\.1" 200 `),
	} {
		if !want.Match(b) {
			t.Errorf("the access log has no line matching %s:\n%s", want, b)
		}
	}
	refused := map[int]uint64{}
	var served uint64
	for _, s := range sp.Metrics().Snapshot().Series {
		if s.Route == serving.RouteRefused {
			refused[s.Status] += s.Duration.Count()
		} else {
			served += s.Duration.Count()
		}
	}
	if refused[400] != 2 || len(refused) != 1 || served != 2 {
		t.Errorf("request duration histogram: refused by status %v, served %d; want 2 refused with 400, 2 served", refused, served)
	}
}

// TestStrictTLSListenerHandshakesOffTheAcceptLoop: a peer that opens a
// connection and never starts its handshake does not hold the next
// client's, and HTTP/1 over TLS keeps its r.TLS (the scheme, the client's
// certificate) behind the connection reader.
func TestStrictTLSListenerHandshakesOffTheAcceptLoop(t *testing.T) {
	dir := t.TempDir()
	cert, key, der := writeTestCert(t, dir, 1)
	addr := serveInProcess(t, Config{Values: Values{CertFile: cert, KeyFile: key}}, "tcp")
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	roots := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	roots.AddCert(c)
	var h1 http.Protocols
	h1.SetHTTP1(true)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Protocols: &h1}
	defer tr.CloseIdleConnections()
	// well under the handshake limit (--read-header-timeout, 10 s) the silent peer holds
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatalf("behind a silent peer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 1 || !strings.Contains(string(b), "scheme=https") {
		t.Errorf("HTTP/1 over TLS: %s %q, want HTTP/1.1 and scheme=https", resp.Proto, b)
	}
}
