package serving

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// The request policy in the serving chain: where a request is checked
// (unless its connection reader did), and how a refusal is answered and
// made visible.

// RouteRefused is http.route of the requests the policy refused. They
// reached no route; a sentinel (as "_OTHER" for methods and for the routes
// past the series limit) keeps them in http.server.request.duration, counted
// by status code beside the served ones, instead of a second metric.
const RouteRefused = "_refused"

// maxShownLine bounds the refused request line kept for the access log.
const maxShownLine = 256

// policyHandler is the request policy's part in the handler chain: inside
// the gateway variables (a uwsgi request's client and protocol), outside
// the request ID, the forwarded headers, the access log and the app. A
// request its connection reader checked passes, but for the stand-in of a
// refused one; any other (HTTP/2, uwsgi, FastCGI) is checked here, its
// peer's trust decided as the forwarded headers' is. A refusal is answered
// (HTTP/1: with Connection: close, as Gunicorn does; HTTP/2: on its stream
// alone, the connection's other streams go on), logged and counted here;
// the app never sees it.
func (s *ServingChain) policyHandler(next http.Handler) http.Handler {
	if s.policy == nil { // a chain built by hand, in a test
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ref *refusal
		if c, ok := r.Context().Value(strictConnKey{}).(*strictConn); ok && r.ProtoMajor == 1 {
			if r.Method == refusedMethod { // no client's method: longer than the policy allows
				ref = c.refused.Load()
			}
			if len(r.TransferEncoding) != 0 { // chunked: maybe under other codings
				r = c.transferCodings(w, r)
			}
			if tc, ok := c.Conn.(*tls.Conn); ok && r.TLS == nil { // net/http saw the reader, not TLS
				st := tc.ConnectionState()
				r = r.WithContext(r.Context())
				r.TLS = &st
			}
		} else {
			ref = s.policy.checkRequest(r, s.trusted.TrustsRequest(r))
		}
		if ref == nil {
			next.ServeHTTP(w, r)
			return
		}
		s.refuse(w, r, ref)
	})
}

// refuse answers a refused request and makes it visible: a warning with
// the reason, an access log line (status, bytes) and the request duration
// histogram under RouteRefused, with its status code.
func (s *ServingChain) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	start := time.Now()
	if s.log != nil {
		s.log("invalid request", "peer", r.RemoteAddr, "status", ref.status, "err", ref.reason)
	}
	rec := &observe.ResponseRecorder{ResponseWriter: w}
	if r.ProtoMajor == 1 { // on HTTP/2, net/http would shut the whole connection down
		rec.Header().Set("Connection", "close")
	}
	http.Error(rec, ref.reason, ref.status)
	d := time.Since(start)
	shown := ref.shown(r)
	if s.metrics != nil {
		a := observe.Attrs{Method: observe.SemconvMethod(shown.Method), Status: ref.status, Route: RouteRefused,
			Scheme: RequestScheme(r), Proto: observe.ProtocolVersion(r.ProtoMajor, r.ProtoMinor)}
		s.metrics.Observe(a, 0, rec.Bytes, d, "")
	}
	s.statsd.Request(ref.status, d)
	if s.access != nil {
		s.access.LogTraced(shown, ref.status, rec.Bytes, rec.Header(), start, d, "")
	}
}

// shown is the request as the access log shows it: for the stand-in of a
// refused HTTP/1 request, the line the reader refused (method, target and
// protocol as far as it splits, "-" for what is missing), without headers.
func (ref *refusal) shown(r *http.Request) *http.Request {
	if r.Method != refusedMethod {
		return r
	}
	r2 := r.WithContext(r.Context())
	r2.Header = http.Header{}
	method, rest, _ := strings.Cut(ref.line, " ")
	target, proto, _ := strings.Cut(rest, " ")
	r2.Method, r2.RequestURI, r2.Proto = orDash(method), orDash(target), orDash(proto)
	path, query, _ := strings.Cut(target, "?")
	r2.URL = &url.URL{Path: path, RawQuery: query}
	return r2
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
