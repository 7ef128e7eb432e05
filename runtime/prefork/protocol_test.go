package prefork

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// needTool returns the path of a tool, skipping without it (failing under
// SCAFFOLD_REQUIRE_TOOLS=1, as CI runs).
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SCAFFOLD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (%s) and SCAFFOLD_REQUIRE_TOOLS=1", name, install)
		}
		t.Skipf("%s not installed: skipping (%s)", name, install)
	}
	return p
}

// echoApp answers with what the app sees of the request.
func echoApp() (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cn := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "method=%s path=%s query=%s remote=%s scheme=%s proto=%s host=%s xff=%q traceparent=%q baggage=%q body=%q cn=%s\n",
			r.Method, r.URL.Path, r.URL.RawQuery, r.RemoteAddr, serving.RequestScheme(r), r.Proto, r.Host, r.Header.Get("X-Forwarded-For"),
			r.Header.Get("Traceparent"), r.Header.Get("Baggage"), body, cn)
	}), nil
}

// serveInProcess runs a serving process of echoApp on a fresh loopback
// listener with cfg (defaults applied), as a worker would, until the test ends.
func serveInProcess(t *testing.T, cfg Config, network string) string {
	t.Helper()
	return serveAppInProcess(t, cfg, network, echoApp)
}

// serveAppInProcess is serveInProcess for any app.
func serveAppInProcess(t *testing.T, cfg Config, network string, app App) string {
	t.Helper()
	_, addr := serveProcInProcess(t, cfg, network, app)
	return addr
}

// serveProcInProcess is serveAppInProcess, with the serving process (its
// metrics, its access log) for the test to look at.
func serveProcInProcess(t *testing.T, cfg Config, network string, app App) (*serving.ServingProc, string) {
	t.Helper()
	cfg.Workers = 1
	c, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if network == "unix" {
		ln, err = net.Listen("unix", filepath.Join(t.TempDir(), "app.sock"))
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	lg := &observe.Log{Logger: newTestLogger(t), Out: io.Discard}
	sp, _, err := newServingProc(c, app, []net.Listener{ln}, []string{ln.Addr().String()}, lg)
	if err != nil {
		t.Fatal(err)
	}
	sp.Srv.Start()
	t.Cleanup(func() { sp.Srv.Close(); sp.Close() })
	return sp, ln.Addr().String()
}

// uwsgiRequest sends one uwsgi packet as nginx's uwsgi_pass does and
// returns the raw response.
func uwsgiRequest(t *testing.T, network, addr string, vars [][2]string, body string) (string, error) {
	t.Helper()
	var block bytes.Buffer
	for _, kv := range vars {
		for _, s := range kv {
			binary.Write(&block, binary.LittleEndian, uint16(len(s)))
			block.WriteString(s)
		}
	}
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	hdr := []byte{0, 0, 0, 0}
	binary.LittleEndian.PutUint16(hdr[1:3], uint16(block.Len()))
	c.Write(append(append(hdr, block.Bytes()...), body...))
	b, err := io.ReadAll(c)
	return string(b), err
}

const testTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func nginxVars(method, uri string, extra ...[2]string) [][2]string {
	path, query, _ := strings.Cut(uri, "?")
	v := [][2]string{{"QUERY_STRING", query}, {"REQUEST_METHOD", method}, {"CONTENT_TYPE", ""}, {"CONTENT_LENGTH", ""},
		{"REQUEST_URI", uri}, {"PATH_INFO", path}, {"DOCUMENT_ROOT", "/usr/share/nginx/html"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_SCHEME", "http"}, {"REMOTE_ADDR", "203.0.113.7"}, {"REMOTE_PORT", "51234"}, {"SERVER_PORT", "80"},
		{"SERVER_NAME", "example.org"}, {"HTTP_HOST", "example.org"}, {"HTTP_USER_AGENT", "curl/8"}}
	return append(v, extra...)
}

func TestUwsgiProtocol(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{Protocol: "uwsgi", ForwardedAllowIPs: "127.0.0.1", LimitRequestLine: 200}}, "unix")
	resp, err := uwsgiRequest(t, "unix", addr, nginxVars("GET", "/hello?a=1", [2]string{"HTTP_X_FORWARDED_FOR", "6.6.6.6"}, [2]string{"HTTPS", "on"},
		[2]string{"HTTP_TRACEPARENT", testTraceparent}, [2]string{"HTTP_BAGGAGE", "user=x"}), "")
	if err != nil {
		t.Fatal(err)
	}
	// HTTP/1.0: one request per connection, closed after the answer, never chunked.
	// REMOTE_ADDR is not trusted: its forwarded and trace headers are gone.
	for _, want := range []string{"HTTP/1.0 200 OK\r\n", "method=GET path=/hello query=a=1 remote=203.0.113.7:51234 scheme=https proto=HTTP/1.1 host=example.org", `xff="" traceparent="" baggage=""`} {
		if !strings.Contains(resp, want) {
			t.Errorf("uwsgi response lacks %q:\n%s", want, resp)
		}
	}
	// a body of CONTENT_LENGTH bytes, as nginx sends it after the variables
	resp, _ = uwsgiRequest(t, "unix", addr, nginxVars("POST", "/form", [2]string{"CONTENT_LENGTH", "11"}, [2]string{"CONTENT_TYPE", "text/plain"}), "hello world")
	if !strings.Contains(resp, `body="hello world"`) {
		t.Errorf("POST body:\n%s", resp)
	}
	// the same limits as HTTP
	resp, _ = uwsgiRequest(t, "unix", addr, nginxVars("GET", "/"+strings.Repeat("a", 300)), "")
	if !strings.HasPrefix(resp, "HTTP/1.0 414 ") && !strings.HasPrefix(resp, "HTTP/1.1 414 ") {
		t.Errorf("long request line: %.60q", resp)
	}
	// a CONTENT_LENGTH the policy refuses is answered, not dropped
	resp, _ = uwsgiRequest(t, "unix", addr, nginxVars("POST", "/form", [2]string{"CONTENT_LENGTH", "+5"}), "hello")
	if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || strings.Contains(resp, "method=") {
		t.Errorf("CONTENT_LENGTH +5: %.80q, want a 400", resp)
	}
	// a variable that would forge a header is refused, nothing is served
	resp, _ = uwsgiRequest(t, "unix", addr, nginxVars("GET", "/", [2]string{"HTTP_X_A", "b\r\nX-Admin: 1"}), "")
	if strings.Contains(resp, "method=") {
		t.Errorf("forged header served:\n%s", resp)
	}
}

// TestUwsgiAnswerNotChunked: nginx's uwsgi module passes the answer's body as it comes, so
// an answer longer than one write buffer must not be chunked although the app sees the
// client's HTTP/1.1 (SERVER_PROTOCOL): it would reach the browser with its chunk sizes.
func TestUwsgiAnswerNotChunked(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{Protocol: "uwsgi"}}, "unix")
	long := strings.Repeat("q", 10000) // echoed in the answer
	resp, err := uwsgiRequest(t, "unix", addr, nginxVars("POST", "/big", [2]string{"CONTENT_LENGTH", "10000"}), long)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if strings.Contains(strings.ToLower(head), "transfer-encoding") || !strings.HasPrefix(body, "method=POST path=/big") || !strings.HasSuffix(body, `body="`+long+`" cn=`+"\n") {
		t.Errorf("a %d-byte answer over uwsgi is not sent as it is:\n%s\n%.80q...%q", len(body), head, body, body[max(0, len(body)-20):])
	}
	if !strings.Contains(body, "proto=HTTP/1.1") {
		t.Errorf("the app does not see SERVER_PROTOCOL HTTP/1.1: %.200s", body)
	}
}

func TestUwsgiAllowFrom(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{Protocol: "uwsgi", UwsgiAllowFrom: "10.1.2.3"}}, "tcp")
	resp, err := uwsgiRequest(t, "tcp", addr, nginxVars("GET", "/"), "")
	if strings.Contains(resp, "200 OK") {
		t.Errorf("a peer outside --uwsgi-allow-from was served: %q %v", resp, err)
	}
	ok := serveInProcess(t, Config{Values: Values{Protocol: "uwsgi"}}, "tcp") // default 127.0.0.1,::1
	if resp, err := uwsgiRequest(t, "tcp", ok, nginxVars("GET", "/"), ""); err != nil || !strings.Contains(resp, "200 OK") {
		t.Errorf("127.0.0.1 refused by default: %q %v", resp, err)
	}
}

// fcgiRequest is a minimal FastCGI client (the responder role, as nginx's
// fastcgi_pass): one request, the response's STDOUT stream returned.
func fcgiRequest(t *testing.T, network, addr string, params [][2]string, body string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	record := func(typ byte, content []byte) {
		h := []byte{1, typ, 0, 1, 0, 0, 0, 0}
		binary.BigEndian.PutUint16(h[4:6], uint16(len(content)))
		c.Write(append(h, content...))
	}
	record(1, []byte{0, 1, 0, 0, 0, 0, 0, 0}) // BEGIN_REQUEST: responder, close after
	var p bytes.Buffer
	length := func(n int) { // one byte below 128, else four with the high bit set
		if n < 128 {
			p.WriteByte(byte(n))
			return
		}
		binary.Write(&p, binary.BigEndian, uint32(n)|1<<31)
	}
	for _, kv := range params {
		length(len(kv[0]))
		length(len(kv[1]))
		p.WriteString(kv[0] + kv[1])
	}
	record(4, p.Bytes())
	record(4, nil)
	if body != "" {
		record(5, []byte(body))
	}
	record(5, nil)
	var out bytes.Buffer
	br := bufio.NewReader(c)
	for {
		var h [8]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return out.String(), err
		}
		n, pad := binary.BigEndian.Uint16(h[4:6]), h[6]
		content := make([]byte, int(n)+int(pad))
		if _, err := io.ReadFull(br, content); err != nil {
			return out.String(), err
		}
		switch h[1] {
		case 6: // STDOUT
			out.Write(content[:n])
		case 3: // END_REQUEST
			return out.String(), nil
		}
	}
}

func TestFastCGIProtocol(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{Protocol: "fastcgi", ForwardedAllowIPs: "127.0.0.1"}}, "unix")
	resp, err := fcgiRequest(t, "unix", addr, nginxVars("POST", "/api/x?q=2", [2]string{"CONTENT_LENGTH", "4"}, [2]string{"HTTPS", "on"},
		[2]string{"HTTP_X_FORWARDED_FOR", "6.6.6.6"}, [2]string{"HTTP_TRACEPARENT", testTraceparent}), "ping")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Status: 200", "method=POST path=/api/x query=q=2 remote=203.0.113.7:51234 scheme=https", `xff="" traceparent=""`, `body="ping"`} {
		if !strings.Contains(resp, want) {
			t.Errorf("FastCGI response lacks %q:\n%s", want, resp)
		}
	}
	denied := serveInProcess(t, Config{Values: Values{Protocol: "fastcgi", UwsgiAllowFrom: "10.1.2.3"}}, "tcp")
	if resp, _ := fcgiRequest(t, "tcp", denied, nginxVars("GET", "/"), ""); strings.Contains(resp, "Status: 200") {
		t.Errorf("a peer outside --uwsgi-allow-from was served over FastCGI:\n%s", resp)
	}
}

func TestRootPathAndForwarderHeaders(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{RootPath: "/api"}}, "tcp")
	get := func(path string, hdr ...string) string {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/api/users"); !strings.Contains(got, "path=/users ") {
		t.Errorf("--root-path not stripped: %s", got)
	}
	if got := get("/apix"); !strings.Contains(got, "path=/apix ") {
		t.Errorf("--root-path stripped from a longer name: %s", got)
	}
	fwd := serveInProcess(t, Config{Values: Values{ForwardedAllowIPs: "127.0.0.1"}}, "tcp")
	addr = fwd
	if got := get("/shop/cart", "SCRIPT_NAME", "/shop"); !strings.Contains(got, "path=/cart ") {
		t.Errorf("a trusted SCRIPT_NAME not applied: %s", got)
	}
	untrusted := serveInProcess(t, Config{Values: Values{ForwardedAllowIPs: "none"}}, "tcp")
	addr = untrusted
	// from an untrusted peer a name with "_" is refused (Gunicorn's header_map=refuse)
	if got := get("/shop/cart", "SCRIPT_NAME", "/shop"); !strings.Contains(got, "Invalid HTTP header name") {
		t.Errorf("an untrusted SCRIPT_NAME not refused: %s", got)
	}
}

func TestWorkerConnectionsQueueInBacklog(t *testing.T) {
	addr := serveInProcess(t, Config{Values: Values{WorkerConnections: 1}}, "tcp")
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(first, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(first)
	if line, _ := br.ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("first connection: %q", line)
	}
	// the first stays open (keep-alive): the second connects (the kernel
	// queues it) but is not served until the first closes
	done := make(chan string, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/two")
		if err != nil {
			done <- err.Error()
			return
		}
		resp.Body.Close()
		done <- resp.Status
	}()
	select {
	case s := <-done:
		t.Fatalf("second connection served while the first holds the only slot: %s", s)
	case <-time.After(300 * time.Millisecond):
	}
	first.Close()
	if s := <-done; s != "200 OK" {
		t.Errorf("second connection after the first closed: %s (want served, not refused)", s)
	}
}

func TestH2CPriorKnowledgeWithCurl(t *testing.T) {
	curl := needTool(t, "curl", "apt-get install curl")
	addr := serveInProcess(t, Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge, HTTP2MaxConcurrentStreams: 50}}, "tcp")
	out, err := exec.Command(curl, "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}", "http://"+addr+"/").CombinedOutput()
	if err != nil || string(out) != "2" {
		t.Errorf("curl --http2-prior-knowledge: %q %v", out, err)
	}
	// HTTP/1.1 still works on the same port
	out, err = exec.Command(curl, "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_version}", "http://"+addr+"/").CombinedOutput()
	if err != nil || string(out) != "1.1" {
		t.Errorf("curl --http1.1: %q %v", out, err)
	}
	// without --http2-cleartext, no h2c
	plain := serveInProcess(t, Config{}, "tcp")
	if out, err := exec.Command(curl, "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}", "http://"+plain+"/").CombinedOutput(); err == nil && string(out) == "2" {
		t.Error("h2c served without --http2-cleartext")
	}
}

func TestH2CUnderLoadWithH2load(t *testing.T) {
	h2load := needTool(t, "h2load", "apt-get install nghttp2-client")
	addr := serveInProcess(t, Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, h2load, "-n", "2000", "-c", "4", "-m", "10", "http://"+addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "2000 succeeded, 0 failed") || !strings.Contains(string(out), "h2c") {
		t.Errorf("h2load: want 2000 succeeded over h2c:\n%s", out)
	}
	t.Logf("h2load:\n%s", out)
}

// newTestLogger logs through t, so a failing test shows the server's log.
func newTestLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
