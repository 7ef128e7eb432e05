package serving

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Config is what a serving process (a worker, or Serve's single process) is
// built from: the settings with their defaults applied, the peer lists
// parsed once (Peers) and the program's funcs that run in it (Hooks).
type Config struct {
	settings.Values
	Hooks
	Peers Peers
}

// Hooks are the program's funcs a serving process calls (prefork.Hooks has
// their documentation).
type Hooks struct {
	// Middleware wraps the app's handler, first element outermost.
	Middleware []func(http.Handler) http.Handler
	// LongLived tells the requests that may run longer than Timeout by
	// design; nil: DefaultLongLived.
	LongLived func(r *http.Request) bool
	// OnDrain runs on its own goroutine when the server starts draining.
	OnDrain func()
}

// Peers are the peer address settings, parsed once (ParsePeers).
type Peers struct {
	Forwarded *TrustedProxies // --forwarded-allow-ips
	ProxyFrom *TrustedProxies // --proxy-allow-from; Forwarded when unset
	Gateway   *TrustedProxies // --uwsgi-allow-from
}

// off maps the "negative means off" convention to a zero duration.
func off(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// ParsePeers parses v's peer lists, after their defaults: the one parse
// each gets, its error naming the setting.
func ParsePeers(v *settings.Values) (Peers, error) {
	var p Peers
	for _, l := range []struct {
		name, val string
		dst       **TrustedProxies
	}{
		{"forwarded-allow-ips", v.ForwardedAllowIPs, &p.Forwarded},
		{"proxy-allow-from", v.ProxyAllowFrom, &p.ProxyFrom},
		{"uwsgi-allow-from", v.UwsgiAllowFrom, &p.Gateway},
	} {
		if l.val == "" {
			continue
		}
		t, err := ParseTrustedProxies(l.val)
		if err != nil {
			rule := strings.TrimPrefix(settings.TrimPkg(err), "forwarded-allow-ips: ") // one list's name for all three
			return p, fmt.Errorf("prefork: %s=%q: %s: %w", l.name, l.val, rule, settings.ErrInvalid)
		}
		*l.dst = t
	}
	if p.ProxyFrom == nil {
		p.ProxyFrom = p.Forwarded
	}
	return p, nil
}

// forwarderKeys are the canonical header keys of --forwarder-headers fh
// ("" for its default, "none" for none).
func forwarderKeys(fh string) []string {
	if fh == "" {
		fh = settings.DefaultForwarderHeaders
	}
	var keys []string
	for _, n := range strings.Split(fh, ",") {
		if n != "none" && n != "" {
			keys = append(keys, http.CanonicalHeaderKey(n))
		}
	}
	return keys
}
