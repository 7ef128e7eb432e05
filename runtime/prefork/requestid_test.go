package prefork

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

func TestValidRequestID(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", true},
		{"Root=1-5e1b4151-5ac6c58f1c2c2b6e2b0a7c1f", true},
		{"abc+/=", true},
		{"user@host:42", true},
		{"", false},
		{strings.Repeat("a", serving.MaxRequestIDLen), true},
		{strings.Repeat("a", serving.MaxRequestIDLen+1), false},
		{strings.Repeat("a", 10<<10), false},
		{"a\nb", false},
		{"a\rb", false},
		{`a"b`, false},
		{"a b", false},
		{"a\\b", false},
		{"<script>", false},
		{"é", false},
		{"a\x00b", false},
	} {
		if got := serving.ValidRequestID(c.id); got != c.ok {
			t.Errorf("validRequestID(%q) = %v, want %v", c.id, got, c.ok)
		}
	}
	seen := map[string]bool{}
	for range 10000 {
		id := serving.NewRequestID()
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
			t.Fatalf("NewRequestID: %q (repeated %v), want 32 lowercase hex digits never repeated", id, seen[id])
		}
		seen[id] = true
	}
}

// The ID a trusted proxy sent is kept; anyone else's, or a malformed one,
// is replaced; the app's context, the request and the response agree.
func TestRequestIDHandler(t *testing.T) {
	trusted, err := serving.ParseTrustedProxies("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		remote string
		ids    []string
		keep   bool
	}{
		{"trusted proxy, good id", "10.0.0.1:5000", []string{"abc-123"}, true},
		{"untrusted peer", "192.0.2.7:5000", []string{"abc-123"}, false},
		{"trusted, none sent", "10.0.0.1:5000", nil, false},
		{"trusted, newline", "10.0.0.1:5000", []string{"abc\n127.0.0.1 - - forged"}, false},
		{"trusted, quote", "10.0.0.1:5000", []string{`abc" "forged`}, false},
		{"trusted, 10 KB", "10.0.0.1:5000", []string{strings.Repeat("a", 10<<10)}, false},
		{"trusted, two values", "10.0.0.1:5000", []string{"a", "b"}, false},
	} {
		var ctxID, hdrID string
		h := serving.RequestIDHandler(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctxID, hdrID = serving.RequestID(r.Context()), r.Header.Get(RequestIDHeader)
		}))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, id := range c.ids {
			r.Header.Add(RequestIDHeader, id)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		resp := w.Header().Get(RequestIDHeader)
		if ctxID == "" || ctxID != hdrID || ctxID != resp {
			t.Errorf("%s: context %q, request header %q, response %q: must be one ID", c.name, ctxID, hdrID, resp)
		}
		if kept := len(c.ids) == 1 && ctxID == c.ids[0]; kept != c.keep {
			t.Errorf("%s: id %q kept=%v, want %v", c.name, ctxID, kept, c.keep)
		}
		if !c.keep && !serving.ValidRequestID(ctxID) {
			t.Errorf("%s: replacement %q is not well-formed", c.name, ctxID)
		}
	}
	if serving.RequestID(context.Background()) != "" || serving.RequestID(serving.WithRequestID(context.Background(), "x")) != "x" {
		t.Error("RequestID outside a request")
	}
}

// A unix socket peer (nginx on the same host) is trusted like the
// forwarded headers are.
func TestRequestIDFromUnixPeerIsKept(t *testing.T) {
	trusted, _ := serving.ParseTrustedProxies("none")
	var got string
	h := serving.RequestIDHandler(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = serving.RequestID(r.Context()) }))
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}))
	r.RemoteAddr = "@"
	r.Header.Set(RequestIDHeader, "from-nginx")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "from-nginx" {
		t.Errorf("unix peer's id replaced: %q", got)
	}
}

// The app's one context slot: the request's context carries the value from
// then on (as context.WithValue would), a second key or a derived context is
// refused and changes nothing, and a context outside the chain is refused.
func TestRequestIDContextValue(t *testing.T) {
	type keyA struct{}
	type keyB struct{}
	trusted, _ := serving.ParseTrustedProxies("127.0.0.1")
	var got []any
	h := serving.RequestIDHandler(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		got = append(got, ctx.Value(keyA{}), SetContextValue(ctx, keyA{}, "a1"), ctx.Value(keyA{}))
		got = append(got, SetContextValue(ctx, keyA{}, "a2"), ctx.Value(keyA{}))
		got = append(got, SetContextValue(ctx, keyB{}, "b"), ctx.Value(keyB{}), ctx.Value(keyA{}))
		derived := context.WithValue(ctx, keyB{}, "d")
		got = append(got, SetContextValue(derived, keyA{}, "x"), derived.Value(keyA{}), RequestID(ctx) != "")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := []any{nil, true, "a1", true, "a2", false, nil, "a2", false, "a2", true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	if SetContextValue(context.Background(), keyA{}, "x") {
		t.Error("a context outside the runtime's chain took a value")
	}
}
