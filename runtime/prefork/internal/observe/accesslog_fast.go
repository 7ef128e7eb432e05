package observe

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Fast paths of the access log's per-request work (the access log
// should cost almost nothing): most values need no escaping, most requests
// carry no credentials, and a second's timestamp prefix is the same for
// every line in that second (nginx caches its time strings the same way).

// jsonSafe reports whether s can be written between JSON quotes as is:
// no byte below 0x20, '"', '\\' or from 0x7f up. Eight bytes at a time
// (the bytes of a word that are zero, below a value, are found with a
// subtraction's borrows), then byte by byte.
func jsonSafe(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(s) >= 8 {
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 | uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		q, bs, del := x^('"'*lo), x^('\\'*lo), x^(0x7f*lo) // zero where the byte is one of them
		if (x|(x-0x20*lo)&^x|(q-lo)&^q|(bs-lo)&^bs|(del-lo)&^del)&hi != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			return false
		}
	}
	return true
}

// jsonPlain tells the bytes jsonSafe lets through.
var jsonPlain = func() (plain [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// remoteHost is the host of a peer address ("ip:port", "[ip6]:port"), or
// the address itself when it has no port: net.SplitHostPort's host, which
// an address with one colon and no brackets needs no parsing for.
func remoteHost(addr string) string {
	colon, colons := 0, 0
	for i := 0; i < len(addr) && colons < 2; i++ {
		switch addr[i] {
		case ':':
			colon, colons = i, colons+1
		case '[', ']':
			colons = 2
		}
	}
	if colons == 1 {
		return addr[:colon]
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// basicAuthUser is r.BasicAuth's user, without parsing when there is no
// Authorization header.
func basicAuthUser(r *http.Request) string {
	if _, ok := r.Header["Authorization"]; !ok {
		return ""
	}
	u, _, _ := r.BasicAuth()
	return u
}

// timeCache holds the last second formatted (and its layout: one cache
// serves one layout at a time well, any layout correctly).
type timeCache struct {
	p atomic.Pointer[cachedSecond]
}

type cachedSecond struct {
	unix   int64
	loc    *time.Location
	layout string
	text   []byte // the layout's text for that second
}

// appendSecond appends t formatted with layout (which must not print
// anything below seconds), cached per second.
func (c *timeCache) appendSecond(b []byte, t time.Time, layout string) []byte {
	sec, loc := t.Unix(), t.Location()
	if cs := c.p.Load(); cs != nil && cs.unix == sec && cs.loc == loc && cs.layout == layout {
		return append(b, cs.text...)
	}
	cs := &cachedSecond{unix: sec, loc: loc, layout: layout, text: t.AppendFormat(nil, layout)}
	c.p.Store(cs)
	return append(b, cs.text...)
}

// appendRFC3339Millis is t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
// with the parts around the milliseconds cached per second.
func (c *timeCache) appendRFC3339Millis(b []byte, t time.Time, zone *timeCache) []byte {
	b = c.appendSecond(b, t, "2006-01-02T15:04:05")
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return zone.appendSecond(b, t, "Z07:00")
}
