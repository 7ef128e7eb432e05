package observe

import (
	"io"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The JSON line, byte for byte: the fields in their order, and the lookups
// skipped for a header that holds the request ID alone change nothing.
func TestAccessLogJSONLine(t *testing.T) {
	full := hostileRequest("curl/8 \"x\"\n\u2028\x7f\xff")
	full.Header.Set("X-Request-Id", "0af7651916cd43dd8448eb211c80319c")
	idOnly := httptest.NewRequest("GET", "http://127.0.0.1:8000/hello", nil)
	idOnly.RemoteAddr = "[::1]:5000"
	idOnly.Header.Set("X-Request-Id", "abc")
	none := httptest.NewRequest("POST", "/x?y", nil)
	none.RemoteAddr = "unix"
	for _, c := range []struct {
		name string
		line string
		want string
	}{
		{"all fields", logLine(t, "json", full, 200, 1234, nil),
			`{"time":"2000-10-10T13:55:36.000-07:00","remote_addr":"192.0.2.7","user":"frank","method":"GET","uri":"/a%20b?x=1&y=2","path":"/a b","query":"x=1&y=2","proto":"HTTP/1.1","host":"example.com","status":200,"bytes":1234,"duration_us":1500,"referer":"http://example.com/","user_agent":"curl/8 \"x\"\n\u2028\u007f\ufffd","request_id":"0af7651916cd43dd8448eb211c80319c","pid":PID}`},
		{"request ID alone", logLine(t, "json", idOnly, 0, 0, nil),
			`{"time":"2000-10-10T13:55:36.000-07:00","remote_addr":"::1","user":"","method":"GET","uri":"http://127.0.0.1:8000/hello","path":"/hello","query":"","proto":"HTTP/1.1","host":"127.0.0.1:8000","status":200,"bytes":0,"duration_us":1500,"referer":"","user_agent":"","request_id":"abc","pid":PID}`},
		{"no header", logLine(t, "json", none, 404, 9, nil),
			`{"time":"2000-10-10T13:55:36.000-07:00","remote_addr":"unix","user":"","method":"POST","uri":"/x?y","path":"/x","query":"y","proto":"HTTP/1.1","host":"example.com","status":404,"bytes":9,"duration_us":1500,"referer":"","user_agent":"","request_id":"","pid":PID}`},
	} {
		want := strings.Replace(c.want, "PID", strconv.Itoa(os.Getpid()), 1) + "\n"
		if c.line != want {
			t.Errorf("%s:\n got  %s\n want %s", c.name, c.line, want)
		}
	}
}

// remoteHost is net.SplitHostPort's host, or the address without a port.
func TestRemoteHost(t *testing.T) {
	for _, addr := range []string{"192.0.2.7:51234", "[::1]:80", "::1", "[::1]", "host:", ":80", "unix", "", "@", "[a:b", "a]:b", "a:b:c", "[fe80::1%eth0]:8080", "10.0.0.1"} {
		want := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			want = h
		}
		if got := remoteHost(addr); got != want {
			t.Errorf("remoteHost(%q) = %q, want %q", addr, got, want)
		}
	}
}

// jsonSafe's words at a time say what the byte-by-byte rule says, for every
// byte at every place in a word and after it.
func TestJSONSafe(t *testing.T) {
	plain := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
				return false
			}
		}
		return true
	}
	for c := 0; c < 256; c++ {
		for at := 0; at < 19; at++ {
			b := []byte("abcdefghijklmnopqrs")
			b[at] = byte(c)
			if s := string(b); jsonSafe(s) != plain(s) {
				t.Errorf("byte %#x at %d: jsonSafe %v", c, at, jsonSafe(s))
			}
		}
	}
}

// BenchmarkAccessLogJSONServed is the JSON line of a request as wrk sends it
// (Host alone) once the runtime gave it its ID.
func BenchmarkAccessLogJSONServed(b *testing.B) {
	a, err := NewAccessLogTo(io.Discard, "json")
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://127.0.0.1:8000/hello", nil)
	r.RemoteAddr = "127.0.0.1:40312"
	r.Header.Set("X-Request-Id", "0af7651916cd43dd8448eb211c80319c")
	b.ReportAllocs()
	for b.Loop() {
		a.Log(r, 200, 5, nil, logStart, time.Millisecond)
	}
}
