package prefork

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// serveProxyProto starts an HTTP server answering with r.RemoteAddr behind
// a PROXY protocol listener on loopback.
func serveProxyProto(t *testing.T, allow string, timeout time.Duration) string {
	t.Helper()
	tp, err := serving.ParseTrustedProxies(allow)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.RemoteAddr)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(serving.ProxyProtocolListener(ln, tp, "", timeout))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawRequest sends prefix + a GET and returns the status line and body.
func rawRequest(t *testing.T, addr string, prefix []byte) (string, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(append(prefix, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"...))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "closed: " + err.Error(), ""
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.Status, string(body)
}

func proxyV2(cmd, fam byte, addrs []byte) []byte {
	b := append([]byte{}, serving.ProxyV2Signature...)
	b = append(b, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(b[14:], uint16(len(addrs)))
	return append(b, addrs...)
}

func TestProxyProtocolFromTrustedPeer(t *testing.T) {
	addr := serveProxyProto(t, DefaultForwardedAllowIPs, 0)
	v4 := []byte{198, 51, 100, 1, 127, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb}
	v6 := make([]byte, 36)
	copy(v6, net.ParseIP("2001:db8::9"))
	copy(v6[16:], net.ParseIP("::1"))
	binary.BigEndian.PutUint16(v6[32:], 4242)
	for _, tc := range []struct {
		name   string
		prefix []byte
		want   string
	}{
		{"v1 tcp4", []byte("PROXY TCP4 198.51.100.1 127.0.0.1 56324 443\r\n"), "198.51.100.1:56324"},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 ::1 1234 443\r\n"), "[2001:db8::1]:1234"},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), "127.0.0.1:"},
		{"v2 ipv4 with TLV", proxyV2(1, 0x11, append(v4, 0x04, 0, 1, 'x')), "198.51.100.1:56324"},
		{"v2 ipv6", proxyV2(1, 0x21, v6), "[2001:db8::9]:4242"},
		{"v2 local", proxyV2(0, 0x00, nil), "127.0.0.1:"},
		{"no header", nil, "127.0.0.1:"},
	} {
		status, body := rawRequest(t, addr, tc.prefix)
		if status != "200 OK" || !strings.HasPrefix(body, tc.want) {
			t.Errorf("%s: %s %q, want 200 %q", tc.name, status, body, tc.want)
		}
	}
	for _, bad := range [][]byte{
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n"),
		[]byte("PROXY TCP4 ::1 ::1 1 1\r\n"),
		[]byte("PROXY TCP4 1.2.3.4\r\n"),
		[]byte("PROXY " + strings.Repeat("A", 200) + "\r\n"),
		proxyV2(1, 0x11, []byte{1, 2, 3}),
	} {
		if status, body := rawRequest(t, addr, bad); status == "200 OK" {
			t.Errorf("malformed header %q accepted: %s", bad, body)
		}
	}
}

func TestProxyProtocolIgnoredFromUntrustedPeer(t *testing.T) {
	addr := serveProxyProto(t, "192.0.2.1", 0) // loopback is not trusted
	status, body := rawRequest(t, addr, []byte("PROXY TCP4 198.51.100.1 127.0.0.1 56324 443\r\n"))
	if status == "200 OK" && strings.HasPrefix(body, "198.51.100.1") {
		t.Fatalf("untrusted peer set its address: %q", body)
	}
	if status, body := rawRequest(t, addr, nil); status != "200 OK" || !strings.HasPrefix(body, "127.0.0.1:") {
		t.Fatalf("plain request from untrusted peer: %s %q", status, body)
	}
}

func TestProxyProtocolSilentPeerDoesNotHoldAccept(t *testing.T) {
	addr := serveProxyProto(t, DefaultForwardedAllowIPs, 300*time.Millisecond)
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	if status, _ := rawRequest(t, addr, []byte("PROXY TCP4 198.51.100.1 127.0.0.1 1 2\r\n")); status != "200 OK" {
		t.Fatalf("second client not served while one is silent: %s", status)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("second client waited %v behind the silent one", d)
	}
	// The silent peer is cut off once the header timeout passes.
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Error("silent peer got data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("silent peer was never disconnected")
	}
}

func FuzzReadProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET"))
	f.Add(proxyV2(1, 0x11, make([]byte, 12)))
	f.Add(proxyV2(1, 0x21, make([]byte, 40)))
	f.Add([]byte("POST / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, _, err := serving.ReadProxyHeader(bufio.NewReader(bytes.NewReader(data)))
		if err == nil && src != nil && src.String() == "" {
			t.Fatal("empty source address accepted")
		}
	})
}

func BenchmarkReadProxyHeaderV1(b *testing.B) {
	hdr := []byte("PROXY TCP4 198.51.100.1 127.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n")
	rd := bytes.NewReader(hdr)
	br := bufio.NewReaderSize(rd, 256)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(hdr)
		br.Reset(rd)
		if _, _, err := serving.ReadProxyHeader(br); err != nil {
			b.Fatal(err)
		}
	}
}

// --proxy-protocol v1 or v2 accepts only that version's header (auto: both).
func TestProxyProtocolVersionRestriction(t *testing.T) {
	v1 := []byte("PROXY TCP4 198.51.100.1 127.0.0.1 56324 443\r\n")
	v2 := proxyV2(1, 0x11, []byte{198, 51, 100, 1, 127, 0, 0, 1, 0xdc, 0x04, 0x01, 0xbb})
	for _, tc := range []struct {
		version  string
		v1OK, v2 bool
	}{{"", true, true}, {"v1", true, false}, {"v2", false, true}} {
		addr := serveInProcess(t, Config{Values: Values{ProxyProtocol: true, ProxyProtocolVersion: tc.version}}, "tcp")
		for _, h := range []struct {
			prefix []byte
			ok     bool
		}{{v1, tc.v1OK}, {v2, tc.v2}} {
			status, body := rawRequest(t, addr, h.prefix)
			served := strings.HasPrefix(status, "200") && strings.Contains(body, "remote=198.51.100.1:56324")
			if served != h.ok {
				t.Errorf("--proxy-protocol %q, header %.8q: served %v (%s %s), want %v", tc.version, h.prefix, served, status, body, h.ok)
			}
		}
	}
}
