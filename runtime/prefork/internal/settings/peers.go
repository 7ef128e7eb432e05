package settings

import (
	"fmt"
	"net/netip"
	"strings"
)

// DefaultForwardedAllowIPs is Gunicorn's default for --forwarded-allow-ips.
const DefaultForwardedAllowIPs = "127.0.0.1,::1"

// Peers is a parsed peer list (--forwarded-allow-ips, --proxy-allow-from,
// --uwsgi-allow-from): every IP peer (All), or the peers in Prefixes.
type Peers struct {
	All      bool
	Prefixes []netip.Prefix
}

// ParsePeers is the one parser of peer lists: a comma-separated list of IP addresses
// and CIDR ranges ("10.0.0.0/8,::1"), "*" for every peer (only safe when the port is
// unreachable except through the proxy), or "none" for no IP peer.
func ParsePeers(list string) (Peers, error) {
	var p Peers
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "" || item == "none":
			continue
		case item == "*":
			p.All = true
		case strings.Contains(item, "/"):
			pre, err := netip.ParsePrefix(item)
			if err != nil {
				return Peers{}, fmt.Errorf("prefork: forwarded-allow-ips: %q is not an IP address, a CIDR range or *: %v", item, err)
			}
			p.Prefixes = append(p.Prefixes, pre.Masked())
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return Peers{}, fmt.Errorf("prefork: forwarded-allow-ips: %q is not an IP address, a CIDR range or *", item)
			}
			a = a.Unmap()
			p.Prefixes = append(p.Prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return p, nil
}

// Contains reports whether ip is in the list.
func (p Peers) Contains(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	if p.All {
		return true
	}
	ip = ip.Unmap()
	for _, pre := range p.Prefixes {
		if pre.Contains(ip) {
			return true
		}
	}
	return false
}
