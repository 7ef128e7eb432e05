package prefork

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// policyServer serves app on the production serving path (newServingProc,
// as a worker does) with cfg's settings, defaults for the rest.
func policyServer(t *testing.T, cfg Config, app http.Handler) string {
	t.Helper()
	return serveAppInProcess(t, cfg, "tcp", func() (http.Handler, error) { return app, nil })
}

// countingApp answers 200 "body=<body>" once it read the whole body, or
// 500 "read: <err>" when the body could not be read.
type countingApp struct{ seen atomic.Int64 }

func (a *countingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.seen.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read: "+err.Error(), 500)
		return
	}
	fmt.Fprintf(w, "body=%s", body)
}

// rawExchange writes raw in one write and reads every response until the
// server closes or stops answering.
func rawExchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	var out []*http.Response
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		if resp.StatusCode == 100 {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, resp)
		if resp.Close {
			return out
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond)) // no more pipelined answers coming
	}
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

const chunkedHead = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

// TestRequestPolicyRefuses sends requests breaking Gunicorn 27's rules raw
// over TCP: each is answered with Gunicorn's status (the exception it
// raises in the comment), and the app never sees it.
func TestRequestPolicyRefuses(t *testing.T) {
	app := &countingApp{}
	addr := policyServer(t, Config{}, app)
	long := strings.Repeat("a", DefaultLimitRequestLine)
	cases := []struct {
		name   string
		raw    string
		status int
	}{
		// request line (InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion: 400)
		{"no spaces", "GET\r\n\r\n", 400},
		{"version with trailing text", "GET / HTTP/1.1 x\r\nHost: x\r\n\r\n", 400},
		{"lower-case method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"method too short", "GE / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"method with #", "GE#T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"method over 20", "ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"empty target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"asterisk on GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"authority form on GET", "GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"27.0: control character in the path", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"27.0: DEL in the path", "GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"HTTP/2.0 as HTTP/1", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400},
		{"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400},
		{"version 1.10", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400},
		{"empty line first", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", 400},
		{"bare LF in a header line", "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400},
		// LimitRequestLine: 414 since 27.0 (400 in 26.1)
		{"27.0: request line over limit_request_line", "GET /" + long + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"27.0: request line over the limit, not ended yet", "GET /" + long + long, 414},
		// headers (InvalidHeader, InvalidHeaderName, ObsoleteFolding: 400)
		{"27.0: whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},
		{"obsolete line folding", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"folded first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400},
		{"non-token name", "GET / HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", 400},
		{"non-ASCII name", "GET / HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: b\r\n\r\n", 400},
		{"NUL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400},
		{"bare CR in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
		{"line without colon", "GET / HTTP/1.1\r\nHost: x\r\nGarbage\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400},
		{"underscore name not a forwarder header", "GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n", 400},
		{"duplicate Host", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
		{"duplicate Content-Type", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 0\r\n\r\n", 400},
		{"contradictory scheme headers from a trusted peer", "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n\r\n", 400},
		// LimitRequestHeaders: 431
		{"101 fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 100) + "\r\n", 431},
		{"field over limit_request_field_size", "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("b", DefaultLimitRequestFieldSize) + "\r\n\r\n", 431},
		// ExpectationFailed: 417
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417},
		// framing (InvalidHeader 400, UnsupportedTransferCoding 501)
		{"Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"27.0: Content-Length with a sign", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400},
		{"27.0: Content-Length in hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello", 400},
		{"27.0: Content-Length with inner space", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello", 400},
		{"empty Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400},
		{"Content-Length twice, same value", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400},
		{"27.0: Transfer-Encoding not ending in chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
		{"27.0: Transfer-Encoding gzip alone", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
		{"27.0: Transfer-Encoding identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 400},
		{"chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
		{"chunked on two lines", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501},
		{"chunked in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		// chunked bodies that came with their head (InvalidChunkSize,
		// ChunkMissingTerminator, InvalidChunkExtension, InvalidHeaderName)
		{"chunk size with a sign", chunkedHead + "+5\r\nhello\r\n0\r\n\r\n", 400},
		{"chunk size with underscore", chunkedHead + "6_0\r\nhello\r\n0\r\n\r\n", 400},
		{"chunk size with a trailing space", chunkedHead + "5 \r\nhello\r\n0\r\n\r\n", 400},
		{"whitespace before a chunk extension (net/http refuses it)", chunkedHead + "5 ;a\r\nhello\r\n0\r\n\r\n", 400},
		{"empty chunk size", chunkedHead + "\r\nhello\r\n0\r\n\r\n", 400},
		{"chunk size over 64 bits", chunkedHead + "10000000000000000\r\nhello\r\n0\r\n\r\n", 400},
		{"27.0: chunk data not followed by CRLF", chunkedHead + "5\r\nhelloXX0\r\n\r\n", 400},
		{"bare LF after chunk size", chunkedHead + "5\nhello\r\n0\r\n\r\n", 400},
		{"bare CR in a chunk extension", chunkedHead + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400},
		{"forbidden trailer Content-Length", chunkedHead + "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", 400},
		{"forbidden trailer Host", chunkedHead + "5\r\nhello\r\n0\r\nHost: y\r\n\r\n", 400},
		{"forbidden trailer Transfer-Encoding", chunkedHead + "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"forbidden trailer Authorization", chunkedHead + "5\r\nhello\r\n0\r\nauthorization: x\r\n\r\n", 400},
		{"folded trailer", chunkedHead + "5\r\nhello\r\n0\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"whitespace before a trailer's colon", chunkedHead + "5\r\nhello\r\n0\r\nX-A : a\r\n\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := app.seen.Load()
			resps := rawExchange(t, addr, tc.raw)
			if len(resps) != 1 {
				t.Fatalf("%d responses, want 1 refusal", len(resps))
			}
			if got := resps[0].StatusCode; got != tc.status {
				t.Errorf("status %d (%s), want %d", got, bodyOf(resps[0]), tc.status)
			}
			if !resps[0].Close {
				t.Error("refusal without Connection: close")
			}
			if n := app.seen.Load() - before; n != 0 {
				t.Errorf("the app saw the request")
			}
		})
	}
}

// TestRequestPolicyServes: what Gunicorn accepts still reaches the app,
// bodies intact, pipelined requests in order.
func TestRequestPolicyServes(t *testing.T) {
	app := &countingApp{}
	addr := policyServer(t, Config{}, app)
	cases := []struct {
		name string
		raw  string
		want []string // each response's body, in order
	}{
		{"GET", "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", []string{"body="}},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", []string{"body="}},
		{"HTTP/1.1 without Host (Gunicorn serves it)", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n", []string{"body=hi", "body="}},
		{"Content-Length body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", []string{"body=hello"}},
		{"Content-Length with spaces around", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  5 \r\n\r\nhello", []string{"body=hello"}},
		{"chunked with extensions and a trailer", chunkedHead + "5;a=b\r\nhello\r\n6;c\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n", []string{"body=hello world"}},
		{"chunked upper-case hex", chunkedHead + "A\r\n0123456789\r\n0\r\n\r\n", []string{"body=0123456789"}},
		{"OPTIONS * (answered by net/http)", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", []string{""}},
		{"absolute form", "GET http://x/p HTTP/1.1\r\nHost: x\r\n\r\n", []string{"body="}},
		{"obs-text and tab in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb \xe9\r\n\r\n", []string{"body="}},
		{"empty value", "GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n\r\n", []string{"body="}},
		{"forwarder header with underscore from a trusted peer", "GET / HTTP/1.1\r\nHost: x\r\nSCRIPT_NAME: /app\r\n\r\n", []string{"body="}},
		{"agreeing scheme headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: on\r\n\r\n", []string{"body="}},
		{"expect 100-continue", "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", []string{"body=hi"}},
		{"pipelined: length, chunked, none", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nonePOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"body=one", "body=two", "body="}},
		{"request line at the limit", "GET /" + strings.Repeat("a", DefaultLimitRequestLine-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\n\r\n", []string{"body="}},
		{"100 fields", "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 99) + "Host: x\r\n\r\n", []string{"body="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resps := rawExchange(t, addr, tc.raw)
			var got []string
			for _, r := range resps {
				got = append(got, fmt.Sprint(r.StatusCode, " ", bodyOf(r)))
			}
			var want []string
			for _, b := range tc.want {
				want = append(want, "200 "+b)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("responses %q, want %q", got, want)
			}
		})
	}
}

// TestRequestPolicyPipelinedRefusal: a bad request after a good one on the
// same connection is refused in order, after the good one's answer.
func TestRequestPolicyPipelinedRefusal(t *testing.T) {
	addr := policyServer(t, Config{}, &countingApp{})
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
	addr := policyServer(t, Config{Values: Values{ProxyProtocol: true}}, &countingApp{})
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

// FuzzStrictConnAgreesWithNetHTTP: whatever the connection reader lets
// through, net/http reading the same bytes directly sees the same requests
// (method, target, body): the policy never frames a request differently
// from the parser behind it, the way a smuggling proxy would.
func FuzzStrictConnAgreesWithNetHTTP(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		chunkedHead + "5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
		chunkedHead + "+5\r\nhello\r\n0\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	cfg, _ := Config{Values: Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}}.withDefaults()
	p := newRequestPolicy(cfg, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		sc := &strictConn{Conn: &readerConn{r: bytes.NewReader(raw)}, p: p, first: true, chunk: chunkScanner{p: p}, trust: -1}
		strict, plain := bufio.NewReader(sc), bufio.NewReader(bytes.NewReader(raw))
		for range 8 {
			rs, err := http.ReadRequest(strict)
			if err != nil || rs.Method == refusedMethod {
				return
			}
			rp, err := http.ReadRequest(plain)
			if err != nil {
				return // net/http refuses what the policy let through: it answers that itself
			}
			if rs.Method != rp.Method || rs.RequestURI != rp.RequestURI {
				t.Fatalf("the policy passed %s %s, net/http reads %s %s", rs.Method, rs.RequestURI, rp.Method, rp.RequestURI)
			}
			bs, errS := io.ReadAll(rs.Body)
			bp, errP := io.ReadAll(rp.Body)
			if errS != nil {
				return // a body that broke the framing ends the connection
			}
			if errP != nil || !bytes.Equal(bs, bp) {
				t.Fatalf("body through the policy %q, net/http reads %q (%v)", bs, bp, errP)
			}
		}
	})
}
