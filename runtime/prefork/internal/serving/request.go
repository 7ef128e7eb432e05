package serving

import (
	"net/http"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// The runtime's per-request record. Every layer of the chain used to ask
// its own questions (the clock, the request's header, a recorder, a
// context): the outermost layer (HTTPServer.wrap) now reads the clock once,
// looks over the header once and allocates one record, which the inner
// layers find as the response writer they were given (the request ID
// layer, the metrics and the access log) or in the request's context (the
// forwarded headers, the mount path).

// requestRecord is one request's record: the response recorder (status,
// bytes), when the request began, what its header held when it came, and
// the context the request ID layer gives it. A layer that gets another
// writer (a long-lived request, a chain built without the server) does
// without it, as before.
type requestRecord struct {
	observe.ResponseRecorder
	start time.Time     // the request's one time.Now
	took  time.Duration // set by the observe layer at the end: the tracker's too
	timed bool          // took is set
	ctx   requestIDContext
}

// newRecord starts the record of a request.
func newRecord(w http.ResponseWriter, head headerSet) *requestRecord {
	rec := &requestRecord{ResponseRecorder: observe.ResponseRecorder{ResponseWriter: w}, start: time.Now()}
	rec.ctx.head = head
	return rec
}

// recordOf is w's record when w is one no layer has written to or taken
// the context of yet.
func recordOf(w http.ResponseWriter) *requestRecord {
	if rec, ok := w.(*requestRecord); ok && rec.Status == 0 && rec.Bytes == 0 {
		return rec
	}
	return nil
}

// headerSet is what a request's header held when it came: one bit per
// header a layer of the chain asks about.
type headerSet uint16

const (
	headScanned   headerSet = 1 << iota // the set was taken (else: look the header up)
	headUpgrade                         // Upgrade (DefaultLongLived)
	headAccept                          // Accept (DefaultLongLived)
	headRequestID                       // X-Request-Id
	headForwarded                       // any of forwardedHeaders
	headForwarder                       // any --forwarder-headers name
)

// headerScan answers the chain's questions about a request's header in one
// pass over it instead of a hashed lookup per question and layer (sixteen
// for a request without forwarded headers), when that is cheaper: nothing
// to look over for wrk's requests (Host alone, which net/http keeps
// apart), under half the lookups' time for curl's two fields and a
// browser's six (BenchmarkHeaderScan). A pass costs about as much per
// field as a lookup, so a long header is left to the lookups, and so is a
// proxied request's past scanShort fields: its X-Forwarded-For ends the
// forwarded headers' lookups at the first.
type headerScan struct {
	forwarder []string // canonical keys of --forwarder-headers
}

// scanShort and scanMax bound the headers scan looks over: any up to
// scanShort fields, up to scanMax without X-Forwarded-For.
const (
	scanShort = 4
	scanMax   = 8
)

// scan is the set of h (its keys canonical, as the server stores them),
// without headScanned when it is left to the lookups.
func (s headerScan) scan(h http.Header) headerSet {
	set := headScanned
	if len(h) == 0 {
		return set
	}
	if len(h) > scanMax {
		return 0
	}
	if len(h) > scanShort {
		if _, proxied := h["X-Forwarded-For"]; proxied {
			return 0
		}
	}
	return set | s.pass(h)
}

// pass is the one pass over h.
func (s headerScan) pass(h http.Header) headerSet {
	var set headerSet
	for k := range h {
		if b := headerBit(k); b != 0 {
			set |= b
			continue
		}
		for _, f := range s.forwarder {
			if k == f {
				set |= headForwarder
			}
		}
	}
	return set
}

// may reports whether the header may hold any of bits: it does, or it was
// not looked over.
func (set headerSet) may(bits headerSet) bool {
	return set&headScanned == 0 || set&bits != 0
}

// headerBit is the bit of a canonical header key, 0 for any other.
func headerBit(k string) headerSet {
	switch k {
	case "Upgrade":
		return headUpgrade
	case "Accept":
		return headAccept
	case RequestIDHeader:
		return headRequestID
	case "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Ssl", "X-Real-Ip", "Forwarded",
		"Traceparent", "Tracestate", "Baggage": // forwardedHeaders (a test holds them equal)
		return headForwarded
	}
	return 0
}

// headOf is the set taken of r's header when it came, if r carries it
// (in its request ID context); else 0, which may hold anything.
func headOf(r *http.Request) headerSet {
	if c, ok := r.Context().(*requestIDContext); ok {
		return c.head
	}
	return 0
}
