package serving

import (
	"net/http"
	"testing"
)

// The one pass over a request's header answers what the layers used to look
// up one by one: every name they ask about sets its bit, nothing else does.
func TestHeaderScan(t *testing.T) {
	scan := headerScan{forwarder: forwarderKeys("")}
	for _, k := range forwardedHeaders { // the forwarded headers' one list
		if got := scan.scan(http.Header{k: {"x"}, "User-Agent": {"wrk"}}); got != headScanned|headForwarded {
			t.Errorf("%s: set %b, want headForwarded alone", k, got)
		}
	}
	for _, c := range []struct {
		h    http.Header
		want headerSet
	}{
		{http.Header{}, 0},
		{http.Header{"User-Agent": {"wrk"}, "Accept-Encoding": {"gzip"}, "Cookie": {"a=b"}, "X-Forwarded": {"no"}}, 0},
		{http.Header{"Upgrade": {"websocket"}, "Connection": {"upgrade"}}, headUpgrade},
		{http.Header{"Accept": {"text/event-stream"}}, headAccept},
		{http.Header{RequestIDHeader: {"a", "b"}}, headRequestID},
		{http.Header{"Script_name": {"/app"}, "Path_info": {"/x"}}, headForwarder},
		{http.Header{"Path_info": {"/x"}, "X-Real-Ip": {"1.2.3.4"}, "Accept": {"*/*"}}, headForwarder | headForwarded | headAccept},
	} {
		if got := scan.scan(c.h); got != c.want|headScanned {
			t.Errorf("%v: set %b, want %b", c.h, got, c.want)
		}
	}
	if got := (headerScan{}).scan(http.Header{"Script_name": {"/app"}}); got != headScanned {
		t.Errorf("--forwarder-headers none: Script_name sets %b", got)
	}
	fields := func(n int, first ...string) http.Header {
		h := http.Header{}
		for _, k := range first {
			h[k] = []string{"x"}
		}
		for i := 0; len(h) < n; i++ {
			h["X-Field-"+string(rune('A'+i))] = []string{"x"}
		}
		return h
	}
	for _, c := range []struct {
		h       http.Header
		scanned bool
	}{
		{fields(scanMax), true},
		{fields(scanMax + 1), false},
		{fields(scanShort, "X-Forwarded-For"), true},
		{fields(scanShort+1, "X-Forwarded-For"), false},
	} {
		if got := scan.scan(c.h); got&headScanned != 0 != c.scanned {
			t.Errorf("%v: set %b, want scanned %v", c.h, got, c.scanned)
		}
	}
}

// BenchmarkHeaderScan is the one pass over a request's header against the
// lookups it replaces (as the layers made them), for a browser's request
// direct and through nginx.
func BenchmarkHeaderScan(b *testing.B) {
	browser := http.Header{"User-Agent": {"Mozilla/5.0"}, "Accept": {"text/html"}, "Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-US,en;q=0.5"}, "Cookie": {"a=b"}, "Referer": {"https://example.com/"}}
	nginx := http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https"}, "X-Real-Ip": {"203.0.113.7"},
		RequestIDHeader: {"0af7651916cd43dd8448eb211c80319c"}}
	for k, v := range browser {
		nginx[k] = v
	}
	scan := headerScan{forwarder: forwarderKeys("")}
	keys := []string{"Upgrade", "Accept", RequestIDHeader, "Script_name", "Path_info"}
	curl := http.Header{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}}
	for _, c := range []struct {
		name string
		h    http.Header
	}{{"curl", curl}, {"browser", browser}, {"nginx", nginx}} {
		b.Run(c.name+"/scan", func(b *testing.B) {
			for b.Loop() {
				_ = scan.pass(c.h) // without scan's length limit
			}
		})
		b.Run(c.name+"/lookups", func(b *testing.B) {
			for b.Loop() {
				n := 0
				if hasForwarded(c.h) {
					n++
				}
				for _, k := range keys {
					if _, ok := c.h[k]; ok {
						n++
					}
				}
			}
		})
	}
}
