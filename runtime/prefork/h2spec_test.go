package prefork

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// h2specInstall is how .ci/run installs h2spec.
const h2specInstall = "go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible"

// h2specResult is one h2spec run: the IDs of the cases that failed, and
// how many ran.
type h2specResult struct {
	failed []string
	total  int
}

// runH2spec runs h2spec against addr and reads its JUnit report.
func runH2spec(t *testing.T, h2spec, addr string, tls bool) h2specResult {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	report := filepath.Join(t.TempDir(), "report.xml")
	args := []string{"-h", "127.0.0.1", "-p", port, "-o", "2", "-j", report}
	if tls {
		args = append(args, "-t", "-k")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, h2spec, args...).CombinedOutput() // exit 1 when a case fails
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("h2spec wrote no report: %v\n%s", err, out)
	}
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Package   string    `xml:"package,attr"`
				Classname string    `xml:"classname,attr"`
				Failure   *struct{} `xml:"failure"`
				Error     *struct{} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	var r h2specResult
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			r.total++
			if c.Failure != nil || c.Error != nil {
				r.failed = append(r.failed, c.Package+" "+s.Name+": "+c.Classname)
			}
		}
	}
	if r.total == 0 {
		t.Fatalf("h2spec ran no case:\n%s", out)
	}
	return r
}

// TestH2specRuntimeAndNetHTTP runs h2spec (every case of RFC 7540 and
// HPACK) against the runtime over TLS and over h2c prior knowledge, and in
// the same run against a bare net/http server: the runtime fails no case
// that bare net/http passes. Measured (Go 1.26): both fail 6.5.3 (repeated
// SETTINGS_INITIAL_WINDOW_SIZE) and 8.1.2.2 (connection-specific fields, TE
// other than trailers: net/http's HTTP/2 server answers 400 before any
// handler, where h2spec wants RST_STREAM PROTOCOL_ERROR), and over h2c 3.5
// (an invalid preface is read as an HTTP/1 request and answered 400, not
// closed); only net/http fails 4.2 (the runtime's header list limit).
func TestH2specRuntimeAndNetHTTP(t *testing.T) {
	h2spec := needTool(t, "h2spec", h2specInstall)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "ok")
	})
	cert, key, _ := writeTestCert(t, t.TempDir(), 1)
	for _, mode := range []string{"tls", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}
			if mode == "tls" {
				cfg = Config{Values: Values{CertFile: cert, KeyFile: key}}
			}
			runtime := serveAppInProcess(t, cfg, "tcp", func() (http.Handler, error) { return app, nil })
			bare := bareServer(t, app, mode == "tls", cert, key)
			rt, nh := runH2spec(t, h2spec, runtime, mode == "tls"), runH2spec(t, h2spec, bare, mode == "tls")
			t.Logf("h2spec over %s: runtime %d of %d pass, bare net/http %d of %d", mode, rt.total-len(rt.failed), rt.total, nh.total-len(nh.failed), nh.total)
			for _, c := range rt.failed {
				if !slices.Contains(nh.failed, c) {
					t.Errorf("the runtime fails what net/http passes: %s", c)
				} else {
					t.Logf("fails, as bare net/http does: %s", c)
				}
			}
			for _, c := range nh.failed {
				if !slices.Contains(rt.failed, c) {
					t.Logf("bare net/http fails, the runtime passes: %s", c)
				}
			}
		})
	}
}

// bareServer is net/http alone, HTTP/1 and HTTP/2 (h2c prior knowledge
// without TLS), on a loopback port until the test ends.
func bareServer(t *testing.T, h http.Handler, tls bool, cert, key string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(!tls)
	srv := &http.Server{Handler: h, Protocols: &p}
	go func() {
		if tls {
			srv.ServeTLS(ln, cert, key)
		} else {
			srv.Serve(ln)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestHTTP2StreamResetKeepsTheConnection: a client that resets one stream
// (a cancelled upload) keeps its connection: the next request reuses it,
// over TLS and over h2c.
func TestHTTP2StreamResetKeepsTheConnection(t *testing.T) {
	started := make(chan struct{}, 4)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			started <- struct{}{}
			io.Copy(io.Discard, r.Body) // ends with the reset
			return
		}
		fmt.Fprint(w, r.Proto)
	})
	cert, key, _ := writeTestCert(t, t.TempDir(), 1)
	for _, mode := range []string{"tls", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			cfg, scheme := Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}, "http://"
			tr := &http.Transport{}
			if mode == "tls" {
				cfg, scheme = Config{Values: Values{CertFile: cert, KeyFile: key}}, "https://"
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
				tr.ForceAttemptHTTP2 = true
			} else {
				var p http.Protocols
				p.SetUnencryptedHTTP2(true)
				tr.Protocols = &p
			}
			defer tr.CloseIdleConnections()
			addr := serveAppInProcess(t, cfg, "tcp", func() (http.Handler, error) { return app, nil })
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			var conns []string
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Conn.LocalAddr().String()) }}
			get := func() {
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", scheme+addr+"/", nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "HTTP/2.0" {
					t.Fatalf("served over %q, want HTTP/2.0", b)
				}
			}
			get()
			ctx, cancel := context.WithCancel(httptrace.WithClientTrace(context.Background(), trace))
			body, feed := io.Pipe()
			req, _ := http.NewRequestWithContext(ctx, "POST", scheme+addr+"/upload", body)
			done := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			feed.Write(make([]byte, 1024))
			<-started
			cancel() // RST_STREAM(CANCEL) for this stream only
			<-done
			feed.Close()
			get()
			if len(conns) != 3 || conns[0] != conns[1] || conns[1] != conns[2] {
				t.Errorf("connections used %v: want one, kept across the reset", conns)
			}
		})
	}
}
