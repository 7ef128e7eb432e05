package serving

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// Request IDs. Every request served by a worker (or Serve) carries one: the
// X-Request-ID a trusted proxy sent (ForwardedAllowIPs, unix socket peers;
// nginx passes its $request_id), when it is well-formed, or else a new one
// (32 hex digits, as nginx makes them). The ID is set on the request's
// X-Request-Id header (so the access log's %({X-Request-Id}i)s atom and its
// JSON "request_id" field show it), on the response, and in the request's
// context for the app's own log records (RequestID).

// RequestIDHeader is the header a request ID travels in.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a kept request ID (nginx's are 32, AWS trace IDs 40).
const MaxRequestIDLen = 128

type requestIDKey struct{}

// RequestID returns the request ID that the runtime gave the request whose
// context ctx is (or derives from), or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns ctx carrying id, as the runtime's handler does (for
// tests and for code that serves requests outside the runtime): with a
// request state and the app's slot (SetValue) too.
func WithRequestID(ctx context.Context, id string) context.Context {
	return &requestIDContext{Context: ctx, id: id}
}

// validRequestID accepts 1..maxRequestIDLen bytes of letters, digits and
// "-_.:+/=@": enough for UUIDs, nginx's hex, base64 and trace IDs such as
// "Root=1-5e1b-..."; nothing that could end a quoted log field, start a new
// line or inject markup.
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=' || c == '@':
		default:
			return false
		}
	}
	return true
}

// NewRequestID makes 32 hex digits, nginx's $request_id format: the process's
// random 64-bit prefix (each worker is a process of its own) then a counter
// that started at a random value, so IDs never repeat within a worker and
// two workers' collide with odds of 2^-64. One atomic add per request instead
// of 128 fresh random bits.
func NewRequestID() string {
	var b [32]byte
	copy(b[:16], requestIDPrefix[:])
	n := requestIDCounter.Add(1)
	for i := 31; i >= 16; i-- {
		b[i] = observe.HexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

var (
	requestIDPrefix  = hex64(rand.Uint64()) // math/rand/v2's global source: seeded by the OS
	requestIDCounter atomic.Uint64
)

func init() { requestIDCounter.Store(rand.Uint64()) }

func hex64(n uint64) (b [16]byte) {
	for i := 15; i >= 0; i-- {
		b[i] = observe.HexDigits[n&0xf]
		n >>= 4
	}
	return b
}

// RequestState is what the inner layers of a request learn for the outer
// ones, which see another copy of the request: the route the app's ServeMux
// matched (r.Pattern is set only on the copy the mux was given), the mount
// path stripped before it, and the trace ID of the app's span. The request
// ID layer puts it in the context; the access log and the metrics read it
// after the app returned. Only the request's own goroutine writes it (a
// handler that serves on another goroutine, as http.TimeoutHandler does,
// should name its route and trace before it hands the request over).
type RequestState struct {
	Route   string // the ServeMux pattern's path ("/items/{id}"), "" if none matched
	Root    string // the mount path stripped (--root-path, SCRIPT_NAME)
	TraceID string // 32 hex digits, "" when the app has no span
}

// FullRoute is http.route: the mount path and the pattern's path, or "".
func (s *RequestState) FullRoute() string {
	if s == nil || s.Route == "" {
		return ""
	}
	return s.Root + s.Route
}

type requestStateKey struct{}

// StateOf is the request state of ctx, or nil outside the runtime's chain.
func StateOf(ctx context.Context) *RequestState {
	s, _ := ctx.Value(requestStateKey{}).(*RequestState)
	return s
}

// WithState returns ctx carrying a new request state (for Serve-less tests
// and handlers outside the chain).
func WithState(ctx context.Context) (context.Context, *RequestState) {
	s := new(RequestState)
	return context.WithValue(ctx, requestStateKey{}, s), s
}

// RoutePath is the path part of a ServeMux pattern: "GET example.com/x/{id}"
// is "/x/{id}" (http.route has neither method nor host).
func RoutePath(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}

// RouteRecorder wraps the app (innermost): after it returns, a pattern the
// ServeMux set on this copy of the request becomes the state's route, unless
// the app named one itself (SetRoute).
func RouteRecorder(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Pattern != "" {
			if s := StateOf(r.Context()); s != nil && s.Route == "" {
				s.Route = RoutePath(r.Pattern)
			}
		}
	})
}

// requestIDContext carries the ID, the request state, the backing array of
// the request's and the response's header values, and one slot for a value
// of the app's (SetValue): one allocation for all.
type requestIDContext struct {
	context.Context
	id       string
	hdr      [2]string
	state    RequestState
	key, val any
	head     headerSet // what the request's header held when it came (request.go)
}

func (c *requestIDContext) Value(key any) any {
	switch key.(type) {
	case requestIDKey:
		return c.id
	case requestStateKey:
		return &c.state
	}
	if c.key != nil && key == c.key {
		return c.val
	}
	return c.Context.Value(key)
}

// SetValue makes ctx, the request's context as the runtime's chain made it,
// carry val under key from then on, as context.WithValue would, without the
// app copying the request for a new context (r.WithContext: about 250 bytes
// per request). There is one slot: it returns false, changing nothing, when
// ctx is not that context itself or the slot holds another key. Only the
// request's own goroutine may call it, before it hands ctx to another.
func SetValue(ctx context.Context, key, val any) bool {
	c, ok := ctx.(*requestIDContext)
	if !ok || key == nil || (c.key != nil && c.key != key) {
		return false
	}
	c.key, c.val = key, val
	return true
}

// requestIDHandler runs before the forwarded-header handling rewrites the
// peer address: trust is decided on the real peer.
func RequestIDHandler(trusted *TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c *requestIDContext
		if rec := recordOf(w); rec != nil && rec.ctx.Context == nil {
			c = &rec.ctx // allocated with the request's record, its header looked over
		} else {
			c = new(requestIDContext)
		}
		var id string
		if c.head.may(headRequestID) {
			id = observe.HeaderFirst(r.Header, RequestIDHeader)
			if len(r.Header[RequestIDHeader]) != 1 || !ValidRequestID(id) || !trusted.TrustsRequest(r) {
				id = ""
			}
		}
		if id == "" {
			id = NewRequestID()
		}
		c.Context, c.id, c.hdr = r.Context(), id, [2]string{id, id}
		r.Header[RequestIDHeader] = c.hdr[0:1:1]
		w.Header()[RequestIDHeader] = c.hdr[1:2:2]
		next.ServeHTTP(w, r.WithContext(c))
	})
}

// SetTraceID ties the request whose context ctx is to the trace traceID (32
// lowercase hex digits, not all zero); anything else, or a ctx outside a
// request, is ignored (prefork.SetTraceID).
func SetTraceID(ctx context.Context, traceID string) {
	if s := StateOf(ctx); s != nil && validTraceID(traceID) {
		s.TraceID = traceID
	}
}

// SetRoute names the ServeMux pattern that matched the request whose
// context ctx is; "" leaves the route unset (prefork.SetRoute).
func SetRoute(ctx context.Context, pattern string) {
	if s := StateOf(ctx); s != nil && pattern != "" {
		s.Route = RoutePath(pattern)
	}
}

func validTraceID(s string) bool {
	if len(s) != 32 || s == "00000000000000000000000000000000" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
