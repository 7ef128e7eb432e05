package prefork

import (
	"context"
	"net/http"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// DefaultForwardedAllowIPs is Gunicorn's default for --forwarded-allow-ips.
const DefaultForwardedAllowIPs = serving.DefaultForwardedAllowIPs

// RequestIDHeader is the header a request ID travels in.
const RequestIDHeader = serving.RequestIDHeader

// RequestScheme returns "https" for a request that arrived over TLS or through a trusted
// proxy that said so, else "http".
func RequestScheme(r *http.Request) string { return serving.RequestScheme(r) }

// RequestID returns the request ID that the runtime gave the request whose context ctx
// is (or derives from), or "" outside a request.
func RequestID(ctx context.Context) string { return serving.RequestID(ctx) }

// WithRequestID returns ctx carrying id, as the runtime's handler does (for tests and
// for code that serves requests outside the runtime).
func WithRequestID(ctx context.Context, id string) context.Context {
	return serving.WithRequestID(ctx, id)
}
