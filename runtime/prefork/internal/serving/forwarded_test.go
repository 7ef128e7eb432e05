package serving

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

func TestParseTrustedProxies(t *testing.T) {
	tp, err := ParseTrustedProxies(" 10.0.0.0/8, ::1 ,127.0.0.1,192.168.1.5/32")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.1.2.3:80": true, "[::1]:1": true, "127.0.0.1:9": true, "[::ffff:127.0.0.1]:9": true,
		"192.168.1.5:1": true, "192.168.1.6:1": false, "11.0.0.1:5": false, "[2001:db8::1]:5": false,
	} {
		if got := tp.TrustsAddr(net.TCPAddrFromAddrPort(mustAddrPort(t, addr))); got != want {
			t.Errorf("%s trusted = %v, want %v", addr, got, want)
		}
	}
	if !tp.TrustsAddr(&net.UnixAddr{Name: "@", Net: "unix"}) {
		t.Error("unix socket peers are always trusted")
	}
	all, _ := ParseTrustedProxies("*")
	if !all.TrustsAddr(&net.TCPAddr{IP: net.ParseIP("203.0.113.9"), Port: 1}) {
		t.Error("* must trust everyone")
	}
	none, _ := ParseTrustedProxies("")
	if none.TrustsAddr(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}) {
		t.Error("empty list must trust no IP")
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3", "::1/200"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), "forwarded-allow-ips") {
			t.Errorf("%q: want an error naming the flag, got %v", bad, err)
		}
	}
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		t.Fatal(err)
	}
	return a.AddrPort()
}

type seen struct{ remote, scheme, host, xff, proto string }

func serveForwarded(t *testing.T, tp *TrustedProxies, remote string, hdr map[string]string) seen {
	t.Helper()
	var s seen
	h := tp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s = seen{r.RemoteAddr, RequestScheme(r), r.Host, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto")}
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	return s
}

func TestForwardedHeadersOnlyFromTrustedPeers(t *testing.T) {
	tp, _ := ParseTrustedProxies("127.0.0.1,::1,10.0.0.0/8")
	hdr := map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"}
	for _, tc := range []struct {
		name, remote string
		hdr          map[string]string
		want         seen
	}{
		{"trusted v4", "127.0.0.1:5555", hdr, seen{"198.51.100.1:0", "https", "shop.example.com", "198.51.100.1", "https"}},
		{"trusted v6", "[::1]:5555", hdr, seen{"198.51.100.1:0", "https", "shop.example.com", "198.51.100.1", "https"}},
		{"untrusted: ignored and stripped", "203.0.113.5:5555", hdr, seen{"203.0.113.5:5555", "http", "example.com", "", ""}},
		{"spoofed left of chain", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "1.1.1.1, 198.51.100.2, 10.0.0.3"}, seen{"198.51.100.2:0", "http", "example.com", "1.1.1.1, 198.51.100.2, 10.0.0.3", ""}},
		{"all hops trusted", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "10.0.0.9, 10.0.0.3"}, seen{"10.0.0.9:0", "http", "example.com", "10.0.0.9, 10.0.0.3", ""}},
		{"hop with port", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "[2001:db8::7]:443"}, seen{"[2001:db8::7]:0", "http", "example.com", "[2001:db8::7]:443", ""}},
		{"garbage hop", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "<script>"}, seen{"127.0.0.1:1", "http", "example.com", "<script>", ""}},
		{"bad proto and host", "127.0.0.1:1", map[string]string{"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.com/path"}, seen{"127.0.0.1:1", "http", "example.com", "", "javascript"}},
		{"proto list: nearest wins", "127.0.0.1:1", map[string]string{"X-Forwarded-Proto": "http, https"}, seen{"127.0.0.1:1", "https", "example.com", "", "http, https"}},
	} {
		if got := serveForwarded(t, tp, tc.remote, tc.hdr); got != tc.want {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.name, got, tc.want)
		}
	}
}

// A trace may be continued only from a trusted front end: traceparent,
// tracestate and baggage from anyone else are removed, as X-Forwarded-* are.
func TestTraceContextOnlyFromTrustedPeers(t *testing.T) {
	tp, _ := ParseTrustedProxies("127.0.0.1")
	trace := map[string]string{"Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Tracestate": "vendor=1", "Baggage": "user=x"}
	for _, tc := range []struct {
		remote string
		kept   bool
	}{{"127.0.0.1:5555", true}, {"203.0.113.5:5555", false}} {
		var got http.Header
		h := tp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for k, v := range trace {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		for k, v := range trace {
			if kept := got.Get(k) == v; kept != tc.kept {
				t.Errorf("from %s: %s = %q, want kept=%v", tc.remote, k, got.Get(k), tc.kept)
			}
		}
	}
}

func TestForwardedTrustsUnixSocketPeers(t *testing.T) {
	tp, _ := ParseTrustedProxies("") // no IP trusted: only the unix socket peer
	sock := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: tp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr+" "+RequestScheme(r))
	}))}
	go srv.Serve(ln)
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	req, _ := http.NewRequest("GET", "http://app/", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "198.51.100.1:0 https" {
		t.Errorf("unix peer not trusted: %q", body)
	}
}

func BenchmarkForwardedTrusted(b *testing.B) {
	tp, _ := ParseTrustedProxies(settings.DefaultForwardedAllowIPs)
	h := tp.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header["X-Forwarded-For"] = []string{"203.0.113.1, 10.1.1.1"}
		h.ServeHTTP(w, r)
	}
}
