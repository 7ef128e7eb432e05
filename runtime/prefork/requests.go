package prefork

import (
	"context"
	"net/http"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// DefaultForwardedAllowIPs is Gunicorn's default for --forwarded-allow-ips.
const DefaultForwardedAllowIPs = settings.DefaultForwardedAllowIPs

// RequestIDHeader is the header a request ID travels in.
const RequestIDHeader = serving.RequestIDHeader

// RequestScheme returns "https" for a request that arrived over TLS or through a trusted
// proxy that said so, else "http".
func RequestScheme(r *http.Request) string { return serving.RequestScheme(r) }

// RequestID returns the request ID that the runtime gave the request whose context ctx
// is (or derives from), or "" outside a request.
func RequestID(ctx context.Context) string { return serving.RequestID(ctx) }

// WithRequestID returns ctx carrying id, as the runtime's handler does (for tests and
// for code that serves requests outside the runtime), with the request state SetTraceID
// and SetRoute fill and the slot SetContextValue fills.
func WithRequestID(ctx context.Context, id string) context.Context {
	return serving.WithRequestID(ctx, id)
}

// SetTraceID ties the request whose context ctx is to the trace of the app's
// server span (32 lowercase hex digits, as W3C traceparent carries it): the
// access log prints it as trace_id beside the request ID, and the duration
// histogram keeps it as the exemplar of the request's bucket. Anything but a
// valid, non-zero trace ID, or a ctx outside a request, is ignored. Call it
// from the request's own goroutine (the tracing middleware, once the span
// starts).
func SetTraceID(ctx context.Context, traceID string) {
	serving.SetTraceID(ctx, traceID)
}

// SetRoute names the ServeMux pattern that matched the request ("GET
// /items/{id}" or "/items/{id}"), for an app whose ServeMux sees a copy of
// the request the runtime cannot read the pattern from (a StripPrefix or a
// middleware that calls WithContext in between). The runtime reads
// r.Pattern itself otherwise. "" (nothing matched) leaves the route unset.
func SetRoute(ctx context.Context, pattern string) {
	serving.SetRoute(ctx, pattern)
}

// SetContextValue makes ctx, the request's context as the runtime hands it
// to the app (r.Context() in the outermost middleware: cfg.Middleware's
// first), carry val under key from then on, as context.WithValue would,
// without copying the request for a new context (r.WithContext allocates
// about 250 bytes per request). It has one slot, meant for the tracing
// middleware's span: it returns false, changing nothing, when ctx is not that
// context itself or the slot holds another key; the caller then falls back to
// r.WithContext. Call it from the request's own goroutine only, before ctx is
// handed to another.
func SetContextValue(ctx context.Context, key, val any) bool {
	return serving.SetValue(ctx, key, val)
}

// DefaultLongLived reports WebSocket upgrades and server-sent event streams:
// requests that stay open for as long as the client wants.
func DefaultLongLived(r *http.Request) bool { return serving.DefaultLongLived(r) }
