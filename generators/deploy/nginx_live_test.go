package deploy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestNginxHTTPSAndUpstreamsLive runs a real nginx with the HTTPS site for two app servers
// given by --upstream (plain Go servers on loopback standing in for the app) and checks
// the behaviour, not just the syntax: HTTP redirects to HTTPS except the ACME challenge,
// HTTP/2 and HSTS, unknown TLS names refused, X-Forwarded-Proto, load spread over both
// upstreams and carried on by one when the other is down, the body limit, and a
// client's traceparent and tracestate passed to the app, its trace ID in the access log.
func TestNginxHTTPSAndUpstreamsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	testenv.Tool(t, "nginx")
	deadline := time.Now().Add(time.Minute)
	tmp := t.TempDir()

	var hits [2]atomic.Int64
	var sawProto, sawTrace atomic.Value
	var servers [2]*http.Server
	var upstreams []string
	for i := range servers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		upstreams = append(upstreams, ln.Addr().String())
		servers[i] = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			sawProto.Store(r.Header.Get("X-Forwarded-Proto"))
			sawTrace.Store(r.Header.Get("traceparent") + " " + r.Header.Get("tracestate"))
			fmt.Fprintf(w, "<title>demo</title> backend %d", i)
		})}
		go servers[i].Serve(ln)
		t.Cleanup(func() { servers[i].Close() })
	}

	certDir := filepath.Join(tmp, "certs")
	cert, key := selfSigned(t, certDir, "demo.test", "demo.pem", "demo.key")
	httpPort, httpsPort := testenv.FreePort(t), testenv.FreePort(t)
	dir := newProject(t, "demo")
	gen, err := Generate(dir, Options{
		Targets: []string{"nginx"}, Domains: []string{"demo.test"}, Upstreams: upstreams,
		HTTPS: true, Cert: cert, Key: key,
		Listen: "127.0.0.1:" + strconv.Itoa(httpPort), HTTPSListen: "127.0.0.1:" + strconv.Itoa(httpsPort),
		NginxLogDir: filepath.Join(tmp, "log"), ACMERoot: filepath.Join(tmp, "acme"), StaticDir: filepath.Join(tmp, "static"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"log", "tmp"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(tmp, "acme", ".well-known", "acme-challenge", "tok"), "token-from-disk")
	// The site and the catch-all default server beside it, as installed.
	for _, p := range []string{"nginx/demo.conf", DefaultServerFile} {
		f, _ := gen.Files.Get(p)
		writeFile(t, filepath.Join(tmp, "sites", path.Base(p)), string(f.Data))
	}
	writeFile(t, filepath.Join(tmp, "nginx.conf"), string(NginxWrapper(tmp, filepath.Join(tmp, "sites", "*.conf"))))
	nginx := startDaemon(t, "nginx", "-p", tmp, "-e", "stderr", "-c", filepath.Join(tmp, "nginx.conf"), "-g", "daemon off;")
	t.Cleanup(func() { nginx.stop(10 * time.Second) })
	waitFor(t, "nginx", deadline, func() error {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpsPort))
		if err == nil {
			c.Close()
		}
		return err
	})

	// Plain HTTP: a permanent redirect, except for the ACME challenge.
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/page?q=1", nil)
	req.Host = "demo.test"
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://demo.test/page?q=1" {
		t.Errorf("http: %d Location %q, want 301 to https://demo.test/page?q=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/.well-known/acme-challenge/tok", nil)
	req.Host = "demo.test"
	if resp, err = plain.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "token-from-disk" {
		t.Errorf("ACME over http: %d %q", resp.StatusCode, body)
	}

	// HTTPS, HTTP/2, for the site's name only.
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(httpsPort))
	}
	tr := &http.Transport{DialContext: dialer, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	get := func() (*http.Response, string, error) {
		resp, err := client.Get("https://demo.test/")
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	resp, body2, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || !strings.Contains(body2, "backend") {
		t.Errorf("https: %d %s %q", resp.StatusCode, resp.Proto, body2)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("no HSTS: %v", resp.Header)
	}
	if p, _ := sawProto.Load().(string); p != "https" {
		t.Errorf("the app saw X-Forwarded-Proto %q", p)
	}
	// W3C trace context reaches the app unchanged; the access log has its trace ID, or "-".
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	traced, _ := http.NewRequest("GET", "https://demo.test/traced", nil)
	traced.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	traced.Header.Set("tracestate", "vendor=opaque")
	if resp, err = client.Do(traced); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := sawTrace.Load().(string); got != traced.Header.Get("traceparent")+" vendor=opaque" {
		t.Errorf("the app saw traceparent and tracestate %q", got)
	}
	tracedLine := regexp.MustCompile(`(?m)"GET /traced HTTP/2.0" 200 .* request_id=[0-9a-f]{32} trace_id=` + traceID + `$`)
	untracedLine := regexp.MustCompile(`(?m)"GET / HTTP/2.0" 200 .* trace_id=-$`)
	waitFor(t, "the trace ID in the access log", deadline, func() error { // written as the stream closes
		accessLog, err := os.ReadFile(filepath.Join(tmp, "log", "demo.access.log"))
		if err == nil && (!tracedLine.Match(accessLog) || !untracedLine.Match(accessLog)) {
			err = fmt.Errorf("no line for /traced with trace_id=%s, or for / with trace_id=-:\n%s", traceID, accessLog)
		}
		return err
	})
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(httpsPort), &tls.Config{ServerName: "evil.test", InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Error("TLS handshake for an unknown name succeeded")
	}

	// Both upstreams share the load; with one down, the other carries it all.
	for range 20 {
		if resp, _, err := get(); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET: %v", err)
		}
	}
	if hits[0].Load() == 0 || hits[1].Load() == 0 {
		t.Errorf("load not spread: %d / %d", hits[0].Load(), hits[1].Load())
	}
	servers[0].Close()
	for range 20 {
		resp, body, err := get()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(body, "backend 1") {
			t.Fatalf("with one upstream down: %v %v %q", err, resp, body)
		}
	}

	// Bodies over app.max_body_bytes stop at nginx.
	big := strings.NewReader(strings.Repeat("x", int(gen.Data.MaxBodyBytes)+1))
	resp, err = client.Post("https://demo.test/", "text/plain", big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("body over %d bytes: %d, want 413", gen.Data.MaxBodyBytes, resp.StatusCode)
	}

	// TLS 1.3 is offered for the site's name, although the catch-all default server
	// governs the handshake (nginx below 1.23.4 would default it to TLSv1-TLSv1.2).
	c13, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(httpsPort),
		&tls.Config{ServerName: "demo.test", InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Errorf("TLS 1.3 handshake with demo.test: %v", err)
	} else {
		c13.Close()
	}
	if testssl := testenv.OptionalTool(t, "testssl", "grading with Go's TLS client only", "apt-get install testssl.sh"); testssl != "" {
		gradeWithTestssl(t, testssl, "demo.test:"+strconv.Itoa(httpsPort))
	}
}

// gradeWithTestssl runs testssl.sh's protocol, cipher-category and vulnerability checks
// on the site (SNI name:port, connecting to 127.0.0.1): TLS 1.2 and 1.3 offered, nothing
// older, no CBC or weaker suite, no VULNERABLE finding.
func gradeWithTestssl(t *testing.T, testssl, target string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "testssl.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, testssl, "--quiet", "--color", "0", "--warnings", "off", "--ip", "127.0.0.1",
		"-p", "-s", "-U", "--jsonfile", out, target).CombinedOutput()
	js, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatalf("testssl.sh %s: %v %v\n%s", target, err, rerr, b)
	}
	var items []struct{ ID, Severity, Finding string }
	if err := json.Unmarshal(js, &items); err != nil {
		t.Fatalf("testssl.sh JSON: %v", err)
	}
	f := map[string]string{}
	for _, it := range items {
		f[it.ID] = it.Finding
		if strings.Contains(it.Finding, "VULNERABLE") && !strings.Contains(it.Finding, "not vulnerable") {
			t.Errorf("testssl.sh: %s: %s (%s)", it.ID, it.Finding, it.Severity)
		}
	}
	for id, want := range map[string]string{"TLS1_2": "offered", "TLS1_3": "offered", "TLS1": "not offered", "TLS1_1": "not offered",
		"cipherlist_NULL": "not offered", "cipherlist_LOW": "not offered", "cipherlist_3DES_IDEA": "not offered"} {
		if !strings.HasPrefix(f[id], want) {
			t.Errorf("testssl.sh %s: %q, want %q", id, f[id], want)
		}
	}
	cbc, ok := f["cipherlist_OBSOLETED"] // testssl 3.2; 3.0 calls it cipherlist_AVERAGE
	if !ok {
		cbc = f["cipherlist_AVERAGE"]
	}
	if cbc != "not offered" {
		t.Errorf("testssl.sh: obsolete CBC ciphers %q, want not offered", cbc)
	}
	t.Logf("testssl.sh %s: TLS1_2 %q, TLS1_3 %q, obsolete CBC %q", target, f["TLS1_2"], f["TLS1_3"], cbc)
}
