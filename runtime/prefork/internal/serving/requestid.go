package serving

import (
	"context"
	"math/rand/v2"
	"net/http"

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
// tests and for code that serves requests outside the runtime).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
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

// newRequestID makes 128 random bits as 32 hex digits. math/rand/v2's
// global source is per-thread ChaCha8 seeded by the OS: no lock, no syscall.
func NewRequestID() string {
	var b [32]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 15; i >= 0; i-- {
		b[i] = observe.HexDigits[hi&0xf]
		b[16+i] = observe.HexDigits[lo&0xf]
		hi >>= 4
		lo >>= 4
	}
	return string(b[:])
}

// requestIDContext carries the ID, and the backing array of the request's
// and the response's header values: one allocation for the three.
type requestIDContext struct {
	context.Context
	id  string
	hdr [2]string
}

func (c *requestIDContext) Value(key any) any {
	if _, ok := key.(requestIDKey); ok {
		return c.id
	}
	return c.Context.Value(key)
}

// requestIDHandler runs before the forwarded-header handling rewrites the
// peer address: trust is decided on the real peer.
func RequestIDHandler(trusted *TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := observe.HeaderFirst(r.Header, RequestIDHeader)
		if len(r.Header[RequestIDHeader]) != 1 || !ValidRequestID(id) || !trusted.TrustsRequest(r) {
			id = NewRequestID()
		}
		c := &requestIDContext{Context: r.Context(), id: id, hdr: [2]string{id, id}}
		r.Header[RequestIDHeader] = c.hdr[0:1:1]
		w.Header()[RequestIDHeader] = c.hdr[1:2:2]
		next.ServeHTTP(w, r.WithContext(c))
	})
}
