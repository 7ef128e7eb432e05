package settings

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// The flag values of the settings Gunicorn 24..26 added (see table.go).

func CheckEnvPair(s string) error {
	k, _, ok := strings.Cut(s, "=")
	if !ok || k == "" || strings.ContainsAny(k, " \t\x00") {
		return errors.New("must be KEY=VALUE")
	}
	return nil
}

// httpProtocols is --http-protocols: a comma-separated list of h1, h2, kept
// in one spelling.
func httpProtocols(s string) (string, error) {
	ps, err := parseHTTPProtocols(s)
	return strings.Join(ps, ","), err
}

func parseHTTPProtocols(s string) ([]string, error) {
	var ps []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "":
			continue
		case "h1", "h2":
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		case "h3":
			return nil, errors.New("h3 (HTTP/3) is not supported: must be h1, h2 or h1,h2")
		default:
			return nil, errors.New("must be a comma-separated list of h1, h2")
		}
	}
	if len(ps) == 0 {
		return nil, errors.New("must name at least one of h1, h2")
	}
	return ps, nil
}

// forwarderHeaders is --forwarder-headers: upper-case header names; none is "none".
func forwarderHeaders(s string) (string, error) {
	var names []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		for _, r := range n {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				return "", errors.New("must be upper-case header names like SCRIPT_NAME,PATH_INFO,REMOTE_USER")
			}
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	return strings.Join(names, ","), nil
}

// rootPath is --root-path: empty, or a path starting with "/", kept without
// a trailing "/".
func rootPath(s string) (string, error) {
	s = strings.TrimRight(s, "/")
	if s != "" && !strings.HasPrefix(s, "/") {
		return "", errors.New("must be a path starting with /, e.g. /api")
	}
	return s, nil
}

// checkProcName is -n/--name: a printable process title.
func checkProcName(s string) error {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New("must be a non-empty name without control characters")
	}
	return nil
}

// checkSyslogAddr is --log-syslog-to.
func checkSyslogAddr(s string) error {
	_, _, err := ParseSyslogAddr(s)
	return err
}

// parseSyslogAddr turns unix://PATH[#stream|#dgram], udp://HOST:PORT and
// tcp://HOST:PORT into a network and address for net.Dial.
func ParseSyslogAddr(s string) (network, address string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || rest == "" {
		return "", "", errors.New("must be unix://PATH, udp://HOST:PORT or tcp://HOST:PORT")
	}
	switch scheme {
	case "unix":
		path, kind, _ := strings.Cut(rest, "#")
		switch kind {
		case "", "stream":
			return "unix", path, nil
		case "dgram":
			return "unixgram", path, nil
		}
		return "", "", errors.New("unix:// socket type must be #stream or #dgram")
	case "udp", "tcp":
		if _, _, err := net.SplitHostPort(rest); err != nil {
			return "", "", errors.New(scheme + ":// needs HOST:PORT")
		}
		return scheme, rest, nil
	}
	return "", "", errors.New("must be unix://PATH, udp://HOST:PORT or tcp://HOST:PORT")
}

// syslogFacilities are syslog(3)'s facility names and codes.
var SyslogFacilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

func syslogFacilityNames() []string {
	names := make([]string, 0, len(SyslogFacilities))
	for n := range SyslogFacilities {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return SyslogFacilities[a] - SyslogFacilities[b] })
	return names
}

// checkCiphers is --ciphers: TLS 1.2 suites by OpenSSL or Go name.
func checkCiphers(s string) error {
	_, err := ParseCiphers(s)
	return err
}

// DefaultCiphers is Mozilla's "intermediate" TLS 1.2 list as far as Go
// implements it: ECDHE with AES-GCM or ChaCha20-Poly1305, no CBC.
const DefaultCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

// opensslCipherNames maps OpenSSL's names of the TLS 1.2 suites Go has to Go's.
var opensslCipherNames = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"ECDHE-ECDSA-AES128-SHA256":     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-RSA-AES128-SHA256":       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
	"AES128-SHA256":                 "TLS_RSA_WITH_AES_128_CBC_SHA256",
}

// parseCiphers returns the TLS 1.2 suite ids of a colon- (or comma-)
// separated list; TLS 1.3 names are accepted and skipped (those suites are
// always on); suites Go deems insecure (RC4, 3DES) are refused.
func ParseCiphers(s string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs.ID
	}
	insecure := map[string]bool{}
	for _, cs := range tls.InsecureCipherSuites() {
		insecure[cs.Name] = true
		byName[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, n := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if strings.HasPrefix(n, "TLS_AES_") || strings.HasPrefix(n, "TLS_CHACHA20_") {
			continue // TLS 1.3
		}
		goName := n
		if g, ok := opensslCipherNames[n]; ok {
			goName = g
		}
		id, ok := byName[goName]
		if !ok {
			return nil, fmt.Errorf("%q is not a TLS 1.2 cipher suite Go implements (e.g. ECDHE-RSA-AES128-GCM-SHA256)", n)
		}
		if insecure[goName] && !strings.Contains(goName, "_CBC_") {
			return nil, fmt.Errorf("%q is insecure (RC4 or 3DES) and refused", n)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 && !strings.Contains(s, "TLS_") {
		return nil, errors.New("must list at least one cipher suite, colon-separated")
	}
	return ids, nil
}
