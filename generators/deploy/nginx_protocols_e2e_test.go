package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// echoRoute is added to the generated project of TestProtocolsBehindNginx: it answers
// what the app saw of the request, so each answer through nginx is checked against it.
const echoRoute = `package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ",")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Echo-Sha256", hex.EncodeToString(sum[:]))
	if back := r.Header.Get("X-Echo-Back"); back != "" {
		w.Header().Set("X-Echo-Back", back)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
		"length": len(body), "sha256": hex.EncodeToString(sum[:]), "headers": headers,
	})
}
`

// echoed is what echoRoute answers.
type echoed struct {
	Method, Path, Query string
	Length              int
	Sha256              string
	Headers             map[string]string
}

// TestProtocolsBehindNginx proves each way the nginx site reaches the app (proxy_pass over
// HTTP, uwsgi_pass, fastcgi_pass: deploy-config --protocol, the app run with the flag the
// generated program file gives it) on every path a request takes, in a real nginx in
// front of the generated production entry (Gunicorn 26.2.1 had shipped uwsgi answering
// 502 to everything): GET with a query and headers, POST with a body, a chunked upload
// from the client, request headers and request line near nginx's and the runtime's limits
// (and the line over the runtime's: its 414 passes through), an answer's header over one
// memory page, a page longer than one write buffer, several requests on one
// kept-alive client connection, and a HUP of the master under load failing no request.
// Every answer is checked against what the app says it saw.
func TestProtocolsBehindNginx(t *testing.T) {
	ctx, deadline := endToEnd(t, "builds a project and starts it behind nginx", 4*time.Minute, "nginx", "go")

	dir := newProject(t, "demo")
	bin := buildWithRoute(t, ctx, dir, `mux.HandleFunc("/echo/", echo)`, "echo.go", echoRoute)

	for _, protocol := range []string{"http", "uwsgi", "fastcgi"} {
		t.Run(protocol, func(t *testing.T) { protocolBehindNginx(t, ctx, deadline, dir, bin, protocol) })
	}
}

func protocolBehindNginx(t *testing.T, ctx context.Context, deadline time.Time, dir, bin, protocol string) {
	socket := filepath.Join(t.TempDir(), "demo.sock")
	opts := Options{Socket: socket, StaticDir: filepath.Join(dir, "web", "static"), Protocol: protocol}
	gen, err := Generate(dir, Options{Targets: []string{"nginx", "supervisor"}, Socket: socket, Protocol: protocol})
	if err != nil {
		t.Fatal(err)
	}
	// The app as the generated program file runs it (its protocol flag), from the source
	// tree, on the socket the site's upstream names.
	args := []string{"-c", "config", "-b", "unix:" + socket, "-w", "2"}
	args = append(args, strings.Fields(gen.Data.AppProtocolFlag)...)
	if prog, _ := gen.Files.Get("supervisor/demo.conf"); !strings.Contains(string(prog.Data), gen.Data.AppProtocolFlag+"\n") {
		t.Fatalf("the program file does not run the app with %q:\n%s", gen.Data.AppProtocolFlag, prog.Data)
	}
	// APP_SERVER_CANARY_WINDOW=0: the HUP below checks the rolling reload itself (production's
	// canary has TestCanaryReloadBehindNginxUnderWrk)
	env := append(os.Environ(), "APP_ENV=production", "APP_APP_STATIC_DIR=web/static", "APP_SERVER_CONTROL_SOCKET=", "APP_SERVER_CANARY_WINDOW=0")
	master := startAppOn(t, deadline, dir, env, socket, bin, args...)
	base := startSite(t, dir, opts)

	// dials counts the client's connections to nginx, to tell kept-alive requests.
	var dials atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}, MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	// send sends one request and checks the answer against what the app saw.
	send := func(method, path string, header http.Header, body io.Reader, chunked bool, want int) (echoed, error) {
		var e echoed
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return e, err
		}
		req.Header = header
		if chunked {
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		}
		resp, err := client.Do(req)
		if err != nil {
			return e, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return e, err
		}
		if resp.StatusCode != want {
			return e, fmt.Errorf("%s %.60s: status %d, want %d: %.300s", method, path, resp.StatusCode, want, b)
		}
		if want != 200 {
			return e, nil
		}
		if err := json.Unmarshal(b, &e); err != nil {
			return e, fmt.Errorf("%s %.60s: %v: %.300s", method, path, err, b)
		}
		if got := resp.Header.Get("X-Echo-Sha256"); got != e.Sha256 {
			return e, fmt.Errorf("%s %.60s: response header X-Echo-Sha256 %q, body says %q", method, path, got, e.Sha256)
		}
		if got, sent := resp.Header.Get("X-Echo-Back"), header.Get("X-Echo-Back"); got != sent {
			return e, fmt.Errorf("%s %.60s: the app's response header X-Echo-Back came back as %d bytes, want %d", method, path, len(got), len(sent))
		}
		return e, nil
	}

	backHeader := strings.Repeat("r", 7000)          // an answer's header over one memory page, within the site's 8k *_buffer_size
	big := strings.Repeat("b", 8000)                 // "X-Big: " and this: just under the runtime's 8190 per field and nginx's 8k line buffer
	longPath := "/echo/" + strings.Repeat("p", 4000) // the request line just under the runtime's 4094
	many := http.Header{"X-Big": {big}}
	for i := range 80 { // with nginx's and the client's own, under the runtime's 100 fields
		many.Set(fmt.Sprintf("X-Field-%02d", i), strings.Repeat(strconv.Itoa(i%10), 90))
	}
	upload := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB, under app.max_body_bytes
	sum := sha256.Sum256([]byte(upload))
	tests := []struct {
		name, method, path string
		header             http.Header
		body               string
		chunked            bool
		want               int
		check              func(e echoed) error
	}{
		{name: "GET with a query and a header", method: "GET", path: "/echo/get?a=1&b=two", header: http.Header{"X-Test": {"hello"}, "X-Echo-Back": {backHeader}}, want: 200,
			check: func(e echoed) error {
				if e.Method != "GET" || e.Path != "/echo/get" || e.Query != "a=1&b=two" || e.Headers["X-Test"] != "hello" || e.Length != 0 {
					return fmt.Errorf("the app saw %+v", e)
				}
				return nil
			}},
		// The request ID is nginx's ($request_id), never the client's: the app trusts the
		// header from nginx, and logs it with every record of the request.
		{name: "a client's X-Request-ID", method: "GET", path: "/echo/id", header: http.Header{"X-Request-Id": {"forged-by-the-client"}}, want: 200,
			check: func(e echoed) error {
				if id := e.Headers["X-Request-Id"]; !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
					return fmt.Errorf("the app saw the request ID %q, want nginx's 32 hex digits", id)
				}
				return nil
			}},
		{name: "POST with a body", method: "POST", path: "/echo/post", header: http.Header{"Content-Type": {"text/plain"}}, body: "hello world", want: 200,
			check: func(e echoed) error {
				s := sha256.Sum256([]byte("hello world"))
				if e.Method != "POST" || e.Length != 11 || e.Sha256 != hex.EncodeToString(s[:]) || e.Headers["Content-Type"] != "text/plain" || e.Headers["Content-Length"] != "" && e.Headers["Content-Length"] != "11" {
					return fmt.Errorf("the app saw %+v", e)
				}
				return nil
			}},
		{name: "chunked upload", method: "PUT", path: "/echo/upload", header: http.Header{"Content-Type": {"application/octet-stream"}}, body: upload, chunked: true, want: 200,
			check: func(e echoed) error {
				if e.Method != "PUT" || e.Length != len(upload) || e.Sha256 != hex.EncodeToString(sum[:]) {
					return fmt.Errorf("the app saw %s %s, %d bytes (sha256 %s), want %d", e.Method, e.Path, e.Length, e.Sha256, len(upload))
				}
				return nil
			}},
		{name: "large headers and request line", method: "GET", path: longPath, header: many, want: 200,
			check: func(e echoed) error {
				if e.Path != longPath || e.Headers["X-Big"] != big {
					return fmt.Errorf("the app saw the path %.40q... (%d bytes) and X-Big of %d bytes", e.Path, len(e.Path), len(e.Headers["X-Big"]))
				}
				for k, v := range many {
					if e.Headers[k] != v[0] {
						return fmt.Errorf("the app saw %s %.20q, want %.20q", k, e.Headers[k], v[0])
					}
				}
				return nil
			}},
		// Over the runtime's limit_request_line but within nginx's buffers: the app refuses it.
		{name: "request line over the runtime's limit", method: "GET", path: "/echo/" + strings.Repeat("p", 4200), want: http.StatusRequestURITooLong},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // of unknown length: sent chunked
			}
		}
		e, err := send(tt.method, tt.path, tt.header, body, tt.chunked, tt.want)
		if err == nil && tt.check != nil {
			err = tt.check(e)
		}
		if err != nil {
			t.Errorf("%s over %s: %v", tt.name, protocol, err)
		}
	}

	// The home page, whole: its HTML is larger than one write buffer of the app.
	if resp, page := do(t, "GET", base+"/", ""); resp.StatusCode != 200 || !strings.HasPrefix(page, "<!doctype html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("GET / over %s: %d, %d bytes, not one HTML document:\n%.80q\n...%q", protocol, resp.StatusCode, len(page), page, page[max(0, len(page)-40):])
	}

	// Keep-alive: several requests on one client connection, each answered in full.
	tr.CloseIdleConnections()
	before := dials.Load()
	for i := range 5 {
		payload := strings.Repeat(strconv.Itoa(i), 100+i)
		e, err := send("POST", "/echo/keepalive/"+strconv.Itoa(i), http.Header{}, strings.NewReader(payload), false, 200)
		if err == nil && (e.Length != len(payload) || e.Path != "/echo/keepalive/"+strconv.Itoa(i)) {
			err = fmt.Errorf("the app saw %+v", e)
		}
		if err != nil {
			t.Errorf("kept-alive request %d over %s: %v", i, protocol, err)
		}
	}
	if n := dials.Load() - before; n != 1 {
		t.Errorf("5 requests over %s took %d client connections to nginx, want 1 (kept alive)", protocol, n)
	}

	// HUP of the master under load (GET and POST with bodies, on kept-alive client
	// connections): the rolling reload fails no request.
	pid := master.cmd.Process.Pid
	workers := childrenOf(pid)
	if len(workers) == 0 {
		t.Fatalf("master %d has no workers", pid)
	}
	loadTr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(loadTr.CloseIdleConnections)
	loadClient := &http.Client{Timeout: 10 * time.Second, Transport: loadTr}
	var n atomic.Int64
	stop := startLoad(4, 3000, func() error {
		i := n.Add(1)
		payload := strings.Repeat("x", int(i%2000))
		method, body := "POST", io.Reader(strings.NewReader(payload))
		if i%2 == 0 {
			method, body, payload = "GET", nil, ""
		}
		req, err := http.NewRequestWithContext(ctx, method, base+"/echo/load", body)
		if err != nil {
			return err
		}
		resp, err := loadClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var e echoed
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 200 || e.Length != len(payload) || e.Method != method {
			return fmt.Errorf("%s: status %d, the app saw %d bytes of %d (%v)", method, resp.StatusCode, e.Length, len(payload), err)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // requests in flight before the signal
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitReplaced(t, deadline, pid, workers)
	time.Sleep(200 * time.Millisecond) // and on the new generation
	ok, failed, first := stop()
	t.Logf("HUP under load over %s: %d requests answered, %d failed", protocol, ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("HUP under load over %s: %d of %d requests failed (first: %v)", protocol, failed, ok+failed, first)
	}
	if ok+failed == 4*3000 {
		t.Errorf("the load ran out before the reload ended: raise its bound")
	}
}
