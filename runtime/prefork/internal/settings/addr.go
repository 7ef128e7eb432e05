package settings

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Addr is a parsed bind address.
type Addr struct {
	Network string // "tcp", "unix" or "fd"
	Address string // host:port, socket path, or fd number
	FD      int
}

func ParseAddr(s string) (Addr, error) {
	bad := func(rule string) (Addr, error) {
		return Addr{}, fmt.Errorf("prefork: bind %q: %w", s, errors.New(rule))
	}
	switch {
	case strings.HasPrefix(s, "unix:"):
		p := strings.TrimPrefix(s, "unix:")
		if p == "" {
			return bad("unix: needs a socket path, e.g. unix:/run/app.sock")
		}
		return Addr{Network: "unix", Address: p}, nil
	case strings.HasPrefix(s, "fd://"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "fd://"))
		if err != nil || n < 0 {
			return bad("fd:// needs a descriptor number, e.g. fd://3")
		}
		return Addr{Network: "fd", FD: n}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return bad("must be host:port, [ipv6]:port, unix:/path or fd://N")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return bad("port must be a number from 0 to 65535")
	}
	if strings.ContainsAny(host, "/ ") {
		return bad("host must be a name or an IP address")
	}
	return Addr{Network: "tcp", Address: s}, nil
}

// CheckBind is the one check of listen addresses, for flags and for the configuration
// engine: host:port, [ipv6]:port, unix:/path or fd://N. The error states the rule only.
func CheckBind(s string) error {
	if _, err := ParseAddr(s); err != nil {
		return errors.Unwrap(err)
	}
	return nil
}

// BindPort is the port of a host:port bind address; 0 for unix:, fd:// and bad ones.
func BindPort(s string) int {
	if a, err := ParseAddr(s); err == nil && a.Network == "tcp" {
		_, port, _ := net.SplitHostPort(s)
		n, _ := strconv.Atoi(port)
		return n
	}
	return 0
}
