package serving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// TestCheckRequestLimits: the limits on a request its transport's parser
// read (HTTP/2, uwsgi, FastCGI), the request line rebuilt as sent.
func TestCheckRequestLimits(t *testing.T) {
	cfg := testConfig(t, settings.Values{LimitRequestLine: 40, LimitRequestFields: 3, LimitRequestFieldSize: 20}, Hooks{})
	p := newRequestPolicy(cfg, nil)
	for _, tc := range []struct {
		uri  string
		hdr  []string
		want int
	}{
		{"/", []string{"A", "1"}, 0},
		{"/" + strings.Repeat("x", 40), nil, 414},
		{"/", []string{"A", strings.Repeat("v", 16)}, 431}, // "A: " + 16 + CRLF = 21
		{"/", []string{"A", strings.Repeat("v", 15)}, 0},
		{"/", []string{"A", "1", "B", "2", "C", "3"}, 431}, // + Host = 4 fields
	} {
		r := &http.Request{Method: "GET", RequestURI: tc.uri, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "h", Header: http.Header{}}
		for i := 0; i < len(tc.hdr); i += 2 {
			r.Header.Add(tc.hdr[i], tc.hdr[i+1])
		}
		got := 0
		if ref := p.checkRequest(r, false); ref != nil {
			got = ref.status
		}
		if got != tc.want {
			t.Errorf("%s %v: %d, want %d", tc.uri, tc.hdr, got, tc.want)
		}
	}
}

type recorder struct {
	header http.Header
	code   int
}

func TestLongLivedRequestsAreNeverStuck(t *testing.T) {
	cfg := testConfig(t, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	lg, _ := observe.NewLog(&settings.Values{ErrorLog: "-", LogLevel: "error"}, nil)
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	})
	s := NewHTTPServer(cfg, app, nil, nil, lg)
	serve := func(hdr ...string) {
		r := &http.Request{Method: "GET", RequestURI: "/", Proto: "HTTP/1.1", Host: "h", Header: http.Header{}}
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		go s.srv.Handler.ServeHTTP(&recorder{header: http.Header{}}, r)
		<-started
	}
	serve("Upgrade", "websocket", "Connection", "Upgrade")
	serve("Accept", "text/event-stream")
	time.Sleep(30 * time.Millisecond)
	st := s.tracker.Stats()
	if st.InFlight != 2 || st.OldestRequest != 0 || st.Requests != 2 {
		t.Errorf("two long-lived requests: %+v, want 2 in flight, none aged", st)
	}
	serve()
	time.Sleep(30 * time.Millisecond)
	if st := s.tracker.Stats(); st.InFlight != 3 || st.OldestRequest < 20*time.Millisecond {
		t.Errorf("plus an ordinary one: %+v, want it aged", st)
	}
	close(release)
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func TestDrainWaitsForHijackedConnectionsAndCallsOnDrain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drainCalled := make(chan struct{})
	var handlerDone atomic.Bool
	cfg := testConfig(t, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{OnDrain: func() { close(drainCalled) }})
	hijacked := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		close(hijacked)
		<-drainCalled // the app ends its WebSocket when told to drain
		time.Sleep(200 * time.Millisecond)
		handlerDone.Store(true)
	})
	lg, _ := observe.NewLog(&settings.Values{ErrorLog: "-", LogLevel: "error"}, nil)
	s := NewHTTPServer(cfg, app, []net.Listener{ln}, []string{"test"}, lg)
	s.Start()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	<-hijacked
	if err := s.Drain(5*time.Second, false); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if !handlerDone.Load() {
		t.Error("drain returned while a hijacked connection's handler was still running")
	}
}

// --http2-max-header-list-size lowers the header limit only where HTTP/2 is
// served: a plain HTTP/1 server keeps Gunicorn's limits (100 fields of 8190).
func TestHTTP2HeaderListSizeLeavesHTTP1Alone(t *testing.T) {
	for _, tc := range []struct {
		cfg  settings.Values
		want int
	}{
		{settings.Values{}, maxHeaderBytes(Config{Values: settings.Values{LimitRequestLine: 4094, LimitRequestFields: 100, LimitRequestFieldSize: 8190}})},
		{settings.Values{HTTP2Cleartext: settings.H2CPriorKnowledge}, 65536},
		{settings.Values{HTTP2Cleartext: settings.H2CPriorKnowledge, HTTP2MaxHeaderListSize: 32768}, 32768},
	} {
		c := testConfig(t, tc.cfg, Hooks{})
		s := NewHTTPServer(c, http.NotFoundHandler(), nil, nil, &observe.Log{Logger: newTestLogger(t), Out: io.Discard})
		if s.srv.MaxHeaderBytes != tc.want {
			t.Errorf("%+v: MaxHeaderBytes %d, want %d", tc.cfg, s.srv.MaxHeaderBytes, tc.want)
		}
	}
}

// A FastCGI drain waits for a connection accepted before the listener closed
// even when its request has not begun yet (the HUP that must lose nothing).
func TestFastCGIDrainWaitsForAcceptedConnections(t *testing.T) {
	c := testConfig(t, settings.Values{Protocol: "fastcgi", Workers: 1}, Hooks{})
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "app.sock"))
	if err != nil {
		t.Fatal(err)
	}
	lg := &observe.Log{Logger: newTestLogger(t), Out: io.Discard}
	sp, _, err := NewServingProc(c, func() (http.Handler, error) { return http.NotFoundHandler(), nil }, []net.Listener{ln}, []string{"app.sock"}, lg)
	if err != nil {
		t.Fatal(err)
	}
	sp.Srv.Start()
	defer sp.Close()
	conn, err := net.Dial("unix", ln.Addr().String()) // accepted, nothing sent yet
	if err != nil {
		t.Fatal(err)
	}
	for sp.Srv.fcgiOpen() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	drained := make(chan error, 1)
	go func() { drained <- sp.Srv.Drain(10*time.Second, false) }()
	select {
	case err := <-drained:
		t.Fatalf("drain ended (%v) with an accepted connection not served", err)
	case <-time.After(200 * time.Millisecond):
	}
	conn.Close()
	if err := <-drained; err != nil {
		t.Errorf("drain: %v", err)
	}
}

// The whole serving chain: the access log line (text and JSON) carries the
// ID, and a hostile one cannot add a line or a field.
func TestRequestIDInAccessLog(t *testing.T) {
	for _, format := range []string{`%(h)s "%(r)s" %(s)s rid=%({X-Request-Id}i)s`, "json"} {
		var out bytes.Buffer
		al, err := observe.NewAccessLogTo(&out, format)
		if err != nil {
			t.Fatal(err)
		}
		trusted, _ := ParseTrustedProxies("127.0.0.1")
		s := &ServingChain{access: al, trusted: trusted}
		var appID string
		h := s.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { appID = RequestID(r.Context()) }))
		hostile := "x\n127.0.0.1 \"GET /admin HTTP/1.1\" 200 rid=forged\",\"status\":200,\"x\":\"" + strings.Repeat("A", 10<<10)
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set(RequestIDHeader, hostile)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		line := out.String()
		if strings.Count(line, "\n") != 1 || strings.Contains(line, "forged") || len(line) > 1000 {
			t.Errorf("%s: hostile id reached the log: %q", format, line)
		}
		if appID == "" || !strings.Contains(line, appID) || w.Header().Get(RequestIDHeader) != appID {
			t.Errorf("%s: id %q not in the line %q or the response", format, appID, line)
		}
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil || m["request_id"] != appID {
				t.Errorf("json line %q: %v, request_id %v", line, err, m["request_id"])
			}
		}
	}
}
