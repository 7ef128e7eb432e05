package observe

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

func TestParseStatsDHost(t *testing.T) {
	for _, c := range []struct {
		in, network, addr string
		ok                bool
	}{
		{"127.0.0.1:8125", "udp", "127.0.0.1:8125", true},
		{"localhost", "udp", "localhost:8125", true},
		{"[::1]:9125", "udp", "[::1]:9125", true},
		{"unix:/run/statsd.sock", "unixgram", "/run/statsd.sock", true},
		{"unix:///run/statsd.sock", "unixgram", "/run/statsd.sock", true},
		{"unix:", "", "", false},
		{"host:0", "", "", false},
		{"host:http", "", "", false},
		{"a:b:c", "", "", false},
	} {
		n, a, err := ParseStatsDHost(c.in)
		if (err == nil) != c.ok || n != c.network || a != c.addr {
			t.Errorf("parseStatsDHost(%q) = %q %q %v", c.in, n, a, err)
		}
	}
	for in, want := range map[string]string{"": "", "app": "app.", "app.": "app.", "a.b": "a.b."} {
		if got := statsdPrefix(in); got != want {
			t.Errorf("statsdPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// A real UDP socket receives Gunicorn's metric names, well-formed, packed
// into datagrams that stay under one MTU.
func TestStatsDOverUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := NewStatsD(pc.LocalAddr().String(), "myapp", "env:test,team:web")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		c.Request(200+i%2*304, time.Duration(i)*time.Millisecond+1500*time.Microsecond)
	}
	c.Gauge("gunicorn.workers", 4)
	c.Close() // sends what is queued

	var lines []string
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(lines) < 301 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d lines: %v", len(lines), err)
		}
		if n > statsdPacket {
			t.Errorf("datagram of %d bytes, over %d", n, statsdPacket)
		}
		lines = append(lines, strings.Split(string(buf[:n]), "\n")...)
	}
	count := map[string]int{}
	for _, l := range lines {
		if !testenv.StatsDLine.MatchString(l) {
			t.Errorf("malformed statsd line %q", l)
		}
		if !strings.HasSuffix(l, "|#env:test,team:web") || !strings.HasPrefix(l, "myapp.gunicorn.") {
			t.Errorf("line %q: want prefix myapp. and the dogstatsd tags", l)
		}
		name, _, _ := strings.Cut(l, ":")
		count[name]++
	}
	for name, want := range map[string]int{
		"myapp.gunicorn.requests": 100, "myapp.gunicorn.request.duration": 100,
		"myapp.gunicorn.request.status.200": 50, "myapp.gunicorn.request.status.504": 50, "myapp.gunicorn.workers": 1,
	} {
		if count[name] != want {
			t.Errorf("%s: %d lines, want %d (all: %v)", name, count[name], want, count)
		}
	}
	if !strings.Contains(strings.Join(lines, "\n"), "myapp.gunicorn.request.duration:1.5|ms|#") {
		t.Errorf("duration in ms with decimals missing: %q", lines[:3])
	}
}

// A request never waits on StatsD: with nobody reading and the queue full,
// request() returns at once.
func TestStatsDNeverBlocks(t *testing.T) {
	c := &StatsdClient{events: make(chan statsdEvent, 1), gauges: make(chan string)}
	done := make(chan struct{})
	go func() {
		for range 1000 {
			c.Request(200, time.Millisecond)
			c.Gauge("x", 1)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("request() blocked on a full queue")
	}
	var nilClient *StatsdClient
	nilClient.Request(200, 0)
	nilClient.Close()
}
