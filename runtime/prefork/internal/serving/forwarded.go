package serving

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// TrustedProxies is the parsed --forwarded-allow-ips list: the peers whose
// X-Forwarded-* headers and PROXY protocol headers are believed. Peers
// connected over a unix socket are always trusted (only a local process
// with file permissions on the socket can be one, normally nginx).
type TrustedProxies struct {
	peers settings.Peers
}

// ParseTrustedProxies parses a peer list as settings.ParsePeers does.
func ParseTrustedProxies(list string) (*TrustedProxies, error) {
	p, err := settings.ParsePeers(list)
	if err != nil {
		return nil, err
	}
	return &TrustedProxies{peers: p}, nil
}

// TrustsIP reports whether ip is an allowed proxy.
func (t *TrustedProxies) TrustsIP(ip netip.Addr) bool {
	return t != nil && t.peers.Contains(ip)
}

// TrustsAddr reports whether a peer address is an allowed proxy: a unix
// socket peer always is, an IP peer when it is in the list.
func (t *TrustedProxies) TrustsAddr(a net.Addr) bool {
	switch a := a.(type) {
	case *net.UnixAddr:
		return t != nil
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ok && t.TrustsIP(ip)
	case nil:
		return false
	default:
		ip, err := netip.ParseAddrPort(a.String())
		return err == nil && t.TrustsIP(ip.Addr())
	}
}

// forwardedHeaders are the headers a proxy sets about the client, and the
// W3C trace context (traceparent, tracestate) and baggage it passes on:
// a span may continue a trace only a trusted front end vouches for. From a
// peer that is not trusted they are removed, not just ignored, so that
// application code (and its tracing SDK) reading them directly cannot be
// fooled either. uwsgi's and FastCGI's HTTP_* variables become these headers
// before this runs.
var forwardedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Ssl", "X-Real-Ip", "Forwarded",
	"Traceparent", "Tracestate", "Baggage"}

// Handler applies X-Forwarded-For, -Proto and -Host from trusted peers:
//
//   - r.RemoteAddr becomes the client: the right-most address in
//     X-Forwarded-For that is not itself a trusted proxy (the left-most
//     when all are trusted), as "ip:0" because the client port is unknown;
//   - r.URL.Scheme is "https" or "http" from X-Forwarded-Proto (its last
//     value, the one the nearest proxy wrote); r.TLS stays nil, use
//     RequestScheme to build absolute URLs;
//   - r.Host is X-Forwarded-Host (last value) when present.
//
// From any other peer these headers, and traceparent, tracestate and
// baggage, are deleted before next sees the request.
func (t *TrustedProxies) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !headOf(r).may(headForwarded) || !hasForwarded(r.Header) { // most requests: nothing to apply or remove
			next.ServeHTTP(w, r)
			return
		}
		if !t.TrustsRequest(r) {
			for _, h := range forwardedHeaders {
				r.Header.Del(h)
			}
			next.ServeHTTP(w, r)
			return
		}
		if client, ok := t.clientFromXFF(r.Header["X-Forwarded-For"]); ok {
			r.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		if proto := strings.ToLower(lastListValue(r.Header["X-Forwarded-Proto"])); proto == "https" || proto == "http" {
			r.URL.Scheme = proto
		}
		if host := lastListValue(r.Header["X-Forwarded-Host"]); host != "" && validHost(host) {
			r.Host = host
		}
		next.ServeHTTP(w, r)
	})
}

// hasForwarded reports whether any of forwardedHeaders is present (the keys
// are canonical, as the server stores them).
func hasForwarded(h http.Header) bool {
	for _, k := range forwardedHeaders {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// trustsRequest looks at the real peer: the local address in the request
// context tells a unix socket connection apart from a TCP one.
func (t *TrustedProxies) TrustsRequest(r *http.Request) bool {
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, unix := la.(*net.UnixAddr); unix && !fromGateway(r) {
			return true
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return t.TrustsIP(ap.Addr())
}

// clientFromXFF walks the X-Forwarded-For chain from the right, skipping
// trusted proxies: the first untrusted hop is the client as seen by the
// last proxy we trust. Anything left of it was written by the client and
// is not believed. An unparsable hop stops the walk (the hop right of it
// is returned, or nothing).
func (t *TrustedProxies) clientFromXFF(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseHop(hops[i])
		if !ok {
			break
		}
		last = ip
		if !t.TrustsIP(ip) {
			return ip, true
		}
	}
	return last, last.IsValid()
}

func parseHop(h string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil { // "1.2.3.4:5678", "[::1]:80"
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if ip, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil {
			return ip.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func lastListValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// validHost accepts what may appear in a Host header: no spaces, slashes,
// or control bytes.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// RequestScheme returns "https" for a request that arrived over TLS or
// through a trusted proxy that said so, else "http".
func RequestScheme(r *http.Request) string {
	if r.TLS != nil || r.URL.Scheme == "https" {
		return "https"
	}
	return "http"
}
