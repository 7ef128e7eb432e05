package observe

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Fast paths of the access log's per-request work (the access log
// should cost almost nothing): most values need no escaping, most requests
// carry no credentials, and a second's timestamp prefix is the same for
// every line in that second (nginx caches its time strings the same way).

// jsonSafe reports whether s can be written between JSON quotes as is.
func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
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
