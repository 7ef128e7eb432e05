package prefork

import (
	"fmt"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// peerLists are the peer address settings, parsed once (parsePeers).
type peerLists struct {
	forwarded *serving.TrustedProxies // --forwarded-allow-ips
	proxyFrom *serving.TrustedProxies // --proxy-allow-from; forwarded when unset
	gateway   *serving.TrustedProxies // --uwsgi-allow-from
}

// parsePeers parses the peer lists into c.peers, after their defaults: the one
// parse each gets, its error naming the setting.
func (c *Config) parsePeers() error {
	for _, l := range []struct {
		name, val string
		dst       **serving.TrustedProxies
	}{
		{"forwarded-allow-ips", c.ForwardedAllowIPs, &c.peers.forwarded},
		{"proxy-allow-from", c.ProxyAllowFrom, &c.peers.proxyFrom},
		{"uwsgi-allow-from", c.UwsgiAllowFrom, &c.peers.gateway},
	} {
		if l.val == "" {
			continue
		}
		t, err := serving.ParseTrustedProxies(l.val)
		if err != nil {
			rule := strings.TrimPrefix(settings.TrimPkg(err), "forwarded-allow-ips: ") // serving names one list for all three
			return fmt.Errorf("prefork: %s=%q: %s: %w", l.name, l.val, rule, settings.ErrInvalid)
		}
		*l.dst = t
	}
	if c.peers.proxyFrom == nil {
		c.peers.proxyFrom = c.peers.forwarded
	}
	return nil
}
